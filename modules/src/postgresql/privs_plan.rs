//! The pure half of `postgresql_privs`: object types, privilege names, the catalog query that
//! reads every object's ACL as rows (`aclexplode`, with `acldefault` for objects that never had
//! a GRANT), deciding from those rows whether anything must change, and the GRANT/REVOKE
//! statements shaped as community.postgresql writes them.
//!
//! Group memberships (`type: group`) and default privileges read the same row shape: a
//! membership is the privilege `MEMBER`, its admin option the grant option.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::{Map, Value};

use super::common::{quote_ident_part, quote_literal};

/// What `type` the privileges are on.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, drover_core::params::ParamChoices,
)]
#[serde(rename_all = "snake_case")]
pub enum ObjType {
    /// Tables, views, materialized views, foreign and partitioned tables.
    #[default]
    Table,
    /// Sequences.
    Sequence,
    /// Functions (`name(argtype:argtype)`).
    Function,
    /// Procedures.
    Procedure,
    /// Databases.
    Database,
    /// Schemas.
    Schema,
    /// Procedural languages.
    Language,
    /// Tablespaces.
    Tablespace,
    /// Role membership: `objs` are the groups, `roles` their members.
    Group,
    /// `ALTER DEFAULT PRIVILEGES`: `objs` are TABLES, SEQUENCES, FUNCTIONS, TYPES.
    DefaultPrivs,
    /// Foreign-data wrappers.
    ForeignDataWrapper,
    /// Foreign servers.
    ForeignServer,
    /// Types and domains.
    Type,
    /// Server configuration parameters (PostgreSQL 15+).
    Parameter,
}

impl ObjType {
    /// Whether `schema` applies (and defaults to `public`).
    pub fn takes_schema(self) -> bool {
        matches!(
            self,
            Self::Table
                | Self::Sequence
                | Self::Function
                | Self::Procedure
                | Self::Type
                | Self::DefaultPrivs
        )
    }

    /// The SQL keyword(s) after `ON`.
    pub fn keyword(self) -> &'static str {
        match self {
            Self::Table => "table",
            Self::Sequence => "sequence",
            Self::Function => "function",
            Self::Procedure => "procedure",
            Self::Database => "database",
            Self::Schema => "schema",
            Self::Language => "language",
            Self::Tablespace => "tablespace",
            Self::Group => "group",
            Self::DefaultPrivs => "default privs",
            Self::ForeignDataWrapper => "foreign data wrapper",
            Self::ForeignServer => "foreign server",
            Self::Type => "type",
            Self::Parameter => "parameter",
        }
    }

    /// Every privilege `ALL` stands for.
    pub fn all_privileges(self, version: i64) -> Vec<&'static str> {
        match self {
            Self::Table if version >= 170000 => vec![
                "SELECT",
                "INSERT",
                "UPDATE",
                "DELETE",
                "TRUNCATE",
                "REFERENCES",
                "TRIGGER",
                "MAINTAIN",
            ],
            Self::Table => vec![
                "SELECT",
                "INSERT",
                "UPDATE",
                "DELETE",
                "TRUNCATE",
                "REFERENCES",
                "TRIGGER",
            ],
            Self::Sequence => vec!["SELECT", "UPDATE", "USAGE"],
            Self::Function | Self::Procedure => vec!["EXECUTE"],
            Self::Database => vec!["CREATE", "CONNECT", "TEMPORARY"],
            Self::Schema => vec!["CREATE", "USAGE"],
            Self::Tablespace => vec!["CREATE"],
            Self::Parameter => vec!["SET", "ALTER SYSTEM"],
            Self::Group => vec!["MEMBER"],
            Self::DefaultPrivs => vec![],
            _ => vec!["USAGE"],
        }
    }
}

/// Privileges `privs` may name.
const VALID: &[&str] = &[
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "TRUNCATE",
    "REFERENCES",
    "TRIGGER",
    "CREATE",
    "CONNECT",
    "TEMPORARY",
    "TEMP",
    "EXECUTE",
    "USAGE",
    "ALL",
    "MAINTAIN",
    "SET",
    "ALTER SYSTEM",
];

/// Objects of `ALTER DEFAULT PRIVILEGES`, their `defaclobjtype` and the privileges they take.
pub const DEFAULT_OBJS: &[(&str, &str, &[&str])] = &[
    (
        "TABLES",
        "r",
        &[
            "SELECT",
            "INSERT",
            "UPDATE",
            "DELETE",
            "TRUNCATE",
            "REFERENCES",
            "TRIGGER",
        ],
    ),
    ("SEQUENCES", "S", &["SELECT", "UPDATE", "USAGE"]),
    ("FUNCTIONS", "f", &["EXECUTE"]),
    ("TYPES", "T", &["USAGE"]),
];

/// Parses `privs` (`select,temp,ALTER_SYSTEM`): upper-cased, in order, without repeats.
pub fn parse_privs(text: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    let mut bad = Vec::new();
    for p in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let p = p.to_ascii_uppercase().replace('_', " ");
        if !VALID.contains(&p.as_str()) {
            bad.push(p);
        } else if !out.contains(&p) {
            out.push(p);
        }
    }
    if !bad.is_empty() {
        return Err(format!("Invalid privileges specified: {}", bad.join(", ")));
    }
    Ok(out)
}

/// The privileges a list stands for on one kind of object (`ALL` expanded, `TEMP` spelled
/// `TEMPORARY`), as `aclexplode` names them.
pub fn expand(privs: &[String], all: &[&str]) -> BTreeSet<String> {
    let mut set = BTreeSet::new();
    for p in privs {
        match p.as_str() {
            "ALL" => set.extend(all.iter().map(|s| s.to_string())),
            "TEMP" => {
                set.insert("TEMPORARY".to_string());
            }
            other => {
                set.insert(other.to_string());
            }
        }
    }
    set
}

/// Splits a function signature written with colons (`add(int:int)`) into name and arguments.
pub fn split_function(obj: &str) -> Result<(String, String), String> {
    let obj = obj.replace(':', ",");
    match obj.split_once('(') {
        Some((name, args)) if args.ends_with(')') => {
            Ok((name.to_string(), args[..args.len() - 1].to_string()))
        }
        _ => Err(format!(
            "Illegal function / procedure signature: \"{obj}\"."
        )),
    }
}

/// How an object appears in a statement.
pub fn object_sql(kind: ObjType, schema: &str, obj: &str) -> Result<String, String> {
    Ok(match kind {
        ObjType::Function | ObjType::Procedure => {
            let (name, args) = split_function(obj)?;
            format!(
                "{}.{}({args})",
                quote_ident_part(schema),
                quote_ident_part(&name)
            )
        }
        ObjType::Table | ObjType::Sequence | ObjType::Type => {
            format!("{}.{}", quote_ident_part(schema), quote_ident_part(obj))
        }
        _ => quote_ident_part(obj),
    })
}

fn values(rows: &[Vec<String>]) -> String {
    rows.iter()
        .map(|r| format!("({})", r.join(", ")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The catalog query for the objects' ACLs: rows `obj`, `found`, `grantee` (`PUBLIC` for the
/// public pseudo-role), `privilege_type`, `is_grantable`. `objs: None` is `ALL_IN_SCHEMA`.
pub fn acl_query(
    kind: ObjType,
    schema: &str,
    objs: Option<&[String]>,
    target_roles: &[String],
) -> Result<String, String> {
    let lit = |s: &str| quote_literal(s);
    let ns = format!(
        "(SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = {})",
        lit(schema)
    );
    let (source, acl_kind) = match (kind, objs) {
        (ObjType::Group, Some(objs)) => {
            let v = values(&objs.iter().map(|o| vec![lit(o)]).collect::<Vec<_>>());
            return Ok(format!(
                "SELECT v.obj, g.oid IS NOT NULL AS found, m.rolname AS grantee, \
                 CASE WHEN m.oid IS NOT NULL THEN 'MEMBER' END AS privilege_type, am.admin_option AS is_grantable \
                 FROM (VALUES {v}) v(obj) LEFT JOIN pg_catalog.pg_roles g ON g.rolname = v.obj \
                 LEFT JOIN pg_catalog.pg_auth_members am ON am.roleid = g.oid \
                 LEFT JOIN pg_catalog.pg_roles m ON m.oid = am.member"
            ));
        }
        (ObjType::DefaultPrivs, Some(objs)) => {
            let owners: Vec<String> = if target_roles.is_empty() {
                vec!["current_user::text".into()]
            } else {
                target_roles.iter().map(|r| lit(r)).collect()
            };
            let mut rows = Vec::new();
            for o in objs {
                let code = DEFAULT_OBJS
                    .iter()
                    .find(|(n, _, _)| n == o)
                    .map(|(_, c, _)| *c)
                    .ok_or_else(|| format!("Invalid Object set specified: {o}"))?;
                for owner in &owners {
                    rows.push(vec![lit(o), lit(code), owner.clone()]);
                }
            }
            return Ok(format!(
                "SELECT v.obj || '@' || v.owner AS obj, true AS found, coalesce(g.rolname, CASE WHEN a.grantee = 0 THEN 'PUBLIC' END) AS grantee, \
                 a.privilege_type, a.is_grantable \
                 FROM (VALUES {}) v(obj, code, owner) \
                 LEFT JOIN pg_catalog.pg_default_acl d ON d.defaclobjtype = v.code::\"char\" \
                   AND d.defaclnamespace = {ns} \
                   AND d.defaclrole = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = v.owner) \
                 LEFT JOIN LATERAL aclexplode(d.defaclacl) a ON true \
                 LEFT JOIN pg_catalog.pg_roles g ON g.oid = a.grantee",
                values(&rows)
            ));
        }
        (ObjType::Table | ObjType::Sequence, None) => {
            let relkinds = if kind == ObjType::Table { "'r','v','m','p','f'" } else { "'S'" };
            (
                format!(
                    "SELECT c.relname, c.relacl, c.relowner FROM pg_catalog.pg_class c \
                     WHERE c.relnamespace = {ns} AND c.relkind IN ({relkinds})"
                ),
                if kind == ObjType::Table { "r" } else { "s" },
            )
        }
        (ObjType::Function | ObjType::Procedure, None) => (
            format!(
                "SELECT p.proname || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')', \
                 p.proacl, p.proowner FROM pg_catalog.pg_proc p \
                 WHERE p.pronamespace = {ns} AND p.prokind = '{}'",
                if kind == ObjType::Function { "f" } else { "p" }
            ),
            "f",
        ),
        (_, None) => return Err(format!("ALL_IN_SCHEMA is not supported for type {}", kind.keyword())),
        (_, Some(objs)) => {
            let (catalog, name_col, acl, owner, code, lookup) = match kind {
                ObjType::Table => ("pg_class", "oid", "relacl", "relowner", "r", "to_regclass"),
                ObjType::Sequence => ("pg_class", "oid", "relacl", "relowner", "s", "to_regclass"),
                ObjType::Function | ObjType::Procedure => {
                    ("pg_proc", "oid", "proacl", "proowner", "f", "to_regprocedure")
                }
                ObjType::Type => ("pg_type", "oid", "typacl", "typowner", "T", "to_regtype"),
                ObjType::Database => ("pg_database", "datname", "datacl", "datdba", "d", ""),
                ObjType::Schema => ("pg_namespace", "nspname", "nspacl", "nspowner", "n", ""),
                ObjType::Language => ("pg_language", "lanname", "lanacl", "lanowner", "l", ""),
                ObjType::Tablespace => ("pg_tablespace", "spcname", "spcacl", "spcowner", "t", ""),
                ObjType::ForeignDataWrapper => {
                    ("pg_foreign_data_wrapper", "fdwname", "fdwacl", "fdwowner", "F", "")
                }
                ObjType::ForeignServer => ("pg_foreign_server", "srvname", "srvacl", "srvowner", "S", ""),
                _ => ("pg_parameter_acl", "parname", "paracl", "10::oid", "p", ""),
            };
            let mut rows = Vec::new();
            for o in objs {
                let key = if lookup.is_empty() {
                    if kind == ObjType::Parameter {
                        lit(&o.to_lowercase())
                    } else {
                        lit(o)
                    }
                } else {
                    format!("{lookup}({})", lit(&object_sql(kind, schema, o)?))
                };
                rows.push(vec![lit(o), key]);
            }
            let owner_expr = if kind == ObjType::Parameter {
                "10::oid".to_string()
            } else {
                format!("c.{owner}")
            };
            (
                format!(
                    "SELECT v.obj, c.{acl}, {owner_expr} FROM (VALUES {}) v(obj, key) \
                     LEFT JOIN pg_catalog.{catalog} c ON c.{name_col} = v.key",
                    values(&rows)
                ),
                code,
            )
        }
    };
    Ok(format!(
        "SELECT o.obj, o.owner IS NOT NULL AS found, o.acl IS NULL AS implicit, \
         coalesce(g.rolname, CASE WHEN a.grantee = 0 THEN 'PUBLIC' END) AS grantee, \
         a.privilege_type, a.is_grantable \
         FROM ({source}) o(obj, acl, owner) \
         LEFT JOIN LATERAL aclexplode(coalesce(o.acl, acldefault('{acl_kind}', o.owner))) a ON true \
         LEFT JOIN pg_catalog.pg_roles g ON g.oid = a.grantee"
    ))
}

/// The ACLs read: which objects exist and what each grantee holds on each.
#[derive(Debug, Default, Clone)]
pub struct Acls {
    /// Objects in query order, with whether they exist.
    pub objects: Vec<(String, bool)>,
    /// (object, grantee) → privilege → grantable.
    pub grants: BTreeMap<(String, String), BTreeMap<String, bool>>,
    /// Existing objects whose ACL was never set (their privileges are the defaults).
    pub implicit: BTreeSet<String>,
}

impl Acls {
    /// Builds the map from the rows of [`acl_query`].
    pub fn from_rows(rows: &[Map<String, Value>]) -> Self {
        let mut acls = Self::default();
        for r in rows {
            let s = |k: &str| r.get(k).and_then(Value::as_str).map(str::to_string);
            let Some(obj) = s("obj") else { continue };
            if !acls.objects.iter().any(|(o, _)| *o == obj) {
                let found = r.get("found").and_then(Value::as_bool).unwrap_or(false);
                acls.objects.push((obj.clone(), found));
                if found && r.get("implicit").and_then(Value::as_bool) == Some(true) {
                    acls.implicit.insert(obj.clone());
                }
            }
            if let (Some(grantee), Some(privilege)) = (s("grantee"), s("privilege_type")) {
                let grantable = r
                    .get("is_grantable")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                acls.grants
                    .entry((obj.clone(), grantee))
                    .or_default()
                    .insert(privilege, grantable);
            }
        }
        acls
    }

    /// Objects that do not exist.
    pub fn missing(&self) -> Vec<&str> {
        self.objects
            .iter()
            .filter(|(_, f)| !f)
            .map(|(o, _)| o.as_str())
            .collect()
    }
}

/// What the task asks for one set of objects and roles.
pub struct Wanted<'a> {
    /// Privileges (expanded) per object; objects not listed take `default`.
    pub privs: &'a (dyn Fn(&str) -> BTreeSet<String> + Sync),
    /// Grant (`true`) or revoke.
    pub present: bool,
    /// `grant_option`.
    pub grant_option: Option<bool>,
    /// Default privileges: the role's privileges must be exactly these.
    pub exact: bool,
}

/// Whether bringing `roles` on every existing object to `want` changes anything. Any GRANT or
/// REVOKE on an object whose ACL was never set stores its ACL explicitly (even when the defaults
/// already hold the privilege, e.g. CONNECT for a database's owner): community.postgresql compares
/// the stored ACL before and after, so that is a change.
pub fn needs_change(acls: &Acls, roles: &[String], want: &Wanted<'_>) -> bool {
    let empty = BTreeMap::new();
    acls.objects
        .iter()
        .filter(|(_, found)| *found)
        .any(|(obj, _)| {
            if !want.exact && acls.implicit.contains(obj) {
                return true;
            }
            let desired = (want.privs)(obj);
            roles.iter().any(|role| {
                let held = acls
                    .grants
                    .get(&(obj.clone(), role.clone()))
                    .unwrap_or(&empty);
                if !want.present {
                    return desired.iter().any(|p| held.contains_key(p));
                }
                if want.exact {
                    let go = want.grant_option == Some(true);
                    return held.len() != desired.len()
                        || desired.iter().any(|p| held.get(p) != Some(&go));
                }
                desired
                    .iter()
                    .any(|p| match (held.get(p), want.grant_option) {
                        (None, _) => true,
                        (Some(g), Some(go)) => *g != go,
                        (Some(_), None) => false,
                    })
            })
        })
}

/// The roles as they appear in statements (`PUBLIC` and the other implicit roles bare).
pub fn roles_sql(roles: &[String]) -> String {
    roles
        .iter()
        .map(|r| {
            if ["PUBLIC", "CURRENT_USER", "SESSION_USER", "CURRENT_ROLE"].contains(&r.as_str()) {
                r.clone()
            } else {
                quote_ident_part(r)
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The statements for everything but default privileges: `what` is `SELECT,INSERT ON table
/// "public"."t"` (or the groups, for `type: group`).
pub fn grant_statements(
    kind: ObjType,
    what: &str,
    whom: &str,
    present: bool,
    grant_option: Option<bool>,
) -> Vec<String> {
    if !present {
        return vec![format!("REVOKE {what} FROM {whom};")];
    }
    let (with, revoke) = if kind == ObjType::Group {
        ("WITH ADMIN OPTION", "ADMIN OPTION")
    } else {
        ("WITH GRANT OPTION", "GRANT OPTION")
    };
    match grant_option {
        Some(true) => vec![format!("GRANT {what} TO {whom} {with};")],
        Some(false) => vec![
            format!("GRANT {what} TO {whom};"),
            format!("REVOKE {revoke} FOR {what} FROM {whom};"),
        ],
        None => vec![format!("GRANT {what} TO {whom};")],
    }
}

/// `ALTER DEFAULT PRIVILEGES` statements for `objs` (TABLES, …).
pub fn default_privs_statements(
    schema: &str,
    target_roles: &[String],
    objs: &[String],
    privs: &str,
    whom: &str,
    present: bool,
    grant_option: Option<bool>,
) -> Vec<String> {
    let head = if target_roles.is_empty() {
        format!(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA {}",
            quote_ident_part(schema)
        )
    } else {
        format!(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {}",
            roles_sql(target_roles),
            quote_ident_part(schema)
        )
    };
    let mut out = Vec::new();
    for obj in objs {
        out.push(format!("{head} REVOKE ALL ON {obj} FROM {whom};"));
        if present {
            let with = if grant_option == Some(true) {
                " WITH GRANT OPTION"
            } else {
                ""
            };
            out.push(format!("{head} GRANT {privs} ON {obj} TO {whom}{with};"));
        }
    }
    out
}

#[cfg(test)]
#[path = "privs_plan_tests.rs"]
mod tests;

//! `postgresql_privs` (community.postgresql): grants or revokes privileges on database objects,
//! group memberships and default privileges.
//!
//! Query → plan → apply: one psql round trip reads which roles exist, the server version, whether
//! the schema exists and every object's ACL (`aclexplode`, `acldefault` where no GRANT was ever
//! made; `pg_auth_members` for groups; `pg_default_acl` for default privileges). The GRANT/REVOKE
//! statements — shaped as the collection writes them, in `queries` — run only when the ACLs show
//! that something would change, and never in check mode. Unlike the collection, a task naming
//! `PUBLIC` is idempotent too (its grants are in the ACL as well).

use std::collections::BTreeSet;

use async_trait::async_trait;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::{ModuleParams, ParamChoices};
use serde::Deserialize;
use serde_json::Value;

use super::common::{check_input, finish, quote_literal, PgConnect, PgError, Psql};
use super::privs_plan::{
    acl_query, default_privs_statements, expand, grant_statements, needs_change, object_sql,
    parse_privs, roles_sql, Acls, ObjType, Wanted, DEFAULT_OBJS,
};
use crate::params::{de_bool, de_opt_bool, de_opt_string, de_string};

/// `present` (grant) or `absent` (revoke).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ParamChoices)]
pub enum PrivsState {
    /// Grant.
    #[default]
    #[serde(rename = "present")]
    Present,
    /// Revoke.
    #[serde(rename = "absent")]
    Absent,
}

fn yes() -> bool {
    true
}

/// Parameters of `postgresql_privs`.
#[derive(Debug, Deserialize, ModuleParams)]
pub struct PrivsParams {
    /// Database to connect to (and, for `type: database` without `objs`, the object).
    #[serde(
        default,
        alias = "db",
        alias = "login_db",
        deserialize_with = "de_opt_string"
    )]
    pub database: Option<String>,
    /// `present` grants, `absent` revokes.
    #[serde(default)]
    #[param(default = "present")]
    pub state: PrivsState,
    /// Comma-separated privileges (`SELECT,INSERT`, `ALL`).
    #[serde(default, alias = "priv", deserialize_with = "de_opt_string")]
    pub privs: Option<String>,
    /// The kind of object.
    #[serde(default, rename = "type")]
    #[param(default = "table")]
    pub kind: ObjType,
    /// Comma-separated objects; `ALL_IN_SCHEMA` for every table/sequence/function in `schema`,
    /// `ALL_DEFAULT` for every default-privileges object type.
    #[serde(default, alias = "obj", deserialize_with = "de_opt_string")]
    pub objs: Option<String>,
    /// Schema of the objects (`public` by default where it applies).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub schema: Option<String>,
    /// Comma-separated roles, or `PUBLIC`.
    #[serde(alias = "role", deserialize_with = "de_string")]
    pub roles: String,
    /// Fail when a role does not exist (otherwise warn and skip it).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    #[param(default = "true")]
    pub fail_on_role: bool,
    /// For `default_privs`: the roles whose future objects get the privileges.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub target_roles: Option<String>,
    /// Grant with (`true`) or revoke (`false`) the grant/admin option; unset leaves it.
    #[serde(default, alias = "admin_option", deserialize_with = "de_opt_bool")]
    pub grant_option: Option<bool>,
    /// The connection options.
    #[serde(flatten)]
    pub login: PgConnect,
}

/// The `postgresql_privs` module.
pub struct PostgresqlPrivs;

#[async_trait]
impl TypedModule for PostgresqlPrivs {
    const NAME: &'static str = "postgresql_privs";
    type Params = PrivsParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: PrivsParams,
    ) -> Result<ModuleResult, ModuleError> {
        finish(run(ctx, p).await)
    }
}

/// Roles every server knows without a `pg_roles` row.
const IMPLICIT_ROLES: &[&str] = &["PUBLIC", "CURRENT_USER", "SESSION_USER", "CURRENT_ROLE"];

fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The checked arguments.
struct Task {
    kind: ObjType,
    schema: String,
    /// `None`: `ALL_IN_SCHEMA`.
    objs: Option<Vec<String>>,
    privs: Vec<String>,
    roles: Vec<String>,
    target_roles: Vec<String>,
}

fn check_args(p: &PrivsParams) -> Result<Task, PgError> {
    let fail = |m: String| Err(PgError::Failed(m));
    let kind = p.kind;
    let schema = match (&p.schema, kind.takes_schema()) {
        (Some(s), true) => s.clone(),
        (None, true) => "public".into(),
        (Some(_), false) => {
            return fail(format!(
                "Argument \"schema\" is not allowed for type \"{}\".",
                kind.keyword().replace(' ', "_")
            ))
        }
        (None, false) => String::new(),
    };
    let objs_text = match (&p.objs, kind) {
        (Some(o), _) if !o.trim().is_empty() => o.clone(),
        (_, ObjType::Database) => match &p.database {
            Some(db) => db.clone(),
            None => return fail("Argument \"objs\" is required for type \"database\".".into()),
        },
        _ => {
            return fail(format!(
                "Argument \"objs\" is required for type \"{}\".",
                kind.keyword().replace(' ', "_")
            ))
        }
    };
    let privs = match (&p.privs, kind) {
        (Some(_), ObjType::Group) => {
            return fail("Argument \"privs\" is not allowed for type \"group\".".into())
        }
        (None, ObjType::Group) => vec!["MEMBER".to_string()],
        (Some(text), _) => parse_privs(text).map_err(PgError::Failed)?,
        (None, _) => {
            return fail(format!(
                "Argument \"privs\" is required for type \"{}\".",
                kind.keyword().replace(' ', "_")
            ))
        }
    };
    let objs = if objs_text == "ALL_IN_SCHEMA"
        && matches!(
            kind,
            ObjType::Table | ObjType::Sequence | ObjType::Function | ObjType::Procedure
        ) {
        None
    } else if kind == ObjType::DefaultPrivs {
        let objs: Vec<String> = if objs_text == "ALL_DEFAULT" {
            DEFAULT_OBJS.iter().map(|(n, _, _)| n.to_string()).collect()
        } else {
            split_list(&objs_text.to_ascii_uppercase())
        };
        for o in &objs {
            let Some((_, _, valid)) = DEFAULT_OBJS.iter().find(|(n, _, _)| n == o) else {
                return fail(format!("Invalid Object set specified: {o}"));
            };
            if let Some(bad) = privs
                .iter()
                .find(|pr| *pr != "ALL" && !valid.contains(&pr.as_str()))
            {
                return fail(format!(
                    "Invalid priv specified. {bad} is not valid for {o}"
                ));
            }
        }
        Some(objs)
    } else if matches!(kind, ObjType::Function | ObjType::Procedure) {
        // Signatures hold commas only as colons: `add(int:int),sub(int:int)`.
        Some(split_list(&objs_text))
    } else {
        Some(split_list(&objs_text))
    };
    // Implicit roles are written in upper case, bare, as the collection writes them.
    let roles: Vec<String> = split_list(&p.roles)
        .into_iter()
        .map(|r| {
            let upper = r.to_ascii_uppercase();
            if IMPLICIT_ROLES.contains(&upper.as_str()) {
                upper
            } else {
                r
            }
        })
        .collect();
    if roles.is_empty() {
        return fail("Argument \"roles\" must name at least one role.".into());
    }
    let target_roles = p
        .target_roles
        .as_deref()
        .map(split_list)
        .unwrap_or_default();
    Ok(Task {
        kind,
        schema,
        objs,
        privs,
        roles,
        target_roles,
    })
}

async fn run(ctx: &ModuleContext<'_>, p: PrivsParams) -> Result<ModuleResult, PgError> {
    let task = check_args(&p)?;
    if !p.login.trust_input {
        check_input(&[
            ("roles", Some(&p.roles)),
            ("target_roles", p.target_roles.as_deref()),
            ("schema", p.schema.as_deref()),
        ])?;
    }
    let mut warnings: Vec<String> = Vec::new();
    if !task.target_roles.is_empty() && task.kind != ObjType::DefaultPrivs {
        warnings.push(
            "\"target_roles\" will be ignored Argument \"type: default_privs\" is required for usage of \"target_roles\"."
                .into(),
        );
    }
    let psql = Psql::new(&p.login, p.database.as_deref())?;
    let names: Vec<String> = task.roles.iter().map(|r| quote_literal(r)).collect();
    let role_query = format!(
        "SELECT rolname FROM pg_catalog.pg_roles WHERE rolname IN ({})",
        names.join(", ")
    );
    let server_query = format!(
        "SELECT current_setting('server_version_num')::int AS version, \
         EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = {}) AS schema_exists",
        quote_literal(&task.schema)
    );
    let target_roles = if task.kind == ObjType::DefaultPrivs {
        task.target_roles.clone()
    } else {
        Vec::new()
    };
    let acl = acl_query(task.kind, &task.schema, task.objs.as_deref(), &target_roles)
        .map_err(PgError::Failed)?;
    let mut answers = psql
        .query_many(ctx.conn, &[&role_query, &server_query, &acl])
        .await?;
    let acl_rows = answers.pop().unwrap_or_default();
    let server = answers.pop().and_then(|mut r| r.pop()).unwrap_or_default();
    let existing: BTreeSet<String> = answers
        .pop()
        .unwrap_or_default()
        .iter()
        .filter_map(|r| r.get("rolname").and_then(Value::as_str).map(str::to_string))
        .collect();
    let version = server.get("version").and_then(Value::as_i64).unwrap_or(0);
    if task.kind.takes_schema()
        && server.get("schema_exists").and_then(Value::as_bool) != Some(true)
    {
        return Err(PgError::failed(format!(
            "Schema \"{}\" does not exist.",
            task.schema
        )));
    }

    let mut roles = Vec::new();
    for r in &task.roles {
        if IMPLICIT_ROLES.contains(&r.as_str()) || existing.contains(r) {
            roles.push(r.clone());
        } else if p.fail_on_role {
            return Err(PgError::failed(format!("Role '{r}' does not exist")));
        } else {
            warnings.push(format!("Role '{r}' does not exist, pass it"));
        }
    }
    if roles.is_empty() {
        warnings.push("No valid roles provided, nothing to do".into());
    }
    let mut result = ModuleResult::ok();
    if !warnings.is_empty() {
        result = result.with("warnings", warnings);
    }
    if roles.is_empty() {
        return Ok(result.with("queries", Vec::<String>::new()));
    }
    let acls = Acls::from_rows(&acl_rows);
    if let Some(obj) = acls.missing().first() {
        let what = match task.kind {
            ObjType::Table | ObjType::Sequence => "relation",
            ObjType::Group => "role",
            other => other.keyword(),
        };
        return Err(PgError::failed(format!("{what} \"{obj}\" does not exist")));
    }

    let present = p.state == PrivsState::Present;
    let all = task.kind.all_privileges(version);
    let privs_for = |obj: &str| -> BTreeSet<String> {
        if task.kind == ObjType::DefaultPrivs {
            // Default-privilege rows are `TABLES@owner`.
            let name = obj.split('@').next().unwrap_or(obj);
            let valid = DEFAULT_OBJS
                .iter()
                .find(|(n, _, _)| *n == name)
                .map(|(_, _, v)| v.to_vec())
                .unwrap_or_default();
            expand(&task.privs, &valid)
        } else {
            expand(&task.privs, &all)
        }
    };
    let want = Wanted {
        privs: &privs_for,
        present,
        grant_option: if present { p.grant_option } else { None },
        exact: task.kind == ObjType::DefaultPrivs && present,
    };
    let changed = needs_change(&acls, &roles, &want);
    // As the collection, `queries` holds the statement whether or not it changes anything (the
    // collection runs it and rolls back); drover runs it only when the ACLs differ.
    let queries = statements(&task, &roles, present, want.grant_option)?;
    if changed && !ctx.check_mode {
        let sql: String = queries.iter().map(|q| format!("{q}\n")).collect();
        psql.execute(ctx.conn, &format!("BEGIN;\n{sql}COMMIT;\n"))
            .await?;
    }
    result.changed = changed;
    Ok(result.with("queries", queries))
}

/// The statements for the whole task, as the collection writes them.
fn statements(
    task: &Task,
    roles: &[String],
    present: bool,
    grant_option: Option<bool>,
) -> Result<Vec<String>, PgError> {
    let whom = roles_sql(roles);
    let privs = task.privs.join(",");
    let schema_q = super::common::quote_ident_part(&task.schema);
    Ok(match (&task.objs, task.kind) {
        (Some(objs), ObjType::DefaultPrivs) => default_privs_statements(
            &task.schema,
            &task.target_roles,
            objs,
            &privs,
            &whom,
            present,
            grant_option,
        ),
        (Some(objs), ObjType::Group) => {
            grant_statements(task.kind, &roles_sql(objs), &whom, present, grant_option)
        }
        (Some(objs), kind) => {
            let ids: Vec<String> = objs
                .iter()
                .map(|o| object_sql(kind, &task.schema, o))
                .collect::<Result<_, _>>()
                .map_err(PgError::Failed)?;
            let what = format!("{privs} ON {} {}", kind.keyword(), ids.join(","));
            grant_statements(kind, &what, &whom, present, grant_option)
        }
        (None, kind) => {
            let plural = match kind {
                ObjType::Table => "TABLES",
                ObjType::Sequence => "SEQUENCES",
                ObjType::Function => "FUNCTIONS",
                _ => "PROCEDURES",
            };
            let what = format!("{privs} ON ALL {plural} IN SCHEMA {schema_q}");
            grant_statements(kind, &what, &whom, present, grant_option)
        }
    })
}

//! `postgresql_user` (community.postgresql): creates, alters or removes a role with login.
//!
//! Query → plan → apply: one psql round trip reads the server's version and
//! `password_encryption` and the role's `pg_roles` row (a second reads its stored verifier from
//! `pg_authid` when a password is given); the statements that bring the role to the task's state
//! are computed from them ([`super::user_plan`]) and run in one transaction, never in check mode.
//! A clear-text password is hashed on the controller as the server stores it (SCRAM-SHA-256, or
//! MD5 where `password_encryption = md5`), so only the verifier reaches the server; it is checked
//! against the stored verifier, so a re-run with the same password changes nothing. The password
//! is `'********'` in `queries` and never in output, diff, errors or a process argument list.

use std::collections::BTreeMap;

use async_trait::async_trait;
use drover_core::module::{Diff, ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::{ModuleParams, ParamChoices};
use serde::de::{self, Deserializer};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::common::{
    check_input, finish, quote_ident_part, quote_literal, PgConnect, PgError, Psql,
};
use super::user_plan::{
    alter_statement, config_statements, create_statement, parse_config, parse_flags, role_changes,
    verifier_for, Password, RoleSpec, Statement,
};
use crate::params::{de_bool, de_opt_string, de_string};

/// `present` or `absent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ParamChoices)]
pub enum UserState {
    /// The role exists with the given attributes.
    #[default]
    #[serde(rename = "present")]
    Present,
    /// The role does not exist.
    #[serde(rename = "absent")]
    Absent,
}

fn yes() -> bool {
    true
}

/// `configuration`: a mapping, or a list of `key=value` strings as the collection's examples
/// write it.
fn de_config<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    let scalar = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "on" } else { "off" }.to_string()),
        _ => None,
    };
    match Value::deserialize(d)? {
        Value::Null => Ok(BTreeMap::new()),
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| {
                scalar(v)
                    .map(|s| (k.clone(), s))
                    .ok_or_else(|| de::Error::custom(format!("{k}: expected a scalar value")))
            })
            .collect(),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .and_then(|s| s.split_once('='))
                    .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                    .ok_or_else(|| {
                        de::Error::custom("Expecting a list of strings where each string has the format 'key=value'.")
                    })
            })
            .collect(),
        other => Err(de::Error::custom(format!(
            "expected a mapping of parameters, got {other}"
        ))),
    }
}

/// Deserializes an optional integer given as a number or numeric string.
fn de_opt_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| de::Error::custom(format!("expected an integer, got {n}"))),
        Value::String(s) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| de::Error::custom(format!("expected an integer, got '{s}'"))),
        other => Err(de::Error::custom(format!(
            "expected an integer, got {other}"
        ))),
    }
}

/// Parameters of `postgresql_user`.
#[derive(Debug, Deserialize, ModuleParams)]
pub struct UserParams {
    /// The role.
    #[serde(alias = "user", deserialize_with = "de_string")]
    pub name: String,
    /// Its password: clear text, or an `md5…`/`SCRAM-SHA-256$…` verifier; `''` removes it.
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(no_log)]
    pub password: Option<String>,
    /// `present` or `absent`.
    #[serde(default)]
    #[param(default = "present")]
    pub state: UserState,
    /// Database to connect to.
    #[serde(default, alias = "login_db", deserialize_with = "de_opt_string")]
    pub db: Option<String>,
    /// Fail when the role cannot be removed (it still owns objects or has privileges).
    #[serde(default = "yes", alias = "fail_on_role", deserialize_with = "de_bool")]
    #[param(default = "true")]
    pub fail_on_user: bool,
    /// `CREATEDB,NOSUPERUSER,…`.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub role_attr_flags: Option<String>,
    /// Store the password hashed (PostgreSQL 10 and newer only store hashes).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    #[param(default = "true")]
    pub encrypted: bool,
    /// When the password expires (`VALID UNTIL`); `infinity` never.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub expires: Option<String>,
    /// Leave an existing role's password (and expiry, connection limit) alone.
    #[serde(default, deserialize_with = "de_bool")]
    pub no_password_changes: bool,
    /// Connection limit.
    #[serde(default, deserialize_with = "de_opt_int")]
    pub conn_limit: Option<i64>,
    /// Comment on the role (`''` removes it).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub comment: Option<String>,
    /// Role-specific settings (`ALTER ROLE … SET`).
    #[serde(default, deserialize_with = "de_config")]
    pub configuration: BTreeMap<String, String>,
    /// Reset settings not in `configuration`.
    #[serde(default, deserialize_with = "de_bool")]
    pub reset_unspecified_configuration: bool,
    /// Quote `configuration` values as string literals (false: written as given, e.g. lists).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    #[param(default = "true")]
    pub quote_configuration_values: bool,
    /// The connection options.
    #[serde(flatten)]
    pub login: PgConnect,
}

/// The `postgresql_user` module.
pub struct PostgresqlUser;

#[async_trait]
impl TypedModule for PostgresqlUser {
    const NAME: &'static str = "postgresql_user";
    type Params = UserParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: UserParams,
    ) -> Result<ModuleResult, ModuleError> {
        let secrets: Vec<String> = p
            .password
            .iter()
            .filter(|s| !s.is_empty())
            .cloned()
            .collect();
        finish(run(ctx, p).await.map_err(|e| mask(e, &secrets)))
    }
}

/// Replaces every secret in an error's message with `********`.
fn mask(e: PgError, secrets: &[String]) -> PgError {
    let hide = |mut m: String| {
        for s in secrets {
            m = m.replace(s.as_str(), "********");
        }
        m
    };
    match e {
        PgError::Connect(m) => PgError::Connect(hide(m)),
        PgError::Sql(m) => PgError::Sql(hide(m)),
        PgError::Failed(m) => PgError::Failed(hide(m)),
        other => other,
    }
}

/// The role's row, the server's version and password hashing, in one round trip.
async fn read_role(
    ctx: &ModuleContext<'_>,
    psql: &Psql,
    p: &UserParams,
) -> Result<(Map<String, Value>, Option<Map<String, Value>>), PgError> {
    let server = "SELECT current_setting('server_version_num')::int AS version, \
                  current_setting('password_encryption') AS password_encryption, \
                  has_table_privilege('pg_catalog.pg_authid', 'SELECT') AS can_read_authid";
    let expires = match &p.expires {
        Some(e) => format!(
            ", r.rolvaliduntil IS DISTINCT FROM {}::timestamptz AS expires_differs",
            quote_literal(e)
        ),
        None => String::new(),
    };
    let role = format!(
        "SELECT r.*, shobj_description(r.oid, 'pg_authid') AS role_comment{expires} \
         FROM pg_catalog.pg_roles r WHERE r.rolname = {}",
        quote_literal(&p.name)
    );
    let mut rows = psql.query_many(ctx.conn, &[server, &role]).await?;
    let role = rows.pop().and_then(|mut r| r.pop());
    let server = rows.pop().and_then(|mut r| r.pop()).unwrap_or_default();
    Ok((server, role))
}

async fn run(ctx: &ModuleContext<'_>, p: UserParams) -> Result<ModuleResult, PgError> {
    if p.name.is_empty() {
        return Err(PgError::failed("name must not be empty"));
    }
    if !p.login.trust_input {
        let flags = p.role_attr_flags.as_deref();
        let config: Vec<String> = p
            .configuration
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let config = config.join(",");
        check_input(&[
            ("name", Some(&p.name)),
            ("password", p.password.as_deref()),
            ("expires", p.expires.as_deref()),
            ("role_attr_flags", flags),
            ("comment", p.comment.as_deref()),
            ("configuration", Some(&config)),
        ])?;
    }
    let flags = parse_flags(p.role_attr_flags.as_deref().unwrap_or("")).map_err(PgError::Failed)?;
    let psql = Psql::new(&p.login, p.db.as_deref())?;
    let mut result = ModuleResult::ok().with("user", p.name.as_str());
    if p.name == "PUBLIC" {
        if p.password.is_some() {
            return Err(PgError::failed(
                "cannot change the password for PUBLIC user",
            ));
        }
        if !flags.is_empty() {
            return Err(PgError::failed(
                "cannot change the role_attr_flags for PUBLIC user",
            ));
        }
        return Ok(result.with("queries", Vec::<String>::new()));
    }
    let (server, role) = read_role(ctx, &psql, &p).await?;
    if p.state == UserState::Absent {
        return remove(ctx, &psql, &p, role.is_some(), result).await;
    }
    if p.password.is_some() && !p.encrypted {
        return Err(PgError::failed(
            "encrypted: false asks for an UNENCRYPTED PASSWORD, which PostgreSQL 10 and newer do not support",
        ));
    }
    let password = p.password.as_deref().map(Password::parse);
    let encryption = server
        .get("password_encryption")
        .and_then(Value::as_str)
        .unwrap_or("scram-sha-256");
    let mut spec = RoleSpec {
        name: p.name.clone(),
        verifier: None,
        password,
        flags,
        expires: p.expires.clone(),
        conn_limit: p.conn_limit,
    };
    let mut statements: Vec<Statement> = Vec::new();
    let mut before = Map::new();
    match &role {
        None => {
            spec.verifier = spec
                .password
                .as_ref()
                .and_then(|pw| verifier_for(pw, &p.name, encryption));
            statements.push(create_statement(&spec));
        }
        Some(row) => {
            before = row.clone();
            let check_password = !p.no_password_changes;
            let stored = match (&spec.password, check_password) {
                (Some(_), true) => stored_verifier(ctx, &psql, &p.name, &server).await?,
                _ => None,
            };
            let stored = stored.as_ref().map(|s| s.as_deref());
            let changes = role_changes(&spec, row, stored, check_password);
            let wanted = if check_password {
                changes.any()
            } else {
                changes.flags
            };
            if wanted {
                if changes.password {
                    spec.verifier = spec
                        .password
                        .as_ref()
                        .and_then(|pw| verifier_for(pw, &p.name, encryption));
                }
                statements.push(alter_statement(&spec, &changes, check_password));
            }
        }
    }
    if let Some(comment) = &p.comment {
        let current = role
            .as_ref()
            .and_then(|r| r.get("role_comment"))
            .and_then(Value::as_str)
            .unwrap_or("");
        if current != comment {
            statements.push(Statement::plain(format!(
                "COMMENT ON ROLE {} IS {}",
                quote_ident_part(&p.name),
                quote_literal(comment)
            )));
        }
    }
    let current = parse_config(role.as_ref().and_then(|r| r.get("rolconfig")));
    statements.extend(config_statements(
        &p.name,
        &current,
        &p.configuration,
        p.reset_unspecified_configuration,
        p.quote_configuration_values,
    ));
    let changed = !statements.is_empty();
    if changed && !ctx.check_mode {
        let sql: String = statements
            .iter()
            .map(|s| format!("{};\n", s.sql.trim_end_matches(';')))
            .collect();
        let mut secrets: Vec<String> = spec.verifier.iter().cloned().collect();
        secrets.extend(p.password.iter().filter(|s| !s.is_empty()).cloned());
        psql.execute(ctx.conn, &format!("BEGIN;\n{sql}COMMIT;\n"))
            .await
            .map_err(|e| mask(e, &secrets))?;
    }
    if ctx.diff && changed {
        result = result.with_diff(role_diff(&p, role.is_some(), &before, &statements));
    }
    result.changed = changed;
    let queries: Vec<String> = statements.into_iter().map(|s| s.shown).collect();
    Ok(result.with("queries", queries))
}

/// The stored verifier: `Some(None)` when the role has none, `None` when `pg_authid` cannot be
/// read (then the password is set, as the collection does).
async fn stored_verifier(
    ctx: &ModuleContext<'_>,
    psql: &Psql,
    name: &str,
    server: &Map<String, Value>,
) -> Result<Option<Option<String>>, PgError> {
    if server.get("can_read_authid").and_then(Value::as_bool) != Some(true) {
        return Ok(None);
    }
    let rows = psql
        .query(
            ctx.conn,
            &format!(
                "SELECT rolpassword FROM pg_catalog.pg_authid WHERE rolname = {}",
                quote_literal(name)
            ),
        )
        .await?;
    Ok(Some(
        rows.first()
            .and_then(|r| r.get("rolpassword"))
            .and_then(Value::as_str)
            .map(str::to_string),
    ))
}

/// `state: absent`: drops the role; with `fail_on_user: false` a role that cannot be dropped
/// is reported with `user_removed: false`.
async fn remove(
    ctx: &ModuleContext<'_>,
    psql: &Psql,
    p: &UserParams,
    exists: bool,
    result: ModuleResult,
) -> Result<ModuleResult, PgError> {
    if !exists {
        return Ok(result.with("queries", Vec::<String>::new()));
    }
    let drop = format!("DROP USER {}", quote_ident_part(&p.name));
    let mut result = result.with("queries", vec![drop.clone()]);
    if ctx.check_mode {
        result.changed = true;
        return Ok(result.with("user_removed", true));
    }
    match psql.execute(ctx.conn, &format!("{drop};\n")).await {
        Ok(()) => {
            result.changed = true;
            Ok(result.with("user_removed", true))
        }
        Err(PgError::Sql(msg)) if !p.fail_on_user => {
            tracing::debug!("postgresql_user: {drop}: {msg}");
            Ok(result.with("user_removed", false))
        }
        Err(PgError::Sql(msg)) => Err(PgError::Failed(format!("Unable to remove user: {msg}"))),
        Err(e) => Err(e),
    }
}

/// The `--diff` entry: the role's attributes before, the statements after (password masked).
fn role_diff(
    p: &UserParams,
    existed: bool,
    before: &Map<String, Value>,
    statements: &[Statement],
) -> Diff {
    let mut old = String::new();
    if existed {
        for key in [
            "rolsuper",
            "rolcreaterole",
            "rolcreatedb",
            "rolinherit",
            "rolcanlogin",
            "rolreplication",
            "rolbypassrls",
            "rolconnlimit",
            "rolvaliduntil",
            "rolconfig",
            "role_comment",
        ] {
            if let Some(v) = before.get(key) {
                old.push_str(&format!("{key}: {v}\n"));
            }
        }
    }
    let new: String = statements
        .iter()
        .map(|s| format!("{}\n", s.shown))
        .collect();
    Diff {
        before_header: Some(format!("role {}", p.name)),
        after_header: Some(format!("role {}", p.name)),
        before: old,
        after: new,
    }
}

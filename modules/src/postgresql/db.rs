//! `postgresql_db` (community.postgresql): creates, changes, drops, renames, dumps and restores
//! databases. An existing database gets its owner, connection limit, tablespace and comment
//! changed; a different encoding, `LC_COLLATE`, `LC_CTYPE`, ICU locale or locale provider is an
//! error (PostgreSQL cannot change them). `dump`/`restore` run `pg_dump`, `pg_restore` or `psql`
//! on the target (see [`super::db_dump`]); they always report a change, and in check mode none.

use async_trait::async_trait;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::{ModuleParams, ParamChoices};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::common::{
    check_input, finish, quote_ident_part, quote_literal, PgConnect, PgError, Psql,
};
use super::db_dump::{dump_script, restore_script};
use crate::params::{de_bool, de_opt_string, de_string};

/// What to do with the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ParamChoices)]
pub enum DbState {
    /// It exists, with these properties.
    #[default]
    #[serde(rename = "present")]
    Present,
    /// It does not exist.
    #[serde(rename = "absent")]
    Absent,
    /// Dump it to `target`.
    #[serde(rename = "dump")]
    Dump,
    /// Restore `target` into it.
    #[serde(rename = "restore")]
    Restore,
    /// Rename it to `target`.
    #[serde(rename = "rename")]
    Rename,
}

/// Parameters of `postgresql_db`.
#[derive(Debug, Deserialize, ModuleParams)]
pub struct DbParams {
    /// The database.
    #[serde(alias = "db", alias = "datname", deserialize_with = "de_string")]
    pub name: String,
    /// `present`, `absent`, `dump`, `restore` or `rename`.
    #[serde(default)]
    #[param(default = "present")]
    pub state: DbState,
    /// The role owning the database.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub owner: Option<String>,
    /// Template to create it from.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub template: Option<String>,
    /// Encoding (at creation only).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub encoding: Option<String>,
    /// Collation order (at creation only).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub lc_collate: Option<String>,
    /// Character classification (at creation only).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub lc_ctype: Option<String>,
    /// ICU locale (at creation only; PostgreSQL 15+).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub icu_locale: Option<String>,
    /// `libc` or `icu` (at creation only; PostgreSQL 15+).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub locale_provider: Option<String>,
    /// Tablespace of the database.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub tablespace: Option<String>,
    /// Connection limit (-1: none).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub conn_limit: Option<String>,
    /// The comment on the database (`''` removes it).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub comment: Option<String>,
    /// Dump/restore file on the target, or the new name for `rename`.
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(kind = "path")]
    pub target: Option<String>,
    /// Extra options for pg_dump/pg_restore/psql (shell words).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub target_opts: Option<String>,
    /// Extra options for pg_dump only (shell words).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub dump_extra_args: Option<String>,
    /// The database to connect to for creating, dropping and renaming.
    #[serde(default = "postgres", deserialize_with = "de_string")]
    #[param(default = "postgres")]
    pub maintenance_db: String,
    /// Drop even with connected sessions (`DROP DATABASE … WITH (FORCE)`).
    #[serde(default, deserialize_with = "de_bool")]
    pub force: bool,
    /// How to log in.
    #[serde(flatten)]
    pub conn: PgConnect,
}

fn postgres() -> String {
    "postgres".into()
}

/// The `postgresql_db` module.
pub struct PostgresqlDb;

#[async_trait]
impl TypedModule for PostgresqlDb {
    const NAME: &'static str = "postgresql_db";
    type Params = DbParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: DbParams,
    ) -> Result<ModuleResult, ModuleError> {
        finish(run(ctx, p).await)
    }
}

/// The catalog query for one database's properties.
fn info_query(name: &str) -> String {
    format!(
        "SELECT d.datname, r.rolname AS owner, pg_encoding_to_char(d.encoding) AS encoding, \
         d.encoding AS encoding_id, d.datcollate AS lc_collate, d.datctype AS lc_ctype, \
         to_jsonb(d) ->> 'daticulocale' AS icu_locale, \
         CASE to_jsonb(d) ->> 'datlocprovider' WHEN 'c' THEN 'libc' WHEN 'i' THEN 'icu' END \
         AS locale_provider, d.datconnlimit AS conn_limit, t.spcname AS tablespace, \
         coalesce(shobj_description(d.oid, 'pg_database'), '') AS comment \
         FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba \
         JOIN pg_tablespace t ON t.oid = d.dattablespace WHERE d.datname = {}",
        quote_literal(name)
    )
}

fn text<'a>(row: &'a Map<String, Value>, key: &str) -> &'a str {
    row.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn set(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

/// The statements bringing an existing database to the task's properties, or the error for a
/// property PostgreSQL cannot change.
fn alter_plan(p: &DbParams, row: &Map<String, Value>, enc_id: i64) -> Result<Vec<String>, PgError> {
    let db = quote_ident_part(&p.name);
    if set(&p.encoding).is_some() && row.get("encoding_id").and_then(Value::as_i64) != Some(enc_id)
    {
        return Err(PgError::failed(format!(
            "Changing database encoding is not supported. Current encoding: {}",
            text(row, "encoding")
        )));
    }
    for (key, label, want) in [
        ("lc_collate", "LC_COLLATE", &p.lc_collate),
        ("lc_ctype", "LC_CTYPE", &p.lc_ctype),
        ("icu_locale", "ICU_LOCALE", &p.icu_locale),
        ("locale_provider", "LOCALE_PROVIDER", &p.locale_provider),
    ] {
        if let Some(w) = set(want).filter(|w| *w != text(row, key)) {
            let _ = w;
            return Err(PgError::failed(format!(
                "Changing {label} is not supported. Current {label}: {}",
                text(row, key)
            )));
        }
    }
    let mut sql = Vec::new();
    if let Some(owner) = set(&p.owner).filter(|o| *o != text(row, "owner")) {
        sql.push(format!(
            "ALTER DATABASE {db} OWNER TO {}",
            quote_ident_part(owner)
        ));
    }
    if let Some(limit) = set(&p.conn_limit) {
        let have = row
            .get("conn_limit")
            .map(Value::to_string)
            .unwrap_or_default();
        if limit != have {
            sql.push(format!("ALTER DATABASE {db} CONNECTION LIMIT {limit}"));
        }
    }
    if let Some(ts) = set(&p.tablespace).filter(|t| *t != text(row, "tablespace")) {
        sql.push(format!(
            "ALTER DATABASE {db} SET TABLESPACE {}",
            quote_ident_part(ts)
        ));
    }
    if let Some(c) = p.comment.as_deref().filter(|c| *c != text(row, "comment")) {
        sql.push(comment_sql(&p.name, c));
    }
    Ok(sql)
}

fn comment_sql(name: &str, comment: &str) -> String {
    let value = if comment.is_empty() {
        "NULL".to_string()
    } else {
        quote_literal(comment)
    };
    format!("COMMENT ON DATABASE {} IS {value}", quote_ident_part(name))
}

/// `CREATE DATABASE` (and `COMMENT ON`) for a missing database.
fn create_plan(p: &DbParams) -> Vec<String> {
    let mut q = format!("CREATE DATABASE {}", quote_ident_part(&p.name));
    if let Some(o) = set(&p.owner) {
        q.push_str(&format!(" OWNER {}", quote_ident_part(o)));
    }
    if let Some(t) = set(&p.template) {
        q.push_str(&format!(" TEMPLATE {}", quote_ident_part(t)));
    }
    for (kw, v) in [
        ("ENCODING", &p.encoding),
        ("LC_COLLATE", &p.lc_collate),
        ("LC_CTYPE", &p.lc_ctype),
        ("ICU_LOCALE", &p.icu_locale),
        ("LOCALE_PROVIDER", &p.locale_provider),
    ] {
        if let Some(v) = set(v) {
            q.push_str(&format!(" {kw} {}", quote_literal(v)));
        }
    }
    if let Some(t) = set(&p.tablespace) {
        q.push_str(&format!(" TABLESPACE {}", quote_ident_part(t)));
    }
    if let Some(l) = set(&p.conn_limit) {
        q.push_str(&format!(" CONNECTION LIMIT {l}"));
    }
    let mut sql = vec![q];
    if let Some(c) = set(&p.comment) {
        sql.push(comment_sql(&p.name, c));
    }
    sql
}

fn validate(p: &DbParams) -> Result<(), PgError> {
    if p.name.is_empty() {
        return Err(PgError::failed("name must not be empty"));
    }
    if let Some(l) = set(&p.conn_limit) {
        l.parse::<i64>().map_err(|_| {
            PgError::failed(format!("conn_limit must be a whole number, got '{l}'"))
        })?;
    }
    if !p.conn.trust_input {
        check_input(&[
            ("owner", p.owner.as_deref()),
            ("conn_limit", p.conn_limit.as_deref()),
            ("encoding", p.encoding.as_deref()),
            ("name", Some(&p.name)),
            ("template", p.template.as_deref()),
            ("tablespace", p.tablespace.as_deref()),
            ("comment", p.comment.as_deref()),
        ])?;
    }
    if p.state == DbState::Rename {
        let target = set(&p.target).ok_or_else(|| {
            PgError::failed(
                "The \"target\" option must be defined when the \"rename\" option is used.",
            )
        })?;
        if target == p.name {
            return Err(PgError::failed(
                "The \"name/db\" option and the \"target\" option cannot be the same.",
            ));
        }
        if p.maintenance_db == p.name {
            return Err(PgError::failed(
                "The \"maintenance_db\" option and the \"name/db\" option cannot be the same.",
            ));
        }
    }
    Ok(())
}

async fn run(ctx: &ModuleContext<'_>, p: DbParams) -> Result<ModuleResult, PgError> {
    validate(&p)?;
    if matches!(p.state, DbState::Dump | DbState::Restore) {
        return dump_or_restore(ctx, &p).await;
    }
    let psql = Psql::new(&p.conn, Some(&p.maintenance_db))?;
    let enc = set(&p.encoding).unwrap_or("SQL_ASCII");
    let mut queries = vec![
        info_query(&p.name),
        format!("SELECT pg_char_to_encoding({}) AS id", quote_literal(enc)),
    ];
    if p.state == DbState::Rename {
        queries.push(info_query(set(&p.target).unwrap_or_default()));
    }
    let refs: Vec<&str> = queries.iter().map(String::as_str).collect();
    let found = psql.query_many(ctx.conn, &refs).await?;
    let existing = found.first().and_then(|r| r.first());
    let enc_id = found
        .get(1)
        .and_then(|r| r.first())
        .and_then(|r| r.get("id"))
        .and_then(Value::as_i64)
        .unwrap_or(-1);
    let db = quote_ident_part(&p.name);
    let plan: Vec<String> = match (p.state, existing) {
        (DbState::Present, None) => create_plan(&p),
        (DbState::Present, Some(row)) => alter_plan(&p, row, enc_id)?,
        (DbState::Absent, None) => Vec::new(),
        (DbState::Absent, Some(_)) if p.force => vec![format!("DROP DATABASE {db} WITH (FORCE)")],
        (DbState::Absent, Some(_)) => vec![format!("DROP DATABASE {db}")],
        (_, source) => {
            let target_exists = found.get(2).is_some_and(|r| !r.is_empty());
            let target = set(&p.target).unwrap_or_default();
            match (source.is_some(), target_exists) {
                (true, true) => {
                    return Err(PgError::failed(
                        "Both the source and the target databases exist.",
                    ))
                }
                (false, true) => Vec::new(),
                (false, false) => {
                    return Err(PgError::failed(
                        "The source and the target databases do not exist.",
                    ))
                }
                (true, false) => vec![format!(
                    "ALTER DATABASE {db} RENAME TO {}",
                    quote_ident_part(target)
                )],
            }
        }
    };
    let changed = !plan.is_empty();
    let mut executed: Vec<String> = Vec::new();
    if changed && !ctx.check_mode {
        // One statement per psql call: CREATE/DROP DATABASE cannot run in a transaction block,
        // and psql runs each statement of a script on its own (autocommit) anyway.
        let script: String = plan.iter().map(|q| format!("{q};\n")).collect();
        psql.execute(ctx.conn, &script)
            .await
            .map_err(|e| PgError::failed(format!("Database query failed: {e}")))?;
        executed = plan;
    }
    Ok(ModuleResult::changed(changed)
        .with("db", p.name.clone())
        .with("executed_commands", json!(executed)))
}

async fn dump_or_restore(ctx: &ModuleContext<'_>, p: &DbParams) -> Result<ModuleResult, PgError> {
    if ctx.check_mode {
        return Ok(ModuleResult::changed(false)
            .with("db", p.name.clone())
            .with("executed_commands", json!([])));
    }
    let psql = Psql::new(&p.conn, Some(&p.name))?;
    let default_target = format!("{}.sql", p.name);
    let target = set(&p.target).unwrap_or(&default_target);
    let conninfo = psql.conninfo();
    let (cmd, script) = if p.state == DbState::Dump {
        dump_script(
            &conninfo,
            target,
            set(&p.dump_extra_args),
            set(&p.target_opts),
        )
    } else {
        restore_script(&conninfo, target, set(&p.target_opts))
    };
    let out = psql.run_shell(ctx.conn, &script).await?;
    let stdout = out.stdout_str();
    let stderr = out.stderr_str();
    if !out.success() {
        let msg = if stderr.trim().is_empty() {
            format!(
                "{} failed with status {}",
                cmd.split(' ').next().unwrap_or("pg_dump"),
                out.rc
            )
        } else {
            stderr.trim().to_string()
        };
        return Ok(ModuleResult::failed(msg)
            .with("stdout", stdout)
            .with("rc", out.rc)
            .with("cmd", cmd));
    }
    Ok(ModuleResult::changed(true)
        .with_msg(stdout)
        .with("stderr", stderr)
        .with("rc", out.rc)
        .with("cmd", cmd.clone())
        .with("executed_commands", json!([cmd])))
}

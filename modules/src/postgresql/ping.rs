//! `postgresql_ping` (community.postgresql): checks that the server answers. A failed login is
//! not a task failure: `is_available` is false and `conn_err_msg` says why.

use async_trait::async_trait;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::common::{finish, PgConnect, PgError, Psql};
use crate::params::de_opt_string;

/// Parameters of `postgresql_ping`.
#[derive(Debug, Deserialize, ModuleParams)]
pub struct PingParams {
    /// Database to connect to.
    #[serde(default, alias = "login_db", deserialize_with = "de_opt_string")]
    pub db: Option<String>,
    /// How to log in.
    #[serde(flatten)]
    pub conn: PgConnect,
}

/// The `postgresql_ping` module.
pub struct PostgresqlPing;

#[async_trait]
impl TypedModule for PostgresqlPing {
    const NAME: &'static str = "postgresql_ping";
    type Params = PingParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: PingParams,
    ) -> Result<ModuleResult, ModuleError> {
        finish(run(ctx, p).await)
    }
}

/// community.postgresql's `server_version` dict from `SELECT version()`'s text.
pub fn version_dict(raw: &str) -> Value {
    let full = raw.split_whitespace().nth(1).unwrap_or_default();
    let nums: Vec<u64> = full
        .split(|c: char| !c.is_ascii_digit())
        .take_while(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .take(3)
        .collect();
    let mut v = Map::new();
    if let [major, minor, ..] = nums.as_slice() {
        v.insert("major".into(), json!(major));
        v.insert("minor".into(), json!(minor));
    }
    v.insert("full".into(), json!(full));
    v.insert("raw".into(), json!(raw));
    if let Some(patch) = nums.get(2) {
        v.insert("patch".into(), json!(patch));
    }
    Value::Object(v)
}

async fn run(ctx: &ModuleContext<'_>, p: PingParams) -> Result<ModuleResult, PgError> {
    let psql = Psql::new(&p.conn, p.db.as_deref())?;
    let result = ModuleResult::changed(false);
    match psql.query(ctx.conn, "SELECT version() AS version").await {
        Ok(rows) => {
            let raw = rows
                .first()
                .and_then(|r| r.get("version"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            Ok(result
                .with("is_available", !raw.is_empty())
                .with("server_version", version_dict(raw))
                .with("conn_err_msg", ""))
        }
        Err(PgError::Module(e)) => Err(PgError::Module(e)),
        Err(e) => Ok(result
            .with("is_available", false)
            .with("server_version", json!({}))
            .with("conn_err_msg", e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_split() {
        let v = version_dict("PostgreSQL 15.8 (Debian 15.8-0+deb12u1) on x86_64-pc-linux-gnu");
        assert_eq!(v["major"], 15);
        assert_eq!(v["minor"], 8);
        assert_eq!(v["full"], "15.8");
        assert!(v.get("patch").is_none());
    }
}

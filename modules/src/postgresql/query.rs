//! `postgresql_query` (community.postgresql): runs SQL and returns its rows. `positional_args`
//! (`%s`) and `named_args` (`%(name)s`) are substituted as SQL literals (lists become arrays),
//! as psycopg2 does. `changed` follows the collection: a statement whose tag has no `SELECT` is
//! a change (`SHOW` neither), except `INSERT`/`UPDATE`/`DELETE` that touched no row. Without `autocommit`, the
//! statements run in one transaction, committed — or, in check mode, rolled back (the
//! collection's own way to predict `changed`; nothing is written).

use async_trait::async_trait;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::common::{finish, quote_ident, quote_literal, value_literal, PgConnect, PgError, Psql};
use super::query_exec::{parse_output, split_statements, statements_script, StatementResult};
use crate::params::{de_bool, de_opt_string, de_opt_string_list};

/// Parameters of `postgresql_query`.
#[derive(Debug, Deserialize, ModuleParams)]
#[params(
    mutually_exclusive("positional_args", "named_args"),
    mutually_exclusive("query", "path_to_script"),
    required_one_of("query", "path_to_script")
)]
pub struct QueryParams {
    /// The SQL to run: a string, or a list of queries run in order.
    #[serde(default)]
    pub query: Option<Value>,
    /// Values for `%s` placeholders.
    #[serde(default)]
    pub positional_args: Option<Vec<Value>>,
    /// Values for `%(name)s` placeholders.
    #[serde(default)]
    pub named_args: Option<Map<String, Value>>,
    /// An SQL script on the target to run instead of `query`.
    #[serde(default, alias = "path", deserialize_with = "de_opt_string")]
    #[param(kind = "path")]
    pub path_to_script: Option<String>,
    /// Run the script as one query (false: split it at every `;`).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    #[param(default = "true")]
    pub as_single_query: bool,
    /// Run without a transaction (for `VACUUM`, `CREATE DATABASE`); not with check mode.
    #[serde(default, deserialize_with = "de_bool")]
    pub autocommit: bool,
    /// Client encoding for the session (checked by the server; text stays UTF-8 on the wire).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub encoding: Option<String>,
    /// Schemas to search, in order.
    #[serde(default, deserialize_with = "de_opt_string_list")]
    pub search_path: Option<Vec<String>>,
    /// Database to connect to.
    #[serde(default, alias = "login_db", deserialize_with = "de_opt_string")]
    pub db: Option<String>,
    /// How to log in.
    #[serde(flatten)]
    pub conn: PgConnect,
}

fn yes() -> bool {
    true
}

/// The `postgresql_query` module.
pub struct PostgresqlQuery;

#[async_trait]
impl TypedModule for PostgresqlQuery {
    const NAME: &'static str = "postgresql_query";
    type Params = QueryParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: QueryParams,
    ) -> Result<ModuleResult, ModuleError> {
        finish(run(ctx, p).await)
    }
}

/// An argument as a literal; a list becomes an array literal as the collection makes it.
fn arg_literal(v: &Value) -> String {
    match v {
        Value::Array(items) => {
            let inner: Vec<String> = items
                .iter()
                .map(|i| match i {
                    Value::String(s) => {
                        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
                    }
                    Value::Null => "NULL".into(),
                    other => other.to_string(),
                })
                .collect();
            quote_literal(&format!("{{{}}}", inner.join(",")))
        }
        other => value_literal(other),
    }
}

/// Substitutes psycopg2-style placeholders (`%s`, `%(name)s`, `%%`) with literals. Without
/// arguments the query is left as it is (psycopg2 does not read `%` then).
pub fn substitute(
    query: &str,
    positional: Option<&[Value]>,
    named: Option<&Map<String, Value>>,
) -> Result<String, String> {
    if positional.is_none_or(|p| p.is_empty()) && named.is_none_or(|n| n.is_empty()) {
        return Ok(query.to_string());
    }
    let mut out = String::new();
    let mut next = 0;
    let mut rest = query;
    while let Some(pos) = rest.find('%') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(r) = after.strip_prefix('%') {
            out.push('%');
            rest = r;
        } else if let Some(r) = after.strip_prefix('s') {
            let args = positional.ok_or("the query uses %s but named_args were given")?;
            let v = args
                .get(next)
                .ok_or("not enough positional_args for the query's %s placeholders")?;
            out.push_str(&arg_literal(v));
            next += 1;
            rest = r;
        } else if let Some(r) = after.strip_prefix('(') {
            let (name, r) = r
                .split_once(")s")
                .ok_or("unterminated %(name)s placeholder in the query")?;
            let args = named.ok_or("the query uses %(name)s but positional_args were given")?;
            let v = args
                .get(name)
                .ok_or_else(|| format!("named_args has no value for '{name}'"))?;
            out.push_str(&arg_literal(v));
            rest = r;
        } else {
            return Err(format!(
                "unsupported format character after '%' in the query: '{}'",
                after.chars().next().unwrap_or(' ')
            ));
        }
    }
    out.push_str(rest);
    if positional.is_some_and(|p| next < p.len()) {
        return Err("not all positional_args were used by the query".into());
    }
    Ok(out)
}

/// Whether a statement's tag makes the task changed (community.postgresql's rule).
fn changes(status: &str) -> bool {
    if status.contains("SELECT") || status.contains("SHOW") {
        return false;
    }
    if ["UPDATE", "INSERT", "DELETE"]
        .iter()
        .any(|k| status.contains(k))
    {
        let words: Vec<&str> = status.split_whitespace().collect();
        return match words.len() {
            3 => words[2] != "0",
            2 => words[1] != "0",
            _ => true,
        };
    }
    true
}

async fn run(ctx: &ModuleContext<'_>, p: QueryParams) -> Result<ModuleResult, PgError> {
    if p.autocommit && ctx.check_mode {
        return Err(PgError::failed(
            "Using autocommit is mutually exclusive with check_mode",
        ));
    }
    let mut queries: Vec<String> = Vec::new();
    match (&p.query, &p.path_to_script) {
        (Some(_), Some(_)) => {
            return Err(PgError::failed(
                "path_to_script is mutually exclusive with query",
            ))
        }
        (Some(Value::Array(items)), None) => {
            for item in items {
                match item {
                    Value::String(q) => queries.push(q.clone()),
                    other => queries.push(other.to_string()),
                }
            }
        }
        (Some(Value::String(q)), None) => queries.push(q.clone()),
        (Some(_), None) => {
            return Err(PgError::failed(
                "query argument must be of type string or list",
            ))
        }
        (None, Some(path)) => {
            let bytes = ctx
                .conn
                .read_file(path)
                .await
                .map_err(|e| PgError::failed(format!("Cannot read file '{path}' : {e}")))?;
            let text = String::from_utf8_lossy(&bytes).to_string();
            if p.as_single_query || !text.contains(';') {
                queries.push(text);
            } else {
                queries.extend(
                    text.split(';')
                        .filter(|q| !q.trim().is_empty())
                        .map(str::to_string),
                );
            }
        }
        (None, None) => {
            return Err(PgError::failed(
                "one of the following is required: query, path_to_script",
            ))
        }
    }
    let positional = p.positional_args.as_deref();
    let named = p.named_args.as_ref();
    let args_text = positional
        .map(|a| json!(a).to_string())
        .or_else(|| named.map(|n| json!(n).to_string()))
        .unwrap_or_else(|| "None".into());
    let mut executed: Vec<String> = Vec::new();
    // (query index, statements of that query)
    let mut statements: Vec<String> = Vec::new();
    let mut owner: Vec<usize> = Vec::new();
    for (i, q) in queries.iter().enumerate() {
        let text = substitute(q, positional, named)
            .map_err(|e| PgError::failed(format!("Cannot execute SQL '{q}' {args_text}: {e}")))?;
        for st in split_statements(&text) {
            statements.push(st);
            owner.push(i);
        }
        executed.push(text);
    }
    let mut sql = String::new();
    if !p.autocommit {
        sql.push_str("BEGIN;\n");
    }
    if let Some(enc) = p.encoding.as_deref().filter(|e| !e.is_empty()) {
        sql.push_str(&format!(
            "SET client_encoding TO {};\nSET client_encoding TO 'UTF8';\n",
            quote_literal(enc)
        ));
    }
    if let Some(path) = p.search_path.as_ref().filter(|s| !s.is_empty()) {
        let names: Vec<String> = path.iter().map(|s| quote_ident(s.trim())).collect();
        sql.push_str(&format!("SET search_path TO {};\n", names.join(", ")));
    }
    sql.push_str(&statements_script(&statements));
    if !p.autocommit {
        sql.push_str(if ctx.check_mode {
            "ROLLBACK;\n"
        } else {
            "COMMIT;\n"
        });
    }
    let psql = Psql::new(&p.conn, p.db.as_deref())?;
    let out = psql
        .run_psql(ctx.conn, &sql, &["--csv"])
        .await
        .map_err(|e| match e {
            PgError::Sql(msg) => {
                let last = executed.last().cloned().unwrap_or_default();
                PgError::failed(format!(
                    "Cannot execute SQL '{last}' {args_text}: {msg}, query list: {}",
                    json!(executed)
                ))
            }
            other => other,
        })?;
    let results = parse_output(&statements, &out).map_err(PgError::failed)?;
    finish_result(&queries, &executed, &owner, &results)
}

/// The module's answer from every statement's result: each query's result is its last
/// statement's.
fn finish_result(
    queries: &[String],
    executed: &[String],
    owner: &[usize],
    results: &[StatementResult],
) -> Result<ModuleResult, PgError> {
    let mut all_results: Vec<Value> = Vec::new();
    let (mut changed, mut rowcount, mut status) = (false, 0i64, String::new());
    let mut last_result = json!({});
    let mut times: Vec<Value> = Vec::new();
    for qi in 0..queries.len() {
        let Some(last) = owner
            .iter()
            .rposition(|o| *o == qi)
            .and_then(|i| results.get(i))
        else {
            continue;
        };
        status = last.status.clone();
        if last.rowcount > 0 {
            rowcount += last.rowcount;
        }
        if changes(&last.status) {
            changed = true;
        }
        last_result = match &last.rows {
            Some(rows) if !rows.is_empty() => json!(rows),
            _ => json!({}),
        };
        times.push(json!(last.time_ms));
        all_results.push(last_result.clone());
    }
    Ok(ModuleResult::changed(changed)
        .with("query", executed.last().cloned().unwrap_or_default())
        .with("query_list", json!(queries))
        .with("statusmessage", status)
        .with("query_result", last_result)
        .with("query_all_results", json!(all_results))
        .with("rowcount", rowcount)
        .with("execution_time_ms", json!(times)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_literals() {
        let q = substitute(
            "SELECT * FROM t WHERE id = %s AND s = %s AND p LIKE 'a%%'",
            Some(&[json!(1), json!("it's")]),
            None,
        )
        .unwrap();
        assert_eq!(
            q,
            "SELECT * FROM t WHERE id = 1 AND s = 'it''s' AND p LIKE 'a%'"
        );
        let mut named = Map::new();
        named.insert("v".into(), json!([1, 2]));
        named.insert("n".into(), Value::Null);
        let q = substitute("SELECT %(v)s, %(n)s", None, Some(&named)).unwrap();
        assert_eq!(q, "SELECT '{1,2}', NULL");
        assert_eq!(
            substitute("SELECT '100%'", None, None).unwrap(),
            "SELECT '100%'"
        );
        assert!(substitute("SELECT %s, %s", Some(&[json!(1)]), None).is_err());
    }

    #[test]
    fn changed_follows_the_tag() {
        assert!(!changes("SELECT 3"));
        assert!(!changes("UPDATE 0"));
        assert!(!changes("INSERT 0 0"));
        assert!(changes("INSERT 0 1"));
        assert!(changes("CREATE TABLE"));
        assert!(!changes("SHOW"));
    }
}

//! `postgresql_set` (community.postgresql): `ALTER SYSTEM SET` a server setting, then reload the
//! configuration (settings of `postmaster` context need a restart: `restart_required`).
//!
//! Idempotence: the wanted value is compared in the server's own units with what is configured —
//! the last `postgresql.auto.conf` entry when there is one (so a `postmaster` setting changed but
//! not yet applied is not changed again), else the running value — so `shared_buffers: 128MB`
//! equals `16384` (8kB pages) and `work_mem: 4mb` equals `4096` (kB). `value: default` removes the
//! entry from `postgresql.auto.conf` (`ALTER SYSTEM RESET`, a change only when there is one), and
//! so does `reset: true` (as community.postgresql 4 does).

use async_trait::async_trait;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::common::{
    check_input, finish, quote_ident_part, quote_literal, PgConnect, PgError, Psql,
};
use crate::params::{de_bool, de_opt_string, de_string};

/// Parameters of `postgresql_set`.
#[derive(Debug, Deserialize, ModuleParams)]
#[params(
    mutually_exclusive("value", "reset"),
    required_one_of("value", "reset")
)]
pub struct SetParams {
    /// The setting (`work_mem`, `TimeZone`, …).
    #[serde(deserialize_with = "de_string")]
    pub name: String,
    /// The value; `default` removes it from `postgresql.auto.conf`.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub value: Option<String>,
    /// Remove the setting from `postgresql.auto.conf` (`ALTER SYSTEM RESET`).
    #[serde(default, deserialize_with = "de_bool")]
    pub reset: bool,
    /// Database to connect to.
    #[serde(default, alias = "login_db", deserialize_with = "de_opt_string")]
    pub db: Option<String>,
    /// How to log in.
    #[serde(flatten)]
    pub conn: PgConnect,
}

/// The `postgresql_set` module.
pub struct PostgresqlSet;

#[async_trait]
impl TypedModule for PostgresqlSet {
    const NAME: &'static str = "postgresql_set";
    type Params = SetParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: SetParams,
    ) -> Result<ModuleResult, ModuleError> {
        finish(run(ctx, p).await)
    }
}

/// A size or time with its unit, in bytes or microseconds; `None` for other text.
fn in_base_units(text: &str) -> Option<(f64, &'static str)> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let num: f64 = if num.is_empty() {
        1.0
    } else {
        num.parse().ok()?
    };
    let (factor, kind) = match unit.trim() {
        "B" => (1.0, "mem"),
        "kB" => (1024.0, "mem"),
        "MB" => (1024.0 * 1024.0, "mem"),
        "GB" => (1024.0 * 1024.0 * 1024.0, "mem"),
        "TB" => (1024.0 * 1024.0 * 1024.0 * 1024.0, "mem"),
        "us" => (1.0, "time"),
        "ms" => (1e3, "time"),
        "s" => (1e6, "time"),
        "min" => (60e6, "time"),
        "h" => (3600e6, "time"),
        "d" => (86400e6, "time"),
        _ => return None,
    };
    Some((num * factor, kind))
}

/// `value` in the setting's unit (`unit` as pg_settings says: `8kB`, `ms`, …), when both are
/// numbers; else the normalized text.
fn normalize(value: &str, unit: Option<&str>, vartype: &str) -> String {
    let v = value.trim().trim_matches('\'');
    match vartype {
        "bool" => match v.to_ascii_lowercase().as_str() {
            "on" | "true" | "yes" | "1" | "t" | "y" => "on".into(),
            "off" | "false" | "no" | "0" | "f" | "n" => "off".into(),
            other => other.into(),
        },
        "integer" | "real" => {
            let plain: Option<f64> = v.parse().ok();
            let scaled = match (plain, unit.and_then(in_base_units)) {
                (Some(n), _) => Some(n),
                (None, Some((base, kind))) => in_base_units(v)
                    .filter(|(_, k)| *k == kind)
                    .map(|(x, _)| x / base),
                (None, None) => None,
            };
            match scaled {
                Some(n) if vartype == "integer" => format!("{}", n.round() as i64),
                Some(n) => format!("{n}"),
                None => v.to_string(),
            }
        }
        "enum" => v.to_ascii_lowercase(),
        _ => v
            .split(',')
            .map(|s| s.trim().trim_matches(|c| c == '\'' || c == '"'))
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// community.postgresql's spelling fixes: `1mb` → `1MB`, `1b` → `1B`, `True`/`False` → on/off.
fn fix_spelling(value: &str) -> String {
    let v = value.to_string();
    let lower_units = ["kb", "mb", "gb", "tb"];
    if v.len() > 2 && v[..v.len() - 2].chars().all(|c| c.is_ascii_digit()) {
        let unit = &v[v.len() - 2..];
        if lower_units.contains(&unit.to_ascii_lowercase().as_str()) && unit != "kB" {
            let u = if unit.eq_ignore_ascii_case("kb") {
                "kB".to_string()
            } else {
                unit.to_ascii_uppercase()
            };
            return format!("{}{u}", &v[..v.len() - 2]);
        }
    }
    if v.len() > 1 && v.ends_with('b') && v[..v.len() - 1].chars().all(|c| c.is_ascii_digit()) {
        return v.to_ascii_uppercase();
    }
    match v.as_str() {
        "True" => "on".into(),
        "False" => "off".into(),
        _ => v,
    }
}

/// The `ALTER SYSTEM` statement for `value` (`None`: `DEFAULT`).
fn alter_sql(name: &str, value: Option<&str>) -> String {
    let n = quote_ident_part(name);
    match value {
        None => format!("ALTER SYSTEM RESET {n}"),
        Some(v) if v.contains(',') && !name.ends_with("_command") && !name.ends_with("_prefix") => {
            let items: Vec<String> = v.split(',').map(|e| quote_literal(e.trim())).collect();
            format!("ALTER SYSTEM SET {n} = {}", items.join(", "))
        }
        Some(v) => format!("ALTER SYSTEM SET {n} = {}", quote_literal(v)),
    }
}

fn queries(name: &str) -> [String; 2] {
    let lit = quote_literal(name);
    [
        format!(
            "SELECT name, setting, unit, context, boot_val, vartype, current_setting(name) AS pretty \
             FROM pg_settings WHERE lower(name) = lower({lit})"
        ),
        format!(
            "SELECT setting FROM pg_file_settings WHERE lower(name) = lower({lit}) \
             AND sourcefile LIKE '%postgresql.auto.conf' ORDER BY seqno DESC LIMIT 1"
        ),
    ]
}

fn s<'a>(row: &'a Map<String, Value>, key: &str) -> &'a str {
    row.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// community.postgresql's `value` dict: kB and MB settings in bytes (`unit: b`).
fn value_dict(row: &Map<String, Value>) -> Value {
    let raw = s(row, "setting");
    let unit = row.get("unit").cloned().unwrap_or(Value::Null);
    let factor = match unit.as_str() {
        Some("kB") => 1024,
        Some("MB") => 1024 * 1024,
        _ => return json!({"value": raw, "unit": unit}),
    };
    match raw.parse::<i64>() {
        Ok(n) if n > 0 => json!({"value": n * factor, "unit": "b"}),
        _ => json!({"value": raw, "unit": "b"}),
    }
}

async fn run(ctx: &ModuleContext<'_>, p: SetParams) -> Result<ModuleResult, PgError> {
    if !p.conn.trust_input {
        check_input(&[("name", Some(&p.name)), ("value", p.value.as_deref())])?;
    }
    let value = p.value.as_deref().map(fix_spelling);
    match (&value, p.reset) {
        (Some(_), true) => {
            return Err(PgError::failed(format!(
                "{}: value and reset params are mutually exclusive",
                p.name
            )))
        }
        (None, false) => {
            return Err(PgError::failed(format!(
                "{}: at least one of value or reset param must be specified",
                p.name
            )))
        }
        _ => {}
    }
    let psql = Psql::new(&p.conn, p.db.as_deref())?;
    let [q_info, q_file] = queries(&p.name);
    let found = psql.query_many(ctx.conn, &[&q_info, &q_file]).await?;
    let Some(info) = found.first().and_then(|r| r.first()).cloned() else {
        return Err(PgError::failed(format!(
            "No such parameter: {}. Please check its spelling or presence in your PostgreSQL version \
             (https://www.postgresql.org/docs/current/runtime-config.html)",
            p.name
        )));
    };
    let file_val = found
        .get(1)
        .and_then(|r| r.first())
        .map(|r| s(r, "setting").to_string());
    let context = s(&info, "context").to_string();
    if context == "internal" {
        return Err(PgError::failed(format!(
            "{}: cannot be changed (internal context). See \
             https://www.postgresql.org/docs/current/runtime-config-preset.html",
            p.name
        )));
    }
    let (unit, vartype) = (
        info.get("unit").and_then(Value::as_str),
        s(&info, "vartype"),
    );
    let norm = |v: &str| normalize(v, unit, vartype);
    let configured = norm(file_val.as_deref().unwrap_or(s(&info, "setting")));
    // (statement value — `None`: back to the default —, shown value) when something changes.
    let plan: Option<(Option<String>, String)> = match value.as_deref() {
        Some(v) if v.eq_ignore_ascii_case("default") => {
            file_val.is_some().then(|| (None, "default".to_string()))
        }
        Some(v) => (norm(v) != configured).then(|| (Some(v.to_string()), v.to_string())),
        None => file_val
            .is_some()
            .then(|| (None, s(&info, "boot_val").to_string())),
    };
    let prev_pretty = s(&info, "pretty").to_string();
    let restart_required = context == "postmaster";
    let mut result = ModuleResult::changed(plan.is_some())
        .with("name", s(&info, "name"))
        .with("restart_required", restart_required)
        .with("prev_val_pretty", prev_pretty.clone())
        .with("context", context.clone());
    let Some((stmt_value, shown)) = plan else {
        return Ok(result
            .with("value_pretty", prev_pretty)
            .with("value", value_dict(&info))
            .with("queries", json!([])));
    };
    let stmt = alter_sql(&p.name, stmt_value.as_deref());
    let done = if ctx.check_mode {
        json!([])
    } else {
        json!([stmt])
    };
    result = result.with("queries", done);
    if ctx.check_mode || restart_required {
        if !ctx.check_mode {
            psql.execute(ctx.conn, &format!("{stmt};\n"))
                .await
                .map_err(|e| PgError::failed(format!("Unable to set {}: {e}", p.name)))?;
        }
        result = result
            .with("value_pretty", shown)
            .with("value", value_dict(&info));
        return Ok(result);
    }
    let sql = format!("{stmt};\nSELECT pg_reload_conf();\n");
    psql.run(ctx.conn, &sql, &[])
        .await
        .map_err(|e| PgError::failed(format!("Unable to set {}: {e}", p.name)))?;
    // A new session after the reload; its first statement lets it take the new configuration.
    let after = psql
        .query_many(ctx.conn, &["SELECT pg_sleep(0.05) AS s", &q_info])
        .await?;
    let now = after
        .get(1)
        .and_then(|r| r.first())
        .cloned()
        .unwrap_or(info);
    Ok(result
        .with("value_pretty", s(&now, "pretty"))
        .with("value", value_dict(&now)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_compare_in_the_servers_units() {
        assert_eq!(normalize("128MB", Some("8kB"), "integer"), "16384");
        assert_eq!(normalize("16384", Some("8kB"), "integer"), "16384");
        assert_eq!(normalize("4MB", Some("kB"), "integer"), "4096");
        assert_eq!(normalize("1s", Some("ms"), "integer"), "1000");
        assert_eq!(normalize("1min", Some("s"), "integer"), "60");
        assert_eq!(normalize("ON", None, "bool"), "on");
        assert_eq!(normalize("a, 'b'", None, "string"), "a,b");
        assert_eq!(fix_spelling("32mb"), "32MB");
        assert_eq!(fix_spelling("64kb"), "64kB");
        assert_eq!(fix_spelling("True"), "on");
    }

    #[test]
    fn lists_are_quoted_item_by_item() {
        assert_eq!(
            alter_sql("shared_preload_libraries", Some("a, b")),
            "ALTER SYSTEM SET \"shared_preload_libraries\" = 'a', 'b'"
        );
        assert_eq!(
            alter_sql("work_mem", None),
            "ALTER SYSTEM RESET \"work_mem\""
        );
    }
}

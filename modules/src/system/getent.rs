//! `getent`: reads a name service database and returns it as the fact `getent_<database>`
//! (`{key: [fields…]}`, a list of such lists for repeated keys), as ansible-core does.

use async_trait::async_trait;
use drover_core::connection::shell_quote;
use drover_core::module::{DefinedVars, ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use drover_core::template::Templar;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::params::{de_bool, de_opt_string, de_string};

/// Parameters of `getent`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct GetentParams {
    /// Database (`passwd`, `group`, `hosts`, `services`, …).
    #[serde(deserialize_with = "de_string")]
    pub database: String,
    /// Key to look up (default: the whole database).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub key: Option<String>,
    /// Field separator (default `:` for passwd/shadow/group/gshadow, whitespace otherwise).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub split: Option<String>,
    /// Fail when the key is missing.
    #[serde(default = "yes", deserialize_with = "de_bool")]
    #[param(default = "true")]
    pub fail_key: bool,
    /// `getent -s` service.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub service: Option<String>,
}

fn yes() -> bool {
    true
}

/// The `getent` module.
pub struct Getent;

/// Builds `{key: fields}` from getent output.
fn parse_records(out: &str, split: Option<&str>) -> Map<String, Value> {
    let mut results = Map::new();
    let mut seen: std::collections::HashMap<String, usize> = Default::default();
    for line in out.lines().filter(|l| !l.is_empty()) {
        let record: Vec<&str> = match split {
            Some(sep) => line.split(sep).collect(),
            None => line.split_whitespace().collect(),
        };
        let Some((key, rest)) = record.split_first() else {
            continue;
        };
        let fields = Value::Array(rest.iter().map(|f| Value::from(*f)).collect());
        let count = seen.entry(key.to_string()).or_insert(0);
        *count += 1;
        match (results.get_mut(*key), *count) {
            (Some(prev), 2) => {
                *prev = Value::Array(vec![prev.clone(), fields]);
            }
            (Some(Value::Array(list)), _) => list.push(fields),
            _ => {
                results.insert(key.to_string(), fields);
            }
        }
    }
    results
}

#[async_trait]
impl TypedModule for Getent {
    const NAME: &'static str = "getent";
    type Params = GetentParams;

    /// The fact `getent_<database>`; a templated database is only known at run time.
    fn defines_vars(&self, args: &Value) -> DefinedVars {
        match args.get("database").and_then(Value::as_str) {
            Some(db) if !Templar::is_template(db) => {
                DefinedVars::Names(vec![format!("getent_{db}")])
            }
            _ => DefinedVars::Dynamic,
        }
    }

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: GetentParams,
    ) -> Result<ModuleResult, ModuleError> {
        let mut cmd = String::from("getent");
        if let Some(s) = &p.service {
            cmd.push_str(&format!(" -s {}", shell_quote(s)));
        }
        cmd.push_str(&format!(" {}", shell_quote(&p.database)));
        if let Some(k) = &p.key {
            cmd.push_str(&format!(" {}", shell_quote(k)));
        }
        let out = ctx.conn.run(format!("{cmd} 2>&1")).await?;
        let split = match (&p.split, p.database.as_str()) {
            (Some(s), _) => Some(s.as_str()),
            (None, "passwd" | "shadow" | "group" | "gshadow") => Some(":"),
            _ => None,
        };
        let text = out.stdout_str();
        let msg = match out.rc {
            0 => None,
            1 => Some("Missing arguments, or database unknown."),
            2 if p.fail_key => Some("One or more supplied key could not be found in the database."),
            2 => None,
            3 => Some("Enumeration not supported on this database."),
            _ => Some("Unexpected failure!"),
        };
        if let Some(msg) = msg {
            return Ok(ModuleResult::failed(msg).with("rc", out.rc));
        }
        let records = if out.rc == 0 {
            parse_records(&text, split)
        } else {
            let mut m = Map::new();
            if let Some(k) = &p.key {
                m.insert(k.clone(), Value::Null);
            }
            m
        };
        let mut result =
            ModuleResult::ok().with_fact(&format!("getent_{}", p.database), Value::Object(records));
        if out.rc == 2 {
            result =
                result.with_msg("One or more supplied key could not be found in the database.");
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_like_ansible() {
        let r = parse_records("root:x:0:0:root:/root:/bin/bash\n", Some(":"));
        assert_eq!(r["root"][4], "/root");
        let r = parse_records("127.0.0.1 localhost\n127.0.0.1 other name\n", None);
        assert_eq!(
            r["127.0.0.1"],
            serde_json::json!([["localhost"], ["other", "name"]])
        );
    }

    #[test]
    fn defines_the_database_fact() {
        use drover_core::module::Module;
        assert_eq!(
            Getent.defined_vars(&serde_json::json!({"database": "passwd", "key": "root"})),
            DefinedVars::Names(vec!["getent_passwd".into()])
        );
        assert_eq!(
            Getent.defined_vars(&serde_json::json!({"database": "{{ db }}"})),
            DefinedVars::Dynamic
        );
    }
}

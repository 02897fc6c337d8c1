//! `set_fact`: sets host variables from the task's arguments.

use async_trait::async_trait;
use drover_core::module::{Module, ModuleContext, ModuleError, ModuleResult};
use drover_core::params::ArgError;
use drover_core::probe::ProbeRequest;
use drover_core::vars::Vars;
use serde_json::{Map, Value};

use crate::params::parse_bool;

/// The `set_fact` module. Every argument except `cacheable` becomes a fact.
pub struct SetFact;

/// True for a valid variable name: a letter or `_`, then letters, digits and `_`.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn bad(message: String) -> ModuleError {
    ModuleError::BadArgs {
        module: "set_fact".into(),
        message,
    }
}

fn invalid_name(name: &str) -> String {
    format!(
        "The variable name '{name}' is not valid. Variables must start with a letter or underscore \
         character, and contain only letters, numbers and underscores."
    )
}

#[async_trait]
impl Module for SetFact {
    fn name(&self) -> &'static str {
        "set_fact"
    }

    fn check_args(&self, args: &Map<String, Value>) -> Result<(), ArgError> {
        let facts: Vec<&String> = args.keys().filter(|k| *k != "cacheable").collect();
        if facts.is_empty() {
            return Err(ArgError::invalid(
                "set_fact",
                None,
                "no key/value pairs provided, at least one is required",
            ));
        }
        for k in facts {
            if !drover_core::template::Templar::is_template(k) && !is_identifier(k) {
                return Err(ArgError::invalid(
                    "set_fact",
                    None,
                    format!("{}", invalid_name(k)),
                ));
            }
        }
        Ok(())
    }

    fn controller_only(&self) -> bool {
        true
    }

    fn planned_probes(&self, _args: &Value, _diff: bool) -> Option<Vec<ProbeRequest>> {
        Some(Vec::new())
    }

    async fn run(
        &self,
        _ctx: &ModuleContext<'_>,
        args: &Value,
    ) -> Result<ModuleResult, ModuleError> {
        let Some(map) = args.as_object() else {
            return Err(bad("expected key/value pairs".into()));
        };
        let mut facts = Vars::new();
        for (k, v) in map {
            if k == "cacheable" {
                if parse_bool(v).is_none() {
                    return Err(bad(format!("cacheable: expected a boolean, got {v}")));
                }
                continue;
            }
            if !is_identifier(k) {
                return Err(bad(invalid_name(k)));
            }
            facts.insert(k.clone(), v.clone());
        }
        if facts.is_empty() {
            return Err(bad(
                "No key/value pairs provided, at least one is required for this action to succeed"
                    .into(),
            ));
        }
        let mut r = ModuleResult::ok();
        r.ansible_facts = Some(facts);
        Ok(r)
    }
}

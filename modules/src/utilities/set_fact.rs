//! `set_fact`: sets host variables from the task's arguments.

use async_trait::async_trait;
use drover_core::module::{DefinedVars, ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::{ArgError, ModuleParams};
use drover_core::probe::ProbeRequest;
use drover_core::vars::Vars;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::params::{de_bool, parse_bool};

/// Parameters of `set_fact`: every key except `cacheable` names a fact to set.
#[derive(Debug, Deserialize, ModuleParams)]
#[params(open)]
pub struct SetFactParams {
    /// Also store the facts in the fact cache (accepted; drover keeps no fact cache).
    #[serde(default, deserialize_with = "de_bool")]
    pub cacheable: bool,
    /// The facts to set, by name, in the order given.
    #[serde(skip)]
    pub facts: Vars,
}

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
impl TypedModule for SetFact {
    const NAME: &'static str = "set_fact";
    const CONTROLLER_ONLY: bool = true;
    type Params = SetFactParams;

    fn check_more(&self, args: &Map<String, Value>) -> Result<(), ArgError> {
        let facts: Vec<&String> = args.keys().filter(|k| *k != "cacheable").collect();
        if facts.is_empty() {
            return Err(ArgError::invalid(
                Self::NAME,
                None,
                "no key/value pairs provided, at least one is required",
            ));
        }
        for k in facts {
            if !drover_core::template::Templar::is_template(k) && !is_identifier(k) {
                return Err(ArgError::invalid(Self::NAME, Some(k), invalid_name(k)));
            }
        }
        Ok(())
    }

    fn probes(&self, _args: &Value, _diff: bool) -> Option<Vec<ProbeRequest>> {
        Some(Vec::new())
    }

    fn defines_vars(&self, args: &Value) -> DefinedVars {
        let Some(map) = args.as_object() else {
            return DefinedVars::Dynamic;
        };
        let names: Vec<String> = map.keys().filter(|k| *k != "cacheable").cloned().collect();
        if names
            .iter()
            .any(|k| drover_core::template::Templar::is_template(k) || k == "_raw_params")
        {
            return DefinedVars::Dynamic;
        }
        DefinedVars::Names(names)
    }

    fn params_from(&self, args: &Value) -> Result<SetFactParams, ModuleError> {
        let Some(map) = args.as_object() else {
            return Err(bad("expected key/value pairs".into()));
        };
        let mut cacheable = false;
        let mut facts = Vars::new();
        for (k, v) in map {
            if k == "cacheable" {
                cacheable = parse_bool(v)
                    .ok_or_else(|| bad(format!("cacheable: expected a boolean, got {v}")))?;
                continue;
            }
            if !is_identifier(k) {
                return Err(bad(invalid_name(k)));
            }
            facts.insert(k.clone(), v.clone());
        }
        Ok(SetFactParams { cacheable, facts })
    }

    async fn run_with(
        &self,
        _ctx: &ModuleContext<'_>,
        p: SetFactParams,
    ) -> Result<ModuleResult, ModuleError> {
        if p.facts.is_empty() {
            return Err(bad(
                "No key/value pairs provided, at least one is required for this action to succeed"
                    .into(),
            ));
        }
        let mut r = ModuleResult::ok();
        r.ansible_facts = Some(p.facts);
        Ok(r)
    }
}

//! `assert`: evaluates conditions and fails on the first false one.

use async_trait::async_trait;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use drover_core::probe::ProbeRequest;
use serde::Deserialize;
use serde_json::Value;

use crate::params::de_bool;

/// Parameters of `assert`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct AssertParams {
    /// Conditions (a string or a list), as in `when`.
    #[param(kind = "list")]
    pub that: Value,
    /// Message when an assertion fails (string or list).
    #[serde(default, alias = "msg")]
    pub fail_msg: Option<Value>,
    /// Message when all pass.
    #[serde(default)]
    pub success_msg: Option<Value>,
    /// Less output on success.
    #[serde(default, deserialize_with = "de_bool")]
    pub quiet: bool,
}

/// The `assert` module.
pub struct Assert;

fn message(value: Option<Value>, default: &str) -> Value {
    match value {
        None | Some(Value::Null) => Value::String(default.into()),
        Some(v) => v,
    }
}

fn with_message(mut r: ModuleResult, msg: Value) -> ModuleResult {
    match msg {
        Value::String(s) => r.msg = Some(s),
        other => {
            r.data.insert("msg".into(), other);
        }
    }
    r
}

#[async_trait]
impl TypedModule for Assert {
    const NAME: &'static str = "assert";
    const CONTROLLER_ONLY: bool = true;
    type Params = AssertParams;

    fn probes(&self, _args: &Value, _diff: bool) -> Option<Vec<ProbeRequest>> {
        Some(Vec::new())
    }

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: AssertParams,
    ) -> Result<ModuleResult, ModuleError> {
        let conditions = match p.that {
            Value::Array(items) => items,
            Value::Null => {
                return Err(ModuleError::BadArgs {
                    module: "assert".into(),
                    message: "missing required parameter `that`".into(),
                })
            }
            single => vec![single],
        };
        for cond in conditions {
            let (text, ok) = match &cond {
                Value::Bool(b) => (cond.to_string(), *b),
                Value::String(s) => (s.clone(), ctx.controller.eval_condition(s)?),
                other => (other.to_string(), drover_core::vars::is_truthy(other)),
            };
            if !ok {
                let r = ModuleResult::failed("")
                    .with("assertion", text)
                    .with("evaluated_to", false);
                return Ok(with_message(r, message(p.fail_msg, "Assertion failed")));
            }
        }
        let _ = p.quiet;
        Ok(with_message(
            ModuleResult::ok(),
            message(p.success_msg, "All assertions passed"),
        ))
    }
}

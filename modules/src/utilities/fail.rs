//! `fail`: fails the task with a message.

use async_trait::async_trait;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use drover_core::probe::ProbeRequest;
use serde::Deserialize;
use serde_json::Value;

/// Parameters of `fail`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct FailParams {
    /// The failure message (default `Failed as requested from task`).
    #[serde(default)]
    pub msg: Option<Value>,
}

/// The `fail` module.
pub struct Fail;

#[async_trait]
impl TypedModule for Fail {
    const NAME: &'static str = "fail";
    const CONTROLLER_ONLY: bool = true;
    type Params = FailParams;

    fn probes(&self, _args: &Value, _diff: bool) -> Option<Vec<ProbeRequest>> {
        Some(Vec::new())
    }

    async fn run_with(
        &self,
        _ctx: &ModuleContext<'_>,
        p: FailParams,
    ) -> Result<ModuleResult, ModuleError> {
        Ok(match p.msg {
            None | Some(Value::Null) => ModuleResult::failed("Failed as requested from task"),
            Some(Value::String(s)) => ModuleResult::failed(s),
            Some(other) => {
                let mut r = ModuleResult::failed(String::new());
                r.msg = None;
                r.with("msg", other)
            }
        })
    }
}

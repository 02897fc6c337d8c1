//! `fail`: fails the task with a message.

use async_trait::async_trait;
use drover_core::module::{
    parse_params, LegacyTypedModule, Module, ModuleContext, ModuleError, ModuleResult,
};
use drover_core::params::ArgError;
use drover_core::probe::ProbeRequest;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::params::check_keys;

/// Parameters of `fail`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailParams {
    /// The failure message (default `Failed as requested from task`).
    #[serde(default)]
    pub msg: Option<Value>,
}

/// The `fail` module.
pub struct Fail;

#[async_trait]
impl Module for Fail {
    fn name(&self) -> &'static str {
        "fail"
    }

    fn check_args(&self, args: &Map<String, Value>) -> Result<(), ArgError> {
        check_keys("fail", args, &["msg"], &[])
    }

    fn controller_only(&self) -> bool {
        true
    }

    fn planned_probes(&self, _args: &Value, _diff: bool) -> Option<Vec<ProbeRequest>> {
        Some(Vec::new())
    }

    async fn run(
        &self,
        ctx: &ModuleContext<'_>,
        args: &Value,
    ) -> Result<ModuleResult, ModuleError> {
        self.run_with(ctx, parse_params(self.name(), args)?).await
    }
}

#[async_trait]
impl LegacyTypedModule for Fail {
    type Params = FailParams;

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

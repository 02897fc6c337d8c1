//! `shell`: runs a command line through a shell (`/bin/sh` unless `executable` says otherwise).
//! As in ansible-core, it is `command` with `_uses_shell` set: it takes `command`'s options
//! except `expand_argument_vars`, which ansible-core's shell action rejects.

use async_trait::async_trait;
use drover_core::module::{
    parse_params, LegacyTypedModule, Module, ModuleContext, ModuleError, ModuleResult,
};
use drover_core::params::ArgError;
use serde_json::{Map, Value};

use super::command::{check_sources, command_spec, CommandParams, COMMAND_KEYS};
use super::run::{guard_probe_requests, run_command};
use crate::params::check_keys;
use crate::remote::probe::ProbeRequest;

/// Parameters of `shell`: those of `command`.
pub type ShellParams = CommandParams;

/// The `command` option `shell` refuses.
const NOT_FOR_SHELL: &str = "expand_argument_vars";

/// Keys `shell` accepts.
pub fn shell_keys() -> Vec<&'static str> {
    COMMAND_KEYS
        .iter()
        .copied()
        .filter(|k| *k != NOT_FOR_SHELL)
        .collect()
}

/// The `shell` module.
pub struct Shell;

#[async_trait]
impl Module for Shell {
    fn name(&self) -> &'static str {
        "shell"
    }

    fn check_args(&self, args: &Map<String, Value>) -> Result<(), ArgError> {
        check_keys("shell", args, &shell_keys(), &[])?;
        check_sources(args).map_err(|m| ArgError::invalid(self.name(), None, m))
    }

    /// The `creates`/`removes` check, when it can be probed; the command itself runs through
    /// the connection.
    fn planned_probes(&self, args: &Value, _diff: bool) -> Option<Vec<ProbeRequest>> {
        let p: ShellParams = parse_params(self.name(), args).ok()?;
        Some(guard_probe_requests(
            p.chdir.as_deref(),
            p.creates.as_deref(),
            p.removes.as_deref(),
        ))
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
impl LegacyTypedModule for Shell {
    type Params = ShellParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        mut p: ShellParams,
    ) -> Result<ModuleResult, ModuleError> {
        if p.expand_argument_vars.is_some() {
            return Ok(ModuleResult::failed(format!(
                "Unsupported parameters for (shell) module: {NOT_FOR_SHELL}"
            )));
        }
        p.uses_shell = true;
        match command_spec(p) {
            Ok(spec) => run_command(ctx, &spec).await,
            Err(msg) => Ok(ModuleResult::failed(msg)),
        }
    }
}

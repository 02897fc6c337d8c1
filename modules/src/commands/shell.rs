//! `shell`: runs a command line through a shell (`/bin/sh` unless `executable` says otherwise).
//! As in ansible-core, it is `command` with `_uses_shell` set: it takes `command`'s options
//! except `expand_argument_vars`, which ansible-core's shell action rejects.

use async_trait::async_trait;
use drover_core::module::{parse_params, ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::{ArgError, ModuleParams};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::command::{check_sources_of, command_spec, guard_probes, CommandOptions, CommandParams};
use super::run::{detached_command, run_command};
use crate::remote::probe::ProbeRequest;
use drover_core::async_job::{AsyncSupport, Detached};

/// Parameters of `shell`: `command`'s options, without `expand_argument_vars` (which
/// ansible-core's shell action refuses).
#[derive(Debug, Deserialize, ModuleParams)]
pub struct ShellParams {
    /// The options shared with `command`.
    #[serde(flatten)]
    pub opts: CommandOptions,
}

impl ShellParams {
    /// The same run as `command`'s parameters, through the shell.
    fn into_command(self) -> CommandParams {
        let mut opts = self.opts;
        opts.uses_shell = true;
        CommandParams {
            opts,
            expand_argument_vars: None,
        }
    }
}

/// The `shell` module.
pub struct Shell;

#[async_trait]
impl TypedModule for Shell {
    const NAME: &'static str = "shell";
    type Params = ShellParams;

    fn check_more(&self, args: &Map<String, Value>) -> Result<(), ArgError> {
        check_sources_of(Self::NAME, args)
    }

    /// The `creates`/`removes` check, when it can be probed; the command itself runs through
    /// the connection.
    fn probes(&self, args: &Value, _diff: bool) -> Option<Vec<ProbeRequest>> {
        let p: ShellParams = parse_params(Self::NAME, args).ok()?;
        Some(guard_probes(&p.opts))
    }

    /// The command line runs detached on the target (see `drover_core::async_job`).
    const ASYNC: AsyncSupport = AsyncSupport::Detached;

    async fn detached_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: ShellParams,
    ) -> Result<Detached, ModuleError> {
        match command_spec(p.into_command()) {
            Ok(spec) => detached_command(ctx, &spec).await,
            Err(msg) => Ok(Detached::Done(ModuleResult::failed(msg))),
        }
    }

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: ShellParams,
    ) -> Result<ModuleResult, ModuleError> {
        match command_spec(p.into_command()) {
            Ok(spec) => run_command(ctx, &spec).await,
            Err(msg) => Ok(ModuleResult::failed(msg)),
        }
    }
}

//! `shell`: runs a command line through a shell (`/bin/sh` unless `executable` says otherwise).

use async_trait::async_trait;
use drover_core::connection::shell_quote;
use drover_core::module::{
    parse_params, Module, ModuleContext, ModuleError, ModuleResult, TypedModule,
};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::run::{guard_probe_requests, run_command, CommandSpec};
use crate::params::{check_keys, de_bool, de_opt_string};
use crate::remote::probe::ProbeRequest;

/// Parameters of `shell`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShellParams {
    /// The free-form shell script.
    #[serde(default, rename = "_raw_params", deserialize_with = "de_opt_string")]
    pub raw_params: Option<String>,
    /// The shell script, as an option.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub cmd: Option<String>,
    /// Directory to run in.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub chdir: Option<String>,
    /// Skip when this path (glob) exists.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub creates: Option<String>,
    /// Skip unless this path (glob) exists.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub removes: Option<String>,
    /// Data for standard input.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub stdin: Option<String>,
    /// Append a newline to `stdin` (default yes).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    pub stdin_add_newline: bool,
    /// Strip trailing newlines from the output (default yes).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    pub strip_empty_ends: bool,
    /// The shell to use (absolute path), default `/bin/sh`.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub executable: Option<String>,
}

fn yes() -> bool {
    true
}

/// Keys `shell` accepts.
pub const SHELL_KEYS: &[&str] = &[
    "_raw_params",
    "cmd",
    "chdir",
    "creates",
    "removes",
    "stdin",
    "stdin_add_newline",
    "strip_empty_ends",
    "executable",
];

/// The `shell` module.
pub struct Shell;

#[async_trait]
impl Module for Shell {
    fn name(&self) -> &'static str {
        "shell"
    }

    fn check_args(&self, args: &Map<String, Value>) -> Result<(), String> {
        check_keys("shell", args, SHELL_KEYS, &[&["_raw_params", "cmd"]])
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
impl TypedModule for Shell {
    type Params = ShellParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: ShellParams,
    ) -> Result<ModuleResult, ModuleError> {
        let script = p
            .raw_params
            .as_deref()
            .or(p.cmd.as_deref())
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| ModuleError::BadArgs {
                module: "shell".into(),
                message: "no command given".into(),
            })?
            .to_string();
        let shell = p.executable.as_deref().unwrap_or("/bin/sh");
        let spec = CommandSpec {
            cmdline: format!("{} -c {}", shell_quote(shell), shell_quote(&script)),
            cmd_value: Value::String(script),
            chdir: p.chdir,
            creates: p.creates,
            removes: p.removes,
            stdin: p.stdin,
            stdin_add_newline: p.stdin_add_newline,
            strip_empty_ends: p.strip_empty_ends,
        };
        run_command(ctx, &spec).await
    }
}

//! `command`: runs a program with arguments, without shell interpretation.

use async_trait::async_trait;
use drover_core::connection::shell_quote;
use drover_core::module::{
    parse_params, Module, ModuleContext, ModuleError, ModuleResult, TypedModule,
};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::run::{guard_probe_requests, run_command, CommandSpec};
use crate::params::{check_keys, de_bool, de_opt_string, de_opt_string_list};
use crate::remote::probe::ProbeRequest;

/// Parameters of `command`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandParams {
    /// The free-form command line (split like a shell would, but never interpreted).
    #[serde(default, rename = "_raw_params", deserialize_with = "de_opt_string")]
    pub raw_params: Option<String>,
    /// The command line, as an option.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub cmd: Option<String>,
    /// The command as a list of arguments.
    #[serde(default, deserialize_with = "de_opt_string_list")]
    pub argv: Option<Vec<String>>,
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
    /// Expand `$VAR`/`${VAR}` and `~` in arguments (default yes).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    pub expand_argument_vars: bool,
    /// Accepted for compatibility; `command` does not use a shell.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub executable: Option<String>,
}

fn yes() -> bool {
    true
}

/// Keys `command` accepts.
pub const COMMAND_KEYS: &[&str] = &[
    "_raw_params",
    "cmd",
    "argv",
    "chdir",
    "creates",
    "removes",
    "stdin",
    "stdin_add_newline",
    "strip_empty_ends",
    "expand_argument_vars",
    "executable",
];

/// The `command` module.
pub struct Command;

#[async_trait]
impl Module for Command {
    fn name(&self) -> &'static str {
        "command"
    }

    fn check_args(&self, args: &Map<String, Value>) -> Result<(), String> {
        check_keys(
            "command",
            args,
            COMMAND_KEYS,
            &[&["_raw_params", "cmd", "argv"]],
        )
    }

    /// The `creates`/`removes` check, when it can be probed; the command itself runs through
    /// the connection.
    fn planned_probes(&self, args: &Value, _diff: bool) -> Option<Vec<ProbeRequest>> {
        let p: CommandParams = parse_params(self.name(), args).ok()?;
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
impl TypedModule for Command {
    type Params = CommandParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: CommandParams,
    ) -> Result<ModuleResult, ModuleError> {
        let argv = command_argv(&p)?;
        let cmdline = argv
            .iter()
            .map(|a| quote_arg(a, p.expand_argument_vars))
            .collect::<Vec<_>>()
            .join(" ");
        let spec = CommandSpec {
            cmdline,
            cmd_value: Value::Array(argv.into_iter().map(Value::String).collect()),
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

fn bad(message: impl Into<String>) -> ModuleError {
    ModuleError::BadArgs {
        module: "command".into(),
        message: message.into(),
    }
}

/// The argument vector from the free form, `cmd` or `argv`.
fn command_argv(p: &CommandParams) -> Result<Vec<String>, ModuleError> {
    let line = p.raw_params.as_deref().or(p.cmd.as_deref()).map(str::trim);
    match (line, &p.argv) {
        (Some(l), Some(_)) if !l.is_empty() => Err(bad(
            "only the command string (free form or `cmd`) or `argv` can be given, not both",
        )),
        (Some(l), _) if !l.is_empty() => {
            let argv = shell_words::split(l)
                .map_err(|e| bad(format!("cannot split command line '{l}': {e}")))?;
            Ok(argv)
        }
        (_, Some(argv)) if !argv.is_empty() => Ok(argv.clone()),
        _ => Err(bad("no command given")),
    }
}

/// Quotes one argument; with `expand`, `$VAR`, `${VAR}` and a leading `~` are left for the target
/// shell to expand (unset variables stay as written, as with Python's `expandvars`).
pub fn quote_arg(arg: &str, expand: bool) -> String {
    if !expand || (!arg.contains('$') && !arg.starts_with('~')) {
        return shell_quote(arg);
    }
    let mut out = String::new();
    let mut rest = arg;
    if arg.starts_with('~') {
        let end = arg.find('/').unwrap_or(arg.len());
        let user = &arg[1..end];
        if user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        {
            out.push_str(&arg[..end]);
            rest = &arg[end..];
            if let Some(tail) = rest.strip_prefix('/') {
                out.push('/');
                rest = tail;
            }
            if rest.is_empty() {
                return out;
            }
        }
    }
    out.push('"');
    let chars: Vec<char> = rest.chars().collect();
    let mut i = 0;
    let is_name_start = |c: char| c.is_ascii_alphabetic() || c == '_';
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    while i < chars.len() {
        let c = chars[i];
        if c == '$' {
            if i + 1 < chars.len() && is_name_start(chars[i + 1]) {
                let mut j = i + 1;
                while j < chars.len() && is_name(chars[j]) {
                    j += 1;
                }
                let name: String = chars[i + 1..j].iter().collect();
                out.push_str(&format!("${{{name}-\\${name}}}"));
                i = j;
                continue;
            }
            if i + 1 < chars.len() && chars[i + 1] == '{' {
                if let Some(close) = chars[i + 2..].iter().position(|c| *c == '}') {
                    let name: String = chars[i + 2..i + 2 + close].iter().collect();
                    if !name.is_empty()
                        && name.chars().next().is_some_and(is_name_start)
                        && name.chars().all(is_name)
                    {
                        out.push_str(&format!("${{{name}-\\${{{name}\\}}}}"));
                        i += 3 + close;
                        continue;
                    }
                }
            }
        }
        if matches!(c, '$' | '`' | '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
        i += 1;
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_args_are_single_quoted() {
        assert_eq!(quote_arg("a b", true), "'a b'");
        assert_eq!(quote_arg("$HOME", false), "'$HOME'");
    }

    #[test]
    fn variables_stay_expandable() {
        assert_eq!(quote_arg("$HOME/x", true), "\"${HOME-\\$HOME}/x\"");
        assert_eq!(quote_arg("${A}b", true), "\"${A-\\${A\\}}b\"");
        assert_eq!(quote_arg("~/a\"b", true), "~/\"a\\\"b\"");
        assert_eq!(quote_arg("cost $5", true), "\"cost \\$5\"");
    }

    #[test]
    fn argv_sources_are_exclusive() {
        let p: CommandParams = parse_params(
            "command",
            &serde_json::json!({"_raw_params": "echo hi", "argv": ["echo"]}),
        )
        .unwrap();
        assert!(command_argv(&p).is_err());
        let p: CommandParams =
            parse_params("command", &serde_json::json!({"cmd": "echo 'a b'"})).unwrap();
        assert_eq!(command_argv(&p).unwrap(), vec!["echo", "a b"]);
    }
}

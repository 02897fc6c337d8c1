//! `command`: runs a program with arguments, without shell interpretation.

use async_trait::async_trait;
use drover_core::connection::shell_quote;
use drover_core::module::{parse_params, ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::{ArgError, ModuleParams};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::run::{detached_command, guard_probe_requests, run_command, CommandSpec};
use crate::params::{de_bool, de_opt_bool, de_opt_string, de_opt_string_list};
use crate::remote::probe::ProbeRequest;
use drover_core::async_job::{AsyncSupport, Detached};

/// The options `command` and `shell` share (ansible-core's shell action runs `command` with
/// `_uses_shell`).
#[derive(Debug, Deserialize, ModuleParams)]
pub struct CommandOptions {
    /// The free-form command line (split like a shell would, but never interpreted).
    #[serde(default, rename = "_raw_params", deserialize_with = "de_opt_string")]
    pub raw_params: Option<String>,
    /// Run the command line through a shell (what `shell` sets).
    #[serde(default, rename = "_uses_shell", deserialize_with = "de_bool")]
    pub uses_shell: bool,
    /// The command line, as an option.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub cmd: Option<String>,
    /// The command as a list of arguments (quoted and joined when run through a shell).
    #[serde(default, deserialize_with = "de_opt_string_list")]
    pub argv: Option<Vec<String>>,
    /// Directory to run in.
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(kind = "path")]
    pub chdir: Option<String>,
    /// Skip when this path (glob) exists.
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(kind = "path")]
    pub creates: Option<String>,
    /// Skip unless this path (glob) exists.
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(kind = "path")]
    pub removes: Option<String>,
    /// Data for standard input.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub stdin: Option<String>,
    /// Append a newline to `stdin`.
    #[serde(default = "yes", deserialize_with = "de_bool")]
    #[param(default = "true")]
    pub stdin_add_newline: bool,
    /// Strip trailing newlines from the output.
    #[serde(default = "yes", deserialize_with = "de_bool")]
    #[param(default = "true")]
    pub strip_empty_ends: bool,
    /// The shell to use with `_uses_shell` (default `/bin/sh`); ignored otherwise, as in
    /// ansible-core.
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(kind = "path")]
    pub executable: Option<String>,
}

/// Parameters of `command`: the shared options and `expand_argument_vars`.
#[derive(Debug, Deserialize, ModuleParams)]
pub struct CommandParams {
    /// The options `shell` shares.
    #[serde(flatten)]
    pub opts: CommandOptions,
    /// Expand `$VAR`/`${VAR}` and `~` in arguments (`command` only).
    #[serde(default, deserialize_with = "de_opt_bool")]
    #[param(default = "true")]
    pub expand_argument_vars: Option<bool>,
}

fn yes() -> bool {
    true
}

/// The keys naming the command: ansible-core's argument spec requires exactly one of them.
const SOURCES: [&str; 3] = ["_raw_params", "cmd", "argv"];

/// Checks the command's source keys as ansible-core's argument spec does (`required_one_of` and
/// `mutually_exclusive` over `_raw_params`, `cmd`, `argv`), with its messages. A null value, or an
/// empty free form, counts as absent.
pub fn check_sources(args: &Map<String, Value>) -> Result<(), String> {
    source_problem(args).map_or(Ok(()), |(_, message)| Err(message))
}

/// What [`check_sources`] finds wrong, with the key it is about (the second source given).
fn source_problem(args: &Map<String, Value>) -> Option<(Option<&'static str>, String)> {
    let given: Vec<&'static str> = SOURCES
        .into_iter()
        .filter(|k| match args.get(*k) {
            None | Some(Value::Null) => false,
            Some(Value::String(s)) => !(s.is_empty() && *k == "_raw_params"),
            Some(_) => true,
        })
        .collect();
    match given.len() {
        0 => Some((
            None,
            "one of the following is required: _raw_params, cmd, argv".into(),
        )),
        1 => None,
        _ => Some((
            given.get(1).copied(),
            "parameters are mutually exclusive: _raw_params|cmd|argv".into(),
        )),
    }
}

/// [`check_sources`] as the argument check of `module`.
pub fn check_sources_of(module: &str, args: &Map<String, Value>) -> Result<(), ArgError> {
    match source_problem(args) {
        None => Ok(()),
        Some((key, message)) => Err(ArgError::invalid(module, key, message)),
    }
}

/// The `command` module.
pub struct Command;

#[async_trait]
impl TypedModule for Command {
    const NAME: &'static str = "command";
    type Params = CommandParams;

    fn check_more(&self, args: &Map<String, Value>) -> Result<(), ArgError> {
        check_sources_of(Self::NAME, args)
    }

    /// The `creates`/`removes` check, when it can be probed; the command itself runs through
    /// the connection.
    fn probes(&self, args: &Value, _diff: bool) -> Option<Vec<ProbeRequest>> {
        let p: CommandParams = parse_params(Self::NAME, args).ok()?;
        Some(guard_probes(&p.opts))
    }

    /// The command runs detached on the target (see `drover_core::async_job`).
    const ASYNC: AsyncSupport = AsyncSupport::Detached;

    async fn detached_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: CommandParams,
    ) -> Result<Detached, ModuleError> {
        match command_spec(p) {
            Ok(spec) => detached_command(ctx, &spec).await,
            Err(msg) => Ok(Detached::Done(ModuleResult::failed(msg))),
        }
    }

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: CommandParams,
    ) -> Result<ModuleResult, ModuleError> {
        let warning = executable_warning(&p);
        let mut r = match command_spec(p) {
            Ok(spec) => run_command(ctx, &spec).await?,
            Err(msg) => ModuleResult::failed(msg),
        };
        if let Some(w) = warning {
            r = r.with("warnings", vec![w]);
        }
        Ok(r)
    }
}

/// The probes of the `chdir`/`creates`/`removes` guard.
pub fn guard_probes(opts: &CommandOptions) -> Vec<ProbeRequest> {
    guard_probe_requests(
        opts.chdir.as_deref(),
        opts.creates.as_deref(),
        opts.removes.as_deref(),
    )
}

/// ansible-core's warning for an `executable` given to `command` (which ignores it), with its
/// text.
pub fn executable_warning(p: &CommandParams) -> Option<String> {
    match &p.opts.executable {
        Some(exe) if !p.opts.uses_shell && !exe.is_empty() => Some(format!(
            "As of Ansible 2.4, the parameter 'executable' is no longer supported with the \
             'command' module. Not using '{exe}'."
        )),
        _ => None,
    }
}

/// What runs: the command line for the target shell and what the result reports as `cmd`, as
/// ansible-core's command module builds them (its failure message for invalid arguments).
pub fn command_spec(p: CommandParams) -> Result<CommandSpec, String> {
    let expand = p.expand_argument_vars.unwrap_or(true);
    let p = p.opts;
    let mut sources = Map::new();
    if let Some(raw) = &p.raw_params {
        sources.insert("_raw_params".into(), raw.as_str().into());
    }
    if let Some(cmd) = &p.cmd {
        sources.insert("cmd".into(), cmd.as_str().into());
    }
    if let Some(argv) = &p.argv {
        sources.insert("argv".into(), argv.clone().into());
    }
    check_sources(&sources)?;
    let shell = p.executable.as_deref().unwrap_or("/bin/sh");
    let mut program = None;
    let (cmdline, cmd_value) = match (p.raw_params.or(p.cmd), p.argv) {
        (Some(script), _) if p.uses_shell => (
            format!("{} -c {}", shell_quote(shell), shell_quote(&script)),
            Value::String(script),
        ),
        (Some(line), _) => {
            let argv = shell_words::split(&line)
                .map_err(|e| format!("cannot split command line '{line}': {e}"))?;
            program = argv.first().map(|a| quote_arg(a, expand));
            quoted(argv, expand)
        }
        (None, Some(argv)) if p.uses_shell => {
            let script: Vec<String> = argv.iter().map(|a| shell_quote(a)).collect();
            (
                format!(
                    "{} -c {}",
                    shell_quote(shell),
                    shell_quote(&script.join(" "))
                ),
                argv.into(),
            )
        }
        (None, Some(argv)) => {
            program = argv.first().map(|a| quote_arg(a, expand));
            quoted(argv, expand)
        }
        (None, None) => {
            return Err("one of the following is required: _raw_params, cmd, argv".into())
        }
    };
    Ok(CommandSpec {
        cmdline,
        cmd_value,
        program,
        chdir: p.chdir,
        creates: p.creates,
        removes: p.removes,
        stdin: p.stdin,
        stdin_add_newline: p.stdin_add_newline,
        strip_empty_ends: p.strip_empty_ends,
    })
}

/// The shell line running `argv` without a shell's interpretation, and the `cmd` it reports.
fn quoted(argv: Vec<String>, expand: bool) -> (String, Value) {
    let cmdline = argv
        .iter()
        .map(|a| quote_arg(a, expand))
        .collect::<Vec<_>>()
        .join(" ");
    (cmdline, argv.into())
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
    use serde_json::json;

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

    fn spec(args: Value) -> Result<CommandSpec, String> {
        command_spec(parse_params("command", &args).unwrap())
    }

    #[test]
    fn sources_are_required_and_exclusive_as_in_ansible_core() {
        let msg = |r: Result<CommandSpec, String>| r.unwrap_err();
        let exclusive = "parameters are mutually exclusive: _raw_params|cmd|argv";
        let required = "one of the following is required: _raw_params, cmd, argv";
        assert_eq!(
            msg(spec(json!({"_raw_params": "echo hi", "argv": ["echo"]}))),
            exclusive
        );
        assert_eq!(
            msg(spec(json!({"_raw_params": "echo hi", "cmd": "echo"}))),
            exclusive
        );
        assert_eq!(msg(spec(json!({"chdir": "/tmp"}))), required);
        assert_eq!(msg(spec(json!({"_raw_params": ""}))), required);
        assert_eq!(check_sources(&Map::new()).unwrap_err(), required);
    }

    #[test]
    fn executable_is_warned_about_with_command_only() {
        let params = |v: Value| parse_params::<CommandParams>("command", &v).unwrap();
        assert_eq!(
            executable_warning(&params(json!({"cmd": "ls", "executable": "/bogus"}))).as_deref(),
            Some(
                "As of Ansible 2.4, the parameter 'executable' is no longer supported with the \
                 'command' module. Not using '/bogus'."
            )
        );
        let shell = json!({"cmd": "ls", "executable": "/bin/bash", "_uses_shell": true});
        assert_eq!(executable_warning(&params(shell)), None);
        assert_eq!(executable_warning(&params(json!({"cmd": "ls"}))), None);
    }

    #[test]
    fn command_lines_are_split_or_run_through_the_shell() {
        let s = spec(json!({"cmd": "echo 'a b'"})).unwrap();
        assert_eq!(s.cmdline, "echo 'a b'");
        assert_eq!(s.cmd_value, json!(["echo", "a b"]));
        let s = spec(json!({"cmd": "echo $HOME", "_uses_shell": true})).unwrap();
        assert_eq!(s.cmdline, "/bin/sh -c 'echo $HOME'");
        assert_eq!(s.cmd_value, json!("echo $HOME"));
        let s = spec(json!({"argv": ["echo", "a b"], "_uses_shell": true})).unwrap();
        assert_eq!(
            s.cmdline,
            format!("/bin/sh -c {}", shell_quote("echo 'a b'"))
        );
        assert_eq!(s.cmd_value, json!(["echo", "a b"]));
    }
}

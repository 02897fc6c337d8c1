//! `docker_container_exec` (community.docker): runs a command in a running container and returns
//! its `stdout`, `stderr` and `rc` (a non-zero `rc` does not fail the task), or with `detach` starts
//! it in the background and returns its `exec_id`. It always reports `changed` (what the command
//! does is unknown). community.docker has no check mode here; drover's predicts the apply: the
//! container is checked (missing, paused or stopped fail as they would) and the task reports
//! `changed` without running the command. The container's state is read and the command run in one round trip.

use async_trait::async_trait;
use drover_core::connection::shell_quote;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::api::{finish, DockerApi, DockerCli, DockerError, ObjectKind};
use crate::params::{de_bool, de_opt_string, de_opt_string_list, de_string};

/// Parameters of `docker_container_exec`.
#[derive(Debug, Deserialize, ModuleParams)]
#[params(
    required_one_of("argv", "command"),
    mutually_exclusive("argv", "command")
)]
pub struct ContainerExecParams {
    /// The container (name or ID) to run the command in.
    #[serde(deserialize_with = "de_string")]
    pub container: String,
    /// The command as a list of arguments (no quoting needed).
    #[serde(default, deserialize_with = "de_opt_string_list")]
    pub argv: Option<Vec<String>>,
    /// The command as one string, split into arguments as a POSIX shell would (no shell runs:
    /// use `/bin/sh -c '…'` for variables, globs and redirections).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub command: Option<String>,
    /// The directory to run the command in.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub chdir: Option<String>,
    /// Start the command in the background and return its `exec_id` instead of its output.
    #[serde(default, deserialize_with = "de_bool")]
    pub detach: bool,
    /// The user (name or `UID[:GID]`) to run the command as.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub user: Option<String>,
    /// Text given to the command on its standard input (not with `detach`).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub stdin: Option<String>,
    /// Append a newline to `stdin`.
    #[serde(default = "yes", deserialize_with = "de_bool")]
    #[param(default = "true")]
    pub stdin_add_newline: bool,
    /// Strip trailing newlines from `stdout` and `stderr`.
    #[serde(default = "yes", deserialize_with = "de_bool")]
    #[param(default = "true")]
    pub strip_empty_ends: bool,
    /// Allocate a pseudo-terminal (standard error then arrives in `stdout`).
    #[serde(default, deserialize_with = "de_bool")]
    pub tty: bool,
    /// Environment variables for the command; values must be strings (quote `"true"`, `"1"`).
    #[serde(default)]
    pub env: Option<Map<String, Value>>,
    /// The engine connection options.
    #[serde(flatten)]
    pub api: DockerApi,
}

fn yes() -> bool {
    true
}

/// The `docker_container_exec` module.
pub struct DockerContainerExec;

#[async_trait]
impl TypedModule for DockerContainerExec {
    const NAME: &'static str = "docker_container_exec";
    type Params = ContainerExecParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: ContainerExecParams,
    ) -> Result<ModuleResult, ModuleError> {
        finish(run(ctx, p).await)
    }
}

/// Marker of the state line the script prints before the command's output.
const MARK: &str = "@@drover-exec@@";

/// The command's arguments, from `argv` or `command`.
fn arguments(p: &ContainerExecParams) -> Result<Vec<String>, DockerError> {
    let argv = match (&p.argv, &p.command) {
        (Some(argv), None) => argv.clone(),
        (None, Some(command)) => shell_words::split(command)
            .map_err(|e| DockerError::failed(format!("command: cannot split {command:?}: {e}")))?,
        _ => {
            return Err(DockerError::failed(
                "exactly one of argv and command must be given",
            ))
        }
    };
    if argv.is_empty() {
        return Err(DockerError::failed("the command is empty"));
    }
    Ok(argv)
}

/// The environment as `NAME=value` texts; non-string values are refused as community.docker does.
fn environment(env: &Option<Map<String, Value>>) -> Result<Vec<String>, DockerError> {
    let mut out = Vec::new();
    for (name, value) in env.iter().flatten() {
        let Value::String(s) = value else {
            return Err(DockerError::failed(format!(
                "Non-string value found for env option. Ambiguous env options must be wrapped in \
                 quotes to avoid them being interpreted. Key: {name}"
            )));
        };
        out.push(format!("{name}={s}"));
    }
    Ok(out)
}

/// `docker exec` arguments.
fn exec_args(p: &ContainerExecParams, argv: &[String], env: &[String]) -> Vec<String> {
    let mut a: Vec<String> = vec!["exec".into()];
    if p.stdin.is_some() {
        a.push("--interactive".into());
    }
    if p.tty {
        a.push("--tty".into());
    }
    if p.detach {
        a.push("--detach".into());
    }
    if let Some(user) = p.user.as_deref().filter(|u| !u.is_empty()) {
        a.extend(["--user".into(), user.into()]);
    }
    if let Some(dir) = &p.chdir {
        a.extend(["--workdir".into(), dir.clone()]);
    }
    for e in env {
        a.extend(["--env".into(), e.clone()]);
    }
    a.push("--".into());
    a.push(p.container.clone());
    a.extend(argv.iter().cloned());
    a
}

/// The script: the container's state line (`MARK<inspect rc> <running> <paused> <exec ids>`), then,
/// if it runs, the command (and for `detach` a line with the exec IDs after it started).
fn script(cli: &DockerCli, p: &ContainerExecParams, exec: &[String]) -> String {
    let state = cli.command_line(&[
        "container",
        "inspect",
        "--format",
        "{{.State.Running}} {{.State.Paused}} {{json .ExecIDs}}",
        "--",
        &p.container,
    ]);
    let mut s = format!(
        "st=$({state} 2>&1); r=$?; st=$(printf '%s' \"$st\" | tr '\\n' ' ')\n\
         printf '%s%s %s\\n' '{MARK}' \"$r\" \"$st\"\n\
         [ \"$r\" = 0 ] || exit 0\ncase \"$st\" in \"true false\"*) ;; *) exit 0;; esac\n"
    );
    s.push_str("t0=$(date +%s)\n");
    match &p.stdin {
        Some(text) => {
            let text = if p.stdin_add_newline {
                format!("{text}\n")
            } else {
                text.clone()
            };
            s.push_str(&format!(
                "printf '%s' {} | {}",
                shell_quote(&text),
                cli.command_line(exec)
            ));
        }
        None => s.push_str(&format!("{} </dev/null", cli.command_line(exec))),
    }
    if p.detach {
        let ids = cli.command_line(&[
            "container",
            "inspect",
            "--format",
            "{{json .ExecIDs}}",
            "--",
            &p.container,
        ]);
        s.push_str(&format!(
            "\nr=$?; printf '%s%s\\n' '{MARK}' \"$({ids} 2>/dev/null)\"; exit $r"
        ));
    } else {
        // The seconds the command took, after its standard error: tells the call timeout's
        // status 124 from a command's own.
        s.push_str(&format!(
            "\nr=$?; printf '%s%s' '{MARK}' \"$(( $(date +%s) - t0 ))\" >&2; exit $r"
        ));
    }
    s
}

fn exec_ids(text: &str) -> Vec<String> {
    serde_json::from_str::<Option<Vec<String>>>(text.trim())
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Check mode: the container must be there and running, as for the apply; the command would
/// run, so the task would change.
async fn predict(
    ctx: &ModuleContext<'_>,
    cli: &DockerCli,
    p: &ContainerExecParams,
) -> Result<ModuleResult, DockerError> {
    let Some(c) = cli
        .inspect(ctx.conn, ObjectKind::Container, &p.container)
        .await?
    else {
        return Err(DockerError::failed(format!(
            "Could not find container \"{}\"",
            p.container
        )));
    };
    let state = |key: &str| c["State"][key].as_bool().unwrap_or(false);
    if state("Paused") {
        return Err(DockerError::failed(format!(
            "The container \"{}\" has been paused",
            p.container
        )));
    }
    if !state("Running") {
        return Err(DockerError::failed(format!(
            "The container \"{}\" is not running",
            p.container
        )));
    }
    Ok(ModuleResult::changed(true).with_msg("check mode: the command was not run"))
}

async fn run(ctx: &ModuleContext<'_>, p: ContainerExecParams) -> Result<ModuleResult, DockerError> {
    if p.detach && p.stdin.is_some() {
        return Err(DockerError::failed(
            "If detach=true, stdin cannot be provided.",
        ));
    }
    let argv = arguments(&p)?;
    let env = environment(&p.env)?;
    let cli = DockerCli::new(&p.api)?;
    if ctx.check_mode {
        return predict(ctx, &cli, &p).await;
    }
    let out = ctx
        .conn
        .run(script(&cli, &p, &exec_args(&p, &argv, &env)))
        .await
        .map_err(DockerError::from)?;
    let stdout = out.stdout_str();
    let (state, rest) = stdout
        .strip_prefix(MARK)
        .and_then(|s| s.split_once('\n'))
        .ok_or_else(|| {
            DockerError::failed(format!(
                "docker container inspect {}: unexpected output: {}{}",
                p.container,
                stdout.trim(),
                out.stderr_str().trim()
            ))
        })?;
    let mut words = state.splitn(4, ' ');
    let rc = words.next().unwrap_or_default();
    let running = words.next().unwrap_or_default();
    let paused = words.next().unwrap_or_default();
    let ids_before = exec_ids(words.next().unwrap_or_default());
    if rc != "0" {
        let msg = state.split_once(' ').map_or("", |(_, m)| m).trim();
        let lower = msg.to_ascii_lowercase();
        if (lower.contains("no such") || lower.contains("not found")) && rc != "127" {
            return Err(DockerError::failed(format!(
                "Could not find container \"{}\"",
                p.container
            )));
        }
        return Err(DockerError::failed(format!(
            "docker container inspect {}: {msg}",
            p.container
        )));
    }
    if paused == "true" {
        return Err(DockerError::failed(format!(
            "The container \"{}\" has been paused",
            p.container
        )));
    }
    if running != "true" {
        return Err(DockerError::failed(format!(
            "The container \"{}\" is not running",
            p.container
        )));
    }
    let full_stderr = out.stderr_str();
    let (stderr, elapsed) = match full_stderr.rsplit_once(MARK) {
        Some((text, secs)) if !p.detach => (text.to_string(), secs.trim().parse::<u64>().ok()),
        _ => (full_stderr.clone(), None),
    };
    let limit = p.api.timeout.unwrap_or(60);
    if out.rc == 124 && elapsed.is_none_or(|e| e >= limit) {
        return Err(DockerError::failed(format!(
            "docker exec {}: timed out after {limit} s (the timeout option)",
            p.container,
        )));
    }
    if p.detach {
        let (_, after) = rest.rsplit_once(MARK).unwrap_or(("", ""));
        if out.rc != 0 {
            return Err(DockerError::failed(format!(
                "docker exec {}: {}",
                p.container,
                out.stderr_str().trim()
            )));
        }
        let new_id = exec_ids(after)
            .into_iter()
            .find(|id| !ids_before.contains(id));
        return Ok(
            ModuleResult::changed(true).with("exec_id", new_id.map_or(Value::Null, Value::from))
        );
    }
    let mut stdout = rest.to_string();
    let mut stderr = stderr;
    if p.strip_empty_ends {
        stdout = stdout.trim_end_matches(['\r', '\n']).to_string();
        stderr = stderr.trim_end_matches(['\r', '\n']).to_string();
    }
    Ok(ModuleResult::changed(true)
        .with("stdout", stdout)
        .with("stderr", stderr)
        .with("rc", out.rc))
}

/// The environment given as a sorted map, for tests.
#[cfg(test)]
fn env_map(v: Value) -> std::collections::BTreeMap<String, String> {
    let env: Option<Map<String, Value>> = serde_json::from_value(v).unwrap();
    environment(&env)
        .unwrap()
        .into_iter()
        .filter_map(|e| e.split_once('=').map(|(a, b)| (a.into(), b.into())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(v: Value) -> ContainerExecParams {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn commands_are_split_and_flags_follow_the_options() {
        let p = params(serde_json::json!({
            "container": "c", "command": "sh -c 'echo $HOME'", "user": "nobody",
            "chdir": "/tmp", "stdin": "x",
        }));
        let argv = arguments(&p).unwrap();
        assert_eq!(argv, vec!["sh", "-c", "echo $HOME"]);
        assert_eq!(
            exec_args(&p, &argv, &["A=1".into()]).join(" "),
            "exec --interactive --user nobody --workdir /tmp --env A=1 -- c sh -c echo $HOME"
        );
        assert!(arguments(&params(
            serde_json::json!({"container": "c", "command": "  "})
        ))
        .is_err());
    }

    #[test]
    fn env_values_must_be_strings() {
        assert_eq!(
            env_map(serde_json::json!({"A": "1"})).get("A").unwrap(),
            "1"
        );
        let env: Option<Map<String, Value>> =
            serde_json::from_value(serde_json::json!({"A": true})).unwrap();
        assert!(environment(&env).is_err());
    }
}

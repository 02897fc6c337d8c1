//! The `docker` transport (community.docker's `docker` connection): runs every command inside a
//! running container with `docker exec`.
//!
//! Each operation is one `docker exec [-i] [-u USER] [-e K=V]… [-w DIR] [--privileged] CONTAINER
//! /bin/sh -c LINE`, where `LINE` is the same shell line every transport runs (working directory,
//! environment and become wrapping applied), so `become: true` inside the container works as on
//! any host (sudo/su must exist in the image). Uploads feed the file to `cat > tmp` on stdin and
//! downloads `cat` it: the container needs nothing but a POSIX shell, no Python.
//!
//! The docker CLI runs on the controller ([`CliRunner::Local`]), or on another inventory host
//! through that host's own connection ([`CliRunner::Via`]): the `docker` commands are then
//! shell lines run over its (pooled) SSH connection, so one connection to a Docker host serves
//! every container on it.

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;

pub use super::cli_runner::CliRunner;
use super::cli_runner::{upload_line, CliError, Input};
use super::exec_shell::SharedShell;
use super::{Become, Connection, ConnectionError, ExecOutput, ExecRequest};

/// Default for how long the container check at connect time may take (community.docker's
/// `container_timeout` default).
pub const DEFAULT_DOCKER_TIMEOUT: Duration = Duration::from_secs(10);

/// Settings of a docker connection (community.docker's `docker` connection options).
#[derive(Debug, Clone)]
pub struct DockerOptions {
    /// The inventory name of the host, for messages.
    pub alias: String,
    /// Container name or id (`remote_addr`: `ansible_docker_host`, `ansible_host`, else the
    /// inventory name).
    pub container: String,
    /// User to run commands as inside the container (`docker exec -u`); the image's default
    /// user when unset.
    pub user: Option<String>,
    /// Docker daemon to talk to (`docker -H`); the CLI's own default (`DOCKER_HOST`, context)
    /// when unset.
    pub docker_host: Option<String>,
    /// Extra arguments put between `docker` and `exec` (`ansible_docker_extra_args`).
    pub extra_args: Vec<String>,
    /// Environment variables set with `docker exec -e` (`ansible_docker_extra_env`).
    pub extra_env: Vec<(String, String)>,
    /// Working directory inside the container (`docker exec -w`).
    pub working_dir: Option<String>,
    /// Run commands with `docker exec --privileged`.
    pub privileged: bool,
    /// How long the container check at connect time may take.
    pub timeout: Duration,
    /// The docker CLI to run (`docker` from `PATH` by default).
    pub docker_command: String,
}

impl DockerOptions {
    /// Options for `container` with every other setting at its default.
    pub fn new(alias: impl Into<String>, container: impl Into<String>) -> Self {
        Self {
            alias: alias.into(),
            container: container.into(),
            user: None,
            docker_host: None,
            extra_args: Vec::new(),
            extra_env: Vec::new(),
            working_dir: None,
            privileged: false,
            timeout: DEFAULT_DOCKER_TIMEOUT,
            docker_command: "docker".into(),
        }
    }

    /// `docker` and the arguments before the subcommand (`-H`, extra args).
    fn global_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(h) = &self.docker_host {
            args.push("-H".to_string());
            args.push(h.clone());
        }
        args.extend(self.extra_args.iter().cloned());
        args
    }

    /// The `docker exec …` arguments running `line` with `/bin/sh -c`.
    fn exec_args(&self, line: &str, interactive: bool) -> Vec<String> {
        let mut args = vec!["exec".to_string()];
        if interactive {
            args.push("-i".into());
        }
        if let Some(u) = &self.user {
            args.push("-u".into());
            args.push(u.clone());
        }
        for (k, v) in &self.extra_env {
            args.push("-e".into());
            args.push(format!("{k}={v}"));
        }
        if let Some(dir) = &self.working_dir {
            args.push("-w".into());
            args.push(dir.clone());
        }
        if self.privileged {
            args.push("--privileged".into());
        }
        args.push(self.container.clone());
        args.push("/bin/sh".into());
        args.push("-c".into());
        args.push(line.to_string());
        args
    }
}

/// Where the docker CLI runs (the shared [`CliRunner`]; kept under its docker name).
pub type DockerRunner = CliRunner;

/// A connection to one container.
pub struct DockerConnection {
    opts: DockerOptions,
    runner: CliRunner,
    shell: SharedShell,
}

impl DockerConnection {
    /// Checks that the container exists and is running, and returns a connection to it. A missing
    /// or stopped container, an unreachable daemon or a missing docker CLI is a
    /// [`ConnectionError::Connect`] naming the container.
    pub async fn connect(opts: DockerOptions, runner: CliRunner) -> Result<Self, ConnectionError> {
        // The long-lived shell needs a local docker CLI process to talk to.
        let shell = SharedShell::new(runner.is_local());
        let conn = Self {
            opts,
            runner,
            shell,
        };
        let check = conn.container_state();
        match tokio::time::timeout(conn.opts.timeout, check).await {
            Ok(Ok(())) => Ok(conn),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(ConnectionError::Timeout {
                host: format!(
                    "{} (docker container '{}')",
                    conn.opts.alias, conn.opts.container
                ),
                seconds: conn.opts.timeout.as_secs(),
            }),
        }
    }

    /// Where the CLI runs, for messages.
    fn where_(&self) -> String {
        self.runner.where_()
    }

    fn connect_error(&self, reason: String) -> ConnectionError {
        ConnectionError::Connect {
            host: self.opts.alias.clone(),
            reason,
        }
    }

    /// `Ok` when the container is running; otherwise why not, as a connect error.
    async fn container_state(&self) -> Result<(), ConnectionError> {
        let args = vec![
            "inspect".to_string(),
            "--type".into(),
            "container".into(),
            "--format".into(),
            "{{.State.Running}} {{.State.Status}}".into(),
            self.opts.container.clone(),
        ];
        let out = self.docker(args, Input::None).await?;
        let container = &self.opts.container;
        if out.rc != 0 {
            let err = out.stderr_str();
            let err = err.trim();
            if err.contains("No such container") || err.contains("No such object") {
                return Err(self.connect_error(format!(
                    "docker container '{container}' not found ({})",
                    self.where_()
                )));
            }
            return Err(self.connect_error(format!(
                "could not inspect docker container '{container}' {}: {err}",
                self.where_()
            )));
        }
        let text = out.stdout_str();
        let mut words = text.split_whitespace();
        match (words.next(), words.next()) {
            (Some("true"), _) => Ok(()),
            (_, status) => Err(self.connect_error(format!(
                "docker container '{container}' is not running (status: {})",
                status.unwrap_or("unknown")
            ))),
        }
    }

    /// Runs the docker CLI with `args` (after the global ones), feeding `stdin`.
    async fn docker(
        &self,
        args: Vec<String>,
        stdin: Input<'_>,
    ) -> Result<ExecOutput, ConnectionError> {
        let mut argv = self.opts.global_args();
        argv.extend(args);
        let program = &self.opts.docker_command;
        match self.runner.run(program, &argv, stdin, false).await {
            Ok(out) => Ok(out),
            Err(CliError::Conn(e)) => Err(e),
            Err(CliError::NotFound(detail)) => Err(self.connect_error(match &self.runner {
                CliRunner::Local => format!(
                    "the docker CLI ('{program}') was not found in PATH on the controller; the \
                     docker connection runs it to reach container '{}'",
                    self.opts.container
                ),
                CliRunner::Via { host, .. } => format!(
                    "the docker CLI ('{program}') was not found on {host}, the Docker host of \
                     container '{}': {detail}",
                    self.opts.container
                ),
            })),
        }
    }

    /// After a failed `docker exec` whose error output looks like docker's own (not the
    /// command's): when the container is gone or stopped, the connection is lost.
    async fn check_after_failure(&self, out: &ExecOutput) -> Result<(), ConnectionError> {
        if out.rc == 0 || !out.stdout.is_empty() {
            return Ok(());
        }
        let err = out.stderr_str();
        let dockerish = err.starts_with("Error response from daemon")
            || err.starts_with("Error: No such container")
            || err.contains("Cannot connect to the Docker daemon");
        if !dockerish {
            return Ok(());
        }
        match self.container_state().await {
            Ok(()) => Ok(()),
            Err(ConnectionError::Connect { reason, .. }) => Err(ConnectionError::Lost {
                host: self.opts.alias.clone(),
                reason,
            }),
            Err(e) => Err(e),
        }
    }

    /// Runs `req` on the long-lived shell when it qualifies and the shell is free; `None` means
    /// "run it with a `docker exec` of its own".
    async fn exec_on_shared_shell(
        &self,
        req: &ExecRequest,
    ) -> Option<Result<ExecOutput, ConnectionError>> {
        let start_args = || {
            let mut argv = self.opts.global_args();
            let mut exec = self.opts.exec_args("", true);
            exec.truncate(exec.len() - 2); // no `-c LINE`: the shell reads its stdin
            argv.extend(exec);
            argv
        };
        match self
            .shell
            .try_run(req, &self.opts.docker_command, start_args)
            .await?
        {
            Ok(out) => Some(Ok(out)),
            Err(reason) => {
                let reason = match self.container_state().await {
                    Err(ConnectionError::Connect { reason, .. }) => reason,
                    _ => format!(
                        "the shell in container '{}' failed: {reason}",
                        self.opts.container
                    ),
                };
                Some(Err(ConnectionError::Lost {
                    host: self.opts.alias.clone(),
                    reason,
                }))
            }
        }
    }
}

#[async_trait]
impl Connection for DockerConnection {
    fn transport(&self) -> &'static str {
        "docker"
    }

    fn has_shared_shell(&self) -> bool {
        self.shell.available()
    }

    async fn close(&self) {
        self.shell.close().await;
    }

    async fn exec(&self, req: &ExecRequest) -> Result<ExecOutput, ConnectionError> {
        if let Some(result) = self.exec_on_shared_shell(req).await {
            return result;
        }
        let input = req.full_stdin();
        let args = self.opts.exec_args(&req.to_shell_line(), input.is_some());
        let stdin = match &input {
            Some(b) => Input::Bytes(b),
            None => Input::None,
        };
        let out = self.docker(args, stdin).await?;
        self.check_after_failure(&out).await?;
        Ok(out)
    }

    async fn put_file(
        &self,
        local_path: &Path,
        remote_path: &str,
        become_: Option<&Become>,
    ) -> Result<(), ConnectionError> {
        let file = std::fs::File::open(local_path).map_err(|source| ConnectionError::Io {
            context: format!("reading {}", local_path.display()),
            source,
        })?;
        let args = self
            .opts
            .exec_args(&upload_line(remote_path, become_), true);
        let out = self.docker(args, Input::File(file)).await?;
        self.check_after_failure(&out).await?;
        if out.rc != 0 {
            return Err(ConnectionError::Io {
                context: format!("writing {remote_path} in container {}", self.opts.container),
                source: std::io::Error::other(out.stderr_str().trim().to_string()),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_arguments_follow_the_options() {
        let mut o = DockerOptions::new("web", "web-1");
        o.user = Some("deploy".into());
        o.docker_host = Some("unix:///run/d.sock".into());
        o.extra_args = vec!["--log-level".into(), "error".into()];
        o.extra_env = vec![("A".into(), "b c".into())];
        o.working_dir = Some("/srv".into());
        o.privileged = true;
        assert_eq!(
            o.global_args(),
            ["-H", "unix:///run/d.sock", "--log-level", "error"]
        );
        assert_eq!(
            o.exec_args("/bin/sh -c 'id'", true),
            [
                "exec",
                "-i",
                "-u",
                "deploy",
                "-e",
                "A=b c",
                "-w",
                "/srv",
                "--privileged",
                "web-1",
                "/bin/sh",
                "-c",
                "/bin/sh -c 'id'"
            ]
        );
        let plain = DockerOptions::new("c", "c");
        assert_eq!(
            plain.exec_args("true", false),
            ["exec", "c", "/bin/sh", "-c", "true"]
        );
    }

    #[tokio::test]
    async fn a_missing_docker_cli_is_a_clear_connect_error() {
        let mut o = DockerOptions::new("box", "box-1");
        o.docker_command = "/nonexistent/docker".into();
        let err = DockerConnection::connect(o, CliRunner::Local)
            .await
            .err()
            .expect("no CLI");
        let text = err.to_string();
        assert!(
            text.contains("docker CLI") && text.contains("box-1"),
            "{text}"
        );
    }
}

//! The `lxc` transport (community.general's `lxc` connection): runs every command inside a
//! running LXC container with `lxc-attach`.
//!
//! Each operation is one `lxc-attach [-P LXCPATH] -n CONTAINER --clear-env -v HOME=/root --
//! /bin/sh -c LINE`, where `LINE` is the same shell line every transport runs (working
//! directory, environment and become wrapping applied), so `become: true` inside the container
//! works as on any host (sudo/su must exist in it). As in community.general the environment of
//! the attaching process is not passed in (`--clear-env`; lxc-attach sets `PATH` and
//! `container=lxc`, drover adds `HOME`), and commands run as root. Uploads feed the file to
//! `cat > tmp` on stdin and downloads `cat` it: the container needs nothing but a POSIX shell.
//!
//! With the LXC tools on the controller, drover's own short scripts (probes, attribute changes)
//! run on one long-lived `lxc-attach … -- /bin/sh` per container (see `connection/exec_shell.rs`).
//!
//! The LXC tools run on the controller ([`CliRunner::Local`]) or on the LXC host reached
//! through its own inventory connection ([`CliRunner::Via`], `ansible_lxc_host`): one SSH
//! connection to the LXC host then serves every container on it.

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;

use super::cli_runner::{upload_line, CliError, CliRunner, Input};
use super::exec_shell::SharedShell;
use super::{Become, Connection, ConnectionError, ExecOutput, ExecRequest};

/// Default for how long the container check at connect time may take.
pub const DEFAULT_LXC_TIMEOUT: Duration = Duration::from_secs(10);

/// Settings of an lxc connection.
#[derive(Debug, Clone)]
pub struct LxcOptions {
    /// The inventory name of the host, for messages.
    pub alias: String,
    /// Container name (`remote_addr`: `ansible_host`, else the inventory name).
    pub container: String,
    /// The LXC path holding the container (`lxc-attach -P`); the LXC tools' default
    /// (`/var/lib/lxc` for root) when unset.
    pub lxc_path: Option<String>,
    /// The shell running each command inside the container (`ansible_lxc_executable`,
    /// `ansible_executable`).
    pub executable: String,
    /// How long the container check at connect time may take.
    pub timeout: Duration,
    /// The `lxc-attach` program.
    pub attach_command: String,
    /// The `lxc-info` program (the container check).
    pub info_command: String,
    /// Where the container name came from, when a missing container may be a misread setting
    /// (an `ansible_lxc_host` meant as an inventory host); added to the "does not exist" message.
    pub name_note: Option<String>,
}

impl LxcOptions {
    /// Options for `container` with every other setting at its default.
    pub fn new(alias: impl Into<String>, container: impl Into<String>) -> Self {
        Self {
            alias: alias.into(),
            container: container.into(),
            lxc_path: None,
            executable: "/bin/sh".into(),
            timeout: DEFAULT_LXC_TIMEOUT,
            attach_command: "lxc-attach".into(),
            info_command: "lxc-info".into(),
            name_note: None,
        }
    }

    /// `[-P LXCPATH] -n CONTAINER`.
    fn target_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(p) = &self.lxc_path {
            args.push("-P".to_string());
            args.push(p.clone());
        }
        args.push("-n".into());
        args.push(self.container.clone());
        args
    }

    /// The `lxc-attach` arguments running `line` with the shell, or (`None`) the shell reading
    /// its stdin.
    fn attach_args(&self, line: Option<&str>) -> Vec<String> {
        let mut args = self.target_args();
        args.extend(["--clear-env", "-v", "HOME=/root", "--"].map(String::from));
        args.push(self.executable.clone());
        if let Some(line) = line {
            args.push("-c".into());
            args.push(line.to_string());
        }
        args
    }
}

/// A connection to one LXC container.
pub struct LxcConnection {
    opts: LxcOptions,
    runner: CliRunner,
    shell: SharedShell,
}

impl LxcConnection {
    /// Checks that the container exists and is running, and returns a connection to it. A
    /// missing or stopped container or missing LXC tools are a [`ConnectionError::Connect`]
    /// naming the container and its LXC host.
    pub async fn connect(opts: LxcOptions, runner: CliRunner) -> Result<Self, ConnectionError> {
        // The long-lived shell needs a local lxc-attach process to talk to.
        let shell = SharedShell::new(runner.is_local());
        let conn = Self {
            opts,
            runner,
            shell,
        };
        match tokio::time::timeout(conn.opts.timeout, conn.container_state()).await {
            Ok(Ok(())) => Ok(conn),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(ConnectionError::Timeout {
                host: format!(
                    "{} (LXC container '{}' on LXC host {})",
                    conn.opts.alias,
                    conn.opts.container,
                    conn.lxc_host()
                ),
                seconds: conn.opts.timeout.as_secs(),
            }),
        }
    }

    /// The LXC host, for messages.
    fn lxc_host(&self) -> String {
        match &self.runner {
            CliRunner::Local => "localhost (the controller)".into(),
            CliRunner::Via { host, .. } => host.clone(),
        }
    }

    /// `lxc path P` or `the default lxc path`, for messages.
    fn lxc_path_text(&self) -> String {
        match &self.opts.lxc_path {
            Some(p) => format!("lxc path {p}"),
            None => "the default lxc path; set ansible_lxc_path if it lives elsewhere".into(),
        }
    }

    fn connect_error(&self, reason: String) -> ConnectionError {
        ConnectionError::Connect {
            host: self.opts.alias.clone(),
            reason,
        }
    }

    /// Runs an LXC tool with `args`, feeding `stdin`.
    async fn lxc(
        &self,
        program: &str,
        args: Vec<String>,
        stdin: Input<'_>,
        light: bool,
    ) -> Result<ExecOutput, ConnectionError> {
        match self.runner.run(program, &args, stdin, light).await {
            Ok(out) => Ok(out),
            Err(CliError::Conn(e)) => Err(e),
            Err(CliError::NotFound(detail)) => Err(self.connect_error(format!(
                "'{program}' was not found {} (the LXC host of container '{}'); the lxc \
                 connection needs the LXC tools there: {detail}",
                self.runner.where_(),
                self.opts.container
            ))),
        }
    }

    /// `Ok` when the container is running; otherwise why not, as a connect error.
    async fn container_state(&self) -> Result<(), ConnectionError> {
        let mut args = self.opts.target_args();
        args.extend(["-s", "-H"].map(String::from));
        let info = self.opts.info_command.clone();
        let out = self.lxc(&info, args, Input::None, true).await?;
        let container = &self.opts.container;
        let host = self.lxc_host();
        if out.rc != 0 {
            let err = out.stderr_str();
            let err = err.trim();
            let hint = match &self.runner {
                CliRunner::Via { become_: None, .. } => {
                    "; if the LXC tools need root there, set ansible_lxc_host_become: true"
                }
                _ => "",
            };
            if err.contains("doesn't exist") {
                return Err(self.connect_error(format!(
                    "LXC container '{container}' does not exist on LXC host {host} ({}){hint}{}",
                    self.lxc_path_text(),
                    self.opts.name_note.as_deref().unwrap_or("")
                )));
            }
            return Err(self.connect_error(format!(
                "could not query LXC container '{container}' on LXC host {host}: {err}{hint}"
            )));
        }
        match out.stdout_str().trim() {
            "RUNNING" => Ok(()),
            state => Err(self.connect_error(format!(
                "container '{container}' is not running on LXC host {host} (state: {})",
                if state.is_empty() { "unknown" } else { state }
            ))),
        }
    }

    /// After a failed `lxc-attach` whose error output is lxc-attach's own (not the command's):
    /// when the container is gone or stopped, the connection is lost.
    async fn check_after_failure(&self, out: &ExecOutput) -> Result<(), ConnectionError> {
        if out.rc == 0 || !out.stdout.is_empty() {
            return Ok(());
        }
        let err = out.stderr_str();
        let attach_failed = err.starts_with("lxc-attach: ")
            && (err.contains("Failed to get init pid") || err.contains("attach context"));
        if !attach_failed {
            return Ok(());
        }
        match self.container_state().await {
            Ok(()) => Err(ConnectionError::Lost {
                host: self.opts.alias.clone(),
                reason: format!(
                    "lxc-attach to container '{}' failed: {}",
                    self.opts.container,
                    err.trim()
                ),
            }),
            Err(ConnectionError::Connect { reason, .. }) => Err(ConnectionError::Lost {
                host: self.opts.alias.clone(),
                reason,
            }),
            Err(e) => Err(e),
        }
    }

    /// Runs `req` on the long-lived shell when it qualifies and the shell is free; `None` means
    /// "run it with an `lxc-attach` of its own".
    async fn exec_on_shared_shell(
        &self,
        req: &ExecRequest,
    ) -> Option<Result<ExecOutput, ConnectionError>> {
        let start_args = || self.opts.attach_args(None);
        match self
            .shell
            .try_run(req, &self.opts.attach_command, start_args)
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
impl Connection for LxcConnection {
    fn transport(&self) -> &'static str {
        "lxc"
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
        let args = self.opts.attach_args(Some(&req.to_shell_line()));
        let input = req.full_stdin();
        let stdin = match &input {
            Some(b) => Input::Bytes(b),
            None => Input::None,
        };
        let light = req.shared_shell;
        let program = self.opts.attach_command.clone();
        let out = self.lxc(&program, args, stdin, light).await?;
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
            .attach_args(Some(&upload_line(remote_path, become_)));
        let program = self.opts.attach_command.clone();
        let out = self.lxc(&program, args, Input::File(file), false).await?;
        self.check_after_failure(&out).await?;
        if out.rc != 0 {
            return Err(ConnectionError::Io {
                context: format!(
                    "writing {remote_path} in LXC container {}",
                    self.opts.container
                ),
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
    fn attach_arguments_follow_the_options() {
        let mut o = LxcOptions::new("web", "web-1");
        assert_eq!(
            o.attach_args(Some("id")),
            [
                "-n",
                "web-1",
                "--clear-env",
                "-v",
                "HOME=/root",
                "--",
                "/bin/sh",
                "-c",
                "id"
            ]
        );
        o.lxc_path = Some("/srv/lxc".into());
        o.executable = "/bin/bash".into();
        assert_eq!(
            o.attach_args(None),
            [
                "-P",
                "/srv/lxc",
                "-n",
                "web-1",
                "--clear-env",
                "-v",
                "HOME=/root",
                "--",
                "/bin/bash"
            ]
        );
    }

    /// An LXC host's connection that records what it is asked to run: `lxc-info` answers
    /// `RUNNING`, anything else echoes its stdin.
    #[derive(Default)]
    struct Recorder(std::sync::Mutex<Vec<ExecRequest>>);

    #[async_trait]
    impl Connection for Recorder {
        fn transport(&self) -> &'static str {
            "ssh"
        }
        async fn exec(&self, req: &ExecRequest) -> Result<ExecOutput, ConnectionError> {
            self.0.lock().unwrap().push(req.clone());
            let stdout = if req.cmdline.starts_with("lxc-info ") {
                b"RUNNING\n".to_vec()
            } else {
                req.stdin.clone().unwrap_or_default()
            };
            Ok(ExecOutput {
                rc: 0,
                stdout,
                stderr: Vec::new(),
            })
        }
    }

    #[tokio::test]
    async fn through_an_lxc_host_every_tool_runs_on_its_connection() {
        let host = std::sync::Arc::new(Recorder::default());
        let runner = CliRunner::Via {
            host: "lxc1".into(),
            conn: host.clone(),
            become_: Some(Become::default()),
        };
        let mut o = LxcOptions::new("web", "web 1");
        o.lxc_path = Some("/srv/lxc".into());
        let conn = LxcConnection::connect(o, runner).await.unwrap();
        assert!(!conn.has_shared_shell());
        let mut probe = ExecRequest::shared_shell("stat /etc");
        probe.env = vec![("A".into(), "b".into())];
        conn.exec(&probe).await.unwrap();
        let mut cmd = ExecRequest::new("cat");
        cmd.stdin = Some(b"data".to_vec());
        assert_eq!(conn.exec(&cmd).await.unwrap().stdout, b"data");
        let seen = host.0.lock().unwrap().clone();
        let lines: Vec<&str> = seen.iter().map(|r| r.cmdline.as_str()).collect();
        let attach = "lxc-attach -P /srv/lxc -n 'web 1' --clear-env -v HOME=/root -- /bin/sh -c";
        assert_eq!(
            lines,
            [
                "lxc-info -P /srv/lxc -n 'web 1' -s -H".to_string(),
                format!(r#"{attach} '/bin/sh -c '\''export A=b; stat /etc'\'''"#),
                format!("{attach} '/bin/sh -c cat'"),
            ]
        );
        // Every run is escalated on the LXC host (ansible_lxc_host_become) and starts in `/`;
        // drover's own short scripts may ride on the host's long-lived shell.
        assert!(seen
            .iter()
            .all(|r| r.become_ == Some(Become::default()) && r.cwd.as_deref() == Some("/")));
        assert_eq!(
            seen.iter().map(|r| r.shared_shell).collect::<Vec<_>>(),
            [true, true, false]
        );
    }

    #[tokio::test]
    async fn missing_lxc_tools_are_a_clear_connect_error() {
        let mut o = LxcOptions::new("box", "box-1");
        o.info_command = "/nonexistent/lxc-info".into();
        let err = LxcConnection::connect(o, CliRunner::Local)
            .await
            .err()
            .expect("no LXC tools");
        let text = err.to_string();
        assert!(
            text.contains("lxc-info") && text.contains("box-1") && text.contains("LXC tools"),
            "{text}"
        );
    }
}

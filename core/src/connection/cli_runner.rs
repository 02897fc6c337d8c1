//! Running a container CLI (`docker`, `lxc-attach`, `lxc-info`) for the container transports:
//! on the controller, or on another inventory host through that host's own connection (the
//! container host reached over SSH), so one connection to a container host serves every
//! container on it.

use std::process::Stdio;
use std::sync::Arc;

use tokio::io::AsyncWriteExt;

use super::local::collect;
use super::{shell_quote, Become, Connection, ConnectionError, ExecOutput, ExecRequest};

/// Where a container transport's CLI runs.
#[derive(Clone)]
pub enum CliRunner {
    /// On the controller.
    Local,
    /// On another inventory host, through its connection.
    Via {
        /// The container host's inventory name, for messages.
        host: String,
        /// Its connection (shared by every container on it).
        conn: Arc<dyn Connection>,
        /// Run the CLI there with `sudo` (the connection's user may not run it directly).
        become_: Option<Become>,
    },
}

/// What a CLI run reads on stdin.
pub(super) enum Input<'a> {
    /// Nothing (`/dev/null`).
    None,
    /// These bytes, then end of file.
    Bytes(&'a [u8]),
    /// A local file, streamed (uploads with the CLI on the controller).
    File(std::fs::File),
}

/// Why a CLI run did not happen.
pub(super) enum CliError {
    /// The program is not installed where it should run; the text says what the system said.
    NotFound(String),
    /// The transport (or spawning the process) failed.
    Conn(ConnectionError),
}

impl CliRunner {
    /// Where the CLI runs, for messages: `on the controller` or `on HOST`.
    pub fn where_(&self) -> String {
        match self {
            CliRunner::Local => "on the controller".into(),
            CliRunner::Via { host, .. } => format!("on {host}"),
        }
    }

    /// True when the CLI runs on the controller (a local process drover can keep open).
    pub fn is_local(&self) -> bool {
        matches!(self, CliRunner::Local)
    }

    /// Runs `program argv…` with `stdin`, in the directory `/`. `light` says the run is a short
    /// script of drover's own reading no stdin: through another host it may then use that
    /// host's long-lived shell (see [`ExecRequest::shared_shell`]).
    pub(super) async fn run(
        &self,
        program: &str,
        argv: &[String],
        stdin: Input<'_>,
        light: bool,
    ) -> Result<ExecOutput, CliError> {
        match self {
            CliRunner::Local => run_local(program, argv, stdin).await,
            CliRunner::Via { conn, become_, .. } => {
                let mut line = shell_quote(program);
                for a in argv {
                    line.push(' ');
                    line.push_str(&shell_quote(a));
                }
                let mut req = if light && matches!(stdin, Input::None) {
                    ExecRequest::shared_shell(line)
                } else {
                    ExecRequest::new(line)
                };
                req.cwd = Some("/".into());
                req.stdin = match stdin {
                    Input::None => None,
                    Input::Bytes(b) => Some(b.to_vec()),
                    Input::File(mut f) => {
                        let mut data = Vec::new();
                        std::io::Read::read_to_end(&mut f, &mut data).map_err(|source| {
                            CliError::Conn(ConnectionError::Io {
                                context: "reading the file to upload".into(),
                                source,
                            })
                        })?;
                        Some(data)
                    }
                };
                req.become_ = become_.clone();
                let out = conn.exec(&req).await.map_err(CliError::Conn)?;
                if out.rc == 127 && out.stdout.is_empty() && out.stderr_str().contains("not found")
                {
                    return Err(CliError::NotFound(out.stderr_str().trim().to_string()));
                }
                Ok(out)
            }
        }
    }
}

async fn run_local(
    program: &str,
    argv: &[String],
    stdin: Input<'_>,
) -> Result<ExecOutput, CliError> {
    let (stdio, data) = match stdin {
        Input::None => (Stdio::null(), None),
        Input::Bytes(b) => (Stdio::piped(), Some(b)),
        Input::File(f) => (Stdio::from(f), None),
    };
    let mut child = tokio::process::Command::new(program)
        .args(argv)
        .current_dir("/")
        .stdin(stdio)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                CliError::NotFound(format!("{program}: {e}"))
            } else {
                CliError::Conn(ConnectionError::Io {
                    context: format!("running {program}"),
                    source: e,
                })
            }
        })?;
    if let Some(data) = data {
        let mut pipe = child.stdin.take().expect("stdin was piped");
        let data = data.to_vec();
        tokio::spawn(async move {
            let _ = pipe.write_all(&data).await;
            let _ = pipe.shutdown().await;
        });
    }
    let (status, stdout, stderr) = collect(&mut child).await.map_err(|source| {
        CliError::Conn(ConnectionError::Io {
            context: format!("waiting for {program}"),
            source,
        })
    })?;
    Ok(ExecOutput {
        rc: status.code().unwrap_or(-1),
        stdout,
        stderr,
    })
}

/// The line uploading stdin to `remote_path` (`cat > PATH`, escalated with `become_`).
pub(super) fn upload_line(remote_path: &str, become_: Option<&Become>) -> String {
    let mut req = ExecRequest::new(format!("cat > {}", shell_quote(remote_path)));
    req.become_ = become_.cloned();
    req.to_shell_line()
}

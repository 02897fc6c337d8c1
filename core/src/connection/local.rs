//! The `local` transport: runs commands on the controller itself.

use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use async_trait::async_trait;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Child;

use super::{Connection, ConnectionError, ExecOutput, ExecRequest};

/// Runs commands on this machine with `/bin/sh`.
#[derive(Debug, Default, Clone)]
pub struct LocalConnection;

impl LocalConnection {
    /// A new local connection.
    pub fn new() -> Self {
        Self
    }
}

#[async_trait]
impl Connection for LocalConnection {
    fn transport(&self) -> &'static str {
        "local"
    }

    async fn exec(&self, req: &ExecRequest) -> Result<ExecOutput, ConnectionError> {
        let io_err = |context: &str, source| ConnectionError::Io {
            context: context.to_string(),
            source,
        };
        let input = req.full_stdin();
        let mut child = tokio::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(req.to_shell_line())
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| io_err("spawning /bin/sh", e))?;
        if let Some(data) = input {
            let mut stdin = child.stdin.take().expect("stdin was piped");
            // Feed stdin concurrently so a command that writes a lot before reading cannot deadlock.
            tokio::spawn(async move {
                let _ = stdin.write_all(&data).await;
                let _ = stdin.shutdown().await;
            });
        }
        let (status, stdout, stderr) = collect(&mut child)
            .await
            .map_err(|e| io_err("waiting for /bin/sh", e))?;
        Ok(ExecOutput {
            rc: status.code().unwrap_or(-1),
            stdout,
            stderr,
        })
    }
}

/// How long output may stay quiet after the shell exited before the pipes are let go (what
/// ansible-core's `run_command` waits in its last `select`).
const DRAIN_IDLE: Duration = Duration::from_secs(1);

/// Waits for the shell and reads its output. A process it started in the background may hold
/// the pipes open long after it exited: once the shell is gone and the pipes are quiet for
/// [`DRAIN_IDLE`], the output is complete (ansible-core's rule), instead of waiting for their end.
pub(super) async fn collect(child: &mut Child) -> std::io::Result<(ExitStatus, Vec<u8>, Vec<u8>)> {
    let mut out_pipe = child.stdout.take().expect("stdout was piped");
    let mut err_pipe = child.stderr.take().expect("stderr was piped");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let (mut out_buf, mut err_buf) = (vec![0u8; 32768], vec![0u8; 32768]);
    let (mut out_open, mut err_open) = (true, true);
    let mut status = None;
    while out_open || err_open {
        tokio::select! {
            n = out_pipe.read(&mut out_buf), if out_open => match n? {
                0 => out_open = false,
                n => out.extend_from_slice(&out_buf[..n]),
            },
            n = err_pipe.read(&mut err_buf), if err_open => match n? {
                0 => err_open = false,
                n => err.extend_from_slice(&err_buf[..n]),
            },
            s = child.wait(), if status.is_none() => status = Some(s?),
            _ = tokio::time::sleep(DRAIN_IDLE), if status.is_some() => break,
        }
    }
    let status = match status {
        Some(s) => s,
        None => child.wait().await?,
    };
    Ok((status, out, err))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_with_stdin_env_and_cwd() {
        let conn = LocalConnection::new();
        let mut req = ExecRequest::new("cat; echo \" $GREETING\"; pwd; exit 3");
        req.stdin = Some(b"hello".to_vec());
        req.env = vec![("GREETING".into(), "hi there".into())];
        req.cwd = Some("/".into());
        let out = conn.exec(&req).await.unwrap();
        assert_eq!(out.rc, 3);
        assert_eq!(out.stdout_str(), "hello hi there\n/\n");
    }

    /// A command leaving a background process that keeps stdout and stderr open returns when
    /// the shell exits (and the pipes are quiet), with the output written so far.
    #[tokio::test]
    async fn background_children_holding_the_pipes_do_not_block() {
        let conn = LocalConnection::new();
        let started = std::time::Instant::now();
        let out = conn
            .exec(&ExecRequest::new(
                "echo before; sleep 5 & echo after; exit 4",
            ))
            .await
            .unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "waited for the child"
        );
        assert_eq!((out.rc, out.stdout_str().as_str()), (4, "before\nafter\n"));
    }

    #[tokio::test]
    async fn binary_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blob");
        let data: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
        let conn = LocalConnection::new();
        conn.put_bytes(&data, path.to_str().unwrap(), None)
            .await
            .unwrap();
        let back = conn.get_bytes(path.to_str().unwrap(), None).await.unwrap();
        assert_eq!(back, data);
    }
}

//! The `local` transport: runs commands on the controller itself.

use std::process::Stdio;

use async_trait::async_trait;
use tokio::io::AsyncWriteExt;

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
        let mut child = tokio::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(req.to_shell_line())
            .stdin(if req.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| io_err("spawning /bin/sh", e))?;
        if let Some(data) = &req.stdin {
            let mut stdin = child.stdin.take().expect("stdin was piped");
            let data = data.clone();
            // Feed stdin concurrently so a command that writes a lot before reading cannot deadlock.
            tokio::spawn(async move {
                let _ = stdin.write_all(&data).await;
                let _ = stdin.shutdown().await;
            });
        }
        let out = child
            .wait_with_output()
            .await
            .map_err(|e| io_err("waiting for /bin/sh", e))?;
        Ok(ExecOutput {
            rc: out.status.code().unwrap_or(-1),
            stdout: out.stdout,
            stderr: out.stderr,
        })
    }
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

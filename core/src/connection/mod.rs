//! Connections to managed hosts.
//!
//! Every module drives its target through a [`Connection`]: run a shell command (with stdin), upload a
//! file, download a file. Transports implement the trait; [`HostConnection`] wraps one with the
//! privilege-escalation ("become") settings of the current task so modules never build `sudo` lines.

mod cli_runner;
mod command;
pub mod docker;
mod exec_shell;
pub mod local;
pub mod lxc;
mod shell_framing;
pub mod ssh;
pub mod ssh_config;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;

use crate::probe::{
    parse_probe, probe_script, ChangeGuard, PathStat, ProbeCache, ProbeIdentity, ProbeRequest,
    ReadAhead,
};

pub use cli_runner::CliRunner;
pub use command::{quote_path, shell_quote, Become, BecomeMethod, ExecRequest};

/// What a finished remote command returned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOutput {
    /// Exit status; `-1` when the command was killed by a signal.
    pub rc: i32,
    /// Raw standard output.
    pub stdout: Vec<u8>,
    /// Raw standard error.
    pub stderr: Vec<u8>,
}

impl ExecOutput {
    /// Standard output as (lossy) UTF-8.
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    /// Standard error as (lossy) UTF-8.
    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
    /// True when the command exited with status 0.
    pub fn success(&self) -> bool {
        self.rc == 0
    }
}

/// Errors a transport reports. Anything here makes the host UNREACHABLE for the task; a command that
/// runs and exits non-zero is not an error (see [`ExecOutput::rc`]).
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// TCP connect, DNS or proxy failure.
    #[error("failed to connect to {host}: {reason}")]
    Connect {
        /// The host (inventory name or address).
        host: String,
        /// What went wrong.
        reason: String,
    },
    /// The connection attempt did not finish in time.
    #[error("timed out connecting to {host} after {seconds}s")]
    Timeout {
        /// The host (inventory name or address).
        host: String,
        /// The timeout.
        seconds: u64,
    },
    /// The server's host key is unknown or changed.
    #[error("host key verification failed for {host}: {reason}")]
    HostKey {
        /// The host (inventory name or address).
        host: String,
        /// What went wrong.
        reason: String,
    },
    /// No offered credential was accepted.
    #[error("authentication failed for {user}@{host}: {reason}")]
    Auth {
        /// The host (inventory name or address).
        host: String,
        /// The remote user.
        user: String,
        /// What went wrong.
        reason: String,
    },
    /// The established connection broke.
    #[error("connection to {host} lost: {reason}")]
    Lost {
        /// The host (inventory name or address).
        host: String,
        /// What went wrong.
        reason: String,
    },
    /// Privilege escalation could not be performed (e.g. sudo wants a password).
    #[error("privilege escalation failed on {host}: {reason}")]
    Become {
        /// The host (inventory name or address).
        host: String,
        /// What went wrong.
        reason: String,
    },
    /// Local I/O error (reading a file to upload, spawning a process, …).
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// A live connection to one host. One value serves the whole run; operations may run concurrently.
///
/// Commands are POSIX shell lines run by `sh -c` on the target. Transfers are implemented with
/// `cat` over stdin/stdout by default, so any transport that can run commands can move files.
#[async_trait]
pub trait Connection: Send + Sync {
    /// Name of the transport (`ssh`, `local`, …), for messages.
    fn transport(&self) -> &'static str;

    /// Runs `req` to completion and returns its exit status and output.
    async fn exec(&self, req: &ExecRequest) -> Result<ExecOutput, ConnectionError>;

    /// Writes `data` to `remote_path` on the target (replacing it). Callers wanting atomic replacement
    /// upload to a temporary name and rename: see [`HostConnection::write_file_atomic`].
    async fn put_bytes(
        &self,
        data: &[u8],
        remote_path: &str,
        become_: Option<&Become>,
    ) -> Result<(), ConnectionError> {
        let mut req = ExecRequest::new(format!("cat > {}", shell_quote(remote_path)));
        req.stdin = Some(data.to_vec());
        req.become_ = become_.cloned();
        let out = self.exec(&req).await?;
        if out.rc != 0 {
            return Err(ConnectionError::Io {
                context: format!("writing {remote_path}"),
                source: std::io::Error::other(out.stderr_str().trim().to_string()),
            });
        }
        Ok(())
    }

    /// Uploads the local file `local_path` to `remote_path`. Transports override this to stream
    /// large files; the default reads the whole file into memory.
    async fn put_file(
        &self,
        local_path: &Path,
        remote_path: &str,
        become_: Option<&Become>,
    ) -> Result<(), ConnectionError> {
        let data = tokio::fs::read(local_path)
            .await
            .map_err(|source| ConnectionError::Io {
                context: format!("reading {}", local_path.display()),
                source,
            })?;
        self.put_bytes(&data, remote_path, become_).await
    }

    /// Reads the whole of `remote_path` from the target.
    async fn get_bytes(
        &self,
        remote_path: &str,
        become_: Option<&Become>,
    ) -> Result<Vec<u8>, ConnectionError> {
        let mut req = ExecRequest::new(format!("cat {}", shell_quote(remote_path)));
        req.become_ = become_.cloned();
        let out = self.exec(&req).await?;
        if out.rc != 0 {
            return Err(ConnectionError::Io {
                context: format!("reading {remote_path}"),
                source: std::io::Error::other(out.stderr_str().trim().to_string()),
            });
        }
        Ok(out.stdout)
    }

    /// Closes the connection. Further operations fail.
    async fn close(&self) {}

    /// True once the transport knows the connection is dead (peer closed it, keepalives failed).
    /// Transports that cannot tell return false.
    fn is_closed(&self) -> bool {
        false
    }

    /// Drops the current session so the next operation opens a fresh one (Ansible's
    /// `reset_connection`). Transports without sessions do nothing.
    async fn reset(&self) {}

    /// True when [`ExecRequest::shared_shell`] scripts run on a long-lived shell, so an extra
    /// short script costs a round trip but no new session on the target.
    fn has_shared_shell(&self) -> bool {
        false
    }

    /// The host's read-ahead cache, when the connection has one (pooled connections of a run do:
    /// see [`crate::probe::ProbeCache`]).
    fn probe_cache(&self) -> Option<Arc<ProbeCache>> {
        None
    }
}

/// A probe that could not be run or understood.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The transport failed.
    #[error(transparent)]
    Connection(#[from] ConnectionError),
    /// The probe ran but failed, or its output made no sense.
    #[error("{0}")]
    Failed(String),
}

/// A connection bound to one host together with the current task's become settings.
///
/// This is what modules see: every command and transfer is escalated as the task asks.
///
/// Commands and uploads count as possible changes to the host (they discard read-ahead probe
/// results, see [`crate::probe::ProbeCache`]); [`HostConnection::probe`] and
/// [`HostConnection::read_file`] only read.
#[derive(Clone)]
pub struct HostConnection {
    inner: Arc<dyn Connection>,
    become_: Option<Become>,
    env: Vec<(String, String)>,
    probe_cache: Option<Arc<ProbeCache>>,
}

impl HostConnection {
    /// Wraps `inner`, escalating with `become_` when set.
    pub fn new(inner: Arc<dyn Connection>, become_: Option<Become>) -> Self {
        let probe_cache = inner.probe_cache();
        Self {
            inner,
            become_,
            env: Vec::new(),
            probe_cache,
        }
    }

    /// Sets environment variables for every command (the task's `environment`).
    pub fn with_env(mut self, env: Vec<(String, String)>) -> Self {
        self.env = env;
        self
    }

    /// The become settings in force, if any.
    pub fn become_settings(&self) -> Option<&Become> {
        self.become_.as_ref()
    }

    /// The underlying transport.
    pub fn transport(&self) -> &'static str {
        self.inner.transport()
    }

    /// True when short scripts of drover's own run on a long-lived shell (see
    /// [`Connection::has_shared_shell`]).
    pub fn has_shared_shell(&self) -> bool {
        self.inner.has_shared_shell()
    }

    /// Runs a shell command line (escalated when become is on).
    pub async fn run(&self, cmdline: impl Into<String>) -> Result<ExecOutput, ConnectionError> {
        self.exec(ExecRequest::new(cmdline)).await
    }

    /// Runs a short script of drover's own that reads no stdin and starts no background
    /// process ([`ExecRequest::shared_shell`]): transports may run it on a long-lived shell.
    pub async fn run_script(
        &self,
        script: impl Into<String>,
    ) -> Result<ExecOutput, ConnectionError> {
        self.exec(ExecRequest::shared_shell(script)).await
    }

    /// Runs a prepared request; the task's become settings apply unless the request has its own.
    pub async fn exec(&self, req: ExecRequest) -> Result<ExecOutput, ConnectionError> {
        let _change = self.changing();
        self.exec_reading(req).await
    }

    /// Marks a possible change to the host for the read-ahead cache until the guard drops.
    fn changing(&self) -> ChangeGuard {
        match &self.probe_cache {
            Some(cache) => cache.changes().changing(),
            None => ChangeGuard::none(),
        }
    }

    fn identity(&self) -> ProbeIdentity {
        ProbeIdentity {
            become_: self.become_.clone(),
            env: self.env.clone(),
        }
    }

    /// Probes `requests` (see [`crate::probe`]) in one round trip — or in none, when the
    /// executor read exactly these requests ahead and nothing has changed since.
    pub async fn probe(&self, requests: &[ProbeRequest]) -> Result<Vec<PathStat>, ProbeError> {
        if let Some(cache) = &self.probe_cache {
            if let Some(stats) = cache.take(&self.identity(), requests) {
                return Ok(stats);
            }
        }
        self.probe_now(requests).await
    }

    async fn probe_now(&self, requests: &[ProbeRequest]) -> Result<Vec<PathStat>, ProbeError> {
        let out = self
            .exec_reading(ExecRequest::shared_shell(probe_script(requests)))
            .await?;
        if out.rc != 0 {
            return Err(ProbeError::Failed(format!(
                "probing {} failed (rc {}): {}",
                requests
                    .iter()
                    .map(|r| r.path.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                out.rc,
                out.stderr_str().trim()
            )));
        }
        parse_probe(requests, &out.stdout).map_err(ProbeError::Failed)
    }

    /// How many tasks, starting with `task`, to read probes ahead for (see
    /// [`ProbeCache::window_for`]); 0 without a read-ahead cache.
    pub fn read_ahead_window(&self, task: usize) -> usize {
        self.probe_cache
            .as_ref()
            .map_or(0, |cache| cache.window_for(task))
    }

    /// Probes what several upcoming tasks will ask for in one round trip and keeps the results
    /// for [`HostConnection::probe`]. Without a read-ahead cache this does nothing; a failed
    /// read-ahead is dropped (each task then probes for itself).
    pub async fn read_ahead(&self, tasks: Vec<ReadAhead>) {
        let Some(cache) = &self.probe_cache else {
            return;
        };
        let count = cache.count();
        let all: Vec<ProbeRequest> = tasks.iter().flat_map(|t| t.requests.clone()).collect();
        match self.probe_now(&all).await {
            Ok(stats) => cache.store(count, &self.identity(), tasks, stats),
            Err(e) => tracing::debug!(error = %e, "read-ahead probe failed"),
        }
    }

    async fn exec_reading(&self, mut req: ExecRequest) -> Result<ExecOutput, ConnectionError> {
        if req.become_.is_none() {
            req.become_ = self.become_.clone();
        }
        if !self.env.is_empty() {
            let mut env = self.env.clone();
            env.append(&mut req.env);
            req.env = env;
        }
        self.inner.exec(&req).await
    }

    /// Drops the underlying session so the next command reconnects (see [`Connection::reset`]).
    pub async fn reset(&self) {
        self.inner.reset().await;
    }

    /// Reads a whole remote file.
    pub async fn read_file(&self, path: &str) -> Result<Vec<u8>, ConnectionError> {
        self.inner.get_bytes(path, self.become_.as_ref()).await
    }

    /// Writes `data` to `path` atomically: it is written to a temporary file in the same directory,
    /// then renamed over `path`, so readers never see a half-written file.
    pub async fn write_file_atomic(&self, data: &[u8], path: &str) -> Result<(), ConnectionError> {
        let _change = self.changing();
        let tmp = temp_sibling(path);
        let guard = self.temp_file_guard(&tmp);
        self.inner
            .put_bytes(data, &tmp, self.become_.as_ref())
            .await?;
        let result = self.rename_into_place(&tmp, path).await;
        guard.disarm();
        result
    }

    /// A guard that removes the temporary file `path` on the target if it is dropped armed:
    /// when the operation writing it is abandoned (task `timeout`, Ctrl-C), so no partial file
    /// is left behind. Disarm it once the file has been renamed into place (or removed).
    pub fn temp_file_guard(&self, path: &str) -> TempFileGuard {
        TempFileGuard {
            conn: self.inner.clone(),
            path: path.to_string(),
            become_: self.become_.clone(),
            armed: true,
        }
    }

    /// Uploads a local file to `path` atomically (temporary sibling, then rename).
    pub async fn upload_file_atomic(
        &self,
        local: &Path,
        path: &str,
    ) -> Result<(), ConnectionError> {
        let _change = self.changing();
        let tmp = temp_sibling(path);
        let guard = self.temp_file_guard(&tmp);
        self.inner
            .put_file(local, &tmp, self.become_.as_ref())
            .await?;
        let result = self.rename_into_place(&tmp, path).await;
        guard.disarm();
        result
    }

    async fn rename_into_place(&self, tmp: &str, path: &str) -> Result<(), ConnectionError> {
        let out = self
            .run(format!("mv -f {} {}", shell_quote(tmp), shell_quote(path)))
            .await?;
        if out.rc != 0 {
            let _ = self.run(format!("rm -f {}", shell_quote(tmp))).await;
            return Err(ConnectionError::Io {
                context: format!("renaming {tmp} to {path}"),
                source: std::io::Error::other(out.stderr_str().trim().to_string()),
            });
        }
        Ok(())
    }
}

/// Removes a temporary file on the target when dropped armed (see
/// [`HostConnection::temp_file_guard`]).
pub struct TempFileGuard {
    conn: Arc<dyn Connection>,
    path: String,
    become_: Option<Become>,
    armed: bool,
}

impl TempFileGuard {
    /// The file was moved into place or removed: nothing to clean up.
    pub fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for TempFileGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let conn = self.conn.clone();
        let mut req = ExecRequest::new(format!("rm -f {}", quote_path(&self.path)));
        req.become_ = self.become_.take();
        crate::interrupt::spawn_cleanup(async move {
            // After the abandoned writer got its SIGTERM (see the ssh transport's abandon
            // guard), so the file is not created again behind the removal.
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            let _ = tokio::time::timeout(std::time::Duration::from_secs(10), conn.exec(&req)).await;
        });
    }
}

/// A temporary file name next to `path` (same directory, so the final rename is atomic).
pub fn temp_sibling(path: &str) -> String {
    let (dir, base) = match path.rfind('/') {
        Some(i) => (&path[..=i], &path[i + 1..]),
        None => ("", path),
    };
    format!("{dir}.{base}.drover-tmp-{:016x}", rand::random::<u64>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_sibling_stays_in_directory() {
        let t = temp_sibling("/etc/nginx/nginx.conf");
        assert!(t.starts_with("/etc/nginx/.nginx.conf.drover-tmp-"), "{t}");
        let t = temp_sibling("plain");
        assert!(t.starts_with(".plain.drover-tmp-"), "{t}");
    }
}

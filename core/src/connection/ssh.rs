//! The `ssh` transport (russh): one connection per host for the whole run, a channel per operation.
//!
//! [`SshConnection::connect`] opens ONE TCP connection (optionally through `ProxyJump` hosts),
//! verifies the server's host key against known_hosts, authenticates, and then serves every
//! operation of the run on that connection: each `exec`/transfer opens its own session channel, so
//! many tasks can run on one host at the same time. The number of simultaneously open channels is
//! capped at [`SshOptions::max_sessions`] (OpenSSH's `MaxSessions` defaults to 10).
//!
//! Build [`SshOptions`] from inventory variables, `~/.ssh/config` and `ssh_args` strings with
//! [`super::ssh_config::resolve_ssh_options`].

mod auth;
mod channel;
mod host_keys;
mod known_hosts;
mod options;
mod shell;
mod upstream;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use russh::client;
use tokio::sync::{Mutex, Semaphore};

use super::{Become, Connection, ConnectionError, ExecOutput, ExecRequest};
use crate::connection::shell_quote;
use channel::{RunError, StdinSource};
use host_keys::{ClientHandler, HandlerError, HostKeyVerifier};
use shell::{SharedShell, ShellError};
use upstream::ProxyProcess;

pub use options::{
    default_identity_files, default_known_hosts_files, local_user_name, HostKeyPolicy, JumpSpec,
    PassphraseProvider, SshOptions, DEFAULT_CONNECT_TIMEOUT, DEFAULT_KEEPALIVE_INTERVAL,
    DEFAULT_MAX_SESSIONS,
};

/// A live SSH connection: one TCP connection, a channel per operation.
pub struct SshConnection {
    /// Shared with abandoned commands, which use it to stop their remote processes.
    handle: Arc<client::Handle<ClientHandler>>,
    sessions: Semaphore,
    alias: String,
    label: String,
    /// Keeps the jump host's connection (which carries ours) alive; shared with other targets.
    _jump: Option<Arc<SshConnection>>,
    /// The `ProxyCommand` process carrying our stream, killed on drop.
    _proxy: Option<ProxyProcess>,
    /// The long-lived shell for [`ExecRequest::shared_shell`] scripts.
    shell: Mutex<ShellSlot>,
}

/// State of a connection's long-lived shell.
enum ShellSlot {
    /// Not needed yet.
    NotStarted,
    /// Running and idle (whoever holds the lock is using it).
    Running(SharedShell),
    /// Could not be started, or failed: every command gets its own channel.
    Unavailable,
}

impl SshConnection {
    /// Connects (through the jump host, if any), verifies the host key and authenticates.
    pub async fn connect(opts: SshOptions) -> Result<Self, ConnectionError> {
        let jump = match (&opts.jump_host, opts.proxy_jump.as_deref()) {
            (Some(jump), _) => Some(upstream::shared_jump((**jump).clone()).await?),
            (None, Some(spec)) if !spec.trim().is_empty() && spec.trim() != "none" => {
                Some(upstream::shared_jump(opts.jump_options_from_spec(spec)?).await?)
            }
            _ => None,
        };
        let label = opts.label();
        let verifier = HostKeyVerifier::new(&opts);
        let config = Arc::new(client_config(&opts, &verifier));
        let handler = ClientHandler::new(verifier);
        let host = opts.host.trim_start_matches('[').trim_end_matches(']');
        let mut proxy: Option<ProxyProcess> = None;

        let handshake = async {
            if let Some(jump) = &jump {
                let channel = jump
                    .handle
                    .channel_open_direct_tcpip(host, u32::from(opts.port), "127.0.0.1", 0)
                    .await
                    .map_err(|e| ConnectionError::Connect {
                        host: label.clone(),
                        reason: format!(
                            "jump host {} could not open a tunnel to {host}:{}: {}",
                            jump.label,
                            opts.port,
                            describe_russh_error(&e)
                        ),
                    })?;
                return client::connect_stream(config, channel.into_stream(), handler)
                    .await
                    .map_err(|e| handshake_error(e, &label));
            }
            if let Some(template) = opts.proxy_command.as_deref().filter(|c| *c != "none") {
                let command = upstream::expand_proxy_command(template, &opts);
                let (process, stream) = upstream::spawn_proxy_command(&command)?;
                let process = proxy.insert(process);
                return match client::connect_stream(config, stream, handler).await {
                    Ok(handle) => Ok(handle),
                    Err(e) => {
                        let mut err = handshake_error(e, &label);
                        let said = process.final_stderr().await;
                        if let ConnectionError::Connect { reason, .. } = &mut err {
                            reason.push_str(&format!(" (via ProxyCommand '{command}'"));
                            if !said.is_empty() {
                                reason.push_str(&format!(", which said: {said}"));
                            }
                            reason.push(')');
                        }
                        Err(err)
                    }
                };
            }
            let tcp = tokio::net::TcpStream::connect((host, opts.port))
                .await
                .map_err(|e| ConnectionError::Connect {
                    host: label.clone(),
                    reason: io_reason(&e),
                })?;
            let _ = tcp.set_nodelay(true);
            client::connect_stream(config, tcp, handler)
                .await
                .map_err(|e| handshake_error(e, &label))
        };
        let result = tokio::time::timeout(opts.connect_timeout, handshake).await;
        let mut handle = match result {
            Ok(r) => r?,
            Err(_) => {
                let mut reason_note = String::new();
                if let Some(p) = &proxy {
                    let text = p.stderr_text();
                    if !text.is_empty() {
                        reason_note = format!(" (ProxyCommand said: {text})");
                    }
                }
                tracing::debug!("connect timeout{reason_note}");
                return Err(ConnectionError::Timeout {
                    host: format!("{label}{reason_note}"),
                    seconds: opts.connect_timeout.as_secs(),
                });
            }
        };

        auth::authenticate(&mut handle, &opts, &opts.address_label()).await?;

        Ok(Self {
            handle: Arc::new(handle),
            sessions: Semaphore::new(opts.max_sessions.max(1)),
            alias: opts.alias.clone(),
            label,
            _jump: jump,
            _proxy: proxy,
            // The shell holds one session for the whole run: only with room for others.
            shell: Mutex::new(if opts.max_sessions >= 2 {
                ShellSlot::NotStarted
            } else {
                ShellSlot::Unavailable
            }),
        })
    }

    /// `user@host:port` of this connection, for messages.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// True once the connection has broken or been closed.
    pub fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }

    async fn run(
        &self,
        command: String,
        stdin: StdinSource<'_>,
    ) -> Result<ExecOutput, ConnectionError> {
        let _permit = self
            .sessions
            .acquire()
            .await
            .map_err(|_| ConnectionError::Lost {
                host: self.alias.clone(),
                reason: "connection closed".into(),
            })?;
        channel::run_command(&self.handle, &command, stdin)
            .await
            .map_err(|e| match e {
                RunError::Channel(reason) => ConnectionError::Lost {
                    host: self.alias.clone(),
                    reason,
                },
                RunError::LocalInput(context, source) => ConnectionError::Io { context, source },
            })
    }
}

impl SshConnection {
    /// Runs `req` on the long-lived shell when it qualifies and the shell is free; `None` means
    /// "run it on a channel of its own".
    async fn exec_on_shared_shell(
        &self,
        req: &ExecRequest,
    ) -> Option<Result<ExecOutput, ConnectionError>> {
        let line = super::shell_framing::shared_shell_line(req)?;
        // Busy (another task of this host is using it): a channel of its own.
        let mut slot = self.shell.try_lock().ok()?;
        if matches!(&*slot, ShellSlot::Running(shell) if shell.interrupted()) {
            // An abandoned script's output may still be coming: start afresh.
            if let ShellSlot::Running(shell) = std::mem::replace(&mut *slot, ShellSlot::NotStarted)
            {
                shell.close().await;
            }
            self.sessions.add_permits(1);
        }
        if let ShellSlot::NotStarted = *slot {
            *slot = self.start_shell().await;
        }
        let ShellSlot::Running(shell) = &mut *slot else {
            return None;
        };
        match shell.run(&line).await {
            Ok(out) => Some(Ok(out)),
            Err(ShellError::Lost(reason) | ShellError::Start(reason)) => {
                if let ShellSlot::Running(shell) =
                    std::mem::replace(&mut *slot, ShellSlot::Unavailable)
                {
                    shell.close().await;
                }
                self.sessions.add_permits(1);
                Some(Err(ConnectionError::Lost {
                    host: self.alias.clone(),
                    reason: format!("the shared shell failed while running a command: {reason}"),
                }))
            }
        }
    }

    /// Opens the long-lived shell, holding one session permit for it.
    async fn start_shell(&self) -> ShellSlot {
        let Ok(permit) = self.sessions.acquire().await else {
            return ShellSlot::Unavailable;
        };
        permit.forget();
        let started = match channel::open_session(&self.handle).await {
            Ok(ch) => SharedShell::start(ch).await,
            Err(e) => Err(ShellError::Start(e)),
        };
        match started {
            Ok(shell) => ShellSlot::Running(shell),
            Err(ShellError::Start(e) | ShellError::Lost(e)) => {
                tracing::debug!(host = %self.alias, error = %e, "no shared shell; one channel per command");
                self.sessions.add_permits(1);
                ShellSlot::Unavailable
            }
        }
    }
}

#[async_trait]
impl Connection for SshConnection {
    fn transport(&self) -> &'static str {
        "ssh"
    }

    fn has_shared_shell(&self) -> bool {
        self.shell
            .try_lock()
            .map_or(true, |slot| !matches!(*slot, ShellSlot::Unavailable))
    }

    async fn exec(&self, req: &ExecRequest) -> Result<ExecOutput, ConnectionError> {
        if let Some(result) = self.exec_on_shared_shell(req).await {
            return result;
        }
        let stdin = match &req.stdin {
            Some(data) => StdinSource::Bytes(data),
            None => StdinSource::None,
        };
        self.run(req.to_shell_line(), stdin.after(req.become_stdin_prefix()))
            .await
    }

    async fn put_bytes(
        &self,
        data: &[u8],
        remote_path: &str,
        become_: Option<&Become>,
    ) -> Result<(), ConnectionError> {
        let req = write_request(remote_path, become_);
        let out = self
            .run(
                req.to_shell_line(),
                StdinSource::Bytes(data).after(req.become_stdin_prefix()),
            )
            .await?;
        check_transfer(out, "writing", remote_path)
    }

    async fn put_file(
        &self,
        local_path: &Path,
        remote_path: &str,
        become_: Option<&Become>,
    ) -> Result<(), ConnectionError> {
        let file =
            tokio::fs::File::open(local_path)
                .await
                .map_err(|source| ConnectionError::Io {
                    context: format!("reading {}", local_path.display()),
                    source,
                })?;
        let req = write_request(remote_path, become_);
        let out = self
            .run(
                req.to_shell_line(),
                StdinSource::File(file, local_path).after(req.become_stdin_prefix()),
            )
            .await?;
        check_transfer(out, "writing", remote_path)
    }

    async fn get_bytes(
        &self,
        remote_path: &str,
        become_: Option<&Become>,
    ) -> Result<Vec<u8>, ConnectionError> {
        let mut req = ExecRequest::new(format!("cat {}", shell_quote(remote_path)));
        req.become_ = become_.cloned();
        let stdin = StdinSource::None.after(req.become_stdin_prefix());
        let out = self.run(req.to_shell_line(), stdin).await?;
        if out.rc != 0 {
            return Err(ConnectionError::Io {
                context: format!("reading {remote_path} on {}", self.alias),
                source: std::io::Error::other(out.stderr_str().trim().to_string()),
            });
        }
        Ok(out.stdout)
    }

    fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }

    async fn close(&self) {
        if let ShellSlot::Running(shell) =
            std::mem::replace(&mut *self.shell.lock().await, ShellSlot::Unavailable)
        {
            shell.close().await;
        }
        let _ = self
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
        self.sessions.close();
    }
}

fn write_request(remote_path: &str, become_: Option<&Become>) -> ExecRequest {
    let mut req = ExecRequest::new(format!("cat > {}", shell_quote(remote_path)));
    req.become_ = become_.cloned();
    req
}

fn check_transfer(out: ExecOutput, what: &str, remote_path: &str) -> Result<(), ConnectionError> {
    if out.rc != 0 {
        return Err(ConnectionError::Io {
            context: format!("{what} {remote_path}"),
            source: std::io::Error::other(out.stderr_str().trim().to_string()),
        });
    }
    Ok(())
}

/// russh client settings: keepalives, and host key algorithms the known_hosts files already hold
/// for this host first (as OpenSSH does), so a recorded key is not reported as "unknown" just
/// because the server prefers another type.
fn client_config(opts: &SshOptions, verifier: &HostKeyVerifier) -> client::Config {
    let mut preferred = russh::Preferred::default();
    let known = verifier.known_algorithms();
    if !known.is_empty() {
        let mut keys: Vec<russh::keys::Algorithm> = preferred.key.to_vec();
        keys.sort_by_key(|alg| {
            !known
                .iter()
                .any(|k| k == alg || (k.clone().is_rsa() && alg.clone().is_rsa()))
        });
        preferred.key = keys.into();
    }
    client::Config {
        preferred,
        keepalive_interval: opts.keepalive_interval,
        keepalive_max: opts.keepalive_max.max(1),
        nodelay: true,
        ..Default::default()
    }
}

fn handshake_error(err: HandlerError, label: &str) -> ConnectionError {
    match err {
        HandlerError::HostKey(reason) => ConnectionError::HostKey {
            host: label.to_string(),
            reason,
        },
        HandlerError::Ssh(e) => ConnectionError::Connect {
            host: label.to_string(),
            reason: format!("SSH handshake failed: {}", describe_russh_error(&e)),
        },
    }
}

/// A readable reason for a russh error.
fn describe_russh_error(e: &russh::Error) -> String {
    match e {
        russh::Error::IO(io) => io_reason(io),
        russh::Error::Disconnect | russh::Error::HUP => {
            "the server closed the connection".to_string()
        }
        russh::Error::ChannelOpenFailure(f) => format!("channel refused by the server ({f:?})"),
        other => other.to_string(),
    }
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => {
            "connection refused (is sshd running and listening on that address and port?)"
                .to_string()
        }
        std::io::ErrorKind::UnexpectedEof => "the server closed the connection".to_string(),
        _ => e.to_string(),
    }
}

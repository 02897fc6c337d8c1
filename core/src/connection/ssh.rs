//! The `ssh` transport (russh): one connection per host for the whole run, a channel per operation.
//!
//! STUB: replaced by the full implementation.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;

use super::{Connection, ConnectionError, ExecOutput, ExecRequest};

/// How to treat the server's host key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HostKeyPolicy {
    /// Known hosts must list the key (default).
    #[default]
    Strict,
    /// Unknown hosts are added to known_hosts; changed keys still fail.
    AcceptNew,
    /// No verification (`host_key_checking = False`).
    Off,
}

/// Everything needed to open an SSH connection.
#[derive(Debug, Clone)]
pub struct SshOptions {
    /// Address to connect to (`ansible_host`, or `HostName` from ssh config).
    pub host: String,
    /// Alias used for ssh config lookup and messages (the inventory hostname).
    pub alias: String,
    /// TCP port.
    pub port: u16,
    /// Remote user.
    pub user: String,
    /// Private key files to try, in order.
    pub identity_files: Vec<PathBuf>,
    /// Try keys from ssh-agent (`SSH_AUTH_SOCK`).
    pub use_agent: bool,
    /// Password authentication, when given.
    pub password: Option<String>,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Host key verification policy.
    pub host_key_policy: HostKeyPolicy,
    /// known_hosts files to check (first one is where new keys are added).
    pub known_hosts_files: Vec<PathBuf>,
    /// Jump host (`ProxyJump`), as `[user@]host[:port]`.
    pub proxy_jump: Option<String>,
}

/// A live SSH connection.
pub struct SshConnection {
    _opts: SshOptions,
}

impl SshConnection {
    /// Connects and authenticates.
    pub async fn connect(opts: SshOptions) -> Result<Self, ConnectionError> {
        Err(ConnectionError::Connect {
            host: opts.alias.clone(),
            reason: "ssh transport not implemented yet".into(),
        })
    }
}

#[async_trait]
impl Connection for SshConnection {
    fn transport(&self) -> &'static str {
        "ssh"
    }
    async fn exec(&self, _req: &ExecRequest) -> Result<ExecOutput, ConnectionError> {
        unreachable!("stub")
    }
}

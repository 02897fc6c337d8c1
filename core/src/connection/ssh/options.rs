//! [`SshOptions`]: everything needed to open an SSH connection, with OpenSSH-like defaults.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::connection::ConnectionError;

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

/// Asked for the passphrase of an encrypted private key (argument: the key file). Returning `None`
/// skips the key. Called from a blocking thread, so it may prompt on a terminal.
pub type PassphraseProvider = Arc<dyn Fn(&Path) -> Option<String> + Send + Sync>;

/// Default connect timeout (Ansible's `timeout` default).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Default interval of SSH keepalive probes when the server has been silent.
pub const DEFAULT_KEEPALIVE_INTERVAL: Duration = Duration::from_secs(15);

/// Default cap on simultaneously open channels per connection (OpenSSH's `MaxSessions` default).
pub const DEFAULT_MAX_SESSIONS: usize = 10;

/// Everything needed to open an SSH connection.
#[derive(Clone)]
pub struct SshOptions {
    /// Address to connect to (`ansible_host`, or `HostName` from ssh config).
    pub host: String,
    /// Alias used for ssh config lookup and messages (the inventory hostname).
    pub alias: String,
    /// TCP port.
    pub port: u16,
    /// Remote user.
    pub user: String,
    /// Private key files to try, in order. When empty, OpenSSH's defaults that exist are tried
    /// (`~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa`), after the agent's keys.
    pub identity_files: Vec<PathBuf>,
    /// Try keys from ssh-agent (`SSH_AUTH_SOCK`, or [`SshOptions::agent_socket`]).
    pub use_agent: bool,
    /// Password authentication (also answers keyboard-interactive prompts), when given.
    pub password: Option<String>,
    /// Connect timeout: TCP connect, banner and key exchange (OpenSSH `ConnectTimeout`).
    pub connect_timeout: Duration,
    /// Host key verification policy.
    pub host_key_policy: HostKeyPolicy,
    /// known_hosts files to check (first one is where new keys are added).
    pub known_hosts_files: Vec<PathBuf>,
    /// Jump host (`ProxyJump`), as `[user@]host[:port]`, comma-separated for several hops. Used
    /// only when [`SshOptions::jump_host`] is not set; hops then inherit keys and known_hosts
    /// settings from these options and log in as the local user unless the spec names one.
    pub proxy_jump: Option<String>,
    /// Fully resolved options of the jump host (the last hop of `ProxyJump`), if any. Jump host
    /// connections are shared by all targets behind them.
    pub jump_host: Option<Box<SshOptions>>,
    /// `ProxyCommand`: a shell command whose stdin/stdout carry the connection (`%h`, `%p`,
    /// `%r`, `%n`, `%%` expanded). Ignored when a jump host is set.
    pub proxy_command: Option<String>,
    /// Passphrase for encrypted private keys.
    pub key_passphrase: Option<String>,
    /// Asked for a key's passphrase when [`SshOptions::key_passphrase`] is unset or wrong.
    pub passphrase_provider: Option<PassphraseProvider>,
    /// ssh-agent socket; `None` means `$SSH_AUTH_SOCK`.
    pub agent_socket: Option<PathBuf>,
    /// Name looked up in known_hosts instead of `host` (OpenSSH `HostKeyAlias`).
    pub host_key_alias: Option<String>,
    /// Send a keepalive after this long without hearing from the server (`ServerAliveInterval`).
    pub keepalive_interval: Option<Duration>,
    /// Unanswered keepalives before the connection is declared dead (`ServerAliveCountMax`).
    pub keepalive_max: usize,
    /// Most channels open at once on this connection (the server's `MaxSessions`).
    pub max_sessions: usize,
}

impl SshOptions {
    /// Options for `host` with OpenSSH-like defaults: port 22, the local user, default identity
    /// files, ssh-agent, strict host key checking against `~/.ssh/known_hosts`, 10 s connect
    /// timeout.
    pub fn new(host: impl Into<String>) -> Self {
        let host = host.into();
        Self {
            alias: host.clone(),
            host,
            port: 22,
            user: local_user_name(),
            identity_files: Vec::new(),
            use_agent: true,
            password: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            host_key_policy: HostKeyPolicy::Strict,
            known_hosts_files: default_known_hosts_files(),
            proxy_jump: None,
            jump_host: None,
            proxy_command: None,
            key_passphrase: None,
            passphrase_provider: None,
            agent_socket: None,
            host_key_alias: None,
            keepalive_interval: Some(DEFAULT_KEEPALIVE_INTERVAL),
            keepalive_max: 4,
            max_sessions: DEFAULT_MAX_SESSIONS,
        }
    }

    /// `user@host:port` (with the alias when it differs), for messages.
    pub fn label(&self) -> String {
        let target = format!("{}@{}:{}", self.user, self.host, self.port);
        if self.alias.is_empty() || self.alias == self.host {
            target
        } else {
            format!("{} ({target})", self.alias)
        }
    }

    /// `host:port` (with the alias when it differs), for messages that name the user separately.
    pub fn address_label(&self) -> String {
        let target = format!("{}:{}", self.host, self.port);
        if self.alias.is_empty() || self.alias == self.host {
            target
        } else {
            format!("{} ({target})", self.alias)
        }
    }

    /// Options for the jump host named by the last hop of `spec` (`[user@]host[:port]`, comma
    /// separated), inheriting credentials-independent settings from `self`.
    pub(super) fn jump_options_from_spec(&self, spec: &str) -> Result<SshOptions, ConnectionError> {
        let hops: Vec<&str> = spec
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .collect();
        let Some((last, earlier)) = hops.split_last() else {
            return Err(ConnectionError::Connect {
                host: self.alias.clone(),
                reason: format!("empty ProxyJump specification '{spec}'"),
            });
        };
        let hop = JumpSpec::parse(last).map_err(|reason| ConnectionError::Connect {
            host: self.alias.clone(),
            reason,
        })?;
        let mut jump = SshOptions::new(hop.host.clone());
        jump.port = hop.port.unwrap_or(22);
        if let Some(user) = hop.user {
            jump.user = user;
        }
        jump.identity_files = self.identity_files.clone();
        jump.use_agent = self.use_agent;
        jump.connect_timeout = self.connect_timeout;
        jump.host_key_policy = self.host_key_policy;
        jump.known_hosts_files = self.known_hosts_files.clone();
        jump.key_passphrase = self.key_passphrase.clone();
        jump.passphrase_provider = self.passphrase_provider.clone();
        jump.agent_socket = self.agent_socket.clone();
        jump.keepalive_interval = self.keepalive_interval;
        jump.keepalive_max = self.keepalive_max;
        if !earlier.is_empty() {
            jump.proxy_jump = Some(earlier.join(","));
        }
        Ok(jump)
    }
}

impl fmt::Debug for SshOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SshOptions")
            .field("host", &self.host)
            .field("alias", &self.alias)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("identity_files", &self.identity_files)
            .field("use_agent", &self.use_agent)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("connect_timeout", &self.connect_timeout)
            .field("host_key_policy", &self.host_key_policy)
            .field("known_hosts_files", &self.known_hosts_files)
            .field("proxy_jump", &self.proxy_jump)
            .field("jump_host", &self.jump_host)
            .field("proxy_command", &self.proxy_command)
            .field(
                "key_passphrase",
                &self.key_passphrase.as_ref().map(|_| "<redacted>"),
            )
            .field("passphrase_provider", &self.passphrase_provider.is_some())
            .field("agent_socket", &self.agent_socket)
            .field("host_key_alias", &self.host_key_alias)
            .field("keepalive_interval", &self.keepalive_interval)
            .field("keepalive_max", &self.keepalive_max)
            .field("max_sessions", &self.max_sessions)
            .finish()
    }
}

/// One hop of a `ProxyJump` specification: `[user@]host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JumpSpec {
    /// Login name, when given.
    pub user: Option<String>,
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// Port, when given.
    pub port: Option<u16>,
}

impl JumpSpec {
    /// Parses `[user@]host[:port]` (also `ssh://[user@]host[:port]` and `[v6addr]:port`).
    pub fn parse(spec: &str) -> Result<Self, String> {
        let s = spec.trim();
        let s = s.strip_prefix("ssh://").unwrap_or(s);
        let (user, rest) = match s.rsplit_once('@') {
            Some((u, r)) => ((!u.is_empty()).then(|| u.to_string()), r),
            None => (None, s),
        };
        let (host, port) = if let Some(inner) = rest.strip_prefix('[') {
            let (h, after) = inner
                .split_once(']')
                .ok_or_else(|| format!("unbalanced '[' in ProxyJump host '{spec}'"))?;
            (h, after.strip_prefix(':'))
        } else if rest.matches(':').count() == 1 {
            let (h, p) = rest.split_once(':').unwrap_or((rest, ""));
            (h, Some(p))
        } else {
            (rest, None)
        };
        if host.is_empty() {
            return Err(format!("no host in ProxyJump specification '{spec}'"));
        }
        let port = match port {
            Some(p) => Some(
                p.parse::<u16>()
                    .map_err(|_| format!("bad port '{p}' in ProxyJump specification '{spec}'"))?,
            ),
            None => None,
        };
        Ok(Self {
            user,
            host: host.to_string(),
            port,
        })
    }
}

/// The local login name (`$USER`, `$LOGNAME`, then the passwd entry of the current uid).
pub fn local_user_name() -> String {
    for var in ["USER", "LOGNAME"] {
        if let Ok(v) = std::env::var(var) {
            if !v.is_empty() {
                return v;
            }
        }
    }
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").map(|m| m.uid()).ok();
    if let (Some(uid), Ok(passwd)) = (uid, std::fs::read_to_string("/etc/passwd")) {
        for line in passwd.lines() {
            let fields: Vec<&str> = line.split(':').collect();
            if fields.len() > 2 && fields[2].parse::<u32>().ok() == Some(uid) {
                return fields[0].to_string();
            }
        }
    }
    "root".to_string()
}

/// `~/.ssh/known_hosts` (the only default OpenSSH user file that exists in practice).
pub fn default_known_hosts_files() -> Vec<PathBuf> {
    dirs::home_dir()
        .map(|h| vec![h.join(".ssh").join("known_hosts")])
        .unwrap_or_default()
}

/// OpenSSH's default identity files, in its order of preference (whether they exist or not).
pub fn default_identity_files() -> Vec<PathBuf> {
    dirs::home_dir()
        .map(|h| {
            ["id_ed25519", "id_ecdsa", "id_rsa"]
                .iter()
                .map(|n| h.join(".ssh").join(n))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jump_spec_forms() {
        assert_eq!(
            JumpSpec::parse("bastion").unwrap(),
            JumpSpec {
                user: None,
                host: "bastion".into(),
                port: None
            }
        );
        assert_eq!(
            JumpSpec::parse("ops@10.0.0.1:2222").unwrap(),
            JumpSpec {
                user: Some("ops".into()),
                host: "10.0.0.1".into(),
                port: Some(2222)
            }
        );
        assert_eq!(JumpSpec::parse("[::1]:22").unwrap().host, "::1");
        assert_eq!(JumpSpec::parse("::1").unwrap().port, None);
        assert!(JumpSpec::parse("host:notaport").is_err());
        assert!(JumpSpec::parse("@").is_err());
    }

    #[test]
    fn multi_hop_jump_keeps_earlier_hops() {
        let mut opts = SshOptions::new("target");
        opts.identity_files = vec![PathBuf::from("/k")];
        let jump = opts.jump_options_from_spec("a@first,second:2200").unwrap();
        assert_eq!(jump.host, "second");
        assert_eq!(jump.port, 2200);
        assert_eq!(jump.proxy_jump.as_deref(), Some("a@first"));
        assert_eq!(jump.identity_files, vec![PathBuf::from("/k")]);
    }

    #[test]
    fn debug_redacts_secrets() {
        let mut opts = SshOptions::new("h");
        opts.password = Some("hunter2".into());
        opts.key_passphrase = Some("sesame".into());
        let dbg = format!("{opts:?}");
        assert!(!dbg.contains("hunter2") && !dbg.contains("sesame"), "{dbg}");
    }
}

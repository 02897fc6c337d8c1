//! How the SSH byte stream reaches the server: direct TCP, a tunnel through a (shared) jump
//! host, or a `ProxyCommand` subprocess.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::{Arc, LazyLock, Mutex, Weak};

use tokio::io::AsyncReadExt;
use tokio::process::{Child, ChildStdin, ChildStdout};

use super::{SshConnection, SshOptions};
use crate::connection::ConnectionError;

/// Jump host connections shared by every target behind them (one TCP connection per bastion,
/// one tunnel channel per target). Entries hold weak references: a bastion connection lives as
/// long as some target connection uses it.
type JumpSlot = Arc<tokio::sync::Mutex<Weak<SshConnection>>>;
static JUMP_POOL: LazyLock<Mutex<HashMap<String, JumpSlot>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Identifies connections that may be shared: same endpoint, user, verification and route.
fn pool_key(opts: &SshOptions) -> String {
    format!(
        "{}@{}:{}|{:?}|{:?}|{:?}|{:?}|{}",
        opts.user,
        opts.host,
        opts.port,
        opts.host_key_policy,
        opts.known_hosts_files,
        opts.host_key_alias,
        opts.proxy_command,
        match (&opts.jump_host, &opts.proxy_jump) {
            (Some(j), _) => pool_key(j),
            (None, Some(spec)) => spec.clone(),
            (None, None) => String::new(),
        }
    )
}

/// The connection to the jump host `opts`, reusing a live one when possible.
pub(super) async fn shared_jump(opts: SshOptions) -> Result<Arc<SshConnection>, ConnectionError> {
    let slot = {
        let mut pool = JUMP_POOL.lock().unwrap_or_else(|p| p.into_inner());
        pool.retain(|_, slot| {
            Arc::strong_count(slot) > 1
                || slot
                    .try_lock()
                    .map(|w| w.strong_count() > 0)
                    .unwrap_or(true)
        });
        pool.entry(pool_key(&opts)).or_default().clone()
    };
    let mut guard = slot.lock().await;
    if let Some(conn) = guard.upgrade() {
        if !conn.is_closed() {
            return Ok(conn);
        }
    }
    let conn = Arc::new(Box::pin(SshConnection::connect(opts)).await?);
    *guard = Arc::downgrade(&conn);
    Ok(conn)
}

/// A running `ProxyCommand` whose stdin/stdout carry the SSH stream.
pub(super) struct ProxyProcess {
    /// Kept so the process is killed when the connection goes away.
    pub _child: Child,
    /// What the command printed on stderr (first 8 KiB), for error messages.
    pub stderr: Arc<Mutex<Vec<u8>>>,
    /// The task collecting stderr (finished once the command closed it).
    pub stderr_reader: Option<tokio::task::JoinHandle<()>>,
}

impl ProxyProcess {
    /// The command's stderr once it has exited (waiting at most half a second), trimmed.
    pub async fn final_stderr(&mut self) -> String {
        if let Some(reader) = self.stderr_reader.take() {
            let _ = tokio::time::timeout(std::time::Duration::from_millis(500), reader).await;
        }
        self.stderr_text()
    }

    /// The command's stderr so far, trimmed.
    pub fn stderr_text(&self) -> String {
        let buf = self.stderr.lock().unwrap_or_else(|p| p.into_inner());
        String::from_utf8_lossy(&buf).trim().to_string()
    }
}

/// Expands OpenSSH tokens in a `ProxyCommand`: `%h` host, `%p` port, `%r` user, `%n` the name
/// as given, `%%` a percent sign.
pub(super) fn expand_proxy_command(template: &str, opts: &SshOptions) -> String {
    let mut out = String::new();
    let mut chars = template.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('h') => out.push_str(&opts.host),
            Some('p') => out.push_str(&opts.port.to_string()),
            Some('r') => out.push_str(&opts.user),
            Some('n') => out.push_str(&opts.alias),
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

/// Starts `command` under `/bin/sh -c` with piped stdio.
pub(super) fn spawn_proxy_command(
    command: &str,
) -> Result<(ProxyProcess, tokio::io::Join<ChildStdout, ChildStdin>), ConnectionError> {
    let mut child = tokio::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| ConnectionError::Io {
            context: format!("starting ProxyCommand '{command}'"),
            source,
        })?;
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(ConnectionError::Io {
            context: format!("starting ProxyCommand '{command}'"),
            source: std::io::Error::other("no stdio pipes"),
        });
    };
    let collected = Arc::new(Mutex::new(Vec::new()));
    let mut stderr_reader = None;
    if let Some(mut stderr) = child.stderr.take() {
        let sink = collected.clone();
        stderr_reader = Some(tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                let mut all = sink.lock().unwrap_or_else(|p| p.into_inner());
                if all.len() < 8192 {
                    all.extend_from_slice(&buf[..n]);
                }
            }
        }));
    }
    Ok((
        ProxyProcess {
            _child: child,
            stderr: collected,
            stderr_reader,
        },
        tokio::io::join(stdout, stdin),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_command_tokens() {
        let mut o = SshOptions::new("10.0.0.5");
        o.alias = "web1".into();
        o.port = 2222;
        o.user = "ops".into();
        assert_eq!(
            expand_proxy_command("ssh -W %h:%p -l %r bastion # %n 100%% %x", &o),
            "ssh -W 10.0.0.5:2222 -l ops bastion # web1 100% %x"
        );
    }

    #[test]
    fn pool_key_separates_verification_settings() {
        let a = SshOptions::new("bastion");
        let mut b = a.clone();
        assert_eq!(pool_key(&a), pool_key(&b));
        b.host_key_policy = crate::connection::ssh::HostKeyPolicy::Off;
        assert_ne!(pool_key(&a), pool_key(&b));
    }
}

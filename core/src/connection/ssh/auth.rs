//! User authentication: key files, ssh-agent, password and keyboard-interactive.
//!
//! Order: the identity files given (in order), then the agent's keys, then OpenSSH's default key
//! files (only when no identity file was given), then password, then keyboard-interactive with the
//! password. Every attempt is recorded so a failure can say exactly what was tried.

use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, SystemTime};

use russh::client::{self, AuthResult, KeyboardInteractiveAuthResponse};
use russh::keys::agent::client::AgentClient;
use russh::keys::agent::AgentIdentity;
use russh::keys::{HashAlg, PrivateKey, PrivateKeyWithHashAlg, PublicKey};
use russh::{MethodKind, MethodSet};

use super::host_keys::ClientHandler;
use super::{default_identity_files, SshOptions};
use crate::connection::ConnectionError;

type Handle = client::Handle<ClientHandler>;

/// Progress of an authentication run.
struct Attempts {
    /// What was tried and how it went, for the error message.
    tried: Vec<String>,
    /// Methods the server said may continue.
    allowed: MethodSet,
    /// Public keys already offered (so agent and file copies of one key are offered once).
    offered: Vec<PublicKey>,
    /// Set when the server stopped talking to us.
    disconnected: Option<String>,
    /// RSA signature hash the server supports, once asked.
    rsa_hash: Option<Option<HashAlg>>,
}

enum Step {
    Success,
    Failed,
}

/// Authenticates `handle` as `opts.user`; on failure, the error lists every method and key tried.
pub(super) async fn authenticate(
    handle: &mut Handle,
    opts: &SshOptions,
    label: &str,
) -> Result<(), ConnectionError> {
    let step_timeout = opts.connect_timeout.max(Duration::from_secs(10));
    let mut state = Attempts {
        tried: Vec::new(),
        allowed: MethodSet::empty(),
        offered: Vec::new(),
        disconnected: None,
        rsa_hash: None,
    };

    match bounded(step_timeout, handle.authenticate_none(opts.user.clone())).await {
        Ok(AuthResult::Success) => return Ok(()),
        Ok(AuthResult::Failure {
            remaining_methods, ..
        }) => state.allowed = remaining_methods,
        Err(e) => return Err(auth_error(opts, label, &format!("server stopped: {e}"))),
    }

    if state.allows(MethodKind::PublicKey) {
        let explicit = !opts.identity_files.is_empty();
        for file in &opts.identity_files {
            if let Step::Success = try_key_file(handle, opts, file, true, &mut state).await {
                return Ok(());
            }
        }
        if opts.use_agent && state.disconnected.is_none() {
            if let Step::Success = try_agent(handle, opts, &mut state).await {
                return Ok(());
            }
        }
        if !explicit {
            for file in default_identity_files() {
                if state.disconnected.is_some() {
                    break;
                }
                if let Step::Success = try_key_file(handle, opts, &file, false, &mut state).await {
                    return Ok(());
                }
            }
        }
    } else {
        state
            .tried
            .push("public keys (not offered: the server does not accept publickey)".into());
    }

    match &opts.password {
        Some(password) if state.disconnected.is_none() => {
            if state.allows(MethodKind::Password) {
                let res = bounded(
                    step_timeout,
                    handle.authenticate_password(opts.user.clone(), password.clone()),
                )
                .await;
                if let Step::Success = state.record(res, "password".into(), false) {
                    return Ok(());
                }
            }
            if state.allows(MethodKind::KeyboardInteractive) && state.disconnected.is_none() {
                if let Step::Success =
                    keyboard_interactive(handle, opts, password, step_timeout, &mut state).await
                {
                    return Ok(());
                }
            }
            if !state.allows(MethodKind::Password) && !state.allows(MethodKind::KeyboardInteractive)
            {
                state.tried.push(
                    "password (not sent: the server accepts neither password nor keyboard-interactive)"
                        .into(),
                );
            }
        }
        Some(_) => {}
        None => {
            if state.allows(MethodKind::Password) || state.allows(MethodKind::KeyboardInteractive) {
                state
                    .tried
                    .push("password (none given: use --ask-pass or ansible_password)".to_string());
            }
        }
    }

    let mut reason = if state.tried.is_empty() {
        "no credentials to try (no identity files, no ssh-agent keys, no password)".to_string()
    } else {
        format!("tried {}", state.tried.join("; "))
    };
    if !state.allowed.is_empty() {
        let names: Vec<&str> = state.allowed.iter().map(<&str>::from).collect();
        reason.push_str(&format!(". The server accepts: {}", names.join(", ")));
    }
    if let Some(why) = &state.disconnected {
        reason.push_str(&format!(
            ". The server closed the connection ({why}); it may limit attempts (MaxAuthTries) — \
             name the right key with --private-key / ansible_ssh_private_key_file"
        ));
    }
    Err(auth_error(opts, label, &reason))
}

impl Attempts {
    fn allows(&self, kind: MethodKind) -> bool {
        self.allowed.contains(&kind)
    }

    /// Records the outcome of one attempt described by `what`. An error ends the run unless
    /// `recoverable` (e.g. the agent declined to sign: the connection is still usable).
    fn record<E: std::fmt::Display>(
        &mut self,
        res: Result<AuthResult, E>,
        what: String,
        recoverable: bool,
    ) -> Step {
        match res {
            Ok(AuthResult::Success) => Step::Success,
            Ok(AuthResult::Failure {
                remaining_methods,
                partial_success,
            }) => {
                self.allowed = remaining_methods;
                let note = if partial_success {
                    "accepted, but the server requires a further method"
                } else {
                    "rejected"
                };
                self.tried.push(format!("{what} ({note})"));
                Step::Failed
            }
            Err(e) => {
                self.tried.push(format!("{what} (error: {e})"));
                if !recoverable {
                    self.disconnected = Some(e.to_string());
                }
                Step::Failed
            }
        }
    }

    async fn rsa_hash(&mut self, handle: &Handle) -> Option<HashAlg> {
        if let Some(h) = self.rsa_hash {
            return h;
        }
        let h = handle
            .best_supported_rsa_hash()
            .await
            .ok()
            .flatten()
            .flatten();
        self.rsa_hash = Some(h);
        h
    }
}

async fn bounded<T, E: std::fmt::Display>(
    limit: Duration,
    fut: impl Future<Output = Result<T, E>>,
) -> Result<T, String> {
    match tokio::time::timeout(limit, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!(
            "no answer from the server within {}s",
            limit.as_secs()
        )),
    }
}

fn auth_error(opts: &SshOptions, label: &str, reason: &str) -> ConnectionError {
    ConnectionError::Auth {
        host: label.to_string(),
        user: opts.user.clone(),
        reason: reason.to_string(),
    }
}

fn describe_key(key: &PublicKey) -> String {
    format!(
        "{} {}",
        key.algorithm().as_str(),
        key.fingerprint(HashAlg::Sha256)
    )
}

/// Loads `file` (asking for a passphrase when needed) and offers it.
async fn try_key_file(
    handle: &mut Handle,
    opts: &SshOptions,
    file: &Path,
    explicit: bool,
    state: &mut Attempts,
) -> Step {
    if state.disconnected.is_some() {
        return Step::Failed;
    }
    let key = match load_key_cached(opts, file).await {
        Ok(key) => key,
        Err(why) => {
            if explicit || !why.starts_with("not found") {
                state.tried.push(format!("key {} ({why})", file.display()));
            }
            return Step::Failed;
        }
    };
    let public = key.public_key().clone();
    if state.offered.contains(&public) {
        return Step::Failed;
    }
    state.offered.push(public.clone());
    let hash = if key.algorithm().is_rsa() {
        state.rsa_hash(handle).await
    } else {
        None
    };
    let what = format!("key {} ({})", file.display(), describe_key(&public));
    let res = bounded(
        opts.connect_timeout.max(Duration::from_secs(10)),
        handle.authenticate_publickey(opts.user.clone(), PrivateKeyWithHashAlg::new(key, hash)),
    )
    .await;
    state.record(res, what, false)
}

/// Keys already loaded in this process, by file: decrypting an OpenSSH key is deliberately slow
/// and may need a prompt, so it happens once per run, not once per host. The per-file lock makes
/// hosts connecting at the same time wait for one prompt instead of each asking.
type KeySlot = Arc<tokio::sync::Mutex<Option<(Option<SystemTime>, Arc<PrivateKey>)>>>;
static KEY_CACHE: LazyLock<Mutex<HashMap<PathBuf, KeySlot>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// [`load_key`] through [`KEY_CACHE`] (a changed file is read again).
async fn load_key_cached(opts: &SshOptions, file: &Path) -> Result<Arc<PrivateKey>, String> {
    let slot = KEY_CACHE
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(file.to_path_buf())
        .or_default()
        .clone();
    let mut cached = slot.lock().await;
    let modified = tokio::fs::metadata(file)
        .await
        .ok()
        .and_then(|m| m.modified().ok());
    if let Some((when, key)) = cached.as_ref() {
        if *when == modified && modified.is_some() {
            return Ok(key.clone());
        }
    }
    let key = Arc::new(load_key(opts, file).await?);
    *cached = Some((modified, key.clone()));
    Ok(key)
}

/// Reads a private key, decrypting it with the configured passphrase or the provider's answer.
async fn load_key(opts: &SshOptions, file: &Path) -> Result<PrivateKey, String> {
    let text = match tokio::fs::read_to_string(file).await {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err("not found".to_string()),
        Err(e) => return Err(format!("cannot read: {e}")),
    };
    match russh::keys::decode_secret_key(&text, None) {
        Ok(key) => return Ok(key),
        Err(russh::keys::Error::KeyIsEncrypted) => {}
        Err(e) => return Err(format!("cannot parse: {e}")),
    }
    let mut wrong_given = false;
    if let Some(pass) = &opts.key_passphrase {
        match russh::keys::decode_secret_key(&text, Some(pass)) {
            Ok(key) => return Ok(key),
            Err(_) => wrong_given = true,
        }
    }
    if let Some(provider) = &opts.passphrase_provider {
        let provider = provider.clone();
        let path: PathBuf = file.to_path_buf();
        let answer = tokio::task::spawn_blocking(move || provider(&path))
            .await
            .ok()
            .flatten();
        if let Some(pass) = answer {
            return russh::keys::decode_secret_key(&text, Some(&pass))
                .map_err(|_| "passphrase-protected; the passphrase entered is wrong".to_string());
        }
    }
    if wrong_given {
        Err("passphrase-protected; the passphrase given does not decrypt it".to_string())
    } else {
        Err(
            "passphrase-protected and no passphrase was given: provide one, or add the key to \
             ssh-agent"
                .to_string(),
        )
    }
}

/// Offers every key the agent holds (certificates are skipped).
async fn try_agent(handle: &mut Handle, opts: &SshOptions, state: &mut Attempts) -> Step {
    let socket = match &opts.agent_socket {
        Some(p) => p.clone(),
        None => match std::env::var_os("SSH_AUTH_SOCK") {
            Some(s) if !s.is_empty() => PathBuf::from(s),
            _ => return Step::Failed,
        },
    };
    let mut agent = match AgentClient::connect_uds(&socket).await {
        Ok(a) => a,
        Err(e) => {
            state.tried.push(format!(
                "ssh-agent at {} (cannot connect: {e})",
                socket.display()
            ));
            return Step::Failed;
        }
    };
    let identities = match agent.request_identities().await {
        Ok(ids) => ids,
        Err(e) => {
            state.tried.push(format!(
                "ssh-agent at {} (cannot list keys: {e})",
                socket.display()
            ));
            return Step::Failed;
        }
    };
    if identities.is_empty() {
        state
            .tried
            .push(format!("ssh-agent at {} (holds no keys)", socket.display()));
        return Step::Failed;
    }
    for identity in identities {
        if state.disconnected.is_some() {
            break;
        }
        let AgentIdentity::PublicKey { key, comment } = identity else {
            continue;
        };
        if state.offered.contains(&key) {
            continue;
        }
        state.offered.push(key.clone());
        let hash = if key.algorithm().is_rsa() {
            state.rsa_hash(handle).await
        } else {
            None
        };
        let what = format!("ssh-agent key {} '{comment}'", describe_key(&key));
        let res = bounded(
            opts.connect_timeout.max(Duration::from_secs(10)),
            handle.authenticate_publickey_with(opts.user.clone(), key, hash, &mut agent),
        )
        .await;
        let recoverable = !handle.is_closed();
        if let Step::Success = state.record(res, what, recoverable) {
            return Step::Success;
        }
    }
    Step::Failed
}

/// Answers every keyboard-interactive prompt with the password (a few rounds at most).
async fn keyboard_interactive(
    handle: &mut Handle,
    opts: &SshOptions,
    password: &str,
    limit: Duration,
    state: &mut Attempts,
) -> Step {
    let what = "password via keyboard-interactive".to_string();
    let mut reply = bounded(
        limit,
        handle.authenticate_keyboard_interactive_start(opts.user.clone(), None),
    )
    .await;
    for _ in 0..5 {
        match reply {
            Ok(KeyboardInteractiveAuthResponse::Success) => return Step::Success,
            Ok(KeyboardInteractiveAuthResponse::Failure {
                remaining_methods,
                partial_success,
            }) => {
                return state.record::<String>(
                    Ok(AuthResult::Failure {
                        remaining_methods,
                        partial_success,
                    }),
                    what,
                    false,
                );
            }
            Ok(KeyboardInteractiveAuthResponse::InfoRequest { prompts, .. }) => {
                let answers = prompts.iter().map(|_| password.to_string()).collect();
                reply = bounded(
                    limit,
                    handle.authenticate_keyboard_interactive_respond(answers),
                )
                .await;
            }
            Err(e) => return state.record::<String>(Err(e), what, false),
        }
    }
    state.tried.push(format!("{what} (too many prompts)"));
    Step::Failed
}

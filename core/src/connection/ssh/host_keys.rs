//! Server host key verification against OpenSSH known_hosts files.

use std::path::PathBuf;

use russh::client;
use russh::keys::{Algorithm, HashAlg, PublicKey, PublicKeyOrCertificate};

use super::known_hosts;
use super::{HostKeyPolicy, SshOptions};

/// Errors the russh session can end with: its own, or our host key verdict.
#[derive(Debug)]
pub(super) enum HandlerError {
    /// A protocol or I/O error.
    Ssh(russh::Error),
    /// The host key was refused; the message explains why and how to fix it.
    HostKey(String),
}

impl From<russh::Error> for HandlerError {
    fn from(e: russh::Error) -> Self {
        Self::Ssh(e)
    }
}

/// Decides whether a server key is trusted, per [`HostKeyPolicy`].
#[derive(Debug, Clone)]
pub(super) struct HostKeyVerifier {
    /// Name looked up in known_hosts (`host`, or `HostKeyAlias`).
    lookup_host: String,
    port: u16,
    policy: HostKeyPolicy,
    files: Vec<PathBuf>,
}

/// Result of looking a key up in the known_hosts files.
enum Lookup {
    /// Some line lists exactly this key.
    Known,
    /// The key is marked `@revoked`.
    Revoked { file: PathBuf, line: usize },
    /// A line lists another key of the same type for this host.
    Changed {
        file: PathBuf,
        line: usize,
        recorded: PublicKey,
    },
    /// No line lists a key of this type; `other_types` are types that are recorded.
    Unknown { other_types: Vec<String> },
}

impl HostKeyVerifier {
    pub(super) fn new(opts: &SshOptions) -> Self {
        let lookup_host = opts
            .host_key_alias
            .clone()
            .unwrap_or_else(|| opts.host.clone());
        Self {
            lookup_host: lookup_host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
            port: opts.port,
            policy: opts.host_key_policy,
            files: opts.known_hosts_files.clone(),
        }
    }

    /// How OpenSSH writes this host in known_hosts: `host`, or `[host]:port` off port 22.
    fn host_entry(&self) -> String {
        known_hosts::host_field(&self.lookup_host, self.port)
    }

    /// Key algorithms recorded for this host (used to prefer them in the key exchange).
    pub(super) fn known_algorithms(&self) -> Vec<Algorithm> {
        if self.policy == HostKeyPolicy::Off {
            return Vec::new();
        }
        let mut algs = Vec::new();
        for file in &self.files {
            if let Ok(entries) = known_hosts::entries_for(file, &self.lookup_host, self.port) {
                for entry in entries.into_iter().filter(|e| !e.revoked) {
                    if !algs.contains(&entry.key.algorithm()) {
                        algs.push(entry.key.algorithm());
                    }
                }
            }
        }
        algs
    }

    fn lookup(&self, key: &PublicKey) -> Result<Lookup, String> {
        let mut changed = None;
        let mut known = false;
        let mut other_types = Vec::new();
        for file in &self.files {
            let entries = known_hosts::entries_for(file, &self.lookup_host, self.port)
                .map_err(|e| format!("cannot read known_hosts file {}: {e}", file.display()))?;
            for entry in entries {
                let (line, recorded) = (entry.line, entry.key);
                if recorded.key_data() == key.key_data() {
                    if entry.revoked {
                        return Ok(Lookup::Revoked {
                            file: file.clone(),
                            line,
                        });
                    }
                    known = true;
                    continue;
                }
                if entry.revoked {
                    continue;
                }
                if recorded.algorithm() == key.algorithm() {
                    if changed.is_none() {
                        changed = Some(Lookup::Changed {
                            file: file.clone(),
                            line,
                            recorded,
                        });
                    }
                } else {
                    let name = recorded.algorithm().as_str().to_string();
                    if !other_types.contains(&name) {
                        other_types.push(name);
                    }
                }
            }
        }
        if known {
            return Ok(Lookup::Known);
        }
        Ok(changed.unwrap_or(Lookup::Unknown { other_types }))
    }

    fn files_list(&self) -> String {
        if self.files.is_empty() {
            return "(no known_hosts file configured)".to_string();
        }
        self.files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Accepts `key` or explains why not.
    pub(super) fn verify(&self, key: &PublicKey) -> Result<(), String> {
        if self.policy == HostKeyPolicy::Off {
            return Ok(());
        }
        let entry = self.host_entry();
        let fingerprint = key.fingerprint(HashAlg::Sha256);
        let alg = key.algorithm().as_str().to_string();
        match self.lookup(key)? {
            Lookup::Known => Ok(()),
            Lookup::Revoked { file, line } => Err(format!(
                "the {alg} host key of {entry} ({fingerprint}) is marked @revoked in {}:{line}",
                file.display()
            )),
            Lookup::Changed {
                file,
                line,
                recorded,
            } => Err(format!(
                "REMOTE HOST IDENTIFICATION HAS CHANGED! The {alg} key offered by {entry} \
                 ({fingerprint}) differs from the one recorded in {}:{line} ({}). Someone could be \
                 eavesdropping on you right now (man-in-the-middle attack), or the host key has just \
                 been changed. If the change is expected, remove the old entry with \
                 `ssh-keygen -R '{entry}' -f {}` and connect again.",
                file.display(),
                recorded.fingerprint(HashAlg::Sha256),
                file.display(),
            )),
            Lookup::Unknown { other_types } => {
                if self.policy == HostKeyPolicy::AcceptNew {
                    let Some(first) = self.files.first() else {
                        return Err(
                            "host key is unknown and no known_hosts file is configured to add it to"
                                .to_string(),
                        );
                    };
                    return known_hosts::append(first, &self.lookup_host, self.port, key)
                        .map_err(|e| {
                            format!(
                                "cannot add the host key of {entry} to {}: {e}",
                                first.display()
                            )
                        });
                }
                let also = if other_types.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (known_hosts has a key of another type for it: {}; the server did not offer that type)",
                        other_types.join(", ")
                    )
                };
                let keyscan_port = if self.port == 22 {
                    String::new()
                } else {
                    format!("-p {} ", self.port)
                };
                let target_file = self
                    .files
                    .first()
                    .map(|f| f.display().to_string())
                    .unwrap_or_else(|| "~/.ssh/known_hosts".to_string());
                Err(format!(
                    "the {alg} host key of {entry} ({fingerprint}) is not in known_hosts \
                     (checked: {}){also}. After verifying the fingerprint, add it with \
                     `ssh-keyscan {keyscan_port}{} >> {target_file}` (or connect once with ssh), \
                     or turn checking off with host_key_checking = False \
                     (ANSIBLE_HOST_KEY_CHECKING=False), or accept new hosts with \
                     `-o StrictHostKeyChecking=accept-new`.",
                    self.files_list(),
                    self.lookup_host,
                ))
            }
        }
    }
}

/// The russh client callbacks: only host key verification is ours.
pub(super) struct ClientHandler {
    verifier: HostKeyVerifier,
}

impl ClientHandler {
    pub(super) fn new(verifier: HostKeyVerifier) -> Self {
        Self { verifier }
    }
}

impl client::Handler for ClientHandler {
    type Error = HandlerError;

    async fn check_server_key(
        &mut self,
        server_key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        match server_key {
            PublicKeyOrCertificate::PublicKey { key, .. } => self
                .verifier
                .verify(key)
                .map(|()| true)
                .map_err(HandlerError::HostKey),
            PublicKeyOrCertificate::Certificate(_) => Err(HandlerError::HostKey(
                "the server presented a host certificate; host certificates are not supported"
                    .to_string(),
            )),
        }
    }
}

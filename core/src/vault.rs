//! Ansible Vault: reading and writing `$ANSIBLE_VAULT;1.1;AES256` (and `1.2;AES256;<label>`)
//! data, the format `ansible-vault` writes.
//!
//! The format: a header line, then the hex encoding (wrapped at 80 columns) of three lines —
//! the salt, the HMAC and the ciphertext, each in hex. Keys come from PBKDF2-HMAC-SHA256 of the
//! password and salt (10 000 rounds, 80 bytes: AES key, HMAC key, CTR counter start); the
//! plaintext is PKCS#7-padded, encrypted with AES-256-CTR and authenticated with HMAC-SHA256.
//!
//! Vault passwords ([`VaultSecrets`]) belong to a run: a [`crate::session::Session`] holds its own
//! and makes them current while it loads and runs ([`with_secrets`], [`scope_secrets`]); the
//! loaders then decrypt vault-encrypted files as they read them ([`read_text_file`]), and
//! templating decrypts `!vault` values when they are used ([`decrypt_value`]). Code running
//! outside any session sees the process-wide fallback set by [`install_secrets`].

mod scope;

pub use scope::{
    decrypt_value, install_secrets, installed_secrets, read_text_file, reveals_vault_value,
    scope_secrets, with_secrets,
};

use std::path::{Path, PathBuf};

use aes::Aes256;
use ctr::cipher::{KeyIvInit, StreamCipher};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The first characters of every vault-encrypted text.
pub const VAULT_HEADER: &str = "$ANSIBLE_VAULT";
/// The label of a password given without one (`--vault-password-file`, `--ask-vault-pass`).
pub const DEFAULT_LABEL: &str = "default";

const ROUNDS: u32 = 10_000;
const SALT_LEN: usize = 32;
const KEY_LEN: usize = 32;
const BLOCK: usize = 16;
const LINE_WIDTH: usize = 80;

type Aes256Ctr = ctr::Ctr128BE<Aes256>;
type HmacSha256 = Hmac<Sha256>;

/// What can go wrong reading vault data or vault passwords.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// Encrypted data was found but no password was given.
    #[error("{what} is vault-encrypted and no vault password was given: pass --vault-password-file FILE, --vault-id LABEL@FILE or --ask-vault-pass")]
    NoSecrets {
        /// The file or value that needs a password.
        what: String,
    },
    /// None of the given passwords decrypts the data (or the data was altered).
    #[error("{what}: decryption failed — none of the vault passwords given ({labels}) matches this data")]
    NoMatchingSecret {
        /// The file or value.
        what: String,
        /// The labels of the passwords tried.
        labels: String,
    },
    /// The text is not in the vault format.
    #[error("{what}: not valid vault data: {reason}")]
    Format {
        /// The file or value.
        what: String,
        /// What is wrong.
        reason: String,
    },
    /// A password file could not be read or its script failed.
    #[error("vault password {source_name}: {reason}")]
    PasswordSource {
        /// The file, script or `prompt`.
        source_name: String,
        /// What went wrong.
        reason: String,
    },
    /// A file could not be read.
    #[error("{source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The error (it names the file).
        source: crate::limits::ReadError,
    },
}

/// One vault password and its vault-id label.
#[derive(Clone)]
pub struct VaultSecret {
    /// The vault-id label (`default` when none was given).
    pub label: String,
    password: Vec<u8>,
}

impl std::fmt::Debug for VaultSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultSecret")
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

impl VaultSecret {
    /// A password with its label.
    pub fn new(label: impl Into<String>, password: impl Into<Vec<u8>>) -> Self {
        Self {
            label: label.into(),
            password: password.into(),
        }
    }

    /// Reads a password from a file, as Ansible does: an executable file is run and its standard
    /// output is the password (a `*-client` script gets `--vault-id LABEL`); otherwise the
    /// file's contents. Trailing whitespace is removed either way.
    pub fn from_file(label: &str, path: &Path) -> Result<Self, VaultError> {
        let source_error = |reason: String| VaultError::PasswordSource {
            source_name: format!("file {}", path.display()),
            reason,
        };
        let metadata = std::fs::metadata(path).map_err(|e| source_error(e.to_string()))?;
        let bytes = if is_executable(&metadata) {
            // A bare name (`pass.sh`) is a file in the current directory, not a PATH lookup.
            let program = if path.is_relative() && path.components().count() == 1 {
                Path::new(".").join(path)
            } else {
                path.to_path_buf()
            };
            let mut command = std::process::Command::new(program);
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
            if stem.ends_with("-client") {
                command.args(["--vault-id", label]);
            }
            let output = command
                .stderr(std::process::Stdio::inherit())
                .output()
                .map_err(|e| source_error(format!("cannot run it: {e}")))?;
            if !output.status.success() {
                return Err(source_error(format!(
                    "the script exited with {}",
                    output.status
                )));
            }
            output.stdout
        } else {
            crate::limits::read_bytes_capped(path).map_err(|e| source_error(e.reason()))?
        };
        let password = trim_end(&bytes).to_vec();
        if password.is_empty() {
            return Err(source_error("it gives an empty password".into()));
        }
        Ok(Self::new(label, password))
    }
}

#[cfg(unix)]
fn is_executable(metadata: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    metadata.is_file() && metadata.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_metadata: &std::fs::Metadata) -> bool {
    false
}

fn trim_end(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    &bytes[..end]
}

/// The vault passwords of a run, tried in order (a password whose label matches the data's
/// vault-id label first).
#[derive(Clone, Debug, Default)]
pub struct VaultSecrets {
    secrets: Vec<VaultSecret>,
    /// `!vault` values already decrypted with these passwords (shared by clones).
    decrypted: scope::DecryptedCache,
}

impl VaultSecrets {
    /// No passwords.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a password.
    pub fn push(&mut self, secret: VaultSecret) {
        self.secrets.push(secret);
    }

    /// Whether no password was given.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// The passwords, in the order given.
    pub fn secrets(&self) -> &[VaultSecret] {
        &self.secrets
    }

    /// Decrypts vault text. `what` names it in errors (a file path, `a !vault value`).
    pub fn decrypt(&self, text: &str, what: &str) -> Result<Vec<u8>, VaultError> {
        let envelope = Envelope::parse(text, what)?;
        if self.secrets.is_empty() {
            return Err(VaultError::NoSecrets { what: what.into() });
        }
        let matching = self
            .secrets
            .iter()
            .filter(|s| Some(s.label.as_str()) == envelope.label.as_deref());
        let others = self
            .secrets
            .iter()
            .filter(|s| Some(s.label.as_str()) != envelope.label.as_deref());
        for secret in matching.chain(others) {
            if let Some(plain) = envelope.open(&secret.password) {
                return Ok(plain);
            }
        }
        Err(VaultError::NoMatchingSecret {
            what: what.into(),
            labels: self
                .secrets
                .iter()
                .map(|s| s.label.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }
}

/// Whether `text` is vault-encrypted (starts with the `$ANSIBLE_VAULT` header).
pub fn is_encrypted(text: &str) -> bool {
    text.trim_start().starts_with(VAULT_HEADER)
}

/// Encrypts `plaintext` with `secret`: format 1.1 for the default label, 1.2 naming the label
/// otherwise. Lines are wrapped at 80 columns and end with a newline, as `ansible-vault` writes.
pub fn encrypt(plaintext: &[u8], secret: &VaultSecret) -> String {
    let salt: [u8; SALT_LEN] = rand::random();
    encrypt_with_salt(plaintext, secret, &salt)
}

fn encrypt_with_salt(plaintext: &[u8], secret: &VaultSecret, salt: &[u8]) -> String {
    let keys = Keys::derive(&secret.password, salt);
    let pad = BLOCK - plaintext.len() % BLOCK;
    let mut data = plaintext.to_vec();
    data.extend(std::iter::repeat_n(pad as u8, pad));
    keys.cipher().apply_keystream(&mut data);
    let mut mac = keys.mac();
    mac.update(&data);
    let tag = mac.finalize().into_bytes();
    let inner = format!(
        "{}\n{}\n{}",
        hex::encode(salt),
        hex::encode(tag),
        hex::encode(&data)
    );
    let body = hex::encode(inner.as_bytes());
    let header = if secret.label == DEFAULT_LABEL {
        format!("{VAULT_HEADER};1.1;AES256")
    } else {
        format!("{VAULT_HEADER};1.2;AES256;{}", secret.label)
    };
    let mut out = header;
    out.push('\n');
    for chunk in body.as_bytes().chunks(LINE_WIDTH) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out
}

/// Parsed vault text: the label and the three binary parts.
struct Envelope {
    label: Option<String>,
    salt: Vec<u8>,
    tag: Vec<u8>,
    ciphertext: Vec<u8>,
}

impl Envelope {
    fn parse(text: &str, what: &str) -> Result<Self, VaultError> {
        let format_error = |reason: &str| VaultError::Format {
            what: what.into(),
            reason: reason.into(),
        };
        let text = text.trim();
        let (header, body) = text.split_once('\n').unwrap_or((text, ""));
        let fields: Vec<&str> = header.trim().split(';').collect();
        if fields.first() != Some(&VAULT_HEADER) || fields.len() < 3 {
            return Err(format_error(
                "the first line is not a $ANSIBLE_VAULT header",
            ));
        }
        if !fields[2].trim().eq_ignore_ascii_case("AES256") {
            return Err(format_error(&format!(
                "cipher {} is not supported (only AES256)",
                fields[2]
            )));
        }
        let label = match fields[1] {
            "1.1" => None,
            "1.2" => fields.get(3).map(|s| s.trim().to_string()),
            other => return Err(format_error(&format!("unknown format version {other}"))),
        };
        let hex_body: String = body.split_whitespace().collect();
        let inner = hex::decode(&hex_body).map_err(|_| format_error("the body is not hex"))?;
        let inner = String::from_utf8(inner).map_err(|_| format_error("the body is not text"))?;
        let mut parts = inner.split('\n');
        let mut next_hex = |name: &str| {
            parts
                .next()
                .and_then(|p| hex::decode(p.trim()).ok())
                .ok_or_else(|| format_error(&format!("the {name} is missing or not hex")))
        };
        let salt = next_hex("salt")?;
        let tag = next_hex("HMAC")?;
        let ciphertext = next_hex("ciphertext")?;
        if ciphertext.is_empty() || ciphertext.len() % BLOCK != 0 {
            return Err(format_error(
                "the ciphertext is not a whole number of blocks",
            ));
        }
        Ok(Self {
            label,
            salt,
            tag,
            ciphertext,
        })
    }

    /// The plaintext, if `password` is the right one.
    fn open(&self, password: &[u8]) -> Option<Vec<u8>> {
        let keys = Keys::derive(password, &self.salt);
        let mut mac = keys.mac();
        mac.update(&self.ciphertext);
        mac.verify_slice(&self.tag).ok()?;
        let mut data = self.ciphertext.clone();
        keys.cipher().apply_keystream(&mut data);
        let pad = usize::from(*data.last()?);
        if pad == 0 || pad > BLOCK || pad > data.len() {
            return None;
        }
        data.truncate(data.len() - pad);
        Some(data)
    }
}

/// The keys PBKDF2 derives from a password and salt.
struct Keys {
    material: [u8; 2 * KEY_LEN + BLOCK],
}

impl Keys {
    fn derive(password: &[u8], salt: &[u8]) -> Self {
        let mut material = [0u8; 2 * KEY_LEN + BLOCK];
        pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, ROUNDS, &mut material);
        Self { material }
    }

    fn cipher(&self) -> Aes256Ctr {
        Aes256Ctr::new_from_slices(&self.material[..KEY_LEN], &self.material[2 * KEY_LEN..])
            .expect("key and counter lengths are fixed")
    }

    fn mac(&self) -> HmacSha256 {
        <HmacSha256 as KeyInit>::new_from_slice(&self.material[KEY_LEN..2 * KEY_LEN])
            .expect("HMAC takes keys of any length")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Written by ansible-vault 2.19 (`ansible-vault encrypt_string --vault-password-file`
    /// with the password `drover-test`): the plaintext `s3cret value`.
    const FROM_ANSIBLE: &str = "$ANSIBLE_VAULT;1.1;AES256
32323330633262653931306435303731396561633730326135393535313632323733663638333931
3637316135643633356661396261366437633032356263660a646535633039333964303965303863
64326531633861633466336264616563383232353462393163346332623435633638366135303435
6135313136666435640a313536333065663633303833643161636236313437386438646465393165
3235";

    fn secrets(password: &str) -> VaultSecrets {
        let mut s = VaultSecrets::new();
        s.push(VaultSecret::new(DEFAULT_LABEL, password));
        s
    }

    #[test]
    fn round_trip_and_wrong_password() {
        let secret = VaultSecret::new(DEFAULT_LABEL, "pw");
        let text = encrypt(b"hello\nworld", &secret);
        assert!(text.starts_with("$ANSIBLE_VAULT;1.1;AES256\n"));
        assert!(text.lines().skip(1).all(|l| l.len() <= 80));
        assert_eq!(
            secrets("pw").decrypt(&text, "t").unwrap(),
            b"hello\nworld".to_vec()
        );
        let err = secrets("nope").decrypt(&text, "t").unwrap_err();
        assert!(matches!(err, VaultError::NoMatchingSecret { .. }), "{err}");
        let err = VaultSecrets::new().decrypt(&text, "f.yml").unwrap_err();
        assert!(err.to_string().contains("--vault-password-file"), "{err}");
    }

    #[test]
    fn labelled_format_prefers_the_matching_password() {
        let text = encrypt(b"x", &VaultSecret::new("prod", "p2"));
        assert!(text.starts_with("$ANSIBLE_VAULT;1.2;AES256;prod\n"));
        let mut s = VaultSecrets::new();
        s.push(VaultSecret::new("dev", "p1"));
        s.push(VaultSecret::new("prod", "p2"));
        assert_eq!(s.decrypt(&text, "t").unwrap(), b"x".to_vec());
    }

    #[test]
    fn block_sized_plaintext_gets_a_whole_pad_block() {
        let secret = VaultSecret::new(DEFAULT_LABEL, "pw");
        let text = encrypt_with_salt(&[b'a'; 16], &secret, &[7u8; 32]);
        let envelope = Envelope::parse(&text, "t").unwrap();
        assert_eq!(envelope.ciphertext.len(), 32);
        assert_eq!(secrets("pw").decrypt(&text, "t").unwrap(), vec![b'a'; 16]);
    }

    #[test]
    fn tampered_or_malformed_data_is_rejected() {
        let text = encrypt(b"data", &VaultSecret::new(DEFAULT_LABEL, "pw"));
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        let last = lines.last_mut().unwrap();
        let flipped = if last.ends_with('0') { '1' } else { '0' };
        last.pop();
        last.push(flipped);
        let tampered = lines.join("\n");
        assert!(secrets("pw").decrypt(&tampered, "t").is_err());
        let err = secrets("pw")
            .decrypt("$ANSIBLE_VAULT;1.1;AES256\nzz", "f")
            .unwrap_err();
        assert!(err.to_string().contains("not hex"), "{err}");
        let err = secrets("pw").decrypt("hello", "f").unwrap_err();
        assert!(err.to_string().contains("header"), "{err}");
    }

    #[test]
    fn decrypts_what_ansible_vault_wrote() {
        assert_eq!(
            secrets("drover-test").decrypt(FROM_ANSIBLE, "t").unwrap(),
            b"s3cret value".to_vec()
        );
    }

    #[test]
    fn password_files_and_scripts() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("pw.txt");
        std::fs::write(&plain, "secret\n\n").unwrap();
        let s = VaultSecret::from_file(DEFAULT_LABEL, &plain).unwrap();
        assert_eq!(s.password, b"secret");
        let script = dir.path().join("pw-client.sh");
        std::fs::write(&script, "#!/bin/sh\necho \"from-$2\"\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let s = VaultSecret::from_file("prod", &script).unwrap();
        assert_eq!(s.password, b"from-prod");
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "\n").unwrap();
        assert!(VaultSecret::from_file(DEFAULT_LABEL, &empty).is_err());
    }
}

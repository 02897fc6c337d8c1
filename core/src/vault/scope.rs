//! Which vault passwords are current: the session's (per task or per thread), else the
//! process-wide fallback.
//!
//! Loaders and templating decrypt deep inside the library, far from any session object, so the
//! passwords travel with the work instead of through every signature: [`scope_secrets`] makes
//! them current for a future (a tokio task-local, which follows the future across worker
//! threads), [`with_secrets`] for a synchronous call on this thread. Two sessions in one process
//! each see only their own passwords. [`install_secrets`] sets a process-wide fallback for code
//! that runs outside any session (a program that calls the loaders directly).

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use super::{is_encrypted, VaultError, VaultSecrets};

/// Plaintexts of `!vault` values decrypted with one set of passwords (never printed).
#[derive(Clone, Default)]
pub(super) struct DecryptedCache(Arc<Mutex<HashMap<String, String>>>);

impl std::fmt::Debug for DecryptedCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DecryptedCache")
    }
}

static FALLBACK: RwLock<Option<Arc<VaultSecrets>>> = RwLock::new(None);

tokio::task_local! {
    static TASK_SECRETS: Arc<VaultSecrets>;
}

thread_local! {
    static THREAD_SECRETS: RefCell<Option<Arc<VaultSecrets>>> = const { RefCell::new(None) };
}

/// Installs process-wide fallback vault passwords (replacing earlier ones), used wherever no
/// session's passwords are current. Prefer a [`crate::session::Session`], which keeps its own.
pub fn install_secrets(secrets: VaultSecrets) {
    if let Ok(mut slot) = FALLBACK.write() {
        *slot = Some(Arc::new(secrets));
    }
}

/// The vault passwords current here: the running future's ([`scope_secrets`]), else this
/// thread's ([`with_secrets`]), else the process-wide fallback (empty when none was installed).
pub fn installed_secrets() -> Arc<VaultSecrets> {
    if let Ok(s) = TASK_SECRETS.try_with(Arc::clone) {
        return s;
    }
    if let Some(s) = THREAD_SECRETS.with(|slot| slot.borrow().clone()) {
        return s;
    }
    FALLBACK
        .read()
        .ok()
        .and_then(|slot| slot.clone())
        .unwrap_or_default()
}

/// Runs `f` on this thread with `secrets` as the current vault passwords.
pub fn with_secrets<R>(secrets: &Arc<VaultSecrets>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Arc<VaultSecrets>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            THREAD_SECRETS.with(|slot| *slot.borrow_mut() = previous);
        }
    }
    let previous = THREAD_SECRETS.with(|slot| slot.borrow_mut().replace(secrets.clone()));
    let _restore = Restore(previous);
    f()
}

/// Runs `future` with `secrets` as the current vault passwords, on whatever thread polls it.
pub async fn scope_secrets<F: Future>(secrets: Arc<VaultSecrets>, future: F) -> F::Output {
    TASK_SECRETS.scope(secrets, future).await
}

/// Reads a text file, decrypting it with the current passwords if it is vault-encrypted.
pub fn read_text_file(path: &Path) -> Result<String, VaultError> {
    let text = crate::limits::read_text(path).map_err(|source| VaultError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if !is_encrypted(&text) {
        return Ok(text);
    }
    let what = path.display().to_string();
    let secrets = installed_secrets();
    let plain = secrets.decrypt(&text, &what)?;
    let plain = String::from_utf8(plain).map_err(|_| VaultError::Format {
        what: what.clone(),
        reason: "the decrypted data is not UTF-8 text".into(),
    })?;
    if let Ok(mut cache) = secrets.decrypted.0.lock() {
        cache.insert(format!("{FILE_KEY}{what}"), plain.clone());
    }
    Ok(plain)
}

/// Cache keys of decrypted files (no ciphertext starts with NUL).
const FILE_KEY: &str = "\0file:";

/// Whether `text` contains a value decrypted with the current passwords: a `!vault` value, or
/// a scalar of a vault-encrypted file (values shorter than 3 characters are not looked for).
/// Used to keep secrets out of files drover writes (`--summary`).
pub fn reveals_vault_value(text: &str) -> bool {
    let secrets = installed_secrets();
    let Ok(cache) = secrets.decrypted.0.lock() else {
        return false;
    };
    let found = |secret: &str| {
        let secret = secret.trim();
        secret.len() >= 3 && text.contains(secret)
    };
    cache.iter().any(|(key, plain)| {
        if key.starts_with(FILE_KEY) {
            file_scalars(plain).any(found)
        } else {
            found(plain)
        }
    })
}

/// The scalars of a decrypted YAML file (`key: value` and `- value` lines; block scalars line
/// by line), quotes removed.
fn file_scalars(plain: &str) -> impl Iterator<Item = &str> {
    plain.lines().filter_map(|line| {
        let line = line.trim();
        let value = match line.split_once(": ") {
            Some((_, v)) => v,
            None => line.strip_prefix("- ").unwrap_or(line),
        };
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
        (!value.is_empty() && !value.starts_with('#') && value != "|" && value != ">")
            .then_some(value)
    })
}

/// Decrypts the text of a `!vault` value with the current passwords (each distinct value is
/// decrypted once per set of passwords).
pub fn decrypt_value(ciphertext: &str) -> Result<String, VaultError> {
    let secrets = installed_secrets();
    let cache = &secrets.decrypted.0;
    if let Some(plain) = cache
        .lock()
        .ok()
        .and_then(|cache| cache.get(ciphertext).cloned())
    {
        return Ok(plain);
    }
    let what = "a !vault value";
    let plain = secrets.decrypt(ciphertext, what)?;
    let plain = String::from_utf8(plain).map_err(|_| VaultError::Format {
        what: what.into(),
        reason: "the decrypted data is not UTF-8 text".into(),
    })?;
    if let Ok(mut cache) = cache.lock() {
        cache.insert(ciphertext.to_string(), plain.clone());
    }
    Ok(plain)
}

#[cfg(test)]
mod tests {
    use super::super::{encrypt, VaultSecret, DEFAULT_LABEL};
    use super::*;

    fn secrets(password: &str) -> Arc<VaultSecrets> {
        let mut s = VaultSecrets::new();
        s.push(VaultSecret::new(DEFAULT_LABEL, password));
        Arc::new(s)
    }

    #[test]
    fn each_scope_sees_only_its_own_passwords() {
        let a = secrets("alpha");
        let b = secrets("beta");
        let text = encrypt(b"for a", &a.secrets()[0]);
        assert_eq!(with_secrets(&a, || decrypt_value(&text)).unwrap(), "for a");
        // The plaintext cached for `a` is not served to `b`.
        assert!(with_secrets(&b, || decrypt_value(&text)).is_err());
        let nested = with_secrets(&a, || with_secrets(&b, installed_secrets));
        assert!(Arc::ptr_eq(&nested, &b));
    }

    #[test]
    fn vault_values_are_recognised() {
        let secrets = secrets("pw");
        let secret = VaultSecret::new(DEFAULT_LABEL, "pw");
        let inline = encrypt(b"s3cr3t-inline", &secret);
        with_secrets(&secrets, || {
            assert!(!reveals_vault_value("x s3cr3t-inline y"));
            decrypt_value(&inline).unwrap();
            assert!(reveals_vault_value("x s3cr3t-inline y"));
            assert!(!reveals_vault_value("nothing here"));
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("v.yml");
            let text = encrypt(b"db_password: 'filesecret9'\n", &secret);
            std::fs::write(&path, text).unwrap();
            read_text_file(&path).unwrap();
            assert!(reveals_vault_value("pw=filesecret9"));
            assert!(!reveals_vault_value("db_password"));
        });
    }

    #[tokio::test]
    async fn a_task_scope_follows_the_future() {
        let a = secrets("alpha");
        let text = encrypt(b"task", &a.secrets()[0]);
        let plain = scope_secrets(a.clone(), async {
            tokio::task::yield_now().await;
            decrypt_value(&text)
        })
        .await;
        assert_eq!(plain.unwrap(), "task");
    }
}

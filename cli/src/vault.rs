//! Vault passwords from the command line and `ansible.cfg`, and `drover vault` (encrypt,
//! decrypt, view, encrypt_string — compatible with `ansible-vault`).

use std::io::Read;
use std::path::{Path, PathBuf};

use drover_core::config::AnsibleConfig;
use drover_core::session::PromptKind;
use drover_core::vault::{self, VaultSecret, VaultSecrets, DEFAULT_LABEL};

use crate::args::{VaultAction, VaultArgs, VaultCommand};
use crate::prompt_secret;

/// Collects the vault passwords named by `args` and the configuration, in Ansible's order:
/// `--vault-id`s, then `--vault-password-file`s, then `--ask-vault-pass`; the configuration's
/// `vault_identity_list` and `vault_password_file` only when the command line names none.
pub fn collect_secrets(args: &VaultArgs, cfg: &AnsibleConfig) -> Result<VaultSecrets, String> {
    let mut secrets = VaultSecrets::new();
    for id in &args.vault_id {
        secrets.push(secret_from_id(id)?);
    }
    for file in &args.vault_password_file {
        secrets.push(VaultSecret::from_file(DEFAULT_LABEL, file).map_err(|e| e.to_string())?);
    }
    if args.ask_vault_pass {
        secrets.push(prompted(DEFAULT_LABEL)?);
    }
    if secrets.is_empty() {
        for id in &cfg.vault_identity_list {
            secrets.push(secret_from_id(id)?);
        }
        for file in &cfg.vault_password_file {
            secrets.push(VaultSecret::from_file(DEFAULT_LABEL, file).map_err(|e| e.to_string())?);
        }
    }
    Ok(secrets)
}

/// `LABEL@SOURCE` or `SOURCE`, where SOURCE is a password file, a script or `prompt`.
fn secret_from_id(id: &str) -> Result<VaultSecret, String> {
    let (label, source) = match id.split_once('@') {
        Some((label, source)) => (label, source),
        None => (DEFAULT_LABEL, id),
    };
    if source == "prompt" || source == "prompt_ask_vault_pass" {
        return prompted(label);
    }
    VaultSecret::from_file(label, Path::new(source)).map_err(|e| e.to_string())
}

fn prompted(label: &str) -> Result<VaultSecret, String> {
    let prompt = if label == DEFAULT_LABEL {
        "Vault password: ".to_string()
    } else {
        format!("Vault password ({label}): ")
    };
    let kind = PromptKind::VaultPassword {
        label: label.to_string(),
    };
    let password = prompt_secret(kind, &prompt)
        .map_err(|e| format!("--ask-vault-pass: {e}; use --vault-password-file FILE instead"))?;
    if password.is_empty() {
        return Err("the vault password is empty".into());
    }
    Ok(VaultSecret::new(label, password))
}

/// Runs `drover vault ACTION`.
pub fn run(command: &VaultCommand, cfg: &AnsibleConfig) -> Result<(), String> {
    let secrets = collect_secrets(&command.vault, cfg)?;
    let Some(first) = secrets.secrets().first().cloned() else {
        return Err(
            "no vault password given: pass --vault-password-file FILE, --vault-id LABEL@FILE or --ask-vault-pass"
                .into(),
        );
    };
    let encrypt_secret = match &command.encrypt_vault_id {
        Some(label) => secrets
            .secrets()
            .iter()
            .find(|s| &s.label == label)
            .cloned()
            .ok_or_else(|| {
                format!("--encrypt-vault-id {label}: no password with that label was given")
            })?,
        None => first,
    };
    match &command.action {
        VaultAction::Encrypt { files } => {
            for file in files {
                let text = read(file)?;
                if vault::is_encrypted(&String::from_utf8_lossy(&text)) {
                    return Err(format!("{} is already encrypted", file.display()));
                }
                write_atomic(file, vault::encrypt(&text, &encrypt_secret).as_bytes())?;
                eprintln!("Encryption successful");
            }
        }
        VaultAction::Decrypt { files } => {
            for file in files {
                let plain = decrypt_file(file, &secrets)?;
                write_atomic(file, &plain)?;
                eprintln!("Decryption successful");
            }
        }
        VaultAction::View { files } => {
            for file in files {
                let plain = decrypt_file(file, &secrets)?;
                print!("{}", String::from_utf8_lossy(&plain));
            }
        }
        VaultAction::EncryptString { text, name } => {
            let plain = match text {
                Some(t) => t.clone(),
                None => {
                    let mut s = String::new();
                    std::io::stdin()
                        .read_to_string(&mut s)
                        .map_err(|e| format!("cannot read standard input: {e}"))?;
                    s
                }
            };
            let encrypted = vault::encrypt(plain.as_bytes(), &encrypt_secret);
            let indented: String = encrypted
                .lines()
                .map(|l| format!("          {l}\n"))
                .collect();
            match name {
                Some(n) => print!("{n}: !vault |\n{indented}"),
                None => print!("!vault |\n{indented}"),
            }
        }
    }
    Ok(())
}

fn read(file: &Path) -> Result<Vec<u8>, String> {
    drover_core::limits::read_bytes_capped(file).map_err(|e| e.to_string())
}

fn decrypt_file(file: &Path, secrets: &VaultSecrets) -> Result<Vec<u8>, String> {
    let text = String::from_utf8_lossy(&read(file)?).into_owned();
    if !vault::is_encrypted(&text) {
        return Err(format!("{} is not vault-encrypted", file.display()));
    }
    secrets
        .decrypt(&text, &file.display().to_string())
        .map_err(|e| e.to_string())
}

/// Writes beside the file and renames over it, keeping the file's permissions.
fn write_atomic(file: &Path, data: &[u8]) -> Result<(), String> {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp: PathBuf = file.with_file_name(format!(".{name}.drover-tmp"));
    let error = |e: std::io::Error| format!("cannot write {}: {e}", file.display());
    std::fs::write(&temp, data).map_err(error)?;
    if let Ok(metadata) = std::fs::metadata(file) {
        std::fs::set_permissions(&temp, metadata.permissions()).map_err(error)?;
    }
    std::fs::rename(&temp, file).map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        error(e)
    })
}

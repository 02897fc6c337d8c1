//! Reading `ansible.cfg` settings drover honours, and their `ANSIBLE_*` environment overrides.
//!
//! Search order as Ansible's: `$ANSIBLE_CONFIG`, `./ansible.cfg`, `~/.ansible.cfg`,
//! `/etc/ansible/ansible.cfg`; the first that exists is used. Environment variables win over the file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Settings from `ansible.cfg` and the environment.
#[derive(Debug, Clone, Default)]
pub struct AnsibleConfig {
    /// The file the settings came from, if any.
    pub path: Option<PathBuf>,
    /// `[defaults] inventory`.
    pub inventory: Vec<String>,
    /// `[defaults] forks`.
    pub forks: Option<usize>,
    /// `[defaults] host_key_checking`.
    pub host_key_checking: Option<bool>,
    /// `[defaults] remote_user`.
    pub remote_user: Option<String>,
    /// `[defaults] private_key_file`.
    pub private_key_file: Option<PathBuf>,
    /// `[defaults] timeout` (connect timeout, seconds).
    pub timeout: Option<u64>,
    /// `[defaults] roles_path`, split on `:`.
    pub roles_path: Vec<PathBuf>,
    /// `[defaults] force_handlers`.
    pub force_handlers: Option<bool>,
    /// `[defaults] strategy` (the default for plays without a `strategy` keyword).
    pub strategy: Option<String>,
    /// `[privilege_escalation] become`.
    pub become_: Option<bool>,
    /// `[privilege_escalation] become_user`.
    pub become_user: Option<String>,
    /// `[privilege_escalation] become_method`.
    pub become_method: Option<String>,
    /// `[ssh_connection] ssh_common_args` / `ssh_args`.
    pub ssh_common_args: Option<String>,
    /// `[defaults] vault_password_file` (`ANSIBLE_VAULT_PASSWORD_FILE`), split on `,`.
    pub vault_password_file: Vec<PathBuf>,
    /// `[defaults] vault_identity_list` (`ANSIBLE_VAULT_IDENTITY_LIST`): `label@source` entries.
    pub vault_identity_list: Vec<String>,
    /// drover's own `[defaults] drover_strict` (`DROVER_STRICT`): every module argument
    /// problem stops the run before any host is touched, as `drover play --strict` does
    /// (ansible-core ignores the key).
    pub strict: Option<bool>,
    /// drover's deploy-lock settings (`[drover]` `lock*` keys, `DROVER_LOCK_*`).
    pub lock: crate::lock::LockConfig,
}

/// Ansible's boolean spelling (`yes`, `True`, `1`, `on`).
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "yes" | "y" | "true" | "t" | "on" => Some(true),
        "0" | "no" | "n" | "false" | "f" | "off" | "" => Some(false),
        _ => None,
    }
}

/// Parses INI text into `section.key → value`.
fn parse_ini(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut section = String::from("defaults");
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = s.trim().to_string();
            continue;
        }
        if let Some((k, v)) = line.split_once('=').or_else(|| line.split_once(':')) {
            out.insert(format!("{section}.{}", k.trim()), v.trim().to_string());
        }
    }
    out
}

/// A comma-separated setting's entries, trimmed, empty ones dropped.
fn split_list(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
}

fn expand_home(p: &str) -> PathBuf {
    match p.strip_prefix("~/") {
        Some(rest) => dirs::home_dir().unwrap_or_default().join(rest),
        None => PathBuf::from(p),
    }
}

impl AnsibleConfig {
    /// Finds and reads the configuration, then applies environment overrides.
    pub fn load() -> Self {
        let candidates: Vec<PathBuf> = std::env::var_os("ANSIBLE_CONFIG")
            .map(PathBuf::from)
            .into_iter()
            .chain([
                PathBuf::from("ansible.cfg"),
                dirs::home_dir().unwrap_or_default().join(".ansible.cfg"),
                PathBuf::from("/etc/ansible/ansible.cfg"),
            ])
            .collect();
        let path = candidates.into_iter().find(|p| p.is_file());
        let mut cfg = match &path {
            Some(p) => Self::from_file(p),
            None => Self::default(),
        };
        cfg.apply_env(|k| std::env::var(k).ok());
        cfg
    }

    /// Reads settings from one file (no environment overrides).
    pub fn from_file(path: &Path) -> Self {
        let text = crate::limits::read_text(path).unwrap_or_default();
        let mut cfg = Self::from_ini(&text);
        cfg.path = Some(path.to_path_buf());
        cfg
    }

    fn from_ini(text: &str) -> Self {
        let ini = parse_ini(text);
        let get = |k: &str| ini.get(k).cloned();
        Self {
            path: None,
            inventory: get("defaults.inventory")
                .map(|s| s.split(',').map(|p| p.trim().to_string()).collect())
                .unwrap_or_default(),
            forks: get("defaults.forks").and_then(|s| s.parse().ok()),
            host_key_checking: get("defaults.host_key_checking").and_then(|s| parse_bool(&s)),
            remote_user: get("defaults.remote_user"),
            private_key_file: get("defaults.private_key_file").map(|p| expand_home(&p)),
            timeout: get("defaults.timeout").and_then(|s| s.parse().ok()),
            roles_path: get("defaults.roles_path")
                .map(|s| s.split(':').map(expand_home).collect())
                .unwrap_or_default(),
            force_handlers: get("defaults.force_handlers").and_then(|s| parse_bool(&s)),
            strategy: get("defaults.strategy"),
            become_: get("privilege_escalation.become").and_then(|s| parse_bool(&s)),
            become_user: get("privilege_escalation.become_user"),
            become_method: get("privilege_escalation.become_method"),
            ssh_common_args: get("ssh_connection.ssh_common_args"),
            vault_password_file: get("defaults.vault_password_file")
                .map(|s| split_list(&s).map(|p| expand_home(&p)).collect())
                .unwrap_or_default(),
            vault_identity_list: get("defaults.vault_identity_list")
                .map(|s| split_list(&s).collect())
                .unwrap_or_default(),
            strict: get("defaults.drover_strict").and_then(|s| parse_bool(&s)),
            lock: crate::lock::LockConfig::from_ini(&ini),
        }
    }

    /// Applies `ANSIBLE_*` overrides read through `env`.
    pub fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) {
        if let Some(v) = env("ANSIBLE_INVENTORY") {
            self.inventory = v.split(',').map(|p| p.trim().to_string()).collect();
        }
        if let Some(v) = env("ANSIBLE_FORKS").and_then(|s| s.parse().ok()) {
            self.forks = Some(v);
        }
        if let Some(v) = env("ANSIBLE_HOST_KEY_CHECKING").and_then(|s| parse_bool(&s)) {
            self.host_key_checking = Some(v);
        }
        if let Some(v) = env("ANSIBLE_REMOTE_USER") {
            self.remote_user = Some(v);
        }
        if let Some(v) = env("ANSIBLE_PRIVATE_KEY_FILE") {
            self.private_key_file = Some(expand_home(&v));
        }
        if let Some(v) = env("ANSIBLE_TIMEOUT").and_then(|s| s.parse().ok()) {
            self.timeout = Some(v);
        }
        if let Some(v) = env("ANSIBLE_ROLES_PATH") {
            self.roles_path = v.split(':').map(expand_home).collect();
        }
        if let Some(v) = env("ANSIBLE_BECOME").and_then(|s| parse_bool(&s)) {
            self.become_ = Some(v);
        }
        if let Some(v) = env("ANSIBLE_SSH_COMMON_ARGS") {
            self.ssh_common_args = Some(v);
        }
        if let Some(v) = env("ANSIBLE_VAULT_PASSWORD_FILE") {
            self.vault_password_file = split_list(&v).map(|p| expand_home(&p)).collect();
        }
        if let Some(v) = env("ANSIBLE_VAULT_IDENTITY_LIST") {
            self.vault_identity_list = split_list(&v).collect();
        }
        if let Some(v) = env("ANSIBLE_STRATEGY") {
            self.strategy = Some(v);
        }
        if let Some(v) = env("DROVER_STRICT").and_then(|s| parse_bool(&s)) {
            self.strict = Some(v);
        }
        self.lock.apply_env(&env);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sections_and_env_overrides() {
        let mut cfg = AnsibleConfig::from_ini(
            "[defaults]\ninventory = inv/hosts\nforks=20\nhost_key_checking = False\n[privilege_escalation]\nbecome = yes\n",
        );
        assert_eq!(cfg.inventory, vec!["inv/hosts"]);
        assert_eq!(cfg.forks, Some(20));
        assert_eq!(cfg.host_key_checking, Some(false));
        assert_eq!(cfg.become_, Some(true));
        cfg.apply_env(|k| (k == "ANSIBLE_HOST_KEY_CHECKING").then(|| "True".to_string()));
        assert_eq!(cfg.host_key_checking, Some(true));
    }

    #[test]
    fn strict_from_file_and_environment() {
        let mut cfg = AnsibleConfig::from_ini("[defaults]\ndrover_strict = yes\n");
        assert_eq!(cfg.strict, Some(true));
        cfg.apply_env(|k| (k == "DROVER_STRICT").then(|| "0".to_string()));
        assert_eq!(cfg.strict, Some(false));
        assert_eq!(AnsibleConfig::from_ini("").strict, None);
    }
}

//! Reading `ansible.cfg` settings drover honours, and their `ANSIBLE_*` environment overrides.
//!
//! Search order as Ansible's: `$ANSIBLE_CONFIG`, `./ansible.cfg`, `~/.ansible.cfg`,
//! `/etc/ansible/ansible.cfg`; the first that exists is used. Environment variables win over the file.
//! Every setting is one entry of [`SETTINGS`] (name, keys, variables, default, type), which both
//! fills [`AnsibleConfig`] and is what `drover config` shows.

mod settings;
mod source;
mod value;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub use settings::{setting, Setting, SETTINGS};
pub use source::{
    default_value, find_config_file, resolve, resolve_all, ConfigFile, IniEntry, Origin, Resolved,
};
pub use value::{Kind, Value};

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
    /// `[defaults] collections_path` (`ANSIBLE_COLLECTIONS_PATH`), split on `:`.
    pub collections_path: Vec<PathBuf>,
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
    /// `[ssh_connection] retries` (`ANSIBLE_SSH_RETRIES`): connection attempts after the first.
    pub ssh_retries: Option<u32>,
    /// drover's `[ssh_connection] drover_retry_backoff` (`DROVER_SSH_RETRY_BACKOFF`): seconds
    /// before the first retry, doubled for each next one (at most 30 s).
    pub ssh_retry_backoff: Option<f64>,
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
    /// Settings that were set but could not be read, and lines of the file that are not INI
    /// (each one message; the setting keeps its default).
    pub problems: Vec<String>,
    /// Every `section.key` of the file as written (e.g. `defaults.nocolor`, `colors.ok`), for
    /// settings read where they are used (colours, callbacks).
    pub ini: HashMap<String, String>,
}

/// Ansible's boolean spelling (`yes`, `True`, `1`, `on`).
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "yes" | "y" | "true" | "t" | "on" => Some(true),
        "0" | "no" | "n" | "false" | "f" | "off" | "" => Some(false),
        _ => None,
    }
}

impl AnsibleConfig {
    /// Finds and reads the configuration, then applies environment overrides.
    pub fn load() -> Self {
        Self::load_with(&|k| std::env::var(k).ok())
    }

    /// [`AnsibleConfig::load`] with the environment read through `env`.
    pub fn load_with(env: &dyn Fn(&str) -> Option<String>) -> Self {
        let (file, mut problems) = match find_config_file(env) {
            Some(path) => match ConfigFile::read(&path) {
                Ok(f) => (Some(f), Vec::new()),
                Err(e) => (None, vec![format!("cannot read {}: {e}", path.display())]),
            },
            None => (None, Vec::new()),
        };
        let mut cfg = Self::from_resolved(file.as_ref(), env);
        problems.append(&mut cfg.problems);
        cfg.problems = problems;
        cfg
    }

    /// Reads settings from one file (no environment overrides).
    pub fn from_file(path: &Path) -> Self {
        let file = ConfigFile::read(path).unwrap_or_else(|_| ConfigFile {
            path: path.to_path_buf(),
            ..ConfigFile::default()
        });
        let mut cfg = Self::from_resolved(Some(&file), &|_| None);
        cfg.path = Some(path.to_path_buf());
        cfg
    }

    #[cfg(test)]
    fn from_ini(text: &str) -> Self {
        let file = ConfigFile::parse(Path::new("/c/ansible.cfg"), text);
        Self::from_resolved(Some(&file), &|_| None)
    }

    /// The settings `file` and `env` set (defaults stay unset: `None` or empty).
    fn from_resolved(file: Option<&ConfigFile>, env: &dyn Fn(&str) -> Option<String>) -> Self {
        let mut cfg = Self {
            path: file.map(|f| f.path.clone()),
            problems: file.map(|f| f.problems.clone()).unwrap_or_default(),
            ini: file
                .iter()
                .flat_map(|f| &f.entries)
                .map(|e| (format!("{}.{}", e.section, e.key), e.value.clone()))
                .collect(),
            ..Self::default()
        };
        for r in resolve_all(file, env) {
            if let Some(p) = r.problem {
                cfg.problems.push(p);
            } else if r.origin != Origin::Default {
                (r.setting.store)(&mut cfg, r.value);
            }
        }
        cfg
    }

    /// Applies `ANSIBLE_*` (and `DROVER_*`) overrides read through `env`.
    pub fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) {
        for s in SETTINGS {
            let Some(text) = s.env.iter().rev().find_map(|name| env(name)) else {
                continue;
            };
            match s.kind.parse(&text, None, &env) {
                Ok(v) => (s.store)(self, v),
                Err(e) => self.problems.push(format!("{}: {e}", s.name)),
            }
        }
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
        assert_eq!(cfg.inventory, vec!["/c/inv/hosts"]);
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

    #[test]
    fn lock_settings_from_file_then_environment() {
        let mut cfg = AnsibleConfig::from_ini(
            "[drover]\nlock_dir = /srv/locks\nlock_wait = 5m\nlock = yes\n[defaults]\nlock_dir = /ignored\n",
        );
        assert_eq!(cfg.lock.dir.as_deref(), Some("/srv/locks"));
        assert_eq!(cfg.lock.enabled, Some(true));
        cfg.apply_env(|k| match k {
            "DROVER_NO_LOCK" => Some("1".into()),
            "DROVER_LOCK_OWNER" => Some("ops".into()),
            "DROVER_LOCK_TTL" => Some(" ".into()),
            _ => None,
        });
        assert_eq!(cfg.lock.enabled, Some(false));
        assert_eq!(cfg.lock.owner.as_deref(), Some("ops"));
        assert_eq!(cfg.lock.wait.as_deref(), Some("5m"));
        assert_eq!(cfg.lock.ttl, None);
        let cfg = AnsibleConfig::from_ini("[drover]\nlock = no\n");
        assert_eq!(cfg.lock.enabled, Some(false));
    }
}

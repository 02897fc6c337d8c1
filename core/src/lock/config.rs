//! Lock settings from `ansible.cfg` (`[drover]` section) and `DROVER_LOCK_*` variables.

use std::collections::HashMap;

use crate::config::parse_bool;

/// The `[drover]` lock keys of `ansible.cfg`, overridden by the environment. Every field is
/// optional: command-line options win over these, and these over the defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LockConfig {
    /// `lock` / `DROVER_LOCK` (`DROVER_NO_LOCK=1` is `false`): take deploy locks.
    pub enabled: Option<bool>,
    /// `lock_dir` / `DROVER_LOCK_DIR`.
    pub dir: Option<String>,
    /// `lock_owner` / `DROVER_LOCK_OWNER`.
    pub owner: Option<String>,
    /// `lock_wait` / `DROVER_LOCK_WAIT` (a duration such as `5m`).
    pub wait: Option<String>,
    /// `lock_ttl` / `DROVER_LOCK_TTL`.
    pub ttl: Option<String>,
    /// `lock_name` / `DROVER_LOCK_NAME`.
    pub name: Option<String>,
    /// `lock_host` / `DROVER_LOCK_HOST`.
    pub host: Option<String>,
}

impl LockConfig {
    /// Reads the `drover.lock*` keys of a parsed INI file (`section.key` → value).
    pub fn from_ini(ini: &HashMap<String, String>) -> Self {
        let get = |k: &str| ini.get(&format!("drover.{k}")).cloned();
        Self {
            enabled: get("lock").and_then(|v| parse_bool(&v)),
            dir: get("lock_dir"),
            owner: get("lock_owner"),
            wait: get("lock_wait"),
            ttl: get("lock_ttl"),
            name: get("lock_name"),
            host: get("lock_host"),
        }
    }

    /// Applies `DROVER_LOCK`, `DROVER_NO_LOCK` and `DROVER_LOCK_{DIR,OWNER,WAIT,TTL,NAME,HOST}`.
    pub fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) {
        if let Some(v) = env("DROVER_LOCK").and_then(|v| parse_bool(&v)) {
            self.enabled = Some(v);
        }
        if let Some(v) = env("DROVER_NO_LOCK").and_then(|v| parse_bool(&v)) {
            if v {
                self.enabled = Some(false);
            }
        }
        let fields: [(&str, &mut Option<String>); 6] = [
            ("DROVER_LOCK_DIR", &mut self.dir),
            ("DROVER_LOCK_OWNER", &mut self.owner),
            ("DROVER_LOCK_WAIT", &mut self.wait),
            ("DROVER_LOCK_TTL", &mut self.ttl),
            ("DROVER_LOCK_NAME", &mut self.name),
            ("DROVER_LOCK_HOST", &mut self.host),
        ];
        for (name, field) in fields {
            if let Some(v) = env(name).filter(|v| !v.trim().is_empty()) {
                *field = Some(v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_then_environment() {
        let ini: HashMap<String, String> = [
            ("drover.lock_dir", "/srv/locks"),
            ("drover.lock_wait", "5m"),
            ("drover.lock", "yes"),
            ("defaults.lock_dir", "/ignored"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let mut c = LockConfig::from_ini(&ini);
        assert_eq!(c.dir.as_deref(), Some("/srv/locks"));
        assert_eq!(c.enabled, Some(true));
        c.apply_env(|k| match k {
            "DROVER_NO_LOCK" => Some("1".into()),
            "DROVER_LOCK_OWNER" => Some("ops".into()),
            _ => None,
        });
        assert_eq!(c.enabled, Some(false));
        assert_eq!(c.owner.as_deref(), Some("ops"));
        assert_eq!(c.wait.as_deref(), Some("5m"));
    }
}

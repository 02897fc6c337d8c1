//! Lock settings from `ansible.cfg` (`[drover]` section) and `DROVER_LOCK_*` variables, filled
//! through the settings table ([`crate::config::SETTINGS`]).

/// The `[drover]` lock keys of `ansible.cfg`, overridden by the environment. Every field is
/// optional: command-line options win over these, and these over the defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LockConfig {
    /// `lock` / `DROVER_LOCK` (`no_lock` / `DROVER_NO_LOCK=1` is `false`): take deploy locks.
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

//! Run options from `ansible.cfg` and its `ANSIBLE_*` environment overrides.

use std::time::Duration;

use crate::config::AnsibleConfig;
use crate::executor::RunOptions;

impl RunOptions {
    /// The options `ansible.cfg` (and the environment) give, before any command-line flag:
    /// forks, become, remote user, private key, SSH arguments, host key checking, timeout,
    /// force_handlers and strategy. Everything else is [`RunOptions::default`].
    pub fn from_config(cfg: &AnsibleConfig) -> Self {
        let defaults = Self::default();
        Self {
            forks: cfg.forks.unwrap_or(defaults.forks),
            become_: cfg.become_.unwrap_or(false),
            become_user: cfg.become_user.clone(),
            become_method: cfg.become_method.clone(),
            remote_user: cfg.remote_user.clone(),
            private_key: cfg.private_key_file.clone(),
            ssh_common_args: cfg.ssh_common_args.clone(),
            host_key_checking: cfg.host_key_checking.unwrap_or(true),
            connect_timeout: cfg
                .timeout
                .map(Duration::from_secs)
                .unwrap_or(defaults.connect_timeout),
            force_handlers: cfg.force_handlers.unwrap_or(false),
            strategy: cfg.strategy.clone(),
            ssh_retries: cfg.ssh_retries.unwrap_or(defaults.ssh_retries),
            ssh_retry_backoff: cfg
                .ssh_retry_backoff
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(Duration::from_secs_f64)
                .unwrap_or(defaults.ssh_retry_backoff),
            ..defaults
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_values_fill_the_options() {
        let cfg = AnsibleConfig {
            forks: Some(12),
            timeout: Some(3),
            host_key_checking: Some(false),
            remote_user: Some("deploy".into()),
            ..AnsibleConfig::default()
        };
        let opts = RunOptions::from_config(&cfg);
        assert_eq!(opts.forks, 12);
        assert_eq!(opts.connect_timeout, Duration::from_secs(3));
        assert!(!opts.host_key_checking);
        assert_eq!(opts.remote_user.as_deref(), Some("deploy"));
        let plain = RunOptions::from_config(&AnsibleConfig::default());
        assert_eq!(plain.forks, 5);
        assert!(plain.host_key_checking);
    }
}

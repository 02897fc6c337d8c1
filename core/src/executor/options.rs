//! Options for a run, as the CLI (or an embedding program) sets them.

use std::path::PathBuf;
use std::time::Duration;

use crate::session::{SharedPrompter, Transports};
use crate::vars::Vars;

/// Settings that apply to a whole run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Who answers `vars_prompt`, `pause`, `--step` and key passphrase questions (by default
    /// nobody: defaults are used or the run stops with an error; stdin is never read).
    pub prompter: SharedPrompter,
    /// Transports added by the embedding program, by `ansible_connection` name.
    pub transports: Transports,
    /// `--check`: report changes without making them.
    pub check: bool,
    /// `--diff`: show before/after differences.
    pub diff: bool,
    /// `--forks`: hosts worked on at the same time.
    pub forks: usize,
    /// `--limit` pattern.
    pub limit: Option<String>,
    /// `--extra-vars`, highest precedence.
    pub extra_vars: Vars,
    /// `-v` count.
    pub verbosity: u8,
    /// `--become`.
    pub become_: bool,
    /// `--become-user`.
    pub become_user: Option<String>,
    /// `--become-method`.
    pub become_method: Option<String>,
    /// Password for become (`-K`).
    pub become_password: Option<String>,
    /// `--user`.
    pub remote_user: Option<String>,
    /// `--private-key`.
    pub private_key: Option<PathBuf>,
    /// `--connection`.
    pub connection: Option<String>,
    /// `--ssh-common-args`.
    pub ssh_common_args: Option<String>,
    /// `--ssh-extra-args`.
    pub ssh_extra_args: Option<String>,
    /// Verify host keys (`host_key_checking`; default true).
    pub host_key_checking: bool,
    /// Connection timeout (`--timeout`).
    pub connect_timeout: Duration,
    /// `--force-handlers`.
    pub force_handlers: bool,
    /// `--tags` (empty: all).
    pub tags: Vec<String>,
    /// `--skip-tags`.
    pub skip_tags: Vec<String>,
    /// `--start-at-task`: skip tasks until one with this name.
    pub start_at_task: Option<String>,
    /// `--step`: ask on the terminal before each task.
    pub step: bool,
    /// Strategy for plays without a `strategy` keyword (`ANSIBLE_STRATEGY`, `ansible.cfg`);
    /// `None` is `linear`.
    pub strategy: Option<String>,
    /// Deploy locks to take before the first task (`None`: no locking, the library default;
    /// `drover play` sets them unless `--no-lock`). See [`crate::lock`].
    pub lock: Option<crate::lock::LockSettings>,
    /// Stops the run when triggered (Ctrl-C): see [`crate::interrupt`].
    pub interrupt: crate::interrupt::Interrupt,
    /// `--resume`: the earlier run this one continues.
    pub resume: Option<std::sync::Arc<crate::progress::ResumePlan>>,
    /// Send [`crate::events::Event::HostCheckpoint`]s (for `--summary`).
    pub checkpoints: bool,
    /// SSH connection attempts after a failed first one (`ansible_ssh_retries` overrides it).
    pub ssh_retries: u32,
    /// Wait before the first SSH connection retry; doubled for each next one, at most 30 s.
    pub ssh_retry_backoff: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            prompter: SharedPrompter::default(),
            transports: Transports::default(),
            check: false,
            diff: false,
            forks: 5,
            limit: None,
            extra_vars: Vars::new(),
            verbosity: 0,
            become_: false,
            become_user: None,
            become_method: None,
            become_password: None,
            remote_user: None,
            private_key: None,
            connection: None,
            ssh_common_args: None,
            ssh_extra_args: None,
            host_key_checking: true,
            connect_timeout: Duration::from_secs(10),
            force_handlers: false,
            tags: Vec::new(),
            skip_tags: Vec::new(),
            start_at_task: None,
            step: false,
            strategy: None,
            lock: None,
            interrupt: crate::interrupt::Interrupt::default(),
            resume: None,
            checkpoints: false,
            ssh_retries: 0,
            ssh_retry_backoff: Duration::from_secs(1),
        }
    }
}

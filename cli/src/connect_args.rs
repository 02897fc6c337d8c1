//! The options `drover play` and `drover run` share (ansible's names): which hosts and how to
//! run there ([`HostArgs`]), how to reach them and whom to become ([`ConnectArgs`]).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use drover_core::executor::RunOptions;
use drover_core::vars::Vars;

use crate::{extra_vars, prompt_secret};
use drover_core::session::PromptKind;

/// Which hosts, with which variables, and how the run treats them.
#[derive(Debug, Clone, Args)]
pub struct HostArgs {
    /// Inventory file, directory or comma-separated host list (repeatable).
    #[arg(short = 'i', long = "inventory", value_name = "INVENTORY")]
    pub inventory: Vec<String>,
    /// Limit to hosts matching this pattern.
    #[arg(short = 'l', long = "limit", value_name = "SUBSET")]
    pub limit: Option<String>,
    /// Extra variables: key=value pairs, YAML/JSON, or @file (repeatable).
    #[arg(short = 'e', long = "extra-vars", value_name = "EXTRA_VARS")]
    pub extra_vars: Vec<String>,
    /// Report what would change without changing anything.
    #[arg(short = 'C', long = "check")]
    pub check: bool,
    /// Show differences in changed files and templates.
    #[arg(short = 'D', long = "diff")]
    pub diff: bool,
    /// Hosts to work on in parallel.
    #[arg(short = 'f', long = "forks", value_name = "FORKS")]
    pub forks: Option<usize>,
    /// More output (-v to -vvvv).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,
}

impl HostArgs {
    /// `base` with these options over it (extra variables read and merged in order).
    pub fn apply(&self, base: RunOptions) -> Result<RunOptions, String> {
        let mut extra = Vars::new();
        for e in &self.extra_vars {
            extra_vars::merge_extra_vars(e, &mut extra)?;
        }
        Ok(RunOptions {
            check: self.check,
            diff: self.diff,
            forks: self.forks.unwrap_or(base.forks),
            limit: self.limit.clone(),
            extra_vars: extra,
            verbosity: self.verbose,
            ..base
        })
    }
}

/// How to reach the hosts and whom to become there.
#[derive(Debug, Clone, Args)]
pub struct ConnectArgs {
    /// Connect as this user.
    #[arg(short = 'u', long = "user", value_name = "REMOTE_USER")]
    pub user: Option<String>,
    /// Private key file for SSH.
    #[arg(
        long = "private-key",
        alias = "key-file",
        value_name = "PRIVATE_KEY_FILE"
    )]
    pub private_key: Option<PathBuf>,
    /// Connection type (ssh, local, docker, lxc).
    #[arg(short = 'c', long = "connection", value_name = "CONNECTION")]
    pub connection: Option<String>,
    /// Connect timeout in seconds.
    #[arg(short = 'T', long = "timeout", value_name = "TIMEOUT")]
    pub timeout: Option<u64>,
    /// Run operations with become (sudo by default).
    #[arg(short = 'b', long = "become")]
    pub become_: bool,
    /// Become this user (default root).
    #[arg(long = "become-user", value_name = "BECOME_USER")]
    pub become_user: Option<String>,
    /// Become method (sudo, su).
    #[arg(long = "become-method", value_name = "BECOME_METHOD")]
    pub become_method: Option<String>,
    /// Ask for the become password.
    #[arg(short = 'K', long = "ask-become-pass")]
    pub ask_become_pass: bool,
    /// Extra arguments for every ssh connection (OpenSSH `-o` options are honoured).
    #[arg(
        long = "ssh-common-args",
        value_name = "SSH_COMMON_ARGS",
        allow_hyphen_values = true
    )]
    pub ssh_common_args: Option<String>,
    /// Extra arguments for ssh only.
    #[arg(
        long = "ssh-extra-args",
        value_name = "SSH_EXTRA_ARGS",
        allow_hyphen_values = true
    )]
    pub ssh_extra_args: Option<String>,
}

impl ConnectArgs {
    /// `base` (from `ansible.cfg`) with these options over it; asks for the become password
    /// when `-K` is given.
    pub fn apply(&self, base: RunOptions) -> Result<RunOptions, String> {
        let become_password = if self.ask_become_pass {
            Some(
                prompt_secret(PromptKind::BecomePassword, "BECOME password: ").map_err(|e| {
                    format!(
                        "-K: {e}; set ansible_become_password (e.g. with -e @secrets.yml) instead"
                    )
                })?,
            )
        } else {
            None
        };
        Ok(RunOptions {
            become_: self.become_ || base.become_,
            become_user: self.become_user.clone().or(base.become_user),
            become_method: self.become_method.clone().or(base.become_method),
            become_password,
            remote_user: self.user.clone().or(base.remote_user),
            private_key: self.private_key.clone().or(base.private_key),
            connection: self.connection.clone(),
            ssh_common_args: self.ssh_common_args.clone().or(base.ssh_common_args),
            ssh_extra_args: self.ssh_extra_args.clone(),
            connect_timeout: self
                .timeout
                .map(Duration::from_secs)
                .unwrap_or(base.connect_timeout),
            ..base
        })
    }
}

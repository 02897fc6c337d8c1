//! The connection and privilege options `drover play` and `drover run` share (ansible's names).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use drover_core::executor::RunOptions;

use crate::prompt_secret;
use drover_core::session::PromptKind;

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

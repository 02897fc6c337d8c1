//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// drover runs Ansible-format playbooks over SSH, fast, with nothing but a POSIX shell on targets.
#[derive(Debug, Parser)]
#[command(name = "drover", version, long_version = crate::shell_support::long_version(), about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// No colours, whatever the terminal or ANSIBLE_FORCE_COLOR says (also NO_COLOR=1,
    /// ANSIBLE_NOCOLOR=1, `nocolor` in ansible.cfg).
    #[arg(long = "no-color", alias = "no-colour", global = true)]
    pub no_color: bool,
}

/// drover's subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run playbooks (like ansible-playbook).
    Play(Box<PlayArgs>),
    /// Encrypt, decrypt and view Ansible Vault files and strings (like ansible-vault).
    Vault(VaultCommand),
    /// Show modules and their parameters (like ansible-doc), from each module's own parameter type.
    Doc(DocArgs),
    /// Test roles, playbooks or drover-test.yml scenarios on throwaway Debian 12 hosts (LXC, root).
    Test(TestArgs),
    /// Show, take and release deploy locks (held across runs; see docs/LOCKING.md).
    Lock(crate::lock_cmd::LockCommand),
    /// Show the settings drover reads, their values and where they come from (like ansible-config).
    Config(crate::config_cmd::ConfigArgs),
    /// Install roles and collections from git URLs, directories and tarballs; create roles
    /// (like ansible-galaxy).
    Galaxy(crate::galaxy::GalaxyArgs),
    /// Print a shell completion script (bash, zsh, fish).
    Completions(crate::shell_support::CompletionsArgs),
    /// Print drover's man page (roff), generated from these options.
    #[command(hide = true)]
    Man(crate::shell_support::ManArgs),
    /// Run one module on the hosts matching a pattern (like ansible's ad-hoc command).
    Run(Box<crate::run::RunArgs>),
    /// Show the inventory as Ansible sees it (like ansible-inventory: --list, --graph, --host).
    Inventory(Box<crate::inventory::InventoryArgs>),
}

/// `drover test` arguments.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Role directories, playbooks or drover-test.yml scenario files.
    #[arg(required_unless_present = "cleanup")]
    pub targets: Vec<PathBuf>,
    /// Leave the hosts running and print how to reach them.
    #[arg(long)]
    pub keep: bool,
    /// Scenarios run side by side.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=32))]
    pub parallel: u16,
    /// `json`: print one machine-readable result document on stdout (progress stays on stderr).
    #[arg(long, value_enum, default_value = "human")]
    pub output: OutputFormat,
    /// How the throwaway hosts are made (default: each scenario's `driver:`, else lxc).
    #[arg(long, value_enum)]
    pub driver: Option<TestDriver>,
    /// The Docker engine for `--driver docker`: a socket path or a `docker -H` URL.
    #[arg(long, value_name = "SOCKET")]
    pub docker_host: Option<String>,
    /// Run Docker test hosts with `--privileged` (default: SYS_ADMIN without seccomp filter).
    #[arg(long)]
    pub privileged: bool,
    /// Extra variables for every scenario: key=value pairs, YAML/JSON, or @file (repeatable).
    #[arg(short = 'e', long = "extra-vars", value_name = "EXTRA_VARS")]
    pub extra_vars: Vec<String>,
    /// Vault passwords for vault-encrypted files and values in the scenarios' playbooks.
    #[command(flatten)]
    pub vault: VaultArgs,
    /// Destroy the hosts that earlier runs left (`--keep`, or a killed run) and exit.
    #[arg(long, conflicts_with_all = ["targets", "keep"])]
    pub cleanup: bool,
}

/// Drivers of `drover test`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TestDriver {
    /// Privileged LXC overlay clones of a cached Debian 12 base with systemd.
    Lxc,
    /// Docker containers of the same base with systemd as PID 1.
    Docker,
}

/// `drover doc` arguments.
#[derive(Debug, Args)]
pub struct DocArgs {
    /// The module to describe (short or fully-qualified name); without one, every module is listed.
    pub module: Option<String>,
    /// Print the machine-readable description (JSON: options with types, defaults, choices,
    /// aliases, and the required/exclusive groups).
    #[arg(long)]
    pub json: bool,
}

/// Where vault passwords come from (ansible-playbook's and ansible-vault's options).
#[derive(Debug, Args, Default)]
pub struct VaultArgs {
    /// A vault password file, or an executable script that prints the password (repeatable).
    #[arg(
        long = "vault-password-file",
        alias = "vault-pass-file",
        value_name = "FILE",
        global = true
    )]
    pub vault_password_file: Vec<PathBuf>,
    /// A labelled vault password: LABEL@FILE, LABEL@prompt, or FILE (repeatable).
    #[arg(long = "vault-id", value_name = "VAULT_ID", global = true)]
    pub vault_id: Vec<String>,
    /// Ask for the vault password on the terminal.
    #[arg(
        short = 'J',
        long = "ask-vault-pass",
        alias = "ask-vault-password",
        global = true
    )]
    pub ask_vault_pass: bool,
}

/// `drover vault` arguments.
#[derive(Debug, Args)]
pub struct VaultCommand {
    /// What to do.
    #[command(subcommand)]
    pub action: VaultAction,
    /// Vault passwords.
    #[command(flatten)]
    pub vault: VaultArgs,
    /// Encrypt with the password of this vault-id label (default: the first given).
    #[arg(long = "encrypt-vault-id", value_name = "LABEL", global = true)]
    pub encrypt_vault_id: Option<String>,
}

/// `drover vault` actions.
#[derive(Debug, Subcommand)]
pub enum VaultAction {
    /// Encrypt files in place.
    Encrypt {
        /// Files to encrypt.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Decrypt files in place.
    Decrypt {
        /// Files to decrypt.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print the decrypted contents of files.
    View {
        /// Files to show.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Encrypt a string for use as a `!vault` value in YAML (reads standard input without one).
    #[command(name = "encrypt_string", alias = "encrypt-string")]
    EncryptString {
        /// The text to encrypt.
        text: Option<String>,
        /// Print it as `NAME: !vault |`.
        #[arg(short = 'n', long = "name", value_name = "NAME")]
        name: Option<String>,
    },
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// ansible-playbook's text layout, with per-task timing.
    Human,
    /// One JSON object per event, per line.
    Json,
}

/// `drover play` arguments (ansible-playbook's names).
#[derive(Debug, Args)]
pub struct PlayArgs {
    /// Playbook files to run, in order (with `--resume`: the summary's playbook by default).
    #[arg(required_unless_present = "resume")]
    pub playbooks: Vec<PathBuf>,
    #[command(flatten)]
    pub hosts: crate::connect_args::HostArgs,
    #[command(flatten)]
    pub connect: crate::connect_args::ConnectArgs,
    /// Run handlers even if a task fails.
    #[arg(long = "force-handlers")]
    pub force_handlers: bool,
    /// Check the playbook and exit without running it (every module argument problem is an
    /// error).
    #[arg(long = "syntax-check")]
    pub syntax_check: bool,
    /// Every module argument problem stops the run before any host is touched, also in tasks
    /// that may not run or whose failure is handled (default: only in tasks that surely run;
    /// the others fail when they run, as in Ansible). Also `DROVER_STRICT=1` or
    /// `drover_strict = true` under `[defaults]` in ansible.cfg.
    #[arg(long = "strict")]
    pub strict: bool,
    /// Only run tasks with these tags (comma-separated, repeatable).
    #[arg(short = 't', long = "tags", value_name = "TAGS")]
    pub tags: Vec<String>,
    /// Skip tasks with these tags (comma-separated, repeatable).
    #[arg(long = "skip-tags", value_name = "SKIP_TAGS")]
    pub skip_tags: Vec<String>,
    /// List the tasks that would run and exit.
    #[arg(long = "list-tasks")]
    pub list_tasks: bool,
    /// List the hosts each play targets and exit.
    #[arg(long = "list-hosts")]
    pub list_hosts: bool,
    /// List the tags of each play and exit.
    #[arg(long = "list-tags")]
    pub list_tags: bool,
    /// Start at the task with this name.
    #[arg(long = "start-at-task", value_name = "START_AT_TASK")]
    pub start_at_task: Option<String>,
    /// Ask before each task (needs a terminal).
    #[arg(long = "step")]
    pub step: bool,
    /// Output format.
    #[arg(long = "output", value_enum, default_value = "human")]
    pub output: OutputFormat,
    /// Run this playbook of read-only checks on every host first; if any check fails on any
    /// host, stop before the playbooks change anything (repeatable; docs/RUNBOOKS.md).
    #[arg(long = "preflight", value_name = "CHECKS_PLAYBOOK")]
    pub preflight: Vec<PathBuf>,
    /// Also write every event as a JSON line into this file (the `--output json` format,
    /// docs/EVENTS.md), whatever the output format.
    #[arg(long = "events", value_name = "FILE")]
    pub events: Option<PathBuf>,
    /// After the recap: the 20 slowest tasks and each host's time (like the profile_tasks
    /// callback; also `callbacks_enabled = profile_tasks` in ansible.cfg).
    #[arg(long = "profile")]
    pub profile: bool,
    /// Vault passwords.
    #[command(flatten)]
    pub vault: VaultArgs,
    /// Deploy locks.
    #[command(flatten)]
    pub lock: crate::lock_cmd::LockArgs,
    /// Progress record and resume (`--summary`, `--resume`, `--force-resume`).
    #[command(flatten)]
    pub progress: crate::summary::ProgressArgs,
}

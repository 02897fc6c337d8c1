//! `drover run PATTERN -m MODULE -a ARGS`: ansible's ad-hoc command — one task on the hosts
//! matching a pattern, its results printed as `ansible` prints them, the same exit codes.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use drover_core::config::AnsibleConfig;
use drover_core::events::EventSink;
use drover_core::executor::RunOptions;
use drover_core::playbook::adhoc::AdHoc;
use drover_core::session::{Session, SessionError, SharedPrompter};

use crate::args::VaultArgs;
use crate::diagnostics::playbook_diagnostic;
use crate::prompt::TerminalPrompter;
use crate::report::AdHocReporter;
use crate::{async_runtime, fail, vault, EXIT_BAD_OPTIONS, EXIT_ERROR};

/// `drover run` arguments (ansible's names).
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Host pattern (`all`, `web*`, `web:&prod:!web03`, …).
    pub pattern: String,
    /// Module to run.
    #[arg(
        short = 'm',
        long = "module-name",
        value_name = "MODULE_NAME",
        default_value = "command"
    )]
    pub module: String,
    /// The module's arguments: `k=v` pairs, free-form text (command, shell, raw) or a JSON object.
    #[arg(
        short = 'a',
        long = "args",
        value_name = "MODULE_ARGS",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub args: String,
    #[command(flatten)]
    pub hosts: crate::connect_args::HostArgs,
    /// One line per host (ansible's `oneline` output).
    #[arg(short = 'o', long = "one-line")]
    pub one_line: bool,
    /// Write each host's result as JSON to DIR/HOST.
    #[arg(short = 't', long = "tree", value_name = "TREE")]
    pub tree: Option<PathBuf>,
    /// Run asynchronously, failing after this many seconds.
    #[arg(short = 'B', long = "background", value_name = "SECONDS")]
    pub background: Option<u64>,
    /// With -B: poll every this many seconds (0: start the job and return its id).
    #[arg(
        short = 'P',
        long = "poll",
        value_name = "POLL_INTERVAL",
        default_value_t = 15
    )]
    pub poll: u64,
    /// Time limit for the task in seconds (0: none).
    #[arg(long = "task-timeout", value_name = "TASK_TIMEOUT")]
    pub task_timeout: Option<u64>,
    /// List the matching hosts and exit.
    #[arg(long = "list-hosts")]
    pub list_hosts: bool,
    #[command(flatten)]
    pub connect: crate::connect_args::ConnectArgs,
    /// The directory relative paths and `roles/` are resolved from (default: the current one).
    #[arg(long = "playbook-dir", value_name = "BASEDIR")]
    pub playbook_dir: Option<PathBuf>,
    /// Vault passwords.
    #[command(flatten)]
    pub vault: VaultArgs,
}

/// The run options of `drover run`, from these arguments over `ansible.cfg`.
fn run_options(args: &RunArgs, cfg: &AnsibleConfig) -> Result<RunOptions, String> {
    let base = args.hosts.apply(RunOptions::from_config(cfg))?;
    let base = args.connect.apply(base)?;
    Ok(RunOptions {
        prompter: SharedPrompter(Arc::new(TerminalPrompter)),
        ..base
    })
}

/// Runs `drover run`.
pub fn run(args: &RunArgs, no_color: bool) -> ExitCode {
    let cfg = AnsibleConfig::load();
    let adhoc = AdHoc {
        pattern: args.pattern.clone(),
        module: args.module.clone(),
        args: args.args.clone(),
        async_seconds: args.background,
        poll: Some(args.poll),
        task_timeout: args.task_timeout,
    };
    let secrets = match vault::collect_secrets(&args.vault, &cfg) {
        Ok(s) => s,
        Err(e) => return fail(e, None, EXIT_BAD_OPTIONS),
    };
    let vault_secrets = Arc::new(secrets.clone());
    let opts = match drover_core::vault::with_secrets(&vault_secrets, || run_options(args, &cfg)) {
        Ok(o) => o,
        Err(e) => return fail(e, None, EXIT_BAD_OPTIONS),
    };
    let colors = crate::report::colors_for(&cfg, std::io::stdout().is_terminal(), no_color);
    let reporter = Arc::new(
        AdHocReporter::new(
            &args.module,
            args.one_line,
            args.tree.clone(),
            args.hosts.verbose,
        )
        .with_colors(colors.clone()),
    );
    let sink: Arc<dyn EventSink> = reporter.clone();
    let roles_path = cfg.roles_path.clone();
    let mut builder = Session::builder()
        .registry(drover_modules::registry())
        .vault_secrets(secrets)
        .events(sink);
    if !args.hosts.inventory.is_empty() {
        builder = builder.inventory(args.hosts.inventory.iter().cloned());
    }
    let session = builder.config(cfg).options(opts).build();
    let mut inventory = match session.load_inventory() {
        Ok(i) => i,
        Err(e) => return fail(e.to_string(), Some("check the inventory (-i)"), EXIT_ERROR),
    };
    if session.inventory_sources().is_empty() {
        let text = "No inventory was parsed, only implicit localhost is available";
        crate::report::warning(&colors, text);
    }
    for w in inventory.warnings() {
        crate::report::warning(&colors, w);
    }
    if args.list_hosts {
        return list_hosts(&inventory, &args.pattern, args.hosts.limit.as_deref());
    }
    if let Some(err) = adhoc.options_error() {
        return fail(err, None, EXIT_BAD_OPTIONS);
    }
    if let Some(err) = adhoc.args_error() {
        let hint = "ansible-core refuses it too; close every quote inside -a \
                    (e.g. -a \"echo \\\"it's\\\"\") and each {{ }}, {% %} or {# #} block";
        return fail(err, Some(hint), EXIT_ERROR);
    }
    let dir = args
        .playbook_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("."));
    let playbook = match session.with_vault(|| adhoc.playbook(Path::new(&dir), &roles_path)) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{:?}", playbook_diagnostic(&e));
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let report = session.check_playbook(&playbook);
    for e in &report.errors {
        eprintln!("{:?}", playbook_diagnostic(e));
    }
    if !report.errors.is_empty() {
        return ExitCode::from(EXIT_ERROR);
    }
    let runtime = match async_runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let code = match runtime.block_on(session.run_loaded(&playbook, &mut inventory)) {
        Ok(result) => u8::try_from(result.exit_code).unwrap_or(EXIT_ERROR),
        Err(SessionError::Inventory(e)) => return fail(e.to_string(), None, EXIT_ERROR),
        Err(e) => return fail(e.to_string(), None, EXIT_ERROR),
    };
    for e in reporter.tree_errors() {
        eprintln!("[WARNING]: {e}");
    }
    ExitCode::from(code)
}

/// `--list-hosts`: ansible's `  hosts (N):` and one indented line per host.
fn list_hosts(
    inventory: &drover_core::inventory::Inventory,
    pattern: &str,
    limit: Option<&str>,
) -> ExitCode {
    let limit = match limit.map(drover_core::inventory::Limit::parse).transpose() {
        Ok(l) => l,
        Err(e) => return fail(e.to_string(), None, EXIT_BAD_OPTIONS),
    };
    let hosts = match inventory.select_limited(pattern, limit.as_ref()) {
        Ok(h) => h,
        Err(e) => return fail(e.to_string(), None, EXIT_ERROR),
    };
    println!("  hosts ({}):", hosts.len());
    for h in hosts {
        println!("    {h}");
    }
    ExitCode::SUCCESS
}

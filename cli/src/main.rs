//! The `drover` command: a thin layer over drover-core and drover-modules.
//!
//! Exit codes (as ansible-playbook): 0 success; 1 error (bad playbook, inventory, or YAML);
//! 2 one or more hosts failed; 3 a deploy lock is held by someone else (nothing ran);
//! 4 one or more hosts were unreachable; 5 bad command-line options; 99 interrupted (Ctrl-C;
//! 130 on a second one).
//! `drover test`: 0 every scenario passed, 1 a bad scenario file or no testbed (not root), 2 a
//! scenario failed, 5 bad options, 130 interrupted.

mod args;
mod config_cmd;
mod connect_args;
mod diagnostics;
mod doc;
mod extra_vars;
mod galaxy;
mod interrupt;
mod inventory;
mod listing;
mod lock_cmd;
mod preflight;
mod prompt;
mod pyjson;
mod report;
mod run;
mod shell_support;
mod summary;
mod test;
mod vault;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use drover_core::config::AnsibleConfig;
use drover_core::events::Event;
use drover_core::executor::{ExecError, RunOptions};
use drover_core::playbook::Playbook;
use drover_core::session::{Prompt, PromptKind, Prompter, Session, SessionError, SharedPrompter};

use args::{Cli, Command, PlayArgs};
use diagnostics::{playbook_diagnostic, PlainDiagnostic};
use prompt::TerminalPrompter;

/// Exit status for errors in content or environment.
pub(crate) const EXIT_ERROR: u8 = 1;
/// Exit status for bad command-line options.
pub(crate) const EXIT_BAD_OPTIONS: u8 = 5;

fn main() -> ExitCode {
    // Playbooks nest (blocks in included files in included files…) and so does their execution:
    // run on a thread whose stack fits the deepest nesting the limits allow (docs/LIMITS.md).
    // Only the pages used are committed.
    match std::thread::Builder::new()
        .name("drover".into())
        .stack_size(drover_core::limits::RUN_STACK_SIZE)
        .spawn(real_main)
    {
        Ok(worker) => worker.join().unwrap_or(ExitCode::from(EXIT_ERROR)),
        Err(_) => real_main(),
    }
}

fn real_main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_BAD_OPTIONS } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let no_color = cli.no_color;
    let stderr_colors = report::colors_for(
        &AnsibleConfig::load(),
        std::io::stderr().is_terminal(),
        no_color,
    );
    miette::set_hook(Box::new(move |_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .color(stderr_colors.enabled())
                .build(),
        )
    }))
    .ok();
    match cli.command {
        Command::Play(args) => play(*args, no_color),
        Command::Vault(command) => match vault::run(&command, &AnsibleConfig::load()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(e, None, EXIT_ERROR),
        },
        Command::Doc(args) => doc::run(&args),
        Command::Test(args) => test::run(&args),
        Command::Lock(command) => lock_cmd::run(&command),
        Command::Config(args) => config_cmd::run(&args),
        Command::Galaxy(args) => galaxy::run(&args),
        Command::Completions(args) => shell_support::completions(&args),
        Command::Man(args) => shell_support::man(&args),
        Command::Run(args) => run::run(&args, no_color),
        Command::Inventory(args) => inventory::run(&args),
    }
}

/// The multi-threaded runtime the commands run on, or the failure to report if it cannot start.
pub(crate) fn async_runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            fail(
                format!("cannot start the async runtime: {e}"),
                None,
                EXIT_ERROR,
            )
        })
}

pub(crate) fn fail(message: impl Into<String>, hint: Option<&str>, code: u8) -> ExitCode {
    let report = miette::Report::new(PlainDiagnostic {
        message: message.into(),
        hint: hint.map(str::to_string),
    });
    eprintln!("{report:?}");
    ExitCode::from(code)
}

fn run_options(args: &PlayArgs, cfg: &AnsibleConfig) -> Result<RunOptions, String> {
    // Command-line flags over `ansible.cfg` (and its environment overrides).
    let base = args.hosts.apply(RunOptions::from_config(cfg))?;
    if let Some(name) = &cfg.strategy {
        drover_core::executor::strategy_named(name)
            .map_err(|e| format!("{e} (ANSIBLE_STRATEGY / ansible.cfg strategy)"))?;
    }
    let base = args.connect.apply(base)?;
    Ok(RunOptions {
        // Encrypted private keys that no agent holds, `vars_prompt`, `pause` and `--step`:
        // asked on the terminal.
        prompter: SharedPrompter(Arc::new(TerminalPrompter)),
        force_handlers: args.force_handlers || base.force_handlers,
        tags: split_tags(&args.tags),
        skip_tags: split_tags(&args.skip_tags),
        start_at_task: args.start_at_task.clone(),
        step: args.step,
        lock: lock_cmd::play_settings(&args.lock, cfg)?,
        ..base
    })
}

/// `--tags a,b --tags c` → `[a, b, c]`.
fn split_tags(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

/// Reads a secret from the terminal without echoing it; fails when stdin is not a terminal.
pub(crate) fn prompt_secret(kind: PromptKind, message: &str) -> Result<String, String> {
    let prompt = Prompt {
        kind,
        message: message.to_string(),
        secret: true,
    };
    TerminalPrompter.ask(&prompt).map_err(|e| e.to_string())
}

/// Loads every playbook, printing the first problem.
fn load_all(session: &Session, paths: &[PathBuf]) -> Result<Vec<Playbook>, ExitCode> {
    let mut out = Vec::new();
    for p in paths {
        match session.load_playbook(p) {
            Ok(pb) => out.push(pb),
            Err(SessionError::Playbook(e)) => {
                eprintln!("{:?}", playbook_diagnostic(&e));
                return Err(ExitCode::from(EXIT_ERROR));
            }
            Err(e) => {
                return Err(fail(
                    e.to_string(),
                    Some("check the path; playbooks are YAML files such as site.yml"),
                    EXIT_ERROR,
                ))
            }
        }
    }
    Ok(out)
}

fn play(mut args: PlayArgs, no_color: bool) -> ExitCode {
    let cfg = AnsibleConfig::load();
    for p in &cfg.problems {
        eprintln!("[WARNING]: ansible.cfg: {p}");
    }
    let secrets = match vault::collect_secrets(&args.vault, &cfg) {
        Ok(secrets) => secrets,
        Err(e) => return fail(e, None, EXIT_BAD_OPTIONS),
    };
    // `-e @file` may be vault-encrypted.
    let vault = Arc::new(secrets.clone());
    let mut opts = match drover_core::vault::with_secrets(&vault, || run_options(&args, &cfg)) {
        Ok(o) => o,
        Err(e) => return fail(e, None, EXIT_BAD_OPTIONS),
    };
    // Triggered by Ctrl-C / SIGTERM once the runtime runs (see `interrupt.rs`).
    let interrupt = drover_core::interrupt::Interrupt::new();
    opts.interrupt = interrupt.clone();
    // Warnings on standard error are coloured as ansible's: when its standard output is.
    let colors = report::colors_for(&cfg, std::io::stdout().is_terminal(), no_color);
    let sink = match report::play_sink(&args, &cfg, no_color) {
        Ok(sink) => sink,
        Err(e) => return fail(e, None, EXIT_BAD_OPTIONS),
    };
    let progress = match summary::setup(&mut args, &mut opts, sink) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let sink = progress.sink.clone();
    let strict = args.strict || args.syntax_check || cfg.strict.unwrap_or(false);
    let mut builder = Session::builder()
        .registry(drover_modules::registry())
        .vault_secrets(secrets)
        .strict(strict)
        .events(sink.clone());
    if !args.hosts.inventory.is_empty() {
        builder = builder.inventory(args.hosts.inventory.iter().cloned());
    }
    let session = builder.config(cfg).options(opts).build();
    if (args.list_tasks || args.list_tags || args.list_hosts) && !args.syntax_check {
        return session.with_vault(|| listing::run(&args, session.options(), session.config()));
    }
    let playbooks = match load_all(&session, &args.playbooks) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let checks = match preflight::load(&session, &args.preflight) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let mut errors = 0;
    for pb in &playbooks {
        let report = session.check_playbook(pb);
        for w in &report.warnings {
            report::warning(&colors, &format!("{}: {}", w.location, w.message));
        }
        for e in &report.errors {
            eprintln!("{:?}", playbook_diagnostic(e));
            errors += 1;
        }
    }
    if errors > 0 {
        return ExitCode::from(EXIT_ERROR);
    }
    let loaded_inventory = session.load_inventory();
    if let Ok(inventory) = &loaded_inventory {
        let mut errors = 0;
        for pb in &playbooks {
            for e in session.undefined_variables(pb, inventory) {
                eprintln!("{:?}", playbook_diagnostic(&e));
                errors += 1;
            }
        }
        if errors > 0 {
            return ExitCode::from(EXIT_ERROR);
        }
    }
    if args.syntax_check {
        for pb in &playbooks {
            println!("\nplaybook: {}", pb.path.display());
        }
        return ExitCode::SUCCESS;
    }
    if args.step && !std::io::stdin().is_terminal() {
        return fail(
            "--step needs a terminal to ask before each task",
            Some("run without --step, or from an interactive shell"),
            EXIT_BAD_OPTIONS,
        );
    }
    let mut inventory = match loaded_inventory {
        Ok(i) => i,
        Err(e) => {
            return fail(
                e.to_string(),
                Some("check the inventory file (-i)"),
                EXIT_ERROR,
            )
        }
    };
    if session.inventory_sources().is_empty() {
        report::warning(
            &colors,
            "No inventory was parsed, only implicit localhost is available",
        );
    }
    for w in inventory.warnings() {
        report::warning(&colors, &w.to_string());
    }
    let runtime = match async_runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    interrupt::install(&runtime, interrupt);
    // Read-only checks, before any lock is taken or anything changes (docs/RUNBOOKS.md).
    if let Err(code) = preflight::run(&session, &runtime, &checks, &inventory) {
        return code;
    }
    let mut worst = 0u8;
    for pb in &playbooks {
        match runtime.block_on(session.run_loaded(pb, &mut inventory)) {
            Ok(result) => {
                worst = worst.max(result.exit_code as u8);
                if session.options().interrupt.is_set() {
                    break;
                }
            }
            // The `group_vars/`/`host_vars/` beside the playbook could not be read.
            Err(SessionError::Inventory(e)) => return fail(e.to_string(), None, EXIT_ERROR),
            Err(SessionError::Exec(ExecError::Lock(e))) => {
                return ExitCode::from(lock_cmd::lock_refused(&e))
            }
            Err(e) => {
                sink.emit(&Event::Warning {
                    message: e.to_string(),
                });
                progress.finish();
                return ExitCode::from(EXIT_ERROR);
            }
        }
    }
    progress.finish();
    ExitCode::from(worst)
}

//! The `drover` command: a thin layer over drover-core and drover-modules.
//!
//! Exit codes (as ansible-playbook): 0 success; 1 error (bad playbook, inventory, or YAML);
//! 2 one or more hosts failed; 4 one or more hosts were unreachable; 5 bad command-line options.

mod args;
mod diagnostics;
mod extra_vars;
mod listing;
mod report;
mod vault;

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use drover_core::config::AnsibleConfig;
use drover_core::events::{Event, EventSink};
use drover_core::executor::{Executor, PassphrasePrompt, RunOptions};
use drover_core::inventory::Inventory;
use drover_core::playbook::{
    check_playbook_with, check_variables, external_variable_names, load_playbook_with,
    CheckOptions, Playbook,
};
use drover_core::vars::Vars;

use args::{Cli, Command, OutputFormat, PlayArgs};
use diagnostics::{playbook_diagnostic, PlainDiagnostic};

/// Exit status for errors in content or environment.
pub(crate) const EXIT_ERROR: u8 = 1;
/// Exit status for bad command-line options.
const EXIT_BAD_OPTIONS: u8 = 5;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_BAD_OPTIONS } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    miette::set_hook(Box::new(|_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .color(std::io::stderr().is_terminal())
                .build(),
        )
    }))
    .ok();
    match cli.command {
        Command::Play(args) => play(*args),
        Command::Vault(command) => match vault::run(&command, &AnsibleConfig::load()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(e, None, EXIT_ERROR),
        },
    }
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
    let mut extra_vars = Vars::new();
    for e in &args.extra_vars {
        extra_vars::merge_extra_vars(e, &mut extra_vars)?;
    }
    let become_password = if args.ask_become_pass {
        Some(prompt_secret("BECOME password: ").map_err(|e| {
            format!("-K: {e}; set ansible_become_password (e.g. with -e @secrets.yml) instead")
        })?)
    } else {
        None
    };
    // Encrypted private keys that no agent holds: ask on the terminal, once per key.
    if let Some(name) = &cfg.strategy {
        drover_core::executor::strategy_named(name)
            .map_err(|e| format!("{e} (ANSIBLE_STRATEGY / ansible.cfg strategy)"))?;
    }
    let passphrase_prompt = PassphrasePrompt(Arc::new(|key: &Path| {
        prompt_secret(&format!("Enter passphrase for key '{}': ", key.display())).ok()
    }));
    Ok(RunOptions {
        passphrase_prompt: Some(passphrase_prompt),
        check: args.check,
        diff: args.diff,
        forks: args.forks.or(cfg.forks).unwrap_or(5),
        limit: args.limit.clone(),
        extra_vars,
        verbosity: args.verbose,
        become_: args.become_ || cfg.become_.unwrap_or(false),
        become_user: args.become_user.clone().or_else(|| cfg.become_user.clone()),
        become_method: args
            .become_method
            .clone()
            .or_else(|| cfg.become_method.clone()),
        become_password,
        remote_user: args.user.clone().or_else(|| cfg.remote_user.clone()),
        private_key: args
            .private_key
            .clone()
            .or_else(|| cfg.private_key_file.clone()),
        connection: args.connection.clone(),
        ssh_common_args: args
            .ssh_common_args
            .clone()
            .or_else(|| cfg.ssh_common_args.clone()),
        ssh_extra_args: args.ssh_extra_args.clone(),
        host_key_checking: cfg.host_key_checking.unwrap_or(true),
        connect_timeout: Duration::from_secs(args.timeout.or(cfg.timeout).unwrap_or(10)),
        force_handlers: args.force_handlers || cfg.force_handlers.unwrap_or(false),
        tags: split_tags(&args.tags),
        skip_tags: split_tags(&args.skip_tags),
        start_at_task: args.start_at_task.clone(),
        step: args.step,
        strategy: cfg.strategy.clone(),
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
pub(crate) fn prompt_secret(prompt: &str) -> Result<String, String> {
    if !std::io::stdin().is_terminal() {
        return Err("no terminal to ask on".into());
    }
    report::progress::paused(|| read_hidden_line(prompt))
}

/// Prints `prompt` and reads a line from the terminal with echo off.
fn read_hidden_line(prompt: &str) -> Result<String, String> {
    use std::io::{BufRead, Write};
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    // Turn echo off while the password is typed.
    let _ = std::process::Command::new("stty").arg("-echo").status();
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    let _ = std::process::Command::new("stty").arg("echo").status();
    eprintln!();
    read.map_err(|e| e.to_string())?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn load_all(
    paths: &[std::path::PathBuf],
    roles_path: &[std::path::PathBuf],
) -> Result<Vec<Playbook>, ExitCode> {
    let mut out = Vec::new();
    for p in paths {
        if !p.is_file() {
            return Err(fail(
                format!("the playbook {} could not be found", p.display()),
                Some("check the path; playbooks are YAML files such as site.yml"),
                EXIT_ERROR,
            ));
        }
        match load_playbook_with(p, roles_path) {
            Ok(pb) => out.push(pb),
            Err(e) => {
                eprintln!("{:?}", playbook_diagnostic(&e));
                return Err(ExitCode::from(EXIT_ERROR));
            }
        }
    }
    Ok(out)
}

fn play(args: PlayArgs) -> ExitCode {
    let cfg = AnsibleConfig::load();
    match vault::collect_secrets(&args.vault, &cfg) {
        Ok(secrets) => drover_core::vault::install_secrets(secrets),
        Err(e) => return fail(e, None, EXIT_BAD_OPTIONS),
    }
    let opts = match run_options(&args, &cfg) {
        Ok(o) => o,
        Err(e) => return fail(e, None, EXIT_BAD_OPTIONS),
    };
    if (args.list_tasks || args.list_tags || args.list_hosts) && !args.syntax_check {
        return listing::run(&args, &opts, &cfg);
    }
    let playbooks = match load_all(&args.playbooks, &cfg.roles_path) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let registry = drover_modules::registry();
    let check = CheckOptions {
        strict: args.strict || args.syntax_check || cfg.strict.unwrap_or(false),
        tags: opts.tags.clone(),
        skip_tags: opts.skip_tags.clone(),
    };
    let mut errors = 0;
    for pb in &playbooks {
        let report = check_playbook_with(pb, &registry, &check);
        for w in &report.warnings {
            eprintln!("[WARNING]: {}: {}", w.location, w.message);
        }
        for e in &report.errors {
            eprintln!("{:?}", playbook_diagnostic(e));
            errors += 1;
        }
    }
    if errors > 0 {
        return ExitCode::from(EXIT_ERROR);
    }
    let sources = if args.inventory.is_empty() {
        cfg.inventory.clone()
    } else {
        args.inventory.clone()
    };
    let loaded_inventory = Inventory::load(&sources);
    if let Ok(inventory) = &loaded_inventory {
        let errors = undefined_variables(&playbooks, inventory, &sources, &opts.extra_vars);
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
    if sources.is_empty() {
        eprintln!("[WARNING]: No inventory was parsed, only implicit localhost is available");
    }
    for w in inventory.warnings() {
        eprintln!("[WARNING]: {w}");
    }
    let sink: Arc<dyn EventSink> = match args.output {
        OutputFormat::Human => Arc::new(report::HumanReporter::new(args.verbose, args.diff)),
        OutputFormat::Json => Arc::new(report::JsonReporter),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            return fail(
                format!("cannot start the async runtime: {e}"),
                None,
                EXIT_ERROR,
            )
        }
    };
    let mut worst = 0u8;
    for pb in &playbooks {
        if let Err(e) = inventory.load_vars_dirs(Path::new(&pb.dir)) {
            return fail(e.to_string(), None, EXIT_ERROR);
        }
        let executor = Executor::new(
            registry.clone(),
            inventory.clone(),
            opts.clone(),
            sink.clone(),
        );
        match runtime.block_on(executor.run(pb)) {
            Ok(summary) => worst = worst.max(summary.exit_code as u8),
            Err(e) => {
                sink.emit(&Event::Warning {
                    message: e.to_string(),
                });
                return ExitCode::from(EXIT_ERROR);
            }
        }
    }
    ExitCode::from(worst)
}

/// Reports variables the playbooks read that are defined nowhere (static check before any
/// connection); returns how many were reported.
fn undefined_variables(
    playbooks: &[Playbook],
    inventory: &Inventory,
    sources: &[String],
    extra_vars: &drover_core::vars::Vars,
) -> usize {
    let mut source_dirs: Vec<std::path::PathBuf> = Vec::new();
    for s in sources {
        let p = Path::new(s);
        if p.is_dir() {
            source_dirs.push(p.to_path_buf());
        } else if let Some(parent) = p.parent().filter(|_| p.is_file()) {
            source_dirs.push(parent.to_path_buf());
        }
    }
    let mut errors = 0;
    for pb in playbooks {
        let mut inventory = inventory.clone();
        if inventory.load_vars_dirs(Path::new(&pb.dir)).is_err() {
            continue;
        }
        let mut dirs = source_dirs.clone();
        dirs.push(pb.dir.clone());
        let Some(external) = external_variable_names(&inventory, extra_vars, &dirs) else {
            continue;
        };
        for e in check_variables(pb, &external) {
            eprintln!("{:?}", playbook_diagnostic(&e));
            errors += 1;
        }
    }
    errors
}

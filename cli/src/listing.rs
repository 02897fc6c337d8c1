//! `--list-tasks`, `--list-tags` and `--list-hosts`: load the playbooks as ansible-playbook does
//! for a listing (no argument checks, dynamic includes not read), then print every listing at
//! once, or nothing if any playbook fails.

use std::process::ExitCode;

use drover_core::config::AnsibleConfig;
use drover_core::executor::RunOptions;
use drover_core::inventory::{Inventory, Limit};
use drover_core::playbook::listing::{self, ListRequest};
use drover_core::playbook::load_playbook_for_listing;

use crate::args::PlayArgs;
use crate::diagnostics::playbook_diagnostic;
use crate::{fail, EXIT_ERROR};

/// Prints the listings `args` ask for.
pub(crate) fn run(args: &PlayArgs, opts: &RunOptions, cfg: &AnsibleConfig) -> ExitCode {
    let registry = drover_modules::registry();
    let mut playbooks = Vec::new();
    for p in &args.playbooks {
        if !p.is_file() {
            return fail(
                format!("the playbook {} could not be found", p.display()),
                Some("check the path; playbooks are YAML files such as site.yml"),
                EXIT_ERROR,
            );
        }
        let pb = match load_playbook_for_listing(p, &cfg.roles_path) {
            Ok(pb) => pb,
            Err(e) => {
                eprintln!("{:?}", playbook_diagnostic(&e));
                return ExitCode::from(EXIT_ERROR);
            }
        };
        let errors = listing::unresolved_modules(&pb, &registry);
        if let Some(e) = errors.first() {
            eprintln!("{:?}", playbook_diagnostic(e));
            return ExitCode::from(EXIT_ERROR);
        }
        playbooks.push((p, pb));
    }
    let sources = if args.hosts.inventory.is_empty() {
        cfg.inventory.clone()
    } else {
        args.hosts.inventory.clone()
    };
    // As ansible-playbook, a listing goes on without an inventory it cannot read (only the
    // implicit localhost is left); a run stops on it.
    let inventory = match Inventory::load(&sources) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("[WARNING]: {e}; only the implicit localhost is available");
            match Inventory::load(&[]) {
                Ok(i) => i,
                Err(e) => return fail(e.to_string(), None, EXIT_ERROR),
            }
        }
    };
    for w in inventory.warnings() {
        eprintln!("[WARNING]: {w}");
    }
    let limit = match opts.limit.as_deref().map(Limit::parse).transpose() {
        Ok(l) => l,
        Err(e) => return fail(e.to_string(), None, EXIT_ERROR),
    };
    if let Some(l) = &limit {
        // As ansible-playbook: a limit that leaves no host of a non-empty inventory is an error.
        let any_host = inventory.hosts().next().is_some();
        match inventory.select_limited("all", Some(l)) {
            Ok(hosts) if hosts.is_empty() && any_host => {
                return fail(
                    "Specified inventory, host pattern and/or --limit leaves us with no hosts to target.",
                    None,
                    EXIT_ERROR,
                )
            }
            Ok(_) => {}
            Err(e) => return fail(e.to_string(), None, EXIT_ERROR),
        }
    }
    let req = ListRequest {
        tasks: args.list_tasks,
        tags: args.list_tags,
        hosts: args.list_hosts,
        only_tags: &opts.tags,
        skip_tags: &opts.skip_tags,
        extra_vars: &opts.extra_vars,
        inventory: &inventory,
        limit: limit.as_ref(),
    };
    let mut out = String::new();
    for (path, pb) in &playbooks {
        match listing::render(&path.display().to_string(), pb, &req) {
            Ok(text) => out.push_str(&text),
            Err(e) => {
                eprintln!("{:?}", playbook_diagnostic(&e));
                return ExitCode::from(EXIT_ERROR);
            }
        }
    }
    print!("{out}");
    ExitCode::SUCCESS
}

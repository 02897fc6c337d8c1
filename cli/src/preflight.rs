//! `drover play --preflight CHECKS.yml`: read-only checks on every host before the run; any
//! failure stops the run before a single task of the playbooks runs.

use std::path::PathBuf;
use std::process::ExitCode;

use drover_core::inventory::Inventory;
use drover_core::playbook::Playbook;
use drover_core::session::Session;

/// Exit status when a check failed (as a failed host, ansible-playbook's 2).
const EXIT_CHECK_FAILED: u8 = 2;

/// Loads the checks playbooks and runs their static checks; prints the problems.
pub(crate) fn load(session: &Session, paths: &[PathBuf]) -> Result<Vec<Playbook>, ExitCode> {
    let playbooks = crate::load_all(session, paths)?;
    let mut errors = 0;
    for pb in &playbooks {
        let report = session.check_playbook(pb);
        for w in &report.warnings {
            eprintln!("[WARNING]: {}: {}", w.location, w.message);
        }
        for e in &report.errors {
            eprintln!("{:?}", crate::diagnostics::playbook_diagnostic(e));
            errors += 1;
        }
    }
    if errors > 0 {
        return Err(ExitCode::from(crate::EXIT_ERROR));
    }
    Ok(playbooks)
}

/// Runs every checks playbook on the inventory; `Err` (after printing every failed check and
/// its host) when one did not pass anywhere.
pub(crate) fn run(
    session: &Session,
    runtime: &tokio::runtime::Runtime,
    checks: &[Playbook],
    inventory: &Inventory,
) -> Result<(), ExitCode> {
    let mut failures = Vec::new();
    for pb in checks {
        match runtime.block_on(session.run_preflight(pb, inventory)) {
            Ok(report) => failures.extend(report.failures),
            Err(e) => {
                return Err(crate::fail(
                    format!("preflight {}: {e}", pb.path.display()),
                    None,
                    crate::EXIT_ERROR,
                ))
            }
        }
    }
    if failures.is_empty() {
        return Ok(());
    }
    let report = drover_core::session::PreflightReport {
        failures,
        hosts: Vec::new(),
    };
    // One unwrapped line per failed check and host, so it can be read and grepped.
    eprintln!("\n{}", report.describe());
    Err(crate::fail(
        "preflight checks failed: the playbooks were not run",
        Some("fix the failed checks (or wait), then run again; no host was changed"),
        EXIT_CHECK_FAILED,
    ))
}

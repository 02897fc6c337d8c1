//! Runs a playbook and collects every task's result per host, printing progress from the event
//! stream as it goes and a table at the end; exits with ansible-playbook's exit code.
//!
//! ```sh
//! cargo run -p drover-examples --example playbook_results -- INVENTORY PLAYBOOK
//! ```
//! (or set `DROVER_INVENTORY`, `DROVER_PLAYBOOK`).

use std::process::ExitCode;

use drover_core::config::AnsibleConfig;
use drover_core::events::{Event, Status};
use drover_core::session::{Session, SessionError};
use drover_examples::{arg_or_env, fail};

#[tokio::main]
async fn main() -> ExitCode {
    let (inventory, playbook) = match (
        arg_or_env(1, "DROVER_INVENTORY", "the inventory"),
        arg_or_env(2, "DROVER_PLAYBOOK", "the playbook"),
    ) {
        (Ok(i), Ok(p)) => (i, p),
        (Err(e), _) | (_, Err(e)) => return fail(e),
    };

    let session = Session::builder()
        .config(AnsibleConfig::load())
        .registry(drover_modules::registry())
        .inventory([inventory])
        .collect_results(true)
        // Typed events as they happen (here: a line per task and the warnings).
        .on_event(|event| match event {
            Event::TaskStart { name, .. } => eprintln!("task: {name}"),
            Event::Warning { message } => eprintln!("warning: {message}"),
            _ => {}
        })
        .build();

    let result = match session.run_playbook(&playbook).await {
        Ok(r) => r,
        Err(SessionError::Check(errors)) => {
            for e in &errors {
                eprintln!("{}: {}", e.location, e.message);
            }
            return fail("the playbook did not pass the checks; nothing ran");
        }
        Err(e) => return fail(e),
    };

    // A loop's overall result comes after its items' own: show only the items.
    for t in result.tasks.iter().filter(|t| !t.loop_aggregate) {
        let status = match t.result.status {
            Status::Ok => "ok",
            Status::Changed => "changed",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
            Status::Unreachable => "unreachable",
        };
        println!(
            "{:<12} {:<30} {}{}",
            t.result.host,
            t.task,
            status,
            t.result
                .item
                .as_ref()
                .map(|i| format!(" (item={i})"))
                .unwrap_or_default()
        );
    }
    for (host, stats) in &result.recap {
        println!(
            "recap {host}: ok={} changed={} failed={} unreachable={}",
            stats.ok, stats.changed, stats.failed, stats.unreachable
        );
    }
    ExitCode::from(result.exit_code as u8)
}

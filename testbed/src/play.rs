//! Runs one playbook of a scenario through drover's own engine, in this process, and reads what
//! changed and what failed from the executor's events.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use drover_core::config::AnsibleConfig;
use drover_core::events::{Event, EventSink, Status};
use drover_core::module::ModuleRegistry;
use drover_core::session::{Session, SessionError};
use drover_core::vars::{Value, Vars};
use drover_core::vault::VaultSecrets;

use crate::report::{ChangedTask, Failure};

/// What every playbook of a scenario shares.
#[derive(Clone)]
pub struct PlayContext {
    /// drover's modules.
    pub registry: ModuleRegistry,
    /// Settings (`ansible.cfg`), with the roles path the scenario needs.
    pub config: AnsibleConfig,
    /// The scenario's generated inventory.
    pub inventory: PathBuf,
    /// Extra variables.
    pub extra_vars: Vars,
    /// Vault passwords.
    pub vault: VaultSecrets,
}

/// The outcome of one playbook run.
#[derive(Debug, Default)]
pub struct PlayOutcome {
    /// Tasks that changed something, in order, once per task and host.
    pub changed: Vec<ChangedTask>,
    /// Failed tasks, unreachable hosts, or the error that stopped the run.
    pub failures: Vec<Failure>,
}

impl PlayOutcome {
    /// True when nothing failed.
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Writes every event as one JSON line (the phase's log).
struct LogSink(Mutex<BufWriter<File>>);

impl EventSink for LogSink {
    fn emit(&self, event: &Event) {
        if let (Ok(mut w), Ok(line)) = (self.0.lock(), serde_json::to_string(event)) {
            let _ = writeln!(w, "{line}");
        }
    }
}

/// Runs `playbook` with the context's inventory, writing its events to `log`.
pub async fn run_playbook(ctx: &PlayContext, playbook: &Path, log: &Path) -> PlayOutcome {
    let mut builder = Session::builder()
        .registry(ctx.registry.clone())
        .config(ctx.config.clone())
        .inventory([ctx.inventory.display().to_string()])
        .extra_vars(ctx.extra_vars.clone())
        .vault_secrets(ctx.vault.clone())
        .collect_results(true);
    let sink = File::create(log)
        .ok()
        .map(|f| Arc::new(LogSink(Mutex::new(BufWriter::new(f)))));
    if let Some(sink) = &sink {
        builder = builder.events(sink.clone());
    }
    let session = builder.build();
    let result = session.run_playbook(playbook).await;
    if let Some(sink) = &sink {
        if let Ok(mut w) = sink.0.lock() {
            let _ = w.flush();
        }
    }
    let mut outcome = PlayOutcome::default();
    let result = match result {
        Ok(r) => r,
        Err(e) => {
            outcome.failures.push(Failure {
                task: None,
                host: None,
                message: session_error_text(&e),
            });
            return outcome;
        }
    };
    for t in &result.tasks {
        let r = &t.result;
        match r.status {
            Status::Changed => {
                let c = ChangedTask {
                    task: t.task.clone(),
                    host: r.host.clone(),
                };
                if !outcome.changed.contains(&c) {
                    outcome.changed.push(c);
                }
            }
            Status::Failed if !r.ignored && !t.loop_aggregate => outcome.failures.push(Failure {
                task: Some(t.task.clone()),
                host: Some(r.host.clone()),
                message: failure_text(r.error.as_deref(), &r.result),
            }),
            Status::Unreachable => outcome.failures.push(Failure {
                task: Some(t.task.clone()),
                host: Some(r.host.clone()),
                message: format!(
                    "unreachable: {}",
                    failure_text(r.error.as_deref(), &r.result)
                ),
            }),
            _ => {}
        }
    }
    // A failure a `rescue` handled is no failure: keep, per host the recap counts as failed or
    // unreachable, the last one (a real failure ends the host's run).
    let failed_hosts: Vec<&str> = result
        .recap
        .iter()
        .filter(|(_, s)| s.failed > 0 || s.unreachable > 0)
        .map(|(h, _)| h.as_str())
        .collect();
    let all = std::mem::take(&mut outcome.failures);
    for (i, f) in all.iter().enumerate() {
        let host = f.host.as_deref().unwrap_or_default();
        let last = !all[i + 1..].iter().any(|g| g.host == f.host);
        if last && failed_hosts.contains(&host) {
            outcome.failures.push(f.clone());
        }
    }
    if outcome.failures.is_empty() && !result.success() {
        outcome.failures.push(Failure {
            task: None,
            host: None,
            message: format!("the playbook ended with exit code {}", result.exit_code),
        });
    }
    outcome
}

fn failure_text(error: Option<&str>, result: &Value) -> String {
    let msg = result.get("msg").and_then(Value::as_str);
    match (error, msg) {
        (_, Some(m)) if !m.is_empty() => m.to_string(),
        (Some(e), _) => e.to_string(),
        _ => "failed".to_string(),
    }
}

fn session_error_text(e: &SessionError) -> String {
    match e {
        SessionError::Check(errors) => errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n"),
        other => other.to_string(),
    }
}

//! Preflight checks: a playbook of read-only checks run on every host before the real run
//! (`drover play --preflight CHECKS.yml site.yml`), whose failures stop the run before any
//! host is changed.
//!
//! Every play of the checks playbook runs with `ignore_errors: true` (a task may still set its
//! own), so each check runs on each host even after an earlier check failed there and the
//! report lists every failed check on every host. `--tags`, `--skip-tags`, `--start-at-task`
//! and `--step` do not apply to the checks. A check that reports `changed` counts as failed:
//! checks must be read-only (`changed_when: false` on commands).

use std::sync::Arc;

use super::outcome::RunSink;
use super::{Session, SessionError};
use crate::events::Status;
use crate::executor::Executor;
use crate::inventory::Inventory;
use crate::playbook::Playbook;
use crate::vars::Value;

/// One check that did not pass on one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreflightFailure {
    /// Inventory name of the host.
    pub host: String,
    /// The check (task name as displayed).
    pub check: String,
    /// Why it did not pass (the task's message, `unreachable: …`, or the read-only rule).
    pub reason: String,
}

/// The outcome of the preflight checks.
#[derive(Debug, Clone, Default)]
pub struct PreflightReport {
    /// Checks that did not pass, in the order their results came.
    pub failures: Vec<PreflightFailure>,
    /// Hosts that ran at least one check.
    pub hosts: Vec<String>,
}

impl PreflightReport {
    /// True when every check passed on every host.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// A readable account of the failures: one line per failed check and host.
    pub fn describe(&self) -> String {
        let mut out = format!(
            "preflight failed: {} check(s) did not pass; nothing was run on any host",
            self.failures.len()
        );
        for f in &self.failures {
            out.push_str(&format!("\n  {}: {}: {}", f.host, f.check, f.reason));
        }
        out
    }
}

impl Session {
    /// Runs the checks playbook `checks` against `inventory` (the session's limit applies;
    /// tags and `--start-at-task` do not) and collects every check that failed, was
    /// unreachable, or changed something. The checks' output goes to the session's sink.
    pub async fn run_preflight(
        &self,
        checks: &Playbook,
        inventory: &Inventory,
    ) -> Result<PreflightReport, SessionError> {
        // The checks' own `group_vars/`/`host_vars/` do not leak into the real run.
        let mut inventory = inventory.clone();
        self.with_vault(|| inventory.load_vars_dirs(&checks.dir))?;
        let mut playbook = checks.clone();
        for play in &mut playbook.plays {
            if play.keywords.ignore_errors.is_none() {
                play.keywords.ignore_errors = Some(Value::Bool(true));
            }
        }
        let mut options = self.options.clone();
        options.tags.clear();
        options.skip_tags.clear();
        options.start_at_task = None;
        options.step = false;
        let sink = Arc::new(RunSink::new(self.sink.clone(), true));
        let executor = Executor::new(
            self.registry.clone(),
            inventory.clone(),
            options,
            sink.clone(),
        );
        let summary =
            crate::vault::scope_secrets(self.vault.clone(), executor.run(&playbook)).await?;
        let mut report = PreflightReport {
            hosts: summary.stats.iter().map(|(h, _)| h.clone()).collect(),
            ..PreflightReport::default()
        };
        for outcome in sink.take() {
            let r = &outcome.result;
            // A loop's overall result repeats its items' failures.
            if outcome.loop_aggregate && r.status != Status::Unreachable {
                continue;
            }
            let reason = match r.status {
                Status::Failed => failure_reason(r.error.as_deref(), &r.result),
                Status::Unreachable => format!("unreachable: {}", message_of(&r.result)),
                Status::Changed => {
                    "the check reported a change; preflight checks must be read-only \
                     (add `changed_when: false`)"
                        .to_string()
                }
                Status::Ok | Status::Skipped => continue,
            };
            let check = match &r.item {
                Some(item) if !item.is_empty() => format!("{} (item={item})", outcome.task),
                _ => outcome.task.clone(),
            };
            report.failures.push(PreflightFailure {
                host: r.host.clone(),
                check,
                reason,
            });
        }
        // A host with no result at all is one the checks could not judge.
        for (host, stats) in &summary.stats {
            if stats.unreachable > 0 && !report.failures.iter().any(|f| &f.host == host) {
                report.failures.push(PreflightFailure {
                    host: host.clone(),
                    check: "(connection)".into(),
                    reason: "unreachable".into(),
                });
            }
        }
        Ok(report)
    }
}

/// The failure's message as shown: the `[ERROR]` text without its `Task failed: …` prefix
/// (already censored for `no_log` tasks), else the result's `msg`.
fn failure_reason(error: Option<&str>, result: &Value) -> String {
    if let Some(e) = error {
        let e = e.strip_prefix("Task failed: ").unwrap_or(e);
        let e = e
            .strip_prefix("Module failed: ")
            .or_else(|| e.strip_prefix("Action failed: "))
            .unwrap_or(e);
        return e.to_string();
    }
    message_of(result)
}

fn message_of(result: &Value) -> String {
    match result.get("msg") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => match result.get("censored") {
            Some(Value::String(s)) => s.clone(),
            _ => "failed".into(),
        },
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_drop_the_task_failed_prefix() {
        let r = serde_json::json!({"msg": "x"});
        assert_eq!(
            failure_reason(Some("Task failed: Action failed: backup too old"), &r),
            "backup too old"
        );
        assert_eq!(failure_reason(None, &r), "x");
        assert_eq!(
            message_of(&serde_json::json!({"censored": "hidden"})),
            "hidden"
        );
        assert_eq!(message_of(&serde_json::json!({})), "failed");
    }

    #[test]
    fn describe_lists_every_failure() {
        let report = PreflightReport {
            failures: vec![
                PreflightFailure {
                    host: "web1".into(),
                    check: "no tmux sessions".into(),
                    reason: "alice has 1".into(),
                },
                PreflightFailure {
                    host: "web2".into(),
                    check: "backup is recent".into(),
                    reason: "none".into(),
                },
            ],
            hosts: vec!["web1".into(), "web2".into()],
        };
        assert!(!report.passed());
        let text = report.describe();
        assert!(text.starts_with("preflight failed: 2 check(s)"), "{text}");
        assert!(
            text.contains("\n  web1: no tmux sessions: alice has 1"),
            "{text}"
        );
        assert!(text.contains("\n  web2: backup is recent: none"), "{text}");
    }
}

//! How ansible-core 2.19 words a failed result: `Task failed: Module failed: MSG` when the module
//! itself reported the failure, `Task failed: Action failed: MSG` when the action did (a
//! controller-side action, or `failed_when` turning a success into a failure).

use super::Executor;
use crate::playbook::{Task, TaskKind};
use crate::vars::Value;

/// A result `msg` that ansible-core gives a failure without one.
const UNKNOWN: &str = "Unknown error.";

impl Executor {
    /// For a failed `result` of `task`: ansible-core's account of the failure. A failure without
    /// `msg` gets that account as its `msg`, as ansible-core's result has.
    pub(super) fn describe_failure(&self, task: &Task, result: &mut Value) -> Option<String> {
        let Value::Object(r) = result else {
            return None;
        };
        if !r.get("failed").is_some_and(crate::vars::is_truthy)
            || r.get("unreachable").is_some_and(crate::vars::is_truthy)
        {
            return None;
        }
        let msg = match r.get("msg") {
            Some(Value::String(s)) => Some(s.clone()),
            None | Some(Value::Null) => None,
            Some(other) => Some(other.to_string()),
        };
        if let Some(m) = msg.as_deref().filter(|m| m.starts_with("Task failed: ")) {
            return Some(m.to_string());
        }
        let controller = match &task.kind {
            TaskKind::Module { module, .. } => self
                .shared
                .registry
                .get(module)
                .is_none_or(|m| m.controller_only()),
            _ => true,
        };
        let by_failed_when = r.get("failed_when_result") == Some(&Value::Bool(true))
            && msg.as_deref().unwrap_or_default().is_empty();
        let origin = if controller || by_failed_when {
            "Action failed"
        } else {
            "Module failed"
        };
        Some(match msg {
            Some(m) if m.is_empty() => format!("Task failed: {origin}."),
            Some(m) => format!("Task failed: {origin}: {m}"),
            None => {
                let text = format!("Task failed: {origin}: {UNKNOWN}");
                r.insert("msg".into(), Value::String(text.clone()));
                text
            }
        })
    }
}

//! What a task did on one host: its outcome, the status of a result value, and the results the
//! executor makes itself (failures, time-outs, unreachable hosts, `no_log` censoring).

use std::time::Duration;

use crate::events::Status;
use crate::vars::{is_truthy, Map, Value};

/// What a task did on one host.
pub(crate) struct HostOutcome {
    pub status: Status,
    pub result: Value,
    pub ignored: bool,
    /// The result is the aggregate of loop items already reported one by one.
    pub looped: bool,
    pub duration: Duration,
}

/// Status of a finished result value.
pub(crate) fn status_of(result: &Value) -> Status {
    let flag = |k: &str| result.get(k).is_some_and(is_truthy);
    if flag("unreachable") {
        Status::Unreachable
    } else if flag("failed") {
        Status::Failed
    } else if flag("skipped") {
        Status::Skipped
    } else if flag("changed") {
        Status::Changed
    } else {
        Status::Ok
    }
}

/// A module's result as Ansible registers it: with `failed: false` unless it failed or skipped
/// (playbooks read `result.failed`).
pub(crate) fn with_failed_flag(mut result: Value) -> Value {
    if let Value::Object(r) = &mut result {
        if !r.contains_key("failed") && !r.get("skipped").is_some_and(is_truthy) {
            r.insert("failed".into(), Value::Bool(false));
        }
    }
    result
}

/// Adds `stdout_lines`/`stderr_lines` to a module's result that has `stdout`/`stderr` but not
/// the lines, as ansible-core does for every module it executes (so `docker_container_exec`'s or
/// `uri`'s output can be read by line like `command`'s).
pub(crate) fn with_output_lines(mut result: Value) -> Value {
    if let Value::Object(r) = &mut result {
        for (text, lines) in [("stdout", "stdout_lines"), ("stderr", "stderr_lines")] {
            if r.contains_key(text) && !r.contains_key(lines) {
                let split: Vec<Value> = match r.get(text) {
                    Some(Value::String(s)) => python_splitlines(s).map(Value::from).collect(),
                    _ => Vec::new(),
                };
                r.insert(lines.into(), Value::Array(split));
            }
        }
    }
    result
}

/// Python's `str.splitlines()`: every Unicode line boundary, no trailing empty line.
fn python_splitlines(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = s;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let boundary = rest.char_indices().find(|(_, c)| {
            matches!(
                c,
                '\n' | '\r'
                    | '\x0b'
                    | '\x0c'
                    | '\x1c'
                    | '\x1d'
                    | '\x1e'
                    | '\u{85}'
                    | '\u{2028}'
                    | '\u{2029}'
            )
        });
        let Some((at, c)) = boundary else {
            let line = rest;
            rest = "";
            return Some(line);
        };
        let line = &rest[..at];
        let mut next = at + c.len_utf8();
        if c == '\r' && rest[next..].starts_with('\n') {
            next += 1;
        }
        rest = &rest[next..];
        Some(line)
    })
}

pub(crate) fn failed_result(msg: impl Into<String>) -> Value {
    serde_json::json!({"changed": false, "failed": true, "msg": msg.into()})
}

/// A `timeout` keyword value in whole seconds (`None` when it is not a number).
pub(crate) fn timeout_seconds(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().map(|f| f.max(0.0) as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// ansible-core 2.19's result for an action that ran past its `timeout`.
pub(crate) fn timed_out_result(seconds: u64) -> Value {
    serde_json::json!({
        "changed": false,
        "failed": true,
        "msg": format!("Task failed: Timed out after {seconds} second(s)."),
        "timedout": {"period": seconds},
    })
}

const NO_LOG_MSG: &str =
    "the output has been hidden due to the fact that 'no_log: true' was specified for this result";

/// Removes a module's own request to hide its result (`_ansible_no_log`, e.g. `include_vars` of
/// a vault-encrypted file) and tells whether it asked.
pub(crate) fn take_no_log(result: &mut Value) -> bool {
    result
        .as_object_mut()
        .and_then(|m| m.remove("_ansible_no_log"))
        .is_some_and(|v| v == Value::Bool(true))
}

/// The result as reporters may show it: censored when `no_log` is on.
pub(crate) fn censor(result: &Value, no_log: bool) -> Value {
    if !no_log {
        return result.clone();
    }
    let mut m = Map::new();
    m.insert("censored".into(), Value::String(NO_LOG_MSG.into()));
    for k in ["changed", "failed", "skipped", "unreachable"] {
        if let Some(v) = result.get(k) {
            m.insert(k.into(), v.clone());
        }
    }
    Value::Object(m)
}

/// The `[ERROR]` account of a failure as reporters may show it: for a `no_log` task only its
/// origin (`Task failed: Module failed: …`) and the censored notice. ansible-core 2.19 shows the
/// message of a `no_log` task's failure there (e.g. `fail`'s `msg`); drover does not, so that
/// no secret a message carries is printed.
pub(crate) fn censor_error(error: Option<String>, no_log: bool) -> Option<String> {
    let error = error?;
    if !no_log {
        return Some(error);
    }
    let origin = ["Module failed", "Action failed"]
        .into_iter()
        .find(|o| error.starts_with(&format!("Task failed: {o}")))
        .unwrap_or("Action failed");
    Some(format!("Task failed: {origin}: {NO_LOG_MSG}"))
}

pub(crate) fn unreachable_result(e: &crate::connection::ConnectionError) -> Value {
    serde_json::json!({
        "changed": false,
        "unreachable": true,
        "msg": format!("Failed to connect to the host: {e}"),
    })
}

#[cfg(test)]
mod timeout_tests {
    use super::*;

    #[test]
    fn timeout_values_and_message() {
        assert_eq!(timeout_seconds(&serde_json::json!(5)), Some(5));
        assert_eq!(timeout_seconds(&serde_json::json!(" 7 ")), Some(7));
        assert_eq!(timeout_seconds(&serde_json::json!(true)), None);
        let r = timed_out_result(1);
        assert_eq!(r["msg"], "Task failed: Timed out after 1 second(s).");
        assert_eq!(status_of(&r), Status::Failed);
    }

    #[test]
    fn no_log_errors_keep_only_their_origin() {
        let e = Some("Task failed: Module failed: token abc123 refused".to_string());
        assert_eq!(censor_error(e.clone(), false), e);
        let censored = censor_error(e, true).unwrap_or_default();
        assert!(!censored.contains("abc123"), "{censored}");
        assert!(censored.starts_with("Task failed: Module failed: the output has been hidden"));
        let e = Some("Task failed: Timed out after 3 second(s).".to_string());
        assert!(!censor_error(e, true).unwrap_or_default().contains("second"));
        assert_eq!(censor_error(None, true), None);
    }
}

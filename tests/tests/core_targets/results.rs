//! Reading the two tools' JSON-lines output of an ansible-core integration target run, and
//! scoring drover's assert results against ansible-core's (see `oracle_core_targets.rs`).
//!
//! An assert is identified by its task's source position relative to the targets directory
//! (`copy/tasks/tests.yml:123`), the how-many-th time that task ran, and the loop item index:
//! the same identity in both runs as long as drover runs the same tasks in the same order.

use std::collections::HashMap;

use serde_json::Value;

/// Outcome of one assert evaluation (one task run, or one loop item of it).
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Every condition held.
    Passed,
    /// A condition did not hold (or the assert errored); the failing condition if known.
    Failed {
        assertion: Option<String>,
        msg: String,
    },
    /// Skipped by `when`.
    Skipped,
}

/// One assert evaluation.
#[derive(Debug, Clone)]
pub struct AssertUnit {
    /// `file:line` relative to the targets directory.
    pub key: String,
    /// How many times this task had run before (0 for the first run).
    pub occurrence: usize,
    /// Loop item index (0 without a loop).
    pub item: usize,
    /// What happened.
    pub outcome: Outcome,
    /// The `that` conditions as written (reported by ansible-core's callback only).
    pub that: Vec<String>,
}

/// One task result (or loop item result) on the target host.
#[derive(Debug, Clone)]
pub struct TaskResult {
    /// `file:line` relative to the targets directory.
    pub key: String,
    /// Task name as displayed.
    pub name: String,
    /// Module or action.
    pub action: String,
    /// ok, changed, failed, skipped, unreachable.
    pub status: String,
    /// A failure that `ignore_errors` let pass.
    pub ignored: bool,
    /// The result's `msg`, if any.
    pub msg: String,
}

/// What one tool did with one target.
#[derive(Debug, Default, Clone)]
pub struct ToolRun {
    /// Assert evaluations in execution order.
    pub asserts: Vec<AssertUnit>,
    /// Task results in execution order.
    pub tasks: Vec<TaskResult>,
    /// Recap counters for the target host (ok, changed, failed, skipped, rescued, ignored).
    pub recap: HashMap<String, u64>,
}

/// `…/targets/copy/tasks/x.yml:12[:5]` → `copy/tasks/x.yml:12`.
pub fn relative_key(path: &str) -> String {
    let rel = match path.rfind("/targets/") {
        Some(at) => &path[at + "/targets/".len()..],
        None => path,
    };
    // drop a trailing `:col` (drover) so both tools give `file:line`
    let mut parts: Vec<&str> = rel.rsplitn(3, ':').collect();
    parts.reverse();
    if parts.len() == 3 && parts[1].parse::<u32>().is_ok() && parts[2].parse::<u32>().is_ok() {
        format!("{}:{}", parts[0], parts[1])
    } else {
        rel.to_string()
    }
}

fn msg_of(result: &Value) -> String {
    match result.get("msg") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn is_assert(action: &str) -> bool {
    matches!(
        action,
        "assert" | "ansible.builtin.assert" | "ansible.legacy.assert"
    )
}

/// Parses the `drover_oracle` callback's lines (tests/oracle/callback_plugins).
pub fn parse_ansible(stdout: &str, host: &str) -> ToolRun {
    let mut run = ToolRun::default();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for line in stdout.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if v.get("recap").and_then(Value::as_str) == Some(host) {
            if let Some(stats) = v.get("stats").and_then(Value::as_object) {
                for (k, n) in stats {
                    run.recap.insert(k.clone(), n.as_u64().unwrap_or(0));
                }
            }
            continue;
        }
        if v.get("host").and_then(Value::as_str) != Some(host) {
            continue;
        }
        let key = relative_key(v.get("path").and_then(Value::as_str).unwrap_or(""));
        let status = v.get("status").and_then(Value::as_str).unwrap_or("");
        let action = v.get("action").and_then(Value::as_str).unwrap_or("");
        run.tasks.push(TaskResult {
            key: key.clone(),
            name: v.get("task").and_then(Value::as_str).unwrap_or("").into(),
            action: action.into(),
            status: if status == "ignored" {
                "failed"
            } else {
                status
            }
            .into(),
            ignored: status == "ignored",
            msg: String::new(),
        });
        let Some(assert) = v.get("assert") else {
            continue;
        };
        let that: Vec<String> = assert
            .get("that")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|c| c.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let occurrence = next_occurrence(&mut seen, &key);
        let results = assert.get("results").and_then(Value::as_array);
        for (item, r) in results.into_iter().flatten().enumerate() {
            let outcome = match r.get("outcome").and_then(Value::as_str) {
                Some("passed") => Outcome::Passed,
                Some("skipped") => Outcome::Skipped,
                _ => Outcome::Failed {
                    assertion: r
                        .get("assertion")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    msg: msg_of(r),
                },
            };
            run.asserts.push(AssertUnit {
                key: key.clone(),
                occurrence,
                item,
                outcome,
                that: that.clone(),
            });
        }
    }
    run
}

fn next_occurrence(seen: &mut HashMap<String, usize>, key: &str) -> usize {
    let n = seen.entry(key.to_string()).or_insert(0);
    *n += 1;
    *n - 1
}

/// Parses drover's `--output json` events for `host`.
pub fn parse_drover(stdout: &str, host: &str) -> ToolRun {
    let mut run = ToolRun::default();
    let mut seen: HashMap<String, usize> = HashMap::new();
    // (key, name, module, occurrence, next item index) of the task that last started
    let mut current: Option<(String, String, String, usize, usize)> = None;
    for line in stdout.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        match v.get("event").and_then(Value::as_str) {
            Some("task_start") => {
                let key = relative_key(v.get("location").and_then(Value::as_str).unwrap_or(""));
                let name = v
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let module = v
                    .get("module")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let occurrence = if is_assert(&module) {
                    next_occurrence(&mut seen, &key)
                } else {
                    0
                };
                current = Some((key, name, module, occurrence, 0));
            }
            Some("host_result") if v.get("host").and_then(Value::as_str) == Some(host) => {
                let Some((key, name, module, occurrence, item)) = current.as_mut() else {
                    continue;
                };
                let status = v.get("status").and_then(Value::as_str).unwrap_or("");
                let result = v.get("result").cloned().unwrap_or(Value::Null);
                run.tasks.push(TaskResult {
                    key: key.clone(),
                    name: name.clone(),
                    action: module.clone(),
                    status: status.into(),
                    ignored: v.get("ignored").and_then(Value::as_bool).unwrap_or(false),
                    msg: msg_of(&result),
                });
                if !is_assert(module) {
                    continue;
                }
                let outcome = match status {
                    "ok" | "changed" => Outcome::Passed,
                    "skipped" => Outcome::Skipped,
                    _ => Outcome::Failed {
                        assertion: result
                            .get("assertion")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                        msg: msg_of(&result),
                    },
                };
                run.asserts.push(AssertUnit {
                    key: key.clone(),
                    occurrence: *occurrence,
                    item: *item,
                    outcome,
                    that: Vec::new(),
                });
                *item += 1;
            }
            Some("recap") => {
                for entry in v
                    .get("hosts")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if entry.get(0).and_then(Value::as_str) != Some(host) {
                        continue;
                    }
                    if let Some(stats) = entry.get(1).and_then(Value::as_object) {
                        for (k, n) in stats {
                            run.recap.insert(k.clone(), n.as_u64().unwrap_or(0));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    run
}

/// drover's score on the asserts ansible-core passed.
#[derive(Debug, Default, Clone, Copy)]
pub struct Score {
    /// Assert evaluations ansible-core passed.
    pub ansible_passed: usize,
    /// Of those, the ones drover passed too.
    pub drover_passed: usize,
    /// `that` conditions ansible-core's passing asserts hold.
    pub ansible_conditions: usize,
    /// Of those, the ones drover saw hold (those before a failing one count).
    pub drover_conditions: usize,
    /// Of ansible-core's passing asserts, the ones drover never ran or skipped.
    pub drover_missing: usize,
}

/// Compares drover's assert outcomes with ansible-core's, unit by unit. Returns the score and
/// the failed asserts (ansible-core passed, drover failed): key, drover's failing condition and
/// message.
pub fn score(ansible: &ToolRun, drover: &ToolRun) -> (Score, Vec<(String, String)>) {
    let by_id: HashMap<(&str, usize, usize), &AssertUnit> = drover
        .asserts
        .iter()
        .map(|u| ((u.key.as_str(), u.occurrence, u.item), u))
        .collect();
    let mut s = Score::default();
    let mut failed = Vec::new();
    for a in &ansible.asserts {
        if a.outcome != Outcome::Passed {
            continue;
        }
        let conditions = a.that.len().max(1);
        s.ansible_passed += 1;
        s.ansible_conditions += conditions;
        match by_id.get(&(a.key.as_str(), a.occurrence, a.item)) {
            Some(d) if d.outcome == Outcome::Passed => {
                s.drover_passed += 1;
                s.drover_conditions += conditions;
            }
            Some(AssertUnit {
                outcome: Outcome::Failed { assertion, msg },
                ..
            }) => {
                let held = assertion
                    .as_deref()
                    .and_then(|c| a.that.iter().position(|t| t.trim() == c.trim()))
                    .unwrap_or(0);
                s.drover_conditions += held;
                failed.push((
                    a.key.clone(),
                    format!(
                        "{} — {}",
                        assertion.as_deref().unwrap_or("(no condition)"),
                        first_line(msg)
                    ),
                ));
            }
            _ => s.drover_missing += 1,
        }
    }
    (s, failed)
}

/// The first line of `text`, at most 160 characters.
pub fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    if line.chars().count() > 160 {
        format!("{}…", line.chars().take(160).collect::<String>())
    } else {
        line.to_string()
    }
}

/// The error that stopped a run before any task, from its standard error: miette's `×` line
/// and its continuation lines (warnings skipped), else the last line.
pub fn load_error(stderr: &str) -> String {
    let mut lines = stderr
        .lines()
        .skip_while(|l| !l.trim_start().starts_with('×'));
    if let Some(head) = lines.next() {
        let mut text = head.trim_start().trim_start_matches('×').trim().to_string();
        for l in lines {
            let Some(rest) = l.trim_start().strip_prefix('│') else {
                break;
            };
            text.push(' ');
            text.push_str(rest.trim());
        }
        return first_line(&text);
    }
    first_line(
        stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or(""),
    )
}

/// Where drover's run stopped: the last failure that was neither ignored nor rescued, when the
/// recap counts a failed host.
pub fn stop_point(run: &ToolRun) -> Option<String> {
    if run
        .recap
        .get("failures")
        .or(run.recap.get("failed"))
        .copied()
        .unwrap_or(0)
        == 0
    {
        return None;
    }
    run.tasks
        .iter()
        .rev()
        .find(|t| t.status == "failed" && !t.ignored)
        .map(|t| {
            format!(
                "{} \"{}\" [{}]: {}",
                t.key,
                t.name,
                t.action,
                first_line(&t.msg)
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_relative_and_without_columns() {
        assert_eq!(
            relative_key("/tmp/x/drover/targets/copy/tasks/tests.yml:12:5"),
            "copy/tasks/tests.yml:12"
        );
        assert_eq!(
            relative_key("/tmp/x/ansible/targets/copy/tasks/tests.yml:12"),
            "copy/tasks/tests.yml:12"
        );
    }

    #[test]
    fn load_errors_skip_warnings() {
        let stderr = "[WARNING]: a.yml:1:3: something\n  × /t/targets/x.yml:4:5:\n  │ file: unsupported parameter\n  │ `_diff_peek`\n   ╭─[x]\n";
        assert_eq!(
            load_error(stderr),
            "/t/targets/x.yml:4:5: file: unsupported parameter `_diff_peek`"
        );
        assert_eq!(load_error("boom\n\n"), "boom");
    }

    #[test]
    fn scores_units_by_identity() {
        let unit = |key: &str, outcome: Outcome| AssertUnit {
            key: key.into(),
            occurrence: 0,
            item: 0,
            outcome,
            that: vec!["a".into(), "b".into(), "c".into()],
        };
        let ansible = ToolRun {
            asserts: vec![
                unit("t/a.yml:1", Outcome::Passed),
                unit("t/a.yml:5", Outcome::Passed),
                unit("t/a.yml:9", Outcome::Passed),
                unit(
                    "t/a.yml:13",
                    Outcome::Failed {
                        assertion: None,
                        msg: String::new(),
                    },
                ),
            ],
            ..ToolRun::default()
        };
        let drover = ToolRun {
            asserts: vec![
                unit("t/a.yml:1", Outcome::Passed),
                unit(
                    "t/a.yml:5",
                    Outcome::Failed {
                        assertion: Some("c".into()),
                        msg: "m".into(),
                    },
                ),
                unit("t/a.yml:13", Outcome::Passed),
            ],
            ..ToolRun::default()
        };
        let (s, failed) = score(&ansible, &drover);
        assert_eq!(
            (s.ansible_passed, s.drover_passed, s.drover_missing),
            (3, 1, 1)
        );
        assert_eq!((s.ansible_conditions, s.drover_conditions), (9, 5));
        assert_eq!(failed.len(), 1);
    }
}

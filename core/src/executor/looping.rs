//! Running a task's loop on one host: one run per item, reported as it finishes, then the
//! aggregate result. As in ansible-core, each item sees what the items before it did: facts
//! they set (`set_fact`, `include_vars`, fact modules) and, under `register`, the previous
//! item's result.

use std::time::{Duration, Instant};

use super::result::{censor, censor_error, status_of, take_no_log, HostOutcome};
use super::{Executor, PlayCtx};
use crate::events::{Event, HostResult, Status};
use crate::playbook::{Keywords, Task, TaskKind};
use crate::vars::{is_truthy, Map, Value, Vars};

/// `ansible_loop` (`loop_control.extended`) for item `index` of `items`.
fn loop_info(items: &[Value], index: usize) -> Value {
    let total = items.len();
    let mut l = Map::new();
    l.insert("allitems".into(), Value::Array(items.to_vec()));
    l.insert("index".into(), Value::from(index + 1));
    l.insert("index0".into(), Value::from(index));
    l.insert("revindex".into(), Value::from(total - index));
    l.insert("revindex0".into(), Value::from(total - index - 1));
    l.insert("first".into(), Value::Bool(index == 0));
    l.insert("last".into(), Value::Bool(index + 1 == total));
    l.insert("length".into(), Value::from(total));
    if index > 0 {
        l.insert("previtem".into(), items[index - 1].clone());
    }
    if index + 1 < total {
        l.insert("nextitem".into(), items[index + 1].clone());
    }
    Value::Object(l)
}

/// Makes what one item's result set visible to the next items (ansible-core updates the
/// task's variables after every item): its facts, and its result under `register`.
pub(crate) fn carry_over(task: &Task, result: &Value, vars: &mut Vars) {
    if let Some(Value::Object(facts)) = result.get("ansible_facts") {
        let module = match &task.kind {
            TaskKind::Module { module, .. } => module.rsplit('.').next().unwrap_or(""),
            _ => "",
        };
        if matches!(module, "set_fact" | "include_vars") {
            crate::vars::merge_into(vars, facts);
        } else {
            let mut namespaced = match vars.get("ansible_facts") {
                Some(Value::Object(m)) => m.clone(),
                _ => Map::new(),
            };
            crate::vars::merge_into(&mut namespaced, &super::state::facts_without_prefix(facts));
            crate::vars::merge_into(vars, facts);
            vars.insert("ansible_facts".into(), Value::Object(namespaced));
        }
    }
    if let Some(reg) = &task.register {
        vars.insert(reg.clone(), crate::vars::registered(result));
    }
}

/// The loop's aggregate result from its items' results, with the keys ansible-core's task
/// executor gives it (`skipped` always; `msg` by outcome; no `msg` for an empty loop).
fn aggregate(results: Vec<Value>) -> Value {
    let any = |k: &str| results.iter().any(|r| r.get(k).is_some_and(is_truthy));
    let mut agg = Map::new();
    agg.insert("changed".into(), Value::Bool(any("changed")));
    if results.is_empty() {
        agg.insert("skipped".into(), Value::Bool(true));
        agg.insert(
            "skipped_reason".into(),
            Value::String("No items in the list".into()),
        );
        agg.insert("results".into(), Value::Array(results));
        return Value::Object(agg);
    }
    let all_skipped = results
        .iter()
        .all(|r| r.get("skipped").is_some_and(is_truthy));
    if any("unreachable") {
        agg.insert("unreachable".into(), Value::Bool(true));
    }
    let msg = if all_skipped {
        "All items skipped"
    } else if any("failed") {
        "One or more items failed"
    } else {
        "All items completed"
    };
    if any("failed") {
        agg.insert("failed".into(), Value::Bool(true));
    }
    agg.insert("msg".into(), Value::String(msg.into()));
    agg.insert("skipped".into(), Value::Bool(all_skipped));
    agg.insert("results".into(), Value::Array(results));
    Value::Object(agg)
}

impl Executor {
    /// Runs `task` once per item of `items` on `host`, reporting each item, and returns the
    /// aggregate outcome.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn run_loop(
        &self,
        play: &PlayCtx<'_>,
        task: &Task,
        kw: &Keywords,
        host: &str,
        mut vars: Vars,
        items: Vec<Value>,
        no_log: bool,
        start: Instant,
    ) -> HostOutcome {
        let pause = task.loop_pause.as_ref().and_then(|p| {
            match self.shared.templar.render_value(p, &vars).ok()? {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            }
        });
        // The variables the task started with decide `ignore_errors` of the whole loop.
        let task_vars = vars.clone();
        let mut results = Vec::with_capacity(items.len());
        for (index, item) in items.iter().cloned().enumerate() {
            if index > 0 {
                if let Some(secs) = pause.filter(|s| *s > 0.0) {
                    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
                }
            }
            let item_start = Instant::now();
            let mut item_vars = vars.clone();
            if task.loop_extended {
                item_vars.insert("ansible_loop".into(), loop_info(&items, index));
            }
            item_vars.insert(task.loop_var.clone(), item.clone());
            item_vars.insert(
                "ansible_loop_var".into(),
                Value::String(task.loop_var.clone()),
            );
            if let Some(iv) = &task.index_var {
                item_vars.insert(iv.clone(), Value::from(index));
            }
            let mut r = self
                .run_item_timed(play, task, kw, host, &item_vars, None)
                .await;
            let label = self.item_label(task, &item_vars);
            let no_log = no_log | take_no_log(&mut r);
            if let Value::Object(m) = &mut r {
                m.insert(task.loop_var.clone(), item.clone());
                m.insert(
                    "ansible_loop_var".into(),
                    Value::String(task.loop_var.clone()),
                );
                if let Some(iv) = &task.index_var {
                    m.insert(iv.clone(), Value::from(index));
                    m.insert("ansible_index_var".into(), Value::String(iv.clone()));
                }
                if let Some(l) = item_vars.get("ansible_loop") {
                    m.insert("ansible_loop".into(), l.clone());
                }
            }
            let status = status_of(&r);
            let ignored = status == Status::Failed
                && self
                    .keyword_bool(&kw.ignore_errors, &item_vars)
                    .ok()
                    .flatten()
                    .unwrap_or(false);
            let error = censor_error(self.describe_failure(task, &mut r), no_log);
            self.emit(Event::HostResult(HostResult {
                host: host.to_string(),
                delegated_to: self.delegate_shown(task, &item_vars),
                status,
                ignored,
                item: Some(if no_log { "None".into() } else { label }),
                result: censor(&r, no_log),
                error,
                duration: item_start.elapsed(),
            }));
            carry_over(task, &r, &mut vars);
            let unreachable = status == Status::Unreachable;
            results.push(r);
            if unreachable {
                break;
            }
        }
        self.finish(task, kw, &task_vars, aggregate(results), true, start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::Location;
    use serde_json::json;

    fn task(module: &str, register: Option<&str>) -> Task {
        let mut t = Task::new(
            Location::default(),
            TaskKind::Module {
                module: module.into(),
                args: json!({}),
            },
        );
        t.register = register.map(str::to_string);
        t
    }

    #[test]
    fn facts_and_registered_results_carry_to_the_next_item() {
        let mut vars = Vars::new();
        let t = task("ansible.builtin.set_fact", Some("r"));
        let r = json!({"ansible_facts": {"acc": [1]}, "changed": false, "item": 1});
        carry_over(&t, &r, &mut vars);
        assert_eq!(vars["acc"], json!([1]));
        assert_eq!(vars["r"], r);
        let setup = task("setup", None);
        carry_over(
            &setup,
            &json!({"ansible_facts": {"ansible_os_family": "Debian"}}),
            &mut vars,
        );
        assert_eq!(vars["ansible_os_family"], json!("Debian"));
        assert_eq!(vars["ansible_facts"]["os_family"], json!("Debian"));
    }

    #[test]
    fn aggregate_of_items() {
        let agg = aggregate(vec![json!({"changed": true}), json!({"failed": true})]);
        assert_eq!(agg["changed"], json!(true));
        assert_eq!(agg["failed"], json!(true));
        assert_eq!(agg["msg"], json!("One or more items failed"));
        let none = aggregate(Vec::new());
        assert_eq!(none["skipped"], json!(true));
    }
}

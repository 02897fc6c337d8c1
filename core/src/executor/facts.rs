//! Facts a task's result sets on hosts: the `ansible_facts` of its result, or of each loop
//! item's result in order (the last value wins, as in ansible-core); with `run_once`, on every
//! host of the play, together with the registered result.

use indexmap::IndexMap;

use super::{Executor, HostState};
use crate::playbook::{Task, TaskKind};
use crate::vars::{Map, Value, Vars};

/// Each `ansible_facts` mapping a result carries: its own, or its loop items' in order.
pub(crate) fn result_facts(result: &Value) -> Vec<&Map<String, Value>> {
    let own = result.get("ansible_facts").and_then(Value::as_object);
    let items = result
        .get("results")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| r.get("ansible_facts").and_then(Value::as_object));
    own.into_iter().chain(items).collect()
}

impl Executor {
    /// Merges the facts `result` sets into the state of `host` (or, with `delegate_facts`, of
    /// the delegated host): `set_fact`/`include_vars` values as host variables, others as facts.
    pub(super) fn apply_facts(
        &self,
        states: &mut IndexMap<String, HostState>,
        task: &Task,
        host: &str,
        result: &Value,
        vars: &Vars,
    ) {
        let all = result_facts(result);
        if all.is_empty() {
            return;
        }
        let short = match &task.kind {
            TaskKind::Module { module, .. } => module.rsplit('.').next().unwrap_or(""),
            _ => "",
        };
        // delegate_facts: facts belong to the host the task was delegated to.
        let owner = match (&task.delegate_to, task.delegate_facts) {
            (Some(d), true) => self
                .shared
                .templar
                .render_str(d, vars)
                .unwrap_or_else(|_| d.clone()),
            _ => host.to_string(),
        };
        if !states.contains_key(&owner) {
            let inv = &self.shared.inventory;
            let fresh = HostState {
                inventory_vars: inv.host_vars(&owner),
                group_names: inv.group_names(&owner),
                ..HostState::default()
            };
            states.insert(owner.clone(), fresh);
        }
        let Some(s) = states.get_mut(&owner) else {
            return;
        };
        let target = if matches!(short, "set_fact" | "include_vars") {
            &mut s.host_vars
        } else {
            &mut s.facts
        };
        for facts in all {
            crate::vars::merge_into(target, facts);
        }
    }

    /// `run_once`: the registered result and the facts of the one run go to every other host
    /// of the play (ansible-core sets them on all of them).
    pub(super) fn share_run_once(
        &self,
        task: &Task,
        host: &str,
        result: &Value,
        all_hosts: &[String],
        vars: &Vars,
    ) {
        let mut states = self.hosts();
        for h in all_hosts.iter().filter(|h| *h != host) {
            if let Some(reg) = &task.register {
                if let Some(s) = states.get_mut(h) {
                    s.host_vars
                        .insert(reg.clone(), crate::vars::registered(result));
                }
            }
            self.apply_facts(&mut states, task, h, result, vars);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn facts_of_a_result_and_of_its_items_in_order() {
        let single = json!({"ansible_facts": {"a": 1}});
        assert_eq!(result_facts(&single).len(), 1);
        let looped = json!({"results": [
            {"ansible_facts": {"acc": [1]}},
            {"skipped": true},
            {"ansible_facts": {"acc": [1, 2]}},
        ]});
        let all = result_facts(&looped);
        assert_eq!(all.len(), 2);
        let mut merged = Vars::new();
        for f in all {
            crate::vars::merge_into(&mut merged, f);
        }
        assert_eq!(merged["acc"], json!([1, 2]));
    }
}

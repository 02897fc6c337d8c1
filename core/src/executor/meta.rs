//! Meta tasks: their banners and `skipping:` lines as ansible-core 2.19 shows them, and their
//! effect (`flush_handlers`, `end_play`/`end_host`/`end_batch`, `end_role`, `clear_facts`,
//! `clear_host_errors`).

use std::sync::Arc;

use super::{Executor, PlayCtx};
use crate::events::{Event, HostResult, Status};
use crate::playbook::{Keywords, Task};
use crate::vars::{Value, Vars};

/// Meta actions ansible-core 2.19 runs host by host, each host with its own banner (and a
/// `skipping:` line when its `when` is false); the others run once, for the first active host,
/// whose `when` decides for every host.
const PER_HOST: &[&str] = &["noop", "reset_connection", "end_host", "flush_handlers"];

/// Meta actions that ignore `when` (ansible-core warns that they do not support it).
const WITHOUT_WHEN: &[&str] = &["noop", "reset_connection", "refresh_inventory"];

impl Executor {
    /// Runs a meta task as ansible-core 2.19 shows and applies it: its banner for each host it
    /// runs for ([`PER_HOST`]) or once, a `skipping:` line (not counted in the recap) where its
    /// `when` is false, then its effect (`flush_handlers`, `end_play`/`end_host`/`end_batch`,
    /// `clear_facts`, `clear_host_errors`) for the hosts it applies to.
    pub(super) async fn run_meta(
        &self,
        ctx: &PlayCtx<'_>,
        task: &Task,
        kw: &Keywords,
        action: &str,
        hosts: &[String],
    ) {
        if action == "end_role" {
            return self.end_role(ctx, task, kw, hosts);
        }
        let targets = self.active_hosts(hosts);
        let shown: Vec<String> = if PER_HOST.contains(&action) {
            targets.clone()
        } else {
            targets.iter().take(1).cloned().collect()
        };
        let mut applies = Vec::new();
        for h in &shown {
            let holds = self.meta_turn(ctx, task, kw, h, || {
                let conds = super::prepare::when_conditions(kw, task);
                let holds = WITHOUT_WHEN.contains(&action) || conds.is_empty() || {
                    let vars = self.vars_for(ctx, h, kw, task.role.as_deref());
                    matches!(self.conditions_met(&conds, &vars), Ok(true))
                };
                (!holds).then(|| {
                    serde_json::json!({
                        "changed": false,
                        "skip_reason": "Conditional result was False",
                        "skipped": true,
                    })
                })
            });
            if holds {
                applies.push(h.clone());
            }
        }
        if applies.is_empty() {
            return;
        }
        // A meta run once applies to every active host.
        let affected = if PER_HOST.contains(&action) {
            applies
        } else {
            targets
        };
        match action {
            "flush_handlers" => self.flush_handlers(ctx, kw, &affected).await,
            "end_play" | "end_host" | "end_batch" | "clear_facts" | "clear_host_errors" => {
                let mut states = self.hosts();
                for h in &affected {
                    let Some(s) = states.get_mut(h) else {
                        continue;
                    };
                    match action {
                        "clear_facts" => s.facts.clear(),
                        "clear_host_errors" => s.failed = false,
                        _ => s.ended = true,
                    }
                }
            }
            _ => {}
        }
    }

    /// One host's turn at a meta task: its banner, then `decide`'s answer — `None` when the task
    /// applies to the host (returns true), or the result of a false `when`, shown as a
    /// `skipping:` line that the recap does not count.
    fn meta_turn(
        &self,
        ctx: &PlayCtx<'_>,
        task: &Task,
        kw: &Keywords,
        host: &str,
        decide: impl FnOnce() -> Option<serde_json::Value>,
    ) -> bool {
        let start = std::time::Instant::now();
        let name = self.shown_name(ctx, task, kw, host);
        let free_host = ctx.free.then(|| host.to_string());
        self.emit(Event::TaskStart {
            name: name.clone(),
            location: task.location.to_string(),
            handler: false,
            module: Some("meta".into()),
            host: free_host.clone(),
            hosts: vec![host.to_string()],
        });
        let skipped = decide();
        let applies = skipped.is_none();
        if let Some(result) = skipped {
            self.emit(Event::HostResult(HostResult {
                host: host.to_string(),
                delegated_to: None,
                status: Status::Skipped,
                ignored: false,
                item: None,
                result,
                error: None,
                duration: start.elapsed(),
            }));
        }
        self.emit(Event::TaskEnd {
            name,
            host: free_host,
            duration: start.elapsed(),
        });
        applies
    }

    /// `meta: end_role`, as ansible-core 2.19 runs it: host by host, each with the task's
    /// banner; a host whose `when` holds skips the rest of the task's role (nothing is shown or
    /// counted), the others show a skipped result (not counted either).
    fn end_role(&self, ctx: &PlayCtx<'_>, task: &Task, kw: &Keywords, hosts: &[String]) {
        // The load-time check refuses `end_role` outside a role.
        let Some(role) = &task.role else {
            return;
        };
        for h in self.active_hosts(hosts) {
            let ends = self.meta_turn(ctx, task, kw, &h, || {
                let vars = self.vars_for(ctx, &h, kw, Some(role.as_ref()));
                let conds = super::prepare::when_conditions(kw, task);
                let holds =
                    conds.is_empty() || matches!(self.conditions_met(&conds, &vars), Ok(true));
                // ansible-core's reason, its missing separator included.
                (!holds).then(|| {
                    let reason = format!(
                        "end_role conditional evaluated to Falsecontinuing role {} for {h}",
                        role.name
                    );
                    serde_json::json!({"msg": "end_role", "skipped": true, "skip_reason": reason})
                })
            });
            if ends {
                if let Some(s) = self.hosts().get_mut(&h) {
                    s.ended_role = Some(role.clone());
                }
            }
        }
    }

    /// The hosts of `hosts` that run `task`: a host that ended the task's role with
    /// `meta: end_role` is left out; one that ended another role has left that role (ansible-core
    /// skips to the role's end), so it takes part again.
    pub(super) fn hosts_past_end_role(&self, task: &Task, hosts: &[String]) -> Vec<String> {
        let mut states = self.hosts();
        hosts
            .iter()
            .filter(|h| {
                let Some(s) = states.get_mut(*h) else {
                    return true;
                };
                match (&s.ended_role, &task.role) {
                    (Some(ended), Some(role)) if Arc::ptr_eq(ended, role) => false,
                    (Some(_), _) => {
                        s.ended_role = None;
                        true
                    }
                    (None, _) => true,
                }
            })
            .cloned()
            .collect()
    }

    pub(super) fn conditions_met(&self, conds: &[Value], vars: &Vars) -> Result<bool, String> {
        for c in conds {
            let ok = match c {
                Value::String(s) => self
                    .shared
                    .templar
                    .eval_condition(s, vars)
                    .map_err(|e| e.to_string())?,
                other => crate::vars::is_truthy(other),
            };
            if !ok {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

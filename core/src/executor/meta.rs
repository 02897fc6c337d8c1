//! Meta tasks: their banner as the output shows it, and their effect (`flush_handlers`,
//! `end_play`/`end_host`/`end_batch`, `end_role`, `clear_facts`, `clear_host_errors`).

use std::sync::Arc;
use std::time::Duration;

use super::{Executor, PlayCtx};
use crate::events::{Event, HostResult, Status};
use crate::playbook::{Keywords, Task};
use crate::vars::{Value, Vars};

impl Executor {
    /// Shows a meta task's banner, as ansible-core 2.19 does for every meta task it runs
    /// (whether or not its `when` holds); its effect (such as handlers) follows.
    pub(super) fn announce_meta(
        &self,
        ctx: &PlayCtx<'_>,
        task: &Task,
        kw: &Keywords,
        hosts: &[String],
    ) {
        let targets = self.active_hosts(hosts);
        let Some(first) = targets.first() else {
            return;
        };
        let name = self.shown_name(ctx, task, kw, first);
        let free_host = ctx.free.then(|| first.clone());
        self.emit(Event::TaskStart {
            name: name.clone(),
            location: task.location.to_string(),
            handler: false,
            module: Some("meta".into()),
            host: free_host.clone(),
            hosts: targets.clone(),
        });
        self.emit(Event::TaskEnd {
            name,
            host: free_host,
            duration: Duration::ZERO,
        });
    }

    pub(super) async fn run_meta(
        &self,
        ctx: &PlayCtx<'_>,
        task: &Task,
        kw: &Keywords,
        action: &str,
        hosts: &[String],
    ) {
        match action {
            "flush_handlers" => self.flush_handlers(ctx, kw, hosts).await,
            "end_role" => self.end_role(ctx, task, kw, hosts),
            "end_play" | "end_host" | "end_batch" | "clear_facts" | "clear_host_errors" => {
                for h in self.active_hosts(hosts) {
                    let vars = self.vars_for(ctx, &h, kw, task.role.as_deref());
                    let conds = super::prepare::when_conditions(kw, task);
                    let applies =
                        conds.is_empty() || matches!(self.conditions_met(&conds, &vars), Ok(true));
                    if !applies {
                        continue;
                    }
                    let mut states = self.hosts();
                    let Some(s) = states.get_mut(&h) else {
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

    /// `meta: end_role`, as ansible-core 2.19 runs it: host by host, each with the task's
    /// banner; a host whose `when` holds skips the rest of the task's role (nothing is shown or
    /// counted), the others show a skipped result (not counted either).
    fn end_role(&self, ctx: &PlayCtx<'_>, task: &Task, kw: &Keywords, hosts: &[String]) {
        // The load-time check refuses `end_role` outside a role.
        let Some(role) = &task.role else {
            return;
        };
        for h in self.active_hosts(hosts) {
            let start = std::time::Instant::now();
            let vars = self.vars_for(ctx, &h, kw, Some(role.as_ref()));
            let name = self.shown_name(ctx, task, kw, &h);
            let free_host = ctx.free.then(|| h.clone());
            self.emit(Event::TaskStart {
                name: name.clone(),
                location: task.location.to_string(),
                handler: false,
                module: Some("meta".into()),
                host: free_host.clone(),
                hosts: vec![h.clone()],
            });
            let conds = super::prepare::when_conditions(kw, task);
            if conds.is_empty() || matches!(self.conditions_met(&conds, &vars), Ok(true)) {
                if let Some(s) = self.hosts().get_mut(&h) {
                    s.ended_role = Some(role.clone());
                }
            } else {
                // ansible-core's reason, its missing separator included.
                let reason = format!(
                    "end_role conditional evaluated to Falsecontinuing role {} for {h}",
                    role.name
                );
                self.emit(Event::HostResult(HostResult {
                    host: h.clone(),
                    delegated_to: None,
                    status: Status::Skipped,
                    ignored: false,
                    item: None,
                    result: serde_json::json!({
                        "msg": "end_role", "skipped": true, "skip_reason": reason}),
                    error: None,
                    duration: start.elapsed(),
                }));
            }
            self.emit(Event::TaskEnd {
                name,
                host: free_host,
                duration: start.elapsed(),
            });
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

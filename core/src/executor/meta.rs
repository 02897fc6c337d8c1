//! Meta tasks: their banner as the output shows it, and their effect (`flush_handlers`,
//! `end_play`/`end_host`/`end_batch`, `clear_facts`, `clear_host_errors`).

use std::time::Duration;

use super::{Executor, PlayCtx};
use crate::events::Event;
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

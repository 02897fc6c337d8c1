//! Hosts' state during a play: which hosts are still active, the variables a task sees on a
//! host, and what a task's outcome records (counters, `register`, notified handlers, facts).

use super::result::HostOutcome;
use super::state::{self, task_vars, HostState, VarsInput};
use super::{Executor, PlayCtx};
use crate::events::Status;
use crate::playbook::{Keywords, RoleRef, Task, TaskKind};
use crate::vars::{Value, Vars};

impl Executor {
    pub(super) fn active_hosts(&self, hosts: &[String]) -> Vec<String> {
        let states = self.hosts();
        hosts
            .iter()
            .filter(|h| states.get(*h).is_some_and(HostState::active))
            .cloned()
            .collect()
    }

    pub(super) fn vars_for(
        &self,
        ctx: &PlayCtx<'_>,
        host: &str,
        kw: &Keywords,
        role: Option<&RoleRef>,
    ) -> Vars {
        let states = self.hosts();
        let play_hosts: Vec<String> = ctx
            .vars
            .hosts_all
            .iter()
            .filter(|h| states.get(*h).is_some_and(HostState::active))
            .cloned()
            .collect();
        let batch: Vec<String> = ctx
            .batch
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|h| states.get(*h).is_some_and(HostState::active))
            .cloned()
            .collect();
        let hostvars = ctx
            .uses_hostvars
            .then(|| state::hostvars(&states, &self.shared.opts.extra_vars));
        let empty = HostState::default();
        let state = states.get(host).unwrap_or(&empty);
        let mut vars = task_vars(
            host,
            state,
            &VarsInput {
                play: &ctx.vars,
                task_vars: &kw.vars,
                extra_vars: &self.shared.opts.extra_vars,
                play_hosts: &play_hosts,
                play_batch: &batch,
                check_mode: self.shared.opts.check,
                diff_mode: self.shared.opts.diff,
                verbosity: self.shared.opts.verbosity,
                hostvars: hostvars.as_ref(),
                role,
            },
        );
        for (k, v) in &state.rescue_vars {
            vars.insert(k.clone(), v.clone());
        }
        vars
    }

    /// Updates a host's state and counters with a task outcome.
    pub(super) fn record(
        &self,
        ctx: &PlayCtx<'_>,
        task: &Task,
        host: &str,
        outcome: &HostOutcome,
        vars: &Vars,
        ignore_unreachable: bool,
    ) {
        let notify: Vec<String> = if outcome.status == Status::Changed {
            task.notify
                .iter()
                .map(|n| {
                    self.shared
                        .templar
                        .render_str(n, vars)
                        .unwrap_or_else(|_| n.clone())
                })
                .collect()
        } else {
            Vec::new()
        };
        let _ = ctx;
        let mut states = self.hosts();
        let Some(s) = states.get_mut(host) else {
            return;
        };
        match outcome.status {
            Status::Ok => s.stats.ok += 1,
            Status::Changed => {
                s.stats.ok += 1;
                s.stats.changed += 1;
            }
            Status::Skipped => s.stats.skipped += 1,
            Status::Unreachable if ignore_unreachable => {
                s.stats.unreachable += 1;
            }
            Status::Unreachable => {
                s.stats.unreachable += 1;
                s.unreachable = true;
            }
            Status::Failed if outcome.ignored => {
                s.stats.ok += 1;
                s.stats.ignored += 1;
                // ansible-core counts an ignored failure that changed something as changed.
                if outcome.result.get("changed") == Some(&Value::Bool(true)) {
                    s.stats.changed += 1;
                }
            }
            Status::Failed => {
                s.stats.failed += 1;
                s.failed = true;
                let (action, args) = match &task.kind {
                    TaskKind::Module { module, args } => (module.clone(), args.clone()),
                    _ => (String::new(), Value::Null),
                };
                s.last_failure = Some((
                    serde_json::json!({
                        "name": task.name.clone().unwrap_or_default(),
                        "action": action,
                        "args": args,
                    }),
                    outcome.result.clone(),
                ));
            }
        }
        if let Some(reg) = &task.register {
            s.host_vars
                .insert(reg.clone(), crate::vars::registered(&outcome.result));
        }
        for n in notify {
            s.notified.insert(n);
        }
        self.apply_facts(&mut states, task, host, &outcome.result, vars);
    }
}

//! The executor's side of `--summary` and `--resume`: checkpoints of what a host could get back
//! (its `register`/`set_fact` variables and pending handlers, secrets left out), and a resumed
//! run passing the tasks each host did before (see `docs/RESUME.md`).

use super::facts::result_facts;
use super::{Executor, PlayCtx};
use crate::events::{Checkpoint, Event};
use crate::playbook::{Task, TaskKind};
use crate::progress::{Step, TaskId};
use crate::vars::Value;

impl Executor {
    /// Hosts a resumed run works on: those that finished before are left out.
    pub(super) fn resume_hosts(&self, selected: Vec<String>) -> Vec<String> {
        match &self.shared.opts.resume {
            Some(plan) => selected.into_iter().filter(|h| !plan.finished(h)).collect(),
            None => selected,
        }
    }

    /// Gives the hosts of a resumed run their recorded variables back (once per host).
    pub(super) fn resume_restore(&self, hosts: &[String]) {
        let Some(plan) = &self.shared.opts.resume else {
            return;
        };
        let mut states = self.hosts();
        for h in hosts {
            if let (Some(vars), Some(s)) = (plan.take_vars(h), states.get_mut(h)) {
                crate::vars::merge_into(&mut s.host_vars, &vars);
            }
        }
    }

    /// The hosts of `targets` that run `task`: in a resumed run, hosts that did it before pass
    /// it (fact gathering and `setup` excepted); a host reaching its first task to run gets its
    /// pending handlers back.
    pub(super) fn resume_targets(
        &self,
        ctx: &PlayCtx<'_>,
        task: &Task,
        handler: bool,
        targets: Vec<String>,
    ) -> Vec<String> {
        let Some(plan) = &self.shared.opts.resume else {
            return targets;
        };
        let id = TaskId {
            play: play_index(ctx),
            location: crate::progress::stable_location(&task.location.to_string()),
            handler,
            name: String::new(),
        };
        // Facts are not recorded: they are gathered again.
        let always = matches!(&task.kind, TaskKind::Module { module, .. }
            if matches!(module.rsplit('.').next(), Some("setup" | "gather_facts")));
        let mut out = Vec::with_capacity(targets.len());
        for h in targets {
            match plan.step(&h, &id, always) {
                Step::Skip => {}
                Step::Run { handlers } => {
                    if !handlers.is_empty() {
                        if let Some(s) = self.hosts().get_mut(&h) {
                            s.notified.extend(handlers);
                        }
                    }
                    out.push(h);
                }
            }
        }
        out
    }

    /// Notes which variables a task's result set under `no_log` (never written to a summary).
    pub(super) fn note_secret_vars(&self, task: &Task, host: &str, result: &Value, no_log: bool) {
        if !self.shared.opts.checkpoints {
            return;
        }
        let mut names: Vec<String> = task.register.iter().cloned().collect();
        if matches!(&task.kind, TaskKind::Module { module, .. }
            if matches!(module.rsplit('.').next(), Some("set_fact" | "include_vars")))
        {
            for facts in result_facts(result) {
                names.extend(facts.keys().cloned());
            }
        }
        let mut states = self.hosts();
        let Some(s) = states.get_mut(host) else {
            return;
        };
        for n in names {
            if no_log {
                s.secret_vars.insert(n);
            } else {
                s.secret_vars.remove(&n);
            }
        }
    }

    /// Sends `host`'s checkpoint (when a summary is being recorded).
    pub(super) fn checkpoint(&self, ctx: &PlayCtx<'_>, host: &str, stopped: bool) {
        if !self.shared.opts.checkpoints {
            return;
        }
        let handler_list: Vec<Task> = {
            let extra = ctx.extra_handlers.lock().unwrap_or_else(|e| e.into_inner());
            ctx.play
                .handlers
                .iter()
                .chain(extra.iter())
                .cloned()
                .collect()
        };
        let Some((vars, secret, mut handlers, pending)) = self.hosts().get(host).map(|s| {
            (
                s.host_vars.clone(),
                s.secret_vars.clone(),
                s.notified.iter().cloned().collect::<Vec<_>>(),
                s.pending_handlers.clone(),
            )
        }) else {
            return;
        };
        for i in pending {
            if let Some(name) = handler_list
                .get(i)
                .and_then(|h| self.handler_names(ctx, h).into_iter().next())
            {
                if !handlers.contains(&name) {
                    handlers.push(name);
                }
            }
        }
        let mut kept = crate::vars::Vars::new();
        let mut not_restorable = Vec::new();
        for (k, v) in vars {
            if secret.contains(&k) || reveals_vault_value(&v) {
                not_restorable.push(k);
            } else {
                kept.insert(k, v);
            }
        }
        self.emit(Event::HostCheckpoint(Checkpoint {
            host: host.to_string(),
            play: play_index(ctx),
            vars: kept,
            not_restorable,
            handlers,
            stopped,
        }));
    }
}

/// Whether a string of `value` (key or value, at any depth) holds a vault-decrypted value.
fn reveals_vault_value(value: &Value) -> bool {
    match value {
        Value::String(s) => crate::vault::reveals_vault_value(s),
        Value::Array(a) => a.iter().any(reveals_vault_value),
        Value::Object(m) => m
            .iter()
            .any(|(k, v)| crate::vault::reveals_vault_value(k) || reveals_vault_value(v)),
        _ => false,
    }
}

/// Index of the context's play in its playbook.
fn play_index(ctx: &PlayCtx<'_>) -> usize {
    ctx.playbook
        .plays
        .iter()
        .position(|p| std::ptr::eq(p, ctx.play))
        .unwrap_or(0)
}

//! Running notified handlers at a flush point (`meta: flush_handlers` and the end of each play
//! section), as ansible-core's linear strategy does.

use indexmap::IndexSet;

use super::{Executor, PlayCtx};
use crate::playbook::{Keywords, Task};

impl Executor {
    /// The names a handler answers to: its name rendered with play-level variables, and for
    /// role handlers `role : name` (its `listen` topics are separate).
    pub(super) fn handler_names(&self, ctx: &PlayCtx<'_>, handler: &Task) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        if let Some(n) = &handler.name {
            let n = if crate::template::Templar::is_template(n) {
                let mut v = self.shared.opts.extra_vars.clone();
                crate::vars::merge_into(&mut v, &ctx.vars.role_defaults);
                crate::vars::merge_into(&mut v, &ctx.vars.vars);
                crate::vars::merge_into(&mut v, &ctx.vars.vars_files);
                if let Some(r) = &handler.role {
                    crate::vars::merge_into(&mut v, &r.defaults);
                    crate::vars::merge_into(&mut v, &r.vars);
                }
                crate::vars::merge_into(&mut v, &self.shared.opts.extra_vars);
                self.shared
                    .templar
                    .render_str(n, &v)
                    .unwrap_or_else(|_| n.clone())
            } else {
                n.clone()
            };
            if let Some(r) = &handler.role {
                names.push(format!("{} : {n}", r.name));
            }
            names.push(n);
        }
        names
    }

    /// Runs notified handlers once each, in the order they are defined (role handlers first),
    /// on the hosts that notified them. A handler notified by one that runs before it in this
    /// pass runs in this pass too; one notified after it had its turn waits for the next flush
    /// point, as in ansible-core.
    pub(super) async fn flush_handlers(
        &self,
        ctx: &PlayCtx<'_>,
        play_kw: &Keywords,
        hosts: &[String],
    ) {
        let force = ctx.play.force_handlers || self.shared.opts.force_handlers;
        let mut handlers: Vec<Task> = ctx.play.handlers.clone();
        handlers.extend(
            ctx.extra_handlers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .cloned(),
        );
        let handler_names: Vec<Vec<String>> = handlers
            .iter()
            .map(|h| self.handler_names(ctx, h))
            .collect();
        // A notification resolves as in ansible-core: by name to the last handler loaded with
        // that name ("last one wins"), and by `listen` topic to every handler listening, once
        // per handler name. Running a handler clears only its own pending hosts.
        let mut pending: Vec<IndexSet<String>> = vec![Default::default(); handlers.len()];
        {
            let mut states = self.hosts();
            for h in hosts {
                let Some(s) = states.get_mut(h) else { continue };
                for i in std::mem::take(&mut s.pending_handlers) {
                    if let Some(p) = pending.get_mut(i) {
                        p.insert(h.clone());
                    }
                }
            }
        }
        let absorb = |pending: &mut Vec<IndexSet<String>>| {
            let mut states = self.hosts();
            for h in hosts {
                let Some(s) = states.get_mut(h) else { continue };
                for name in std::mem::take(&mut s.notified) {
                    if let Some(i) = handler_names
                        .iter()
                        .rposition(|names| names.contains(&name))
                    {
                        pending[i].insert(h.clone());
                    }
                    let mut seen: Vec<&str> = Vec::new();
                    for (i, handler) in handlers.iter().enumerate() {
                        if !handler.listen.contains(&name) {
                            continue;
                        }
                        if let Some(n) = handler.name.as_deref() {
                            if seen.contains(&n) {
                                continue;
                            }
                            seen.push(n);
                        }
                        pending[i].insert(h.clone());
                    }
                }
            }
        };
        for (i, handler) in handlers.iter().enumerate() {
            absorb(&mut pending);
            let notified = std::mem::take(&mut pending[i]);
            let targets: Vec<String> = {
                let states = self.hosts();
                hosts
                    .iter()
                    .filter(|h| notified.contains(*h))
                    .filter(|h| {
                        states
                            .get(*h)
                            .is_some_and(|s| s.active() || (force && s.failed && !s.unreachable))
                    })
                    .cloned()
                    .collect()
            };
            if targets.is_empty() {
                continue;
            }
            let kw = handler.keywords.inherit(play_kw);
            if force {
                let mut states = self.hosts();
                for h in &targets {
                    if let Some(s) = states.get_mut(h) {
                        if s.failed {
                            s.failed = false;
                            s.forced_handler = true;
                        }
                    }
                }
            }
            self.run_task(ctx, handler, &kw, &targets, true, None).await;
            if force {
                let mut states = self.hosts();
                for h in &targets {
                    if let Some(s) = states.get_mut(h) {
                        if s.forced_handler {
                            s.forced_handler = false;
                            s.failed = true;
                        }
                    }
                }
            }
        }
        // Handlers notified after their turn run at the next flush point.
        absorb(&mut pending);
        let mut states = self.hosts();
        for (i, notified) in pending.iter().enumerate() {
            for h in notified {
                if let Some(s) = states.get_mut(h) {
                    s.pending_handlers.insert(i);
                }
            }
        }
    }
}

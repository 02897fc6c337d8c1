//! Running one task on every active host of a list, in parallel up to `forks` (and `throttle`),
//! reporting each host's result as it finishes.

use std::time::Instant;

use futures::stream::{self, StreamExt};

use super::read_ahead::Upcoming;
use super::result::{censor, censor_error, take_no_log};
use super::{Executor, PlayCtx};
use crate::events::{Event, HostResult, Status};
use crate::playbook::{Keywords, Task, TaskKind};
use crate::vars::Value;

impl Executor {
    /// Runs one task on every active host in `hosts`, in parallel up to `forks` (and `throttle`).
    pub(super) async fn run_task(
        &self,
        ctx: &PlayCtx<'_>,
        task: &Task,
        kw: &Keywords,
        hosts: &[String],
        handler: bool,
        upcoming: Option<Upcoming<'_>>,
    ) {
        let mut targets = self.resume_targets(ctx, task, handler, self.active_hosts(hosts));
        if targets.is_empty() {
            return;
        }
        let fatal = task.any_errors_fatal.unwrap_or(ctx.play.any_errors_fatal);
        // A play's `run_once` covers its tasks, not its implicit fact gathering (which is
        // located at the play itself).
        let once = task.run_once || (ctx.play.run_once && task.location != ctx.play.location);
        if ctx.free && once {
            self.warn_once(ctx, "Using run_once with the free strategy is not currently supported. This task will still be executed for every host in the inventory list.".into());
        } else if once {
            targets.truncate(1);
        }
        if ctx.free && fatal {
            self.warn_once(ctx, "Using any_errors_fatal with the free strategy is not supported, as tasks are executed independently on each host".into());
        }
        let run_once = once && !ctx.free;
        let free_host = ctx.free.then(|| targets[0].clone());
        let start = Instant::now();
        let name = self.shown_name(ctx, task, kw, &targets[0]);
        self.emit(Event::TaskStart {
            name: name.clone(),
            location: task.location.to_string(),
            handler,
            module: match &task.kind {
                TaskKind::Module { module, .. } => Some(module.clone()),
                _ => None,
            },
            host: free_host.clone(),
            hosts: targets.clone(),
        });
        let mut forks = self.shared.opts.forks.max(1);
        let mut _throttle_permit = None;
        if let Some(t) = &task.throttle {
            let vars = self.vars_for(ctx, &targets[0], kw, task.role.as_deref());
            if let Ok(v) = self.shared.templar.render_value(t, &vars) {
                let n = match v {
                    Value::Number(n) => n.as_u64().unwrap_or(0) as usize,
                    Value::String(s) => s.trim().parse().unwrap_or(0),
                    _ => 0,
                };
                if n > 0 && ctx.free {
                    _throttle_permit = self.throttle_permit(ctx, task, n).await;
                } else if n > 0 {
                    forks = forks.min(n);
                }
            }
        }
        let mut results = stream::iter(targets.iter().cloned())
            .map(|host| async move {
                let vars = self.vars_for(ctx, &host, kw, task.role.as_deref());
                let no_log = self
                    .keyword_bool(&kw.no_log, &vars)
                    .ok()
                    .flatten()
                    .unwrap_or(false);
                let outcome = self
                    .run_on_host(ctx, task, kw, &host, vars.clone(), upcoming)
                    .await;
                (host, outcome, no_log, vars)
            })
            .buffer_unordered(forks);
        let all_hosts = self.active_hosts(hosts);
        let mut any_failed = false;
        while let Some((host, mut outcome, no_log, vars)) = results.next().await {
            let no_log = no_log | take_no_log(&mut outcome.result);
            let error = if outcome.looped {
                None
            } else {
                censor_error(self.describe_failure(task, &mut outcome.result), no_log)
            };
            let ignore_unreachable = outcome.status == Status::Unreachable
                && self
                    .keyword_bool(&kw.ignore_unreachable, &vars)
                    .ok()
                    .flatten()
                    .unwrap_or(false);
            self.record(ctx, task, &host, &outcome, &vars, ignore_unreachable);
            self.note_secret_vars(task, &host, &outcome.result, no_log);
            let stopped = match outcome.status {
                Status::Failed => !outcome.ignored,
                Status::Unreachable => !ignore_unreachable,
                _ => false,
            };
            if stopped {
                self.checkpoint(ctx, &host, true);
            }
            if run_once {
                self.share_run_once(task, &host, &outcome.result, &all_hosts, &vars);
            }
            any_failed |= outcome.status == Status::Failed && !outcome.ignored;
            self.emit(Event::HostResult(HostResult {
                host,
                delegated_to: self.delegate_shown(task, &vars),
                status: outcome.status,
                ignored: outcome.ignored,
                item: outcome.looped.then(|| "".to_string()),
                result: censor(&outcome.result, no_log),
                error,
                duration: outcome.duration,
            }));
        }
        self.emit(Event::TaskEnd {
            name,
            host: free_host,
            duration: start.elapsed(),
        });
        if any_failed && fatal && !ctx.free {
            // any_errors_fatal: every host of the play stops here, and so does the run
            // (unless the failure is rescued; see `run_play`).
            self.shared
                .fatal_hit
                .store(true, std::sync::atomic::Ordering::SeqCst);
            let mut states = self.hosts();
            for h in &ctx.vars.hosts_all {
                if let Some(s) = states.get_mut(h) {
                    s.ended = true;
                }
            }
        }
    }

    /// The task's name as shown: rendered with the first host's variables, role-prefixed.
    pub(super) fn shown_name(
        &self,
        ctx: &PlayCtx<'_>,
        task: &Task,
        kw: &Keywords,
        host: &str,
    ) -> String {
        let name = match &task.name {
            Some(n) if crate::template::Templar::is_template(n) => {
                let vars = self.vars_for(ctx, host, kw, task.role.as_deref());
                self.shared
                    .templar
                    .render_str(n, &vars)
                    .unwrap_or_else(|_| n.clone())
            }
            _ => task.display_name(),
        };
        task.with_role_prefix(name)
    }
}

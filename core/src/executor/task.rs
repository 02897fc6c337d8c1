//! Running one task on one host: loops, the prepared module itself (see `prepare.rs`), time-outs,
//! retries, and the `changed_when`/`failed_when` overrides.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::controller::{NoConnection, TaskController};
use super::prepare::{NotPrepared, PreparedTask, Purpose};
use super::read_ahead::Upcoming;
use super::result::{
    failed_result, status_of, timed_out_result, timeout_seconds, unreachable_result,
    with_failed_flag, with_output_lines, HostOutcome,
};
use super::{Executor, PlayCtx};
use crate::connection::{Connection, HostConnection};
use crate::events::Status;
use crate::module::{ModuleContext, ModuleError};
use crate::playbook::{Keywords, Task};
use crate::vars::{Value, Vars};

impl Executor {
    /// Runs `task` on `host` with its loop, if any; reports loop items as they finish.
    pub(crate) async fn run_on_host(
        &self,
        play: &PlayCtx<'_>,
        task: &Task,
        kw: &Keywords,
        host: &str,
        vars: Vars,
        upcoming: Option<Upcoming<'_>>,
    ) -> HostOutcome {
        let start = Instant::now();
        let no_log = self
            .keyword_bool(&kw.no_log, &vars)
            .ok()
            .flatten()
            .unwrap_or(false);
        let tctx = self.template_context(play, task);
        let items = match self.loop_items(task, &vars, &tctx) {
            Ok(None) => {
                let result = self
                    .run_item_timed(play, task, kw, host, &vars, upcoming)
                    .await;
                return self.finish(task, kw, &vars, result, false, start);
            }
            Ok(Some(items)) => items,
            Err(msg) => {
                let r = failed_result(msg);
                return self.finish(task, kw, &vars, r, false, start);
            }
        };
        self.run_loop(play, task, kw, host, vars, items, no_log, start)
            .await
    }

    pub(crate) fn finish(
        &self,
        _task: &Task,
        kw: &Keywords,
        vars: &Vars,
        result: Value,
        looped: bool,
        start: Instant,
    ) -> HostOutcome {
        let status = status_of(&result);
        let ignored = status == Status::Failed
            && self
                .keyword_bool(&kw.ignore_errors, vars)
                .ok()
                .flatten()
                .unwrap_or(false);
        HostOutcome {
            status,
            result,
            ignored,
            looped,
            duration: start.elapsed(),
        }
    }

    /// Runs the task once (one loop item) and returns its result value.
    /// [`Self::run_item`] bounded by the `timeout` keyword: past it, the action is abandoned
    /// (its future dropped, which closes the remote command's channel) and the item fails with
    /// ansible-core's message.
    pub(crate) async fn run_item_timed(
        &self,
        play: &PlayCtx<'_>,
        task: &Task,
        kw: &Keywords,
        host: &str,
        vars: &Vars,
        upcoming: Option<Upcoming<'_>>,
    ) -> Value {
        let seconds = match &kw.timeout {
            None => None,
            Some(t) => match self.shared.templar.render_value(t, vars) {
                Ok(v) => timeout_seconds(&v),
                Err(e) => return failed_result(format!("timeout: {e}")),
            },
        };
        let Some(seconds) = seconds.filter(|s| *s > 0) else {
            return self.run_item(play, task, kw, host, vars, upcoming).await;
        };
        let limit = Duration::from_secs(seconds);
        let item = self.run_item(play, task, kw, host, vars, upcoming);
        match tokio::time::timeout(limit, item).await {
            Ok(result) => result,
            Err(_) => timed_out_result(seconds),
        }
    }

    async fn run_item(
        &self,
        play: &PlayCtx<'_>,
        task: &Task,
        kw: &Keywords,
        host: &str,
        vars: &Vars,
        upcoming: Option<Upcoming<'_>>,
    ) -> Value {
        let prepared = match self.prepare_task(play, task, kw, vars, Purpose::Run) {
            Ok(p) => p,
            Err(NotPrepared::Skipped(false_condition)) => {
                return serde_json::json!({
                    "changed": false,
                    "skipped": true,
                    "skip_reason": "Conditional result was False",
                    "false_condition": false_condition,
                })
            }
            Err(NotPrepared::NoModule) => return serde_json::json!({"changed": false}),
            Err(NotPrepared::BadArgs(mut failure)) => {
                return match self.apply_overrides(task, vars, &mut failure) {
                    Ok(()) => failure,
                    Err(msg) => failed_result(msg),
                }
            }
            Err(NotPrepared::Failed(msg)) => return failed_result(msg),
        };
        let PreparedTask {
            name: module,
            module: m,
            args,
            tctx,
            settings,
        } = prepared;
        let conn: Arc<dyn Connection> = if m.controller_only() {
            Arc::new(NoConnection)
        } else {
            match self.connection_for(task, host, vars).await {
                Ok(c) => c,
                Err(e) => return unreachable_result(&e),
            }
        };
        let host_conn =
            HostConnection::new(conn, settings.become_.clone()).with_env(settings.env.clone());
        let controller = TaskController {
            templar: &self.shared.templar,
            vars,
            context: &tctx,
            verbosity: self.shared.opts.verbosity,
        };
        let ctx = ModuleContext {
            host,
            conn: &host_conn,
            check_mode: settings.check_mode,
            diff: settings.diff,
            controller: &controller,
        };
        let background = match self.async_settings(task, vars) {
            Ok(b) => b,
            Err(msg) => return failed_result(msg),
        };
        // A module that may change hosts by other means than its connection (or in a background
        // job) discards what was read ahead, before and after it runs; one that declares its
        // probes may use them.
        let probes = match background {
            None => m.planned_probes(&args, settings.diff),
            Some(_) => None,
        };
        let _change = match probes {
            None => Some(self.shared.pool.changing()),
            Some(requests) => {
                if !requests.is_empty() {
                    self.read_ahead(play, task, upcoming, host, &host_conn, &settings, requests)
                        .await;
                }
                None
            }
        };
        let (retries, delay) = self.retry_settings(task, vars);
        let mut attempt = 0u64;
        loop {
            attempt += 1;
            let run = match background {
                None => m.run(&ctx, &args).await.map(|r| r.to_value()),
                Some(b) => self.run_async(b, module, &m, &ctx, &args).await,
            };
            let mut result = match run {
                Ok(r) if m.controller_only() => with_failed_flag(r),
                Ok(r) => with_failed_flag(with_output_lines(r)),
                Err(ModuleError::Connection(e)) => return unreachable_result(&e),
                Err(ModuleError::BadArgs { message, .. }) => {
                    failed_result(super::arg_errors::parse_message(module, &args, &message))
                }
                Err(e) => failed_result(e.to_string()),
            };
            if let Err(msg) = self.apply_overrides(task, vars, &mut result) {
                return failed_result(msg);
            }
            let Some(until) = &task.until else {
                return result;
            };
            let mut uvars = vars.clone();
            if let Some(reg) = &task.register {
                uvars.insert(reg.clone(), crate::vars::registered(&result));
            }
            let done = match self.conditions_hold(std::slice::from_ref(until), &uvars) {
                Ok(None) => true,
                Ok(Some(_)) => false,
                Err(msg) => return failed_result(msg),
            };
            if let Value::Object(r) = &mut result {
                r.insert("attempts".into(), Value::from(attempt));
            }
            if done || attempt > retries {
                if !done {
                    if let Value::Object(r) = &mut result {
                        r.insert("failed".into(), Value::Bool(true));
                    }
                }
                return result;
            }
            self.emit(crate::events::Event::Retry {
                host: host.to_string(),
                delegated_to: self.delegate_shown(task, vars),
                task: {
                    let name = task.display_name();
                    self.shared.templar.render_str(&name, vars).unwrap_or(name)
                },
                retries_left: (retries + 1).saturating_sub(attempt),
            });
            tokio::time::sleep(delay).await;
        }
    }

    fn retry_settings(&self, task: &Task, vars: &Vars) -> (u64, Duration) {
        let num = |v: &Option<Value>, default: u64| -> u64 {
            match v {
                None => default,
                Some(v) => match self.shared.templar.render_value(v, vars) {
                    Ok(Value::Number(n)) => n.as_u64().unwrap_or(default),
                    Ok(Value::String(s)) => s.trim().parse().unwrap_or(default),
                    _ => default,
                },
            }
        };
        (
            num(&task.retries, 3),
            Duration::from_secs(num(&task.delay, 5)),
        )
    }

    /// Applies `changed_when` and `failed_when` to a module result.
    fn apply_overrides(&self, task: &Task, vars: &Vars, result: &mut Value) -> Result<(), String> {
        if task.changed_when.is_none() && task.failed_when.is_none() {
            return Ok(());
        }
        if status_of(result) == Status::Skipped {
            return Ok(());
        }
        let mut cvars = vars.clone();
        if let Some(reg) = &task.register {
            cvars.insert(reg.clone(), crate::vars::registered(result));
        }
        if let Some(conds) = &task.changed_when {
            let changed = self.conditions_hold(conds, &cvars)?.is_none();
            if let Value::Object(r) = result {
                r.insert("changed".into(), Value::Bool(changed));
            }
            if let Some(reg) = &task.register {
                cvars.insert(reg.clone(), crate::vars::registered(result));
            }
        }
        if let Some(conds) = &task.failed_when {
            let failed = self.conditions_hold(conds, &cvars)?.is_none();
            if let Value::Object(r) = result {
                r.insert("failed".into(), Value::Bool(failed));
                r.insert("failed_when_result".into(), Value::Bool(failed));
            }
        }
        Ok(())
    }

    /// The `delegate_to` target as the output shows it (`host -> target`): rendered with the
    /// host's variables, as ansible-core shows the delegated host's name, not the expression.
    pub(super) fn delegate_shown(&self, task: &Task, vars: &Vars) -> Option<String> {
        task.delegate_to.as_ref().map(|d| {
            self.shared
                .templar
                .render_str(d, vars)
                .unwrap_or_else(|_| d.clone())
        })
    }

    async fn connection_for(
        &self,
        task: &Task,
        host: &str,
        vars: &Vars,
    ) -> Result<Arc<dyn Connection>, crate::connection::ConnectionError> {
        let target = match &task.delegate_to {
            Some(d) => self
                .shared
                .templar
                .render_str(d, vars)
                .unwrap_or_else(|_| d.clone()),
            None => host.to_string(),
        };
        let conn_vars = if target == host {
            self.connection_vars(vars)
        } else {
            let v = self.shared.inventory.host_vars(&target);
            self.connection_vars(&v)
        };
        let via = self.via_host(&target, &conn_vars)?;
        self.shared
            .pool
            .get_via(
                &target,
                &conn_vars,
                via.as_ref().map(|(h, v)| (h.as_str(), v)),
                &self.shared.opts,
                self.shared.sink.as_ref(),
            )
            .await
    }

    /// For a container reached through another inventory host (its Docker or LXC host, see
    /// [`super::connect::via_host`]): that host's name and rendered connection variables.
    fn via_host(
        &self,
        target: &str,
        conn_vars: &Vars,
    ) -> Result<Option<(String, Vars)>, crate::connection::ConnectionError> {
        let inventory = &self.shared.inventory;
        let via = super::connect::via_host(target, conn_vars, &self.shared.opts, |h| {
            inventory.has_host(h)
        })?;
        Ok(via.map(|via| {
            let v = inventory.host_vars(&via);
            let v = self.connection_vars(&v);
            (via, v)
        }))
    }

    /// The `ansible_*` connection variables, rendered.
    pub(super) fn connection_vars(&self, vars: &Vars) -> Vars {
        vars.iter()
            .filter(|(k, _)| k.starts_with("ansible_") && !k.starts_with("ansible_facts"))
            .filter(|(k, _)| !k.starts_with("ansible_become"))
            .map(|(k, v)| {
                let v = self
                    .shared
                    .templar
                    .render_value(v, vars)
                    .unwrap_or_else(|_| v.clone());
                (k.clone(), v)
            })
            .collect()
    }
}

//! Running one task on one host: conditions, loops, the module itself, retries, and the
//! `changed_when`/`failed_when` overrides.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::connect::var_str;
use super::controller::{NoConnection, TaskController};
use super::read_ahead::Upcoming;
use super::{Executor, PlayCtx};
use crate::connection::{Become, Connection, HostConnection};
use crate::events::Status;
use crate::module::{ModuleContext, ModuleError};
use crate::playbook::{Keywords, Task, TaskKind};
use crate::template::TemplateContext;
use crate::vars::{is_truthy, Map, Value, Vars};

/// What a task did on one host.
pub(crate) struct HostOutcome {
    pub status: Status,
    pub result: Value,
    pub ignored: bool,
    /// The result is the aggregate of loop items already reported one by one.
    pub looped: bool,
    pub duration: Duration,
}

/// Status of a finished result value.
pub(crate) fn status_of(result: &Value) -> Status {
    let flag = |k: &str| result.get(k).is_some_and(is_truthy);
    if flag("unreachable") {
        Status::Unreachable
    } else if flag("failed") {
        Status::Failed
    } else if flag("skipped") {
        Status::Skipped
    } else if flag("changed") {
        Status::Changed
    } else {
        Status::Ok
    }
}

/// A module's result as Ansible registers it: with `failed: false` unless it failed or skipped
/// (playbooks read `result.failed`).
fn with_failed_flag(mut result: Value) -> Value {
    if let Value::Object(r) = &mut result {
        if !r.contains_key("failed") && !r.get("skipped").is_some_and(is_truthy) {
            r.insert("failed".into(), Value::Bool(false));
        }
    }
    result
}

pub(crate) fn failed_result(msg: impl Into<String>) -> Value {
    serde_json::json!({"changed": false, "failed": true, "msg": msg.into()})
}

/// A `timeout` keyword value in whole seconds (`None` when it is not a number).
fn timeout_seconds(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().map(|f| f.max(0.0) as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// ansible-core 2.19's result for an action that ran past its `timeout`.
fn timed_out_result(seconds: u64) -> Value {
    serde_json::json!({
        "changed": false,
        "failed": true,
        "msg": format!("Task failed: Timed out after {seconds} second(s)."),
        "timedout": {"period": seconds},
    })
}

const NO_LOG_MSG: &str =
    "the output has been hidden due to the fact that 'no_log: true' was specified for this result";

/// The result as reporters may show it: censored when `no_log` is on.
pub(crate) fn censor(result: &Value, no_log: bool) -> Value {
    if !no_log {
        return result.clone();
    }
    let mut m = Map::new();
    m.insert("censored".into(), Value::String(NO_LOG_MSG.into()));
    for k in ["changed", "failed", "skipped", "unreachable"] {
        if let Some(v) = result.get(k) {
            m.insert(k.into(), v.clone());
        }
    }
    Value::Object(m)
}

impl Executor {
    /// Renders a templatable keyword value as a boolean.
    pub(crate) fn keyword_bool(
        &self,
        value: &Option<Value>,
        vars: &Vars,
    ) -> Result<Option<bool>, String> {
        match value {
            None => Ok(None),
            Some(Value::String(s)) => {
                let rendered = self
                    .shared
                    .templar
                    .render_value(&Value::String(s.clone()), vars)
                    .map_err(|e| e.to_string())?;
                Ok(Some(is_truthy(&rendered)))
            }
            Some(v) => Ok(Some(is_truthy(v))),
        }
    }

    /// Evaluates a list of conditions (ANDed), as `when`/`changed_when`/`failed_when` do.
    fn conditions_hold(&self, conds: &[Value], vars: &Vars) -> Result<Option<Value>, String> {
        self.conditions_hold_in(conds, vars, None)
    }

    /// [`Self::conditions_hold`] with a template context.
    pub(crate) fn conditions_hold_in(
        &self,
        conds: &[Value],
        vars: &Vars,
        ctx: Option<&TemplateContext>,
    ) -> Result<Option<Value>, String> {
        for cond in conds {
            let holds = match cond {
                Value::Bool(b) => *b,
                Value::String(s) => {
                    let expr = s.trim();
                    let expr = expr
                        .strip_prefix("{{")
                        .and_then(|e| e.strip_suffix("}}"))
                        .unwrap_or(expr);
                    self.shared
                        .templar
                        .eval_condition_in(expr, vars, ctx)
                        .map_err(|e| {
                            format!("The conditional check '{s}' failed. The error was: {e}")
                        })?
                }
                other => is_truthy(other),
            };
            if !holds {
                return Ok(Some(cond.clone()));
            }
        }
        Ok(None)
    }

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

    /// Where the task's relative `src:` names and file lookups are searched: the role's
    /// directory, the directory of the task's file, then the playbook's directory.
    pub(crate) fn template_context(&self, play: &PlayCtx<'_>, task: &Task) -> TemplateContext {
        let mut search_paths = Vec::with_capacity(3);
        if let Some(r) = &task.role {
            search_paths.push(r.path.clone());
        }
        if let Some(dir) = std::path::Path::new(&*task.location.file).parent() {
            if !dir.as_os_str().is_empty() && !search_paths.iter().any(|p| p == dir) {
                search_paths.push(dir.to_path_buf());
            }
        }
        if !search_paths.contains(&play.playbook.dir) {
            search_paths.push(play.playbook.dir.clone());
        }
        TemplateContext {
            search_paths,
            location: Some(task.location.to_string()),
            preserve_unsafe: false,
            no_lookups: false,
        }
    }

    /// `include_vars`: loads a file or a directory of files; `name` nests them under one key.
    fn include_vars(&self, args: &Value, tctx: &TemplateContext) -> Value {
        if let Some(failure) = super::arg_errors::include_vars_failure(args) {
            return failure;
        }
        let (file, dir, name) = match args {
            Value::String(s) => (Some(s.clone()), None, None),
            Value::Object(m) => {
                let get = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
                (
                    get("file").or_else(|| get("_raw_params")),
                    get("dir"),
                    get("name"),
                )
            }
            _ => (None, None, None),
        };
        let (sub, wanted) = match (&file, &dir) {
            (Some(f), _) => ("vars", f.clone()),
            (None, Some(d)) => ("vars", d.clone()),
            (None, None) => return failed_result("include_vars needs a file or a dir"),
        };
        let Some(path) = tctx.find_file(sub, &wanted) else {
            return failed_result(format!(
                "Could not find or access '{wanted}' (searched the role's vars/, the task's directory and the playbook's directory)"
            ));
        };
        let loaded = match crate::playbook::load_vars_path(&path) {
            Ok(v) => v,
            Err(e) => return failed_result(e.to_string()),
        };
        let facts = match name {
            Some(n) => {
                let mut m = Map::new();
                m.insert(n, Value::Object(loaded));
                m
            }
            None => loaded,
        };
        serde_json::json!({
            "changed": false,
            "ansible_facts": Value::Object(facts),
            "ansible_included_var_files": [path.display().to_string()],
        })
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
        match self.conditions_hold(&when_conditions(kw, task), vars) {
            Ok(None) => {}
            Ok(Some(false_condition)) => {
                return serde_json::json!({
                    "changed": false,
                    "skipped": true,
                    "skip_reason": "Conditional result was False",
                    "false_condition": false_condition,
                })
            }
            Err(msg) => return failed_result(msg),
        }
        let TaskKind::Module { module, args } = &task.kind else {
            return serde_json::json!({"changed": false});
        };
        let tctx = self.template_context(play, task);
        if module.rsplit('.').next() == Some("include_vars") {
            return match self.shared.templar.render_value_in(args, vars, Some(&tctx)) {
                Ok(a) => self.include_vars(&a, &tctx),
                Err(e) => failed_result(e.to_string()),
            };
        }
        let Some(m) = self.shared.registry.get(module).cloned() else {
            return failed_result(if self.shared.registry.is_known_unimplemented(module) {
                format!("the module '{module}' is not implemented by drover yet")
            } else {
                format!("couldn't resolve module/action '{module}'")
            });
        };
        let args = with_module_defaults(kw, module, args);
        let args = match self.shared.templar.render_value_in(&args, vars, Some(&tctx)) {
            Ok(a) => a,
            Err(e) => {
                return failed_result(format!(
                    "The task includes an option with an undefined variable or a bad template. The error was: {e}"
                ))
            }
        };
        if let Some(mut failure) = super::arg_errors::arg_failure(m.as_ref(), module, &args) {
            return match self.apply_overrides(task, vars, &mut failure) {
                Ok(()) => failure,
                Err(msg) => failed_result(msg),
            };
        }
        let settings = match self.task_settings(kw, vars) {
            Ok(s) => s,
            Err(msg) => return failed_result(msg),
        };
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
        // A module that may change hosts by other means than its connection discards what was
        // read ahead, before and after it runs; one that declares its probes may use them.
        let _change = match m.planned_probes(&args, settings.diff) {
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
            let mut result = match m.run(&ctx, &args).await {
                Ok(r) => with_failed_flag(r.to_value()),
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
                delegated_to: task.delegate_to.clone(),
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
        self.shared
            .pool
            .get(
                &target,
                &conn_vars,
                &self.shared.opts,
                self.shared.sink.as_ref(),
            )
            .await
    }

    /// The `ansible_*` connection variables, rendered.
    fn connection_vars(&self, vars: &Vars) -> Vars {
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

    pub(crate) fn task_settings(&self, kw: &Keywords, vars: &Vars) -> Result<TaskSettings, String> {
        let opts = &self.shared.opts;
        let become_on = self
            .keyword_bool(&kw.become_, vars)?
            .or_else(|| vars.get("ansible_become").map(is_truthy))
            .unwrap_or(opts.become_);
        let become_ = if become_on {
            let render = |s: &str| {
                self.shared
                    .templar
                    .render_str(s, vars)
                    .map_err(|e| e.to_string())
            };
            let user = match kw.become_user.as_deref() {
                Some(u) => Some(render(u)?),
                None => {
                    var_str(vars, &["ansible_become_user"]).or_else(|| opts.become_user.clone())
                }
            };
            let method = match kw.become_method.as_deref() {
                Some(m) => Some(render(m)?),
                None => {
                    var_str(vars, &["ansible_become_method"]).or_else(|| opts.become_method.clone())
                }
            };
            Some(Become {
                user: user.unwrap_or_else(|| "root".into()),
                method: method.as_deref().unwrap_or("sudo").parse()?,
                flags: kw
                    .become_flags
                    .clone()
                    .or_else(|| var_str(vars, &["ansible_become_flags"])),
                password: var_str(vars, &["ansible_become_password", "ansible_become_pass"])
                    .or_else(|| opts.become_password.clone()),
            })
        } else {
            None
        };
        let env = match &kw.environment {
            None => Vec::new(),
            Some(v) => match self
                .shared
                .templar
                .render_value(v, vars)
                .map_err(|e| e.to_string())?
            {
                Value::Object(m) => m
                    .into_iter()
                    .map(|(k, v)| {
                        let v = match v {
                            Value::String(s) => s,
                            other => other.to_string(),
                        };
                        (k, v)
                    })
                    .collect(),
                Value::Null => Vec::new(),
                other => return Err(format!("environment must be a mapping, got {other}")),
            },
        };
        Ok(TaskSettings {
            check_mode: self
                .keyword_bool(&kw.check_mode, vars)?
                .unwrap_or(opts.check),
            diff: self.keyword_bool(&kw.diff, vars)?.unwrap_or(opts.diff),
            become_,
            env,
        })
    }
}

/// The execution settings a task's keywords give it on one host.
#[derive(PartialEq)]
pub(crate) struct TaskSettings {
    pub check_mode: bool,
    pub diff: bool,
    pub become_: Option<Become>,
    pub env: Vec<(String, String)>,
}

/// A task's `when` conditions: those inherited from blocks and roles, then its own.
pub(crate) fn when_conditions<'a>(kw: &Keywords, task: &'a Task) -> std::borrow::Cow<'a, [Value]> {
    if kw.when.is_empty() {
        std::borrow::Cow::Borrowed(&task.when)
    } else {
        let mut conds = kw.when.clone();
        conds.extend(task.when.iter().cloned());
        std::borrow::Cow::Owned(conds)
    }
}

/// A module task's arguments with the `module_defaults` that apply (explicit arguments win).
pub(crate) fn with_module_defaults<'a>(
    kw: &Keywords,
    module: &str,
    args: &'a Value,
) -> std::borrow::Cow<'a, Value> {
    match kw.defaults_for(module) {
        Some(mut defaults) => {
            if let Value::Object(explicit) = args {
                for (k, v) in explicit {
                    defaults.insert(k.clone(), v.clone());
                }
            }
            std::borrow::Cow::Owned(Value::Object(defaults))
        }
        None => std::borrow::Cow::Borrowed(args),
    }
}

fn unreachable_result(e: &crate::connection::ConnectionError) -> Value {
    serde_json::json!({
        "changed": false,
        "unreachable": true,
        "msg": format!("Failed to connect to the host: {e}"),
    })
}

#[cfg(test)]
mod timeout_tests {
    use super::*;

    #[test]
    fn timeout_values_and_message() {
        assert_eq!(timeout_seconds(&serde_json::json!(5)), Some(5));
        assert_eq!(timeout_seconds(&serde_json::json!(" 7 ")), Some(7));
        assert_eq!(timeout_seconds(&serde_json::json!(true)), None);
        let r = timed_out_result(1);
        assert_eq!(r["msg"], "Task failed: Timed out after 1 second(s).");
        assert_eq!(status_of(&r), Status::Failed);
    }
}

//! Preparing a task to run on one host — its `when` conditions, its module, its arguments with
//! `module_defaults` rendered with the host's variables, and its become/environment/check-mode
//! settings. Execution and the read-ahead (which plans the probes of the next tasks with the
//! host's current variables) both go through [`Executor::prepare_task`], so they cannot drift.

use std::borrow::Cow;
use std::sync::Arc;

use super::connect::var_str;
use super::{Executor, PlayCtx};
use crate::connection::Become;
use crate::module::Module;
use crate::playbook::{Keywords, Task, TaskKind};
use crate::template::TemplateContext;
use crate::vars::{is_truthy, Value, Vars};

/// What a task is prepared for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// To run now.
    Run,
    /// To plan its probes ahead of its turn: lookups are refused, so nothing runs early.
    ReadAhead,
}

/// A module task ready to run on one host.
pub(crate) struct PreparedTask<'t> {
    /// The module's name as written.
    pub name: &'t str,
    /// The module.
    pub module: Arc<dyn Module>,
    /// Its arguments, `module_defaults` applied, rendered with the host's variables.
    pub args: Value,
    /// Where its relative files and lookups are searched.
    pub tctx: TemplateContext,
    /// Its execution settings on the host.
    pub settings: TaskSettings,
}

/// Why a task has no module ready to run.
pub(crate) enum NotPrepared {
    /// A `when` condition is false (this one).
    Skipped(Value),
    /// Not a module task: nothing runs.
    NoModule,
    /// The module refuses its arguments: this failed result (before `changed_when`/`failed_when`).
    BadArgs(Value),
    /// The task fails with this message.
    Failed(String),
}

/// The execution settings a task's keywords give it on one host.
#[derive(PartialEq)]
pub(crate) struct TaskSettings {
    /// `check_mode`, else `--check`.
    pub check_mode: bool,
    /// `diff`, else `--diff`.
    pub diff: bool,
    /// Privilege escalation, when `become` is on.
    pub become_: Option<Become>,
    /// `environment`, rendered.
    pub env: Vec<(String, String)>,
}

/// A task's `when` conditions: those inherited from blocks and roles, then its own.
pub(crate) fn when_conditions<'a>(kw: &Keywords, task: &'a Task) -> Cow<'a, [Value]> {
    if kw.when.is_empty() {
        Cow::Borrowed(&task.when)
    } else {
        let mut conds = kw.when.clone();
        conds.extend(task.when.iter().cloned());
        Cow::Owned(conds)
    }
}

/// A module task's arguments with the `module_defaults` that apply (explicit arguments win).
pub(crate) fn with_module_defaults<'a>(
    kw: &Keywords,
    module: &str,
    args: &'a Value,
) -> Cow<'a, Value> {
    match kw.defaults_for(module) {
        Some(mut defaults) => {
            if let Value::Object(explicit) = args {
                for (k, v) in explicit {
                    defaults.insert(k.clone(), v.clone());
                }
            }
            Cow::Owned(Value::Object(defaults))
        }
        None => Cow::Borrowed(args),
    }
}

impl Executor {
    /// Prepares `task` (with inherited keywords `kw`) to run on a host whose variables are
    /// `vars`: checks its `when` conditions, finds its module, renders its arguments and settles
    /// its settings, in the order their failures are reported.
    pub(crate) fn prepare_task<'t>(
        &self,
        play: &PlayCtx<'_>,
        task: &'t Task,
        kw: &Keywords,
        vars: &Vars,
        purpose: Purpose,
    ) -> Result<PreparedTask<'t>, NotPrepared> {
        let mut tctx = self.template_context(play, task);
        tctx.no_lookups = purpose == Purpose::ReadAhead;
        // At run time the conditions are evaluated without the task's template context.
        let when_ctx = (purpose == Purpose::ReadAhead).then_some(&tctx);
        match self.conditions_hold_in(&when_conditions(kw, task), vars, when_ctx) {
            Ok(None) => {}
            Ok(Some(false_condition)) => return Err(NotPrepared::Skipped(false_condition)),
            Err(msg) => return Err(NotPrepared::Failed(msg)),
        }
        let TaskKind::Module { module, args } = &task.kind else {
            return Err(NotPrepared::NoModule);
        };
        let Some(m) = self.shared.registry.get(module).cloned() else {
            return Err(NotPrepared::Failed(
                if self.shared.registry.is_known_unimplemented(module) {
                    format!("the module '{module}' is not implemented by drover yet")
                } else {
                    format!("couldn't resolve module/action '{module}'")
                },
            ));
        };
        let args = with_module_defaults(kw, module, args);
        let args = match self.shared.templar.render_value_in(&args, vars, Some(&tctx)) {
            Ok(a) => a,
            Err(e) => {
                return Err(NotPrepared::Failed(format!(
                    "The task includes an option with an undefined variable or a bad template. The error was: {e}"
                )))
            }
        };
        if let Some(failure) = super::arg_errors::arg_failure(m.as_ref(), module, &args) {
            return Err(NotPrepared::BadArgs(failure));
        }
        let settings = self.task_settings(kw, vars).map_err(NotPrepared::Failed)?;
        Ok(PreparedTask {
            name: module,
            module: m,
            args,
            tctx,
            settings,
        })
    }

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
    pub(crate) fn conditions_hold(
        &self,
        conds: &[Value],
        vars: &Vars,
    ) -> Result<Option<Value>, String> {
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
            // The `ansible_become_*` variables are templated as Ansible templates connection
            // variables (`ansible_become_user: "{{ test_user_name }}"` in task vars).
            let var = |names: &[&str]| var_str(vars, names).map(|s| render(&s)).transpose();
            let user = match kw.become_user.as_deref() {
                Some(u) => Some(render(u)?),
                None => var(&["ansible_become_user"])?.or_else(|| opts.become_user.clone()),
            };
            let method = match kw.become_method.as_deref() {
                Some(m) => Some(render(m)?),
                None => var(&["ansible_become_method"])?.or_else(|| opts.become_method.clone()),
            };
            Some(Become {
                user: user.unwrap_or_else(|| "root".into()),
                method: method.as_deref().unwrap_or("sudo").parse()?,
                flags: match kw.become_flags.clone() {
                    Some(f) => Some(f),
                    None => var(&["ansible_become_flags"])?,
                },
                password: var(&["ansible_become_password", "ansible_become_pass"])?
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::events::MemorySink;
    use crate::executor::{PlayVars, RunOptions};
    use crate::inventory::Inventory;
    use crate::module::{ModuleContext, ModuleError, ModuleRegistry, ModuleResult};
    use crate::playbook::{load_playbook, Playbook};

    /// A module that takes only `path` and `mode`.
    struct Probing;

    #[async_trait::async_trait]
    impl Module for Probing {
        fn name(&self) -> &'static str {
            "probing"
        }
        fn check_args(
            &self,
            args: &crate::vars::Map<String, Value>,
        ) -> Result<(), crate::params::ArgError> {
            match args.keys().find(|k| *k != "path" && *k != "mode") {
                Some(k) => Err(crate::params::ArgError {
                    module: "probing".into(),
                    key: Some(k.clone()),
                    kind: crate::params::ArgErrorKind::Unsupported {
                        suggestion: None,
                        supported: vec!["mode".into(), "path".into()],
                    },
                }),
                None => Ok(()),
            }
        }
        async fn run(
            &self,
            _ctx: &ModuleContext<'_>,
            _args: &Value,
        ) -> Result<ModuleResult, ModuleError> {
            Ok(ModuleResult::ok())
        }
    }

    const PLAYBOOK: &str = r#"- hosts: all
  gather_facts: false
  module_defaults:
    probing: {mode: "0644"}
  tasks:
    - probing: path={{ dir }}/a
      become: true
      environment: {X: "{{ dir }}"}
    - probing: path={{ lookup('env', 'HOME') }}
    - probing: path=/x
      when: dir == 'elsewhere'
    - probing: path=/x owner=me
    - missing: path=/x
"#;

    fn play_ctx(playbook: &Playbook) -> PlayCtx<'_> {
        PlayCtx {
            playbook,
            play: &playbook.plays[0],
            vars: PlayVars::default(),
            uses_hostvars: false,
            extra_handlers: Mutex::new(Vec::new()),
            batch: Mutex::new(Vec::new()),
            handler_sources: Mutex::new(Default::default()),
            free: false,
            throttles: Mutex::new(Default::default()),
            warned: Mutex::new(Default::default()),
        }
    }

    #[test]
    fn execution_and_read_ahead_prepare_tasks_alike() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("site.yml");
        std::fs::write(&path, PLAYBOOK).expect("write");
        let playbook = load_playbook(&path).expect("load");
        let mut registry = ModuleRegistry::new();
        registry.register(Arc::new(Probing));
        let exec = Executor::new(
            registry,
            Inventory::default(),
            RunOptions::default(),
            Arc::new(MemorySink::default()),
        );
        let ctx = play_ctx(&playbook);
        let play = &playbook.plays[0];
        let mut vars = Vars::new();
        vars.insert("dir".into(), Value::String("/srv".into()));
        let prepare = |i: usize, purpose| {
            let task = &play.tasks[i];
            let kw = task.keywords.inherit(&play.keywords);
            exec.prepare_task(&ctx, task, &kw, &vars, purpose)
        };

        // Arguments (with module_defaults) and settings are the same for both purposes.
        let (Ok(run), Ok(ahead)) = (prepare(0, Purpose::Run), prepare(0, Purpose::ReadAhead))
        else {
            panic!("the first task is not prepared");
        };
        assert_eq!(run.name, "probing");
        assert_eq!(
            run.args,
            serde_json::json!({"path": "/srv/a", "mode": "0644"})
        );
        assert_eq!(ahead.args, run.args);
        assert!(run.settings == ahead.settings);
        assert!(run.settings.become_.is_some());
        assert_eq!(
            run.settings.env,
            vec![("X".to_string(), "/srv".to_string())]
        );
        assert!(!run.tctx.no_lookups && ahead.tctx.no_lookups);

        // Lookups run only when the task runs.
        assert!(prepare(1, Purpose::Run).is_ok());
        assert!(matches!(
            prepare(1, Purpose::ReadAhead),
            Err(NotPrepared::Failed(_))
        ));

        for purpose in [Purpose::Run, Purpose::ReadAhead] {
            assert!(matches!(
                prepare(2, purpose),
                Err(NotPrepared::Skipped(Value::String(c))) if c == "dir == 'elsewhere'"
            ));
            assert!(matches!(prepare(3, purpose), Err(NotPrepared::BadArgs(_))));
            assert!(matches!(
                prepare(4, purpose),
                Err(NotPrepared::Failed(m)) if m == "couldn't resolve module/action 'missing'"
            ));
        }
    }
}

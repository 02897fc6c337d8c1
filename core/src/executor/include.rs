//! Dynamic includes: `include_tasks` (and legacy `include`) and `include_role`, evaluated per
//! host at run time (conditions, loops, templated names). Hosts that include the same content
//! with the same loop item run it together; content is parsed once per run.

use std::sync::Arc;
use std::time::Instant;

use super::prepare::when_conditions;
use super::{Executor, PlayCtx};
use crate::events::{Event, HostResult};
use crate::playbook::{
    FileCtx, IncludeChain, IncludeKind, Included, Keywords, PlayRoles, PlaybookError, Resolver,
    RoleSpec, Task, TaskKind,
};

tokio::task_local! {
    /// The run-time includes that led to the tasks being run (the include depth guard).
    static RUNTIME_CHAIN: IncludeChain;
}
use crate::vars::{merge_into, Value, Vars};

/// Hosts that include the same content with the same loop variables.
struct IncludeGroup {
    key: String,
    target: String,
    extra: Vars,
    /// How the `included:` line shows the loop item (`loop_control.label`, else the item).
    label: Option<String>,
    hosts: Vec<String>,
}

impl Executor {
    /// Runs an `include_tasks`/`include_role` task: `kw` are its own (inherited) keywords,
    /// `parent` those its included tasks inherit (plus the include's `vars` and `apply`).
    pub(crate) async fn run_include(
        &self,
        ctx: &PlayCtx<'_>,
        task: &Task,
        kw: &Keywords,
        parent: &Keywords,
        hosts: &[String],
    ) {
        let targets = self.active_hosts(hosts);
        if targets.is_empty() {
            return;
        }
        let start = Instant::now();
        let (what, spec, apply) = match &task.kind {
            TaskKind::IncludeTasks { file, apply } => (file.clone(), None, apply.as_ref()),
            TaskKind::IncludeRole { spec, apply } => {
                (spec.name.clone(), Some(spec), apply.as_ref())
            }
            _ => return,
        };
        let name = self.shown_name(ctx, task, kw, &targets[0]);
        let free_host = ctx.free.then(|| targets[0].clone());
        self.emit(Event::TaskStart {
            host: free_host.clone(),
            hosts: targets.clone(),
            name: name.clone(),
            location: task.location.to_string(),
            handler: false,
            module: Some(
                if spec.is_some() {
                    "include_role"
                } else {
                    "include_tasks"
                }
                .into(),
            ),
        });
        let mut groups: Vec<IncludeGroup> = Vec::new();
        for host in &targets {
            let vars = self.vars_for(ctx, host, kw, task.role.as_deref());
            let tctx = self.template_context(ctx, task);
            let mut item_count = 1;
            let outcome = match self.conditions_met(&when_conditions(kw, task), &vars) {
                Ok(true) => match self.loop_items(task, &vars, &tctx) {
                    Ok(items) => {
                        let items: Vec<Option<(usize, Value)>> = match items {
                            None => vec![None],
                            Some(list) => list.into_iter().enumerate().map(Some).collect(),
                        };
                        let mut err = None;
                        item_count = items.len();
                        for it in items {
                            let mut extra = Vars::new();
                            if let Some((i, item)) = it {
                                extra.insert(task.loop_var.clone(), item);
                                if let Some(iv) = &task.index_var {
                                    extra.insert(iv.clone(), Value::from(i));
                                }
                            }
                            let mut ivars = vars.clone();
                            merge_into(&mut ivars, &extra);
                            match self
                                .shared
                                .templar
                                .render_str_in(&what, &ivars, Some(&tctx))
                            {
                                Ok(target) => {
                                    let key =
                                        format!("{target}\u{0}{}", Value::Object(extra.clone()));
                                    match groups.iter_mut().find(|g| g.key == key) {
                                        Some(g) => g.hosts.push(host.clone()),
                                        None => groups.push(IncludeGroup {
                                            key,
                                            target,
                                            label: task
                                                .loop_
                                                .as_ref()
                                                .map(|_| self.item_label(task, &ivars)),
                                            extra,
                                            hosts: vec![host.clone()],
                                        }),
                                    }
                                }
                                Err(e) => err = Some(e.to_string()),
                            }
                        }
                        match err {
                            Some(e) => Err(e),
                            None => Ok(true),
                        }
                    }
                    Err(e) => Err(e),
                },
                Ok(false) => Ok(false),
                Err(e) => Err(e),
            };
            let result = match &outcome {
                Ok(true) => serde_json::json!({"changed": false, "include": what}),
                Ok(false) => serde_json::json!({
                    "changed": false, "skipped": true,
                    "skip_reason": "Conditional result was False"}),
                Err(e) => serde_json::json!({"changed": false, "failed": true, "msg": e}),
            };
            // Ansible counts a looped include once per item.
            if item_count > 1 {
                let ok = super::result::HostOutcome {
                    status: crate::events::Status::Ok,
                    result: Value::Null,
                    ignored: false,
                    looped: false,
                    duration: start.elapsed(),
                };
                for _ in 1..item_count {
                    self.record(ctx, task, host, &ok, &Vars::new(), false);
                }
            }
            self.report_include(ctx, task, host, result, start);
        }
        let outer = RUNTIME_CHAIN
            .try_with(IncludeChain::clone)
            .unwrap_or_default();
        let mut loaded = Vec::with_capacity(groups.len());
        for group in groups {
            let mut chain = outer.clone();
            let included = match self.enter_runtime(ctx, task, spec, &group.target, &outer) {
                Err(e) => Arc::new(Err(e)),
                Ok(inner) => {
                    chain = inner;
                    match spec {
                        None => self.load_included_tasks(ctx, task, &group.target),
                        Some(spec) => self.load_included_role(ctx, task, spec, &group.target),
                    }
                }
            };
            match included.as_ref() {
                Ok(_) => self.emit(Event::Included {
                    target: match spec {
                        None => self.included_file_label(ctx, task, &group.target),
                        Some(_) => group.target.clone(),
                    },
                    hosts: group.hosts.clone(),
                    item: group.label.clone(),
                }),
                Err(e) => {
                    for h in &group.hosts {
                        let r = serde_json::json!({"changed": false, "failed": true, "msg": e.to_string()});
                        self.report_include(ctx, task, h, r, start);
                    }
                }
            }
            loaded.push((group, included, chain));
        }
        self.emit(Event::TaskEnd {
            name,
            host: free_host,
            duration: start.elapsed(),
        });
        for (group, included, chain) in loaded {
            let Ok(included) = included.as_ref() else {
                continue;
            };
            let mut base = parent.clone();
            merge_into(&mut base.vars, &task.keywords.vars);
            self.register_handlers(ctx, &group.key, included, &base.vars);
            merge_into(&mut base.vars, &group.extra);
            if let (Some(true), Some(role)) = (spec.and_then(|s| s.public), &included.role) {
                // `public: true`: the role's defaults and vars stay visible to the rest of the play.
                let mut states = self.hosts();
                for h in &group.hosts {
                    if let Some(s) = states.get_mut(h) {
                        merge_into(&mut s.public_role_defaults, &role.defaults);
                        merge_into(&mut s.public_role_vars, &role.vars);
                    }
                }
            }
            let child = apply.inherit(&base);
            let run = self.run_list(ctx, &included.tasks, &child, &group.hosts);
            Box::pin(RUNTIME_CHAIN.scope(chain, run)).await;
        }
    }

    /// The run-time include chain extended by this include (the depth guard shared with static
    /// imports); content that cannot be found is left to the loader's own error.
    fn enter_runtime(
        &self,
        ctx: &PlayCtx<'_>,
        task: &Task,
        spec: Option<&RoleSpec>,
        target: &str,
        outer: &IncludeChain,
    ) -> Result<IncludeChain, PlaybookError> {
        let resolver = Resolver::for_playbook(ctx.playbook);
        let (kind, path, shown) = match spec {
            None => {
                let fctx = FileCtx {
                    dir: std::path::Path::new(&*task.location.file)
                        .parent()
                        .map(std::path::Path::to_path_buf)
                        .unwrap_or_default(),
                    role: task.role.clone(),
                };
                let Some(path) = resolver.find_tasks_file(target, &fctx) else {
                    return Ok(outer.clone());
                };
                let shown = path.display().to_string();
                (IncludeKind::IncludeTasks, path, shown)
            }
            Some(spec) => {
                let near = task.role.as_ref().map(|r| r.path.clone());
                let Some(dir) = resolver.find_role(target, near.as_deref()) else {
                    return Ok(outer.clone());
                };
                let spec = RoleSpec {
                    name: target.to_string(),
                    ..spec.clone()
                };
                let entry = Resolver::role_entry(&dir, &spec);
                (IncludeKind::IncludeRole, entry, format!("role '{target}'"))
            }
        };
        outer.enter(kind, &path, &shown, &task.location)
    }

    fn report_include(
        &self,
        ctx: &PlayCtx<'_>,
        task: &Task,
        host: &str,
        result: Value,
        start: Instant,
    ) {
        let outcome = super::result::HostOutcome {
            status: super::result::status_of(&result),
            result,
            ignored: false,
            looped: false,
            duration: start.elapsed(),
        };
        self.record(ctx, task, host, &outcome, &Vars::new(), false);
        self.emit(Event::HostResult(HostResult {
            host: host.to_string(),
            delegated_to: None,
            status: outcome.status,
            ignored: false,
            item: None,
            result: outcome.result,
            error: None,
            duration: outcome.duration,
        }));
    }

    /// Adds the included content's handlers to the play's; they see the include's variables
    /// (its own `vars:` and those of its blocks) under their own, as in ansible-core.
    fn register_handlers(&self, ctx: &PlayCtx<'_>, key: &str, included: &Included, vars: &Vars) {
        if included.handlers.is_empty() {
            return;
        }
        let handlers: Vec<Task> = included
            .handlers
            .iter()
            .map(|h| {
                let mut h = h.clone();
                let mut merged = vars.clone();
                merge_into(&mut merged, &h.keywords.vars);
                h.keywords.vars = merged;
                h
            })
            .collect();
        let source = match &included.role {
            Some(r) => r.path.display().to_string(),
            None => key.to_string(),
        };
        let mut sources = ctx
            .handler_sources
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let mut extra = ctx.extra_handlers.lock().unwrap_or_else(|e| e.into_inner());
        // Included again (with other variables): the new copies replace the earlier ones, so the
        // handlers run once with the last instance's variables, as in ansible-core.
        match sources.get(&source) {
            Some(range) if range.len() == handlers.len() => {
                extra.splice(range.clone(), handlers);
            }
            _ => {
                let start = extra.len();
                extra.extend(handlers);
                sources.insert(source, start..extra.len());
            }
        }
    }

    fn cached(
        &self,
        key: String,
        load: impl FnOnce() -> Result<Included, PlaybookError>,
    ) -> Arc<Result<Included, PlaybookError>> {
        if let Some(hit) = self
            .shared
            .includes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return hit.clone();
        }
        let loaded = Arc::new(load());
        self.shared
            .includes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, loaded.clone());
        loaded
    }

    /// The file an `include_tasks` name resolves to, as ansible-playbook shows it.
    fn included_file_label(&self, ctx: &PlayCtx<'_>, task: &Task, file: &str) -> String {
        let resolver = Resolver::for_playbook(ctx.playbook);
        let fctx = FileCtx {
            dir: std::path::Path::new(&*task.location.file)
                .parent()
                .map(std::path::Path::to_path_buf)
                .unwrap_or_default(),
            role: task.role.clone(),
        };
        match resolver.find_tasks_file(file, &fctx) {
            Some(path) => std::path::absolute(&path)
                .unwrap_or(path)
                .display()
                .to_string(),
            None => file.to_string(),
        }
    }

    fn load_included_tasks(
        &self,
        ctx: &PlayCtx<'_>,
        task: &Task,
        file: &str,
    ) -> Arc<Result<Included, PlaybookError>> {
        let resolver = Resolver::for_playbook(ctx.playbook);
        let fctx = FileCtx {
            dir: std::path::Path::new(&*task.location.file)
                .parent()
                .map(std::path::Path::to_path_buf)
                .unwrap_or_default(),
            role: task.role.clone(),
        };
        let Some(path) = resolver.find_tasks_file(file, &fctx) else {
            return Arc::new(Err(PlaybookError::new(
                &task.location,
                format!("Could not find or access '{file}'"),
            )
            .with_hint("relative names are looked up next to the including file, in the role's tasks/ and in the playbook's directory")));
        };
        let role_key = task
            .role
            .as_ref()
            .map(|r| r.path.display().to_string())
            .unwrap_or_default();
        self.cached(format!("tasks:{}:{role_key}", path.display()), || {
            let shown = path.display().to_string();
            let chain = IncludeChain::default().enter(
                IncludeKind::IncludeTasks,
                &path,
                &shown,
                &task.location,
            )?;
            let mut resolver = Resolver::for_playbook(ctx.playbook).with_chain(chain);
            let mut roles = PlayRoles::default();
            let tasks = resolver.load_tasks_file(&path, task.role.clone(), &mut roles)?;
            if let Some(e) = crate::playbook::end_role_outside_role(&tasks) {
                return Err(e);
            }
            Ok(Included {
                tasks,
                handlers: roles.handlers,
                role: None,
            })
        })
    }

    fn load_included_role(
        &self,
        ctx: &PlayCtx<'_>,
        task: &Task,
        spec: &RoleSpec,
        name: &str,
    ) -> Arc<Result<Included, PlaybookError>> {
        let spec = RoleSpec {
            name: name.to_string(),
            ..spec.clone()
        };
        let key = format!(
            "role:{name}:{:?}:{:?}:{:?}:{:?}",
            spec.tasks_from, spec.vars_from, spec.defaults_from, spec.handlers_from
        );
        self.cached(key, || {
            let mut resolver = Resolver::for_playbook(ctx.playbook);
            let mut roles = PlayRoles::default();
            let near = task.role.as_ref().map(|r| r.path.clone());
            let inc =
                resolver.expand_role(&spec, &task.location, near.as_deref(), &mut roles, false)?;
            let mut inc = inc.unwrap_or(Included {
                tasks: Vec::new(),
                handlers: Vec::new(),
                role: None,
            });
            inc.handlers = roles.handlers;
            Ok(inc)
        })
    }
}

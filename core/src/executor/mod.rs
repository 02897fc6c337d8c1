//! The executor: runs plays against hosts with the linear strategy (every host finishes a task
//! before any starts the next) or the free one (`free.rs`), hosts in parallel up to `forks`, and
//! reports [`Event`]s.

mod arg_errors;
mod batch;
mod connect;
mod controller;
mod display;
mod facts;
mod failure;
mod free;
mod handlers;
mod include;
mod looping;
mod loops;
mod meta;
mod options;
mod read_ahead;
mod state;
mod task;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};
use indexmap::IndexMap;

pub(crate) use connect::ConnectionPool;
pub use connect::{ssh_options, transport_for};
pub(crate) use controller::TaskController;
pub use free::{strategy_named, Strategy};
pub use options::RunOptions;
pub(crate) use state::{task_vars, HostState, PlayVars, VarsInput};

use crate::events::{Event, EventSink, HostResult, HostStats, Status};
use crate::inventory::{Inventory, InventoryError, Limit};
use crate::module::ModuleRegistry;
use crate::playbook::{
    tags_select, Included, Keywords, Play, Playbook, PlaybookError, RoleRef, Task, TaskKind,
};
use crate::template::{Templar, TemplateOptions};
use crate::vars::{Map, Value, Vars};
use read_ahead::Upcoming;
use task::{censor, HostOutcome};

/// Errors that stop a run (as opposed to task failures, which are results).
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// A host pattern could not be used.
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    /// Playbook content was wrong in a way found only at run time.
    #[error(transparent)]
    Playbook(#[from] PlaybookError),
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// Per-host counters, in first-seen order.
    pub stats: Vec<(String, HostStats)>,
    /// ansible-playbook's exit code: 0 ok, 2 a host failed, 4 a host was unreachable.
    pub exit_code: i32,
}

struct Shared {
    registry: ModuleRegistry,
    inventory: Inventory,
    templar: Templar,
    opts: RunOptions,
    sink: Arc<dyn EventSink>,
    pool: ConnectionPool,
    hosts: Mutex<IndexMap<String, HostState>>,
    /// Parsed `include_tasks`/`include_role` content, by file or role (never parsed twice).
    includes: Mutex<std::collections::HashMap<String, Arc<Result<Included, PlaybookError>>>>,
    /// `--start-at-task` reached (or not given).
    started: std::sync::atomic::AtomicBool,
    /// `--step` still asking (answering `c` stops it).
    stepping: std::sync::atomic::AtomicBool,
}

/// Runs playbooks. Cheap to clone; clones share the run's state.
#[derive(Clone)]
pub struct Executor {
    shared: Arc<Shared>,
}

/// What the tasks of one play share.
pub(crate) struct PlayCtx<'a> {
    pub playbook: &'a Playbook,
    pub play: &'a Play,
    pub vars: PlayVars,
    pub uses_hostvars: bool,
    /// Handlers brought in by `include_role` during the play.
    pub extra_handlers: Mutex<Vec<Task>>,
    /// Hosts of the current `serial` batch (`ansible_play_batch`).
    pub batch: Mutex<Vec<String>>,
    /// Roles/files whose handlers are in `extra_handlers`.
    pub handler_sources: Mutex<std::collections::HashSet<String>>,
    /// The play runs with the free strategy: tasks start and end per host.
    pub free: bool,
    /// Free strategy: `throttle` limits, one per task (by location).
    pub throttles: Mutex<std::collections::HashMap<String, Arc<tokio::sync::Semaphore>>>,
    /// Warnings already shown in this play.
    pub warned: Mutex<std::collections::HashSet<String>>,
}

impl Executor {
    /// An executor for `inventory` using the modules in `registry`, reporting to `sink`.
    pub fn new(
        registry: ModuleRegistry,
        inventory: Inventory,
        opts: RunOptions,
        sink: Arc<dyn EventSink>,
    ) -> Self {
        let opts_start_unset = opts.start_at_task.is_none();
        let opts_step = opts.step;
        Self {
            shared: Arc::new(Shared {
                registry,
                inventory,
                // Playbooks written for ansible-core before 2.19 rely on truthy, non-boolean
                // conditionals (`when: some_list`); accept them as those versions did.
                templar: Templar::with_options(TemplateOptions {
                    allow_broken_conditionals: true,
                    ..TemplateOptions::default()
                }),
                opts,
                sink,
                pool: ConnectionPool::default(),
                hosts: Mutex::new(IndexMap::new()),
                includes: Mutex::new(std::collections::HashMap::new()),
                started: std::sync::atomic::AtomicBool::new(opts_start_unset),
                stepping: std::sync::atomic::AtomicBool::new(opts_step),
            }),
        }
    }

    fn emit(&self, event: Event) {
        self.shared.sink.emit(&event);
    }

    fn hosts(&self) -> MutexGuard<'_, IndexMap<String, HostState>> {
        self.shared.hosts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs every play of `playbook`, then closes all connections. Modules reach the run's
    /// prompter through [`crate::session::current_prompter`].
    pub async fn run(&self, playbook: &Playbook) -> Result<RunSummary, ExecError> {
        let prompter = self.shared.opts.prompter.clone();
        crate::session::scope_prompter(prompter, self.run_plays(playbook)).await
    }

    async fn run_plays(&self, playbook: &Playbook) -> Result<RunSummary, ExecError> {
        let start = Instant::now();
        self.emit(Event::PlaybookStart {
            playbook: playbook.path.display().to_string(),
            check_mode: self.shared.opts.check,
        });
        let uses_hostvars = content_uses_hostvars(playbook);
        let mut result = Ok(());
        for play in &playbook.plays {
            result = self.run_play(playbook, play, uses_hostvars).await;
            if result.is_err() {
                break;
            }
        }
        self.shared.pool.close_all().await;
        // As ansible-core, the recap lists only hosts that had a result (a play's `run_once`
        // leaves the others without any).
        let stats: Vec<(String, HostStats)> = self
            .hosts()
            .iter()
            .filter(|(_, s)| s.stats != HostStats::default())
            .map(|(h, s)| (h.clone(), s.stats))
            .collect();
        self.emit(Event::Recap {
            hosts: stats.clone(),
            duration: start.elapsed(),
        });
        result?;
        let exit_code = if stats.iter().any(|(_, s)| s.unreachable > 0) {
            4
        } else if stats.iter().any(|(_, s)| s.failed > 0) {
            2
        } else {
            0
        };
        Ok(RunSummary { stats, exit_code })
    }

    fn select_hosts(&self, play: &Play) -> Result<Vec<String>, ExecError> {
        let inv = &self.shared.inventory;
        let pattern = self
            .shared
            .templar
            .render_str(&play.hosts, &self.shared.opts.extra_vars)
            .map_err(|e| PlaybookError::new(&play.location, format!("hosts: {e}")))?;
        for unmatched in inv.unmatched_patterns(&pattern)? {
            self.emit(Event::Warning {
                message: format!("Could not match supplied host pattern, ignoring: {unmatched}"),
            });
        }
        let limit = match &self.shared.opts.limit {
            Some(l) => Some(Limit::parse(l)?),
            None => None,
        };
        let hosts = inv.select_limited(&pattern, limit.as_ref())?;
        Ok(hosts)
    }

    async fn run_play(
        &self,
        playbook: &Playbook,
        play: &Play,
        uses_hostvars: bool,
    ) -> Result<(), ExecError> {
        let selected = self.select_hosts(play)?;
        {
            let inv = &self.shared.inventory;
            let mut states = self.hosts();
            for h in &selected {
                states.entry(h.clone()).or_insert_with(|| {
                    let inventory_vars = inv.host_vars(h);
                    HostState {
                        inventory_vars,
                        group_names: inv.group_names(h),
                        ..HostState::default()
                    }
                });
            }
        }
        let hosts: Vec<String> = {
            let states = self.hosts();
            selected
                .into_iter()
                .filter(|h| states.get(h).is_some_and(|s| !s.failed && !s.unreachable))
                .collect()
        };
        if hosts.is_empty() {
            self.emit(Event::NoHostsMatched {
                name: play.name.clone(),
            });
            return Ok(());
        }
        let groups: Map<String, Value> = self
            .shared
            .inventory
            .groups_map()
            .into_iter()
            .map(|(g, hs)| (g, Value::Array(hs.into_iter().map(Value::String).collect())))
            .collect();
        let mut ctx = PlayCtx {
            playbook,
            play,
            vars: PlayVars {
                vars: play.keywords.vars.clone(),
                vars_files: Vars::new(),
                hosts_all: hosts.clone(),
                groups,
                playbook_dir: playbook.dir.display().to_string(),
                inventory_dir: None,
                role_defaults: play.role_defaults.clone(),
                role_vars: play.role_vars.clone(),
                prompted: Vars::new(),
            },
            uses_hostvars,
            extra_handlers: Mutex::new(Vec::new()),
            batch: Mutex::new(hosts.clone()),
            handler_sources: Mutex::new(std::collections::HashSet::new()),
            free: self.play_strategy(play) == Strategy::Free,
            throttles: Mutex::new(std::collections::HashMap::new()),
            warned: Mutex::new(std::collections::HashSet::new()),
        };
        ctx.vars.prompted = self.prompt_vars(play)?;
        ctx.vars.vars_files = self.load_vars_files(&ctx)?;
        self.emit(Event::PlayStart {
            name: self.shown_play_name(&ctx),
            hosts: hosts.clone(),
        });
        // Keywords are applied per task; play vars are their own layer.
        let play_kw = Keywords {
            vars: Vars::new(),
            ..play.keywords.clone()
        };
        for batch in self.batches(&ctx, &hosts) {
            *ctx.batch.lock().unwrap_or_else(|e| e.into_inner()) = batch.clone();
            if ctx.free {
                self.run_batch_free(&ctx, &play_kw, &batch).await;
            } else {
                self.run_batch(&ctx, &play_kw, &batch).await;
            }
            if self.max_fail_exceeded(&ctx, &batch) {
                break;
            }
        }
        for h in &hosts {
            if let Some(s) = self.hosts().get_mut(h) {
                s.ended = false;
                s.notified.clear();
                s.pending_handlers.clear();
                s.public_role_defaults.clear();
                s.public_role_vars.clear();
            }
        }
        Ok(())
    }

    /// Runs the play's sections on one `serial` batch of hosts.
    async fn run_batch(&self, ctx: &PlayCtx<'_>, play_kw: &Keywords, hosts: &[String]) {
        let play = ctx.play;
        if play.gather_facts && self.shared.registry.get("setup").is_some() {
            let gather = gather_task(play);
            self.run_task(ctx, &gather, play_kw, hosts, false, None)
                .await;
        }
        let sections: [(&[Task], &[Task]); 3] = [
            (&play.pre_tasks, &[]),
            (&play.roles, &play.tasks),
            (&play.post_tasks, &[]),
        ];
        for (first, second) in sections {
            Box::pin(self.run_list(ctx, first, play_kw, hosts)).await;
            Box::pin(self.run_list(ctx, second, play_kw, hosts)).await;
            self.flush_handlers(ctx, play_kw, hosts).await;
        }
    }

    fn load_vars_files(&self, ctx: &PlayCtx<'_>) -> Result<Vars, ExecError> {
        let mut out = Vars::new();
        let mut base = self.shared.opts.extra_vars.clone();
        crate::vars::merge_into(&mut base, &ctx.vars.vars);
        crate::vars::merge_into(&mut base, &ctx.vars.prompted);
        for alts in &ctx.play.vars_files {
            let rendered = alts
                .iter()
                .map(|name| self.shared.templar.render_str(name, &base))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| PlaybookError::new(&ctx.play.location, format!("vars_files: {e}")))?;
            let dir = &ctx.playbook.dir;
            let Some(path) = crate::playbook::vars_files::first_existing(dir, &rendered) else {
                let tried: Vec<String> = rendered
                    .iter()
                    .map(|r| dir.join(r).display().to_string())
                    .collect();
                return Err(PlaybookError::new(
                    &ctx.play.location,
                    format!(
                        "vars_files: the file '{}' was not found",
                        tried.join("', '")
                    ),
                )
                .into());
            };
            let vars = crate::playbook::load_vars_path(&path)?;
            crate::vars::merge_into(&mut out, &vars);
        }
        Ok(out)
    }

    fn active_hosts(&self, hosts: &[String]) -> Vec<String> {
        let states = self.hosts();
        hosts
            .iter()
            .filter(|h| states.get(*h).is_some_and(HostState::active))
            .cloned()
            .collect()
    }

    /// True if a task with these (inherited) keywords is selected by `--tags`/`--skip-tags`.
    fn tags_allow(&self, kw: &Keywords) -> bool {
        let o = &self.shared.opts;
        tags_select(&kw.tags, &o.tags, &o.skip_tags)
    }

    /// `--start-at-task`: false until the named task is reached.
    fn reached_start(&self, task: &Task) -> bool {
        use std::sync::atomic::Ordering;
        if self.shared.started.load(Ordering::Relaxed) {
            return true;
        }
        let Some(wanted) = &self.shared.opts.start_at_task else {
            return true;
        };
        let name = task.display_name();
        let full = task.with_role_prefix(name.clone());
        if &name == wanted || &full == wanted {
            self.shared.started.store(true, Ordering::Relaxed);
            return true;
        }
        false
    }

    /// `--step`: asks whether to run the task; `c` runs this and every later task.
    fn step_allows(&self, task: &Task) -> bool {
        use crate::session::{Prompt, PromptKind};
        use std::sync::atomic::Ordering;
        if !self.shared.stepping.load(Ordering::Relaxed) {
            return true;
        }
        let name = task.with_role_prefix(task.display_name());
        let prompt = Prompt {
            kind: PromptKind::Step,
            message: format!("Perform task: TASK: {name} (N)o/(y)es/(c)ontinue: "),
            secret: false,
        };
        let Ok(line) = self.shared.opts.prompter.0.ask(&prompt) else {
            return false;
        };
        match line.trim().to_ascii_lowercase().as_str() {
            "y" | "yes" => true,
            "c" | "continue" => {
                self.shared.stepping.store(false, Ordering::Relaxed);
                true
            }
            _ => false,
        }
    }

    async fn run_list(
        &self,
        ctx: &PlayCtx<'_>,
        tasks: &[Task],
        parent: &Keywords,
        hosts: &[String],
    ) {
        for (index, task) in tasks.iter().enumerate() {
            if self.active_hosts(hosts).is_empty() {
                return;
            }
            let kw = task.keywords.inherit(parent);
            match &task.kind {
                TaskKind::Block {
                    block,
                    rescue,
                    always,
                } => {
                    let mut kw = kw;
                    kw.when.extend(task.when.iter().cloned());
                    Box::pin(self.run_block(ctx, &kw, block, rescue, always, hosts)).await
                }
                TaskKind::Meta(action) => {
                    if self.tags_allow(&kw) && self.reached_start(task) {
                        self.announce_meta(ctx, task, &kw, hosts);
                        self.run_meta(ctx, task, &kw, action, hosts).await
                    }
                }
                TaskKind::Module { .. } => {
                    if self.tags_allow(&kw) && self.reached_start(task) && self.step_allows(task) {
                        let upcoming = Upcoming {
                            tasks: &tasks[index + 1..],
                            parent,
                        };
                        self.run_task(ctx, task, &kw, hosts, false, Some(upcoming))
                            .await
                    }
                }
                TaskKind::IncludeTasks { .. } | TaskKind::IncludeRole { .. } => {
                    // Like any task, an include before `--start-at-task`'s task does not run.
                    if self.tags_allow(&kw) && self.reached_start(task) {
                        Box::pin(self.run_include(ctx, task, &kw, parent, hosts)).await
                    }
                }
                TaskKind::ImportTasks { .. } | TaskKind::ImportRole(_) => {}
            }
        }
    }

    async fn run_block(
        &self,
        ctx: &PlayCtx<'_>,
        kw: &Keywords,
        block: &[Task],
        rescue: &[Task],
        always: &[Task],
        hosts: &[String],
    ) {
        let members = self.active_hosts(hosts);
        self.run_list(ctx, block, kw, &members).await;
        let failed: Vec<String> = {
            let states = self.hosts();
            members
                .iter()
                .filter(|h| states.get(*h).is_some_and(|s| s.failed && !s.unreachable))
                .cloned()
                .collect()
        };
        if !rescue.is_empty() && !failed.is_empty() {
            {
                let mut states = self.hosts();
                for h in &failed {
                    if let Some(s) = states.get_mut(h) {
                        s.failed = false;
                        s.stats.failed = s.stats.failed.saturating_sub(1);
                        s.stats.rescued += 1;
                        if let Some((t, r)) = s.last_failure.clone() {
                            s.rescue_vars.insert("ansible_failed_task".into(), t);
                            s.rescue_vars.insert("ansible_failed_result".into(), r);
                        }
                    }
                }
            }
            self.run_list(ctx, rescue, kw, &failed).await;
            let mut states = self.hosts();
            for h in &failed {
                if let Some(s) = states.get_mut(h) {
                    s.rescue_vars.clear();
                }
            }
        }
        if !always.is_empty() {
            let still_failed: Vec<String> = {
                let mut states = self.hosts();
                members
                    .iter()
                    .filter(|h| {
                        states.get_mut(*h).is_some_and(|s| {
                            let was = s.failed && !s.unreachable;
                            s.failed = false;
                            was
                        })
                    })
                    .cloned()
                    .collect()
            };
            self.run_list(ctx, always, kw, &members).await;
            let mut states = self.hosts();
            for h in &still_failed {
                if let Some(s) = states.get_mut(h) {
                    s.failed = true;
                }
            }
        }
    }

    async fn run_meta(
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
                    let conds = task::when_conditions(kw, task);
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

    fn conditions_met(&self, conds: &[Value], vars: &Vars) -> Result<bool, String> {
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

    fn vars_for(
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

    /// The task's name as shown: rendered with the first host's variables, role-prefixed.
    fn shown_name(&self, ctx: &PlayCtx<'_>, task: &Task, kw: &Keywords, host: &str) -> String {
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

    /// Runs one task on every active host in `hosts`, in parallel up to `forks` (and `throttle`).
    async fn run_task(
        &self,
        ctx: &PlayCtx<'_>,
        task: &Task,
        kw: &Keywords,
        hosts: &[String],
        handler: bool,
        upcoming: Option<Upcoming<'_>>,
    ) {
        let mut targets = self.active_hosts(hosts);
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
            let error = if outcome.looped {
                None
            } else {
                self.describe_failure(task, &mut outcome.result)
            };
            let ignore_unreachable = outcome.status == Status::Unreachable
                && self
                    .keyword_bool(&kw.ignore_unreachable, &vars)
                    .ok()
                    .flatten()
                    .unwrap_or(false);
            self.record(ctx, task, &host, &outcome, &vars, ignore_unreachable);
            if run_once {
                self.share_run_once(task, &host, &outcome.result, &all_hosts, &vars);
            }
            any_failed |= outcome.status == Status::Failed && !outcome.ignored;
            self.emit(Event::HostResult(HostResult {
                host,
                delegated_to: task.delegate_to.clone(),
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
            // any_errors_fatal: every host of the play stops here.
            let mut states = self.hosts();
            for h in &ctx.vars.hosts_all {
                if let Some(s) = states.get_mut(h) {
                    s.ended = true;
                }
            }
        }
    }

    /// Updates a host's state and counters with a task outcome.
    fn record(
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

/// True if the playbook's files, or any file of its roles, mention `hostvars` (building
/// `hostvars` for every task is skipped otherwise). Each file is read once.
fn content_uses_hostvars(playbook: &Playbook) -> bool {
    fn collect(tasks: &[Task], files: &mut std::collections::BTreeSet<std::path::PathBuf>) {
        for t in tasks {
            files.insert(std::path::PathBuf::from(&*t.location.file));
            if let Some(r) = &t.role {
                for sub in ["tasks", "handlers", "templates", "vars", "defaults"] {
                    if let Ok(entries) = std::fs::read_dir(r.path.join(sub)) {
                        files.extend(entries.filter_map(|e| e.ok().map(|e| e.path())));
                    }
                }
            }
            if let TaskKind::Block {
                block,
                rescue,
                always,
            } = &t.kind
            {
                for list in [block, rescue, always] {
                    collect(list, files);
                }
            }
        }
    }
    let mut files = std::collections::BTreeSet::new();
    files.insert(playbook.path.clone());
    for play in &playbook.plays {
        for list in [
            &play.roles,
            &play.pre_tasks,
            &play.tasks,
            &play.post_tasks,
            &play.handlers,
        ] {
            collect(list, &mut files);
        }
    }
    // Included task files are not known before the run: look at the playbook's own tasks dirs.
    for sub in ["tasks", "templates"] {
        if let Ok(entries) = std::fs::read_dir(playbook.dir.join(sub)) {
            files.extend(entries.filter_map(|e| e.ok().map(|e| e.path())));
        }
    }
    files.iter().any(|f| {
        f.is_file()
            && std::fs::read_to_string(f)
                .map(|s| s.contains("hostvars"))
                .unwrap_or(false)
    })
}

/// The implicit fact-gathering task at the start of a play, with the play's `gather_subset`,
/// `gather_timeout` and `fact_path`.
fn gather_task(play: &Play) -> Task {
    let mut t = Task::new(
        play.location.clone(),
        TaskKind::Module {
            module: "setup".into(),
            args: Value::Object(play.gather_args.clone()),
        },
    );
    t.name = Some("Gathering Facts".into());
    t
}

/// Elapsed time formatted for people (`0.42s`, `1m03s`).
pub fn format_duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 {
        format!("{s:.2}s")
    } else {
        format!("{}m{:02}s", (s / 60.0) as u64, (s % 60.0) as u64)
    }
}

/// The playbook's directory as a path (for embedding callers).
pub fn playbook_dir(playbook: &Playbook) -> &Path {
    &playbook.dir
}

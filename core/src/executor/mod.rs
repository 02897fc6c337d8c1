//! The executor: runs plays against hosts with the linear strategy (every host finishes a task
//! before any starts the next), hosts in parallel up to `forks`, and reports [`Event`]s.

mod connect;
mod controller;
mod options;
mod state;
mod task;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};
use indexmap::IndexMap;

pub use connect::{ssh_options, transport_for, ConnectionPool};
pub use options::RunOptions;
pub use state::{task_vars, HostState, PlayVars, VarsInput};

use crate::events::{Event, EventSink, HostResult, HostStats, Status};
use crate::inventory::{Inventory, InventoryError, Limit};
use crate::module::ModuleRegistry;
use crate::playbook::{Keywords, Play, Playbook, PlaybookError, Task, TaskKind};
use crate::template::{Templar, TemplateOptions};
use crate::vars::{Map, Value, Vars};
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
}

impl Executor {
    /// An executor for `inventory` using the modules in `registry`, reporting to `sink`.
    pub fn new(
        registry: ModuleRegistry,
        inventory: Inventory,
        opts: RunOptions,
        sink: Arc<dyn EventSink>,
    ) -> Self {
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
            }),
        }
    }

    fn emit(&self, event: Event) {
        self.shared.sink.emit(&event);
    }

    fn hosts(&self) -> MutexGuard<'_, IndexMap<String, HostState>> {
        self.shared.hosts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs every play of `playbook`, then closes all connections.
    pub async fn run(&self, playbook: &Playbook) -> Result<RunSummary, ExecError> {
        let start = Instant::now();
        self.emit(Event::PlaybookStart {
            playbook: playbook.path.display().to_string(),
            check_mode: self.shared.opts.check,
        });
        let uses_hostvars = std::fs::read_to_string(&playbook.path)
            .map(|s| s.contains("hostvars"))
            .unwrap_or(true);
        let mut result = Ok(());
        for play in &playbook.plays {
            result = self.run_play(playbook, play, uses_hostvars).await;
            if result.is_err() {
                break;
            }
        }
        self.shared.pool.close_all().await;
        let stats: Vec<(String, HostStats)> = self
            .hosts()
            .iter()
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
        self.emit(Event::PlayStart {
            name: play.name.clone(),
            hosts: hosts.clone(),
        });
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
            },
            uses_hostvars,
        };
        ctx.vars.vars_files = self.load_vars_files(&ctx)?;
        // Keywords are applied per task; play vars are their own layer.
        let play_kw = Keywords {
            vars: Vars::new(),
            ..play.keywords.clone()
        };
        if play.gather_facts && self.shared.registry.get("setup").is_some() {
            let gather = gather_task(play);
            self.run_task(&ctx, &gather, &play_kw, &hosts, false).await;
        }
        for section in [&play.pre_tasks, &play.tasks, &play.post_tasks] {
            Box::pin(self.run_list(&ctx, section, &play_kw, &hosts)).await;
            self.flush_handlers(&ctx, &play_kw, &hosts).await;
        }
        for h in &hosts {
            if let Some(s) = self.hosts().get_mut(h) {
                s.ended = false;
                s.notified.clear();
            }
        }
        Ok(())
    }

    fn load_vars_files(&self, ctx: &PlayCtx<'_>) -> Result<Vars, ExecError> {
        let mut out = Vars::new();
        let mut base = self.shared.opts.extra_vars.clone();
        crate::vars::merge_into(&mut base, &ctx.vars.vars);
        for name in &ctx.play.vars_files {
            let rendered =
                self.shared.templar.render_str(name, &base).map_err(|e| {
                    PlaybookError::new(&ctx.play.location, format!("vars_files: {e}"))
                })?;
            let path = ctx.playbook.dir.join(&rendered);
            let node = crate::yaml::parse_file(&path).map_err(PlaybookError::from)?;
            match node.to_value() {
                Value::Object(m) => crate::vars::merge_into(&mut out, &m),
                Value::Null => {}
                _ => {
                    return Err(PlaybookError::new(
                        &node.loc,
                        "a vars file must contain a mapping of variable names to values",
                    )
                    .into())
                }
            }
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

    async fn run_list(
        &self,
        ctx: &PlayCtx<'_>,
        tasks: &[Task],
        parent: &Keywords,
        hosts: &[String],
    ) {
        for task in tasks {
            if self.active_hosts(hosts).is_empty() {
                return;
            }
            let kw = task.keywords.inherit(parent);
            match &task.kind {
                TaskKind::Block {
                    block,
                    rescue,
                    always,
                } => Box::pin(self.run_block(ctx, &kw, block, rescue, always, hosts)).await,
                TaskKind::Meta(action) => self.run_meta(ctx, task, &kw, action, hosts).await,
                TaskKind::Module { .. } => self.run_task(ctx, task, &kw, hosts, false).await,
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
                    }
                }
            }
            self.run_list(ctx, rescue, kw, &failed).await;
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
                    let vars = self.vars_for(ctx, &h, &kw.vars);
                    let applies = task.when.is_empty()
                        || matches!(self.conditions_met(&task.when, &vars), Ok(true));
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

    fn vars_for(&self, ctx: &PlayCtx<'_>, host: &str, own_vars: &Vars) -> Vars {
        let states = self.hosts();
        let play_hosts: Vec<String> = ctx
            .vars
            .hosts_all
            .iter()
            .filter(|h| states.get(*h).is_some_and(HostState::active))
            .cloned()
            .collect();
        let hostvars = ctx
            .uses_hostvars
            .then(|| state::hostvars(&states, &self.shared.opts.extra_vars));
        let empty = HostState::default();
        let state = states.get(host).unwrap_or(&empty);
        task_vars(
            host,
            state,
            &VarsInput {
                play: &ctx.vars,
                task_vars: own_vars,
                extra_vars: &self.shared.opts.extra_vars,
                play_hosts: &play_hosts,
                check_mode: self.shared.opts.check,
                diff_mode: self.shared.opts.diff,
                verbosity: self.shared.opts.verbosity,
                hostvars: hostvars.as_ref(),
            },
        )
    }

    /// Runs one task on every active host in `hosts`, in parallel up to `forks`.
    async fn run_task(
        &self,
        ctx: &PlayCtx<'_>,
        task: &Task,
        kw: &Keywords,
        hosts: &[String],
        handler: bool,
    ) {
        let mut targets = self.active_hosts(hosts);
        if targets.is_empty() {
            return;
        }
        if task.run_once {
            targets.truncate(1);
        }
        let start = Instant::now();
        let name = match &task.name {
            Some(n) => {
                let vars = self.vars_for(ctx, &targets[0], &kw.vars);
                self.shared
                    .templar
                    .render_str(n, &vars)
                    .unwrap_or_else(|_| n.clone())
            }
            None => task.display_name(),
        };
        self.emit(Event::TaskStart {
            name: name.clone(),
            location: task.location.to_string(),
            handler,
            module: match &task.kind {
                TaskKind::Module { module, .. } => Some(module.clone()),
                _ => None,
            },
        });
        let forks = self.shared.opts.forks.max(1);
        let mut results = stream::iter(targets.iter().cloned())
            .map(|host| async move {
                let vars = self.vars_for(ctx, &host, &kw.vars);
                let no_log = self
                    .keyword_bool(&kw.no_log, &vars)
                    .ok()
                    .flatten()
                    .unwrap_or(false);
                let outcome = self.run_on_host(ctx, task, kw, &host, vars.clone()).await;
                (host, outcome, no_log, vars)
            })
            .buffer_unordered(forks);
        let all_hosts = self.active_hosts(hosts);
        while let Some((host, outcome, no_log, vars)) = results.next().await {
            if task.run_once {
                for h in &all_hosts {
                    self.record(task, h, &outcome, &vars);
                }
            } else {
                self.record(task, &host, &outcome, &vars);
            }
            self.emit(Event::HostResult(HostResult {
                host,
                delegated_to: task.delegate_to.clone(),
                status: outcome.status,
                ignored: outcome.ignored,
                item: outcome.looped.then(|| "".to_string()),
                result: censor(&outcome.result, no_log),
                duration: outcome.duration,
            }));
        }
        self.emit(Event::TaskEnd {
            name,
            duration: start.elapsed(),
        });
    }

    /// Updates a host's state and counters with a task outcome.
    fn record(&self, task: &Task, host: &str, outcome: &HostOutcome, vars: &Vars) {
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
        // delegate_facts: facts of a delegated task belong to the delegated host.
        let facts_host = match (&task.delegate_to, task.delegate_facts) {
            (Some(d), true) => Some(
                self.shared
                    .templar
                    .render_str(d, vars)
                    .unwrap_or_else(|_| d.clone()),
            ),
            _ => None,
        };
        let mut states = self.hosts();
        if let (Some(target), Some(Value::Object(facts))) =
            (&facts_host, outcome.result.get("ansible_facts"))
        {
            let inv = &self.shared.inventory;
            let t = states.entry(target.clone()).or_insert_with(|| HostState {
                inventory_vars: inv.host_vars(target),
                group_names: inv.group_names(target),
                ..HostState::default()
            });
            crate::vars::merge_into(&mut t.facts, facts);
        }
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
            Status::Unreachable => {
                s.stats.unreachable += 1;
                s.unreachable = true;
            }
            Status::Failed if outcome.ignored => {
                s.stats.ok += 1;
                s.stats.ignored += 1;
            }
            Status::Failed => {
                s.stats.failed += 1;
                s.failed = true;
            }
        }
        if let Some(reg) = &task.register {
            s.host_vars.insert(reg.clone(), outcome.result.clone());
        }
        if let (None, Some(Value::Object(facts))) =
            (&facts_host, outcome.result.get("ansible_facts"))
        {
            let is_set_fact = matches!(&task.kind, TaskKind::Module { module, .. }
                if module.rsplit('.').next() == Some("set_fact"));
            let target = if is_set_fact {
                &mut s.host_vars
            } else {
                &mut s.facts
            };
            crate::vars::merge_into(target, facts);
        }
        for n in notify {
            s.notified.insert(n);
        }
    }

    /// Runs notified handlers, in the order they are defined, on the hosts that notified them.
    async fn flush_handlers(&self, ctx: &PlayCtx<'_>, play_kw: &Keywords, hosts: &[String]) {
        let force = ctx.play.force_handlers || self.shared.opts.force_handlers;
        for handler in &ctx.play.handlers {
            let mut names: Vec<&str> = handler.listen.iter().map(String::as_str).collect();
            if let Some(n) = &handler.name {
                names.push(n);
            }
            let targets: Vec<String> = {
                let mut states = self.hosts();
                hosts
                    .iter()
                    .filter(|h| {
                        states.get_mut(*h).is_some_and(|s| {
                            let eligible = s.active() || (force && s.failed && !s.unreachable);
                            let notified = names.iter().any(|n| s.notified.contains(*n));
                            if notified {
                                for n in &names {
                                    s.notified.shift_remove(*n);
                                }
                            }
                            eligible && notified
                        })
                    })
                    .cloned()
                    .collect()
            };
            if targets.is_empty() {
                continue;
            }
            let kw = handler.keywords.inherit(play_kw);
            self.run_task(ctx, handler, &kw, &targets, true).await;
        }
    }
}

/// The implicit fact-gathering task at the start of a play.
fn gather_task(play: &Play) -> Task {
    Task {
        name: Some("Gathering Facts".into()),
        location: play.location.clone(),
        kind: TaskKind::Module {
            module: "setup".into(),
            args: Value::Object(Map::new()),
        },
        when: Vec::new(),
        register: None,
        loop_: None,
        loop_var: "item".into(),
        loop_label: None,
        index_var: None,
        notify: Vec::new(),
        listen: Vec::new(),
        changed_when: None,
        failed_when: None,
        delegate_to: None,
        delegate_facts: false,
        run_once: false,
        until: None,
        retries: None,
        delay: None,
        keywords: Keywords::default(),
    }
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

//! Running a playbook's plays: choosing each play's hosts, loading its `vars_files`, running
//! its `serial` batches (fact gathering, then each section followed by its handlers) and the
//! final recap.

use std::sync::Mutex;
use std::time::Instant;

use super::free::Strategy;
use super::{ExecError, Executor, HostState, PlayCtx, PlayVars, RunSummary};
use crate::events::{Event, HostStats};
use crate::inventory::Limit;
use crate::playbook::{Keywords, Play, Playbook, PlaybookError, Task, TaskKind};
use crate::vars::{Map, Value, Vars};

impl Executor {
    /// Runs every play of `playbook`, then closes all connections. Modules reach the run's
    /// prompter through [`crate::session::current_prompter`].
    pub async fn run(&self, playbook: &Playbook) -> Result<RunSummary, ExecError> {
        let prompter = self.shared.opts.prompter.clone();
        crate::session::scope_prompter(prompter, self.run_plays(playbook)).await
    }

    async fn run_plays(&self, playbook: &Playbook) -> Result<RunSummary, ExecError> {
        let start = Instant::now();
        // Before anything can change a host (docs/LOCKING.md).
        let locks = self.take_locks(playbook).await?;
        self.emit(Event::PlaybookStart {
            playbook: playbook.path.display().to_string(),
            check_mode: self.shared.opts.check,
        });
        let uses_hostvars = content_uses_hostvars(playbook);
        let (result, interrupted) = self.run_interruptible(playbook, uses_hostvars).await;
        self.finish_run(locks, interrupted).await;
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
        let exit_code = if interrupted {
            crate::interrupt::EXIT_INTERRUPTED
        } else if stats.iter().any(|(_, s)| s.unreachable > 0) {
            4
        } else if stats.iter().any(|(_, s)| s.failed > 0) {
            2
        } else {
            0
        };
        Ok(RunSummary { stats, exit_code })
    }

    pub(super) fn select_hosts(&self, play: &Play) -> Result<Vec<String>, ExecError> {
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

    pub(super) async fn run_play(
        &self,
        playbook: &Playbook,
        play: &Play,
        uses_hostvars: bool,
    ) -> Result<(), ExecError> {
        let selected = self.resume_hosts(self.select_hosts(play)?);
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
        self.resume_restore(&selected);
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
                // Absolute, as ansible-core's `os.path.abspath` makes it (roles and files
                // named from it keep working whatever the working directory).
                playbook_dir: std::path::absolute(&playbook.dir)
                    .unwrap_or_else(|_| playbook.dir.clone())
                    .display()
                    .to_string(),
                inventory_dir: None,
                role_defaults: play.role_defaults.clone(),
                role_vars: play.role_vars.clone(),
                prompted: Vars::new(),
            },
            uses_hostvars,
            extra_handlers: Mutex::new(Vec::new()),
            batch: Mutex::new(hosts.clone()),
            handler_sources: Mutex::new(Default::default()),
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
            self.checkpoint(&ctx, h, false);
        }
        for h in &hosts {
            if let Some(s) = self.hosts().get_mut(h) {
                s.ended = false;
                s.ended_role = None;
                s.notified.clear();
                s.pending_handlers.clear();
                s.public_role_defaults.clear();
                s.public_role_vars.clear();
            }
        }
        Ok(())
    }

    /// Runs the play's sections on one `serial` batch of hosts.
    pub(super) async fn run_batch(&self, ctx: &PlayCtx<'_>, play_kw: &Keywords, hosts: &[String]) {
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

    pub(super) fn load_vars_files(&self, ctx: &PlayCtx<'_>) -> Result<Vars, ExecError> {
        let mut out = Vars::new();
        let mut base = self.shared.opts.extra_vars.clone();
        crate::vars::merge_into(&mut base, &ctx.vars.vars);
        crate::vars::merge_into(&mut base, &ctx.vars.prompted);
        for (i, alts) in ctx.play.vars_files.iter().enumerate() {
            let at = ctx.play.vars_files_at.get(i).unwrap_or(&ctx.play.location);
            let rendered = alts
                .iter()
                .map(|name| self.shared.templar.render_str(name, &base))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| PlaybookError::new(at, format!("vars_files: {e}")))?;
            let dir = &ctx.playbook.dir;
            let Some(path) = crate::playbook::vars_files::first_existing(dir, &rendered) else {
                let tried: Vec<String> = rendered
                    .iter()
                    .map(|r| dir.join(r).display().to_string())
                    .collect();
                return Err(PlaybookError::new(
                    at,
                    format!(
                        "vars_files: the file '{}' was not found",
                        tried.join("', '")
                    ),
                )
                .into());
            };
            let vars = crate::playbook::load_vars_path(&path).map_err(|e| {
                if e.location.line == 0 {
                    PlaybookError::new(at, format!("vars_files: {}", e.message))
                } else {
                    e
                }
            })?;
            crate::vars::merge_into(&mut out, &vars);
        }
        Ok(out)
    }
}

/// True if the playbook's files, or any file of its roles, mention `hostvars` (building
/// `hostvars` for every task is skipped otherwise). Each file is read once.
pub(super) fn content_uses_hostvars(playbook: &Playbook) -> bool {
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
            && crate::limits::read_text(f)
                .map(|s| s.contains("hostvars"))
                .unwrap_or(false)
    })
}

/// The implicit fact-gathering task at the start of a play, with the play's `gather_subset`,
/// `gather_timeout` and `fact_path`.
pub(super) fn gather_task(play: &Play) -> Task {
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

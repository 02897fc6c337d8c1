//! The executor: runs plays against hosts with the linear strategy (every host finishes a task
//! before any starts the next) or the free one (`free.rs`), hosts in parallel up to `forks`, and
//! reports [`Event`]s.

mod arg_errors;
mod async_job;
mod batch;
mod connect;
mod connect_docker;
mod connect_lxc;
mod connect_retry;
mod controller;
mod display;
mod facts;
mod failure;
mod free;
mod handlers;
mod include;
mod interrupted;
mod list;
mod locking;
mod looping;
pub(crate) mod loops;
mod meta;
mod options;
mod play;
mod prepare;
mod read_ahead;
mod record;
mod result;
mod resume;
mod run_task;
pub(crate) mod sequence;
mod state;
mod task;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use indexmap::IndexMap;

pub(crate) use connect::via_host;
pub(crate) use connect::ConnectionPool;
pub use connect::{ssh_options, transport_for};
pub(crate) use controller::TaskController;
pub use free::{strategy_named, Strategy};
pub use locking::LockTargets;
pub use options::RunOptions;
pub(crate) use state::{task_vars, HostState, PlayVars, VarsInput};

use crate::events::{Event, EventSink, HostStats};
use crate::inventory::{Inventory, InventoryError};
use crate::module::ModuleRegistry;
use crate::playbook::{Included, Play, Playbook, PlaybookError, Task};
use crate::template::{Templar, TemplateOptions};

/// Errors that stop a run (as opposed to task failures, which are results).
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// A host pattern could not be used.
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    /// Playbook content was wrong in a way found only at run time.
    #[error(transparent)]
    Playbook(#[from] PlaybookError),
    /// The deploy locks could not be taken; nothing ran (see [`crate::lock`]). Boxed: the
    /// error names the holder and is much larger than the other variants.
    #[error(transparent)]
    Lock(Box<crate::lock::LockError>),
}

impl From<crate::lock::LockError> for ExecError {
    fn from(e: crate::lock::LockError) -> Self {
        Self::Lock(Box::new(e))
    }
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// Per-host counters, in first-seen order.
    pub stats: Vec<(String, HostStats)>,
    /// ansible-playbook's exit code: 0 ok, 2 a host failed, 4 a host was unreachable, 99
    /// interrupted.
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
    /// An `any_errors_fatal` failure happened in the current play.
    fatal_hit: std::sync::atomic::AtomicBool,
    /// The run stops after the current play (ansible-core's break of the playbook: an
    /// `any_errors_fatal` failure, `max_fail_percentage` exceeded, a whole `serial` batch failed).
    break_run: std::sync::atomic::AtomicBool,
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
    /// Roles/files whose handlers are in `extra_handlers`, and where.
    pub handler_sources: Mutex<std::collections::HashMap<String, std::ops::Range<usize>>>,
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
                fatal_hit: std::sync::atomic::AtomicBool::new(false),
                break_run: std::sync::atomic::AtomicBool::new(false),
            }),
        }
    }

    fn emit(&self, event: Event) {
        self.shared.sink.emit(&event);
    }

    fn hosts(&self) -> MutexGuard<'_, IndexMap<String, HostState>> {
        self.shared.hosts.lock().unwrap_or_else(|e| e.into_inner())
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

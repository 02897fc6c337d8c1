//! Events the executor emits while it runs. Reporters (human text, JSON lines) consume them; the
//! executor itself never prints.

use std::sync::Mutex;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

use crate::vars::Value;

/// The outcome of a task (or one loop item) on one host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Ran, changed nothing.
    Ok,
    /// Ran and changed something (or would, in check mode).
    Changed,
    /// Failed (possibly ignored: see [`HostResult::ignored`]).
    Failed,
    /// Skipped by a condition.
    Skipped,
    /// The host could not be reached.
    Unreachable,
}

/// Per-host counters shown in the PLAY RECAP, as ansible-playbook counts them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize, JsonSchema)]
pub struct HostStats {
    /// Tasks that ran successfully (changed ones included).
    pub ok: u32,
    /// Tasks that changed something.
    pub changed: u32,
    /// Tasks that found the host unreachable.
    pub unreachable: u32,
    /// Tasks that failed (not ignored).
    pub failed: u32,
    /// Tasks skipped by a condition.
    pub skipped: u32,
    /// Failures handled by a `rescue` section.
    pub rescued: u32,
    /// Failures ignored with `ignore_errors`.
    pub ignored: u32,
}

/// The result of a task or loop item on one host.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HostResult {
    /// Inventory name of the host.
    pub host: String,
    /// Host the task was delegated to, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delegated_to: Option<String>,
    /// Outcome.
    pub status: Status,
    /// A failure that `ignore_errors` let pass.
    pub ignored: bool,
    /// Loop item label, for per-item results (empty for a loop's overall result, sent after
    /// its items').
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    /// The result as registered (censored when `no_log` is set).
    pub result: Value,
    /// For a failure: ansible-core 2.19's one-line account of it (`Task failed: Module failed:
    /// …`), which its output shows as `[ERROR]:` with the task's origin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Wall time on this host.
    #[serde(with = "duration_secs")]
    #[schemars(with = "f64")]
    pub duration: Duration,
}

/// What `--resume` can restore of a host (see `docs/RESUME.md`).
#[derive(Debug, Clone, Serialize)]
pub struct Checkpoint {
    /// Inventory name of the host.
    pub host: String,
    /// Index of the play in the playbook.
    pub play: usize,
    /// `register`/`set_fact` variables that may be written down (no `no_log`, no vault value).
    pub vars: crate::vars::Vars,
    /// Variables left out (set under `no_log`, or holding a vault-decrypted value).
    pub not_restorable: Vec<String>,
    /// Handlers notified and not run yet (names as `notify` resolves them).
    pub handlers: Vec<String>,
    /// Taken where the host stopped (failed or unreachable); later ones do not replace it.
    pub stopped: bool,
}

/// Something that happened during a run.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The run started.
    PlaybookStart {
        /// Playbook path.
        playbook: String,
        /// `--check` in force.
        check_mode: bool,
    },
    /// A play started.
    PlayStart {
        /// Play name.
        name: String,
        /// Hosts it targets, after `--limit`.
        hosts: Vec<String>,
    },
    /// A play's pattern matched no hosts.
    NoHostsMatched {
        /// Play name.
        name: String,
    },
    /// A task started on the play's remaining hosts.
    TaskStart {
        /// Task name as displayed.
        name: String,
        /// `file:line:col` of the task.
        location: String,
        /// This is a handler.
        handler: bool,
        /// Module the task runs (as written), if it runs one.
        #[serde(skip_serializing_if = "Option::is_none")]
        module: Option<String>,
        /// With the `free` strategy: the one host the task starts on (each host runs its
        /// tasks on its own, so start, results and end are per host).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        host: Option<String>,
        /// The hosts it runs on (one with the `free` strategy or `run_once`).
        hosts: Vec<String>,
    },
    /// A task finished on one host (or one loop item did).
    HostResult(HostResult),
    /// A task finished on all hosts.
    TaskEnd {
        /// Task name as displayed.
        name: String,
        /// With the `free` strategy: the host the task finished on.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        host: Option<String>,
        /// Wall time for all hosts.
        #[serde(with = "duration_secs")]
        #[schemars(with = "f64")]
        duration: Duration,
    },
    /// `include_tasks`/`include_role` brought in content for some hosts (ansible-playbook's
    /// `included: FILE for HOSTS` line); sent after the include task's host results.
    Included {
        /// The included file (absolute path) or role name.
        target: String,
        /// Hosts that include it, in the order they were evaluated.
        hosts: Vec<String>,
        /// Loop item label, when the include loops.
        #[serde(skip_serializing_if = "Option::is_none")]
        item: Option<String>,
    },
    /// A task's `until` condition did not hold yet: it runs again after its `delay`
    /// (ansible-playbook's `FAILED - RETRYING` line).
    Retry {
        /// Inventory name of the host.
        host: String,
        /// Host the task was delegated to, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        delegated_to: Option<String>,
        /// The task's own name (no role prefix).
        task: String,
        /// Attempts still allowed.
        retries_left: u64,
    },
    /// A warning for the user.
    Warning {
        /// The warning text.
        message: String,
    },
    /// The run was interrupted (Ctrl-C, SIGTERM): no new task started, the tasks in flight
    /// were abandoned (their remote commands stopped). The recap follows.
    Interrupted,
    /// A host's restorable state, for `--summary`/`--resume`: sent when the host fails or
    /// becomes unreachable, and for every host at the end of each play.
    #[schemars(skip)]
    HostCheckpoint(Checkpoint),
    /// The run ended; per-host counters.
    Recap {
        /// Hosts in first-seen order with their counters.
        hosts: Vec<(String, HostStats)>,
        /// Total wall time.
        #[serde(with = "duration_secs")]
        #[schemars(with = "f64")]
        duration: Duration,
    },
}

/// Receives events. Implementations must be cheap: the executor calls them inline.
pub trait EventSink: Send + Sync {
    /// Handles one event.
    fn emit(&self, event: &Event);
}

/// A sink that stores events in memory (for tests and embedding).
#[derive(Debug, Default)]
pub struct MemorySink {
    events: Mutex<Vec<Event>>,
}

impl MemorySink {
    /// All events received so far.
    pub fn events(&self) -> Vec<Event> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

impl EventSink for MemorySink {
    fn emit(&self, event: &Event) {
        if let Ok(mut e) = self.events.lock() {
            e.push(event.clone());
        }
    }
}

mod duration_secs {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
    }
}

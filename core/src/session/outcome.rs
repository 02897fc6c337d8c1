//! What a playbook run gives back: the recap, the exit code and (when asked for) every task's
//! result per host; and event sinks made from closures.

use std::sync::{Arc, Mutex};

use crate::events::{Event, EventSink, HostResult, HostStats};
use crate::executor::RunSummary;

/// One task's result on one host (one per loop item for looping tasks).
#[derive(Debug, Clone)]
pub struct TaskOutcome {
    /// The task's name as displayed (`role : name`).
    pub task: String,
    /// The module the task ran, if it ran one.
    pub module: Option<String>,
    /// The host's result.
    pub result: HostResult,
    /// This is a looping task's overall result (as registered: its `results` list holds the
    /// items'), which comes after the results of the single items.
    pub loop_aggregate: bool,
}

/// How a playbook run ended.
#[derive(Debug, Clone)]
pub struct PlaybookResult {
    /// Per-host counters, in first-seen order (the recap).
    pub recap: Vec<(String, HostStats)>,
    /// ansible-playbook's exit code: 0 ok, 2 a host failed, 4 a host was unreachable.
    pub exit_code: i32,
    /// Every task result in the order they came, when the session collects them
    /// ([`super::SessionBuilder::collect_results`]); empty otherwise.
    pub tasks: Vec<TaskOutcome>,
}

impl PlaybookResult {
    pub(crate) fn new(summary: RunSummary, tasks: Vec<TaskOutcome>) -> Self {
        Self {
            recap: summary.stats,
            exit_code: summary.exit_code,
            tasks,
        }
    }

    /// True when no host failed or was unreachable.
    pub fn success(&self) -> bool {
        self.exit_code == 0
    }
}

/// An [`EventSink`] that calls a closure for each event.
pub struct FnSink<F>(pub F);

impl<F: Fn(&Event) + Send + Sync> EventSink for FnSink<F> {
    fn emit(&self, event: &Event) {
        (self.0)(event)
    }
}

/// A task in progress: the host it runs on (free strategy; `None`: every host), its name and
/// module.
type Running = (Option<String>, String, Option<String>);

/// Passes events on to the session's sink and, if asked, records task results.
pub(crate) struct RunSink {
    pub inner: Arc<dyn EventSink>,
    pub collect: bool,
    /// The task each host is in (the free strategy starts tasks per host).
    current: Mutex<Vec<Running>>,
    tasks: Mutex<Vec<TaskOutcome>>,
}

impl RunSink {
    pub fn new(inner: Arc<dyn EventSink>, collect: bool) -> Self {
        Self {
            inner,
            collect,
            current: Mutex::new(Vec::new()),
            tasks: Mutex::new(Vec::new()),
        }
    }

    /// The results recorded so far.
    pub fn take(&self) -> Vec<TaskOutcome> {
        std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn record(&self, event: &Event) {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            Event::TaskStart {
                name, module, host, ..
            } => {
                current.retain(|(h, _, _)| h.is_some() && h != host);
                current.push((host.clone(), name.clone(), module.clone()));
            }
            Event::HostResult(result) => {
                let task = current
                    .iter()
                    .rev()
                    .find(|(h, _, _)| h.as_deref().is_none_or(|h| h == result.host))
                    .cloned();
                if let Some((_, task, module)) = task {
                    self.tasks
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(TaskOutcome {
                            task,
                            module,
                            loop_aggregate: result.item.as_deref() == Some(""),
                            result: result.clone(),
                        });
                }
            }
            _ => {}
        }
    }
}

impl EventSink for RunSink {
    fn emit(&self, event: &Event) {
        if self.collect {
            self.record(event);
        }
        self.inner.emit(event);
    }
}

/// A sink that drops every event.
pub(crate) struct NullSink;

impl EventSink for NullSink {
    fn emit(&self, _: &Event) {}
}

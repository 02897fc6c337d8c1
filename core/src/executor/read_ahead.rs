//! Reading the probes of a host's next tasks in one round trip (see [`crate::probe::ProbeCache`]).
//!
//! Before a task whose module declares its probes runs on a host, the executor asks the host's
//! cache how far to read ahead, then prepares the following tasks as execution does
//! ([`Executor::prepare_task`]) with the host's current variables — lookups refused, so nothing
//! runs early — and asks their modules what they will probe. One probe covers them all; each module later gets its own part without a
//! round trip, unless something changed in between. A task that cannot be planned this way ends
//! the window; one that will not run (tags, a false `when`) is passed over.

use super::prepare::{NotPrepared, Purpose, TaskSettings};
use super::{Executor, PlayCtx};
use crate::connection::HostConnection;
use crate::playbook::{Keywords, Task, TaskKind};
use crate::probe::{ProbeRequest, ReadAhead};

/// The tasks after the one running, in the same list, for reading their probes ahead.
#[derive(Clone, Copy)]
pub(crate) struct Upcoming<'a> {
    /// The following tasks.
    pub tasks: &'a [Task],
    /// The keywords they inherit.
    pub parent: &'a Keywords,
}

/// What a following task will probe when it runs.
enum Planned {
    /// These requests, first.
    Probes(Vec<ProbeRequest>),
    /// Nothing on this host (not selected, skipped by `when`, or a module that probes nothing).
    Nothing,
    /// Unknown: the read-ahead stops before this task.
    Unknown,
}

/// A task's identity for the read-ahead cache (stable while its task list lives).
fn task_key(task: &Task) -> usize {
    task as *const Task as usize
}

impl Executor {
    /// Reads ahead, before `task` runs on `host`, the probes of `task` (`requests`) and of as many
    /// following tasks as the host's cache asks for, in one round trip.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn read_ahead(
        &self,
        play: &PlayCtx<'_>,
        task: &Task,
        upcoming: Option<Upcoming<'_>>,
        host: &str,
        conn: &HostConnection,
        settings: &TaskSettings,
        requests: Vec<ProbeRequest>,
    ) {
        let Some(upcoming) = upcoming else {
            return;
        };
        let window = conn.read_ahead_window(task_key(task));
        if window < 2 {
            return;
        }
        let mut tasks = vec![ReadAhead {
            task: task_key(task),
            requests,
        }];
        for next in upcoming.tasks {
            if tasks.len() >= window {
                break;
            }
            match self.planned_probes(play, next, upcoming.parent, host, settings) {
                Planned::Probes(requests) => tasks.push(ReadAhead {
                    task: task_key(next),
                    requests,
                }),
                Planned::Nothing => {}
                Planned::Unknown => break,
            }
        }
        if tasks.len() > 1 {
            conn.read_ahead(tasks).await;
        }
    }

    /// What `task` will probe first when it runs on `host` after the current task (whose
    /// settings are `current`), judged with the host's variables as they are now.
    fn planned_probes(
        &self,
        play: &PlayCtx<'_>,
        task: &Task,
        parent: &Keywords,
        host: &str,
        current: &TaskSettings,
    ) -> Planned {
        use std::sync::atomic::Ordering;
        if !matches!(task.kind, TaskKind::Module { .. }) {
            return Planned::Unknown;
        }
        let interactive = self.shared.stepping.load(Ordering::Relaxed)
            || !self.shared.started.load(Ordering::Relaxed);
        if interactive || task.loop_.is_some() || task.delegate_to.is_some() {
            return Planned::Unknown;
        }
        let kw = task.keywords.inherit(parent);
        if !self.tags_allow(&kw) || ((task.run_once || play.play.run_once) && !play.free) {
            return Planned::Nothing;
        }
        let vars = self.vars_for(play, host, &kw, task.role.as_deref());
        match self.prepare_task(play, task, &kw, &vars, Purpose::ReadAhead) {
            Ok(prepared) if prepared.settings == *current => {
                match prepared.module.planned_probes(&prepared.args, current.diff) {
                    None => Planned::Unknown,
                    Some(requests) if requests.is_empty() => Planned::Nothing,
                    Some(requests) => Planned::Probes(requests),
                }
            }
            Err(NotPrepared::Skipped(_)) => Planned::Nothing,
            Ok(_) | Err(_) => Planned::Unknown,
        }
    }
}

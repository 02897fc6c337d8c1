//! `--resume`: where each host of an earlier run continues, and what it gets back.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use super::record::{HostEnd, RecordError, RunRecord, TaskId, TaskRecord};
use crate::vars::Vars;

/// Why a summary cannot be resumed.
#[derive(Debug, thiserror::Error)]
pub enum ResumeError {
    /// The summary file could not be read.
    #[error(transparent)]
    Record(#[from] RecordError),
    /// The playbook (or a file its tasks come from) changed since the summary was written.
    #[error("the playbook changed since the summary was written ({}); use --force-resume to resume anyway", files.join(", "))]
    Changed {
        /// The files that differ.
        files: Vec<String>,
    },
    /// The summary is of another playbook.
    #[error("the summary is of playbook {recorded}, not {given}")]
    OtherPlaybook {
        /// The summary's playbook.
        recorded: String,
        /// The playbook given.
        given: String,
    },
}

/// One host's way back to where it stopped.
#[derive(Debug)]
struct HostPlan {
    /// Tasks it got past, in order: a resumed run does not run them again.
    done: Vec<TaskRecord>,
    /// How many of `done` the resumed run has passed.
    cursor: usize,
    /// Still passing tasks it did before.
    forwarding: bool,
    /// It finished: a resumed run leaves it out.
    finished: bool,
    /// Variables to restore (taken once).
    vars: Option<Vars>,
    /// Handlers to notify again when it reaches its first task to run.
    handlers: Vec<String>,
}

/// What a resumed run does with a task on a host.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// The host did it before: leave it out.
    Skip,
    /// Run it on the host; `handlers` are to be notified again first (non-empty only the
    /// first time the host runs a task).
    Run {
        /// Handlers that were pending when the host stopped.
        handlers: Vec<String>,
    },
}

/// The progress of an earlier run, for a run that resumes it.
#[derive(Debug)]
pub struct ResumePlan {
    record: RunRecord,
    hosts: Mutex<HashMap<String, HostPlan>>,
}

impl ResumePlan {
    /// Reads `summary`; refuses when the playbook or a file its tasks came from changed since,
    /// unless `force`.
    pub fn load(summary: &Path, playbook: &Path, force: bool) -> Result<Self, ResumeError> {
        let record = RunRecord::load(summary)?;
        let same = |a: &Path, b: &Path| match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
            (Ok(a), Ok(b)) => a == b,
            _ => a == b,
        };
        if !same(Path::new(&record.playbook), playbook) {
            return Err(ResumeError::OtherPlaybook {
                recorded: record.playbook.clone(),
                given: playbook.display().to_string(),
            });
        }
        let changed = record.changed_files();
        if !changed.is_empty() && !force {
            return Err(ResumeError::Changed { files: changed });
        }
        Ok(Self::new(record))
    }

    /// A plan from a summary already read.
    pub fn new(record: RunRecord) -> Self {
        let hosts = record
            .hosts
            .iter()
            .map(|(name, h)| {
                let done: Vec<TaskRecord> =
                    h.tasks.iter().take_while(|t| t.done()).cloned().collect();
                let plan = HostPlan {
                    done,
                    cursor: 0,
                    forwarding: true,
                    finished: h.end == HostEnd::Finished,
                    vars: Some(h.vars.clone()),
                    handlers: h.pending_handlers.clone(),
                };
                (name.clone(), plan)
            })
            .collect();
        Self {
            record,
            hosts: Mutex::new(hosts),
        }
    }

    /// The summary the plan was made from.
    pub fn record(&self) -> &RunRecord {
        &self.record
    }

    /// Whether `host` finished in the earlier run (a resumed run leaves it out).
    pub fn finished(&self, host: &str) -> bool {
        self.lock().get(host).is_some_and(|h| h.finished)
    }

    /// The variables to restore on `host`, once.
    pub fn take_vars(&self, host: &str) -> Option<Vars> {
        self.lock().get_mut(host).and_then(|h| h.vars.take())
    }

    /// What to do with task `id` on `host`. `always` tasks (fact gathering) run even when the
    /// host did them before.
    pub fn step(&self, host: &str, id: &TaskId, always: bool) -> Step {
        let mut hosts = self.lock();
        let Some(h) = hosts.get_mut(host) else {
            return Step::Run {
                handlers: Vec::new(),
            };
        };
        if !h.forwarding {
            return Step::Run {
                handlers: Vec::new(),
            };
        }
        // Includes and `meta` are done again by the resumed run; handlers that ran are not
        // notified again, so their turn never comes while the host forwards.
        while let Some(t) = h.done.get(h.cursor) {
            if t.id.same_task(id) || !(t.control || (t.id.handler && !id.handler)) {
                break;
            }
            h.cursor += 1;
        }
        let matched = h.done.get(h.cursor).is_some_and(|t| t.id.same_task(id));
        if matched {
            h.cursor += 1;
            if !always {
                return Step::Skip;
            }
            if h.cursor < h.done.len() {
                return Step::Run {
                    handlers: Vec::new(),
                };
            }
        }
        h.forwarding = false;
        Step::Run {
            handlers: std::mem::take(&mut h.handlers),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, HostPlan>> {
        self.hosts.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::super::record::{HostRecord, TaskStatus, SUMMARY_FORMAT};
    use super::*;

    fn id(play: usize, line: u32, handler: bool) -> TaskId {
        TaskId {
            play,
            location: format!("site.yml:{line}:7"),
            handler,
            name: format!("task {line}"),
        }
    }

    fn rec(id: TaskId, status: TaskStatus, control: bool) -> TaskRecord {
        TaskRecord {
            id,
            status,
            changed: false,
            ignored: false,
            control,
            start: 0.0,
            duration: 0.0,
        }
    }

    fn plan(tasks: Vec<TaskRecord>, end: HostEnd) -> ResumePlan {
        let mut hosts = indexmap::IndexMap::new();
        let mut vars = Vars::new();
        vars.insert("out".into(), serde_json::json!({"rc": 0}));
        hosts.insert(
            "h1".to_string(),
            HostRecord {
                end,
                stats: None,
                tasks,
                play: 0,
                vars,
                not_restorable: Vec::new(),
                pending_handlers: vec!["restart".into()],
            },
        );
        ResumePlan::new(RunRecord {
            format: SUMMARY_FORMAT,
            playbook: "site.yml".into(),
            checksum: String::new(),
            files: Default::default(),
            check_mode: false,
            interrupted: false,
            started_at: 0.0,
            duration: 0.0,
            hosts,
        })
    }

    #[test]
    fn a_failed_host_continues_at_its_failed_task_with_its_handlers() {
        let p = plan(
            vec![
                rec(id(0, 1, false), TaskStatus::Ok, false),
                rec(id(0, 2, false), TaskStatus::Changed, false),
                rec(id(0, 3, false), TaskStatus::Ok, true),
                rec(id(0, 9, true), TaskStatus::Changed, false),
                rec(id(0, 4, false), TaskStatus::Skipped, false),
                rec(id(0, 5, false), TaskStatus::Failed, false),
                rec(id(0, 6, false), TaskStatus::NotRun, false),
            ],
            HostEnd::Failed,
        );
        assert!(!p.finished("h1"));
        assert!(p.take_vars("h1").is_some_and(|v| v.contains_key("out")));
        assert!(p.take_vars("h1").is_none());
        // Fact gathering runs again, the cursor moves on.
        let run = Step::Run { handlers: vec![] };
        assert_eq!(p.step("h1", &id(0, 1, false), true), run);
        assert_eq!(p.step("h1", &id(0, 2, false), false), Step::Skip);
        // The include (line 3) runs again without a step; the handler that ran is passed.
        assert_eq!(p.step("h1", &id(0, 4, false), false), Step::Skip);
        assert_eq!(
            p.step("h1", &id(0, 5, false), false),
            Step::Run {
                handlers: vec!["restart".into()]
            }
        );
        assert_eq!(p.step("h1", &id(0, 6, false), false), run);
        // Hosts the summary does not know run everything.
        assert_eq!(p.step("other", &id(0, 2, false), false), run);
    }

    #[test]
    fn a_different_task_ends_forwarding() {
        let p = plan(
            vec![
                rec(id(0, 1, false), TaskStatus::Ok, false),
                rec(id(0, 2, false), TaskStatus::Ok, false),
            ],
            HostEnd::Stopped,
        );
        assert_eq!(p.step("h1", &id(0, 1, false), false), Step::Skip);
        assert!(matches!(
            p.step("h1", &id(0, 7, false), false),
            Step::Run { .. }
        ));
        assert!(matches!(
            p.step("h1", &id(0, 2, false), false),
            Step::Run { .. }
        ));
    }

    #[test]
    fn finished_hosts_are_known() {
        let p = plan(
            vec![rec(id(0, 1, false), TaskStatus::Ok, false)],
            HostEnd::Finished,
        );
        assert!(p.finished("h1"));
        assert!(!p.finished("h2"));
    }
}

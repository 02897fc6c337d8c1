//! [`SummaryRecorder`]: an event consumer that writes the `--summary` file when the run ends.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use indexmap::IndexMap;

use super::record::{
    file_checksum, stable_location, HostEnd, HostRecord, RunRecord, TaskId, TaskRecord, TaskStatus,
    SUMMARY_FORMAT,
};
use crate::events::{Checkpoint, Event, EventSink, HostStats, Status};

/// Records a run's progress from its events and writes the summary file atomically when the
/// run ends (its recap), whether it succeeded, failed or was interrupted. Forwards every event
/// to the sink it wraps.
pub struct SummaryRecorder {
    path: PathBuf,
    inner: Arc<dyn EventSink>,
    state: Mutex<State>,
    /// The summary a resumed run continues: what its hosts did before is kept.
    base: Option<RunRecord>,
}

#[derive(Default)]
struct State {
    playbook: String,
    check_mode: bool,
    started_at: f64,
    start: Option<Instant>,
    /// Index of the current play (plays seen minus one).
    play: Option<usize>,
    hosts: IndexMap<String, HostBuild>,
    files: BTreeMap<String, String>,
    /// Hosts with a task started and no result yet: index into their tasks.
    open: HashMap<String, usize>,
    written: bool,
    /// The run was interrupted ([`SummaryRecorder::mark_interrupted`]).
    interrupted: bool,
    /// The record last written.
    last: Option<RunRecord>,
    error: Option<String>,
}

#[derive(Default)]
struct HostBuild {
    tasks: Vec<TaskRecord>,
    checkpoint: Option<Checkpoint>,
}

impl SummaryRecorder {
    /// A recorder writing `path`, forwarding events to `inner`.
    pub fn new(path: PathBuf, inner: Arc<dyn EventSink>) -> Self {
        Self {
            path,
            inner,
            state: Mutex::new(State::default()),
            base: None,
        }
    }

    /// For a resumed run: the summary written keeps what `base` recorded before the tasks of
    /// this run (each host's passed tasks, and the hosts this run left out), so that it can be
    /// resumed in turn.
    pub fn resuming(mut self, base: Option<RunRecord>) -> Self {
        self.base = base;
        self
    }

    /// Whether the summary was written, or why it could not be.
    pub fn outcome(&self) -> Result<bool, String> {
        let s = self.lock();
        match &s.error {
            Some(e) => Err(e.clone()),
            None => Ok(s.written),
        }
    }

    /// Records that the run was interrupted (Ctrl-C): no host counts as finished, so that
    /// `--resume` takes every host up where it stopped (a host that had in fact done everything
    /// passes all its tasks). Rewrites the summary if it was already written.
    pub fn mark_interrupted(&self) {
        let mut s = self.lock();
        s.interrupted = true;
        let Some(mut record) = s.last.take() else {
            return;
        };
        mark_stopped(&mut record);
        match record.save(&self.path) {
            Ok(()) => s.error = None,
            Err(e) => s.error = Some(e.to_string()),
        }
        s.last = Some(record);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn record(&self, event: &Event) {
        let mut s = self.lock();
        match event {
            Event::PlaybookStart {
                playbook,
                check_mode,
            } => {
                *s = State {
                    playbook: playbook.clone(),
                    check_mode: *check_mode,
                    started_at: SystemTime::now()
                        .duration_since(SystemTime::UNIX_EPOCH)
                        .map(|d| d.as_secs_f64())
                        .unwrap_or(0.0),
                    start: Some(Instant::now()),
                    ..State::default()
                };
            }
            Event::PlayStart { .. } | Event::NoHostsMatched { .. } => {
                s.play = Some(s.play.map_or(0, |p| p + 1));
            }
            Event::TaskStart {
                name,
                location,
                handler,
                module,
                hosts,
                ..
            } => {
                let elapsed = s.start.map(|t| t.elapsed().as_secs_f64()).unwrap_or(0.0);
                let location = stable_location(location);
                let id = TaskId {
                    play: s.play.unwrap_or(0),
                    location: location.clone(),
                    handler: *handler,
                    name: name.clone(),
                };
                if let Some(file) = source_file(&location) {
                    if !s.files.contains_key(file) {
                        if let Some(sum) = file_checksum(std::path::Path::new(file)) {
                            s.files.insert(file.to_string(), sum);
                        }
                    }
                }
                for h in hosts {
                    let host = s.hosts.entry(h.clone()).or_default();
                    host.tasks.push(TaskRecord {
                        id: id.clone(),
                        status: TaskStatus::NotRun,
                        changed: false,
                        ignored: false,
                        control: module.is_none(),
                        start: (elapsed * 1000.0).round() / 1000.0,
                        duration: 0.0,
                    });
                    let index = host.tasks.len() - 1;
                    s.open.insert(h.clone(), index);
                }
            }
            Event::HostResult(r) if r.item.as_deref().is_none_or(str::is_empty) => {
                let Some(index) = s.open.remove(&r.host) else {
                    return;
                };
                let Some(task) = s
                    .hosts
                    .get_mut(&r.host)
                    .and_then(|h| h.tasks.get_mut(index))
                else {
                    return;
                };
                task.status = match r.status {
                    Status::Ok => TaskStatus::Ok,
                    Status::Changed => TaskStatus::Changed,
                    Status::Failed => TaskStatus::Failed,
                    Status::Skipped => TaskStatus::Skipped,
                    Status::Unreachable => TaskStatus::Unreachable,
                };
                task.changed = r.status == Status::Changed
                    || r.result.get("changed") == Some(&serde_json::Value::Bool(true));
                task.ignored = r.ignored;
                task.duration = (r.duration.as_secs_f64() * 1000.0).round() / 1000.0;
            }
            Event::HostCheckpoint(c) => {
                let host = s.hosts.entry(c.host.clone()).or_default();
                // The state where a host stopped is what a resumed run needs: a later
                // (end of play) checkpoint no longer has its pending handlers.
                if !host.checkpoint.as_ref().is_some_and(|old| old.stopped) {
                    host.checkpoint = Some(c.clone());
                }
            }
            Event::Recap { hosts, duration } => {
                let mut record = s.build(hosts, duration.as_secs_f64());
                if let Some(base) = &self.base {
                    merge_base(&mut record, base);
                }
                if s.interrupted {
                    mark_stopped(&mut record);
                }
                drop(s);
                let result = record.save(&self.path);
                let mut s = self.lock();
                s.last = Some(record);
                match result {
                    Ok(()) => {
                        s.written = true;
                        s.error = None;
                    }
                    Err(e) => s.error = Some(e.to_string()),
                }
            }
            _ => {}
        }
    }
}

impl State {
    fn build(&mut self, recap: &[(String, HostStats)], duration: f64) -> RunRecord {
        let stats: HashMap<&str, HostStats> =
            recap.iter().map(|(h, st)| (h.as_str(), *st)).collect();
        let hosts = self
            .hosts
            .iter()
            .map(|(name, h)| {
                let st = stats.get(name.as_str()).copied();
                let any = |status| h.tasks.iter().any(|t| t.status == status);
                let end = if st.is_some_and(|s| s.unreachable > 0) || any(TaskStatus::Unreachable) {
                    HostEnd::Unreachable
                } else if st.is_some_and(|s| s.failed > 0) {
                    HostEnd::Failed
                } else if any(TaskStatus::NotRun) {
                    HostEnd::Stopped
                } else {
                    HostEnd::Finished
                };
                let c = h.checkpoint.clone();
                let record = HostRecord {
                    end,
                    stats: st,
                    tasks: h.tasks.clone(),
                    play: c.as_ref().map_or(0, |c| c.play),
                    vars: c.as_ref().map(|c| c.vars.clone()).unwrap_or_default(),
                    not_restorable: c
                        .as_ref()
                        .map(|c| c.not_restorable.clone())
                        .unwrap_or_default(),
                    pending_handlers: c.map(|c| c.handlers).unwrap_or_default(),
                };
                (name.clone(), record)
            })
            .collect();
        let playbook = std::path::absolute(&self.playbook)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| self.playbook.clone());
        RunRecord {
            format: SUMMARY_FORMAT,
            checksum: file_checksum(std::path::Path::new(&playbook)).unwrap_or_default(),
            playbook,
            files: self.files.clone(),
            check_mode: self.check_mode,
            interrupted: false,
            started_at: self.started_at,
            duration: (duration * 1000.0).round() / 1000.0,
            hosts,
        }
    }
}

/// An interrupted run: no host finished.
fn mark_stopped(record: &mut RunRecord) {
    record.interrupted = true;
    for h in record.hosts.values_mut() {
        if h.end == HostEnd::Finished {
            h.end = HostEnd::Stopped;
        }
    }
}

/// Puts what `base` recorded before a resumed run in front of what the run did.
fn merge_base(record: &mut RunRecord, base: &RunRecord) {
    let mut hosts = IndexMap::new();
    for (name, old) in &base.hosts {
        match record.hosts.shift_remove(name) {
            Some(mut new) => {
                let mut tasks: Vec<TaskRecord> =
                    old.tasks.iter().take_while(|t| t.done()).cloned().collect();
                tasks.append(&mut new.tasks);
                new.tasks = tasks;
                hosts.insert(name.clone(), new);
            }
            None => {
                hosts.insert(name.clone(), old.clone());
            }
        }
    }
    hosts.extend(std::mem::take(&mut record.hosts));
    record.hosts = hosts;
    for (file, sum) in &base.files {
        record
            .files
            .entry(file.clone())
            .or_insert_with(|| sum.clone());
    }
}

/// The file part of a `file:line:col` location.
fn source_file(location: &str) -> Option<&str> {
    let mut parts = location.rsplitn(3, ':');
    let (_col, _line, file) = (parts.next()?, parts.next()?, parts.next()?);
    (!file.is_empty()).then_some(file)
}

impl EventSink for SummaryRecorder {
    fn emit(&self, event: &Event) {
        // The executor says so before its recap when Ctrl-C stopped the run.
        if matches!(event, Event::Interrupted) {
            self.mark_interrupted();
        }
        self.record(event);
        self.inner.emit(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{HostResult, MemorySink};
    use std::time::Duration;

    fn start(name: &str, line: u32, hosts: &[&str]) -> Event {
        Event::TaskStart {
            name: name.into(),
            location: format!("/pb/site.yml:{line}:7"),
            handler: false,
            module: Some("command".into()),
            host: None,
            hosts: hosts.iter().map(|h| h.to_string()).collect(),
        }
    }

    fn result(host: &str, status: Status) -> Event {
        Event::HostResult(HostResult {
            host: host.into(),
            delegated_to: None,
            status,
            ignored: false,
            item: None,
            result: serde_json::json!({"changed": status == Status::Changed}),
            error: None,
            duration: Duration::from_millis(120),
        })
    }

    #[test]
    fn records_tasks_checkpoints_and_writes_at_recap() {
        let dir = tempfile::tempdir().unwrap();
        let pb = dir.path().join("site.yml");
        std::fs::write(&pb, "- hosts: all\n").unwrap();
        let out = dir.path().join("summary.json");
        let memory = Arc::new(MemorySink::default());
        let rec = SummaryRecorder::new(out.clone(), memory.clone());
        let mut vars = crate::vars::Vars::new();
        vars.insert("out".into(), serde_json::json!({"rc": 0}));
        let checkpoint = |host: &str, stopped: bool, handlers: Vec<String>| {
            Event::HostCheckpoint(Checkpoint {
                host: host.into(),
                play: 0,
                vars: vars.clone(),
                not_restorable: vec!["secret".into()],
                handlers,
                stopped,
            })
        };
        let failed = HostStats {
            failed: 1,
            ok: 1,
            ..HostStats::default()
        };
        let ok = HostStats {
            ok: 2,
            changed: 1,
            ..HostStats::default()
        };
        for e in [
            Event::PlaybookStart {
                playbook: pb.display().to_string(),
                check_mode: false,
            },
            Event::PlayStart {
                name: "p".into(),
                hosts: vec!["a".into(), "b".into()],
            },
            start("one", 3, &["a", "b"]),
            result("a", Status::Changed),
            result("b", Status::Ok),
            start("two", 5, &["a", "b"]),
            checkpoint("b", true, vec!["restart".into()]),
            result("b", Status::Failed),
            result("a", Status::Ok),
            checkpoint("a", false, vec![]),
            checkpoint("b", false, vec![]),
            Event::Recap {
                hosts: vec![("a".into(), ok), ("b".into(), failed)],
                duration: Duration::from_secs(1),
            },
        ] {
            rec.emit(&e);
        }
        assert_eq!(memory.events().len(), 12, "events are forwarded");
        assert_eq!(rec.outcome(), Ok(true));
        let record = RunRecord::load(&out).unwrap();
        let a = &record.hosts["a"];
        assert_eq!(a.end, HostEnd::Finished);
        assert_eq!(a.tasks.len(), 2);
        assert_eq!(a.tasks[0].status, TaskStatus::Changed);
        assert!(a.tasks[0].changed);
        assert_eq!(a.tasks[0].duration, 0.12);
        let b = &record.hosts["b"];
        assert_eq!(b.end, HostEnd::Failed);
        assert_eq!(b.tasks[1].status, TaskStatus::Failed);
        assert_eq!(b.tasks[1].id.location, "/pb/site.yml:5:7");
        assert!(
            record.files.is_empty(),
            "files that cannot be read have no checksum"
        );
        assert_eq!(b.tasks[1].id.play, 0);
        assert_eq!(b.pending_handlers, vec!["restart".to_string()]);
        assert_eq!(b.not_restorable, vec!["secret".to_string()]);
        assert_eq!(b.vars["out"]["rc"], 0);
        assert_eq!(record.checksum, file_checksum(&pb).unwrap());
        rec.mark_interrupted();
        let record = RunRecord::load(&out).unwrap();
        assert!(record.interrupted);
        assert_eq!(record.hosts["a"].end, HostEnd::Stopped);
        assert_eq!(record.hosts["b"].end, HostEnd::Failed);
    }

    #[test]
    fn the_executors_interrupted_event_marks_no_host_finished() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("s.json");
        let rec = SummaryRecorder::new(out.clone(), Arc::new(MemorySink::default()));
        let ok = HostStats {
            ok: 1,
            ..HostStats::default()
        };
        for e in [
            Event::PlaybookStart {
                playbook: "site.yml".into(),
                check_mode: false,
            },
            Event::PlayStart {
                name: "p".into(),
                hosts: vec!["a".into()],
            },
            start("t", 3, &["a"]),
            result("a", Status::Ok),
            Event::Interrupted,
            Event::Recap {
                hosts: vec![("a".into(), ok)],
                duration: Duration::from_secs(1),
            },
        ] {
            rec.emit(&e);
        }
        let record = RunRecord::load(&out).unwrap();
        assert!(record.interrupted);
        assert_eq!(record.hosts["a"].end, HostEnd::Stopped);
    }

    #[test]
    fn a_task_without_result_is_not_run_and_plays_are_counted() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("s.json");
        let rec = SummaryRecorder::new(out.clone(), Arc::new(MemorySink::default()));
        for e in [
            Event::PlaybookStart {
                playbook: "site.yml".into(),
                check_mode: true,
            },
            Event::NoHostsMatched { name: "p0".into() },
            Event::PlayStart {
                name: "p1".into(),
                hosts: vec!["a".into()],
            },
            start("one", 3, &["a"]),
            Event::Recap {
                hosts: vec![],
                duration: Duration::from_secs(1),
            },
        ] {
            rec.emit(&e);
        }
        let record = RunRecord::load(&out).unwrap();
        assert!(record.check_mode);
        let a = &record.hosts["a"];
        assert_eq!(a.end, HostEnd::Stopped);
        assert_eq!(a.tasks[0].status, TaskStatus::NotRun);
        assert_eq!(a.tasks[0].id.play, 1);
    }
}

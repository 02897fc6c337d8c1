//! Read-ahead: the probes of a host's upcoming tasks, read in one round trip and served to the
//! modules that then ask for exactly them — only while nothing that could change any host has
//! happened since they were read.
//!
//! Every host's cache of a run shares one change counter. Anything that may change a target (a
//! command, an upload, a task whose module does not declare its probes) bumps it before and
//! after it acts, and a result read under an older count is never served. So a served result is
//! what the probe would have returned at that moment, unless something outside drover changed the
//! host in between — the same window every check-then-act tool has, kept short by
//! [`MAX_AGE`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::{PathStat, ProbeRequest};
use crate::connection::Become;

/// Read-ahead results older than this are not served.
pub const MAX_AGE: Duration = Duration::from_secs(10);

/// The most tasks one read-ahead covers.
pub const MAX_WINDOW: usize = 64;

/// The first read-ahead of a run (nothing known yet: a cold run wastes one).
const FIRST_WINDOW: usize = 8;

/// How much a window grows when nothing changed since the last one.
const GROWTH: usize = 8;

/// Counts possible changes to the targets of one run (see the module documentation).
#[derive(Debug, Default)]
pub struct ChangeCounter(AtomicU64);

impl ChangeCounter {
    fn current(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }

    /// Marks a possible change now and again when the returned guard drops (when the action that
    /// may change a host has finished, failed or been abandoned).
    pub fn changing(self: &Arc<Self>) -> ChangeGuard {
        self.0.fetch_add(1, Ordering::SeqCst);
        ChangeGuard(Some(self.clone()))
    }
}

/// Bumps the change counter once more when dropped; see [`ChangeCounter::changing`].
#[must_use = "the guard marks the end of the change when it drops"]
pub struct ChangeGuard(Option<Arc<ChangeCounter>>);

impl ChangeGuard {
    /// A guard that marks nothing (no read-ahead in use).
    pub fn none() -> Self {
        Self(None)
    }
}

impl Drop for ChangeGuard {
    fn drop(&mut self) {
        if let Some(counter) = &self.0 {
            counter.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Who a probe runs as: results read as one user are never served to another.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProbeIdentity {
    /// The become settings in force.
    pub become_: Option<Become>,
    /// The task's environment.
    pub env: Vec<(String, String)>,
}

/// One host's read-ahead results.
#[derive(Debug)]
pub struct ProbeCache {
    changes: Arc<ChangeCounter>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    entries: Vec<Entry>,
    /// The change count when this host last started a task without read-ahead results.
    last_seen: Option<u64>,
    /// Tasks covered by the last read-ahead.
    window: usize,
}

#[derive(Debug)]
struct Entry {
    task: usize,
    identity: ProbeIdentity,
    requests: Vec<ProbeRequest>,
    stats: Vec<PathStat>,
    count: u64,
    read_at: Instant,
}

/// Probe results read ahead for one task.
#[derive(Debug)]
pub struct ReadAhead {
    /// The task (an identity the executor chooses, stable while the task list lives).
    pub task: usize,
    /// What the task's module will ask for first.
    pub requests: Vec<ProbeRequest>,
}

impl ProbeCache {
    /// An empty cache whose results are invalidated by `changes`.
    pub fn new(changes: Arc<ChangeCounter>) -> Self {
        Self {
            changes,
            state: Mutex::new(State::default()),
        }
    }

    /// The run's change counter.
    pub fn changes(&self) -> &Arc<ChangeCounter> {
        &self.changes
    }

    fn state(&self) -> MutexGuard<'_, State> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = self.changes.current();
        state
            .entries
            .retain(|e| e.count == now && e.read_at.elapsed() < MAX_AGE);
        state
    }

    /// How many tasks, starting with `task`, to read ahead for before it runs: 0 when results
    /// for `task` are at hand; `FIRST_WINDOW` on the host's first task; 1 (just the task
    /// itself: no point reading ahead) after a change; and `GROWTH` times the last window when
    /// nothing changed since it, up to `MAX_WINDOW`. A run that changes every task therefore
    /// reads ahead once, and a run that changes nothing reads 8, 64, 64, … tasks per round trip.
    pub fn window_for(&self, task: usize) -> usize {
        let now = self.changes.current();
        let mut state = self.state();
        if state.entries.iter().any(|e| e.task == task) {
            return 0;
        }
        state.window = match state.last_seen {
            None => FIRST_WINDOW,
            Some(seen) if seen == now => (state.window * GROWTH).clamp(GROWTH, MAX_WINDOW),
            Some(_) => 1,
        };
        state.last_seen = Some(now);
        state.window
    }

    /// The change count to stamp results with: read it before the probe starts.
    pub fn count(&self) -> u64 {
        self.changes.current()
    }

    /// Keeps the results of a read-ahead that started at change count `count`.
    pub fn store(
        &self,
        count: u64,
        identity: &ProbeIdentity,
        tasks: Vec<ReadAhead>,
        mut stats: Vec<PathStat>,
    ) {
        let mut state = self.state();
        let read_at = Instant::now();
        for ReadAhead { task, requests } in tasks {
            let rest = stats.split_off(requests.len().min(stats.len()));
            state.entries.push(Entry {
                task,
                identity: identity.clone(),
                requests,
                stats: std::mem::replace(&mut stats, rest),
                count,
                read_at,
            });
        }
    }

    /// The results read ahead for exactly `requests` as `identity`, if still valid; each result
    /// is served once.
    pub fn take(
        &self,
        identity: &ProbeIdentity,
        requests: &[ProbeRequest],
    ) -> Option<Vec<PathStat>> {
        let mut state = self.state();
        let i = state
            .entries
            .iter()
            .position(|e| e.requests == requests && e.identity == *identity)?;
        Some(state.entries.remove(i).stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(path: &str) -> PathStat {
        PathStat {
            path: path.into(),
            info: None,
        }
    }

    fn ahead(task: usize, path: &str) -> ReadAhead {
        ReadAhead {
            task,
            requests: vec![ProbeRequest::new(path)],
        }
    }

    #[test]
    fn windows_grow_while_nothing_changes_and_reset_after_a_change() {
        let changes = Arc::new(ChangeCounter::default());
        let cache = ProbeCache::new(changes.clone());
        assert_eq!(cache.window_for(1), FIRST_WINDOW);
        assert_eq!(cache.window_for(9), MAX_WINDOW);
        drop(changes.changing());
        assert_eq!(cache.window_for(10), 1);
        assert_eq!(cache.window_for(11), GROWTH);
        assert_eq!(cache.window_for(19), MAX_WINDOW);
        assert_eq!(cache.window_for(83), MAX_WINDOW);
        drop(changes.changing());
        assert_eq!(cache.window_for(84), 1);
    }

    #[test]
    fn results_are_served_once_to_the_same_identity_until_a_change() {
        let changes = Arc::new(ChangeCounter::default());
        let cache = ProbeCache::new(changes.clone());
        let me = ProbeIdentity::default();
        let other = ProbeIdentity {
            become_: Some(Become::default()),
            env: Vec::new(),
        };
        let count = cache.count();
        cache.store(
            count,
            &me,
            vec![ahead(1, "/a"), ahead(2, "/b")],
            vec![stat("/a"), stat("/b")],
        );
        assert_eq!(cache.window_for(2), 0, "task 2 is covered");
        let b = [ProbeRequest::new("/b")];
        assert!(cache.take(&other, &b).is_none(), "another user");
        assert_eq!(cache.take(&me, &b).unwrap()[0].path, "/b");
        assert!(cache.take(&me, &b).is_none(), "served once");
        let guard = changes.changing();
        assert!(cache.take(&me, &[ProbeRequest::new("/a")]).is_none());
        drop(guard);
    }

    #[test]
    fn results_read_while_something_changed_are_never_served() {
        let changes = Arc::new(ChangeCounter::default());
        let cache = ProbeCache::new(changes.clone());
        let me = ProbeIdentity::default();
        let count = cache.count();
        let guard = changes.changing();
        // The probe ran while the change was under way.
        cache.store(count, &me, vec![ahead(1, "/a")], vec![stat("/a")]);
        drop(guard);
        assert!(cache.take(&me, &[ProbeRequest::new("/a")]).is_none());
        assert_eq!(cache.window_for(1), FIRST_WINDOW);
        assert_eq!(cache.window_for(2), MAX_WINDOW);
    }
}

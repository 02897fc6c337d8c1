//! Deploy locks: one deployer at a time per host (see `docs/LOCKING.md`).
//!
//! A lock is a directory created with `mkdir` (atomic on every POSIX file system) under a lock
//! directory on the target, holding an `info` file ([`LockInfo`]). A run takes the lock of every
//! target host before its first task ([`LockSet::acquire`]), in one global order (sorted host
//! names, a named lock first) so that of two runs started at the same instant one gets all its
//! locks and the other none; it refuses, releasing what it took, when any is held by someone
//! else. `drover lock acquire` takes a [`LockKind::Held`] token kept across runs: runs by the
//! same owner then take a nested `run` lock inside it, others are refused.

mod config;
mod info;
mod remote;

use std::sync::Arc;
use std::time::Duration;

pub use config::LockConfig;
pub use info::{
    format_duration, format_utc, now_secs, parse_duration, LockInfo, LockKind, Staleness,
};
pub use remote::{lock_path, LockOps, LockState, LockTarget, Taken};

use crate::interrupt::Interrupt;

/// Default directory of the locks on targets (persistent, so a held token or a run's lock
/// survives a reboot of the host).
pub const DEFAULT_LOCK_DIR: &str = "/var/lib/drover/locks";
/// Default expiry of a run's lock (a lock older than this is reported as stale).
pub const DEFAULT_RUN_TTL: Duration = Duration::from_secs(6 * 3600);
/// Default expiry of a held token.
pub const DEFAULT_HELD_TTL: Duration = Duration::from_secs(12 * 3600);
/// File name of the per-host lock in the lock directory.
pub const HOST_LOCK: &str = "host";

/// A lock on one designated host that every run takes ("one deployer for all servers").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedLock {
    /// Lock name (`deploy`): letters, digits, `.`, `_`, `-`.
    pub name: String,
    /// Inventory host that keeps it.
    pub host: String,
}

/// How a run locks its hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockSettings {
    /// Absolute directory on the targets that holds the locks.
    pub dir: String,
    /// Holder name written in the info file.
    pub owner: String,
    /// Poll this long for held locks to be released before refusing.
    pub wait: Option<Duration>,
    /// After this, the lock counts as stale.
    pub ttl: Duration,
    /// Also take this named lock (first).
    pub named: Option<NamedLock>,
}

impl Default for LockSettings {
    fn default() -> Self {
        Self {
            dir: DEFAULT_LOCK_DIR.into(),
            owner: default_owner(),
            wait: None,
            ttl: DEFAULT_RUN_TTL,
            named: None,
        }
    }
}

/// Checks a lock name.
pub fn valid_lock_name(name: &str) -> Result<(), String> {
    if name.is_empty()
        || name == HOST_LOCK
        || name.starts_with('.')
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    {
        return Err(format!(
            "bad lock name '{name}': use letters, digits, '.', '_' and '-' (not '{HOST_LOCK}', which is the per-host lock)"
        ));
    }
    Ok(())
}

/// Checks a lock directory.
pub fn valid_lock_dir(dir: &str) -> Result<(), String> {
    if !dir.starts_with('/') || dir.contains('\n') || dir.trim_end_matches('/').is_empty() {
        return Err(format!(
            "bad lock directory '{dir}': it must be an absolute path other than /"
        ));
    }
    Ok(())
}

/// `user@controller`: the login name (`$USER`, `$LOGNAME`) at this machine's host name.
pub fn default_owner() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    format!("{user}@{}", controller_name())
}

/// This machine's host name.
pub fn controller_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

/// Start time of process `pid` (clock ticks since boot), from `/proc/PID/stat`.
pub fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// True if process `pid` runs on this machine (and, when `start` is known, is the same process).
pub fn process_alive(pid: u32, start: Option<u64>) -> bool {
    match (process_start(pid), start) {
        (None, _) => false,
        (Some(now), Some(then)) => now == then,
        (Some(_), None) => true,
    }
}

/// Why a run could not get its locks.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Someone else holds a lock.
    #[error("{}", refused_message(.host, .path, .holder.as_ref(), .stale.as_ref()))]
    Held {
        /// Host that keeps the lock.
        host: String,
        /// The lock's directory on it.
        path: String,
        /// What its info file says (`None`: being created, or unreadable).
        holder: Option<LockInfo>,
        /// Why it looks abandoned, if it does.
        stale: Option<Staleness>,
    },
    /// The lock could not be read or written (permissions, unreachable designated host, …).
    #[error("cannot lock {host}: {reason}")]
    Failed {
        /// The host.
        host: String,
        /// What went wrong.
        reason: String,
    },
    /// The run was interrupted while it waited for locks.
    #[error("interrupted while waiting for the deploy locks")]
    Interrupted,
}

fn refused_message(
    host: &str,
    path: &str,
    holder: Option<&LockInfo>,
    stale: Option<&Staleness>,
) -> String {
    let now = now_secs();
    let who = match holder {
        Some(info) => format!("held by {}", info.describe(now)),
        None => "held by another drover that is just taking it (no info file yet)".to_string(),
    };
    let stale = match stale {
        Some(s) => format!(
            "; it looks stale ({s}): if no run holds it, break it with `drover lock release --force {host}`"
        ),
        None => String::new(),
    };
    format!("the deploy lock on {host} ({path}) is {who}{stale}")
}

/// The locks a run (or `drover lock acquire`) took, to release them at the end.
pub struct LockSet {
    taken: Vec<(Arc<LockTarget>, String, String)>,
}

impl LockSet {
    /// Nothing held.
    pub fn empty() -> Self {
        Self { taken: Vec::new() }
    }

    /// How many locks are held.
    pub fn len(&self) -> usize {
        self.taken.len()
    }

    /// True if none is held.
    pub fn is_empty(&self) -> bool {
        self.taken.is_empty()
    }

    /// Takes the lock `name` on each of `targets` in order (a named lock first, then hosts
    /// sorted), all or none: when one is held by someone else, releases what it took and, with
    /// `settings.wait`, polls until all are free or the time is up (not when a holder looks
    /// stale: that one is refused at once). `info` describes the taker
    /// (its token is replaced per lock).
    pub async fn acquire(
        targets: &[(Arc<LockTarget>, String)],
        settings: &LockSettings,
        info: &LockInfo,
        interrupt: &Interrupt,
    ) -> Result<Self, LockError> {
        let deadline = settings.wait.map(|w| tokio::time::Instant::now() + w);
        let mut pause = Duration::from_millis(200);
        loop {
            let attempt = Self::try_all(targets, settings, info).await;
            let err = match attempt {
                Ok(set) => {
                    if interrupt.is_set() {
                        set.release().await;
                        return Err(LockError::Interrupted);
                    }
                    return Ok(set);
                }
                Err(e) => e,
            };
            // A stale lock is not released by waiting: refuse at once, saying so.
            let waiting = matches!(err, LockError::Held { stale: None, .. })
                && deadline.is_some_and(|d| tokio::time::Instant::now() < d);
            if !waiting {
                return Err(err);
            }
            let jitter = Duration::from_millis(u64::from(rand::random::<u8>()));
            tokio::select! {
                () = tokio::time::sleep(pause + jitter) => {}
                () = interrupt.wait() => return Err(LockError::Interrupted),
            }
            pause = (pause * 2).min(Duration::from_secs(2));
        }
    }

    async fn try_all(
        targets: &[(Arc<LockTarget>, String)],
        settings: &LockSettings,
        info: &LockInfo,
    ) -> Result<Self, LockError> {
        let mut set = Self::empty();
        for (target, name) in targets {
            let info = LockInfo {
                token: format!("{:016x}", rand::random::<u64>()),
                ..info.clone()
            };
            match target.ops(&settings.dir).take(name, &info).await {
                Ok(Taken::At(path)) => set.taken.push((target.clone(), path, info.token)),
                Ok(Taken::AlreadyOurs) => {}
                Err(e) => {
                    set.release().await;
                    return Err(e);
                }
            }
        }
        Ok(set)
    }

    /// Releases every lock taken (each only if it still carries this run's token). Failures
    /// are returned as messages.
    pub async fn release(self) -> Vec<String> {
        // In parallel: a host that went down costs one connect timeout, not one per host.
        let releases = self.taken.iter().map(|(target, path, token)| async move {
            target.ops("").release_path(path, Some(token)).await
        });
        futures::future::join_all(releases)
            .await
            .into_iter()
            .filter_map(|r| r.err().map(|e| e.to_string()))
            .collect()
    }
}

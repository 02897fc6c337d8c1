//! Taking the run's deploy locks before its first task and releasing them at its end (see
//! [`crate::lock`] and `docs/LOCKING.md`).

use std::collections::BTreeSet;
use std::sync::Arc;

use super::connect::transport_for;
use super::{ConnectionPool, Executor};
use crate::events::{Event, EventSink};
use crate::inventory::Limit;
use crate::lock::{
    controller_name, now_secs, process_start, LockError, LockInfo, LockKind, LockSet, LockTarget,
    HOST_LOCK,
};
use crate::playbook::{Keywords, Play, Playbook};
use crate::vars::{Value, Vars};

/// The locks a run holds and the connections they were taken over (kept for the release).
pub(crate) struct RunLocks {
    set: LockSet,
    pool: ConnectionPool,
}

/// Drops connection warnings: the run's own connections show them.
struct Quiet;

impl EventSink for Quiet {
    fn emit(&self, _event: &Event) {}
}

impl Executor {
    /// Takes the deploy locks of every host the playbook's plays target (hosts reached over
    /// SSH; see `docs/LOCKING.md` for why `local`, `docker` and `lxc` hosts are left out) and the
    /// named lock, if one is set. `None` without locking (not asked, or `--check`, which only
    /// warns about locked hosts).
    pub(crate) async fn take_locks(
        &self,
        playbook: &Playbook,
    ) -> Result<Option<RunLocks>, LockError> {
        let opts = &self.shared.opts;
        let Some(settings) = &opts.lock else {
            return Ok(None);
        };
        let mut hosts = BTreeSet::new();
        for play in &playbook.plays {
            hosts.extend(self.play_hosts_quietly(play));
        }
        let pool = ConnectionPool::default();
        let mut order: Vec<(String, String, bool)> = Vec::new();
        if let Some(named) = &settings.named {
            order.push((named.host.clone(), named.name.clone(), true));
        }
        for h in hosts {
            let vars = self.lock_host_vars(&h);
            if transport_for(&h, &self.connection_vars(&vars), opts) == "ssh" {
                order.push((h, HOST_LOCK.to_string(), false));
            }
        }
        let connects = order
            .iter()
            .map(|(h, _, required)| async { (self.lock_target(&pool, h).await, *required) });
        let connected = futures::future::join_all(connects).await;
        let mut targets = Vec::new();
        for ((host, name, _), (target, required)) in order.into_iter().zip(connected) {
            match target {
                Ok(t) => targets.push((Arc::new(t), name)),
                // An unreachable host stays unreachable for the whole run (the pool remembers
                // the failure), so no task will change it: it needs no lock.
                Err(_) if !required => {}
                Err(reason) => return Err(LockError::Failed { host, reason }),
            }
        }
        if opts.check {
            self.warn_locked(&targets, &settings.dir, &settings.owner)
                .await;
            pool.close_all().await;
            return Ok(None);
        }
        let info = LockInfo {
            owner: settings.owner.clone(),
            controller: controller_name(),
            pid: std::process::id(),
            pid_start: process_start(std::process::id()),
            kind: LockKind::Run,
            playbook: std::path::absolute(&playbook.path)
                .unwrap_or_else(|_| playbook.path.clone())
                .display()
                .to_string(),
            started: now_secs(),
            expires: now_secs().saturating_add(settings.ttl.as_secs()),
            token: String::new(),
        };
        let set = LockSet::acquire(&targets, settings, &info, &opts.interrupt).await;
        match set {
            Ok(set) => Ok(Some(RunLocks { set, pool })),
            Err(e) => {
                pool.close_all().await;
                Err(e)
            }
        }
    }

    /// `--check` takes no lock (it changes nothing) and does not wait: it warns about hosts
    /// locked by someone else, whose state may be changing under the check.
    async fn warn_locked(&self, targets: &[(Arc<LockTarget>, String)], dir: &str, owner: &str) {
        let reads = targets
            .iter()
            .map(|(t, name)| async move { (t, t.ops(dir).read(name).await) });
        for (target, state) in futures::future::join_all(reads).await {
            let Ok(state) = state else { continue };
            let holder = state.run.or(state.main);
            let Some(holder) = holder else { continue };
            if holder.as_ref().is_some_and(|h| h.owner == owner) {
                continue;
            }
            let who = holder
                .map(|h| h.describe(now_secs()))
                .unwrap_or_else(|| "another drover".into());
            self.emit(Event::Warning {
                message: format!(
                    "{} is locked by {who}: a deploy may be changing it while --check looks",
                    target.host
                ),
            });
        }
    }

    /// Releases the run's locks (warning about any that could not be).
    pub(crate) async fn release_locks(&self, locks: Option<RunLocks>) {
        let Some(RunLocks { set, pool }) = locks else {
            return;
        };
        for problem in set.release().await {
            self.emit(Event::Warning {
                message: format!("could not release a deploy lock: {problem}"),
            });
        }
        pool.close_all().await;
    }

    /// The play's hosts as `select_hosts` gives them, without its warnings (the play shows
    /// them when it runs); none when the pattern cannot be used (the play reports that).
    fn play_hosts_quietly(&self, play: &Play) -> Vec<String> {
        let opts = &self.shared.opts;
        let Ok(pattern) = self
            .shared
            .templar
            .render_str(&play.hosts, &opts.extra_vars)
        else {
            return Vec::new();
        };
        let limit = match opts.limit.as_deref().map(Limit::parse) {
            Some(Ok(l)) => Some(l),
            Some(Err(_)) => return Vec::new(),
            None => None,
        };
        self.shared
            .inventory
            .select_limited(&pattern, limit.as_ref())
            .unwrap_or_default()
    }

    /// The host's inventory variables with the extra vars over them.
    fn lock_host_vars(&self, host: &str) -> Vars {
        let mut vars = self.shared.inventory.host_vars(host);
        crate::vars::merge_into(&mut vars, &self.shared.opts.extra_vars);
        vars
    }

    /// Connects to `host` for its locks, with the run's become settings (as root) and the
    /// escalation to try when the lock directory refuses the connecting user.
    async fn lock_target(&self, pool: &ConnectionPool, host: &str) -> Result<LockTarget, String> {
        let vars = self.lock_host_vars(host);
        let conn_vars = self.connection_vars(&vars);
        let conn = pool
            .get(host, &conn_vars, &self.shared.opts, &Quiet)
            .await
            .map_err(|e| e.to_string())?;
        let as_root = Keywords {
            become_user: Some("root".into()),
            ..Keywords::default()
        };
        let become_ = self
            .task_settings(&as_root, &vars)
            .ok()
            .and_then(|s| s.become_);
        let forced = Keywords {
            become_: Some(Value::Bool(true)),
            ..as_root
        };
        let escalate = self
            .task_settings(&forced, &vars)
            .ok()
            .and_then(|s| s.become_);
        Ok(LockTarget {
            host: host.to_string(),
            conn,
            become_,
            escalate,
        })
    }
}

/// Connections to hosts for their locks (`drover lock`), kept open until [`LockTargets::close`].
pub struct LockTargets {
    /// Each host asked for, with its target or why it could not be reached or is not locked.
    pub targets: Vec<(String, Result<Arc<LockTarget>, String>)>,
    pool: ConnectionPool,
}

impl LockTargets {
    /// Connects to `hosts` (in parallel) with the inventory's connection variables and `opts`.
    /// Hosts not reached over SSH are not locked by runs and are left out with a reason, unless
    /// `any_transport` (a designated host of a named lock).
    pub async fn connect(
        inventory: crate::inventory::Inventory,
        opts: super::RunOptions,
        hosts: &[String],
        any_transport: bool,
    ) -> Self {
        let executor = Executor::new(
            crate::module::ModuleRegistry::default(),
            inventory,
            opts,
            Arc::new(Quiet),
        );
        let pool = ConnectionPool::default();
        let connects = hosts.iter().map(|h| {
            let (executor, pool) = (&executor, &pool);
            async move {
                let vars = executor.lock_host_vars(h);
                let transport =
                    transport_for(h, &executor.connection_vars(&vars), &executor.shared.opts);
                if transport != "ssh" && !any_transport {
                    return Err(format!(
                        "not locked: its connection is '{transport}' (runs lock hosts reached over ssh)"
                    ));
                }
                executor.lock_target(pool, h).await.map(Arc::new)
            }
        });
        let results = futures::future::join_all(connects).await;
        Self {
            targets: hosts.iter().cloned().zip(results).collect(),
            pool,
        }
    }

    /// Closes the connections.
    pub async fn close(self) {
        self.pool.close_all().await;
    }
}

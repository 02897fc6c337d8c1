//! Stopping a run cleanly (Ctrl-C, SIGTERM) and the clean-up work that must finish first.
//!
//! An [`Interrupt`] is triggered by the program (the `drover` CLI does it on the first SIGINT or
//! SIGTERM). The executor then starts no new task, abandons the tasks in flight (their futures
//! are dropped: remote commands are killed, temporary upload files removed), waits for that
//! clean-up ([`settle_cleanups`]), releases its locks, closes the connections and ends through
//! its normal recap, with exit code [`EXIT_INTERRUPTED`].

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

/// ansible-playbook's exit code for "User interrupted execution".
pub const EXIT_INTERRUPTED: i32 = 99;

#[derive(Debug, Default)]
struct Inner {
    set: AtomicBool,
    notify: Notify,
}

/// A flag that stops a run; clones share it. The default is never triggered unless
/// [`Interrupt::trigger`] is called.
#[derive(Debug, Clone, Default)]
pub struct Interrupt(Arc<Inner>);

impl Interrupt {
    /// A fresh, untriggered flag.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the run to stop (idempotent).
    pub fn trigger(&self) {
        self.0.set.store(true, Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }

    /// True once triggered.
    pub fn is_set(&self) -> bool {
        self.0.set.load(Ordering::SeqCst)
    }

    /// Completes when the flag is triggered (at once if it already is).
    pub async fn wait(&self) {
        loop {
            let notified = self.0.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.is_set() {
                return;
            }
            notified.await;
        }
    }
}

static PENDING: AtomicUsize = AtomicUsize::new(0);
static SETTLED: Notify = Notify::const_new();

/// Decrements the pending count when the clean-up task ends (or is cancelled).
struct PendingGuard;

impl Drop for PendingGuard {
    fn drop(&mut self) {
        if PENDING.fetch_sub(1, Ordering::SeqCst) == 1 {
            SETTLED.notify_waiters();
        }
    }
}

/// Runs `work` in the background on the current tokio runtime, counted until it ends so that
/// [`settle_cleanups`] can wait for it. Used when an operation is abandoned (its future dropped)
/// and the target needs tidying: killing the remote command, removing a temporary file. Outside
/// a runtime nothing happens.
pub fn spawn_cleanup(work: impl Future<Output = ()> + Send + 'static) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    PENDING.fetch_add(1, Ordering::SeqCst);
    let guard = PendingGuard;
    runtime.spawn(async move {
        let _guard = guard;
        work.await;
    });
}

/// Waits until every clean-up started with [`spawn_cleanup`] has ended, or `limit` passes.
/// Returns the number still running.
pub async fn settle_cleanups(limit: Duration) -> usize {
    let wait = async {
        loop {
            let notified = SETTLED.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if PENDING.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    };
    let _ = tokio::time::timeout(limit, wait).await;
    PENDING.load(Ordering::SeqCst)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn wait_returns_once_triggered() {
        let i = Interrupt::new();
        assert!(!i.is_set());
        let waiter = tokio::spawn({
            let i = i.clone();
            async move { i.wait().await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished());
        i.trigger();
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("woken")
            .expect("joined");
        // Already set: returns at once.
        tokio::time::timeout(Duration::from_millis(100), i.wait())
            .await
            .expect("immediate");
    }

    #[tokio::test]
    async fn settle_waits_for_cleanups() {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        spawn_cleanup(async move {
            let _ = rx.await;
        });
        assert!(settle_cleanups(Duration::from_millis(50)).await >= 1);
        let _ = tx.send(());
        assert_eq!(settle_cleanups(Duration::from_secs(5)).await, 0);
    }
}

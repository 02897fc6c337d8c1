//! Running the plays so that an interrupt (Ctrl-C) stops them cleanly, and the end of every run:
//! clean-up of abandoned work, lock release, connections closed.

use std::time::Duration;

use super::locking::RunLocks;
use super::{ExecError, Executor};
use crate::events::Event;
use crate::playbook::Playbook;

/// How long the end of a run waits for the clean-up of abandoned commands and uploads (killing
/// remote processes takes a 2 s grace period between SIGTERM and SIGKILL).
const CLEANUP_LIMIT: Duration = Duration::from_secs(15);

impl Executor {
    /// Runs the plays until they end or the run's interrupt is triggered. On an interrupt the
    /// plays' future is dropped: no new task starts and the tasks in flight are abandoned (their
    /// remote commands killed, their temporary files removed, see [`crate::interrupt`]).
    /// Returns the plays' result and whether the run was interrupted.
    pub(super) async fn run_interruptible(
        &self,
        playbook: &Playbook,
        uses_hostvars: bool,
    ) -> (Result<(), ExecError>, bool) {
        let interrupt = self.shared.opts.interrupt.clone();
        let plays = async {
            for play in &playbook.plays {
                if interrupt.is_set() {
                    break;
                }
                self.run_play(playbook, play, uses_hostvars).await?;
                // any_errors_fatal, max_fail_percentage or a failed serial batch end the run.
                if self.run_broken() {
                    break;
                }
            }
            Ok(())
        };
        let result = tokio::select! {
            biased;
            () = interrupt.wait() => None,
            r = plays => Some(r),
        };
        match result {
            Some(r) => (r, interrupt.is_set()),
            None => (Ok(()), true),
        }
    }

    /// The end of a run, before its recap: waits for the clean-up of abandoned work, releases
    /// the locks, closes the connections.
    pub(super) async fn finish_run(&self, locks: Option<RunLocks>, interrupted: bool) {
        if interrupted {
            self.emit(Event::Interrupted);
        }
        let left = crate::interrupt::settle_cleanups(CLEANUP_LIMIT).await;
        if left > 0 {
            self.emit(Event::Warning {
                message: format!(
                    "{left} clean-up operation(s) on targets (stopping abandoned commands, removing temporary files) did not finish in {}s",
                    CLEANUP_LIMIT.as_secs()
                ),
            });
        }
        self.release_locks(locks).await;
        self.shared.pool.close_all().await;
    }
}

//! Play strategies: `linear` (every host finishes a task before any host starts the next) and
//! `free` (each host runs through the play's tasks on its own, bounded by `forks`, `serial` and
//! `throttle`; handlers flush per host). `host_pinned` runs as `free`; `debug` as `linear`.

use std::sync::Arc;

use futures::stream::{self, StreamExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{Executor, PlayCtx};
use crate::events::Event;
use crate::playbook::{Keywords, Play, Task};

/// How the hosts of a play move through its tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Host by host per task, all hosts in step (Ansible's default).
    Linear,
    /// Each host at its own pace.
    Free,
}

/// The strategy a name (`free`, `ansible.builtin.linear`, …) selects, with a warning to show
/// when drover runs it differently; an unknown name is an error message.
pub fn strategy_named(name: &str) -> Result<(Strategy, Option<String>), String> {
    let short = name.trim().rsplit('.').next().unwrap_or(name);
    match short {
        "linear" => Ok((Strategy::Linear, None)),
        "free" => Ok((Strategy::Free, None)),
        "host_pinned" => Ok((Strategy::Free, None)),
        "debug" => Ok((
            Strategy::Linear,
            Some("the 'debug' strategy (interactive debugger) is not supported by drover; the play runs with the 'linear' strategy".into()),
        )),
        _ => Err(format!(
            "unknown strategy '{name}': drover has 'linear', 'free' and 'host_pinned'"
        )),
    }
}

impl Executor {
    /// The strategy of `play`: its `strategy` keyword, else the configured default, else linear.
    pub(crate) fn play_strategy(&self, play: &Play) -> Strategy {
        let name = play
            .strategy
            .as_deref()
            .or(self.shared.opts.strategy.as_deref());
        let Some(name) = name else {
            return Strategy::Linear;
        };
        match strategy_named(name) {
            Ok((s, warning)) => {
                if let Some(message) = warning {
                    self.emit(Event::Warning { message });
                }
                s
            }
            // Names are checked when the playbook and options are loaded.
            Err(_) => Strategy::Linear,
        }
    }

    /// Runs one `serial` batch with the free strategy: every host goes through the whole play
    /// (facts, pre_tasks, roles, tasks, post_tasks, each section's handlers) on its own, up to
    /// `forks` hosts at a time.
    pub(crate) async fn run_batch_free(
        &self,
        ctx: &PlayCtx<'_>,
        play_kw: &Keywords,
        hosts: &[String],
    ) {
        let forks = self.shared.opts.forks.max(1);
        stream::iter(hosts.iter().cloned())
            .map(|host| async move {
                self.run_batch(ctx, play_kw, std::slice::from_ref(&host))
                    .await;
            })
            .buffer_unordered(forks)
            .collect::<Vec<()>>()
            .await;
    }

    /// With the free strategy, `throttle: n` limits how many hosts run `task` at once across
    /// the play: the returned permit is held while this host runs it.
    pub(crate) async fn throttle_permit(
        &self,
        ctx: &PlayCtx<'_>,
        task: &Task,
        limit: usize,
    ) -> Option<OwnedSemaphorePermit> {
        let semaphore = {
            let mut map = ctx.throttles.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(task.location.to_string())
                .or_insert_with(|| Arc::new(Semaphore::new(limit)))
                .clone()
        };
        semaphore.acquire_owned().await.ok()
    }

    /// Shows `message` once per play (the free strategy's per-task warnings).
    pub(crate) fn warn_once(&self, ctx: &PlayCtx<'_>, message: String) {
        let fresh = ctx
            .warned
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(message.clone());
        if fresh {
            self.emit(Event::Warning { message });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategy_names() {
        assert_eq!(strategy_named("free").unwrap().0, Strategy::Free);
        assert_eq!(
            strategy_named("ansible.builtin.host_pinned").unwrap().0,
            Strategy::Free
        );
        assert_eq!(strategy_named("linear").unwrap(), (Strategy::Linear, None));
        let (s, warning) = strategy_named("debug").unwrap();
        assert_eq!(s, Strategy::Linear);
        assert!(warning.unwrap().contains("not supported"));
        let err = strategy_named("mitogen_linear").unwrap_err();
        assert!(err.contains("unknown strategy 'mitogen_linear'"), "{err}");
    }
}

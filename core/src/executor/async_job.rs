//! The `async` and `poll` task keywords, as ansible-core's task executor runs them: start the
//! module as a background job on the host (see [`crate::async_job`] for how each module takes
//! part), then either return at once (`poll: 0`, a later `async_status` task reads the job) or
//! check the job with the `async_status` module every `poll` seconds until it finishes or `async`
//! seconds have passed, and remove its job file when it has finished.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::result::{failed_result, timeout_seconds};
use super::Executor;
use crate::async_job::{self, AsyncSupport, Detached, Job, JobError};
use crate::module::{Module, ModuleContext, ModuleError};
use crate::playbook::Task;
use crate::vars::{is_truthy, Value, Vars};

/// ansible-core's default `poll`.
const DEFAULT_POLL: u64 = 15;

/// A task's `async` and `poll` on one host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AsyncSettings {
    /// Seconds the job may run.
    pub limit: u64,
    /// Seconds between status checks; 0: do not wait.
    pub poll: u64,
}

impl Executor {
    /// The task's `async`/`poll`, rendered with the host's variables: `None` when `async` is
    /// unset or 0 (the task runs in the foreground).
    pub(crate) fn async_settings(
        &self,
        task: &Task,
        vars: &Vars,
    ) -> Result<Option<AsyncSettings>, String> {
        let seconds = |name: &str, value: &Option<Value>| -> Result<Option<u64>, String> {
            let Some(v) = value else { return Ok(None) };
            let v = self
                .shared
                .templar
                .render_value(v, vars)
                .map_err(|e| format!("{name}: {e}"))?;
            match timeout_seconds(&v) {
                Some(n) => Ok(Some(n)),
                None => Err(format!(
                    "The field '{name}' has an invalid value, which includes an undefined \
                     variable or is not an integer: {v}"
                )),
            }
        };
        let limit = seconds("async", &task.async_)?.unwrap_or(0);
        if limit == 0 {
            return Ok(None);
        }
        let poll = seconds("poll", &task.poll)?.unwrap_or(DEFAULT_POLL);
        Ok(Some(AsyncSettings { limit, poll }))
    }

    /// Runs module `m` (`action` as written) as an async job: the launch result with
    /// `poll: 0`, else the job's result once finished, or ansible-core's failure when it does not
    /// finish in time. Connection errors are returned (the host is unreachable).
    pub(crate) async fn run_async(
        &self,
        settings: AsyncSettings,
        action: &str,
        m: &Arc<dyn Module>,
        ctx: &ModuleContext<'_>,
        args: &Value,
    ) -> Result<Value, ModuleError> {
        let support = m.async_support();
        if support == AsyncSupport::Unsupported {
            return Ok(failed_result(format!(
                "This action ({action}) does not support async."
            )));
        }
        let started = match self.start_job(support, settings, m, ctx, args).await {
            Ok(job) => job,
            Err(JobError::Connection(e)) => return Err(ModuleError::Connection(e)),
            Err(JobError::Failed(msg)) => return Ok(failed_result(msg)),
        };
        let (job, ran_here) = match started {
            Started::Job(job, ran_here) => (job, ran_here),
            Started::Refused(e) => return Err(e),
        };
        if settings.poll == 0 {
            let mut launched = json!({
                "ansible_job_id": job.jid,
                "results_file": job.path,
                "started": true,
                "finished": false,
                "changed": true,
                "failed": false,
            });
            if ran_here {
                launched["warnings"] = json!([format!(
                    "{action} runs on the controller: drover finished it before going on \
                     (only command and shell run in the background on the host)"
                )]);
            }
            return Ok(launched);
        }
        self.poll_job(settings, &job, ctx, !ran_here).await
    }

    /// Starts the job: detached on the host, or run here with its result stored in the job file.
    async fn start_job(
        &self,
        support: AsyncSupport,
        settings: AsyncSettings,
        m: &Arc<dyn Module>,
        ctx: &ModuleContext<'_>,
        args: &Value,
    ) -> Result<Started, JobError> {
        if support == AsyncSupport::Detached {
            match m.detached(ctx, args).await {
                Ok(Detached::Command(cmd)) => {
                    let job = async_job::launch(ctx.conn, &cmd, settings.limit).await?;
                    return Ok(Started::Job(job, false));
                }
                Ok(Detached::Done(r)) => {
                    let job = async_job::create_job(ctx.conn).await?;
                    async_job::finish_job(ctx.conn, &job, &r.to_value()).await?;
                    return Ok(Started::Job(job, false));
                }
                Err(e) => return Ok(Started::Refused(e)),
            }
        }
        let job = async_job::create_job(ctx.conn).await?;
        let limit = Duration::from_secs(settings.limit);
        let record = match tokio::time::timeout(limit, m.run(ctx, args)).await {
            Ok(Ok(r)) => r.to_value(),
            Ok(Err(ModuleError::Connection(e))) => return Err(JobError::Connection(e)),
            Ok(Err(e)) => failed_result(e.to_string()),
            Err(_) => async_job::timeout_record(),
        };
        async_job::finish_job(ctx.conn, &job, &record).await?;
        Ok(Started::Job(job, true))
    }

    /// Checks the job every `poll` seconds (the first check at once when `wait_first` is
    /// false) until it finishes or the time limit passes.
    async fn poll_job(
        &self,
        settings: AsyncSettings,
        job: &Job,
        ctx: &ModuleContext<'_>,
        wait_first: bool,
    ) -> Result<Value, ModuleError> {
        let Some(status) = self.shared.registry.get("async_status").cloned() else {
            return Ok(failed_result(
                "async needs the async_status module, which is not registered",
            ));
        };
        let poll = Duration::from_secs(settings.poll);
        let mut time_left = settings.limit as i64;
        let mut wait = wait_first;
        let mut last = failed_result("async task produced unparsable results");
        while time_left > 0 {
            if wait {
                tokio::time::sleep(poll).await;
            }
            wait = true;
            time_left -= settings.poll as i64;
            match status.run(ctx, &json!({"jid": job.jid})).await {
                Ok(r) => {
                    last = r.to_value();
                    let flag = |k: &str| last.get(k).is_some_and(is_truthy);
                    if flag("finished") || flag("failed") || flag("skipped") {
                        break;
                    }
                }
                // The host may be rebooting or the network bouncing: a failed check is retried
                // on a new connection until the time is up.
                Err(ModuleError::Connection(e)) => {
                    ctx.conn.reset().await;
                    if time_left <= 0 {
                        return Err(ModuleError::Connection(e));
                    }
                }
                Err(e) => last = failed_result(e.to_string()),
            }
        }
        if !last.get("finished").is_some_and(is_truthy) {
            let mut r = failed_result(format!(
                "async task did not complete within the requested time - {}s",
                settings.limit
            ));
            r["async_result"] = last;
            return Ok(r);
        }
        // The job file of a finished job is removed, as ansible-core does.
        let _ = status
            .run(ctx, &json!({"jid": job.jid, "mode": "cleanup"}))
            .await;
        Ok(last)
    }
}

/// A started job, or the module's refusal of its arguments.
enum Started {
    /// The job, and whether its work already ran here, on the controller.
    Job(Job, bool),
    /// The module refused (its arguments): reported as without `async`.
    Refused(ModuleError),
}

//! `wait_for_connection`: waits until the host answers a trivial command over the task's
//! connection (Ansible's ping test), retrying until `timeout`. Each attempt resets the pooled
//! connection first, so a host that went away (reboot, restart) is reached over a new session.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;

use super::de_secs;

/// Parameters of `wait_for_connection`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct WaitForConnectionParams {
    /// Seconds before the first check.
    #[serde(default, deserialize_with = "de_secs")]
    pub delay: u64,
    /// Seconds between checks.
    #[serde(default = "one", deserialize_with = "de_secs")]
    pub sleep: u64,
    /// Seconds to keep trying.
    #[serde(default = "six_hundred", deserialize_with = "de_secs")]
    pub timeout: u64,
    /// Seconds one check may take.
    #[serde(default = "five", deserialize_with = "de_secs")]
    pub connect_timeout: u64,
}

fn one() -> u64 {
    1
}
fn five() -> u64 {
    5
}
fn six_hundred() -> u64 {
    600
}

/// The `wait_for_connection` module.
pub struct WaitForConnection;

#[async_trait]
impl TypedModule for WaitForConnection {
    const NAME: &'static str = "wait_for_connection";
    /// ansible-core's action refuses `async`.
    const ASYNC: drover_core::async_job::AsyncSupport =
        drover_core::async_job::AsyncSupport::Unsupported;
    type Params = WaitForConnectionParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: WaitForConnectionParams,
    ) -> Result<ModuleResult, ModuleError> {
        let start = Instant::now();
        if p.delay > 0 {
            tokio::time::sleep(Duration::from_secs(p.delay)).await;
        }
        let deadline = start + Duration::from_secs(p.delay + p.timeout);
        let mut last_error;
        loop {
            // Like Ansible, every attempt starts from a fresh connection: the pooled one may be
            // a dead session from before a reboot.
            ctx.conn.reset().await;
            let attempt = tokio::time::timeout(
                Duration::from_secs(p.connect_timeout.max(1)),
                ctx.conn.run("echo pong"),
            )
            .await;
            last_error = match attempt {
                Ok(Ok(out)) if out.rc == 0 && out.stdout_str().trim() == "pong" => {
                    return Ok(ModuleResult::ok().with("elapsed", start.elapsed().as_secs()));
                }
                Ok(Ok(out)) => format!("ping test returned rc {}", out.rc),
                Ok(Err(e)) => e.to_string(),
                Err(_) => format!("no answer within {} seconds", p.connect_timeout),
            };
            if Instant::now() + Duration::from_secs(p.sleep) >= deadline {
                break;
            }
            tokio::time::sleep(Duration::from_secs(p.sleep)).await;
        }
        Ok(ModuleResult::failed(format!(
            "timed out waiting for ping module test: {last_error}"
        ))
        .with("elapsed", start.elapsed().as_secs()))
    }
}

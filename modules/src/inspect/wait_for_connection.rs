//! `wait_for_connection`: waits until the host answers a trivial command over the task's
//! connection (Ansible's ping test), retrying until `timeout`. Each attempt resets the pooled
//! connection first, so a host that went away (reboot, restart) is reached over a new session.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use drover_core::module::{
    parse_params, LegacyTypedModule, Module, ModuleContext, ModuleError, ModuleResult,
};
use drover_core::params::ArgError;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::de_secs;
use crate::params::check_keys;

/// Parameters of `wait_for_connection`.
#[derive(Debug, Deserialize)]
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

/// Keys `wait_for_connection` accepts.
pub const WAIT_FOR_CONNECTION_KEYS: &[&str] = &["delay", "sleep", "timeout", "connect_timeout"];

/// The `wait_for_connection` module.
pub struct WaitForConnection;

#[async_trait]
impl Module for WaitForConnection {
    fn name(&self) -> &'static str {
        "wait_for_connection"
    }

    /// ansible-core's action refuses `async`.
    fn async_support(&self) -> drover_core::async_job::AsyncSupport {
        drover_core::async_job::AsyncSupport::Unsupported
    }

    fn check_args(&self, args: &Map<String, Value>) -> Result<(), ArgError> {
        check_keys("wait_for_connection", args, WAIT_FOR_CONNECTION_KEYS, &[])
    }

    async fn run(
        &self,
        ctx: &ModuleContext<'_>,
        args: &Value,
    ) -> Result<ModuleResult, ModuleError> {
        self.run_with(ctx, parse_params(self.name(), args)?).await
    }
}

#[async_trait]
impl LegacyTypedModule for WaitForConnection {
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

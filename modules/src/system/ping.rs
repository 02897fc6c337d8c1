//! `ping`: checks that the host answers over its connection (ansible.builtin.ping). Returns
//! `ping: <data>`; `data: crash` fails the way ansible's module does when it raises.

use async_trait::async_trait;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;

/// Parameters of `ping`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct PingParams {
    /// Data to return as the `ping` value; `crash` makes the module fail.
    #[serde(default = "pong")]
    pub data: String,
}

fn pong() -> String {
    "pong".to_string()
}

/// The `ping` module.
pub struct Ping;

#[async_trait]
impl TypedModule for Ping {
    const NAME: &'static str = "ping";
    type Params = PingParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: PingParams,
    ) -> Result<ModuleResult, ModuleError> {
        // A round trip over the connection: an unreachable host is reported as such.
        let out = ctx.conn.run("true").await?;
        if out.rc != 0 {
            return Ok(ModuleResult::failed(format!(
                "the host's shell answered with rc {}",
                out.rc
            ))
            .with("rc", out.rc));
        }
        if p.data == "crash" {
            // ansible's module raises `Exception("boom")`.
            return Ok(ModuleResult::failed("boom"));
        }
        Ok(ModuleResult::ok().with("ping", p.data))
    }
}

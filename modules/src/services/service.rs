//! `service`: manages a service through the host's service manager. With systemd (from
//! `use:`, else `ansible_service_mgr`, else a probe of `/run/systemd/system`) it behaves exactly
//! as the `systemd` module (Ansible's service action does the same); otherwise it drives the
//! SysV init script.

use async_trait::async_trait;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;
use serde_json::Value;

use super::systemd::{run_systemd, ServiceState, SystemdParams};
use super::sysv::run_sysv;
use crate::params::{de_opt_bool, de_opt_string, de_string};

/// Parameters of `service`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
#[params(required_one_of("state", "enabled"))]
pub struct ServiceParams {
    /// Service name.
    #[serde(deserialize_with = "de_string")]
    pub name: String,
    /// Desired run state (`restarted` and `reloaded` start a stopped service).
    #[serde(default)]
    pub state: Option<ServiceState>,
    /// Start at boot.
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub enabled: Option<bool>,
    /// Seconds between stop and start on restart (SysV; accepted).
    #[serde(default)]
    #[param(kind = "int")]
    pub sleep: Option<Value>,
    /// Process pattern for services without a usable `status` (SysV).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub pattern: Option<String>,
    /// Extra arguments for the init script (SysV).
    #[serde(default, alias = "args", deserialize_with = "de_opt_string")]
    pub arguments: Option<String>,
    /// Runlevel (accepted; OpenRC only in Ansible).
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(default = "default")]
    pub runlevel: Option<String>,
    /// Backend: `auto` (default), `systemd`, `sysvinit`, `service`.
    #[serde(default, rename = "use", deserialize_with = "de_opt_string")]
    pub use_: Option<String>,
}

/// The `service` module.
pub struct Service;

/// The service manager from the host's facts, if gathered.
fn fact_service_mgr(ctx: &ModuleContext<'_>) -> Option<String> {
    let vars = ctx.controller.vars();
    vars.get("ansible_service_mgr")
        .or_else(|| vars.get("ansible_facts").and_then(|f| f.get("service_mgr")))
        .and_then(Value::as_str)
        .map(str::to_string)
}

#[async_trait]
impl TypedModule for Service {
    const NAME: &'static str = "service";
    type Params = ServiceParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: ServiceParams,
    ) -> Result<ModuleResult, ModuleError> {
        // The argument check requires one of them; parameters built in Rust skip it.
        if p.state.is_none() && p.enabled.is_none() {
            return Ok(ModuleResult::failed(
                "one of the following is required: state, enabled",
            ));
        }
        let manager = match p.use_.as_deref() {
            Some(u) if u != "auto" => u.to_string(),
            _ => match fact_service_mgr(ctx) {
                Some(m) => m,
                None => {
                    let out = ctx
                        .conn
                        .run("[ -d /run/systemd/system ] && echo systemd || echo sysvinit")
                        .await?;
                    out.stdout_str().trim().to_string()
                }
            },
        };
        if manager == "systemd" {
            let sp = SystemdParams {
                name: Some(p.name.clone()),
                state: p.state,
                enabled: p.enabled,
                ..SystemdParams::default()
            };
            return run_systemd(ctx, &sp).await;
        }
        run_sysv(
            ctx,
            &p.name,
            p.state,
            p.enabled,
            p.pattern.as_deref(),
            p.arguments.as_deref().unwrap_or(""),
        )
        .await
    }
}

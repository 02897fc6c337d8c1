//! `service`: manages a service through the host's service manager. With systemd (from
//! `use:`, else `ansible_service_mgr`, else a probe of `/run/systemd/system`) it behaves exactly
//! as the `systemd` module (Ansible's service action does the same); otherwise it drives the
//! SysV init script.

use async_trait::async_trait;
use drover_core::module::{parse_params, Module, ModuleContext, ModuleError, ModuleResult};
use drover_core::params::ArgError;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::systemd::{run_systemd, ServiceState, SystemdParams};
use super::sysv::run_sysv;
use crate::params::{check_keys, de_opt_bool, de_opt_string, de_string};

/// Parameters of `service`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceParams {
    /// Service name.
    #[serde(deserialize_with = "de_string")]
    name: String,
    /// Desired run state.
    #[serde(default)]
    state: Option<ServiceState>,
    /// Start at boot.
    #[serde(default, deserialize_with = "de_opt_bool")]
    enabled: Option<bool>,
    /// Seconds between stop and start on restart (SysV; accepted).
    #[serde(default)]
    #[allow(dead_code)]
    sleep: Option<Value>,
    /// Process pattern for services without a usable `status` (SysV).
    #[serde(default, deserialize_with = "de_opt_string")]
    pattern: Option<String>,
    /// Extra arguments for the init script (SysV).
    #[serde(default, alias = "args", deserialize_with = "de_opt_string")]
    arguments: Option<String>,
    /// Runlevel (accepted; OpenRC only in Ansible).
    #[serde(default, deserialize_with = "de_opt_string")]
    #[allow(dead_code)]
    runlevel: Option<String>,
    /// Backend: `auto` (default), `systemd`, `sysvinit`, `service`.
    #[serde(default, rename = "use", deserialize_with = "de_opt_string")]
    use_: Option<String>,
}

/// Keys `service` accepts.
const SERVICE_KEYS: &[&str] = &[
    "name",
    "state",
    "enabled",
    "sleep",
    "pattern",
    "arguments",
    "args",
    "runlevel",
    "use",
];

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
impl Module for Service {
    fn name(&self) -> &'static str {
        "service"
    }

    fn check_args(&self, args: &Map<String, Value>) -> Result<(), ArgError> {
        check_keys("service", args, SERVICE_KEYS, &[&["name"]])
    }

    async fn run(
        &self,
        ctx: &ModuleContext<'_>,
        args: &Value,
    ) -> Result<ModuleResult, ModuleError> {
        let p: ServiceParams = parse_params("service", args)?;
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
                masked: None,
                daemon_reload: false,
                daemon_reexec: false,
                scope: None,
                no_block: false,
                force: None,
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

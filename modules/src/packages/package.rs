//! `package`: the generic package module. Dispatches to the module named by `use`, the host's
//! `ansible_pkg_mgr` fact, or (without facts) what is found on the target, passing the other
//! arguments through as Ansible's `package` action does.

use async_trait::async_trait;
use drover_core::module::{Module, ModuleContext, ModuleError, ModuleResult};
use drover_core::params::ArgError;
use serde_json::{Map, Value};

use super::apt::Apt;
use super::dnf::Dnf;

/// The `package` module.
pub struct Package;

/// Package managers drover can dispatch to, and the probe that detects them (first match wins).
const DETECT: &[(&str, &str)] = &[
    ("apt", "/usr/bin/apt-get"),
    ("dnf", "/usr/bin/dnf"),
    ("dnf", "/usr/bin/dnf5"),
    ("yum", "/usr/bin/yum"),
    ("apk", "/sbin/apk"),
    ("zypper", "/usr/bin/zypper"),
    ("pacman", "/usr/bin/pacman"),
];

/// The package manager from `use`, the facts, or the target.
async fn package_manager(
    ctx: &ModuleContext<'_>,
    requested: Option<&str>,
) -> Result<Option<String>, ModuleError> {
    if let Some(m) = requested.filter(|m| *m != "auto") {
        return Ok(Some(m.to_string()));
    }
    let vars = ctx.controller.vars();
    let fact = vars
        .get("ansible_pkg_mgr")
        .or_else(|| vars.get("ansible_facts").and_then(|f| f.get("pkg_mgr")))
        .and_then(Value::as_str)
        .filter(|m| *m != "unknown");
    if let Some(m) = fact {
        return Ok(Some(m.to_string()));
    }
    let probe: Vec<String> = DETECT
        .iter()
        .map(|(name, path)| format!("[ -x {path} ] && {{ echo {name}; exit 0; }}"))
        .collect();
    let out = ctx
        .conn
        .run(format!("{}\nexit 0", probe.join("\n")))
        .await?;
    let found = out.stdout_str().trim().to_string();
    Ok((!found.is_empty()).then_some(found))
}

/// Canonical module name for a package manager.
fn backend_for(manager: &str) -> &str {
    match manager {
        "dnf5" | "yum" => "dnf",
        other => other,
    }
}

#[async_trait]
impl Module for Package {
    fn name(&self) -> &'static str {
        "package"
    }

    fn check_args(&self, args: &Map<String, Value>) -> Result<(), ArgError> {
        for key in ["name", "state"] {
            if !args.contains_key(key) {
                return Err(ArgError::invalid(
                    "package",
                    None,
                    format!("missing required parameter `{key}`"),
                ));
            }
        }
        Ok(())
    }

    async fn run(
        &self,
        ctx: &ModuleContext<'_>,
        args: &Value,
    ) -> Result<ModuleResult, ModuleError> {
        let mut args = args.as_object().cloned().unwrap_or_default();
        let requested = args
            .remove("use")
            .and_then(|v| v.as_str().map(str::to_string));
        let Some(manager) = package_manager(ctx, requested.as_deref()).await? else {
            return Ok(ModuleResult::failed(
                "Could not detect which package manager to use. Try gathering facts or setting the \"use\" option.",
            ));
        };
        let args = Value::Object(args);
        match backend_for(&manager) {
            "apt" => Apt.run(ctx, &args).await,
            "dnf" => Dnf.run(ctx, &args).await,
            other => Ok(ModuleResult::failed(format!(
                "Could not find a module for {other}."
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yum_and_dnf5_use_the_dnf_backend() {
        assert_eq!(backend_for("yum"), "dnf");
        assert_eq!(backend_for("dnf5"), "dnf");
        assert_eq!(backend_for("apt"), "apt");
    }
}

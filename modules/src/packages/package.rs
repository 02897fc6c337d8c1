//! `package`: the generic package module. Dispatches to the module named by `use`, the host's
//! `ansible_pkg_mgr` fact, or (without facts) what is found on the target, passing the other
//! arguments through as Ansible's `package` action does.

use async_trait::async_trait;
use drover_core::module::{
    parse_params, Module, ModuleContext, ModuleError, ModuleResult, TypedModule,
};
use drover_core::params::ModuleParams;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::apt::Apt;
use super::dnf::Dnf;

/// The `package` module.
pub struct Package;

/// Parameters of `package`: what it needs itself; every other key is passed on to the package
/// manager's module as given.
#[derive(Debug, Deserialize, ModuleParams)]
#[params(open)]
pub struct PackageParams {
    /// Package names (passed on).
    pub name: Value,
    /// Desired state (passed on). ansible-core documents it as required, but its action plugin
    /// passes the task's arguments on without checking, so a task without one takes the package
    /// manager module's default (`present` for apt) — as here.
    #[serde(default)]
    pub state: Option<Value>,
    /// The package manager module to use; `auto` (the default) takes the `ansible_pkg_mgr` fact,
    /// else what the target has.
    #[serde(default, rename = "use")]
    pub use_: Option<Value>,
    /// The arguments passed on: all but `use`.
    #[serde(skip)]
    pub args: Map<String, Value>,
}

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
impl TypedModule for Package {
    const NAME: &'static str = "package";
    type Params = PackageParams;

    fn params_from(&self, args: &Value) -> Result<PackageParams, ModuleError> {
        let mut p: PackageParams = parse_params(Self::NAME, args)?;
        p.args = args.as_object().cloned().unwrap_or_default();
        p.args.remove("use");
        Ok(p)
    }

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: PackageParams,
    ) -> Result<ModuleResult, ModuleError> {
        let requested = p.use_.as_ref().and_then(Value::as_str);
        let Some(manager) = package_manager(ctx, requested).await? else {
            return Ok(ModuleResult::failed(
                "Could not detect which package manager to use. Try gathering facts or setting the \"use\" option.",
            ));
        };
        let args = Value::Object(p.args);
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

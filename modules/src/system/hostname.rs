//! `hostname`: sets the host's name, both the running one and the permanent one
//! (`/etc/hostname`), with `hostnamectl` when systemd's hostnamed answers, else by writing the file
//! and calling `hostname`. Returns the new name facts and a diff, as ansible-core does.

use async_trait::async_trait;
use drover_core::connection::shell_quote;
use drover_core::module::{Diff, ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use drover_core::vars::Vars;
use serde::Deserialize;
use serde_json::Value;

use crate::params::{de_opt_string, de_string};

/// Parameters of `hostname`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct HostnameParams {
    /// The new name.
    #[serde(deserialize_with = "de_string")]
    pub name: String,
    /// Strategy (`systemd`, `debian`, `generic`, …); drover picks systemd when available, else
    /// the file-based way, whatever is given.
    #[serde(default, rename = "use", deserialize_with = "de_opt_string")]
    pub use_: Option<String>,
}

/// The `hostname` module.
pub struct Hostname;

#[async_trait]
impl TypedModule for Hostname {
    const NAME: &'static str = "hostname";
    type Params = HostnameParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: HostnameParams,
    ) -> Result<ModuleResult, ModuleError> {
        let name = p.name.trim().to_string();
        let valid = !name.is_empty()
            && name.len() <= 253
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if !valid {
            return Ok(ModuleResult::failed(format!("invalid hostname: {name:?}")));
        }
        let out = ctx
            .conn
            .run("hostname; echo @@; cat /etc/hostname 2>/dev/null")
            .await?;
        let text = out.stdout_str();
        let (current, permanent) = text.split_once("@@\n").unwrap_or((&text, ""));
        let (current, permanent) = (current.trim(), permanent.trim());
        let changed = current != name || permanent != name;
        let mut facts = Vars::new();
        facts.insert(
            "ansible_hostname".into(),
            Value::from(name.split('.').next().unwrap_or(&name)),
        );
        facts.insert("ansible_nodename".into(), Value::from(name.as_str()));
        facts.insert("ansible_fqdn".into(), Value::from(name.as_str()));
        facts.insert(
            "ansible_domain".into(),
            Value::from(name.split_once('.').map_or("", |(_, d)| d)),
        );
        let mut result = ModuleResult {
            changed,
            ansible_facts: Some(facts),
            ..ModuleResult::ok()
        }
        .with("name", name.as_str());
        if changed && ctx.diff {
            result = result.with_diff(Diff {
                before_header: None,
                after_header: None,
                before: format!("hostname = {current}\n"),
                after: format!("hostname = {name}\n"),
            });
        }
        if changed && !ctx.check_mode {
            let q = shell_quote(&name);
            let prefer_systemd = p.use_.as_deref().is_none_or(|u| u == "systemd");
            let script = format!(
                concat!(
                    "if {sd} command -v hostnamectl >/dev/null && hostnamectl --static set-hostname {q} >/dev/null 2>&1 ",
                    "&& hostnamectl --transient set-hostname {q} >/dev/null 2>&1; then exit 0; fi\n",
                    "printf '%s\\n' {q} > /etc/hostname && hostname {q} 2>&1"
                ),
                sd = if prefer_systemd { "" } else { "false &&" },
                q = q
            );
            let out = ctx.conn.run(script).await?;
            if !out.success() {
                return Ok(ModuleResult::failed(format!(
                    "Command failed rc={}, out={}",
                    out.rc,
                    out.stdout_str().trim()
                )));
            }
        }
        Ok(result)
    }
}

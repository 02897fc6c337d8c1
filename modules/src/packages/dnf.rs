//! `dnf` (and `yum`, which ansible-core 2.19 runs as `dnf`): RPM packages with the dnf command
//! line, without Python on the target. `rpm -q` finds what is installed; one `dnf` transaction
//! changes it. Command construction and planning are unit-tested; there are no RPM hosts in the
//! test harness, so the target-side path is not tested against a real host.

use async_trait::async_trait;
use drover_core::connection::shell_quote;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::{ModuleParams, ParamChoices};
use serde::Deserialize;
use serde_json::Value;

use crate::params::{de_bool, de_opt_bool, de_opt_string, de_string_list};

/// `state` of `dnf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ParamChoices)]
#[serde(rename_all = "lowercase")]
pub enum DnfState {
    /// Installed.
    #[serde(alias = "installed")]
    Present,
    /// Newest available version installed.
    Latest,
    /// Not installed.
    #[serde(alias = "removed")]
    Absent,
}

/// Parameters of `dnf`/`yum`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct DnfParams {
    /// Package specs, `@group`s, local paths or URLs; `*` with `latest` upgrades everything.
    #[serde(default, alias = "pkg", deserialize_with = "de_string_list")]
    pub name: Vec<String>,
    /// Desired state (default present, or absent with `autoremove`).
    #[serde(default)]
    pub state: Option<DnfState>,
    /// Repositories to enable for this transaction.
    #[serde(default, deserialize_with = "de_string_list")]
    pub enablerepo: Vec<String>,
    /// Repositories to disable for this transaction.
    #[serde(default, deserialize_with = "de_string_list")]
    pub disablerepo: Vec<String>,
    /// Package specs to exclude.
    #[serde(default, deserialize_with = "de_string_list")]
    pub exclude: Vec<String>,
    /// Alternative dnf configuration file.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub conf_file: Option<String>,
    /// Skip GPG signature checks.
    #[serde(default, deserialize_with = "de_bool")]
    pub disable_gpg_check: bool,
    /// Alternative installation root.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub installroot: Option<String>,
    /// Alternative release version.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub releasever: Option<String>,
    /// Remove unneeded dependencies.
    #[serde(default, deserialize_with = "de_bool")]
    pub autoremove: bool,
    /// Refresh metadata first.
    #[serde(default, alias = "expire-cache", deserialize_with = "de_bool")]
    pub update_cache: bool,
    /// With `latest`, only upgrade installed packages.
    #[serde(default, deserialize_with = "de_bool")]
    pub update_only: bool,
    /// Only security updates.
    #[serde(default, deserialize_with = "de_bool")]
    pub security: bool,
    /// Only bugfix updates.
    #[serde(default, deserialize_with = "de_bool")]
    pub bugfix: bool,
    /// Allow downgrades.
    #[serde(default, deserialize_with = "de_bool")]
    pub allow_downgrade: bool,
    /// Install weak dependencies (default yes).
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub install_weak_deps: Option<bool>,
    /// Only download.
    #[serde(default, deserialize_with = "de_bool")]
    pub download_only: bool,
    /// Skip packages with broken dependencies.
    #[serde(default, deserialize_with = "de_bool")]
    pub skip_broken: bool,
    /// Allow erasing installed packages to resolve dependencies.
    #[serde(default, deserialize_with = "de_bool")]
    pub allowerasing: bool,
    /// Do not insist on the best candidate.
    #[serde(default, deserialize_with = "de_bool")]
    pub nobest: bool,
    /// Use only the cache.
    #[serde(default, deserialize_with = "de_bool")]
    pub cacheonly: bool,
    /// Seconds to wait for the package manager lock (dnf waits on its own).
    #[serde(default)]
    pub lock_timeout: Option<u64>,
    /// Accepted for compatibility: drover always uses the dnf command line.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub use_backend: Option<String>,
    /// Accepted for compatibility.
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub validate_certs: Option<bool>,
    /// Accepted for compatibility.
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub sslverify: Option<bool>,
}

impl DnfParams {
    /// The effective state: `absent` when only `autoremove` is given, else `present`.
    pub fn effective_state(&self) -> DnfState {
        self.state
            .unwrap_or(if self.autoremove && self.name.is_empty() {
                DnfState::Absent
            } else {
                DnfState::Present
            })
    }

    /// Global dnf options for every transaction.
    pub fn global_options(&self, check_mode: bool) -> Vec<String> {
        let mut o = vec!["-y".to_string()];
        if check_mode {
            o = vec!["--assumeno".to_string()];
        }
        if let Some(c) = &self.conf_file {
            o.push(format!("--config={}", shell_quote(c)));
        }
        if let Some(r) = &self.installroot {
            o.push(format!("--installroot={}", shell_quote(r)));
        }
        if let Some(r) = &self.releasever {
            o.push(format!("--releasever={}", shell_quote(r)));
        }
        if !self.disablerepo.is_empty() {
            o.push(format!(
                "--disablerepo={}",
                shell_quote(&self.disablerepo.join(","))
            ));
        }
        if !self.enablerepo.is_empty() {
            o.push(format!(
                "--enablerepo={}",
                shell_quote(&self.enablerepo.join(","))
            ));
        }
        if !self.exclude.is_empty() {
            o.push(format!(
                "--exclude={}",
                shell_quote(&self.exclude.join(","))
            ));
        }
        if self.disable_gpg_check {
            o.push("--nogpgcheck".into());
        }
        if self.update_cache {
            o.push("--refresh".into());
        }
        if self.security {
            o.push("--security".into());
        }
        if self.bugfix {
            o.push("--bugfix".into());
        }
        if self.install_weak_deps == Some(false) {
            o.push("--setopt=install_weak_deps=False".into());
        }
        if self.download_only {
            o.push("--downloadonly".into());
        }
        if self.skip_broken {
            o.push("--skip-broken".into());
        }
        if self.allowerasing {
            o.push("--allowerasing".into());
        }
        if self.nobest {
            o.push("--nobest".into());
        }
        if self.cacheonly {
            o.push("--cacheonly".into());
        }
        o
    }
}

/// A planned dnf transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnfCommand {
    /// The command line.
    pub cmdline: String,
    /// Changed unless dnf says "Nothing to do." (specs whose state rpm cannot tell).
    pub decide_by_output: bool,
}

/// True for specs `rpm -q` can answer for: plain names, not groups, paths, URLs or globs.
pub fn is_plain_name(spec: &str) -> bool {
    !spec.starts_with('@') && !spec.contains('/') && !spec.contains(['*', '?', '['])
}

/// Plans the transaction: `installed` are the plain names `rpm -q` found installed.
pub fn plan(p: &DnfParams, installed: &[String], check_mode: bool) -> Option<DnfCommand> {
    let opts = p.global_options(check_mode).join(" ");
    let quote = |v: &[&String]| {
        v.iter()
            .map(|s| shell_quote(s))
            .collect::<Vec<_>>()
            .join(" ")
    };
    match p.effective_state() {
        DnfState::Absent => {
            if p.name.is_empty() {
                return Some(DnfCommand {
                    cmdline: format!("dnf {opts} autoremove"),
                    decide_by_output: true,
                });
            }
            let remove: Vec<&String> = p
                .name
                .iter()
                .filter(|n| !is_plain_name(n) || installed.contains(n))
                .collect();
            (!remove.is_empty()).then(|| DnfCommand {
                cmdline: format!("dnf {opts} remove {}", quote(&remove)),
                decide_by_output: remove.iter().any(|n| !is_plain_name(n)),
            })
        }
        DnfState::Present => {
            let missing: Vec<&String> = p
                .name
                .iter()
                .filter(|n| !is_plain_name(n) || !installed.contains(n))
                .collect();
            let downgrade = if p.allow_downgrade {
                " --allow-downgrade"
            } else {
                ""
            };
            (!missing.is_empty()).then(|| DnfCommand {
                cmdline: format!("dnf {opts}{downgrade} install {}", quote(&missing)),
                decide_by_output: missing.iter().any(|n| !is_plain_name(n)),
            })
        }
        DnfState::Latest => {
            let all: Vec<&String> = p.name.iter().filter(|n| n.as_str() != "*").collect();
            if all.is_empty() {
                return Some(DnfCommand {
                    cmdline: format!("dnf {opts} upgrade"),
                    decide_by_output: true,
                });
            }
            let verb = if p.update_only { "upgrade" } else { "install" };
            let upgrade = if p.update_only { "" } else { " --best" };
            Some(DnfCommand {
                cmdline: format!("dnf {opts}{upgrade} {verb} {}", quote(&all)),
                decide_by_output: true,
            })
        }
    }
}

/// The `dnf` module (also registered as `yum`).
pub struct Dnf;

#[async_trait]
impl TypedModule for Dnf {
    const NAME: &'static str = "dnf";
    type Params = DnfParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: DnfParams,
    ) -> Result<ModuleResult, ModuleError> {
        let plain: Vec<String> = p
            .name
            .iter()
            .filter(|n| is_plain_name(n))
            .cloned()
            .collect();
        let mut installed = Vec::new();
        if !plain.is_empty() {
            let script: Vec<String> = plain
                .iter()
                .map(|n| {
                    format!(
                        "rpm -q --whatprovides {q} >/dev/null 2>&1 && echo {q}",
                        q = shell_quote(n)
                    )
                })
                .collect();
            let out = ctx
                .conn
                .run(format!("command -v dnf >/dev/null 2>&1 || dnf5 --version >/dev/null 2>&1 || {{ echo '@@drover-no-dnf'; exit 0; }}\n{}\nexit 0", script.join("\n")))
                .await?;
            let text = out.stdout_str();
            if text.contains("@@drover-no-dnf") {
                return Ok(ModuleResult::failed("dnf is not installed on the target"));
            }
            installed = text.lines().map(str::to_string).collect();
        }
        let Some(cmd) = plan(&p, &installed, false) else {
            return Ok(ModuleResult::changed(false)
                .with_msg("Nothing to do")
                .with("results", Value::Array(Vec::new())));
        };
        if ctx.check_mode && !cmd.decide_by_output {
            return Ok(ModuleResult::changed(true).with("results", Value::Array(Vec::new())));
        }
        let cmdline = if ctx.check_mode {
            plan(&p, &installed, true).map_or(cmd.cmdline.clone(), |c| c.cmdline)
        } else {
            cmd.cmdline.clone()
        };
        let out = ctx.conn.run(format!("LANG=C LC_ALL=C {cmdline}")).await?;
        let (stdout, stderr) = (out.stdout_str(), out.stderr_str());
        let nothing = stdout.contains("Nothing to do") || stderr.contains("Nothing to do");
        // --assumeno exits 1 after printing the transaction.
        let failed = if ctx.check_mode {
            stderr.contains("No match for argument")
                || stderr.contains("Error:") && !stderr.contains("Operation aborted")
        } else {
            out.rc != 0
        };
        if failed {
            let failures: Vec<Value> = stderr
                .lines()
                .chain(stdout.lines())
                .filter(|l| l.starts_with("No match for argument") || l.starts_with("Error"))
                .map(|l| Value::String(l.to_string()))
                .collect();
            return Ok(
                ModuleResult::failed("Failed to install some of the specified packages")
                    .with("failures", Value::Array(failures))
                    .with("rc", out.rc)
                    .with("results", Value::Array(Vec::new())),
            );
        }
        let results: Vec<Value> = stdout
            .lines()
            .map(|l| Value::String(l.to_string()))
            .collect();
        Ok(ModuleResult::changed(!nothing)
            .with_msg(if nothing { "Nothing to do" } else { "" })
            .with("rc", 0)
            .with("results", Value::Array(results)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use drover_core::module::parse_params;
    use serde_json::json;

    fn params(v: Value) -> DnfParams {
        parse_params("dnf", &v).unwrap()
    }

    #[test]
    fn present_installs_only_missing_packages() {
        let p = params(json!({"name": ["nginx", "git"], "enablerepo": "epel"}));
        let c = plan(&p, &["git".to_string()], false).unwrap();
        assert_eq!(c.cmdline, "dnf -y --enablerepo=epel install nginx");
        assert!(!c.decide_by_output);
        assert!(plan(&p, &["git".into(), "nginx".into()], false).is_none());
    }

    #[test]
    fn groups_and_urls_always_go_to_dnf() {
        let p = params(json!({"name": "@Development Tools", "disable_gpg_check": true}));
        let c = plan(&p, &[], false).unwrap();
        assert_eq!(
            c.cmdline,
            "dnf -y --nogpgcheck install '@Development Tools'"
        );
        assert!(c.decide_by_output);
    }

    #[test]
    fn absent_latest_and_check_mode() {
        let p = params(json!({"name": "nginx", "state": "removed"}));
        assert!(plan(&p, &[], false).is_none());
        assert_eq!(
            plan(&p, &["nginx".into()], true).unwrap().cmdline,
            "dnf --assumeno remove nginx"
        );
        let p = params(json!({"name": "*", "state": "latest", "update_cache": true}));
        assert_eq!(
            plan(&p, &[], false).unwrap().cmdline,
            "dnf -y --refresh upgrade"
        );
        let p = params(json!({"name": "nginx", "state": "latest", "install_weak_deps": false}));
        assert_eq!(
            plan(&p, &[], false).unwrap().cmdline,
            "dnf -y --setopt=install_weak_deps=False --best install nginx"
        );
        let p = params(json!({"autoremove": true}));
        assert_eq!(p.effective_state(), DnfState::Absent);
        assert_eq!(plan(&p, &[], false).unwrap().cmdline, "dnf -y autoremove");
    }

    #[test]
    fn bad_arguments_are_rejected() {
        assert!(parse_params::<DnfParams>("dnf", &json!({"state": "gone"})).is_err());
        assert!(parse_params::<DnfParams>("dnf", &json!({"nmae": "x"})).is_err());
    }
}

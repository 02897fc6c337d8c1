//! `apt`: manages Debian packages with apt-get, without Python on the target. One round trip
//! updates the cache if due and queries dpkg/apt state for every named package; drover plans in
//! Rust; a second round trip runs one apt-get transaction (`--simulate` in check mode).

use async_trait::async_trait;
use drover_core::connection::shell_quote;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use serde_json::{json, Value};

use super::apt_params::{AptParams, AptState, UpgradeMode};
use super::apt_plan::{
    is_unknown, plan_install, plan_remove, prepared_diff, split_spec, InstallMode, PackageSpec,
    Providers,
};
use super::apt_run::{
    mark_manual_if_auto, parse_prelude, prelude_script, run_apt_command, CommandOutcome, Prelude,
};
use super::dpkg::{expand_dpkg_options, parse_query, APT_GET_ZERO};
use super::version::{glob_match, has_glob};

/// The `apt` module.
pub struct Apt;

#[async_trait]
impl TypedModule for Apt {
    const NAME: &'static str = "apt";
    type Params = AptParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: AptParams,
    ) -> Result<ModuleResult, ModuleError> {
        AptRun { ctx, p: &p }.run().await
    }
}

/// One run of `apt` on one host.
pub(super) struct AptRun<'a, 'b> {
    pub(super) ctx: &'a ModuleContext<'b>,
    pub(super) p: &'a AptParams,
}

/// Adds `stdout`/`stderr` with their `_lines` and the `diff` entry Ansible returns.
/// The failed result of an apt command: `'<what>' failed: <stderr>`, with its rc and output.
pub(super) fn command_failed(what: &str, o: &CommandOutcome) -> ModuleResult {
    let r =
        ModuleResult::failed(format!("'{what}' failed: {}", o.stderr.trim_end())).with("rc", o.rc);
    with_output(r, &o.stdout, &o.stderr, None)
}

pub(super) fn with_output(
    mut r: ModuleResult,
    stdout: &str,
    stderr: &str,
    diff: Option<String>,
) -> ModuleResult {
    r.data.insert("stdout".into(), stdout.into());
    r.data.insert("stderr".into(), stderr.into());
    r.data.insert("stdout_lines".into(), lines(stdout));
    r.data.insert("stderr_lines".into(), lines(stderr));
    let d = diff.map_or_else(|| json!({}), |prepared| json!({ "prepared": prepared }));
    r.data.insert("diff".into(), d);
    r
}

/// Check mode on a cache without package lists: the update is only predicted, so apt cannot
/// simulate; every requested package dpkg does not have installed would be installed.
fn predict_without_lists(specs: &[PackageSpec], q: &super::dpkg::PackageQuery) -> ModuleResult {
    let missing = specs
        .iter()
        .any(|s| !q.dpkg.get(&s.name).is_some_and(|d| d.installed()));
    ModuleResult::changed(missing)
}

fn lines(s: &str) -> Value {
    Value::Array(s.lines().map(|l| Value::String(l.to_string())).collect())
}

impl AptRun<'_, '_> {
    pub(super) fn check_arg(&self) -> &'static str {
        if self.ctx.check_mode {
            " --simulate"
        } else {
            ""
        }
    }

    /// dpkg options and the lock timeout, in ansible-core's order.
    pub(super) fn common_flags(&self) -> String {
        format!(
            "{} -o DPkg::Lock::Timeout={}",
            expand_dpkg_options(&self.p.dpkg_options),
            self.p.lock_timeout
        )
    }

    pub(super) fn diff_of(&self, out: &str) -> Option<String> {
        self.ctx.diff.then(|| prepared_diff(out))
    }

    async fn run(&self) -> Result<ModuleResult, ModuleError> {
        let p = self.p;
        let names: Vec<String> = p.name.iter().map(|n| n.trim().to_string()).collect();
        let upgrade_all = p.state == AptState::Latest && names.iter().any(|n| n == "*");
        let names: Vec<String> = names.into_iter().filter(|n| n != "*").collect();
        if upgrade_all && !names.is_empty() {
            return Ok(ModuleResult::failed(
                "unable to install additional packages when upgrading all installed packages",
            ));
        }
        for n in &names {
            if n.matches('=').count() > 1 {
                return Ok(ModuleResult::failed(format!("invalid package spec: {n}")));
            }
            if p.state == AptState::Latest && n.contains('=') {
                return Ok(ModuleResult::failed(format!(
                    "version number inconsistent with state=latest: {n}"
                )));
            }
        }
        if p.deb.is_some() && p.state != AptState::Present {
            return Ok(ModuleResult::failed("deb only supports state=present"));
        }
        let specs: Vec<PackageSpec> = names.iter().map(|n| split_spec(n)).collect();
        let wildcard = specs.iter().any(|s| has_glob(&s.name));
        let query_names: Vec<String> = specs
            .iter()
            .filter(|s| !has_glob(&s.name))
            .map(|s| s.name.clone())
            .collect();

        let update =
            (p.update_cache == Some(true) || p.cache_valid_time > 0).then_some(p.cache_valid_time);
        // Packages requested from a cache that has no package lists at all (an image whose lists
        // were cleaned at build time): update first. ansible-core does so by a side effect (it runs
        // `apt-get update` before installing python3-apt on such hosts); drover decides it here.
        let requested = (!names.is_empty() && p.state != AptState::Absent) || p.deb.is_some();
        let script = prelude_script(&Prelude {
            update,
            update_if_lists_empty: requested,
            apply: !self.ctx.check_mode,
            retries: p.update_cache_retries,
            max_delay: p.update_cache_retry_max_delay,
            default_release: p.default_release.as_deref(),
            list_names: wildcard,
            names: &query_names,
            lock_timeout: p.lock_timeout,
        });
        let out = self.ctx.conn.run(script).await?;
        let prelude = parse_prelude(&out.stdout_str());
        if let Some(err) = &prelude.update_error {
            return Ok(ModuleResult::failed(format!(
                "Failed to update apt cache: {}",
                update_error_summary(err)
            )));
        }
        let (cache_updated, cache_update_time) = match prelude.stamp_after {
            Some(after) => (
                self.ctx.check_mode || prelude.lists_empty || after != prelude.stamp_before,
                after,
            ),
            None => (false, 0),
        };
        let cache_keys = |r: ModuleResult| {
            r.with("cache_updated", cache_updated)
                .with("cache_update_time", cache_update_time)
        };

        if p.clean {
            let cmd = if self.ctx.check_mode {
                "apt-get clean --dry-run"
            } else {
                "apt-get clean"
            };
            let o = run_apt_command(self.ctx, cmd, None, &[]).await?;
            if o.rc != 0 {
                return Ok(ModuleResult::failed(format!(
                    "apt-get clean failed: {}",
                    o.stderr
                )));
            }
            if names.is_empty() && p.upgrade == UpgradeMode::No && p.deb.is_none() {
                let r = ModuleResult::changed(true).with_msg(o.stdout.clone());
                return Ok(with_output(
                    r,
                    &o.stdout,
                    &o.stderr,
                    self.diff_of(&o.stdout),
                ));
            }
        }
        if update.is_some() && names.is_empty() && p.upgrade == UpgradeMode::No && p.deb.is_none() {
            return Ok(cache_keys(ModuleResult::changed(cache_updated)));
        }
        if p.upgrade != UpgradeMode::No {
            return self.upgrade(p.upgrade, prelude.aptitude).await;
        }
        if let Some(deb) = &p.deb {
            return self.install_deb(deb).await;
        }
        if upgrade_all {
            return self.upgrade(UpgradeMode::Safe, prelude.aptitude).await;
        }

        // Expand wildcard names against the cache, then query them.
        let (specs, query) = if wildcard {
            let mut expanded = Vec::new();
            for s in &specs {
                if !has_glob(&s.name) {
                    expanded.push(s.clone());
                    continue;
                }
                if s.version.is_some() {
                    return Ok(ModuleResult::failed(
                        "pkgname wildcard and version can not be mixed",
                    ));
                }
                let matches: Vec<&String> = prelude
                    .pkgnames
                    .iter()
                    .filter(|n| {
                        (s.name.contains(':') || !n.contains(':')) && glob_match(&s.name, n)
                    })
                    .collect();
                if matches.is_empty() {
                    return Ok(ModuleResult::failed(format!(
                        "No package(s) matching '{}' available",
                        s.name
                    )));
                }
                expanded.extend(matches.into_iter().map(|n| split_spec(n)));
            }
            let all: Vec<String> = expanded.iter().map(|s| s.name.clone()).collect();
            let out = self
                .ctx
                .conn
                .run(format!(
                    "{}{}",
                    super::apt_run::env_line(),
                    super::dpkg::query_script(&all)
                ))
                .await?;
            (expanded, parse_query(&out.stdout_str()))
        } else {
            (specs, parse_query(&prelude.query))
        };

        if specs.is_empty() && p.state != AptState::Absent {
            if p.autoclean {
                return self.cleanup("autoclean").await;
            }
            if p.autoremove {
                return self.cleanup("autoremove").await;
            }
        }
        if specs.is_empty() && p.state == AptState::Absent {
            if p.autoclean {
                return self.cleanup("autoclean").await;
            }
            if p.autoremove {
                return self.cleanup("autoremove").await;
            }
        }

        if p.state == AptState::Absent {
            let r = self.remove(&specs, &query).await?;
            return Ok(r);
        }
        let r = if self.ctx.check_mode && prelude.lists_empty {
            predict_without_lists(&specs, &query)
        } else if p.state == AptState::BuildDep {
            self.build_dep(&specs).await?
        } else {
            self.install(&specs, &query).await?
        };
        Ok(cache_keys(r))
    }

    /// The virtual names among `specs` (unknown to apt as packages) with the packages whose candidate
    /// version provides them, and `q` extended with those providers' dpkg state and policy.
    async fn virtual_packages(
        &self,
        specs: &[PackageSpec],
        q: &super::dpkg::PackageQuery,
    ) -> Result<(Providers, super::dpkg::PackageQuery), ModuleError> {
        let unknown: Vec<&PackageSpec> = specs.iter().filter(|s| is_unknown(&s.name, q)).collect();
        if unknown.is_empty() {
            return Ok((Providers::new(), q.clone()));
        }
        let mut script = super::apt_run::env_line();
        for s in &unknown {
            script.push_str(&format!(
                "printf '@@drover-virtual %s\\n' {n}; apt-cache showpkg {n} 2>/dev/null | sed -n '/^Reverse Provides:/,$p' | tail -n +2\n",
                n = shell_quote(&s.name)
            ));
        }
        let out = self.ctx.conn.run(script).await?.stdout_str();
        let offered = parse_reverse_provides(&out);
        let names: Vec<String> = offered.values().flatten().map(|(p, _)| p.clone()).collect();
        let mut query = q.clone();
        if !names.is_empty() {
            let script = format!(
                "{}{}",
                super::apt_run::env_line(),
                super::dpkg::query_script(&names)
            );
            let found = parse_query(&self.ctx.conn.run(script).await?.stdout_str());
            query.dpkg.extend(found.dpkg);
            query.policy.extend(found.policy);
        }
        let providers = offered
            .into_iter()
            .map(|(name, offers)| {
                let mut by_candidate: Vec<String> = Vec::new();
                for (p, v) in offers {
                    let candidate = query.policy(&p).and_then(|x| x.candidate.as_deref());
                    if candidate == Some(v.as_str()) && !by_candidate.contains(&p) {
                        by_candidate.push(p);
                    }
                }
                (name, by_candidate)
            })
            .collect();
        Ok((providers, query))
    }

    async fn install(
        &self,
        specs: &[PackageSpec],
        q: &super::dpkg::PackageQuery,
    ) -> Result<ModuleResult, ModuleError> {
        let p = self.p;
        let (providers, q) = self.virtual_packages(specs, q).await?;
        let q = &q;
        let mode = InstallMode {
            upgrade: p.state == AptState::Latest,
            only_upgrade: p.only_upgrade,
            release_pinned: p.default_release.is_some(),
        };
        let plan = match plan_install(specs, q, mode, &providers) {
            Ok(plan) => plan,
            Err(e) => return Ok(ModuleResult::failed(e.0)),
        };
        if plan.to_install.is_empty() {
            if !self.ctx.check_mode && mark_manual_if_auto(self.ctx, &plan.names).await? {
                return Ok(ModuleResult::failed(format!(
                    "'apt-mark manual {}' failed",
                    plan.names.join(" ")
                )));
            }
            return Ok(ModuleResult::changed(false));
        }
        // ansible-core's command line, field for field (its failure message quotes it).
        let flag = |on: bool, text: &'static str| if on { text } else { "" };
        let packages: Vec<String> = plan.to_install.iter().map(|s| quoted(s)).collect();
        let mut cmd = format!(
            "/usr/bin/apt-get -y {} {} {} {} {} {} {} install {}",
            self.common_flags(),
            flag(p.only_upgrade, "--only-upgrade"),
            flag(p.state == AptState::Fixed, "--fix-broken"),
            flag(p.force, "--force-yes"),
            flag(p.autoremove, "--auto-remove"),
            flag(p.fail_on_autoremove, "--no-remove"),
            self.check_arg().trim_start(),
            packages.join(" ")
        );
        self.push_install_options(&mut cmd);
        let mark = if self.ctx.check_mode {
            Vec::new()
        } else {
            plan.names.clone()
        };
        let o = run_apt_command(self.ctx, &cmd, p.policy_rc_d, &mark).await?;
        if o.rc != 0 {
            let mut r =
                ModuleResult::failed(format!("'{cmd}' failed: {}", o.stderr)).with("rc", o.rc);
            r = with_output(r, &o.stdout, &o.stderr, None);
            r.data.remove("diff");
            return Ok(r);
        }
        if o.mark_failed {
            return Ok(ModuleResult::failed(format!(
                "'apt-mark manual {}' failed",
                plan.names.join(" ")
            )));
        }
        let diff = self.diff_of(&o.stdout);
        Ok(with_output(
            ModuleResult::changed(true),
            &o.stdout,
            &o.stderr,
            diff,
        ))
    }

    pub(super) fn push_install_options(&self, cmd: &mut String) {
        let p = self.p;
        if let Some(release) = &p.default_release {
            cmd.push_str(&format!(" -t {}", quoted(release)));
        }
        match p.install_recommends {
            Some(false) => cmd.push_str(" -o APT::Install-Recommends=no"),
            Some(true) => cmd.push_str(" -o APT::Install-Recommends=yes"),
            None => {}
        }
        if p.allow_unauthenticated {
            cmd.push_str(" --allow-unauthenticated");
        }
        if p.allow_downgrade {
            cmd.push_str(" --allow-downgrades");
        }
        if p.allow_change_held_packages {
            cmd.push_str(" --allow-change-held-packages");
        }
    }

    async fn build_dep(&self, specs: &[PackageSpec]) -> Result<ModuleResult, ModuleError> {
        if specs.is_empty() {
            return Ok(ModuleResult::changed(false));
        }
        let packages: Vec<String> = specs.iter().map(|s| shell_quote(&s.spec)).collect();
        let mut cmd = format!(
            "apt-get -y {}{} build-dep {}",
            self.common_flags(),
            self.check_arg(),
            packages.join(" ")
        );
        self.push_install_options(&mut cmd);
        let o = run_apt_command(self.ctx, &cmd, self.p.policy_rc_d, &[]).await?;
        if o.rc != 0 {
            return Ok(command_failed(&cmd, &o));
        }
        let changed = !o.stdout.contains(APT_GET_ZERO);
        let diff = self.diff_of(&o.stdout);
        Ok(with_output(
            ModuleResult::changed(changed),
            &o.stdout,
            &o.stderr,
            diff,
        ))
    }

    async fn remove(
        &self,
        specs: &[PackageSpec],
        q: &super::dpkg::PackageQuery,
    ) -> Result<ModuleResult, ModuleError> {
        let p = self.p;
        let to_remove = plan_remove(specs, q, p.purge);
        if to_remove.is_empty() {
            return Ok(ModuleResult::changed(false));
        }
        let packages: Vec<String> = to_remove.iter().map(|s| shell_quote(s)).collect();
        let cmd = format!(
            "apt-get -q -y {}{}{}{}{}{} remove {}",
            self.common_flags(),
            if p.purge { " --purge" } else { "" },
            if p.force { " --force-yes" } else { "" },
            if p.autoremove { " --auto-remove" } else { "" },
            self.check_arg(),
            if p.allow_change_held_packages {
                " --allow-change-held-packages"
            } else {
                ""
            },
            packages.join(" ")
        );
        let o = run_apt_command(self.ctx, &cmd, p.policy_rc_d, &[]).await?;
        if o.rc != 0 {
            return Ok(command_failed(
                &format!("apt-get remove {}", packages.join(" ")),
                &o,
            ));
        }
        let diff = self.diff_of(&o.stdout);
        Ok(with_output(
            ModuleResult::changed(true),
            &o.stdout,
            &o.stderr,
            diff,
        ))
    }

    async fn cleanup(&self, operation: &str) -> Result<ModuleResult, ModuleError> {
        let p = self.p;
        let cmd = format!(
            "apt-get -y {}{}{} {operation}{}",
            self.common_flags(),
            if p.purge { " --purge" } else { "" },
            if p.force { " --force-yes" } else { "" },
            self.check_arg()
        );
        let o = run_apt_command(self.ctx, &cmd, None, &[]).await?;
        if o.rc != 0 {
            return Ok(command_failed(&format!("apt-get {operation}"), &o));
        }
        let marker = if operation == "autoremove" {
            "The following packages will be REMOVED"
        } else {
            "Del "
        };
        let changed = o.stdout.contains(marker);
        let diff = self.diff_of(&o.stdout);
        Ok(with_output(
            ModuleResult::changed(changed),
            &o.stdout,
            &o.stderr,
            diff,
        ))
    }
}

/// The error lines of a failed `apt-get update` (all output if there are none).
/// `'word'` as ansible-core quotes package specs on apt-get's command line (shell-quoted properly
/// when the word holds a quote, which no package name or version can).
fn quoted(word: &str) -> String {
    if word.contains('\'') {
        shell_quote(word)
    } else {
        format!("'{word}'")
    }
}

/// Parses the virtual-package script's output: each name with the (package, version) pairs of its
/// `Reverse Provides:` section.
fn parse_reverse_provides(out: &str) -> std::collections::BTreeMap<String, Vec<(String, String)>> {
    let mut all: std::collections::BTreeMap<String, Vec<(String, String)>> = Default::default();
    let mut current: Option<String> = None;
    for line in out.lines() {
        if let Some(n) = line.strip_prefix("@@drover-virtual ") {
            current = Some(n.to_string());
            all.entry(n.to_string()).or_default();
        } else if let Some(n) = &current {
            let mut words = line.split_whitespace();
            if let (Some(p), Some(v)) = (words.next(), words.next()) {
                all.entry(n.clone())
                    .or_default()
                    .push((p.to_string(), v.to_string()));
            }
        }
    }
    all
}

fn update_error_summary(out: &str) -> String {
    let errors: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("E:") || l.starts_with("W:") || l.starts_with("Err:"))
        .collect();
    if errors.is_empty() {
        out.trim().to_string()
    } else {
        errors.join(", ")
    }
}

//! The whole-system paths of `apt`: `upgrade` (apt-get or aptitude) and installing a `.deb` file.

use drover_core::connection::shell_quote;
use drover_core::module::{ModuleError, ModuleResult};

use super::apt::{command_failed, with_output, AptRun};
use super::apt_params::UpgradeMode;
use super::apt_run::run_apt_command;
use super::dpkg::{expand_dpkg_options, APT_GET_ZERO};
use crate::transfer::http::{HttpRequest, NO_CLIENT};
use crate::transfer::marker;

const APTITUDE_ZERO: &str = "\n0 packages upgraded, 0 newly installed";

impl AptRun<'_, '_> {
    pub(super) async fn upgrade(
        &self,
        mode: UpgradeMode,
        aptitude: bool,
    ) -> Result<ModuleResult, ModuleError> {
        let p = self.p;
        let use_apt_get = p.force_apt_get || !aptitude;
        let autoremove = if p.autoremove { " --auto-remove" } else { "" };
        let (tool, command) = match mode {
            UpgradeMode::Dist => ("apt-get", format!("dist-upgrade{autoremove}")),
            UpgradeMode::Full if use_apt_get => ("apt-get", format!("dist-upgrade{autoremove}")),
            UpgradeMode::Full => ("aptitude", "full-upgrade".to_string()),
            _ if use_apt_get => ("apt-get", format!("upgrade --with-new-pkgs{autoremove}")),
            _ => ("aptitude", "safe-upgrade".to_string()),
        };
        let mut cmd = format!(
            "{tool} -y {}{}{}{}{}{} {command}",
            if tool == "apt-get" {
                self.common_flags()
            } else {
                expand_dpkg_options(&p.dpkg_options)
            },
            if p.force { " --force-yes" } else { "" },
            if p.fail_on_autoremove {
                " --no-remove"
            } else {
                ""
            },
            if p.allow_unauthenticated {
                " --allow-unauthenticated"
            } else {
                ""
            },
            if p.allow_downgrade {
                " --allow-downgrades"
            } else {
                ""
            },
            self.check_arg(),
        );
        if let Some(release) = &p.default_release {
            cmd.push_str(&format!(" -t {}", shell_quote(release)));
        }
        let o = run_apt_command(self.ctx, &cmd, p.policy_rc_d, &[]).await?;
        if o.rc != 0 {
            return Ok(command_failed(&format!("{tool} {command}"), &o));
        }
        let zero = if tool == "apt-get" {
            APT_GET_ZERO
        } else {
            APTITUDE_ZERO
        };
        let mut r = ModuleResult::changed(!o.stdout.contains(zero)).with_msg(o.stdout.clone());
        let diff = if r.changed {
            self.diff_of(&o.stdout)
        } else {
            None
        };
        r = with_output(r, &o.stdout, &o.stderr, diff);
        if !r.changed {
            r.data.remove("diff");
        }
        Ok(r)
    }

    /// Installs a `.deb` file on the target (or downloaded from a URL, into a temporary directory
    /// removed afterwards) with its dependencies, unless that version is already installed.
    pub(super) async fn install_deb(&self, deb: &str) -> Result<ModuleResult, ModuleError> {
        let mut script = super::apt_run::env_line();
        let path = if deb.contains("://") {
            // apt-get installs a file only by a name ending in .deb: the download is renamed.
            script.push_str(&format!(
                "d=$(mktemp -d) || exit 1\necho \"@@drover-tmpdir $d\"\n{}\
                 [ \"$rc\" = 0 ] && [ \"${{w%% *}}\" = 200 ] || {{ echo '@@drover-fetch-failed'; exit 0; }}\n\
                 rm -f \"$h\"; f=\"$d/$(basename {u})\"; mv -f \"$t\" \"$f\" || exit 1\n",
                HttpRequest::get(deb).script("\"$d\""),
                u = shell_quote(deb)
            ));
            "\"$f\"".to_string()
        } else {
            shell_quote(deb)
        };
        let result = self.install_deb_from(deb, script, &path).await;
        let out = match &result {
            Ok((_, out)) => out.as_str(),
            Err(_) => "",
        };
        if let Some(d) = out.lines().find_map(|l| l.strip_prefix("@@drover-tmpdir ")) {
            self.ctx
                .conn
                .run(format!("rm -rf {}", shell_quote(d.trim())))
                .await?;
        }
        result.map(|(r, _)| r)
    }

    /// [`Self::install_deb`] once the file is at `path`; returns the probe's output too.
    async fn install_deb_from(
        &self,
        deb: &str,
        mut script: String,
        path: &str,
    ) -> Result<(ModuleResult, String), ModuleError> {
        let p = self.p;
        script.push_str(&format!(
            "[ -r {path} ] || {{ echo '@@drover-no-file'; exit 0; }}\n\
             echo \"@@drover-deb-path $(readlink -f {path})\"\n\
             dpkg-deb -f {path} Package Version 2>&1 || echo '@@drover-bad-deb'\n\
             pkg=$(dpkg-deb -f {path} Package 2>/dev/null)\n\
             echo \"@@drover-installed $(dpkg-query -W -f='${{db:Status-Abbrev}} ${{Version}}' \"$pkg\" 2>/dev/null)\"\n"
        ));
        let out = self.ctx.conn.run(script).await?.stdout_str();
        let done = |r: ModuleResult| Ok((r, out.clone()));
        if marker(&out, NO_CLIENT).is_some() {
            // ansible-core downloads with Python on the target; drover has only the shell there.
            return done(ModuleResult::failed(format!(
                "apt: downloading {deb} needs curl, wget or apt-helper on the target and none is \
                 installed (copy the .deb and give its path)"
            )));
        }
        if out.contains("@@drover-fetch-failed") {
            return done(ModuleResult::failed(format!("Failure downloading {deb}")));
        }
        if out.contains("@@drover-no-file") {
            return done(ModuleResult::failed(format!(
                "Unable to install package: E:Invalid archive signature ({deb} cannot be read)"
            )));
        }
        if out.contains("@@drover-bad-deb") {
            return done(ModuleResult::failed(format!(
                "Unable to install package: {deb} is not a Debian archive"
            )));
        }
        let field = |name: &str| {
            out.lines()
                .find_map(|l| l.strip_prefix(&format!("{name}: ")))
                .unwrap_or("")
                .trim()
                .to_string()
        };
        let (version, abs) = (field("Version"), field("@@drover-deb-path").to_string());
        let abs = if abs.is_empty() {
            out.lines()
                .find_map(|l| l.strip_prefix("@@drover-deb-path "))
                .unwrap_or(deb)
                .to_string()
        } else {
            abs
        };
        let installed = out
            .lines()
            .find_map(|l| l.strip_prefix("@@drover-installed "))
            .unwrap_or("")
            .trim()
            .to_string();
        let (status, installed_version) = installed.split_once(' ').unwrap_or(("", ""));
        if status.get(1..2) == Some("i")
            && super::version::compare_versions(installed_version.trim(), &version)
                == std::cmp::Ordering::Equal
        {
            return done(with_output(ModuleResult::changed(false), "", "", None));
        }
        let mut cmd = format!(
            "apt-get -y {}{}{} install {}",
            self.common_flags(),
            if p.force { " --force-yes" } else { "" },
            self.check_arg(),
            shell_quote(&abs)
        );
        self.push_install_options(&mut cmd);
        let o = run_apt_command(self.ctx, &cmd, p.policy_rc_d, &[]).await?;
        if o.rc != 0 {
            let r = ModuleResult::failed(format!("{cmd} failed")).with("rc", o.rc);
            return done(with_output(r, &o.stdout, &o.stderr, None));
        }
        let diff = self.diff_of(&o.stdout);
        done(with_output(
            ModuleResult::changed(true),
            &o.stdout,
            &o.stderr,
            diff,
        ))
    }
}

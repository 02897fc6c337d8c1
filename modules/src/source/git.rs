//! `git`: clones a repository on the target and keeps it at a branch, tag or commit. Runs the
//! target's own `git` (over `file://`, ssh or http); the plan is made from one probe of the
//! checkout plus `git ls-remote`, the change is one more round trip.

use async_trait::async_trait;
use drover_core::connection::{shell_quote, ExecRequest};
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;
use serde_json::Value;

use super::git_steps::{
    clone_script, depth_arg, ok_result, run_script, run_step, sha_diff, target_sha, update_script,
};
use crate::params::{de_bool, de_opt_string, de_string};
use crate::remote::quote_path;

pub use super::git_steps::{resolve_version, ssh_command, Target};

/// Parameters of `git`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct GitParams {
    /// Repository URL (`file://`, `ssh://`, `user@host:path`, `https://`).
    #[serde(alias = "name", deserialize_with = "de_string")]
    pub repo: String,
    /// Checkout directory on the target.
    #[param(kind = "path")]
    #[serde(deserialize_with = "de_string")]
    pub dest: String,
    /// Branch, tag, full or abbreviated commit, or `HEAD` (default).
    #[serde(default = "head", deserialize_with = "de_string")]
    pub version: String,
    /// Remote name (default `origin`).
    #[serde(default = "origin", deserialize_with = "de_string")]
    pub remote: String,
    /// Extra refspec to fetch.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub refspec: Option<String>,
    /// Discard local modifications.
    #[serde(default, deserialize_with = "de_bool")]
    pub force: bool,
    /// Shallow clone with this many commits.
    #[param(kind = "int")]
    #[serde(default)]
    pub depth: Option<Value>,
    /// Clone when `dest` does not exist (default yes).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    pub clone: bool,
    /// Fetch new revisions (default yes).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    pub update: bool,
    /// Make a bare repository.
    #[serde(default, deserialize_with = "de_bool")]
    pub bare: bool,
    /// Initialise submodules recursively (default yes).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    pub recursive: bool,
    /// Update submodules to their remote branches' latest commits.
    #[serde(default, deserialize_with = "de_bool")]
    pub track_submodules: bool,
    /// Accept unknown ssh host keys (`StrictHostKeyChecking=no`).
    #[serde(default, deserialize_with = "de_bool")]
    pub accept_hostkey: bool,
    /// Accept new (but not changed) ssh host keys (`StrictHostKeyChecking=accept-new`).
    #[serde(default, deserialize_with = "de_bool")]
    pub accept_newhostkey: bool,
    /// Private key on the target for ssh repositories.
    #[param(kind = "path")]
    #[serde(default, deserialize_with = "de_opt_string")]
    pub key_file: Option<String>,
    /// Extra ssh options.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub ssh_opts: Option<String>,
    /// Clone only the history of the requested branch.
    #[serde(default, deserialize_with = "de_bool")]
    pub single_branch: bool,
    /// umask for git commands (octal string).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub umask: Option<String>,
    /// Path of the git binary.
    #[param(kind = "path")]
    #[serde(default, deserialize_with = "de_opt_string")]
    pub executable: Option<String>,
    /// Reference repository (`git clone --reference`).
    #[param(kind = "path")]
    #[serde(default, deserialize_with = "de_opt_string")]
    pub reference: Option<String>,
    /// Put the git directory here instead of `dest/.git`.
    #[param(kind = "path")]
    #[serde(default, deserialize_with = "de_opt_string")]
    pub separate_git_dir: Option<String>,
    /// Verify the checked-out commit's (or tag's) GPG signature.
    #[serde(default, deserialize_with = "de_bool")]
    pub verify_commit: bool,
    /// Write a `git archive` of the checkout here (zip, tar, tar.gz, tgz by extension).
    #[param(kind = "path")]
    #[serde(default, deserialize_with = "de_opt_string")]
    pub archive: Option<String>,
    /// Prefix of the archive's members.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub archive_prefix: Option<String>,
    /// Accepted for compatibility (GPG fingerprint allow-list is not checked).
    #[param(kind = "list")]
    #[serde(default, alias = "gpg_whitelist")]
    pub gpg_allowlist: Option<Value>,
}

fn head() -> String {
    "HEAD".into()
}
fn origin() -> String {
    "origin".into()
}
fn yes() -> bool {
    true
}

/// The `git` module.
pub struct Git;

#[async_trait]
impl TypedModule for Git {
    const NAME: &'static str = "git";
    type Params = GitParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: GitParams,
    ) -> Result<ModuleResult, ModuleError> {
        let depth = depth_arg(&p).map_err(|m| ModuleError::BadArgs {
            module: "git".into(),
            message: m,
        })?;
        let git = p
            .executable
            .as_deref()
            .map(shell_quote)
            .unwrap_or_else(|| "git".into());
        let env = vec![
            ("GIT_SSH_COMMAND".to_string(), ssh_command(&p)),
            ("GIT_TERMINAL_PROMPT".to_string(), "0".to_string()),
            ("LC_ALL".to_string(), "C".to_string()),
        ];
        let umask = p
            .umask
            .as_deref()
            .map(|u| format!("umask {} || exit 2\n", shell_quote(u)))
            .unwrap_or_default();
        let qd = quote_path(&p.dest);
        let marker_file = if p.bare { "HEAD" } else { ".git" };
        // 1. Probe the checkout and the remote.
        let probe = format!(
            "{umask}command -v {git} >/dev/null 2>&1 || {{ echo '@nogit'; exit 4; }}\n\
             d={qd}\n\
             if [ -e \"$d/{marker_file}\" ]; then echo '@exists'\n\
               echo \"@before $({git} -C \"$d\" rev-parse HEAD 2>/dev/null)\"\n\
               echo \"@url $({git} -C \"$d\" config --get remote.{remote}.url)\"\n\
               {dirty}\
             elif [ -d \"$d\" ] && [ -n \"$(ls -A \"$d\")\" ]; then echo '@nonempty'\n\
             elif [ -e \"$d\" ] && [ ! -d \"$d\" ]; then echo '@notdir'; fi\n\
             echo '@lsremote'\n{git} ls-remote -- {repo} || {{ rc=$?; echo \"@lsfailed $rc\"; }}\nexit 0\n",
            remote = shell_quote(&p.remote),
            repo = shell_quote(&p.repo),
            dirty = if p.bare { String::new() } else {
                format!("[ -n \"$({git} -C \"$d\" status --porcelain --untracked-files=no 2>/dev/null | head -n 1)\" ] && echo '@dirty'\n")
            },
        );
        let mut req = ExecRequest::new(probe);
        req.env = env.clone();
        let out = ctx.conn.exec(req).await?;
        let text = out.stdout_str();
        let stderr = out.stderr_str().trim().to_string();
        let (head, ls) = text.split_once("@lsremote\n").unwrap_or((&text, ""));
        let has = |k: &str| {
            head.lines()
                .any(|l| l == k || l.starts_with(&format!("{k} ")))
        };
        let value = |k: &str| {
            head.lines()
                .find_map(|l| l.strip_prefix(&format!("{k} ")))
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        if has("@nogit") {
            return Ok(ModuleResult::failed(
                "git is not installed on the target (install the git package)",
            ));
        }
        let exists = has("@exists");
        let before = value("@before").map(str::to_string);
        if ls.lines().any(|l| l.starts_with("@lsfailed")) {
            return Ok(ModuleResult::failed(format!(
                "Failed to download remote objects and refs: {stderr}"
            ))
            .with("before", before.map_or(Value::Null, Value::from)));
        }
        let Some(target) = resolve_version(ls, &p.version) else {
            return Ok(ModuleResult::failed(format!(
                "Cannot find version {} in the remote repository {}",
                p.version, p.repo
            )));
        };
        let remote_head = target_sha(&target).map(str::to_string);
        let fail = |m: String| {
            Ok(ModuleResult::failed(m)
                .with("before", before.clone().map_or(Value::Null, Value::from)))
        };

        // 2. Plan.
        let mut url_changed = false;
        let mut script = umask.clone();
        let changed;
        if !exists {
            if has("@nonempty") {
                return fail(format!(
                    "Destination path '{}' already exists and is not an empty directory.",
                    p.dest
                ));
            }
            if has("@notdir") {
                return fail(format!(
                    "Destination path '{}' already exists and is not a directory.",
                    p.dest
                ));
            }
            if !p.clone {
                return Ok(ok_result(None, remote_head.as_deref(), None));
            }
            changed = true;
            script.push_str(&clone_script(&p, &git, &target, depth));
        } else {
            // `update: no` only reports the checkout found (Ansible does not even look at its
            // remote URL).
            if !p.update {
                return Ok(ok_result(before.as_deref(), before.as_deref(), None));
            }
            url_changed = value("@url") != Some(p.repo.as_str());
            if url_changed {
                script.push_str(&run_step(&format!(
                    "{git} -C {qd} remote set-url {} {}",
                    shell_quote(&p.remote),
                    shell_quote(&p.repo)
                )));
            }
            let dirty = has("@dirty");
            if dirty && !p.force {
                return fail(format!(
                    "Local modifications exist in the destination: {} (force=no).",
                    p.dest
                ));
            }
            let at_target = match (&target, &before) {
                (Target::Commit, Some(b)) => b.starts_with(&p.version.to_ascii_lowercase()),
                (_, Some(b)) => remote_head.as_deref() == Some(b.as_str()),
                (_, None) => false,
            };
            changed = !at_target || dirty || url_changed;
            if dirty {
                script.push_str(&run_step(&format!("{git} -C {qd} reset --hard HEAD")));
            }
            if !at_target {
                script.push_str(&update_script(&p, &git, &target, depth));
            }
        }
        let submodules = p.recursive && !p.bare;
        if submodules && (changed || !exists) {
            let remote_flag = if p.track_submodules { " --remote" } else { "" };
            script.push_str(&format!(
                "if [ -f {qd}/.gitmodules ]; then\n{}{}fi\n",
                run_step(&format!("{git} -C {qd} submodule sync --recursive")),
                run_step(&format!(
                    "{git} -C {qd} submodule update --init --recursive{remote_flag}"
                ))
            ));
        }
        if p.verify_commit && !p.bare {
            script.push_str(&run_step(&format!("{git} -C {qd} verify-commit HEAD")));
        }
        let mut archive_changed = false;
        if let Some(a) = &p.archive {
            let fmt = if a.ends_with(".zip") {
                "zip"
            } else if a.ends_with(".tar.gz") || a.ends_with(".tgz") {
                "tar.gz"
            } else {
                "tar"
            };
            let prefix = p
                .archive_prefix
                .as_deref()
                .map(|x| format!(" --prefix={}", shell_quote(x)))
                .unwrap_or_default();
            script.push_str(&format!(
                "if [ {c} = 1 ] || [ ! -e {qa} ]; then echo '@archived'; {git} -C {qd} archive --format={fmt}{prefix} -o {qa} HEAD >&2 || {{ rc=$?; echo '@failed git archive'; exit $rc; }}; fi\n",
                c = u8::from(changed),
                qa = quote_path(a),
            ));
            if ctx.check_mode {
                let out = ctx.conn.run(format!("[ -e {} ]", quote_path(a))).await?;
                archive_changed = out.rc != 0;
            }
        }
        let planned_after = match &target {
            Target::Commit => Some(p.version.clone()),
            _ => remote_head.clone(),
        };
        if ctx.check_mode {
            let mut r = ok_result(
                before.as_deref(),
                planned_after.as_deref(),
                exists.then_some(url_changed),
            );
            r.changed = changed || archive_changed;
            if ctx.diff && changed {
                r = r.with_diff(sha_diff(before.as_deref(), planned_after.as_deref()));
            }
            return Ok(r);
        }
        if !changed && p.archive.is_none() {
            return Ok(ok_result(before.as_deref(), before.as_deref(), Some(false)));
        }
        script.push_str(&format!(
            "echo \"@after $({git} -C {qd} rev-parse HEAD)\"\n"
        ));
        let out = match run_script(ctx, &env, &script).await? {
            Ok(o) => o,
            Err(msg) => return fail(msg),
        };
        let after = out
            .lines()
            .find_map(|l| l.strip_prefix("@after "))
            .map(|s| s.trim().to_string());
        let archived = out.lines().any(|l| l == "@archived");
        let mut r = ok_result(
            before.as_deref(),
            after.as_deref(),
            exists.then_some(url_changed),
        );
        r.changed = changed || archived;
        if ctx.diff && before != after {
            r = r.with_diff(sha_diff(before.as_deref(), after.as_deref()));
        }
        Ok(r)
    }
}

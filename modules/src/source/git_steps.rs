//! `git`'s steps: resolving `version` against the remote's refs, the ssh command, the clone and
//! update scripts run on the target, and the results they give.

use drover_core::connection::{shell_quote, ExecRequest};
use drover_core::module::{Diff, ModuleContext, ModuleError, ModuleResult};
use serde_json::Value;

use super::git::GitParams;
use crate::remote::quote_path;

/// What `version` names on the remote.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// The remote's default branch.
    Head(String),
    /// A branch, at this commit.
    Branch(String),
    /// A tag, peeled to this commit.
    Tag(String),
    /// A commit id (possibly abbreviated).
    Commit,
}

/// Resolves `version` against `git ls-remote` output.
pub fn resolve_version(ls_remote: &str, version: &str) -> Option<Target> {
    let refs: Vec<(&str, &str)> = ls_remote
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .collect();
    let find = |name: &str| {
        refs.iter()
            .find(|(_, r)| *r == name)
            .map(|(s, _)| s.to_string())
    };
    if version == "HEAD" {
        return find("HEAD").map(Target::Head);
    }
    if let Some(s) = find(&format!("refs/heads/{version}")) {
        return Some(Target::Branch(s));
    }
    let tag = format!("refs/tags/{version}");
    if let Some(s) = find(&format!("{tag}^{{}}")).or_else(|| find(&tag)) {
        return Some(Target::Tag(s));
    }
    let hex =
        version.len() >= 4 && version.len() <= 40 && version.bytes().all(|b| b.is_ascii_hexdigit());
    hex.then_some(Target::Commit)
}

/// The commit `target` points to, when known before fetching.
pub(crate) fn target_sha(target: &Target) -> Option<&str> {
    match target {
        Target::Head(s) | Target::Branch(s) | Target::Tag(s) => Some(s),
        Target::Commit => None,
    }
}

/// The `GIT_SSH_COMMAND` for the task's ssh options.
pub fn ssh_command(p: &GitParams) -> String {
    let mut c = String::from("ssh -o BatchMode=yes");
    if p.accept_hostkey {
        c.push_str(" -o StrictHostKeyChecking=no");
    } else if p.accept_newhostkey {
        c.push_str(" -o StrictHostKeyChecking=accept-new");
    }
    if let Some(k) = &p.key_file {
        c.push_str(&format!(" -i {} -o IdentitiesOnly=yes", shell_quote(k)));
    }
    if let Some(o) = &p.ssh_opts {
        c.push(' ');
        c.push_str(o);
    }
    c
}

pub(crate) fn depth_arg(p: &GitParams) -> Result<Option<u32>, String> {
    match &p.depth {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(|d| Some(d as u32))
            .ok_or_else(|| format!("depth must be a positive integer, got {n}")),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("depth must be a positive integer, got {s}")),
        Some(other) => Err(format!("depth must be a positive integer, got {other}")),
    }
}

pub(crate) fn run_step(cmd: &str) -> String {
    // Each step's output goes to stderr so stdout carries only markers.
    format!(
        "{cmd} >&2 || {{ rc=$?; echo \"@failed {}\"; exit $rc; }}\n",
        cmd.replace('\n', " ").replace('"', "'")
    )
}

/// Builds the clone script.
pub(crate) fn clone_script(
    p: &GitParams,
    git: &str,
    target: &Target,
    depth: Option<u32>,
) -> String {
    let mut args = vec![format!("{git} clone")];
    if p.bare {
        args.push("--bare".into());
    }
    if p.remote != "origin" {
        args.push(format!("--origin {}", shell_quote(&p.remote)));
    }
    if let Some(d) = depth {
        if !matches!(target, Target::Commit) {
            args.push(format!("--depth {d}"));
            if !p.single_branch {
                args.push("--no-single-branch".into());
            }
        }
    }
    if p.single_branch {
        args.push("--single-branch".into());
    }
    if matches!(target, Target::Branch(_) | Target::Tag(_)) {
        args.push(format!("--branch {}", shell_quote(&p.version)));
    }
    if let Some(r) = &p.reference {
        args.push(format!("--reference {}", quote_path(r)));
    }
    if let Some(s) = &p.separate_git_dir {
        args.push(format!("--separate-git-dir {}", quote_path(s)));
    }
    args.push("--".into());
    args.push(shell_quote(&p.repo));
    args.push(quote_path(&p.dest));
    let mut s = run_step(&args.join(" "));
    let gd = format!("{git} -C {}", quote_path(&p.dest));
    if let Some(r) = &p.refspec {
        s.push_str(&run_step(&format!(
            "{gd} fetch {} {}",
            shell_quote(&p.remote),
            shell_quote(r)
        )));
    }
    if matches!(target, Target::Commit) && !p.bare {
        s.push_str(&run_step(&format!(
            "{gd} checkout --force {}",
            shell_quote(&p.version)
        )));
    }
    s
}

/// Builds the update script for an existing checkout.
pub(crate) fn update_script(
    p: &GitParams,
    git: &str,
    target: &Target,
    depth: Option<u32>,
) -> String {
    let gd = format!("{git} -C {}", quote_path(&p.dest));
    let remote = shell_quote(&p.remote);
    let depth = depth.map(|d| format!(" --depth {d}")).unwrap_or_default();
    let mut s = String::new();
    if p.bare {
        s.push_str(&run_step(&format!(
            "{gd} fetch{depth} --force {remote} '+refs/heads/*:refs/heads/*' '+refs/tags/*:refs/tags/*'"
        )));
        return s;
    }
    s.push_str(&run_step(&format!(
        "{gd} fetch{depth} --force --tags {remote}"
    )));
    if let Some(r) = &p.refspec {
        s.push_str(&run_step(&format!(
            "{gd} fetch{depth} {remote} {}",
            shell_quote(r)
        )));
    }
    match target {
        Target::Head(sha) => {
            s.push_str(&run_step(&format!("{gd} fetch{depth} {remote} {sha}")));
            s.push_str(&run_step(&format!("{gd} reset --hard {sha}")));
        }
        Target::Branch(_) => {
            let v = shell_quote(&p.version);
            let tracking = shell_quote(&format!("{}/{}", p.remote, p.version));
            s.push_str(&run_step(&format!(
                "{gd} checkout --force -B {v} {tracking}"
            )));
            s.push_str(&run_step(&format!("{gd} reset --hard {tracking}")));
        }
        Target::Tag(_) | Target::Commit => {
            if matches!(target, Target::Commit) && !depth.is_empty() {
                s.push_str(&run_step(&format!(
                    "{gd} fetch{depth} {remote} {}",
                    shell_quote(&p.version)
                )));
            }
            s.push_str(&run_step(&format!(
                "{gd} checkout --force {}",
                shell_quote(&p.version)
            )));
        }
    }
    s
}

/// A successful result. `remote_url_changed` is reported only when an existing checkout was
/// updated (Ansible leaves the key out for a fresh clone and for `update: no`).
pub(crate) fn ok_result(
    before: Option<&str>,
    after: Option<&str>,
    url_changed: Option<bool>,
) -> ModuleResult {
    let opt = |s: Option<&str>| s.map_or(Value::Null, Value::from);
    let r = ModuleResult::ok()
        .with("before", opt(before))
        .with("after", opt(after));
    match url_changed {
        Some(changed) => r.with("remote_url_changed", changed),
        None => r,
    }
}

pub(crate) fn sha_diff(before: Option<&str>, after: Option<&str>) -> Diff {
    Diff {
        before_header: None,
        after_header: None,
        before: before.map(|b| format!("{b}\n")).unwrap_or_default(),
        after: after.map(|a| format!("{a}\n")).unwrap_or_default(),
    }
}

/// Runs a change script; `Err` carries Ansible-style failure text.
pub(crate) async fn run_script(
    ctx: &ModuleContext<'_>,
    env: &[(String, String)],
    script: &str,
) -> Result<Result<String, String>, ModuleError> {
    let mut req = ExecRequest::new(script.to_string());
    req.env = env.to_vec();
    let out = ctx.conn.exec(req).await?;
    let stdout = out.stdout_str();
    if out.rc != 0 {
        let step = stdout
            .lines()
            .find_map(|l| l.strip_prefix("@failed "))
            .unwrap_or("git");
        return Ok(Err(format!(
            "Failed to run `{step}` (rc {}): {}",
            out.rc,
            out.stderr_str().trim()
        )));
    }
    Ok(Ok(stdout))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LS: &str = "aaa\tHEAD\naaa\trefs/heads/main\nbbb\trefs/heads/dev\nccc\trefs/tags/v1\nddd\trefs/tags/v1^{}\neee\trefs/tags/light\n";

    #[test]
    fn versions_resolve_like_ansible() {
        assert_eq!(
            resolve_version(LS, "HEAD"),
            Some(Target::Head("aaa".into()))
        );
        assert_eq!(
            resolve_version(LS, "dev"),
            Some(Target::Branch("bbb".into()))
        );
        assert_eq!(resolve_version(LS, "v1"), Some(Target::Tag("ddd".into())));
        assert_eq!(
            resolve_version(LS, "light"),
            Some(Target::Tag("eee".into()))
        );
        assert_eq!(resolve_version(LS, "abc1234"), Some(Target::Commit));
        assert_eq!(resolve_version(LS, "nope"), None);
    }

    #[test]
    fn ssh_command_options() {
        let p: GitParams = serde_json::from_value(serde_json::json!({
            "repo": "deploy@h:/r", "dest": "/d", "accept_hostkey": true, "key_file": "/k"
        }))
        .unwrap();
        assert_eq!(
            ssh_command(&p),
            "ssh -o BatchMode=yes -o StrictHostKeyChecking=no -i /k -o IdentitiesOnly=yes"
        );
        let s = clone_script(&p, "git", &Target::Head("x".into()), Some(1));
        assert!(
            s.contains("git clone --depth 1 --no-single-branch -- deploy@h:/r /d"),
            "{s}"
        );
    }
}

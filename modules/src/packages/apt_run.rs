//! Target-side scripts of `apt`: the cache update + state query round trip, and running one apt-get
//! (or aptitude/dpkg) command with an optional temporary `policy-rc.d`.

use drover_core::connection::{shell_quote, ExecRequest};
use drover_core::module::{ModuleContext, ModuleError};

use super::dpkg::{query_script, APT_ENV};

/// apt's package lists: a cache without any `*_Packages` file there knows no package at all.
const LISTS_DIR: &str = "/var/lib/apt/lists";

/// Where Ansible looks for the time of the last cache update (first that exists).
const STAMP_PATHS: [&str; 2] = ["/var/lib/apt/periodic/update-success-stamp", LISTS_DIR];

const STAMP_BEFORE: &str = "@@drover-stamp-before ";
const STAMP_AFTER: &str = "@@drover-stamp-after ";
const UPDATE_NEEDED: &str = "@@drover-update-needed";
const LISTS_EMPTY: &str = "@@drover-lists-empty";
const UPDATE_FAILED: &str = "@@drover-update-failed";
const APTITUDE: &str = "@@drover-aptitude";
const PKGNAMES: &str = "@@drover-pkgnames";
const QUERY: &str = "@@drover-query";
const MARK_FAILED: &str = "@@drover-apt-mark-failed";

/// What the first round trip should do.
#[derive(Debug, Default)]
pub struct Prelude<'a> {
    /// Update the cache (`Some(valid_time)`: only if older than that many seconds; 0 = always).
    pub update: Option<u64>,
    /// Also update when the package lists are empty (packages are requested: without lists apt
    /// knows none of them).
    pub update_if_lists_empty: bool,
    /// Really update (false in check mode: only report whether an update is due).
    pub apply: bool,
    /// `apt-get update` attempts.
    pub retries: u32,
    /// Maximum delay between attempts.
    pub max_delay: u32,
    /// `-t` for `apt-cache policy`.
    pub default_release: Option<&'a str>,
    /// List all package names (for wildcard specs).
    pub list_names: bool,
    /// Names to query.
    pub names: &'a [String],
    /// Lock timeout (seconds).
    pub lock_timeout: u32,
}

/// What the first round trip found.
#[derive(Debug, Default)]
pub struct PreludeOutcome {
    /// Cache time before the update.
    pub stamp_before: i64,
    /// Cache time after the update (if one ran or was due).
    pub stamp_after: Option<i64>,
    /// An update was due.
    pub update_needed: bool,
    /// The package lists were empty (no `*_Packages` file), so an update was due.
    pub lists_empty: bool,
    /// The update failed with this output.
    pub update_error: Option<String>,
    /// aptitude is installed.
    pub aptitude: bool,
    /// All package names (when asked for).
    pub pkgnames: Vec<String>,
    /// Raw output of the state query.
    pub query: String,
}

fn stamp_fn() -> String {
    format!(
        "drover_stamp() {{ if [ -e {a} ]; then stat -c %Y {a}; elif [ -e {b} ]; then stat -c %Y {b}; else echo 0; fi; }}\n",
        a = STAMP_PATHS[0],
        b = STAMP_PATHS[1]
    )
}

/// The environment line every script starts with.
pub fn env_line() -> String {
    format!("export {APT_ENV}\n")
}

/// Builds the first round trip's script.
pub fn prelude_script(p: &Prelude<'_>) -> String {
    let mut s = env_line();
    s.push_str(&stamp_fn());
    s.push_str(&format!(
        "before=$(drover_stamp)\necho \"{STAMP_BEFORE}$before\"\n"
    ));
    s.push_str(&format!(
        "command -v aptitude >/dev/null 2>&1 && echo '{APTITUDE}'\n"
    ));
    if p.update.is_some() || p.update_if_lists_empty {
        s.push_str("due=\n");
        match p.update {
            Some(0) => s.push_str("due=1\n"),
            Some(valid) => s.push_str(&format!(
                "[ $((before + {valid})) -lt \"$(date +%s)\" ] && due=1\n"
            )),
            None => {}
        }
        if p.update_if_lists_empty {
            s.push_str(&format!(
                "if [ -z \"$(find {LISTS_DIR} -maxdepth 1 -name '*_Packages*' -print 2>/dev/null | head -n 1)\" ]; then echo '{LISTS_EMPTY}'; due=1; fi\n"
            ));
        }
        s.push_str(&format!(
            "if [ -n \"$due\" ]; then\necho '{UPDATE_NEEDED}'\n"
        ));
        if p.apply {
            s.push_str(&format!(
                "i=0; d=1\n\
                 while :; do\n\
                 out=$(apt-get update -q -o DPkg::Lock::Timeout={lock} --error-on=any 2>&1) && break\n\
                 i=$((i+1))\n\
                 if [ \"$i\" -ge {retries} ]; then printf '%s\\n%s\\n' '{UPDATE_FAILED}' \"$out\"; exit 0; fi\n\
                 sleep \"$d\"; d=$((d*2)); [ \"$d\" -gt {max} ] && d={max}\n\
                 done\n",
                lock = p.lock_timeout,
                retries = p.retries.max(1),
                max = p.max_delay.max(1),
            ));
        }
        s.push_str(&format!("echo \"{STAMP_AFTER}$(drover_stamp)\"\nfi\n"));
    }
    if p.list_names {
        s.push_str(&format!(
            "echo '{PKGNAMES}'\napt-cache pkgnames 2>/dev/null\n"
        ));
    }
    s.push_str(&format!("echo '{QUERY}'\n"));
    let mut query = query_script(p.names);
    if let Some(release) = p.default_release {
        query = query.replace(
            "apt-cache policy ",
            &format!("apt-cache -t {} policy ", shell_quote(release)),
        );
    }
    s.push_str(&query);
    s
}

/// Parses the first round trip's output.
pub fn parse_prelude(out: &str) -> PreludeOutcome {
    let mut o = PreludeOutcome::default();
    let (head, query) = match out.find(QUERY) {
        Some(i) => (&out[..i], out[i + QUERY.len()..].to_string()),
        None => (out, String::new()),
    };
    o.query = query;
    if let Some(i) = head.find(UPDATE_FAILED) {
        o.update_error = Some(head[i + UPDATE_FAILED.len()..].trim().to_string());
    }
    let mut in_names = false;
    for line in head.lines() {
        if let Some(v) = line.strip_prefix(STAMP_BEFORE) {
            o.stamp_before = v.trim().parse().unwrap_or(0);
        } else if let Some(v) = line.strip_prefix(STAMP_AFTER) {
            o.stamp_after = v.trim().parse().ok();
        } else if line == UPDATE_NEEDED {
            o.update_needed = true;
        } else if line == LISTS_EMPTY {
            o.lists_empty = true;
        } else if line == APTITUDE {
            o.aptitude = true;
        } else if line == PKGNAMES {
            in_names = true;
        } else if in_names && !line.is_empty() {
            o.pkgnames.push(line.to_string());
        }
    }
    o
}

/// Output of one package-manager command.
#[derive(Debug, Default)]
pub struct CommandOutcome {
    /// Exit status.
    pub rc: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// `apt-mark manual` failed.
    pub mark_failed: bool,
}

/// Runs `cmdline` (a shell line) with apt's environment, a temporary `policy-rc.d` exiting with
/// `policy_rc_d` if given, then `apt-mark manual` on `mark_manual` if the command succeeded.
pub async fn run_apt_command(
    ctx: &ModuleContext<'_>,
    cmdline: &str,
    policy_rc_d: Option<i32>,
    mark_manual: &[String],
) -> Result<CommandOutcome, ModuleError> {
    let mut s = env_line();
    let policy = "/usr/sbin/policy-rc.d";
    let backup = "/usr/sbin/policy-rc.d.drover-backup";
    if let Some(code) = policy_rc_d {
        s.push_str(&format!(
            "[ -e {policy} ] && mv -f {policy} {backup}\nprintf '#!/bin/sh\\nexit %d\\n' {code} > {policy} && chmod 0755 {policy}\n"
        ));
    }
    s.push_str(&format!("{cmdline}\nrc=$?\n"));
    if policy_rc_d.is_some() {
        s.push_str(&format!(
            "rm -f {policy}\n[ -e {backup} ] && mv -f {backup} {policy}\n"
        ));
    }
    if !mark_manual.is_empty() {
        let names: Vec<String> = mark_manual.iter().map(|n| shell_quote(n)).collect();
        s.push_str(&format!(
            "if [ $rc -eq 0 ]; then apt-mark manual {} >/dev/null 2>&1 || echo '{MARK_FAILED}' >&2; fi\n",
            names.join(" ")
        ));
    }
    s.push_str("exit $rc\n");
    let out = ctx.conn.exec(ExecRequest::new(s)).await?;
    let mut stderr = out.stderr_str();
    let mark_failed = stderr.contains(MARK_FAILED);
    if mark_failed {
        stderr = stderr.replace(&format!("{MARK_FAILED}\n"), "");
    }
    Ok(CommandOutcome {
        rc: out.rc,
        stdout: out.stdout_str(),
        stderr,
        mark_failed,
    })
}

/// Marks those of `names` that apt holds as automatically installed as manually installed, as
/// ansible-core's `apt` does after every install request, even one with nothing to install. Reads
/// apt's `extended_states` first, so the usual case (nothing marked auto) costs no `apt-mark` run.
/// Returns whether `apt-mark` failed.
pub async fn mark_manual_if_auto(
    ctx: &ModuleContext<'_>,
    names: &[String],
) -> Result<bool, ModuleError> {
    if names.is_empty() {
        return Ok(false);
    }
    let want = format!(" {} ", names.join(" "));
    let script = format!(
        "{env}auto=$(awk -v want={want} '/^Package:/{{p=$2}} /^Auto-Installed: 1/{{if (index(want, \" \" p \" \")) print p}}' /var/lib/apt/extended_states 2>/dev/null | sort -u)\n\
         [ -z \"$auto\" ] || apt-mark manual $auto >/dev/null 2>&1 || echo '{MARK_FAILED}'\n",
        env = env_line(),
        want = shell_quote(&want)
    );
    let out = ctx.conn.exec(ExecRequest::new(script)).await?;
    Ok(out.stdout_str().contains(MARK_FAILED))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prelude_round_trip_parses() {
        let out = format!(
            "{STAMP_BEFORE}100\n{APTITUDE}\n{UPDATE_NEEDED}\n{STAMP_AFTER}200\n{PKGNAMES}\na\nb\n{QUERY}\nrest\n"
        );
        let o = parse_prelude(&out);
        assert_eq!(o.stamp_before, 100);
        assert_eq!(o.stamp_after, Some(200));
        assert!(o.update_needed && o.aptitude);
        assert_eq!(o.pkgnames, vec!["a", "b"]);
        assert_eq!(o.query.trim(), "rest");
        let o = parse_prelude(&format!(
            "{STAMP_BEFORE}1\n{UPDATE_NEEDED}\n{UPDATE_FAILED}\nE: boom\n"
        ));
        assert_eq!(o.update_error.as_deref(), Some("E: boom"));
    }

    #[test]
    fn prelude_script_updates_only_when_due() {
        let names = vec!["demo".to_string()];
        let s = prelude_script(&Prelude {
            update: Some(3600),
            apply: true,
            retries: 5,
            max_delay: 12,
            names: &names,
            lock_timeout: 60,
            ..Prelude::default()
        });
        assert!(s.contains("[ $((before + 3600)) -lt \"$(date +%s)\" ] && due=1"));
        assert!(!s.contains(LISTS_EMPTY));
        assert!(s.contains("apt-get update -q -o DPkg::Lock::Timeout=60"));
        let s = prelude_script(&Prelude {
            update: Some(0),
            apply: false,
            names: &names,
            ..Prelude::default()
        });
        assert!(!s.contains("apt-get update"));
    }
}

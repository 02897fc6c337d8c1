//! `timezone` (community.general): sets the system time zone and whether the hardware clock
//! keeps local time or UTC, as the collection's module does on Linux: with `timedatectl` when it
//! answers (systemd), else Debian's way (`/etc/timezone`, the `/etc/localtime` link,
//! `dpkg-reconfigure tzdata`; `/etc/default/rcS` and `hwclock --systohc` for the clock).
//!
//! The result always has `diff` (`before`/`after` maps of the options given), and `msg` lists
//! what was executed, as the collection's module returns them.

use async_trait::async_trait;
use drover_core::connection::shell_quote;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::{ModuleParams, ParamChoices};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::params::de_opt_string;

/// `hwclock` of `timezone`: what the hardware clock keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ParamChoices)]
pub enum Hwclock {
    /// Local time.
    #[serde(rename = "local")]
    Local,
    /// UTC.
    #[serde(rename = "UTC")]
    Utc,
}

impl Hwclock {
    fn as_str(self) -> &'static str {
        match self {
            Hwclock::Local => "local",
            Hwclock::Utc => "UTC",
        }
    }
}

/// Parameters of `timezone`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
#[params(required_one_of("hwclock", "name"))]
pub struct TimezoneParams {
    /// The time zone, e.g. `Europe/Paris` (a file under `/usr/share/zoneinfo`).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub name: Option<String>,
    /// Whether the hardware clock is in UTC or local time.
    #[serde(default, alias = "rtc")]
    pub hwclock: Option<Hwclock>,
}

/// The `timezone` module.
pub struct Timezone;

#[derive(Debug, Default, PartialEq)]
struct Current {
    /// `timedatectl` answered: its full path.
    timedatectl: Option<String>,
    /// Zone and hwclock, already in the module's terms.
    name: String,
    hwclock: String,
    /// The zone file of the wanted name exists.
    zone_ok: bool,
}

/// The script reading the current state. Sections are separated by `@@` marker lines.
fn query_script(planned: Option<&str>) -> String {
    let zone = planned
        .map(|n| shell_quote(&format!("/usr/share/zoneinfo/{n}")))
        .unwrap_or_else(|| "''".into());
    let cmp = planned
        .map(|n| {
            format!(
                "cmp -s /etc/localtime {} && echo same",
                shell_quote(&format!("/usr/share/zoneinfo/{n}"))
            )
        })
        .unwrap_or_default();
    format!(
        concat!(
            "t=$(command -v timedatectl 2>/dev/null)\n",
            "if [ -n \"$t\" ] && s=$(\"$t\" status 2>/dev/null); then echo \"@@SYSTEMD $t\"; printf '%s\\n' \"$s\"; fi\n",
            "echo @@ZONE; [ -f {zone} ] && echo ok\n",
            "echo @@TIMEZONE; cat /etc/timezone 2>/dev/null\n",
            "echo @@LINK; [ -L /etc/localtime ] && {{ [ -e /etc/localtime ] && readlink /etc/localtime || echo @@BROKEN; }}\n",
            "echo @@CMP; {cmp}\n",
            "echo @@RCS; cat /etc/default/rcS 2>/dev/null\n",
            "echo @@ADJTIME; cat /etc/adjtime 2>/dev/null\n",
        ),
        zone = zone,
        cmp = cmp
    )
}

/// Splits the query output into its sections.
fn section<'a>(out: &'a str, marker: &str) -> &'a str {
    let Some(start) = out.find(&format!("{marker}\n")) else {
        return "";
    };
    let rest = &out[start + marker.len() + 1..];
    if rest.starts_with("@@") {
        return "";
    }
    match rest.find("\n@@") {
        Some(end) => &rest[..=end],
        None => rest,
    }
}

/// The first capture of `label : value` in `timedatectl status` output.
fn status_field(status: &str, labels: &[&str]) -> Option<String> {
    status.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        labels
            .contains(&k.trim())
            .then(|| v.split_whitespace().next().unwrap_or("").to_string())
    })
}

/// Ansible's `boolean()` for `yes`/`no` words.
fn truthy(v: &str) -> bool {
    matches!(
        v.to_ascii_lowercase().as_str(),
        "yes" | "on" | "true" | "1" | "y" | "t"
    )
}

/// Reads the current state as the collection does for the options given.
fn parse_current(out: &str, planned_name: Option<&str>, planned_hw: Option<&str>) -> Current {
    let mut cur = Current {
        zone_ok: section(out, "@@ZONE").trim() == "ok",
        ..Current::default()
    };
    if let Some(line) = out.lines().find(|l| l.starts_with("@@SYSTEMD ")) {
        cur.timedatectl = Some(line["@@SYSTEMD ".len()..].to_string());
        let status = &out[out.find(line).unwrap_or(0)..];
        cur.name = status_field(status, &["Time zone", "Timezone"]).unwrap_or_default();
        cur.hwclock = match status_field(status, &["RTC in local TZ"]) {
            Some(v) if truthy(&v) => "local".into(),
            _ => "UTC".into(),
        };
        return cur;
    }
    // Debian without systemd: /etc/timezone, checked against /etc/localtime.
    let tz = section(out, "@@TIMEZONE");
    cur.name = tz
        .lines()
        .find_map(|l| l.split_whitespace().next().filter(|_| !l.starts_with(' ')))
        .unwrap_or("n/a")
        .to_string();
    if Some(cur.name.as_str()) == planned_name {
        let link = section(out, "@@LINK").trim();
        let planned = planned_name.unwrap_or_default();
        if link == "@@BROKEN" {
            cur.name = "n/a".into();
        } else if !link.is_empty() {
            match link
                .find("/usr/share/zoneinfo/")
                .map(|i| &link[i + 20..])
                .or_else(|| link.find("/etc/zoneinfo/").map(|i| &link[i + 14..]))
            {
                Some(z) if z != planned => cur.name = z.to_string(),
                Some(_) => {}
                None => cur.name = "n/a".into(),
            }
        } else if section(out, "@@CMP").trim() != "same" {
            cur.name = "n/a".into();
        }
    }
    let rcs = section(out, "@@RCS");
    cur.hwclock = match rcs
        .lines()
        .find_map(|l| l.strip_prefix("UTC"))
        .and_then(|r| r.trim_start().strip_prefix('='))
        .and_then(|v| v.split_whitespace().next())
    {
        Some(v) if truthy(v) => "UTC".into(),
        Some(_) => "local".into(),
        None => "n/a".into(),
    };
    if Some(cur.hwclock.as_str()) == planned_hw {
        cur.hwclock = match section(out, "@@ADJTIME")
            .lines()
            .find(|l| *l == "UTC" || *l == "LOCAL")
        {
            Some("LOCAL") => "local".into(),
            _ => "UTC".into(),
        };
    }
    cur
}

/// `lines` with every line matching `is_match` removed and `value` inserted where the first was
/// (or at the top), as the collection's `_edit_file` does; also the number of lines removed.
fn edit_lines(text: &str, is_match: impl Fn(&str) -> bool, value: &str) -> (String, usize) {
    let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
    let matched: Vec<usize> = (0..lines.len()).filter(|i| is_match(lines[*i])).collect();
    let at = matched.first().copied().unwrap_or(0);
    for i in matched.iter().rev() {
        lines.remove(*i);
    }
    lines.insert(at, value);
    (lines.concat(), matched.len())
}

/// A failure as the collection's `abort` words it.
fn abort(msg: &str, log: &[String]) -> ModuleResult {
    let mut text = format!("Error message:\n{msg}");
    if !log.is_empty() {
        text.push_str("\nOther message(s):\n");
        text.push_str(&log.join("\n"));
    }
    ModuleResult::failed(text)
}

#[async_trait]
impl TypedModule for Timezone {
    const NAME: &'static str = "timezone";
    type Params = TimezoneParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: TimezoneParams,
    ) -> Result<ModuleResult, ModuleError> {
        // The argument check requires one of them; parameters built in Rust skip it.
        if p.name.is_none() && p.hwclock.is_none() {
            return Ok(ModuleResult::failed(
                "one of the following is required: hwclock, name",
            ));
        }
        let planned_name = p.name.as_deref();
        let planned_hw = p.hwclock.map(Hwclock::as_str);
        let out = ctx.conn.run(query_script(planned_name)).await?;
        let out = out.stdout_str();
        let before = parse_current(&out, planned_name, planned_hw);
        if planned_name.is_some() && !before.zone_ok {
            return Ok(abort(
                &format!(
                    "given timezone \"{}\" is not available",
                    planned_name.unwrap_or_default()
                ),
                &[],
            ));
        }
        let wanted = Current {
            name: planned_name.unwrap_or_default().to_string(),
            hwclock: planned_hw.unwrap_or_default().to_string(),
            ..Current::default()
        };
        let name_changes = planned_name.is_some_and(|n| before.name != n);
        let hw_changes = planned_hw.is_some_and(|h| before.hwclock != h);
        let mut log = Vec::new();
        let mut after = Current {
            name: before.name.clone(),
            hwclock: before.hwclock.clone(),
            ..Current::default()
        };
        if ctx.check_mode {
            after = wanted;
        } else if name_changes || hw_changes {
            let steps = match &before.timedatectl {
                Some(t) => systemd_steps(
                    t,
                    name_changes.then_some(planned_name).flatten(),
                    hw_changes.then_some(planned_hw).flatten(),
                ),
                None => {
                    let mut steps = Vec::new();
                    if let (true, Some(name)) = (name_changes, planned_name) {
                        steps.extend(debian_zone_steps(ctx, name, &mut log).await?);
                    }
                    if let (true, Some(hw)) = (hw_changes, planned_hw) {
                        steps.extend(debian_hwclock_steps(ctx, hw, &mut log).await?);
                    }
                    steps
                }
            };
            for (cmd, logged) in steps {
                let res = ctx.conn.run(format!("{cmd} 2>&1")).await?;
                if !res.success() {
                    let mut r = ModuleResult::failed(res.stdout_str().trim().to_string());
                    r = r.with("rc", res.rc).with("cmd", cmd.as_str());
                    return Ok(r);
                }
                if logged {
                    log.push(format!("executed `{cmd}`"));
                }
            }
            let out = ctx.conn.run(query_script(planned_name)).await?;
            after = parse_current(&out.stdout_str(), planned_name, planned_hw);
            let mismatch = |a: &Current| {
                (planned_name.is_some() && Some(a.name.as_str()) != planned_name)
                    || (planned_hw.is_some() && Some(a.hwclock.as_str()) != planned_hw)
            };
            if mismatch(&after) {
                return Ok(abort(
                    &format!(
                        "still not desired state, though changes have made - planned: {}, after: {}",
                        py_dict(planned_name.map(|_| wanted_name(&p)), planned_hw),
                        py_dict(planned_name.map(|_| after.name.as_str()), planned_hw.map(|_| after.hwclock.as_str())),
                    ),
                    &log,
                ));
            }
        }
        let map = |c: &Current| {
            let mut m = Map::new();
            if planned_hw.is_some() {
                m.insert("hwclock".into(), Value::from(c.hwclock.as_str()));
            }
            if planned_name.is_some() {
                m.insert("name".into(), Value::from(c.name.as_str()));
            }
            m
        };
        let (b, a) = (map(&before), map(&after));
        let mut diff = Map::new();
        let changed = b != a;
        diff.insert("before".into(), Value::Object(b));
        diff.insert("after".into(), Value::Object(a));
        let mut result = ModuleResult::changed(changed).with("diff", Value::Object(diff));
        if !log.is_empty() {
            result.msg = Some(log.join("\n"));
        }
        Ok(result)
    }
}

fn wanted_name(p: &TimezoneParams) -> &str {
    p.name.as_deref().unwrap_or_default()
}

/// A Python dict's repr of the given options (for the collection's mismatch message).
fn py_dict(name: Option<&str>, hwclock: Option<&str>) -> String {
    let mut parts = Vec::new();
    if let Some(h) = hwclock {
        parts.push(format!("'hwclock': '{h}'"));
    }
    if let Some(n) = name {
        parts.push(format!("'name': '{n}'"));
    }
    format!("{{{}}}", parts.join(", "))
}

/// `timedatectl` commands (each logged), hwclock first as the collection orders its options.
fn systemd_steps(t: &str, name: Option<&str>, hw: Option<&str>) -> Vec<(String, bool)> {
    let mut steps = Vec::new();
    if let Some(h) = hw {
        let v = if h == "local" { "yes" } else { "no" };
        steps.push((format!("{t} set-local-rtc {v}"), true));
    }
    if let Some(n) = name {
        steps.push((format!("{t} set-timezone {}", shell_quote(n)), true));
    }
    steps
}

/// Debian without systemd: rewrites `/etc/timezone`, links `/etc/localtime`, reconfigures tzdata.
async fn debian_zone_steps(
    ctx: &ModuleContext<'_>,
    name: &str,
    log: &mut Vec<String>,
) -> Result<Vec<(String, bool)>, ModuleError> {
    let text = ctx
        .conn
        .run("cat /etc/timezone 2>/dev/null")
        .await?
        .stdout_str();
    let (new, removed) = edit_lines(
        &text,
        |l| l.split_whitespace().next().is_some() && !l.starts_with(char::is_whitespace),
        &format!("{name}\n"),
    );
    ctx.conn
        .write_file_atomic(new.as_bytes(), "/etc/timezone")
        .await?;
    log.push(format!(
        "Added 1 line and deleted {removed} line(s) on /etc/timezone"
    ));
    let zone = shell_quote(&format!("/usr/share/zoneinfo/{name}"));
    Ok(vec![
        (format!("ln -sf {zone} /etc/localtime"), false),
        (
            "DEBIAN_FRONTEND=noninteractive dpkg-reconfigure --frontend noninteractive tzdata"
                .into(),
            false,
        ),
    ])
}

/// Debian without systemd: `UTC=` in `/etc/default/rcS`, then `hwclock --systohc`.
async fn debian_hwclock_steps(
    ctx: &ModuleContext<'_>,
    hw: &str,
    log: &mut Vec<String>,
) -> Result<Vec<(String, bool)>, ModuleError> {
    let text = ctx
        .conn
        .run("cat /etc/default/rcS 2>/dev/null")
        .await?
        .stdout_str();
    let (utc, option) = if hw == "local" {
        ("no", "--localtime")
    } else {
        ("yes", "--utc")
    };
    let (new, removed) = edit_lines(
        &text,
        |l| {
            l.strip_prefix("UTC")
                .is_some_and(|r| r.trim_start().starts_with('='))
        },
        &format!("UTC={utc}\n"),
    );
    ctx.conn
        .write_file_atomic(new.as_bytes(), "/etc/default/rcS")
        .await?;
    log.push(format!(
        "Added 1 line and deleted {removed} line(s) on /etc/default/rcS"
    ));
    Ok(vec![(format!("hwclock --systohc {option}"), true)])
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYSTEMD: &str = "@@SYSTEMD /usr/bin/timedatectl\n               Local time: Sat 2026-12-05 08:30:00 UTC\n                Time zone: Etc/UTC (UTC, +0000)\n          RTC in local TZ: no\n@@ZONE\nok\n@@TIMEZONE\nEtc/UTC\n@@LINK\n/usr/share/zoneinfo/Etc/UTC\n@@CMP\n@@RCS\n@@ADJTIME\n";

    #[test]
    fn reads_timedatectl_status() {
        let c = parse_current(SYSTEMD, Some("Europe/Paris"), Some("UTC"));
        assert_eq!(c.timedatectl.as_deref(), Some("/usr/bin/timedatectl"));
        assert_eq!(c.name, "Etc/UTC");
        assert_eq!(c.hwclock, "UTC");
        assert!(c.zone_ok);
    }

    #[test]
    fn reads_debian_files_without_systemd() {
        let out = "@@ZONE\nok\n@@TIMEZONE\nEurope/Paris\n@@LINK\n/usr/share/zoneinfo/Etc/UTC\n@@CMP\n@@RCS\n@@ADJTIME\n";
        let c = parse_current(out, Some("Europe/Paris"), None);
        assert_eq!(c.timedatectl, None);
        assert_eq!(
            c.name, "Etc/UTC",
            "the link wins when the file says the planned zone"
        );
        let c = parse_current(out, Some("Asia/Tokyo"), Some("UTC"));
        assert_eq!(c.name, "Europe/Paris");
        assert_eq!(c.hwclock, "n/a");
        let none = "@@ZONE\n@@TIMEZONE\n@@LINK\n@@CMP\n@@RCS\nUTC=no\n@@ADJTIME\n";
        let c = parse_current(none, Some("X/Y"), Some("UTC"));
        assert_eq!(
            (c.name.as_str(), c.hwclock.as_str(), c.zone_ok),
            ("n/a", "local", false)
        );
    }

    #[test]
    fn edits_like_the_collection() {
        let (t, n) = edit_lines(
            "a\nUTC=yes\nb\nUTC = no\n",
            |l| l.starts_with("UTC"),
            "UTC=no\n",
        );
        assert_eq!((t.as_str(), n), ("a\nUTC=no\nb\n", 2));
        let (t, n) = edit_lines("", |_| true, "Europe/Paris\n");
        assert_eq!((t.as_str(), n), ("Europe/Paris\n", 0));
        assert_eq!(
            py_dict(Some("A/B"), Some("UTC")),
            "{'hwclock': 'UTC', 'name': 'A/B'}"
        );
    }
}

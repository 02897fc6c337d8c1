//! The lock's info file: who holds it, from where, since when, until when.
//!
//! One `key=value` line per field, so people can read it with `cat` on the target:
//!
//! ```text
//! owner=alice@deploybox
//! controller=deploybox
//! pid=4242
//! pid_start=1234567
//! kind=run
//! playbook=/srv/ops/site.yml
//! started=1796572800
//! expires=1796594400
//! token=9f0c2e4a1b3d5f70
//! ```

use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use crate::utc::format_utc;

/// Whether a lock belongs to a running `drover play` or is a token held across runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockKind {
    /// Taken by a run for its duration (its pid is alive while it runs).
    Run,
    /// Taken by `drover lock acquire` and kept until `drover lock release`.
    Held,
}

impl LockKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Run => "run",
            Self::Held => "held",
        }
    }
}

/// What a lock's info file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockInfo {
    /// Holder name (`--lock-owner`, default `user@controller`).
    pub owner: String,
    /// Host name of the controller that took the lock.
    pub controller: String,
    /// Process id of the drover that took it (for a held token: the `drover lock acquire`).
    pub pid: u32,
    /// Start time of that process (Linux clock ticks since boot), to tell a reused pid.
    pub pid_start: Option<u64>,
    /// Run lock or held token.
    pub kind: LockKind,
    /// The playbook the run runs (`-` for a held token).
    pub playbook: String,
    /// When it was taken (seconds since the epoch).
    pub started: u64,
    /// When it counts as stale (seconds since the epoch).
    pub expires: u64,
    /// Random value naming this taking of the lock: only the taker releases it without `--force`.
    pub token: String,
}

/// Why a lock is considered abandoned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Staleness {
    /// The taking process is gone (checked only on the controller that took it).
    DeadProcess,
    /// Past its expiry time.
    Expired,
}

impl std::fmt::Display for Staleness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::DeadProcess => f.write_str("its drover process is gone"),
            Self::Expired => f.write_str("it has expired"),
        }
    }
}

/// Seconds since the epoch now.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// One line of the info file: newlines and `=` in values would break the format.
fn clean(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

impl LockInfo {
    /// The file's text.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let mut line = |k: &str, v: &str| {
            out.push_str(k);
            out.push('=');
            out.push_str(&clean(v));
            out.push('\n');
        };
        line("owner", &self.owner);
        line("controller", &self.controller);
        line("pid", &self.pid.to_string());
        if let Some(s) = self.pid_start {
            line("pid_start", &s.to_string());
        }
        line("kind", self.kind.as_str());
        line("playbook", &self.playbook);
        line("started", &self.started.to_string());
        line("expires", &self.expires.to_string());
        line("token", &self.token);
        out
    }

    /// Reads an info file's text; `None` when a required field is missing or malformed.
    pub fn parse(text: &str) -> Option<Self> {
        let mut map = std::collections::HashMap::new();
        for l in text.lines() {
            if let Some((k, v)) = l.split_once('=') {
                map.insert(k.trim(), v.trim_end());
            }
        }
        let num = |k: &str| map.get(k).and_then(|v| v.trim().parse::<u64>().ok());
        Some(Self {
            owner: map.get("owner")?.to_string(),
            controller: map.get("controller").copied().unwrap_or("?").to_string(),
            pid: u32::try_from(num("pid")?).ok()?,
            pid_start: num("pid_start"),
            kind: match map.get("kind").copied() {
                Some("held") => LockKind::Held,
                _ => LockKind::Run,
            },
            playbook: map.get("playbook").copied().unwrap_or("-").to_string(),
            started: num("started")?,
            expires: num("expires")?,
            token: map.get("token").copied().unwrap_or("").to_string(),
        })
    }

    /// Why the lock is abandoned, if it is: past `expires`, or taken on `this_controller` by a
    /// process that no longer runs (`alive` answers for a pid and its start time).
    pub fn staleness(
        &self,
        now: u64,
        this_controller: &str,
        alive: impl Fn(u32, Option<u64>) -> bool,
    ) -> Option<Staleness> {
        if self.kind == LockKind::Run
            && self.controller == this_controller
            && !alive(self.pid, self.pid_start)
        {
            return Some(Staleness::DeadProcess);
        }
        (now >= self.expires).then_some(Staleness::Expired)
    }

    /// `alice@box (controller box, pid 42, playbook site.yml) since 2026-12-06 18:05:03 UTC (12m ago)`.
    pub fn describe(&self, now: u64) -> String {
        let what = match self.kind {
            LockKind::Run => format!("pid {}, playbook {}", self.pid, self.playbook),
            LockKind::Held => "held token".to_string(),
        };
        format!(
            "{} (controller {}, {what}) since {} UTC ({} ago), expires {} UTC",
            self.owner,
            self.controller,
            format_utc(self.started),
            format_duration(Duration::from_secs(now.saturating_sub(self.started))),
            format_utc(self.expires),
        )
    }
}

/// Parses a duration: `90` (seconds), `30s`, `5m`, `2h`, `1d`, or sums such as `1h30m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty duration".into());
    }
    if let Ok(n) = t.parse::<u64>() {
        return Ok(Duration::from_secs(n));
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in t.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => {
                return Err(format!(
                    "bad duration '{text}': unknown unit '{c}' (use s, m, h, d)"
                ))
            }
        };
        let n: u64 = digits
            .parse()
            .map_err(|_| format!("bad duration '{text}': a number must come before '{c}'"))?;
        digits.clear();
        total = total.saturating_add(n.saturating_mul(unit));
    }
    if !digits.is_empty() {
        return Err(format!(
            "bad duration '{text}': '{digits}' has no unit (use s, m, h, d)"
        ));
    }
    Ok(Duration::from_secs(total))
}

/// `45s`, `12m05s`, `3h07m`, `2d04h`.
pub fn format_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        3600..86_400 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> LockInfo {
        LockInfo {
            owner: "alice@box".into(),
            controller: "box".into(),
            pid: 4242,
            pid_start: Some(99),
            kind: LockKind::Run,
            playbook: "/srv/site.yml".into(),
            started: 1_000,
            expires: 2_000,
            token: "abc".into(),
        }
    }

    #[test]
    fn info_round_trips_and_cleans_values() {
        let info = sample();
        assert_eq!(LockInfo::parse(&info.to_text()), Some(info.clone()));
        let odd = LockInfo {
            playbook: "a\nowner=mallory".into(),
            ..info
        };
        let back = LockInfo::parse(&odd.to_text()).unwrap();
        assert_eq!(back.owner, "alice@box");
        assert_eq!(back.playbook, "a owner=mallory");
    }

    #[test]
    fn parse_rejects_incomplete_files() {
        assert_eq!(LockInfo::parse(""), None);
        assert_eq!(
            LockInfo::parse("owner=a\npid=x\nstarted=1\nexpires=2\n"),
            None
        );
        let held = LockInfo::parse("owner=a\npid=1\nstarted=1\nexpires=2\nkind=held\n").unwrap();
        assert_eq!(held.kind, LockKind::Held);
        assert_eq!(held.pid_start, None);
        assert_eq!(held.controller, "?");
    }

    #[test]
    fn staleness_by_pid_only_on_the_same_controller() {
        let info = sample();
        let dead = |_: u32, _: Option<u64>| false;
        let alive = |_: u32, _: Option<u64>| true;
        assert_eq!(info.staleness(1_500, "box", alive), None);
        assert_eq!(
            info.staleness(1_500, "box", dead),
            Some(Staleness::DeadProcess)
        );
        assert_eq!(info.staleness(1_500, "other", dead), None);
        assert_eq!(
            info.staleness(2_000, "other", dead),
            Some(Staleness::Expired)
        );
        let held = LockInfo {
            kind: LockKind::Held,
            ..sample()
        };
        assert_eq!(held.staleness(1_500, "box", dead), None);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
        assert!(parse_duration("5x").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("1h30").unwrap_err().contains("no unit"));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("m").is_err());
        assert_eq!(format_duration(Duration::from_secs(45)), "45s");
        assert_eq!(format_duration(Duration::from_secs(725)), "12m05s");
        assert_eq!(
            format_duration(Duration::from_secs(3 * 3600 + 420)),
            "3h07m"
        );
        assert_eq!(
            format_duration(Duration::from_secs(2 * 86_400 + 4 * 3600)),
            "2d04h"
        );
    }

    #[test]
    fn describes_holder_and_time() {
        let text = sample().describe(1_000 + 725);
        assert!(text.starts_with("alice@box (controller box, pid 4242, playbook /srv/site.yml) since 1970-01-01 00:16:40 UTC (12m05s ago)"), "{text}");
        assert_eq!(format_utc(1_796_572_800), "2026-12-06 16:00:00");
    }
}

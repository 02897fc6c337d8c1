//! `wait_for`: waits on the target for a TCP port to open, close or drain, or for a file to appear
//! (optionally containing a pattern) or disappear. The whole polling loop runs on the target in one
//! command; ports are checked with bash's `/dev/tcp` and `timeout`, drains with `ss`.

use std::time::Instant;

use async_trait::async_trait;
use drover_core::connection::shell_quote;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::{ModuleParams, ParamChoices};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{de_opt_port, de_secs};
use crate::params::{de_opt_string, de_string, de_string_list};
use crate::remote::quote_path;
use crate::text::pyre;

/// Parameters of `wait_for`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct WaitForParams {
    /// Host whose port is checked (from the target's point of view).
    #[serde(default = "localhost", deserialize_with = "de_string")]
    pub host: String,
    /// TCP port.
    #[serde(default, deserialize_with = "de_opt_port")]
    pub port: Option<u16>,
    /// File to wait for.
    #[param(kind = "path")]
    #[serde(default, deserialize_with = "de_opt_string")]
    pub path: Option<String>,
    /// Pattern the file or the port's first output must contain.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub search_regex: Option<String>,
    /// `started`/`present`, `stopped`/`absent` or `drained`.
    #[serde(default)]
    pub state: WaitState,
    /// Seconds to wait in all.
    #[serde(default = "three_hundred", deserialize_with = "de_secs")]
    pub timeout: u64,
    /// Seconds before the first check.
    #[serde(default, deserialize_with = "de_secs")]
    pub delay: u64,
    /// Seconds between checks.
    #[serde(default = "one", deserialize_with = "de_secs")]
    pub sleep: u64,
    /// Seconds one connection attempt may take.
    #[serde(default = "five", deserialize_with = "de_secs")]
    pub connect_timeout: u64,
    /// Message on timeout instead of the default.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub msg: Option<String>,
    /// Peers whose connections do not count when draining.
    #[serde(default, deserialize_with = "de_string_list")]
    pub exclude_hosts: Vec<String>,
    /// Accepted for compatibility: draining counts established and closing TCP states.
    #[serde(default, deserialize_with = "de_string_list")]
    pub active_connection_states: Vec<String>,
}

fn localhost() -> String {
    "127.0.0.1".into()
}
fn three_hundred() -> u64 {
    300
}
fn one() -> u64 {
    1
}
fn five() -> u64 {
    5
}

/// What `wait_for` waits for.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, ParamChoices)]
#[serde(rename_all = "lowercase")]
pub enum WaitState {
    /// Port open / file present.
    #[default]
    Started,
    /// Same as started.
    Present,
    /// Port closed.
    Stopped,
    /// File absent (or port closed).
    Absent,
    /// No active connections on the port.
    Drained,
}

impl WaitState {
    fn name(self) -> &'static str {
        match self {
            Self::Started => "started",
            Self::Present => "present",
            Self::Stopped => "stopped",
            Self::Absent => "absent",
            Self::Drained => "drained",
        }
    }
}

/// Checks parameter combinations as Ansible does.
pub fn validate(p: &WaitForParams) -> Result<(), String> {
    if p.port.is_some() && p.path.is_some() {
        return Err("port and path parameter can not both be passed to wait_for".into());
    }
    if p.path.is_some() && p.state == WaitState::Stopped {
        return Err(
            "state=stopped should only be used for checking a port in the wait_for module".into(),
        );
    }
    if p.path.is_some() && p.state == WaitState::Drained {
        return Err(
            "state=drained should only be used for checking a port in the wait_for module".into(),
        );
    }
    if !p.exclude_hosts.is_empty() && p.state != WaitState::Drained {
        return Err("exclude_hosts should only be with state=drained".into());
    }
    if p.state == WaitState::Drained && p.port.is_none() {
        return Err("state=drained requires a port".into());
    }
    if let Some(re) = &p.search_regex {
        pyre::compile(re, true, false)?;
    }
    Ok(())
}

/// The shell condition that is true once the wait is over.
pub fn condition(p: &WaitForParams) -> String {
    // With a search pattern, lines are read one by one and checked as they arrive, so a server
    // that keeps the connection open after its banner does not hold the check until the timeout.
    let tcp = |port: u16| {
        let read = match &p.search_regex {
            Some(re) => format!(
                "; while IFS= read -r l <&3; do printf '%s\\n' \"$l\" | grep -qP -- {} && exit 0; done; exit 1",
                shell_quote(re)
            ),
            None => String::new(),
        };
        format!(
            "timeout {} bash -c {} 2>/dev/null",
            p.connect_timeout.max(1),
            shell_quote(&format!("exec 3<>/dev/tcp/{}/{port}{read}", p.host))
        )
    };
    let grep = |re: &str| format!("grep -qP -- {} ", shell_quote(re));
    match (p.port, &p.path, p.state) {
        (Some(port), _, WaitState::Drained) => {
            let mut cmd = format!(
                "ss -Htn state established state fin-wait-1 state fin-wait-2 state syn-recv \
                 state syn-sent state time-wait '( sport = :{port} )' 2>/dev/null"
            );
            for h in &p.exclude_hosts {
                cmd.push_str(&format!(
                    " | grep -vF -- {}",
                    shell_quote(&format!(" {h}:"))
                ));
            }
            format!("[ -z \"$({cmd})\" ]")
        }
        (Some(port), _, WaitState::Stopped | WaitState::Absent) => format!("! {}", tcp(port)),
        (Some(port), _, _) => tcp(port),
        (None, Some(path), WaitState::Absent | WaitState::Stopped) => {
            format!("[ ! -e {} ]", quote_path(path))
        }
        (None, Some(path), _) => match &p.search_regex {
            Some(re) => format!(
                "[ -f {q} ] && {}{q}",
                grep(re).trim_end_matches(' ').to_string() + " ",
                q = quote_path(path)
            ),
            None => format!("[ -e {} ]", quote_path(path)),
        },
        // Neither port nor path: just sleep out the timeout, as Ansible does.
        (None, None, _) => "false".into(),
    }
}

/// The polling loop: prints `@ok` when the condition holds, `@timeout` after `timeout` seconds.
pub fn wait_script(p: &WaitForParams) -> String {
    let mut s = format!(
        "end=$(( $(date +%s) + {} ))\nsleep {}\n",
        p.timeout + p.delay,
        p.delay
    );
    if p.port.is_none() && p.path.is_none() {
        s.push_str(&format!("sleep {}\necho @ok\nexit 0\n", p.timeout));
        return s;
    }
    s.push_str(&format!(
        "while :; do\n if {}; then echo @ok; break; fi\n \
         if [ \"$(date +%s)\" -ge \"$end\" ]; then echo @timeout; exit 0; fi\n sleep {}\ndone\n",
        condition(p),
        p.sleep
    ));
    if let (Some(path), Some(_)) = (&p.path, &p.search_regex) {
        s.push_str(&format!(
            "echo @content; head -c 1048576 -- {}\n",
            quote_path(path)
        ));
    }
    s
}

fn timeout_msg(p: &WaitForParams) -> String {
    if let Some(m) = &p.msg {
        return m.clone();
    }
    let endpoint = match (&p.path, p.port) {
        (Some(path), _) => path.clone(),
        (None, Some(port)) => format!("{}:{port}", p.host),
        _ => String::new(),
    };
    match (p.state, &p.search_regex, &p.path) {
        (WaitState::Drained, _, _) => format!("Timeout when waiting for {endpoint} to drain"),
        (WaitState::Stopped | WaitState::Absent, _, Some(_)) => {
            format!("Timeout when waiting for {endpoint} to be absent.")
        }
        (WaitState::Stopped | WaitState::Absent, _, None) => {
            format!("Timeout when waiting for {endpoint} to stop.")
        }
        (_, Some(re), _) => format!("Timeout when waiting for search string {re} in {endpoint}"),
        (_, None, Some(_)) => format!("Timeout when waiting for file {endpoint}"),
        (_, None, None) => format!("Timeout when waiting for {endpoint}"),
    }
}

/// The `wait_for` module.
pub struct WaitFor;

#[async_trait]
impl TypedModule for WaitFor {
    const NAME: &'static str = "wait_for";
    const CHECK_MODE: bool = false;
    type Params = WaitForParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: WaitForParams,
    ) -> Result<ModuleResult, ModuleError> {
        if let Err(e) = validate(&p) {
            return Ok(ModuleResult::failed(e));
        }
        let start = Instant::now();
        let out = ctx.conn.run(wait_script(&p)).await?;
        let elapsed = start.elapsed().as_secs();
        let stdout = out.stdout.as_slice();
        let status = stdout
            .split(|b| *b == b'\n')
            .find(|l| l.starts_with(b"@ok") || l.starts_with(b"@timeout"));
        if out.rc != 0 || status.is_none() {
            return Ok(ModuleResult::failed(format!(
                "wait_for failed on the target (rc {}): {}",
                out.rc,
                out.stderr_str().trim()
            ))
            .with("elapsed", elapsed));
        }
        if status == Some(b"@timeout".as_slice()) {
            return Ok(ModuleResult::failed(timeout_msg(&p)).with("elapsed", elapsed));
        }
        let (mut groups, mut groupdict) = (Vec::new(), Map::new());
        if let (Some(re), Some(pos)) = (
            &p.search_regex,
            stdout.windows(9).position(|w| w == b"@content\n"),
        ) {
            let content = &stdout[pos + 9..];
            if let Ok(re) = pyre::compile(re, true, false) {
                if let Some(caps) = re.captures(content) {
                    for i in 1..caps.len() {
                        groups.push(match caps.get(i) {
                            Some(m) => Value::from(String::from_utf8_lossy(m.as_bytes())),
                            None => Value::Null,
                        });
                    }
                    for name in re.capture_names().flatten() {
                        let v = caps
                            .name(name)
                            .map(|m| Value::from(String::from_utf8_lossy(m.as_bytes())));
                        groupdict.insert(name.into(), v.unwrap_or(Value::Null));
                    }
                }
            }
        }
        Ok(ModuleResult::ok()
            .with("elapsed", elapsed)
            .with("match_groupdict", groupdict)
            .with("match_groups", groups)
            .with("path", p.path.clone())
            .with("port", p.port)
            .with("search_regex", p.search_regex.clone())
            .with("state", p.state.name()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(v: Value) -> WaitForParams {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn conditions() {
        assert_eq!(
            condition(&params(json!({"port": 80}))),
            "timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/80' 2>/dev/null"
        );
        assert!(
            condition(&params(json!({"port": 80, "state": "stopped"}))).starts_with("! timeout")
        );
        assert_eq!(condition(&params(json!({"path": "/x y"}))), "[ -e '/x y' ]");
        assert_eq!(
            condition(&params(json!({"path": "/x", "search_regex": "ready"}))),
            "[ -f /x ] && grep -qP -- ready /x"
        );
        assert!(condition(&params(json!({"port": 80, "state": "drained"}))).contains("sport = :80"));
    }

    #[test]
    fn invalid_combinations() {
        assert!(validate(&params(json!({"port": 1, "path": "/x"}))).is_err());
        assert!(validate(&params(json!({"path": "/x", "state": "stopped"}))).is_err());
        assert!(validate(&params(json!({"port": 1, "exclude_hosts": ["a"]}))).is_err());
        assert!(validate(&params(json!({"port": 1, "state": "drained"}))).is_ok());
    }

    #[test]
    fn timeout_messages() {
        assert_eq!(
            timeout_msg(&params(json!({"port": 8080}))),
            "Timeout when waiting for 127.0.0.1:8080"
        );
        assert_eq!(
            timeout_msg(&params(json!({"path": "/x", "state": "absent"}))),
            "Timeout when waiting for /x to be absent."
        );
        assert_eq!(
            timeout_msg(&params(json!({"path": "/x"}))),
            "Timeout when waiting for file /x"
        );
    }
}

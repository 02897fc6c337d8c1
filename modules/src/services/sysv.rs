//! SysV init script backend of `service`: `/etc/init.d/<name>` for state, `rc?.d` links for
//! `enabled` (changed with `update-rc.d`, `chkconfig` or `rc-update`, whichever exists).

use drover_core::connection::shell_quote;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult};
use serde_json::Value;

use super::systemd::ServiceState;

/// The current state of an init script service.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SysvStatus {
    /// The init script exists.
    pub found: bool,
    /// `status` exited 0 (or the pattern matched a process).
    pub running: bool,
    /// Start links exist in some runlevel.
    pub enabled: bool,
}

/// Query script: existence, running (status or pattern), start links.
pub fn query_script(name: &str, pattern: Option<&str>) -> String {
    let script = shell_quote(&format!("/etc/init.d/{name}"));
    let running = match pattern {
        Some(p) => format!("ps -eo args | grep -v grep | grep -q -- {}", shell_quote(p)),
        None => format!("{script} status >/dev/null 2>&1"),
    };
    format!(
        "[ -x {script} ] && echo found=1\n{running} && echo running=1\nls /etc/rc[2345].d/S*{} >/dev/null 2>&1 && echo enabled=1\n",
        shell_quote(name)
    )
}

/// Parses the query output.
pub fn parse_query(out: &str) -> SysvStatus {
    SysvStatus {
        found: out.lines().any(|l| l == "found=1"),
        running: out.lines().any(|l| l == "running=1"),
        enabled: out.lines().any(|l| l == "enabled=1"),
    }
}

/// Commands to reach the wanted state; empty when nothing changes.
pub fn plan(
    name: &str,
    status: &SysvStatus,
    state: Option<ServiceState>,
    enabled: Option<bool>,
    arguments: &str,
) -> Vec<String> {
    let q = shell_quote(name);
    let script = shell_quote(&format!("/etc/init.d/{name}"));
    let mut cmds = Vec::new();
    if let Some(want) = enabled {
        if want != status.enabled {
            let (u, c, r) = if want {
                ("defaults", "on", "add")
            } else {
                ("disable", "off", "del")
            };
            let mut cmd = format!(
                "if command -v update-rc.d >/dev/null; then update-rc.d {q} {u}; elif command -v chkconfig >/dev/null; then chkconfig {q} {c}; else rc-update {r} {q}; fi"
            );
            if want {
                cmd = format!("{{ command -v update-rc.d >/dev/null && update-rc.d {q} enable; }} >/dev/null 2>&1; {cmd}");
            }
            cmds.push(cmd);
        }
    }
    let args = if arguments.is_empty() {
        String::new()
    } else {
        format!(" {arguments}")
    };
    let verb = match state {
        Some(ServiceState::Started) if !status.running => Some("start"),
        Some(ServiceState::Stopped) if status.running => Some("stop"),
        Some(ServiceState::Restarted) => Some(if status.running { "restart" } else { "start" }),
        Some(ServiceState::Reloaded) => Some(if status.running { "reload" } else { "start" }),
        _ => None,
    };
    if let Some(v) = verb {
        cmds.push(format!("{script} {v}{args}"));
    }
    cmds
}

/// Runs the SysV backend and builds the result (`name`, `state`, `enabled`).
pub async fn run_sysv(
    ctx: &ModuleContext<'_>,
    name: &str,
    state: Option<ServiceState>,
    enabled: Option<bool>,
    pattern: Option<&str>,
    arguments: &str,
) -> Result<ModuleResult, ModuleError> {
    let out = ctx.conn.run(query_script(name, pattern)).await?;
    let status = parse_query(&out.stdout_str());
    if !status.found && (state.is_some() || enabled.is_some()) {
        return Ok(ModuleResult::failed(format!(
            "Could not find the requested service {name}: host"
        ))
        .with("name", name));
    }
    let cmds = plan(name, &status, state, enabled, arguments);
    let mut result = ModuleResult::changed(!cmds.is_empty()).with("name", name);
    if let Some(s) = state {
        result = result.with("state", s.as_str());
    }
    if let Some(e) = enabled {
        result = result.with("enabled", e);
    }
    if !cmds.is_empty() && !ctx.check_mode {
        let script = cmds
            .iter()
            .map(|c| format!("{{ {c}; }} 2>&1 || exit $?"))
            .collect::<Vec<_>>()
            .join("\n");
        let out = ctx.conn.run(script).await?;
        if !out.success() {
            let mut failed = ModuleResult::failed(format!(
                "Unable to change service {name}: {}",
                out.stdout_str().trim()
            ));
            failed.data = result.data;
            failed.data.insert("rc".into(), Value::from(out.rc));
            return Ok(failed);
        }
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_init_script_actions() {
        let st = parse_query("found=1\nrunning=1\n");
        assert_eq!(
            st,
            SysvStatus {
                found: true,
                running: true,
                enabled: false
            }
        );
        let cmds = plan("foo", &st, Some(ServiceState::Started), Some(true), "");
        assert_eq!(cmds.len(), 1);
        assert!(cmds[0].contains("update-rc.d foo defaults"));
        let cmds = plan("foo", &st, Some(ServiceState::Restarted), None, "-v");
        assert_eq!(cmds, vec!["/etc/init.d/foo restart -v".to_string()]);
        assert!(plan("foo", &st, Some(ServiceState::Started), None, "").is_empty());
    }
}

//! `supervisorctl` (community.general): manages programs of a running supervisord with the
//! target's `supervisorctl` — add/remove process groups (`present`/`absent`) and start, stop or
//! restart them, following the community module's rules for names, groups and results.

use async_trait::async_trait;
use drover_core::connection::shell_quote;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;

use crate::params::{de_bool, de_opt_string, de_string};
use crate::remote::quote_path;

/// Parameters of `supervisorctl`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct SupervisorctlParams {
    /// Program or group name (`group:` for a whole group, `all` for everything).
    #[serde(deserialize_with = "de_string")]
    pub name: String,
    /// The wanted state of the program or group.
    #[serde(deserialize_with = "de_string")]
    #[param(choices("present", "started", "stopped", "restarted", "absent", "signalled"))]
    pub state: String,
    /// supervisord configuration file (`-c`).
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(kind = "path")]
    pub config: Option<String>,
    /// Server URL (`-s`).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub server_url: Option<String>,
    /// Username (`-u`).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub username: Option<String>,
    /// Password (`-p`).
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(no_log)]
    pub password: Option<String>,
    /// Path of `supervisorctl`.
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(kind = "path")]
    pub supervisorctl_path: Option<String>,
    /// Signal for `state: signalled`.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub signal: Option<String>,
    /// Stop the program before removing it (`absent`).
    #[serde(default, deserialize_with = "de_bool")]
    pub stop_before_removing: bool,
}

/// The `supervisorctl` module.
pub struct Supervisorctl;

/// Process name and state from `supervisorctl status` lines that `name` selects.
pub fn matched_processes(status: &str, name: &str) -> Vec<(String, String)> {
    let group_only = name.strip_suffix(':');
    status
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            Some((f.next()?.to_string(), f.next()?.to_string()))
        })
        .filter(|(process, _)| {
            let group = process.split(':').next().unwrap_or(process);
            match group_only {
                Some(g) => group == g,
                None => name == "all" || process == name || group == name,
            }
        })
        .collect()
}

impl SupervisorctlParams {
    fn base(&self) -> String {
        let mut c = match &self.supervisorctl_path {
            Some(p) => quote_path(p),
            None => "supervisorctl".into(),
        };
        for (flag, v) in [
            ("-c", &self.config),
            ("-s", &self.server_url),
            ("-u", &self.username),
            ("-p", &self.password),
        ] {
            if let Some(v) = v {
                c.push_str(&format!(" {flag} {}", shell_quote(v)));
            }
        }
        c
    }
}

struct Ctl<'a, 'b> {
    ctx: &'a ModuleContext<'b>,
    base: String,
}

impl Ctl<'_, '_> {
    async fn run(&self, args: &str) -> Result<(i32, String), ModuleError> {
        let out = self
            .ctx
            .conn
            .run(format!("{} {args} 2>&1", self.base))
            .await?;
        Ok((out.rc, out.stdout_str()))
    }
}

#[async_trait]
impl TypedModule for Supervisorctl {
    const NAME: &'static str = "supervisorctl";
    type Params = SupervisorctlParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: SupervisorctlParams,
    ) -> Result<ModuleResult, ModuleError> {
        let state = p.state.as_str();
        if !matches!(
            state,
            "present" | "started" | "stopped" | "restarted" | "absent" | "signalled"
        ) {
            return Err(ModuleError::BadArgs {
                module: "supervisorctl".into(),
                message: format!("value of state must be one of: present, started, stopped, restarted, absent, signalled, got: {state}"),
            });
        }
        if state == "signalled" && p.signal.is_none() {
            return Err(ModuleError::BadArgs {
                module: "supervisorctl".into(),
                message: "state is signalled but all of the following are missing: signal".into(),
            });
        }
        let ctl = Ctl {
            ctx,
            base: p.base(),
        };
        let exists = ctx
            .conn
            .run(format!(
                "command -v {} >/dev/null",
                p.supervisorctl_path
                    .as_deref()
                    .map(quote_path)
                    .unwrap_or_else(|| "supervisorctl".into())
            ))
            .await?;
        if exists.rc != 0 {
            return Ok(ModuleResult::failed(
                "supervisorctl is not installed on the target (install the supervisor package)",
            ));
        }
        let name = p.name.as_str();
        let result = |changed: bool| {
            ModuleResult::changed(changed)
                .with("name", name)
                .with("state", state)
        };
        let status = || async {
            let (rc, out) = ctl.run("status").await?;
            // rc 3 means "some processes are not running"; 4 "no such process".
            if rc != 0 && rc != 3 && rc != 4 && out.contains("refused") {
                return Ok::<_, ModuleError>(Err(out));
            }
            Ok(Ok(out))
        };
        if state == "restarted" && !ctx.check_mode {
            let (rc, out) = ctl.run("update").await?;
            if rc != 0 {
                return Ok(ModuleResult::failed(out.trim().to_string()).with("name", name));
            }
        }
        let out = match status().await? {
            Ok(o) => o,
            Err(e) => return Ok(ModuleResult::failed(e.trim().to_string()).with("name", name)),
        };
        let processes = matched_processes(&out, name);
        let group = name.trim_end_matches(':');
        match state {
            "absent" => {
                if processes.is_empty() {
                    return Ok(result(false));
                }
                if ctx.check_mode {
                    return Ok(result(true));
                }
                if p.stop_before_removing {
                    ctl.run(&format!("stop {}", shell_quote(name))).await?;
                }
                ctl.run("reread").await?;
                let (_, out) = ctl.run(&format!("remove {}", shell_quote(group))).await?;
                if out.contains(&format!("{group}: removed process group")) {
                    return Ok(result(true));
                }
                return Ok(ModuleResult::failed(out.trim().to_string())
                    .with("name", name)
                    .with("state", state));
            }
            "present" => {
                if !processes.is_empty() {
                    return Ok(result(false));
                }
                if ctx.check_mode {
                    return Ok(result(true));
                }
                ctl.run("reread").await?;
                let (_, out) = ctl.run(&format!("add {}", shell_quote(group))).await?;
                if out.contains(&format!("{group}: added process group")) {
                    return Ok(result(true));
                }
                return Ok(ModuleResult::failed(out.trim().to_string())
                    .with("name", name)
                    .with("state", state));
            }
            _ => {}
        }
        if processes.is_empty() {
            return Ok(ModuleResult::failed("ERROR (no such process)").with("name", name));
        }
        let (action, expected, needs): (&str, &str, fn(&str) -> bool) = match state {
            "started" => ("start", "started", |s| !matches!(s, "RUNNING" | "STARTING")),
            "stopped" => ("stop", "stopped", |s| matches!(s, "RUNNING" | "STARTING")),
            "restarted" => ("restart", "started", |_| true),
            _ => ("signal", "signalled", |s| matches!(s, "RUNNING")),
        };
        let todo: Vec<&String> = processes
            .iter()
            .filter(|(_, s)| needs(s))
            .map(|(n, _)| n)
            .collect();
        if todo.is_empty() {
            return Ok(result(false));
        }
        if ctx.check_mode {
            return Ok(result(true));
        }
        for process in todo {
            let args = match (action, &p.signal) {
                ("signal", Some(sig)) => {
                    format!("signal {} {}", shell_quote(sig), shell_quote(process))
                }
                _ => format!("{action} {}", shell_quote(process)),
            };
            let (_, out) = ctl.run(&args).await?;
            let short = process.split(':').next_back().unwrap_or(process);
            if !out.contains(&format!("{process}: {expected}"))
                && !out.contains(&format!("{short}: {expected}"))
            {
                return Ok(ModuleResult::failed(out.trim().to_string())
                    .with("name", name)
                    .with("state", state));
            }
        }
        Ok(result(true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "web:web_00   RUNNING   pid 12, uptime 0:01:00\nweb:web_01   STOPPED   Not started\nworker       STARTING  \n";

    #[test]
    fn matches_names_and_groups() {
        assert_eq!(
            matched_processes(STATUS, "worker"),
            vec![("worker".into(), "STARTING".into())]
        );
        assert_eq!(matched_processes(STATUS, "web").len(), 2);
        assert_eq!(matched_processes(STATUS, "web:").len(), 2);
        assert_eq!(
            matched_processes(STATUS, "web:web_01"),
            vec![("web:web_01".into(), "STOPPED".into())]
        );
        assert_eq!(matched_processes(STATUS, "all").len(), 3);
        assert!(matched_processes(STATUS, "nope").is_empty());
    }
}

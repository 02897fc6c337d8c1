//! `systemd` / `systemd_service`: unit state (`started`/`stopped`/`restarted`/`reloaded`),
//! `enabled`, `masked`, `daemon_reload`, `scope`.
//!
//! Query (one round trip: optional `daemon-reload`, `systemctl show`, `is-enabled`), plan as
//! ansible-core's systemd module does (masked, then enabled, then state), apply in one more
//! round trip unless in check mode. The result carries Ansible's keys: `name`, `state`,
//! `enabled`, `status` (every `systemctl show` property).

use async_trait::async_trait;
use drover_core::connection::shell_quote;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::{ModuleParams, ParamChoices};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::params::{de_bool, de_opt_bool, de_opt_string};

/// Desired run state of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ParamChoices)]
#[serde(rename_all = "lowercase")]
pub enum ServiceState {
    /// Running.
    Started,
    /// Not running.
    Stopped,
    /// Restart (start if stopped).
    Restarted,
    /// Reload (start if stopped).
    Reloaded,
}

impl ServiceState {
    /// The state's name as Ansible spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceState::Started => "started",
            ServiceState::Stopped => "stopped",
            ServiceState::Restarted => "restarted",
            ServiceState::Reloaded => "reloaded",
        }
    }
}

/// Parameters of `systemd`.
#[derive(Debug, Default, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct SystemdParams {
    /// Unit name (`nginx`, `nginx.service`, `foo.timer`).
    #[serde(
        default,
        alias = "service",
        alias = "unit",
        deserialize_with = "de_opt_string"
    )]
    pub name: Option<String>,
    /// Desired run state (`restarted` and `reloaded` start a stopped unit).
    #[serde(default)]
    pub state: Option<ServiceState>,
    /// Start at boot.
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub enabled: Option<bool>,
    /// Masked (cannot be started).
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub masked: Option<bool>,
    /// Run `systemctl daemon-reload` first.
    #[serde(default, alias = "daemon-reload", deserialize_with = "de_bool")]
    pub daemon_reload: bool,
    /// Run `systemctl daemon-reexec` first.
    #[serde(default, alias = "daemon-reexec", deserialize_with = "de_bool")]
    pub daemon_reexec: bool,
    /// Which service manager to talk to: the system's, the calling user's, or every user's.
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(choices("system", "user", "global"), default = "system")]
    pub scope: Option<String>,
    /// Do not wait for start/stop jobs (`--no-block`).
    #[serde(default, deserialize_with = "de_bool")]
    pub no_block: bool,
    /// `--force` for enable/mask.
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub force: Option<bool>,
}

/// The unit's current state, as `systemctl show` and `is-enabled` report it.
#[derive(Debug, Clone, Default)]
pub struct UnitStatus {
    /// Every `systemctl show` property.
    pub properties: Map<String, Value>,
    /// `systemctl is-enabled` output (first line).
    pub is_enabled_out: String,
    /// `systemctl is-enabled` exit status.
    pub is_enabled_rc: i32,
    /// An init script `/etc/init.d/<name>` exists.
    pub has_initd: bool,
}

impl UnitStatus {
    fn prop(&self, key: &str) -> &str {
        self.properties
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
    }
    /// The unit is known to systemd.
    pub fn found(&self) -> bool {
        let load = self.prop("LoadState");
        (!load.is_empty() && load != "not-found") || self.has_initd
    }
    /// The unit is masked.
    pub fn masked(&self) -> bool {
        self.is_enabled_out == "masked" || self.prop("LoadState") == "masked"
    }
    /// Enabled as ansible-core decides it (`indirect`/`alias` count as disabled).
    pub fn enabled(&self) -> bool {
        self.is_enabled_rc == 0 && !matches!(self.is_enabled_out.as_str(), "indirect" | "alias")
    }
    /// Active or activating.
    pub fn running(&self) -> bool {
        matches!(self.prop("ActiveState"), "active" | "activating")
    }
    fn deactivating(&self) -> bool {
        self.prop("ActiveState") == "deactivating"
    }
}

/// One `systemctl` action the plan calls for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    /// `mask`, `unmask`, `enable`, `disable`, `start`, `stop`, `restart`, `reload`.
    pub verb: &'static str,
}

/// What the module will do and report.
#[derive(Debug, Default)]
pub struct Plan {
    /// Actions in order.
    pub actions: Vec<Action>,
    /// The result's `enabled` key.
    pub enabled: Option<bool>,
    /// The result's `state` key.
    pub state: Option<&'static str>,
}

/// Why a plan cannot be made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlanError {
    /// The unit does not exist.
    #[error("Could not find the requested service {0}: host")]
    NotFound(String),
    /// The unit file failed to load.
    #[error("Error loading unit file '{0}': {1}")]
    LoadError(String, String),
}

/// Plans masked → enabled → state, as ansible-core does.
pub fn plan(
    unit: &str,
    status: &UnitStatus,
    masked: Option<bool>,
    enabled: Option<bool>,
    state: Option<ServiceState>,
) -> Result<Plan, PlanError> {
    let mut plan = Plan::default();
    let found = status.found();
    if found && !status.masked() {
        if let Some(err) = status.properties.get("LoadError").and_then(Value::as_str) {
            if status.prop("LoadState") != "loaded" {
                return Err(PlanError::LoadError(unit.into(), err.into()));
            }
        }
    }
    if let Some(want) = masked {
        if status.masked() != want {
            plan.actions.push(Action {
                verb: if want { "mask" } else { "unmask" },
            });
        }
    }
    if let Some(want) = enabled {
        if !found {
            return Err(PlanError::NotFound(unit.into()));
        }
        let now = status.enabled();
        plan.enabled = Some(want);
        if now != want {
            plan.actions.push(Action {
                verb: if want { "enable" } else { "disable" },
            });
        }
    }
    if let Some(want) = state {
        if !found {
            return Err(PlanError::NotFound(unit.into()));
        }
        plan.state = Some(want.as_str());
        let verb = match want {
            ServiceState::Started => (!status.running()).then_some("start"),
            ServiceState::Stopped => (status.running() || status.deactivating()).then_some("stop"),
            ServiceState::Restarted | ServiceState::Reloaded => {
                plan.state = Some("started");
                Some(if !status.running() {
                    "start"
                } else if want == ServiceState::Restarted {
                    "restart"
                } else {
                    "reload"
                })
            }
        };
        if let Some(verb) = verb {
            plan.actions.push(Action { verb });
        }
    }
    Ok(plan)
}

/// Parses `systemctl show` output (`Key=value` lines; multi-line values continue on lines
/// without `=` in ExecStart-style `{ ... }` blocks).
pub fn parse_show(text: &str) -> Map<String, Value> {
    let mut out = Map::new();
    let mut last: Option<String> = None;
    for l in text.lines() {
        match l.split_once('=') {
            Some((k, v)) if !k.is_empty() && !k.contains(' ') => {
                out.insert(k.to_string(), Value::String(v.to_string()));
                last = Some(k.to_string());
            }
            _ => {
                if let Some(Value::String(s)) = last.as_ref().and_then(|k| out.get_mut(k)) {
                    s.push('\n');
                    s.push_str(l);
                }
            }
        }
    }
    out
}

/// `systemctl` with the scope flag.
pub fn systemctl(scope: Option<&str>) -> String {
    match scope {
        Some("user") => "systemctl --user".into(),
        Some("global") => "systemctl --global".into(),
        _ => "systemctl".into(),
    }
}

/// Query script: daemon-reload (unless check mode), `show`, `is-enabled`, init script test.
pub fn query_script(unit: &str, scope: Option<&str>, reload: bool, reexec: bool) -> String {
    let sc = systemctl(scope);
    let q = shell_quote(unit);
    let mut s = String::new();
    if reexec {
        s.push_str(&format!("{sc} daemon-reexec >/dev/null 2>&1\n"));
    }
    if reload {
        s.push_str(&format!(
            "o=$({sc} daemon-reload 2>&1) || {{ echo \"@@RELOADFAIL@@$o\"; exit 3; }}\n"
        ));
    }
    s.push_str(&format!(
        "{sc} show -- {q} 2>/dev/null\necho '@@ENABLED@@'\ne=$({sc} is-enabled -- {q} 2>/dev/null); rc=$?\nprintf '%s\\nrc=%s\\n' \"${{e%%\n*}}\" \"$rc\"\n[ -x {} ] && echo initd=1\n",
        shell_quote(&format!(
            "/etc/init.d/{}",
            unit.trim_end_matches(".service").replace('/', "_")
        ))
    ));
    s
}

/// Parses the query script's output.
pub fn parse_query(out: &str) -> UnitStatus {
    let (show, rest) = out.split_once("@@ENABLED@@\n").unwrap_or((out, ""));
    let mut status = UnitStatus {
        properties: parse_show(show),
        ..UnitStatus::default()
    };
    for l in rest.lines() {
        if let Some(rc) = l.strip_prefix("rc=") {
            status.is_enabled_rc = rc.trim().parse().unwrap_or(1);
        } else if l == "initd=1" {
            status.has_initd = true;
        } else if status.is_enabled_out.is_empty() {
            status.is_enabled_out = l.trim().to_string();
        }
    }
    status
}

/// Apply script: each action in order, stopping at the first failure with `@@FAIL@@verb` and its
/// error output.
pub fn apply_script(
    unit: &str,
    scope: Option<&str>,
    actions: &[Action],
    no_block: bool,
    force: bool,
) -> String {
    let sc = systemctl(scope);
    let q = shell_quote(unit);
    let mut s = String::new();
    for a in actions {
        let flag = match a.verb {
            "start" | "stop" | "restart" | "reload" if no_block => " --no-block",
            "enable" | "disable" | "mask" | "unmask" if force => " --force",
            _ => "",
        };
        s.push_str(&format!(
            "o=$({sc}{flag} {} -- {q} 2>&1) || {{ printf '@@FAIL@@{}\\n%s' \"$o\"; exit 1; }}\n",
            a.verb, a.verb
        ));
    }
    s
}

/// Runs the systemd logic for a unit and builds Ansible's result (shared with `service`).
pub async fn run_systemd(
    ctx: &ModuleContext<'_>,
    p: &SystemdParams,
) -> Result<ModuleResult, ModuleError> {
    let scope = p.scope.as_deref();
    if let Some(sc) = scope {
        if !matches!(sc, "system" | "user" | "global") {
            return Ok(ModuleResult::failed(format!(
                "value of scope must be one of: system, user, global, got: {sc}"
            )));
        }
    }
    let Some(unit) = p.name.as_deref() else {
        if p.daemon_reload || p.daemon_reexec {
            let mut r = ModuleResult::ok();
            if !ctx.check_mode {
                let sc = systemctl(scope);
                let verb = if p.daemon_reexec {
                    "daemon-reexec"
                } else {
                    "daemon-reload"
                };
                let out = ctx.conn.run(format!("{sc} {verb} 2>&1")).await?;
                if !out.success() {
                    r = ModuleResult::failed(format!(
                        "failure {} during daemon-reload: {}",
                        out.rc,
                        out.stdout_str().trim()
                    ));
                }
            }
            return Ok(r.with("name", Value::Null));
        }
        return Ok(ModuleResult::failed(
            "one of the following is required: name, daemon_reload, daemon_reexec",
        ));
    };
    if (p.state.is_some() || p.enabled.is_some() || p.masked.is_some()) && unit.is_empty() {
        return Ok(ModuleResult::failed("name must not be empty"));
    }
    let reload = p.daemon_reload && !ctx.check_mode;
    let reexec = p.daemon_reexec && !ctx.check_mode;
    let out = ctx
        .conn
        .run(query_script(unit, scope, reload, reexec))
        .await?;
    let text = out.stdout_str();
    if let Some(err) = text.split("@@RELOADFAIL@@").nth(1) {
        return Ok(ModuleResult::failed(format!(
            "failure {} during daemon-reload: {}",
            out.rc,
            err.trim()
        )));
    }
    let status = parse_query(&text);
    let plan = match plan(unit, &status, p.masked, p.enabled, p.state) {
        Ok(plan) => plan,
        Err(e) => return Ok(ModuleResult::failed(e.to_string())),
    };
    let mut result = ModuleResult::changed(!plan.actions.is_empty()).with("name", unit);
    if let Some(st) = plan.state {
        result = result.with("state", st);
    }
    if let Some(en) = plan.enabled {
        result = result.with("enabled", en);
    }
    result = result.with("status", Value::Object(status.properties.clone()));
    if !plan.actions.is_empty() && !ctx.check_mode {
        let script = apply_script(
            unit,
            scope,
            &plan.actions,
            p.no_block,
            p.force.unwrap_or(false),
        );
        let out = ctx.conn.run(script).await?;
        if !out.success() {
            let text = out.stdout_str();
            let body = text.split("@@FAIL@@").nth(1).unwrap_or(&text);
            let (verb, err) = body.split_once('\n').unwrap_or((body, ""));
            let mut failed =
                ModuleResult::failed(format!("Unable to {verb} service {unit}: {}", err.trim()));
            failed.changed = false;
            failed.data = result.data;
            return Ok(failed);
        }
    }
    Ok(result)
}

/// The `systemd` module (also registered as `systemd_service`).
pub struct Systemd;

#[async_trait]
impl TypedModule for Systemd {
    const NAME: &'static str = "systemd";
    type Params = SystemdParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: SystemdParams,
    ) -> Result<ModuleResult, ModuleError> {
        run_systemd(ctx, &p).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(active: &str, load: &str, enabled: &str, rc: i32) -> UnitStatus {
        parse_query(&format!(
            "Id=x.service\nActiveState={active}\nLoadState={load}\nExecStart={{ path=/bin/sleep ;\n argv[]=/bin/sleep }}\n@@ENABLED@@\n{enabled}\nrc={rc}\n"
        ))
    }

    fn verbs(p: &Plan) -> Vec<&'static str> {
        p.actions.iter().map(|a| a.verb).collect()
    }

    #[test]
    fn parses_show_and_is_enabled() {
        let s = status("active", "loaded", "enabled", 0);
        assert!(s.running() && s.enabled() && s.found() && !s.masked());
        assert!(s.properties["ExecStart"]
            .as_str()
            .unwrap()
            .contains("argv[]"));
    }

    #[test]
    fn plans_like_ansible() {
        let s = status("inactive", "loaded", "disabled", 1);
        let p = plan("x", &s, None, Some(true), Some(ServiceState::Started)).unwrap();
        assert_eq!(verbs(&p), vec!["enable", "start"]);
        let s = status("active", "loaded", "enabled", 0);
        let p = plan("x", &s, None, Some(true), Some(ServiceState::Started)).unwrap();
        assert!(p.actions.is_empty());
        let p = plan("x", &s, None, None, Some(ServiceState::Restarted)).unwrap();
        assert_eq!((verbs(&p), p.state), (vec!["restart"], Some("started")));
        let p = plan("x", &s, Some(true), None, Some(ServiceState::Stopped)).unwrap();
        assert_eq!(verbs(&p), vec!["mask", "stop"]);
        let s = status("inactive", "masked", "masked", 1);
        assert!(s.masked());
        assert_eq!(
            verbs(&plan("x", &s, Some(false), None, None).unwrap()),
            vec!["unmask"]
        );
        assert!(!status("inactive", "loaded", "indirect", 0).enabled());
    }

    #[test]
    fn missing_unit_fails_with_ansible_message() {
        let s = status("inactive", "not-found", "", 4);
        let e = plan("nope", &s, None, None, Some(ServiceState::Started)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Could not find the requested service nope: host"
        );
        // Masking a missing unit is allowed.
        assert_eq!(
            verbs(&plan("nope", &s, Some(true), None, None).unwrap()),
            vec!["mask"]
        );
    }

    #[test]
    fn scripts_quote_and_flag() {
        let s = apply_script(
            "a b",
            Some("user"),
            &[Action { verb: "start" }],
            true,
            false,
        );
        assert!(
            s.contains("systemctl --user --no-block start -- 'a b'"),
            "{s}"
        );
    }
}

//! `service_facts`: the fact `services` — `{name: {name, state, status, source}}` — as
//! ansible-core's module builds it on a Debian host: SysV scripts from `service --status-all`
//! (keyed by script name, `source: sysv`), then every systemd service from `systemctl list-units`
//! and `list-unit-files` (keyed `NAME.service`, `source: systemd`; a unit file systemd has not
//! loaded gets its `ActiveState` as `state`). One round trip; nothing on the host changes.

use async_trait::async_trait;
use drover_core::module::{DefinedVars, ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// Parameters of `service_facts` (none).
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct ServiceFactsParams {}

/// The `service_facts` module.
pub struct ServiceFacts;

/// Unit states that win over what the other columns say, in the order they are looked for.
const BAD_STATES: [&str; 3] = ["not-found", "masked", "failed"];

/// The query: SysV scripts when `service` is there without chkconfig or OpenRC (as ansible-core
/// decides), then systemd's units, unit files and the ActiveState of unit files not loaded.
const QUERY: &str = r#"export LC_ALL=C LANG=C
PATH="$PATH:/sbin:/usr/sbin:/usr/local/sbin"
if command -v service >/dev/null 2>&1 && ! command -v chkconfig >/dev/null 2>&1 && ! command -v rc-status >/dev/null 2>&1; then
  echo '@sysv'; service --status-all 2>/dev/null
fi
if { [ -d /run/systemd/system ] || grep -qx systemd /proc/1/comm 2>/dev/null; } && command -v systemctl >/dev/null 2>&1; then
  echo '@units'; units=$(systemctl list-units --no-pager --type service --all --plain 2>/dev/null); printf '%s\n' "$units"
  echo '@files'; files=$(systemctl list-unit-files --no-pager --type service --all 2>/dev/null); printf '%s\n' "$files"
  echo '@show'
  loaded=$(printf '%s\n' "$units" | grep -F .service | awk '{print $1}')
  printf '%s\n' "$files" | grep -F .service | awk '{print $1}' | while read -r u; do
    printf '%s\n' "$loaded" | grep -qxF -- "$u" && continue
    s=$(systemctl show "$u" --property=ActiveState 2>/dev/null) && [ -n "$s" ] && echo "$u ${s#ActiveState=}" || echo "$u unknown"
  done
fi
"#;

/// The lines of one marked part of the query's output.
fn part<'a>(out: &'a str, name: &str) -> impl Iterator<Item = &'a str> {
    let marker = format!("@{name}");
    let mut inside = false;
    out.lines().filter(move |l| {
        if l.starts_with('@') && !l.contains(' ') {
            inside = *l == marker;
            return false;
        }
        inside
    })
}

fn entry(name: &str, state: &str, status: Option<&str>, source: &str) -> Value {
    match status {
        Some(status) => {
            json!({"name": name, "state": state, "status": status, "source": source})
        }
        None => json!({"name": name, "state": state, "source": source}),
    }
}

/// Builds the `services` fact from the query's output.
fn services_fact(out: &str) -> Map<String, Value> {
    let mut services = Map::new();
    for line in part(out, "sysv") {
        let t = line.trim_start();
        let state = if t.starts_with("[ + ]") {
            "running"
        } else if t.starts_with("[ - ]") {
            "stopped"
        } else {
            continue;
        };
        let name = t[5..].trim_start();
        if !name.is_empty() {
            services.insert(name.to_string(), entry(name, state, None, "sysv"));
        }
    }
    for line in part(out, "units").filter(|l| l.contains(".service")) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 4 {
            continue;
        }
        let head = &fields[..fields.len() - 1];
        let status = BAD_STATES
            .iter()
            .find(|b| head.contains(b))
            .copied()
            .unwrap_or(fields[2]);
        let state = if fields[3] == "running" {
            "running"
        } else {
            "stopped"
        };
        services.insert(
            fields[0].to_string(),
            entry(fields[0], state, Some(status), "systemd"),
        );
    }
    let shown: Vec<(&str, &str)> = part(out, "show")
        .filter_map(|l| l.split_once(' '))
        .collect();
    for line in part(out, "files").filter(|l| l.contains(".service")) {
        let mut f = line.split_whitespace();
        let (Some(name), Some(status)) = (f.next(), f.next()) else {
            continue;
        };
        match services.get_mut(name) {
            None => {
                let state = shown
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map_or("unknown", |(_, s)| s.trim());
                services.insert(
                    name.to_string(),
                    entry(name, state, Some(status), "systemd"),
                );
            }
            Some(existing) => {
                let bad = existing["status"]
                    .as_str()
                    .is_some_and(|s| BAD_STATES.contains(&s));
                if !bad {
                    existing["status"] = Value::from(status);
                }
            }
        }
    }
    services
}

#[async_trait]
impl TypedModule for ServiceFacts {
    const NAME: &'static str = "service_facts";
    type Params = ServiceFactsParams;

    fn defines_vars(&self, _args: &Value) -> DefinedVars {
        DefinedVars::Names(vec!["services".into()])
    }

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        _p: ServiceFactsParams,
    ) -> Result<ModuleResult, ModuleError> {
        let out = ctx.conn.run(QUERY).await?.stdout_str();
        let services = services_fact(&out);
        if services.is_empty() {
            return Ok(ModuleResult::ok().with("skipped", true).with_msg(
                "Failed to find any services. This can be due to privileges or some other configuration issue.",
            ));
        }
        Ok(ModuleResult::ok().with_fact("services", Value::Object(services)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysv_then_systemd_as_ansible_core_merges_them() {
        let out = "@sysv\n [ + ]  cron\n [ - ]  procps\n@units\n\
cron.service loaded active running Regular background program processing daemon\n\
ghost.service not-found inactive dead ghost.service\n\
e2scrub_reap.service loaded inactive dead Remove Stale Online ext4 Metadata Check Snapshots\n\
@files\nUNIT FILE STATE VENDOR PRESET\ncron.service enabled enabled\n\
e2scrub_reap.service enabled enabled\ngetty@.service enabled enabled\n\
ghost.service disabled enabled\n\n4 unit files listed.\n@show\ngetty@.service unknown\n";
        let s = services_fact(out);
        assert_eq!(
            s["cron"],
            json!({"name": "cron", "state": "running", "source": "sysv"})
        );
        assert_eq!(s["procps"]["state"], "stopped");
        assert_eq!(
            s["cron.service"],
            json!({"name": "cron.service", "state": "running", "status": "enabled", "source": "systemd"})
        );
        assert_eq!(s["e2scrub_reap.service"]["state"], "stopped");
        assert_eq!(s["ghost.service"]["status"], "not-found");
        assert_eq!(s["getty@.service"]["state"], "unknown");
        assert_eq!(s["getty@.service"]["status"], "enabled");
    }
}

//! `group`: creates, modifies (gid) or removes a local group. Query with `getent group`, apply with
//! `groupadd` / `groupmod` / `groupdel`.

use async_trait::async_trait;
use drover_core::connection::shell_quote;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::{ModuleParams, ParamChoices};
use serde::Deserialize;
use serde_json::Value;

use crate::params::{de_bool, de_opt_string, de_string};

/// Present or absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, ParamChoices)]
#[serde(rename_all = "lowercase")]
pub enum Presence {
    /// Exists.
    #[default]
    Present,
    /// Does not exist.
    Absent,
}

/// Parameters of `group`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct GroupParams {
    /// Group name.
    #[serde(deserialize_with = "de_string")]
    pub name: String,
    /// Wanted state.
    #[serde(default)]
    pub state: Presence,
    /// Group id.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub gid: Option<String>,
    /// A system group.
    #[serde(default, deserialize_with = "de_bool")]
    pub system: bool,
    /// Allow a non-unique gid.
    #[serde(default, deserialize_with = "de_bool")]
    pub non_unique: bool,
    /// Only local files (accepted; `groupadd` is local already).
    #[serde(default, deserialize_with = "de_bool")]
    pub local: bool,
    /// Remove even if it is a user's primary group (accepted).
    #[serde(default, deserialize_with = "de_bool")]
    pub force: bool,
    /// Minimum gid for system groups (accepted).
    #[serde(default)]
    pub gid_min: Option<Value>,
    /// Maximum gid for system groups (accepted).
    #[serde(default)]
    pub gid_max: Option<Value>,
}

/// The `group` module.
pub struct Group;

/// Plans the command for a group given its current `getent group` line (if any).
fn plan(p: &GroupParams, current: Option<&str>) -> Option<String> {
    let q = shell_quote(&p.name);
    match (p.state, current) {
        (Presence::Absent, None) => None,
        (Presence::Absent, Some(_)) => {
            Some(format!("groupdel{} {q}", if p.force { " -f" } else { "" }))
        }
        (Presence::Present, None) => {
            let mut cmd = String::from("groupadd");
            if let Some(gid) = &p.gid {
                cmd.push_str(&format!(" -g {}", shell_quote(gid)));
                if p.non_unique {
                    cmd.push_str(" -o");
                }
            }
            if p.system {
                cmd.push_str(" -r");
            }
            Some(format!("{cmd} {q}"))
        }
        (Presence::Present, Some(line)) => {
            let cur_gid = line.split(':').nth(2).unwrap_or("");
            match &p.gid {
                Some(gid) if gid != cur_gid => Some(format!(
                    "groupmod -g {}{} {q}",
                    shell_quote(gid),
                    if p.non_unique { " -o" } else { "" }
                )),
                _ => None,
            }
        }
    }
}

#[async_trait]
impl TypedModule for Group {
    const NAME: &'static str = "group";
    type Params = GroupParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: GroupParams,
    ) -> Result<ModuleResult, ModuleError> {
        if let Some(g) = &p.gid {
            if g.parse::<u32>().is_err() {
                return Ok(ModuleResult::failed(format!(
                    "argument 'gid' is of type str and we were unable to convert to int: {g}"
                )));
            }
        }
        let out = ctx
            .conn
            .run(format!("getent group {}", shell_quote(&p.name)))
            .await?;
        let text = out.stdout_str();
        let current = text.lines().next().filter(|l| !l.is_empty());
        let cmd = plan(&p, current);
        let mut result = ModuleResult::changed(cmd.is_some())
            .with("name", p.name.as_str())
            .with(
                "state",
                if p.state == Presence::Present {
                    "present"
                } else {
                    "absent"
                },
            );
        if p.state == Presence::Present {
            result = result.with("system", p.system);
        }
        let mut gid = current
            .and_then(|l| l.split(':').nth(2))
            .and_then(|g| g.parse::<u64>().ok());
        if let Some(cmd) = cmd.filter(|_| !ctx.check_mode) {
            let script = format!(
                "{cmd} 2>&1 || exit $?\ngetent group {} | cut -d: -f3",
                shell_quote(&p.name)
            );
            let out = ctx.conn.run(script).await?;
            if !out.success() {
                return Ok(ModuleResult::failed(out.stdout_str().trim().to_string())
                    .with("name", p.name.as_str())
                    .with("rc", out.rc));
            }
            gid = out.stdout_str().trim().parse().ok();
        }
        if p.state == Presence::Present {
            match gid.or_else(|| p.gid.as_ref().and_then(|g| g.parse().ok())) {
                Some(g) => result = result.with("gid", g),
                None => result = result.with("gid", Value::Null),
            }
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use drover_core::module::parse_params;

    fn params(v: Value) -> GroupParams {
        parse_params("group", &v).unwrap()
    }

    #[test]
    fn plans_group_commands() {
        let p = params(serde_json::json!({"name": "web", "gid": 1234, "system": true}));
        assert_eq!(plan(&p, None).unwrap(), "groupadd -g 1234 -r web");
        assert_eq!(plan(&p, Some("web:x:1234:")), None);
        assert_eq!(
            plan(&p, Some("web:x:1000:")).unwrap(),
            "groupmod -g 1234 web"
        );
        let p = params(serde_json::json!({"name": "web", "state": "absent"}));
        assert_eq!(plan(&p, None), None);
        assert_eq!(plan(&p, Some("web:x:1:")).unwrap(), "groupdel web");
    }
}

//! `file` in check mode: whether the requested owner and group exist on the target, with
//! ansible-core's warnings, and its failure when an existing path would need a name that does
//! not resolve.

use drover_core::connection::shell_quote;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult};

/// What the lookup found: a warning per missing principal, and the failure message of the first
/// missing one given by name (ansible-core's chown/chgrp cannot resolve it; an id is used as is).
#[derive(Debug, Default)]
pub(super) struct Lookup {
    warnings: Vec<String>,
    failure: Option<String>,
}

impl Lookup {
    /// Adds the warnings to `r`, and turns it into the lookup's failure when the path existed
    /// (ansible-core checks names only on an existing path) and `r` did not fail already.
    pub(super) fn apply(self, mut r: ModuleResult, path: &str, existed: bool) -> ModuleResult {
        if let (Some(msg), false, true) = (self.failure, r.failed, existed) {
            r = ModuleResult::failed(msg).with("path", path);
        }
        if !self.warnings.is_empty() {
            r = r.with("warnings", self.warnings);
        }
        r
    }

    /// True when every principal resolved.
    pub(super) fn is_empty(&self) -> bool {
        self.warnings.is_empty()
    }
}

/// Looks `owner` and `group` up with `getent` (a number as an id, as Python's `int()` decides).
pub(super) async fn lookup(
    ctx: &ModuleContext<'_>,
    owner: Option<&str>,
    group: Option<&str>,
) -> Result<Lookup, ModuleError> {
    let given: Vec<(&str, &str)> = [("passwd", owner), ("group", group)]
        .into_iter()
        .filter_map(|(db, v)| v.filter(|v| !v.is_empty()).map(|v| (db, v)))
        .collect();
    let mut found = Lookup::default();
    if given.is_empty() {
        return Ok(found);
    }
    let script = given
        .iter()
        .map(|(db, v)| {
            format!(
                "getent {db} {} >/dev/null && echo y || echo n",
                shell_quote(v)
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let out = ctx.conn.run(script).await?;
    let stdout = out.stdout_str();
    for ((db, name), answer) in given.iter().zip(stdout.lines()) {
        if answer.trim() != "n" {
            continue;
        }
        let numeric = name.trim().parse::<i64>().is_ok();
        let (kind, cmd) = if *db == "passwd" {
            ("user", "chown")
        } else {
            ("group", "chgrp")
        };
        found.warnings.push(if numeric {
            let id = if kind == "user" { "uid" } else { "gid" };
            format!(
                "failed to look up {kind} with {id} {name}. Create {kind} up to this point in real play"
            )
        } else {
            format!("failed to look up {kind} {name}. Create {kind} up to this point in real play")
        });
        if !numeric && found.failure.is_none() {
            found.failure = Some(format!("{cmd} failed: failed to look up {kind} {name}"));
        }
    }
    Ok(found)
}

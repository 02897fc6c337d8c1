//! `dpkg_selections`: sets a package's dpkg selection state (`install`, `hold`, `deinstall`,
//! `purge`) with `dpkg --set-selections`, as ansible-core's module does: the result has `before`
//! (the current selection, or `not present`) and `after`; a package dpkg has never heard of fails.

use async_trait::async_trait;
use drover_core::connection::shell_quote;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::{ModuleParams, ParamChoices};
use serde::Deserialize;

use crate::params::de_string;

/// A dpkg selection state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ParamChoices)]
#[serde(rename_all = "lowercase")]
pub enum Selection {
    /// Installed (or to be installed).
    Install,
    /// Kept at its version: apt neither upgrades nor removes it.
    Hold,
    /// To be removed.
    Deinstall,
    /// To be removed with its configuration files.
    Purge,
}

impl Selection {
    fn as_str(self) -> &'static str {
        match self {
            Selection::Install => "install",
            Selection::Hold => "hold",
            Selection::Deinstall => "deinstall",
            Selection::Purge => "purge",
        }
    }
}

/// Parameters of `dpkg_selections`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct DpkgSelectionsParams {
    /// The package.
    #[serde(deserialize_with = "de_string")]
    pub name: String,
    /// The selection to set.
    pub selection: Selection,
}

/// The `dpkg_selections` module.
pub struct DpkgSelections;

/// Printed by the query when dpkg knows no such package.
const UNKNOWN: &str = "@@drover-no-package";

#[async_trait]
impl TypedModule for DpkgSelections {
    const NAME: &'static str = "dpkg_selections";
    type Params = DpkgSelectionsParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: DpkgSelectionsParams,
    ) -> Result<ModuleResult, ModuleError> {
        let (name, after) = (shell_quote(&p.name), p.selection.as_str());
        let query = ctx
            .conn
            .run(format!(
                "export LC_ALL=C\nerr=$(dpkg --get-selections {name} 2>&1 >/dev/null)\n\
                 case $err in *'no packages found matching'*) echo {UNKNOWN};; esac\n\
                 dpkg --get-selections {name} 2>/dev/null"
            ))
            .await?;
        let out = query.stdout_str();
        if out.contains(UNKNOWN) {
            return Ok(ModuleResult::failed(format!(
                "Failed to find package '{}' to perform selection '{after}'.",
                p.name
            )));
        }
        let before = out
            .split_whitespace()
            .nth(1)
            .unwrap_or("not present")
            .to_string();
        let changed = before != after;
        let result = |changed| {
            ModuleResult::changed(changed)
                .with("before", before.as_str())
                .with("after", after)
        };
        if ctx.check_mode || !changed {
            return Ok(result(changed));
        }
        let set = ctx
            .conn
            .run(format!(
                "echo {} | LC_ALL=C dpkg --set-selections",
                shell_quote(&format!("{} {after}", p.name))
            ))
            .await?;
        if !set.success() {
            return Ok(ModuleResult::failed(format!(
                "dpkg --set-selections failed: {}",
                set.stderr_str().trim_end()
            ))
            .with("rc", set.rc));
        }
        Ok(result(true))
    }
}

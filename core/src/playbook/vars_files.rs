//! A play's `vars_files` entries: a file name, or a list of alternatives of which the first
//! file that exists is loaded (ansible-core's form for optional, per-environment files).

use std::path::{Path, PathBuf};

use super::parse::scalar_string;
use super::PlaybookError;
use crate::yaml::{Location, Node, NodeValue};

/// Parses `vars_files`: each entry is one name or a list of alternatives; with each entry's
/// location.
#[allow(clippy::type_complexity)]
pub(super) fn parse(node: &Node) -> Result<(Vec<Vec<String>>, Vec<Location>), PlaybookError> {
    let one = |n: &Node| -> Result<Vec<String>, PlaybookError> {
        match &n.value {
            NodeValue::Seq(alts) => alts
                .iter()
                .map(|a| scalar_string(a, "vars_files"))
                .collect(),
            _ => Ok(vec![scalar_string(n, "vars_files")?]),
        }
    };
    match &node.value {
        NodeValue::Null => Ok((Vec::new(), Vec::new())),
        NodeValue::Seq(items) => Ok((
            items.iter().map(one).collect::<Result<_, _>>()?,
            items.iter().map(|n| n.loc.clone()).collect(),
        )),
        _ => Ok((vec![one(node)?], vec![node.loc.clone()])),
    }
}

/// The first of `alternatives` (already rendered) that exists under `dir`, as ansible-core picks
/// a list entry of `vars_files`; `None` if none does.
pub fn first_existing(dir: &Path, alternatives: &[String]) -> Option<PathBuf> {
    alternatives
        .iter()
        .map(|name| dir.join(name))
        .find(|path| path.exists())
}

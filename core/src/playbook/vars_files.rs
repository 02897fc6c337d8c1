//! A play's `vars_files` entries: a file name, or a list of alternatives of which the first
//! file that exists is loaded (ansible-core's form for optional, per-environment files).

use std::path::{Path, PathBuf};

use super::parse::scalar_string;
use super::PlaybookError;
use crate::yaml::{Node, NodeValue};

/// Parses `vars_files`: each entry is one name or a list of alternatives.
pub(super) fn parse(node: &Node) -> Result<Vec<Vec<String>>, PlaybookError> {
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
        NodeValue::Null => Ok(Vec::new()),
        NodeValue::Seq(items) => items.iter().map(one).collect(),
        _ => Ok(vec![one(node)?]),
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

//! File modules: `file`, `copy`, `template`, `stat`, and what they share (result keys, JSON state
//! diffs, running a change and re-probing in one round trip).

pub mod copy;
mod copy_tree;
pub mod file;
mod file_diff;
mod file_dirs;
mod file_links;
mod file_lookup;
mod file_ops;
mod file_params;
mod local_tree;
mod output_encoding;
mod remote_tree;
pub mod stat;
pub mod template;
pub mod template_vars;
pub(crate) mod write;

use std::collections::BTreeMap;

use drover_core::connection::HostConnection;
use drover_core::module::{Diff, ModuleError, ModuleResult};
use serde_json::{Map, Value};

use crate::remote::mode::format_mode;
use crate::remote::probe::{parse_probe, probe_script, PathStat, ProbeRequest, StatInfo};

/// Largest file whose contents are shown in `--diff` output (Ansible's `max_diff_size`).
pub const MAX_DIFF_SIZE: u64 = 104_448;

/// Adds Ansible's file attribute keys (`mode`, `owner`, `group`, `uid`, `gid`, `size`, `state`).
pub fn add_file_attrs(r: &mut ModuleResult, info: &StatInfo) {
    r.data.insert("uid".into(), info.uid.into());
    r.data.insert("gid".into(), info.gid.into());
    r.data.insert("owner".into(), info.owner.clone().into());
    r.data.insert("group".into(), info.group.clone().into());
    r.data.insert("mode".into(), format_mode(info.mode).into());
    r.data
        .insert("state".into(), info.file_type.state_name().into());
    r.data.insert("size".into(), info.size.into());
}

/// An Ansible-style state diff: `before`/`after` maps rendered as sorted, 4-space indented JSON,
/// the way ansible-playbook prints dictionary diffs.
pub fn state_diff(before: Map<String, Value>, after: Map<String, Value>) -> Diff {
    Diff {
        before_header: None,
        after_header: None,
        before: render_json(before),
        after: render_json(after),
    }
}

fn render_json(map: Map<String, Value>) -> String {
    let sorted: BTreeMap<String, Value> = map.into_iter().collect();
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    if serde::Serialize::serialize(&sorted, &mut ser).is_err() {
        return String::new();
    }
    let mut s = String::from_utf8_lossy(&buf).into_owned();
    s.push('\n');
    s
}

/// Outcome of [`apply_then_probe`].
pub enum Applied {
    /// The change ran; the fresh probe results follow.
    Done(Vec<PathStat>),
    /// The change failed with this exit status and error output.
    Failed { rc: i32, stderr: String },
}

/// Runs the `apply` shell snippet and, if it succeeds, probes `requests` — one round trip.
pub async fn apply_then_probe(
    conn: &HostConnection,
    apply: &str,
    requests: &[ProbeRequest],
) -> Result<Applied, ModuleError> {
    let script = format!(
        "{{\n{apply}\n}} >/dev/null || exit $?\n{}",
        probe_script(requests)
    );
    let out = conn.run_script(script).await?;
    if out.rc != 0 {
        return Ok(Applied::Failed {
            rc: out.rc,
            stderr: out.stderr_str().trim().to_string(),
        });
    }
    parse_probe(requests, &out.stdout)
        .map(Applied::Done)
        .map_err(ModuleError::Local)
}

/// A helper for the common "map with `path`" diff start.
pub fn path_map(key: &str, path: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(key.into(), path.into());
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_json_is_sorted_and_indented() {
        let mut before = path_map("path", "/x");
        before.insert("mode".into(), "0644".into());
        let d = state_diff(before, path_map("path", "/x"));
        assert_eq!(
            d.before,
            "{\n    \"mode\": \"0644\",\n    \"path\": \"/x\"\n}\n"
        );
    }
}

//! `copy` of a controller-side directory, as ansible-core's action plugin does it: the files are
//! copied first (missing directories on their way are created with `directory_mode`), then each
//! directory of the source is made a directory at `dest` (with `directory_mode`, `owner` and
//! `group`), then its symlinks are recreated (`file state=link force=yes`).

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use drover_core::module::{Module, ModuleContext, ModuleError, ModuleResult};
use serde_json::{json, Map, Value};

use super::copy::{bad, base_write, CopyParams};
use super::file::File;
use super::local_tree::{read_source, walk_source};
use super::write::{converge_file, Data};
use crate::remote::attrs::AttrRequest;
use crate::remote::checksum::{sha1_hex, ChecksumAlgorithm};
use crate::remote::mode::Mode;
use crate::remote::probe::{probe, FileType, PathStat, ProbeRequest, StatInfo};
use crate::remote::{join_path, quote_path};

/// A mode as the `file` module's argument.
fn mode_arg(mode: &Mode) -> Option<Value> {
    match mode {
        Mode::Octal(m) => Some(Value::String(format!("0{m:o}"))),
        Mode::Symbolic(s) => Some(Value::String(s.clone())),
        Mode::Preserve => None,
    }
}

/// `file` arguments for an entry of the tree: the task's owner and group, and `mode`.
fn file_args(p: &CopyParams, path: String, mode: Option<&Mode>) -> Map<String, Value> {
    let mut args = Map::new();
    args.insert("path".into(), Value::String(path));
    for (key, value) in [("owner", &p.attrs.owner), ("group", &p.attrs.group)] {
        if let Some(v) = value {
            args.insert(key.into(), Value::String(v.clone()));
        }
    }
    if let Some(m) = mode.and_then(mode_arg) {
        args.insert("mode".into(), m);
    }
    args
}

/// The relative paths of every directory `rel` lies in, outermost first.
fn ancestors(rel: &str) -> impl Iterator<Item = &str> {
    rel.match_indices('/').map(move |(i, _)| &rel[..i])
}

/// Copies the directory `local` (named `src` in the task) to `dest`.
pub(super) async fn copy_tree(
    ctx: &ModuleContext<'_>,
    p: &CopyParams,
    src: &str,
    local: &Path,
) -> Result<ModuleResult, ModuleError> {
    let tree = walk_source(local, src.ends_with('/'), p.local_follow.unwrap_or(true))
        .map_err(|e| ModuleError::Local(format!("reading {}: {e}", local.display())))?;
    // Every file is read (and decrypted) before anything changes, as ansible-core walks first.
    let mut contents = Vec::with_capacity(tree.files.len());
    for (path, _) in &tree.files {
        match read_source(path, p.decrypt) {
            Ok(bytes) => contents.push(bytes),
            Err(e) => return Ok(ModuleResult::failed(e.0)),
        }
    }
    let dest = if p.dest.ends_with('/') {
        p.dest.clone()
    } else {
        format!("{}/", p.dest)
    };
    let at = |rel: &str| {
        if rel.is_empty() {
            dest.clone()
        } else {
            join_path(&dest, rel)
        }
    };
    // Directories the files, links and directories need: `dest` and every one on their way.
    let mut needed = BTreeSet::from([String::new()]);
    let rels = tree
        .files
        .iter()
        .map(|(_, r)| r)
        .chain(tree.links.iter().map(|(_, r)| r));
    for rel in rels {
        needed.extend(ancestors(rel).map(str::to_string));
    }
    for (_, rel) in &tree.dirs {
        needed.extend(ancestors(rel).map(str::to_string));
        needed.insert(rel.clone());
    }
    let needed: Vec<String> = needed.into_iter().collect();
    let mut reqs: Vec<ProbeRequest> = needed
        .iter()
        .map(|rel| ProbeRequest {
            follow: true,
            ..ProbeRequest::new(at(rel))
        })
        .collect();
    for (_, rel) in &tree.files {
        reqs.push(ProbeRequest {
            follow: true,
            checksums: vec![ChecksumAlgorithm::Sha1],
            content_limit: ctx.diff.then_some(super::MAX_DIFF_SIZE),
            ..ProbeRequest::new(at(rel))
        });
    }
    let stats = probe(ctx.conn, &reqs).await?;
    let (dir_stats, file_stats) = stats.split_at(needed.len());
    let new_dirs: Vec<&String> = needed
        .iter()
        .zip(dir_stats)
        .filter(|(_, s)| !s.exists())
        .map(|(rel, _)| rel)
        .collect();
    let mut changed = !new_dirs.is_empty();
    if changed && !ctx.check_mode {
        let dir_attrs = AttrRequest {
            mode: p.directory_mode.clone(),
            owner: p.attrs.owner.clone(),
            group: p.attrs.group.clone(),
        };
        let plan = dir_attrs.plan_new(true, 0o022).map_err(bad)?;
        let mut script = String::new();
        for rel in &new_dirs {
            let q = quote_path(&at(rel));
            script.push_str(&format!("mkdir -p -- {q} || exit $?\n"));
            if !plan.is_empty() {
                script.push_str(&format!("{} || exit $?\n", plan.commands(&q, false)));
            }
        }
        let out = ctx.conn.run(script).await?;
        if out.rc != 0 {
            return Ok(ModuleResult::failed(out.stderr_str().trim().to_string())
                .with("dest", dest.as_str()));
        }
    }
    let dir_stat = PathStat {
        path: dest.clone(),
        info: Some(StatInfo {
            file_type: FileType::Directory,
            ..StatInfo::default()
        }),
    };
    let mut result = ModuleResult::ok();
    let mut single = None;
    let files = tree.files.iter().zip(contents).zip(file_stats);
    for (((local_file, rel), bytes), s) in files {
        let mode = std::fs::metadata(local_file)
            .map(|m| m.permissions().mode() & 0o7777)
            .ok();
        let checksum = sha1_hex(&bytes);
        let mut w = base_write(p, at(rel), Data::Bytes(bytes), checksum, mode);
        w.create_parent = true;
        w.diff_header = local_file.display().to_string();
        let mut lstat = s.clone();
        if let Some(i) = lstat.info.as_mut() {
            i.link_source = None;
        }
        let r = converge_file(ctx, &w, &[lstat, s.clone(), dir_stat.clone()]).await?;
        if r.failed {
            return Ok(r);
        }
        changed |= r.changed;
        result.diff.extend(r.diff.iter().cloned());
        single = Some(r);
    }
    // Directories that already existed still get directory_mode, owner and group.
    let existing = |rel: &String| {
        needed
            .iter()
            .position(|n| n == rel)
            .is_some_and(|i| dir_stats[i].exists())
    };
    let dir_attrs_set =
        p.directory_mode.is_some() || p.attrs.owner.is_some() || p.attrs.group.is_some();
    for (_, rel) in tree.dirs.iter().filter(|(_, rel)| existing(rel)) {
        if !dir_attrs_set {
            break;
        }
        let mut args = file_args(p, at(rel), p.directory_mode.as_ref());
        args.insert("state".into(), json!("directory"));
        let r = File.run(ctx, &Value::Object(args)).await?;
        if r.failed {
            return Ok(r);
        }
        changed |= r.changed;
    }
    for (target, rel) in &tree.links {
        let mut args = file_args(p, at(rel), p.attrs.mode.as_ref());
        args.insert("src".into(), Value::String(target.clone()));
        args.insert("state".into(), json!("link"));
        args.insert("force".into(), json!(true));
        args.insert("follow".into(), json!(false));
        let r = File.run(ctx, &Value::Object(args)).await?;
        if r.failed {
            return Ok(r);
        }
        changed |= r.changed;
    }
    // One file copied: its result, as ansible-core returns the copy module's.
    if let (Some(mut r), 1) = (single, tree.files.len()) {
        r.changed = changed;
        return Ok(r.with("src", local.display().to_string()));
    }
    result.changed = changed;
    Ok(result
        .with("dest", dest)
        .with("src", local.display().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ancestors_outermost_first() {
        assert_eq!(ancestors("a/b/c").collect::<Vec<_>>(), ["a", "a/b"]);
        assert_eq!(ancestors("c").count(), 0);
    }

    #[test]
    fn modes_as_file_arguments() {
        assert_eq!(mode_arg(&Mode::Octal(0o700)), Some(json!("0700")));
        assert_eq!(mode_arg(&Mode::Symbolic("u+x".into())), Some(json!("u+x")));
        assert_eq!(mode_arg(&Mode::Preserve), None);
    }
}

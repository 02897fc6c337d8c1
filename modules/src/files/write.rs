//! Converging one remote file to given contents and attributes — the part `copy` and `template`
//! share: compare checksums, write atomically (temporary sibling, validate, attributes, backup,
//! rename) in one round trip, and report Ansible's result keys and content diff.

use std::path::PathBuf;

use drover_core::connection::{temp_sibling, ExecRequest};
use drover_core::module::{Diff, ModuleContext, ModuleError, ModuleResult};

use super::{add_file_attrs, path_map, state_diff, MAX_DIFF_SIZE};
use crate::remote::attrs::AttrRequest;
use crate::remote::checksum::ChecksumAlgorithm;
use crate::remote::probe::{parse_probe, probe_script, FileType, PathStat, ProbeRequest};
use crate::remote::{parent_dir, quote_path};

/// Files larger than this are uploaded with the transport's file upload instead of being piped
/// into the write command.
const INLINE_LIMIT: u64 = 4 * 1024 * 1024;

/// Where the new contents come from.
#[derive(Debug, Clone)]
pub enum Data {
    /// Contents in memory (`content:`, rendered templates, small files).
    Bytes(Vec<u8>),
    /// A controller-side file of the given size.
    LocalFile(PathBuf, u64),
    /// A file already on the target (`remote_src`), with its contents when small enough to diff.
    Remote {
        /// Path on the target.
        path: String,
        /// Size in bytes.
        size: u64,
        /// Contents, for `--diff`.
        content: Option<Vec<u8>>,
    },
}

impl Data {
    fn len(&self) -> u64 {
        match self {
            Self::Bytes(b) => b.len() as u64,
            Self::LocalFile(_, n) => *n,
            Self::Remote { size, .. } => *size,
        }
    }
}

/// One file to converge.
#[derive(Debug, Clone)]
pub struct FileWrite {
    /// The module writing (`copy`, `template`), for error messages.
    pub module: &'static str,
    /// Final path on the target.
    pub dest: String,
    /// New contents.
    pub data: Data,
    /// SHA-1 of the new contents.
    pub checksum: String,
    /// Requested mode/owner/group (`Mode::Preserve` already resolved by the caller).
    pub attrs: AttrRequest,
    /// Keep a timestamped copy of the old file.
    pub backup: bool,
    /// Replace a file whose contents differ (`force`); when false, only create.
    pub force: bool,
    /// Command validating the new file; `%s` is replaced by its temporary path.
    pub validate: Option<String>,
    /// Follow a symlink at `dest` and write its target instead of replacing the link.
    pub follow: bool,
    /// Create missing parent directories.
    pub create_parent: bool,
    /// `after_header` for the content diff.
    pub diff_header: String,
    /// File attributes to set with `chattr` once the file is in place (`attributes:`).
    pub attributes: Option<String>,
}

/// The probe requests [`converge_file`] needs for `dest`: the path itself, the path followed
/// (with checksum and, for `--diff`, contents) and its parent directory.
pub fn probe_requests(dest: &str, diff: bool) -> Vec<ProbeRequest> {
    vec![
        ProbeRequest::new(dest),
        ProbeRequest {
            follow: true,
            checksums: vec![ChecksumAlgorithm::Sha1],
            content_limit: diff.then_some(MAX_DIFF_SIZE),
            ..ProbeRequest::new(dest)
        },
        ProbeRequest {
            follow: true,
            ..ProbeRequest::new(parent_dir(dest))
        },
    ]
}

fn is_text(data: &[u8]) -> bool {
    !data.contains(&0) && std::str::from_utf8(data).is_ok()
}

/// Builds the `--diff` entry comparing the old contents with the new ones.
fn content_diff(w: &FileWrite, before: &PathStat) -> Option<Diff> {
    let new = match &w.data {
        Data::Bytes(b) if b.len() as u64 <= MAX_DIFF_SIZE => b.clone(),
        Data::LocalFile(p, n) if *n <= MAX_DIFF_SIZE => std::fs::read(p).ok()?,
        Data::Remote {
            content: Some(c), ..
        } => c.clone(),
        _ => {
            return Some(Diff {
                before_header: Some(w.dest.clone()),
                after_header: Some(w.diff_header.clone()),
                before: String::new(),
                after: "(file too large to diff)\n".into(),
            })
        }
    };
    let old = match &before.info {
        None => Vec::new(),
        Some(i) => match &i.content {
            Some(c) => c.clone(),
            None => {
                return Some(Diff {
                    before_header: Some(w.dest.clone()),
                    after_header: Some(w.diff_header.clone()),
                    before: "(file too large or unreadable to diff)\n".into(),
                    after: String::new(),
                })
            }
        },
    };
    if !is_text(&new) || !is_text(&old) {
        return Some(Diff {
            before_header: Some(w.dest.clone()),
            after_header: Some(w.diff_header.clone()),
            before: String::new(),
            after: "(binary file, diff skipped)\n".into(),
        });
    }
    Some(Diff {
        before_header: before.exists().then(|| w.dest.clone()),
        after_header: Some(w.diff_header.clone()),
        before: String::from_utf8_lossy(&old).into_owned(),
        after: String::from_utf8_lossy(&new).into_owned(),
    })
}

/// Converges `w.dest`, given the three probe results from [`probe_requests`], then its file
/// attributes (as ansible-core, last).
pub async fn converge_file(
    ctx: &ModuleContext<'_>,
    w: &FileWrite,
    stats: &[PathStat],
) -> Result<ModuleResult, ModuleError> {
    let r = converge_contents(ctx, w, stats).await?;
    match w.attributes.as_deref().filter(|a| !a.is_empty()) {
        Some(a) if !r.failed => crate::remote::chattr::apply_attributes(ctx, &w.dest, a, r).await,
        _ => Ok(r),
    }
}

/// Converges `w.dest`'s contents, mode and ownership.
async fn converge_contents(
    ctx: &ModuleContext<'_>,
    w: &FileWrite,
    stats: &[PathStat],
) -> Result<ModuleResult, ModuleError> {
    let fail = |msg: String| Ok(ModuleResult::failed(msg).with("dest", w.dest.as_str()));
    let (lstat, followed, parent) = (&stats[0], &stats[1], &stats[2]);
    if followed.is_dir() {
        return fail(format!("{} is a directory", w.dest));
    }
    // With `follow`, a symlink's target is what gets written.
    let write_path = match lstat.info.as_ref() {
        Some(i) if i.file_type == FileType::Link && w.follow && followed.exists() => {
            i.link_source.clone().unwrap_or_else(|| w.dest.clone())
        }
        _ => w.dest.clone(),
    };
    let current = followed.info.as_ref();
    let remote_sum = current.and_then(|i| i.checksum(ChecksumAlgorithm::Sha1));
    if current.is_some() && remote_sum.is_none() {
        return fail(format!("cannot read {} to compare checksums", w.dest));
    }
    let content_changed = remote_sum != Some(w.checksum.as_str());
    if current.is_some() && content_changed && !w.force {
        return Ok(ModuleResult::ok().with("dest", w.dest.as_str()));
    }
    if current.is_none() && !parent.is_dir() && !w.create_parent {
        return fail(format!(
            "Destination directory {} does not exist",
            parent_dir(&w.dest)
        ));
    }
    let plan = match current {
        Some(info) => w.attrs.plan(info),
        None => w.attrs.plan_new(false, 0o022),
    }
    .map_err(|message| ModuleError::BadArgs {
        module: w.module.into(),
        message,
    })?;
    // Attribute-only plans for new files: only what was asked for.
    let qdest = quote_path(&write_path);

    let mut r = ModuleResult::changed(content_changed || !plan.is_empty())
        .with("dest", w.dest.as_str())
        .with("checksum", w.checksum.as_str());
    if ctx.diff && r.changed {
        if content_changed {
            if let Some(d) = content_diff(w, followed) {
                r = r.with_diff(d);
            }
        } else {
            let (mut before, mut after) = (path_map("path", &w.dest), path_map("path", &w.dest));
            plan.add_to_diff(&mut before, &mut after);
            r = r.with_diff(state_diff(before, after));
        }
    }
    if !r.changed {
        r.data.insert("path".into(), w.dest.as_str().into());
        if let Some(info) = current {
            add_file_attrs(&mut r, info);
        }
        return Ok(r);
    }
    if ctx.check_mode {
        r.data.insert("size".into(), w.data.len().into());
        r.data.insert("state".into(), "file".into());
        return Ok(r);
    }

    let final_probe = [ProbeRequest {
        follow: true,
        checksums: vec![ChecksumAlgorithm::Md5],
        ..ProbeRequest::new(&w.dest)
    }];
    let mut script = String::new();
    let mut stdin = None;
    // Removes the temporary file if the task is abandoned before the script below renames it
    // (task `timeout`, Ctrl-C); the script removes it itself on its own failures.
    let mut tmp_guard = None;
    if content_changed {
        let tmp = temp_sibling(&write_path);
        tmp_guard = Some(ctx.conn.temp_file_guard(&tmp));
        script.push_str(&format!("t={}\n", quote_path(&tmp)));
        if w.create_parent {
            script.push_str(&format!(
                "mkdir -p -- {} || exit $?\n",
                quote_path(&parent_dir(&write_path))
            ));
        }
        match &w.data {
            Data::Bytes(b) => {
                script.push_str("cat > \"$t\" || { rc=$?; rm -f \"$t\"; exit $rc; }\n");
                stdin = Some(b.clone());
            }
            Data::LocalFile(p, n) if *n <= INLINE_LIMIT => {
                let b = std::fs::read(p)
                    .map_err(|e| ModuleError::Local(format!("reading {}: {e}", p.display())))?;
                script.push_str("cat > \"$t\" || { rc=$?; rm -f \"$t\"; exit $rc; }\n");
                stdin = Some(b);
            }
            Data::Remote { path, .. } => {
                script.push_str(&format!(
                    "cp -- {} \"$t\" || {{ rc=$?; rm -f \"$t\"; exit $rc; }}\n",
                    quote_path(path)
                ));
            }
            Data::LocalFile(p, _) => {
                if w.create_parent {
                    ctx.conn
                        .run(format!(
                            "mkdir -p -- {}",
                            quote_path(&parent_dir(&write_path))
                        ))
                        .await?;
                }
                ctx.conn.upload_file_atomic(p, &tmp).await?;
            }
        }
        if let Some(v) = &w.validate {
            script.push_str(&format!(
                "{{ {}; }} >&2; vrc=$?; if [ \"$vrc\" -ne 0 ]; then rm -f \"$t\"; echo \"@validate-failed $vrc\"; exit 3; fi\n",
                v.replace("%s", "\"$t\"")
            ));
        }
        if current.is_some() {
            // As ansible-core's atomic_move (chown + shutil.copystat): the replaced file's
            // owner, mode, ACLs and extended attributes carry over to the new one.
            script.push_str(&format!(
                "cp --attributes-only --preserve=mode,ownership,xattr -- {qdest} \"$t\" 2>/dev/null || \
                 {{ chown --reference={qdest} \"$t\" 2>/dev/null; chmod --reference={qdest} \"$t\" 2>/dev/null; }}\n"
            ));
        }
        if !plan.is_empty() {
            script.push_str(&format!(
                "{} || {{ rc=$?; rm -f \"$t\"; exit $rc; }}\n",
                plan.commands("\"$t\"", false)
            ));
        }
        if w.backup && current.is_some() {
            script.push_str(&format!(
                "b={qdest}.$$.$(date +%Y-%m-%d@%H:%M:%S)~\ncp -p -- {qdest} \"$b\" || {{ rc=$?; rm -f \"$t\"; exit $rc; }}\necho \"@backup $b\"\n"
            ));
        }
        script.push_str(&format!(
            "mv -f -- \"$t\" {qdest} || {{ rc=$?; rm -f \"$t\"; exit $rc; }}\n"
        ));
    } else {
        script.push_str(&format!("{} || exit $?\n", plan.commands(&qdest, false)));
    }
    script.push_str(&probe_script(&final_probe));
    // Without new contents to pipe in or a user's validation command, this is a short script
    // of our own (attribute changes, a remote copy, the final probe).
    let mut req = if stdin.is_none() && w.validate.is_none() {
        ExecRequest::shared_shell(script)
    } else {
        ExecRequest::new(script)
    };
    req.stdin = stdin;
    let out = ctx.conn.exec(req).await;
    if let Some(guard) = tmp_guard {
        guard.disarm();
    }
    let out = out?;
    let stdout = out.stdout_str();
    if out.rc != 0 {
        let stderr = out.stderr_str().trim().to_string();
        if let Some(line) = stdout.lines().find(|l| l.starts_with("@validate-failed")) {
            let rc: i32 = line["@validate-failed".len()..]
                .trim()
                .parse()
                .unwrap_or(out.rc);
            return Ok(ModuleResult::failed("failed to validate")
                .with("dest", w.dest.as_str())
                .with("exit_status", rc)
                .with("stderr", stderr));
        }
        return fail(if stderr.is_empty() {
            format!("writing {} failed (rc {})", w.dest, out.rc)
        } else {
            stderr
        });
    }
    if let Some(line) = stdout.lines().find(|l| l.starts_with("@backup ")) {
        r.data
            .insert("backup_file".into(), line["@backup ".len()..].into());
    }
    let stats = parse_probe(&final_probe, &out.stdout).map_err(ModuleError::Local)?;
    if let Some(info) = stats.first().and_then(|s| s.info.as_ref()) {
        if let Some(md5) = info.checksum(ChecksumAlgorithm::Md5) {
            r.data.insert("md5sum".into(), md5.into());
        }
        add_file_attrs(&mut r, info);
    }
    Ok(r)
}

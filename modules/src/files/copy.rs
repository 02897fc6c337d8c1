//! `copy`: puts a controller file, a directory tree or inline content on the target (or copies a
//! file on the target with `remote_src`).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use async_trait::async_trait;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::{ArgError, ModuleParams};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::copy_tree::copy_tree;
use super::local_tree::read_source;
use super::remote_tree::{copy_remote_tree, RemoteTree};
use super::write::{converge_file, probe_requests, Data, FileWrite};
use crate::params::{de_bool, de_opt_bool, de_opt_mode, de_opt_string, de_string};
use crate::remote::attrs::AttrRequest;
use crate::remote::checksum::{sha1_hex, ChecksumAlgorithm};
use crate::remote::file_attrs::FileAttrs;
use crate::remote::mode::Mode;
use crate::remote::probe::{probe, probe_one, FileType, PathStat, ProbeRequest};
use crate::remote::{base_name, join_path};

/// Parameters of `copy`.
#[derive(Debug, Deserialize, ModuleParams)]
#[params(required_one_of("src", "content"))]
pub struct CopyParams {
    /// Controller file or directory (or target path with `remote_src`).
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(local_file = "files", unless = "remote_src")]
    pub src: Option<String>,
    /// Inline contents instead of `src` (lists and maps are written as JSON).
    #[serde(default)]
    pub content: Option<Value>,
    /// Destination path; a trailing `/` or an existing directory means "into this directory".
    #[serde(deserialize_with = "de_string")]
    pub dest: String,
    /// Keep a timestamped backup of a replaced file.
    #[serde(default, deserialize_with = "de_bool")]
    pub backup: bool,
    /// Replace files whose contents differ (default yes); no means "only if absent".
    #[serde(default = "yes", deserialize_with = "de_bool")]
    pub force: bool,
    /// Internal (ansible-core's action plugin): the file name to use inside a directory `dest`
    /// instead of `src`'s.
    #[serde(
        default,
        rename = "_original_basename",
        deserialize_with = "de_opt_string"
    )]
    pub original_basename: Option<String>,
    /// `src` is a path on the target.
    #[serde(default, deserialize_with = "de_bool")]
    pub remote_src: bool,
    /// Validation command run on the new file (`%s` is its path) before it is put in place.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub validate: Option<String>,
    /// Mode of directories created by a recursive copy.
    #[serde(default, deserialize_with = "de_opt_mode")]
    pub directory_mode: Option<Mode>,
    /// Follow a symlink at `dest` instead of replacing it.
    #[serde(default, deserialize_with = "de_bool")]
    pub follow: bool,
    /// Follow symlinks in the source: unset means yes for a controller-side source and no
    /// (symlinks recreated) for a `remote_src` tree, as in ansible-core.
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub local_follow: Option<bool>,
    /// Expected SHA-1 of `src`; the task fails if it differs.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub checksum: Option<String>,
    /// Decrypt a vault-encrypted controller-side source (default yes).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    pub decrypt: bool,
    /// The common file attributes; `mode: preserve` keeps the source's mode.
    #[serde(flatten)]
    pub attrs: FileAttrs,
}

fn yes() -> bool {
    true
}

/// The `copy` module.
pub struct Copy;

/// The file name a copy into a directory `dest` gets.
fn dest_name(p: &CopyParams, src: &str) -> String {
    p.original_basename
        .clone()
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| base_name(src))
}

pub(super) fn bad(message: impl Into<String>) -> ModuleError {
    ModuleError::BadArgs {
        module: "copy".into(),
        message: message.into(),
    }
}

#[async_trait]
impl TypedModule for Copy {
    const NAME: &'static str = "copy";
    /// ansible-core's action refuses `async`.
    const ASYNC: drover_core::async_job::AsyncSupport =
        drover_core::async_job::AsyncSupport::Unsupported;
    type Params = CopyParams;

    fn check_more(&self, args: &Map<String, Value>) -> Result<(), ArgError> {
        if args.contains_key("src") && args.contains_key("content") {
            return Err(ArgError::invalid(
                Self::NAME,
                Some("content"),
                "src and content are mutually exclusive",
            ));
        }
        Ok(())
    }

    /// `content` is probed at `dest`; a `src` may be a file or a tree, which only the run
    /// finds out, so nothing is planned for it (copy acts on hosts only through its connection).
    fn probes(&self, args: &Value, diff: bool) -> Option<Vec<ProbeRequest>> {
        let p = self.params_from(args).ok()?;
        Some(match (&p.content, &p.src) {
            (Some(_), None) if !p.dest.ends_with('/') => probe_requests(&p.dest, diff),
            _ => Vec::new(),
        })
    }

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: CopyParams,
    ) -> Result<ModuleResult, ModuleError> {
        if let Some(failed) = p.attrs.selinux_failure(ctx).await? {
            return Ok(failed);
        }
        if let Some(v) = &p.validate {
            if !v.contains("%s") {
                return Err(bad(format!("validate must contain %s: {v}")));
            }
        }
        // An empty `src` is no source, as in ansible-core's action plugin (`not source`).
        let src = p.src.as_ref().filter(|s| !s.is_empty());
        match (&p.content, src) {
            (Some(_), Some(_)) => Err(bad("src and content are mutually exclusive")),
            (Some(content), None) => copy_content(ctx, &p, content).await,
            (None, Some(src)) if p.remote_src => copy_remote(ctx, &p, src).await,
            (None, Some(src)) => {
                let local = ctx.controller.find_file("files", src)?;
                if local.is_dir() {
                    copy_tree(ctx, &p, src, &local).await
                } else {
                    copy_local_file(ctx, &p, src, &local).await
                }
            }
            (None, None) => Err(bad("src (or content) is required")),
        }
    }
}

fn attrs_for(p: &CopyParams, src_mode: Option<u32>) -> AttrRequest {
    AttrRequest {
        mode: match (&p.attrs.mode, src_mode) {
            (Some(Mode::Preserve), Some(m)) => Some(Mode::Octal(m)),
            (Some(Mode::Preserve), None) => None,
            (m, _) => m.clone(),
        },
        owner: p.attrs.owner.clone(),
        group: p.attrs.group.clone(),
    }
}

pub(super) fn base_write(
    p: &CopyParams,
    dest: String,
    data: Data,
    checksum: String,
    src_mode: Option<u32>,
) -> FileWrite {
    FileWrite {
        module: "copy",
        dest,
        data,
        checksum,
        attrs: attrs_for(p, src_mode),
        backup: p.backup,
        force: p.force,
        validate: p.validate.clone(),
        follow: p.follow,
        create_parent: false,
        diff_header: String::new(),
        attributes: p.attrs.attributes.clone(),
    }
}

async fn copy_content(
    ctx: &ModuleContext<'_>,
    p: &CopyParams,
    content: &Value,
) -> Result<ModuleResult, ModuleError> {
    if p.dest.ends_with('/') {
        return Ok(ModuleResult::failed(
            "can not use content with a dir as dest",
        ));
    }
    let text = match content {
        Value::String(s) => s.clone(),
        Value::Array(_) | Value::Object(_) => content.to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let bytes = text.into_bytes();
    let mut w = base_write(
        p,
        p.dest.clone(),
        Data::Bytes(bytes.clone()),
        sha1_hex(&bytes),
        None,
    );
    // ansible-core 2.19 names the destination as the new side of a `content` diff.
    w.diff_header = w.dest.clone();
    let stats = probe(ctx.conn, &probe_requests(&w.dest, ctx.diff)).await?;
    if stats[1].is_dir() {
        return Ok(ModuleResult::failed(
            "can not use content with a dir as dest",
        ));
    }
    converge_file(ctx, &w, &stats).await
}

/// What [`resolve_dest`] probes: `dest/<name>` when `dest` ends with `/`, else `dest` and
/// `dest/<name>` (in case `dest` is a directory).
pub(crate) fn dest_probe_requests(dest: &str, name: &str, diff: bool) -> Vec<ProbeRequest> {
    let inner = join_path(dest, name);
    if dest.ends_with('/') {
        return probe_requests(&inner, diff);
    }
    let mut reqs = probe_requests(dest, diff);
    reqs.extend(probe_requests(&inner, diff));
    reqs
}

/// Probes `dest` and `dest/<name>`, returning the stats for the path the file goes to.
pub(crate) async fn resolve_dest(
    ctx: &ModuleContext<'_>,
    dest: &str,
    name: &str,
) -> Result<(String, Vec<PathStat>, bool), ModuleError> {
    let reqs = dest_probe_requests(dest, name, ctx.diff);
    let mut stats = probe(ctx.conn, &reqs).await?;
    let inner = join_path(dest, name);
    if dest.ends_with('/') {
        return Ok((inner, stats, true));
    }
    if stats[1].is_dir() {
        Ok((inner, stats.split_off(3), false))
    } else {
        stats.truncate(3);
        Ok((dest.to_string(), stats, false))
    }
}

async fn copy_local_file(
    ctx: &ModuleContext<'_>,
    p: &CopyParams,
    src: &str,
    local: &Path,
) -> Result<ModuleResult, ModuleError> {
    let bytes = match read_source(local, p.decrypt) {
        Ok(bytes) => bytes,
        Err(e) => return Ok(ModuleResult::failed(e.0)),
    };
    let meta = std::fs::metadata(local)
        .map_err(|e| ModuleError::Local(format!("could not stat {}: {e}", local.display())))?;
    let checksum = sha1_hex(&bytes);
    if let Some(expected) = &p.checksum {
        if !expected.eq_ignore_ascii_case(&checksum) {
            return Ok(ModuleResult::failed(format!(
                "Copied file does not match the expected checksum. Transfer failed. (expected {expected}, got {checksum})"
            )));
        }
    }
    let (dest, stats, create_parent) = resolve_dest(ctx, &p.dest, &dest_name(p, src)).await?;
    let data = if bytes.len() as u64 > 4 * 1024 * 1024 && bytes.len() as u64 == meta.len() {
        Data::LocalFile(local.to_path_buf(), bytes.len() as u64)
    } else {
        Data::Bytes(bytes)
    };
    let mut w = base_write(
        p,
        dest,
        data,
        checksum,
        Some(meta.permissions().mode() & 0o7777),
    );
    w.create_parent = create_parent;
    w.diff_header = local.display().to_string();
    let r = converge_file(ctx, &w, &stats).await?;
    Ok(r.with("src", local.display().to_string()))
}

async fn copy_remote(
    ctx: &ModuleContext<'_>,
    p: &CopyParams,
    src: &str,
) -> Result<ModuleResult, ModuleError> {
    let expanded = crate::remote::expand_path(ctx.conn, src).await?;
    let src = expanded.as_str();
    let src_stat = probe_one(
        ctx.conn,
        ProbeRequest {
            follow: true,
            checksums: vec![ChecksumAlgorithm::Sha1],
            content_limit: ctx.diff.then_some(super::MAX_DIFF_SIZE),
            ..ProbeRequest::new(src)
        },
    )
    .await?;
    let Some(info) = src_stat.info else {
        return Ok(ModuleResult::failed(format!("Source {src} not found")));
    };
    if !matches!(info.file_type, FileType::File | FileType::Directory) {
        return Ok(ModuleResult::failed(format!(
            "Cannot copy invalid source '{src}': not a file"
        )));
    }
    if info.file_type == FileType::Directory {
        let tree = RemoteTree {
            src,
            follow_links: p.local_follow == Some(true),
            dest: &p.dest,
            file_attrs: attrs_for(p, None),
            dir_attrs: AttrRequest {
                mode: p.directory_mode.clone(),
                owner: p.attrs.owner.clone(),
                group: p.attrs.group.clone(),
            },
        };
        return copy_remote_tree(ctx, &tree).await;
    }
    let Some(checksum) = info.checksum(ChecksumAlgorithm::Sha1).map(str::to_string) else {
        return Ok(ModuleResult::failed(format!("Source {src} not readable")));
    };
    let (dest, stats, create_parent) = resolve_dest(ctx, &p.dest, &dest_name(p, src)).await?;
    let data = Data::Remote {
        path: src.to_string(),
        size: info.size,
        content: info.content.clone(),
    };
    let mut w = base_write(p, dest, data, checksum, Some(info.mode));
    w.create_parent = create_parent;
    w.diff_header = src.to_string();
    let r = converge_file(ctx, &w, &stats).await?;
    Ok(r.with("src", src))
}

//! `fetch`: copies a file from the target to the controller, into `dest/<inventory_hostname>/<src>`
//! or (`flat`) straight to `dest`. The file is transferred only when its checksum differs.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use drover_core::connection::ExecRequest;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;
use serde_json::Value;
use sha1::{Digest, Sha1};

use super::slurp::{read_failure, read_script};
use crate::params::{de_bool, de_string};
use crate::remote::checksum::{sha1_hex, ChecksumAlgorithm};
use crate::remote::probe::{probe_one, FileType, ProbeRequest};

/// Parameters of `fetch`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct FetchParams {
    /// File on the target.
    #[serde(deserialize_with = "de_string")]
    pub src: String,
    /// Directory (or, with `flat`, file) on the controller.
    #[serde(deserialize_with = "de_string")]
    pub dest: String,
    /// Put the file at `dest` itself instead of under `dest/<host>/<src>`.
    #[serde(default, deserialize_with = "de_bool")]
    pub flat: bool,
    /// Fail when the remote file is missing (default yes).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    pub fail_on_missing: bool,
    /// Check the fetched file's checksum against the remote one (default yes).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    pub validate_checksum: bool,
}

fn yes() -> bool {
    true
}

/// The `fetch` module.
pub struct Fetch;

/// Where the fetched file goes on the controller. `base` resolves relative destinations (the
/// playbook directory, as Ansible's `path_dwim`).
pub fn local_dest(dest: &str, src: &str, host: &str, flat: bool, base: &Path) -> PathBuf {
    let dest = expand_home(dest);
    let dest = if Path::new(&dest).is_absolute() {
        PathBuf::from(dest)
    } else {
        base.join(dest)
    };
    if flat {
        if dest.to_string_lossy().ends_with('/') {
            let name = src.trim_end_matches('/').rsplit('/').next().unwrap_or(src);
            return dest.join(name);
        }
        return dest;
    }
    let mut out = dest.join(host);
    for part in src.split('/').filter(|p| !p.is_empty() && *p != ".") {
        out.push(part);
    }
    out
}

fn expand_home(path: &str) -> String {
    match (path.strip_prefix("~/"), std::env::var("HOME")) {
        (Some(rest), Ok(home)) => format!("{home}/{rest}"),
        _ => path.to_string(),
    }
}

fn write_local(path: &Path, data: &[u8]) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("creating {}: {e}", parent.display()))?;
    }
    let tmp = path.with_file_name(format!(
        ".{}.drover-tmp-{:016x}",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        rand_suffix()
    ));
    std::fs::write(&tmp, data).map_err(|e| format!("writing {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("writing {}: {e}", path.display())
    })
}

fn rand_suffix() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32)
}

fn local_sha1(path: &Path) -> Option<String> {
    if !path.is_file() {
        return None;
    }
    let data = std::fs::read(path).ok()?;
    Some(hex::encode(Sha1::digest(&data)))
}

#[async_trait]
impl TypedModule for Fetch {
    const NAME: &'static str = "fetch";
    /// ansible-core's action refuses `async`.
    const ASYNC: drover_core::async_job::AsyncSupport =
        drover_core::async_job::AsyncSupport::Unsupported;
    type Params = FetchParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: FetchParams,
    ) -> Result<ModuleResult, ModuleError> {
        let base = ctx
            .controller
            .vars()
            .get("playbook_dir")
            .and_then(Value::as_str)
            .map(PathBuf::from)
            .unwrap_or_else(|| std::env::current_dir().unwrap_or_default());
        let dest = local_dest(&p.dest, &p.src, ctx.host, p.flat, &base);
        let dest_str = dest.display().to_string();
        if dest.is_dir() {
            return Ok(ModuleResult::failed(format!(
                "dest is an existing directory, use a trailing slash if you want to fetch src into that directory: {dest_str}"
            ))
            .with("file", p.src.as_str()));
        }
        let stat = probe_one(
            ctx.conn,
            ProbeRequest {
                follow: true,
                checksums: vec![ChecksumAlgorithm::Sha1],
                ..ProbeRequest::new(&p.src)
            },
        )
        .await?;
        // Worded as ansible-core 2.19's fetch action: a missing file says "not transferring,
        // ignored" whether or not it fails; a directory says so only when it does not fail.
        let missing = |msg: &str, always_suffix: bool| {
            let mut r = ModuleResult::ok().with("file", p.src.as_str());
            r.failed = p.fail_on_missing;
            r.msg = Some(if always_suffix || !p.fail_on_missing {
                format!("{msg}, not transferring, ignored")
            } else {
                msg.to_string()
            });
            r
        };
        let Some(info) = stat.info else {
            return Ok(missing("the remote file does not exist", true));
        };
        if info.file_type == FileType::Directory {
            return Ok(missing(
                "remote file is a directory, fetch cannot work on directories",
                false,
            ));
        }
        let Some(remote_sum) = info.checksum(ChecksumAlgorithm::Sha1).map(str::to_string) else {
            return Ok(missing("no read permission on remote file", false));
        };
        let local_sum = local_sha1(&dest);
        let base_result = |changed: bool| {
            ModuleResult::changed(changed)
                .with("dest", dest_str.as_str())
                .with("file", p.src.as_str())
                .with("remote_checksum", remote_sum.as_str())
                .with("remote_md5sum", Value::Null)
        };
        if local_sum.as_deref() == Some(remote_sum.as_str()) {
            return Ok(base_result(false).with("checksum", remote_sum.as_str()));
        }
        if ctx.check_mode {
            return Ok(base_result(true).with("checksum", remote_sum.as_str()));
        }
        let out = ctx.conn.exec(ExecRequest::new(read_script(&p.src))).await?;
        if out.rc != 0 {
            return Ok(ModuleResult::failed(read_failure(
                &p.src,
                out.rc,
                &out.stdout,
                &out.stderr_str(),
            ))
            .with("file", p.src.as_str()));
        }
        let got = sha1_hex(&out.stdout);
        if p.validate_checksum && got != remote_sum {
            return Ok(ModuleResult::failed(
                "checksum mismatch between the remote file and the fetched copy",
            )
            .with("file", p.src.as_str())
            .with("remote_checksum", remote_sum.as_str())
            .with("checksum", got));
        }
        write_local(&dest, &out.stdout).map_err(ModuleError::Local)?;
        Ok(base_result(true).with("checksum", got))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destination_layout() {
        let base = Path::new("/pb");
        assert_eq!(
            local_dest("out", "/etc/hosts", "web1", false, base),
            PathBuf::from("/pb/out/web1/etc/hosts")
        );
        assert_eq!(
            local_dest("/o/", "/etc/hosts", "web1", true, base),
            PathBuf::from("/o/hosts")
        );
        assert_eq!(
            local_dest("/o/x.txt", "/etc/hosts", "web1", true, base),
            PathBuf::from("/o/x.txt")
        );
        assert_eq!(
            local_dest("/o", "rel/f", "h", false, base),
            PathBuf::from("/o/h/rel/f")
        );
    }
}

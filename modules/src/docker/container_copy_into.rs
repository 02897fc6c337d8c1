//! `docker_container_copy_into` (community.docker): copies a file of the target host (`path`) or
//! given bytes (`content`) into a container, running or stopped, with a mode, owner and group.
//!
//! One round trip reads the container's state (and its user's IDs when `owner_id`/`group_id` are
//! not given), the source file (type, mode, size, SHA-256) and the container's file through
//! `docker cp CONTAINER:PATH -` (its tar header gives type, mode, owner, size; the body its
//! SHA-256, cut short when its size cannot match). Idempotence follows community.docker: the file
//! is unchanged when type, size, mode (with setuid/setgid/sticky), owner, group and content all
//! match; `force: true` always writes, `force: false` writes only when nothing exists at the path.
//! The write is a tar stream built on the target (`tar --owner --group --mode`) fed to
//! `docker cp - CONTAINER:DIR`, so the file appears with its mode and owner in one step, in
//! running and stopped containers alike.

use async_trait::async_trait;
use base64::Engine as _;
use drover_core::connection::ExecRequest;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;
use serde_json::Value;

use super::api::{de_opt_u64, finish, DockerApi, DockerCli, DockerError};
use super::copy_into_decide::{decide, parse_probe, Decision, Wanted};
use super::copy_into_probe::{probe_script, write_script, ProbeSpec, Source, WriteSpec};
use crate::params::{de_bool, de_opt_bool, de_opt_string, de_string};

/// ansible-core's `MAX_FILE_SIZE_FOR_DIFF` default (bytes), which community.docker's action
/// plugin passes to the module.
const MAX_DIFF: u64 = 104_448;

/// Parameters of `docker_container_copy_into`.
#[derive(Debug, Deserialize, ModuleParams)]
#[params(
    mutually_exclusive("path", "content"),
    required_together("owner_id", "group_id")
)]
#[serde(deny_unknown_fields)]
pub struct CopyIntoParams {
    /// The container (name or ID) to copy the file into.
    #[serde(deserialize_with = "de_string")]
    pub container: String,
    /// A file on the target host (the host the task runs on) to copy.
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(kind = "path")]
    pub path: Option<String>,
    /// The file's content instead of `path` (requires `mode`).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub content: Option<String>,
    /// `content` is Base64-encoded (for binary data).
    #[serde(default, deserialize_with = "de_bool")]
    pub content_is_b64: bool,
    /// The file's path in the container (made absolute and normalized).
    #[serde(deserialize_with = "de_string")]
    pub container_path: String,
    /// Follow symbolic links at `container_path` in the container.
    #[serde(default, deserialize_with = "de_bool")]
    pub follow: bool,
    /// Follow `path` if it is a symbolic link (else the link itself is copied).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    #[param(default = "true")]
    pub local_follow: bool,
    /// Owner ID of the file (with `group_id`); default: the container user's (`id -u`, needs a
    /// running container with `/bin/sh`).
    #[serde(default, deserialize_with = "de_opt_u64")]
    pub owner_id: Option<u64>,
    /// Group ID of the file (with `owner_id`); default: the container user's (`id -g`).
    #[serde(default, deserialize_with = "de_opt_u64")]
    pub group_id: Option<u64>,
    /// The file's mode, read as `mode_parse` says; default: the mode of `path`.
    #[serde(default)]
    pub mode: Option<Value>,
    /// How `mode` is read: `legacy` (an integer; a string is read as a decimal number),
    /// `modern` (a string is octal) or `octal_string_only`.
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(choices("legacy", "modern", "octal_string_only"), default = "legacy")]
    pub mode_parse: Option<String>,
    /// `true`: always write; `false`: write only if nothing exists at `container_path`; unset:
    /// write when the file differs.
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub force: Option<bool>,
    /// Largest file (bytes) whose content `--diff` shows (community.docker's action plugin sets
    /// it from `MAX_FILE_SIZE_FOR_DIFF`, 104448).
    #[serde(
        default,
        rename = "_max_file_size_for_diff",
        deserialize_with = "de_opt_u64"
    )]
    pub max_file_size_for_diff: Option<u64>,
    /// The engine connection options.
    #[serde(flatten)]
    pub api: DockerApi,
}

fn yes() -> bool {
    true
}

/// The `docker_container_copy_into` module.
pub struct DockerContainerCopyInto;

#[async_trait]
impl TypedModule for DockerContainerCopyInto {
    const NAME: &'static str = "docker_container_copy_into";
    type Params = CopyIntoParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: CopyIntoParams,
    ) -> Result<ModuleResult, ModuleError> {
        finish(run(ctx, p).await)
    }
}

/// Reads `mode` as community.docker does for each `mode_parse`.
pub fn parse_mode(mode: &Value, how: &str) -> Result<u32, DockerError> {
    let bad = |why: String| DockerError::failed(format!("Error while parsing 'mode': {why}"));
    let value: i64 = match (how, mode) {
        (_, Value::Number(n)) if how != "octal_string_only" => n
            .as_i64()
            .ok_or_else(|| bad(format!("{n} cannot be converted to an int")))?,
        ("legacy", Value::String(s)) => s
            .trim()
            .parse()
            .map_err(|_| bad(format!("'{s}' cannot be converted to an int")))?,
        (_, Value::String(s)) => {
            let t = s.trim();
            let t = t.strip_prefix("0o").unwrap_or(t);
            i64::from_str_radix(t, 8)
                .map_err(|_| bad(format!("invalid literal for int() with base 8: '{s}'")))?
        }
        ("octal_string_only", other) => {
            return Err(bad(format!("must be an octal string, got {other}")))
        }
        (_, other) => {
            return Err(bad(format!(
                "must be an octal string or an integer, got {other}"
            )))
        }
    };
    if value < 0 {
        return Err(DockerError::failed(format!(
            "'mode' must not be negative; got {value}"
        )));
    }
    u32::try_from(value).map_err(|_| bad(format!("{value} is too large")))
}

/// `container_path` made absolute and normalized as Python's `os.path.normpath` does.
pub fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

async fn run(ctx: &ModuleContext<'_>, p: CopyIntoParams) -> Result<ModuleResult, DockerError> {
    let mode = match &p.mode {
        Some(m) if !m.is_null() => {
            Some(parse_mode(m, p.mode_parse.as_deref().unwrap_or("legacy"))?)
        }
        _ => None,
    };
    let source = match (&p.path, &p.content) {
        (Some(_), Some(_)) => {
            return Err(DockerError::failed(
                "parameters are mutually exclusive: path|content",
            ))
        }
        (Some(path), None) => Source::Path {
            path: path.clone(),
            follow: p.local_follow,
        },
        (None, Some(content)) => {
            if mode.is_none() {
                return Err(DockerError::failed(
                    "missing parameter(s) required by 'content': mode",
                ));
            }
            let bytes = if p.content_is_b64 {
                base64::engine::general_purpose::STANDARD
                    .decode(content.trim())
                    .map_err(|e| {
                        DockerError::failed(format!("Cannot Base64 decode the content option: {e}"))
                    })?
            } else {
                content.as_bytes().to_vec()
            };
            Source::Content(bytes)
        }
        (None, None) => {
            return Err(DockerError::failed(
                "One of path and content must be supplied",
            ))
        }
    };
    let ids = match (p.owner_id, p.group_id) {
        (Some(u), Some(g)) => Some((u, g)),
        (None, None) => None,
        _ => {
            return Err(DockerError::failed(
                "parameters are required together: owner_id, group_id",
            ))
        }
    };
    let container_path = normalize(&p.container_path);
    let diff_max = ctx
        .diff
        .then(|| p.max_file_size_for_diff.unwrap_or(MAX_DIFF));
    let cli = DockerCli::new(&p.api)?;
    let spec = ProbeSpec {
        container: &p.container,
        container_path: &container_path,
        source: &source,
        need_ids: ids.is_none(),
        follow: p.follow,
        read_dest: p.force != Some(true) || p.follow || ctx.diff,
        diff_max,
    };
    let out = ctx
        .conn
        .run(probe_script(&cli, &spec))
        .await
        .map_err(DockerError::from)?;
    let probe = parse_probe(&out.stdout_str(), &p.container, &source, ids).map_err(|e| {
        if out.stdout_str().trim().is_empty() {
            DockerError::failed(format!("{e}: {}", out.stderr_str().trim()))
        } else {
            e
        }
    })?;
    let wanted = Wanted {
        source: &source,
        mode,
        force: p.force,
        follow: p.follow,
        path_label: p.path.as_deref(),
        diff_max,
    };
    let Decision {
        changed,
        container_path,
        mode,
        diff,
    } = decide(&wanted, &probe, &container_path)?;
    if changed && !ctx.check_mode {
        let write = WriteSpec {
            container: &p.container,
            container_path: &container_path,
            source: &source,
            mode,
            uid: probe.uid,
            gid: probe.gid,
        };
        let mut req = ExecRequest::new(write_script(&cli, &write));
        if let Source::Content(bytes) = &source {
            req.stdin = Some(bytes.clone());
        }
        let out = ctx.conn.exec(req).await.map_err(DockerError::from)?;
        if !out.success() {
            let msg = out.stderr_str();
            let msg = msg.trim();
            let msg = msg
                .strip_prefix("Error response from daemon: ")
                .unwrap_or(msg);
            return Err(DockerError::failed(format!(
                "Could not copy to \"{container_path}\" in container \"{}\": {msg}",
                p.container
            )));
        }
    }
    let mut result = ModuleResult::changed(changed).with("container_path", container_path);
    if let Some(d) = diff {
        result = result.with_diff(d);
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn modes_are_read_as_community_docker_reads_them() {
        assert_eq!(parse_mode(&json!(420), "legacy").unwrap(), 0o644);
        // legacy reads a string as a decimal number, as community.docker warns.
        assert_eq!(parse_mode(&json!("644"), "legacy").unwrap(), 644);
        assert_eq!(parse_mode(&json!("0644"), "modern").unwrap(), 0o644);
        assert_eq!(parse_mode(&json!(420), "modern").unwrap(), 0o644);
        assert_eq!(
            parse_mode(&json!("4755"), "octal_string_only").unwrap(),
            0o4755
        );
        assert!(parse_mode(&json!(420), "octal_string_only").is_err());
        assert!(parse_mode(&json!("rwx"), "modern").is_err());
        assert!(parse_mode(&json!(-1), "legacy").is_err());
    }

    #[test]
    fn container_paths_are_made_absolute_and_normal() {
        assert_eq!(normalize("tmp/a.txt"), "/tmp/a.txt");
        assert_eq!(normalize("/tmp//sub/../a.txt"), "/tmp/a.txt");
        assert_eq!(normalize("/a/./b/"), "/a/b");
    }
}

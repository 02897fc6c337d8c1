//! `docker_container_copy_into`'s decision: reads the probe's output and compares the source with
//! the container's file as community.docker does (`is_file_idempotent`/`is_content_idempotent`).

use base64::Engine as _;
use drover_core::module::Diff;
use sha2::Digest;

use super::api::DockerError;
use super::container_copy_into::normalize;
use super::copy_into_probe::{parse_tar_line, Source, TarEntry, MARK};

/// The source file on the target host, as the probe saw it.
#[derive(Debug, Clone, Default)]
pub struct SrcInfo {
    /// `stat`'s `%F` (`regular file`, `symbolic link`, …).
    pub kind: String,
    /// Permission bits.
    pub mode: u32,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 (regular files).
    pub sha: Option<String>,
    /// Link target (symbolic links not followed).
    pub link: Option<String>,
    /// Content for `--diff` (when small enough).
    pub content: Option<Vec<u8>>,
}

/// The container's file.
#[derive(Debug, Clone)]
pub struct DstInfo {
    /// The path it was read at (after following links when asked).
    pub path: String,
    /// Its tar header.
    pub entry: TarEntry,
    /// SHA-256 of a regular file.
    pub sha: Option<String>,
    /// Link target of a symbolic link.
    pub link: Option<String>,
    /// Content for `--diff`.
    pub content: Option<Vec<u8>>,
}

/// Everything the probe found.
#[derive(Debug, Clone)]
pub struct Probe {
    /// Owner ID to write with.
    pub uid: u64,
    /// Group ID to write with.
    pub gid: u64,
    /// The source (for `path`).
    pub src: Option<SrcInfo>,
    /// `None`: not read; `Some(None)`: nothing at the path (which is given).
    pub dst: Option<Result<DstInfo, String>>,
}

/// What the task asks for.
#[derive(Debug, Clone)]
pub struct Wanted<'a> {
    /// The source.
    pub source: &'a Source,
    /// The `mode` option.
    pub mode: Option<u32>,
    /// The `force` option.
    pub force: Option<bool>,
    /// The `follow` option.
    pub follow: bool,
    /// The `path` option (the diff's header).
    pub path_label: Option<&'a str>,
    /// `--diff` limit, when asked.
    pub diff_max: Option<u64>,
}

/// The outcome.
#[derive(Debug, Clone)]
pub struct Decision {
    /// Write the file.
    pub changed: bool,
    /// The path written (resolved when following links).
    pub container_path: String,
    /// The mode to write.
    pub mode: u32,
    /// The `--diff` entry.
    pub diff: Option<Diff>,
}

fn b64(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()
}

/// Reads the probe's output; fails as community.docker does for a missing container, a missing
/// source, a stopped container without IDs.
pub fn parse_probe(
    text: &str,
    container: &str,
    source: &Source,
    ids: Option<(u64, u64)>,
) -> Result<Probe, DockerError> {
    let mut probe = Probe {
        uid: ids.map_or(0, |i| i.0),
        gid: ids.map_or(0, |i| i.1),
        src: None,
        dst: None,
    };
    let mut saw_state = false;
    let mut in_dst = false;
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(rest) = line.strip_prefix(MARK) else {
            continue;
        };
        let rest = rest.trim_start();
        let (key, val) = rest.split_once(' ').unwrap_or((rest, ""));
        match key {
            "state" => {
                saw_state = true;
                let (rc, msg) = val.split_once(' ').unwrap_or((val, ""));
                if rc != "0" {
                    let lower = msg.to_ascii_lowercase();
                    if lower.contains("no such") || lower.contains("not found") {
                        return Err(DockerError::failed(format!(
                            "Could not find container \"{container}\""
                        )));
                    }
                    return Err(DockerError::failed(format!(
                        "An unexpected Docker error occurred for container \"{container}\": {}",
                        msg.trim()
                    )));
                }
            }
            "ids" => {
                let (rc, msg) = val.split_once(' ').unwrap_or((val, ""));
                if rc == "notrunning" && msg.starts_with("true true") {
                    return Err(DockerError::failed(format!(
                        "Cannot execute command in paused container \"{container}\" (give \
                         owner_id and group_id, or unpause it)"
                    )));
                }
                if rc == "notrunning" {
                    return Err(DockerError::failed(format!(
                        "Cannot execute command in container \"{container}\": it is not running \
                         (give owner_id and group_id to copy into a stopped container)"
                    )));
                }
                let nums: Vec<u64> = msg
                    .split_whitespace()
                    .filter_map(|w| w.parse().ok())
                    .collect();
                if rc != "0" || nums.len() != 2 {
                    return Err(DockerError::failed(format!(
                        "Could not determine the user and group ID in container \"{container}\" \
                         with `/bin/sh -c 'id -u && id -g'` (exit code {rc}): {}",
                        msg.trim()
                    )));
                }
                probe.uid = nums[0];
                probe.gid = nums[1];
            }
            "src" => {
                let path = match source {
                    Source::Path { path, .. } => path.as_str(),
                    Source::Content(_) => "",
                };
                let (rc, info) = val.split_once(' ').unwrap_or((val, ""));
                if rc != "0" {
                    if info.contains("No such file") {
                        return Err(DockerError::failed(format!(
                            "Cannot find local file {path}"
                        )));
                    }
                    return Err(DockerError::failed(format!(
                        "Cannot read local file {path}: {}",
                        info.trim()
                    )));
                }
                let mut parts = info.rsplitn(3, '|');
                let size = parts
                    .next()
                    .and_then(|s| s.trim().parse().ok())
                    .unwrap_or(0);
                let mode = parts
                    .next()
                    .and_then(|m| u32::from_str_radix(m.trim(), 8).ok())
                    .unwrap_or(0);
                let kind = parts.next().unwrap_or_default().to_string();
                if !kind.starts_with("regular") && kind != "symbolic link" {
                    return Err(DockerError::failed(format!(
                        "Local path {path} is not a symbolic link or file"
                    )));
                }
                probe.src = Some(SrcInfo {
                    kind,
                    mode,
                    size,
                    ..SrcInfo::default()
                });
                in_dst = false;
            }
            "dst" => {
                in_dst = true;
                let (what, rest) = val.split_once(' ').unwrap_or((val, ""));
                probe.dst = Some(match what {
                    "none" => Err(rest.to_string()),
                    "found" => {
                        let header = lines.next().unwrap_or_default();
                        let entry = parse_tar_line(header).ok_or_else(|| {
                            DockerError::failed(format!(
                                "Unexpected error: cannot read the tar header of {rest} from \
                                 container \"{container}\": {header}"
                            ))
                        })?;
                        Ok(DstInfo {
                            path: rest.to_string(),
                            entry,
                            sha: None,
                            link: None,
                            content: None,
                        })
                    }
                    "loop" => {
                        return Err(DockerError::failed(format!(
                            "Found infinite symbolic link loop when trying to stating \"{rest}\""
                        )))
                    }
                    _ => {
                        return Err(DockerError::failed(format!(
                            "An unexpected Docker error occurred for container \"{container}\": {}",
                            rest.trim()
                        )))
                    }
                });
            }
            "sha" | "link" | "content" => {
                let v = val.trim().to_string();
                if in_dst {
                    if let Some(Ok(d)) = probe.dst.as_mut() {
                        match key {
                            "sha" => d.sha = Some(v),
                            "link" => d.link = Some(v),
                            _ => d.content = b64(&v),
                        }
                    }
                } else if let Some(s) = probe.src.as_mut() {
                    match key {
                        "sha" => s.sha = Some(v),
                        "link" => s.link = Some(v),
                        _ => s.content = b64(&v),
                    }
                }
            }
            _ => {}
        }
    }
    if !saw_state {
        return Err(DockerError::failed(format!(
            "Unexpected error: no answer about container \"{container}\""
        )));
    }
    if let (Source::Content(bytes), None) = (source, &probe.src) {
        probe.src = Some(SrcInfo {
            kind: "regular file".into(),
            mode: 0,
            size: bytes.len() as u64,
            sha: Some(hex::encode(sha2::Sha256::digest(bytes))),
            link: None,
            content: Some(bytes.clone()),
        });
    }
    Ok(probe)
}

/// A text for `--diff`, or why there is none.
fn shown(content: Option<&[u8]>, size: u64, max: u64) -> String {
    match content {
        _ if size > max && max > 0 => format!("(file larger than {max} bytes)"),
        Some(c) if c.contains(&0) => "(binary file)".into(),
        Some(c) => String::from_utf8_lossy(c).into_owned(),
        None => String::new(),
    }
}

/// What the container holds, for `--diff`'s `before`.
fn before_text(dst: &DstInfo, max: u64) -> String {
    match dst.entry.kind {
        'd' => "(directory)".into(),
        'l' => dst.link.clone().unwrap_or_default(),
        'b' | 'c' => "(device)".into(),
        'p' => "(named pipe)".into(),
        '-' => shown(dst.content.as_deref(), dst.entry.size, max),
        _ => "(unknown filesystem object)".into(),
    }
}

/// Compares as community.docker does and says whether to write, where and with which mode.
pub fn decide(
    w: &Wanted<'_>,
    probe: &Probe,
    container_path: &str,
) -> Result<Decision, DockerError> {
    let src = probe.src.clone().unwrap_or_default();
    let mode = w.mode.unwrap_or(src.mode);
    let src_link = src.kind == "symbolic link";
    let dst = probe.dst.clone();
    let path = match (&dst, w.follow) {
        (Some(Ok(d)), true) => normalize(&d.path),
        (Some(Err(p)), true) => normalize(p),
        _ => container_path.to_string(),
    };
    let changed = match &dst {
        _ if w.force == Some(true) => true,
        None => true,
        Some(Err(_)) => true,
        Some(Ok(_)) if w.force == Some(false) => false,
        Some(Ok(d)) => {
            let e = &d.entry;
            if src_link {
                !(e.kind == 'l' && d.link == src.link)
            } else {
                e.kind != '-'
                    || e.size != src.size
                    || e.mode != mode
                    || e.uid != probe.uid
                    || e.gid != probe.gid
                    || d.sha.is_none()
                    || d.sha != src.sha
            }
        }
    };
    let diff = w.diff_max.map(|max| {
        let (after_header, after) = match w.source {
            Source::Content(_) => (
                "dynamically generated".to_string(),
                shown(src.content.as_deref(), src.size, max),
            ),
            Source::Path { path, .. } => (
                w.path_label.unwrap_or(path).to_string(),
                if src_link {
                    src.link.clone().unwrap_or_default()
                } else {
                    shown(src.content.as_deref(), src.size, max)
                },
            ),
        };
        let before = match &dst {
            Some(Ok(d)) => before_text(d, max),
            _ => String::new(),
        };
        if w.force == Some(false) && matches!(dst, Some(Ok(_))) {
            // Nothing is written: the "after" is what stays.
            Diff {
                before_header: Some(path.clone()),
                after_header: Some(path.clone()),
                before: before.clone(),
                after: before,
            }
        } else {
            Diff {
                before_header: Some(path.clone()),
                after_header: Some(after_header),
                before,
                after,
            }
        }
    });
    Ok(Decision {
        changed,
        container_path: path,
        mode,
        diff,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe_of(text: &str, source: &Source) -> Probe {
        parse_probe(text, "c", source, None).unwrap()
    }

    #[test]
    fn identical_files_are_unchanged_and_differences_are_seen() {
        let src = Source::Content(b"hi\n".to_vec());
        let sha = hex::encode(sha2::Sha256::digest(b"hi\n"));
        let text = format!(
            "{MARK} state 0 true false\n{MARK} ids 0 0 0 \n{MARK} dst found /a\n\
             -rw-r--r-- 0/0 3 2026-12-06 03:20 a\n{MARK} sha {sha}\n"
        );
        let probe = probe_of(&text, &src);
        let w = Wanted {
            source: &src,
            mode: Some(0o644),
            force: None,
            follow: false,
            path_label: None,
            diff_max: None,
        };
        assert!(!decide(&w, &probe, "/a").unwrap().changed);
        let w2 = Wanted {
            mode: Some(0o600),
            ..w.clone()
        };
        assert!(decide(&w2, &probe, "/a").unwrap().changed);
        let forced = Wanted {
            force: Some(true),
            ..w.clone()
        };
        assert!(decide(&forced, &probe, "/a").unwrap().changed);
        let missing = probe_of(
            &format!("{MARK} state 0 true false\n{MARK} ids 0 1 1 \n{MARK} dst none /a\n"),
            &src,
        );
        let keep = Wanted {
            force: Some(false),
            ..w.clone()
        };
        assert!(decide(&keep, &missing, "/a").unwrap().changed);
        assert!(!decide(&keep, &probe, "/a").unwrap().changed);
    }

    #[test]
    fn failures_name_the_cause() {
        let src = Source::Content(b"x".to_vec());
        let e = parse_probe(
            &format!("{MARK} state 1 Error: No such container: c\n"),
            "c",
            &src,
            None,
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("Could not find container \"c\""),
            "{e}"
        );
        let e = parse_probe(
            &format!("{MARK} state 0 false false\n{MARK} ids notrunning false false\n"),
            "c",
            &src,
            None,
        )
        .unwrap_err();
        assert!(e.to_string().contains("owner_id"), "{e}");
    }
}

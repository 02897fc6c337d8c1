//! Text editing modules: `lineinfile`, `blockinfile`, `replace`, `ini_file`.
//!
//! Each reads the target file once (stat + contents in one round trip), computes the new contents on
//! the controller with pure functions, and writes them atomically through the shared write
//! pipeline (`files::write`: temporary sibling, validate, attributes, backup, rename) only when
//! something changed.

pub mod blockinfile;
pub mod ini_file;
pub mod lineinfile;
pub mod pyre;
pub mod replace;

use drover_core::module::{Diff, ModuleContext, ModuleError, ModuleResult};
use drover_core::params::ModuleParams;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::files::state_diff;
use crate::files::write::{converge_file, Data, FileWrite};
use crate::params::de_opt_string;
use crate::remote::checksum::{sha1_hex, ChecksumAlgorithm};
use crate::remote::file_attrs::FileAttrs;
use crate::remote::parent_dir;
use crate::remote::probe::{probe, PathStat, ProbeRequest};

/// Largest file the text modules edit (they hold it in memory on the controller).
pub const MAX_EDIT_SIZE: u64 = 64 * 1024 * 1024;

/// Ansible's message when only ownership or permissions changed.
pub const ATTRS_CHANGED: &str = "ownership, perms or SE linux context changed";

/// The options `lineinfile`, `blockinfile` and `replace` share: the common file attributes and
/// `validate` (`ini_file` takes the file attributes only).
#[derive(Debug, Clone, Default, Deserialize, ModuleParams)]
pub struct CommonFileArgs {
    /// The common file attributes.
    #[serde(flatten)]
    pub attrs: FileAttrs,
    /// Validation command (`%s` is the temporary file) run before the file is put in place.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub validate: Option<String>,
}

impl CommonFileArgs {
    /// Checks `validate` contains `%s`, as Ansible requires.
    pub fn check_validate(&self) -> Result<(), String> {
        match &self.validate {
            Some(v) if !v.contains("%s") => Err(format!("validate must contain %s: {v}")),
            _ => Ok(()),
        }
    }
}

/// Runs a text module's edit between the file-attribute steps every text module takes: SELinux
/// options fail clearly where SELinux is on, and `attributes` are applied last (as ansible-core
/// does), when the edit succeeded.
pub async fn with_file_attrs<F>(
    ctx: &ModuleContext<'_>,
    attrs: &FileAttrs,
    path: &str,
    edit: F,
) -> Result<ModuleResult, ModuleError>
where
    F: std::future::Future<Output = Result<ModuleResult, ModuleError>>,
{
    if let Some(failed) = attrs.selinux_failure(ctx).await? {
        return Ok(failed);
    }
    let r = edit.await?;
    attrs.finish(ctx, path, r).await
}

/// A target file read for editing: its stats (path, followed path, parent) and contents.
#[derive(Debug, Clone)]
pub struct TextTarget {
    /// Path as given.
    pub path: String,
    /// Probe results: the path itself, the path followed (with checksum and contents), its parent.
    pub stats: Vec<PathStat>,
}

/// ansible-core's failure for a text edit whose path is a directory (`rc` 256, as its modules
/// report it).
pub fn directory_failure(path: &str) -> ModuleResult {
    ModuleResult::failed(format!("Path {path} is a directory !")).with("rc", 256)
}

impl TextTarget {
    /// True when a file (or a link to one) exists at the path.
    pub fn exists(&self) -> bool {
        self.stats[1].exists() || self.stats[0].exists()
    }

    /// True when the path (followed) is a directory.
    pub fn is_dir(&self) -> bool {
        self.stats[1].is_dir()
    }

    /// The current contents (empty for a missing file).
    pub fn content(&self) -> &[u8] {
        self.stats[1]
            .info
            .as_ref()
            .and_then(|i| i.content.as_deref())
            .unwrap_or(&[])
    }

    /// True when the file exists but its contents could not be read.
    pub fn unreadable(&self) -> bool {
        self.stats[1]
            .info
            .as_ref()
            .is_some_and(|i| i.content.is_none())
    }
}

/// Reads `path` (stat, checksum and contents) in one round trip.
pub async fn read_target(ctx: &ModuleContext<'_>, path: &str) -> Result<TextTarget, ModuleError> {
    let requests = vec![
        ProbeRequest::new(path),
        ProbeRequest {
            follow: true,
            checksums: vec![ChecksumAlgorithm::Sha1],
            content_limit: Some(MAX_EDIT_SIZE),
            ..ProbeRequest::new(path)
        },
        ProbeRequest {
            follow: true,
            ..ProbeRequest::new(parent_dir(path))
        },
    ];
    let stats = probe(ctx.conn, &requests).await?;
    Ok(TextTarget {
        path: path.to_string(),
        stats,
    })
}

/// What writing a text file did.
#[derive(Debug)]
pub enum WriteOutcome {
    /// The write failed (validation, permissions): the module's failed result.
    Failed(ModuleResult),
    /// Done (or, in check mode, planned).
    Done {
        /// Path of the backup copy, when one was made.
        backup_file: Option<String>,
        /// Ownership or permissions changed (or would).
        attrs_changed: bool,
        /// The `(file attributes)` diff for `--diff`, when attributes changed.
        attr_diff: Option<Diff>,
    },
}

/// Writes `new` (when `Some`) to the target atomically and applies the requested attributes,
/// honouring check mode. `module` names the caller in errors.
pub async fn write_text(
    ctx: &ModuleContext<'_>,
    module: &'static str,
    target: &TextTarget,
    new: Option<Vec<u8>>,
    file_attrs: &FileAttrs,
    validate: Option<&str>,
    backup: bool,
) -> Result<WriteOutcome, ModuleError> {
    let attrs = file_attrs.request();
    let current = target.stats[1].info.as_ref();
    let plan = match current {
        Some(info) => attrs.plan(info),
        None => attrs.plan_new(false, 0o022),
    }
    .map_err(|message| ModuleError::BadArgs {
        module: module.into(),
        message,
    })?;
    // A new file's owner/group is whoever writes it; only a mode that differs from the default
    // counts as an attribute change, as in Ansible's check after the write.
    let attrs_changed = match current {
        Some(_) => !plan.is_empty(),
        None => plan.mode.is_some_and(|(a, b)| a != b),
    };
    let mut attr_diff = None;
    if attrs_changed && ctx.diff {
        let (mut before, mut after) = (Default::default(), Default::default());
        plan.add_to_diff(&mut before, &mut after);
        let mut d = state_diff(before, after);
        d.before_header = Some(format!("{} (file attributes)", target.path));
        d.after_header = d.before_header.clone();
        attr_diff = Some(d);
    }
    if new.is_none() && !attrs_changed {
        return Ok(WriteOutcome::Done {
            backup_file: None,
            attrs_changed,
            attr_diff,
        });
    }
    let bytes = new.unwrap_or_else(|| target.content().to_vec());
    let write = FileWrite {
        module,
        dest: target.path.clone(),
        checksum: sha1_hex(&bytes),
        data: Data::Bytes(bytes),
        attrs,
        backup,
        force: true,
        validate: validate.map(str::to_string),
        follow: true,
        create_parent: true,
        diff_header: String::new(),
        attributes: None,
    };
    let quiet = ModuleContext {
        host: ctx.host,
        conn: ctx.conn,
        check_mode: ctx.check_mode,
        diff: false,
        controller: ctx.controller,
    };
    let r = converge_file(&quiet, &write, &target.stats).await?;
    if r.failed {
        let msg = r.msg.clone().unwrap_or_default();
        if msg == "failed to validate" {
            let rc = r.data.get("exit_status").cloned().unwrap_or_default();
            let stderr = r
                .data
                .get("stderr")
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            return Ok(WriteOutcome::Failed(ModuleResult::failed(format!(
                "failed to validate: rc:{rc} error:{stderr}"
            ))));
        }
        return Ok(WriteOutcome::Failed(ModuleResult::failed(msg)));
    }
    Ok(WriteOutcome::Done {
        backup_file: r
            .data
            .get("backup_file")
            .and_then(|v| v.as_str())
            .map(str::to_string),
        attrs_changed,
        attr_diff,
    })
}

/// The `(content)` diff Ansible's text modules report.
pub fn content_diff(path: &str, before: &[u8], after: &[u8]) -> Diff {
    Diff {
        before_header: Some(format!("{path} (content)")),
        after_header: Some(format!("{path} (content)")),
        before: String::from_utf8_lossy(before).into_owned(),
        after: String::from_utf8_lossy(after).into_owned(),
    }
}

/// The `diff` key `lineinfile` and `blockinfile` always return, as Ansible does: the content
/// entry (with texts only under `--diff`) and the file-attributes entry (with before/after only
/// when attributes changed under `--diff`).
pub fn diff_list(
    path: &str,
    diff_mode: bool,
    before: &[u8],
    after: &[u8],
    attr_diff: Option<Diff>,
) -> Value {
    let content = if diff_mode {
        content_diff(path, before, after)
    } else {
        content_diff(path, b"", b"")
    };
    let header = format!("{path} (file attributes)");
    let mut attrs = Map::new();
    attrs.insert("before_header".into(), header.clone().into());
    attrs.insert("after_header".into(), header.into());
    if let Some(d) = attr_diff.filter(|_| diff_mode) {
        attrs.insert("before".into(), d.before.into());
        attrs.insert("after".into(), d.after.into());
    }
    Value::Array(vec![
        serde_json::to_value(content).unwrap_or(Value::Null),
        Value::Object(attrs),
    ])
}

/// Joins a content message with the attribute message as Ansible's `check_file_attrs` does.
pub fn with_attrs_msg(msg: &str, content_changed: bool, attrs_changed: bool) -> String {
    match (content_changed, attrs_changed) {
        (true, true) => format!("{msg} and {ATTRS_CHANGED}"),
        (false, true) => ATTRS_CHANGED.to_string(),
        _ => msg.to_string(),
    }
}

/// Splits like Python's `bytes.splitlines(keepends=True)` restricted to `\n` (what `readlines()`
/// does): every line keeps its `\n`; a last line without one is kept as is.
pub fn read_lines(content: &[u8]) -> Vec<Vec<u8>> {
    content
        .split_inclusive(|b| *b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

/// Strips trailing `\r` and `\n` characters (Python's `rstrip(b'\r\n')`).
pub fn rstrip_newlines(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b'\r' | b'\n') {
        end -= 1;
    }
    &line[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_keep_their_newlines() {
        assert_eq!(read_lines(b"a\nb"), vec![b"a\n".to_vec(), b"b".to_vec()]);
        assert!(read_lines(b"").is_empty());
        assert_eq!(rstrip_newlines(b"a\r\n"), b"a");
    }

    #[test]
    fn attr_messages() {
        assert_eq!(
            with_attrs_msg("line added", true, true),
            "line added and ownership, perms or SE linux context changed"
        );
        assert_eq!(with_attrs_msg("", false, true), ATTRS_CHANGED);
        assert_eq!(with_attrs_msg("x", true, false), "x");
    }
}

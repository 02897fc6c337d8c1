//! `blockinfile`: inserts, updates or removes a block of lines surrounded by marker lines.

use super::pyre::PyRegex as Regex;
use async_trait::async_trait;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;

use super::lineinfile::LineState;
use super::pyre::{compile, search_line};
use super::{
    diff_list, directory_failure, read_lines, read_target, with_attrs_msg, with_file_attrs,
    write_text, CommonFileArgs, WriteOutcome,
};
use crate::params::{de_bool, de_opt_string, de_string};

/// Parameters of `blockinfile` (besides the common file arguments).
#[derive(Debug, Deserialize, ModuleParams)]
#[params(mutually_exclusive("insertbefore", "insertafter"))]
pub struct BlockinfileParams {
    /// The file to edit.
    #[serde(alias = "dest", alias = "destfile", alias = "name")]
    #[serde(deserialize_with = "de_string")]
    pub path: String,
    /// `present` (default) or `absent`.
    #[serde(default)]
    pub state: LineState,
    /// Marker line template; `{mark}` becomes `marker_begin`/`marker_end`.
    #[serde(default = "default_marker", deserialize_with = "de_string")]
    pub marker: String,
    /// The block's text (an empty block removes it).
    #[serde(default, alias = "content", deserialize_with = "de_opt_string")]
    pub block: Option<String>,
    /// `EOF` or a pattern: insert a new block after its last match.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub insertafter: Option<String>,
    /// `BOF` or a pattern: insert a new block before its last match.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub insertbefore: Option<String>,
    /// Create the file when missing.
    #[serde(default, deserialize_with = "de_bool")]
    pub create: bool,
    /// Keep a timestamped backup of the old file.
    #[serde(default, deserialize_with = "de_bool")]
    pub backup: bool,
    /// Replaces `{mark}` in the first marker.
    #[serde(default = "default_begin", deserialize_with = "de_string")]
    pub marker_begin: String,
    /// Replaces `{mark}` in the last marker.
    #[serde(default = "default_end", deserialize_with = "de_string")]
    pub marker_end: String,
    /// Add a blank line after the block when the next line is not blank.
    #[serde(default, deserialize_with = "de_bool")]
    pub append_newline: bool,
    /// Add a blank line before the block when the previous line is not blank.
    #[serde(default, deserialize_with = "de_bool")]
    pub prepend_newline: bool,

    /// The common file attributes and `validate`.
    #[serde(flatten)]
    pub common: CommonFileArgs,
}

fn default_marker() -> String {
    "# {mark} ANSIBLE MANAGED BLOCK".into()
}
fn default_begin() -> String {
    "BEGIN".into()
}
fn default_end() -> String {
    "END".into()
}

/// Where a new block goes.
#[derive(Debug)]
pub enum BlockInsert {
    /// End of file.
    Eof,
    /// Beginning of file.
    Bof,
    /// After the last line a pattern matches (the end of file when none does).
    After(Regex, bool),
    /// Before the last line a pattern matches (the end of file when none does).
    Before(Regex, bool),
}

/// A compiled block edit.
#[derive(Debug)]
pub struct BlockEdit {
    /// First marker line, newline included.
    pub begin: Vec<u8>,
    /// Last marker line, newline included.
    pub end: Vec<u8>,
    /// The block's lines with markers (empty: remove the block).
    pub block_lines: Vec<Vec<u8>>,
    /// Where a new block goes.
    pub insert: BlockInsert,
    /// Blank line after the block.
    pub append_newline: bool,
    /// Blank line before the block.
    pub prepend_newline: bool,
}

/// True for patterns Python compiles with `re.MULTILINE` set inline (`(?m)…`).
fn is_multiline(pattern: &str) -> bool {
    pattern
        .strip_prefix("(?")
        .and_then(|r| r.split_once(')'))
        .is_some_and(|(flags, _)| {
            flags.chars().all(|c| c.is_ascii_alphabetic()) && flags.contains('m')
        })
}

impl BlockEdit {
    /// Compiles the edit from parameters.
    pub fn new(p: &BlockinfileParams) -> Result<Self, String> {
        let begin = format!("{}\n", p.marker.replace("{mark}", &p.marker_begin)).into_bytes();
        let end = format!("{}\n", p.marker.replace("{mark}", &p.marker_end)).into_bytes();
        let block = p.block.clone().unwrap_or_default();
        let block_lines = if p.state == LineState::Present && !block.is_empty() {
            let mut b = block.into_bytes();
            if !b.ends_with(b"\n") {
                b.push(b'\n');
            }
            let mut lines = vec![begin.clone()];
            lines.extend(read_lines(&b));
            lines.push(end.clone());
            lines
        } else {
            Vec::new()
        };
        let insert = match (p.insertafter.as_deref(), p.insertbefore.as_deref()) {
            (None, None) | (Some("EOF"), _) => BlockInsert::Eof,
            (Some(a), _) => BlockInsert::After(compile(a, false, false)?, is_multiline(a)),
            (None, Some("BOF")) => BlockInsert::Bof,
            (None, Some(b)) => BlockInsert::Before(compile(b, false, false)?, is_multiline(b)),
        };
        Ok(Self {
            begin,
            end,
            block_lines,
            insert,
            append_newline: p.append_newline && p.state == LineState::Present,
            prepend_newline: p.prepend_newline && p.state == LineState::Present,
        })
    }

    /// Index of the line where a new block goes.
    fn insert_index(&self, original: &[u8], lines: &[Vec<u8>]) -> usize {
        let (re, multiline, after) = match &self.insert {
            BlockInsert::Eof => return lines.len(),
            BlockInsert::Bof => return 0,
            BlockInsert::After(re, m) => (re, *m, true),
            BlockInsert::Before(re, m) => (re, *m, false),
        };
        let mut n0 = None;
        if multiline {
            if let Some(m) = re.find(original) {
                let upto = if after { m.end() } else { m.start() };
                // blockinfile.py counts the newlines up to the match (the line it ends on), and
                // an `insertafter` then inserts one line further, as for a line-by-line match.
                n0 = Some(original[..upto].iter().filter(|b| **b == b'\n').count());
            }
        } else {
            for (i, line) in lines.iter().enumerate() {
                if search_line(re, line).is_some() {
                    n0 = Some(i);
                }
            }
        }
        match n0 {
            None => lines.len(),
            Some(i) if after => i + 1,
            Some(i) => i,
        }
    }

    /// Applies the edit; returns the new contents.
    pub fn apply(&self, original: &[u8]) -> Vec<u8> {
        let mut lines = read_lines(original);
        let (mut n0, mut n1) = (None, None);
        for (i, line) in lines.iter().enumerate() {
            if *line == self.begin {
                n0 = Some(i);
            }
            if *line == self.end {
                n1 = Some(i);
            }
        }
        let mut at = match (n0, n1) {
            (Some(a), Some(b)) if a < b => {
                lines.drain(a..=b);
                a
            }
            (Some(a), Some(b)) => {
                lines.drain(b..=a);
                b
            }
            _ => self.insert_index(original, &lines),
        };
        if at > 0 && !lines[at - 1].ends_with(b"\n") {
            lines[at - 1].push(b'\n');
        }
        if self.prepend_newline && at != 0 && lines[at - 1] != b"\n" {
            lines.insert(at, b"\n".to_vec());
            at += 1;
        }
        let after_block = at + self.block_lines.len();
        lines.splice(at..at, self.block_lines.iter().cloned());
        if self.append_newline && after_block < lines.len() && lines[after_block] != b"\n" {
            lines.insert(after_block, b"\n".to_vec());
        }
        lines.concat()
    }
}

/// The `blockinfile` module.
pub struct Blockinfile;

#[async_trait]
impl TypedModule for Blockinfile {
    const NAME: &'static str = "blockinfile";
    type Params = BlockinfileParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: BlockinfileParams,
    ) -> Result<ModuleResult, ModuleError> {
        let (attrs, path) = (p.common.attrs.clone(), p.path.clone());
        with_file_attrs(ctx, &attrs, &path, edit_block(ctx, p)).await
    }
}

/// Runs the edit `p` describes.
async fn edit_block(
    ctx: &ModuleContext<'_>,
    p: BlockinfileParams,
) -> Result<ModuleResult, ModuleError> {
    let common = &p.common;
    if let Err(e) = common.check_validate() {
        return Ok(ModuleResult::failed(e));
    }
    let edit = match BlockEdit::new(&p) {
        Ok(e) => e,
        Err(e) => return Ok(ModuleResult::failed(e)),
    };
    let target = read_target(ctx, &p.path).await?;
    if target.is_dir() {
        return Ok(directory_failure(&p.path));
    }
    if target.unreadable() {
        return Ok(ModuleResult::failed(format!("cannot read {}", p.path)));
    }
    let exists = target.exists();
    if !exists {
        if !p.create {
            return Ok(
                ModuleResult::failed(format!("Path {} does not exist !", p.path)).with("rc", 257),
            );
        }
        if p.state == LineState::Absent {
            return Ok(ModuleResult::ok().with_msg(format!("File {} not present", p.path)));
        }
    }
    let original = target.content();
    let result = edit.apply(original);
    let (changed, msg) = if exists && result == original {
        (false, "")
    } else if !exists {
        (true, "File created")
    } else if edit.block_lines.is_empty() {
        (true, "Block removed")
    } else {
        (true, "Block inserted")
    };
    let outcome = write_text(
        ctx,
        "blockinfile",
        &target,
        changed.then(|| result.clone()),
        &common.attrs,
        common.validate.as_deref(),
        p.backup,
    )
    .await?;
    let (backup_file, attrs_changed, attr_diff) = match outcome {
        WriteOutcome::Failed(r) => return Ok(r),
        WriteOutcome::Done {
            backup_file,
            attrs_changed,
            attr_diff,
        } => (backup_file, attrs_changed, attr_diff),
    };
    let attrs_changed = attrs_changed && (exists || !ctx.check_mode);
    let mut r = ModuleResult::changed(changed || attrs_changed).with_msg(with_attrs_msg(
        msg,
        changed,
        attrs_changed,
    ));
    if let Some(b) = backup_file {
        r = r.with("backup_file", b);
    }
    let diff = diff_list(
        &p.path,
        ctx.diff,
        original,
        &result,
        attr_diff.filter(|_| attrs_changed),
    );
    Ok(r.with("diff", diff))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use serde_json::Value;

    fn apply(v: Value, content: &str) -> String {
        let p: BlockinfileParams = serde_json::from_value(v).unwrap();
        String::from_utf8(BlockEdit::new(&p).unwrap().apply(content.as_bytes())).unwrap()
    }

    const M0: &str = "# BEGIN ANSIBLE MANAGED BLOCK\n";
    const M1: &str = "# END ANSIBLE MANAGED BLOCK\n";

    #[test]
    fn inserts_at_end_then_updates_in_place() {
        let v = json!({"path": "/f", "block": "a=1\nb=2"});
        let once = apply(v.clone(), "x\ny");
        assert_eq!(once, format!("x\ny\n{M0}a=1\nb=2\n{M1}"));
        assert_eq!(apply(v, &once), once);
        let v = json!({"path": "/f", "block": "a=3"});
        assert_eq!(
            apply(v, &format!("{once}z\n")),
            format!("x\ny\n{M0}a=3\n{M1}z\n")
        );
    }

    #[test]
    fn removes_with_absent_or_empty_block() {
        let content = format!("x\n{M0}a\n{M1}y\n");
        assert_eq!(
            apply(json!({"path": "/f", "state": "absent"}), &content),
            "x\ny\n"
        );
        assert_eq!(
            apply(json!({"path": "/f", "block": ""}), &content),
            "x\ny\n"
        );
    }

    #[test]
    fn insert_positions() {
        let v = json!({"path": "/f", "block": "b", "insertbefore": "BOF"});
        assert_eq!(apply(v, "x\n"), format!("{M0}b\n{M1}x\n"));
        let v = json!({"path": "/f", "block": "b", "insertafter": "^x"});
        assert_eq!(apply(v, "x\nx\ny\n"), format!("x\nx\n{M0}b\n{M1}y\n"));
        let v = json!({"path": "/f", "block": "b", "insertbefore": "^y"});
        assert_eq!(apply(v, "x\ny\n"), format!("x\n{M0}b\n{M1}y\n"));
        let v = json!({"path": "/f", "block": "b", "insertbefore": "^nomatch"});
        assert_eq!(apply(v, "x\n"), format!("x\n{M0}b\n{M1}"));
    }

    #[test]
    fn custom_markers_and_blank_lines() {
        let v = json!({"path": "/f", "block": "b", "marker": "// {mark} x",
            "marker_begin": "START", "marker_end": "STOP", "prepend_newline": true,
            "append_newline": true, "insertafter": "^a"});
        assert_eq!(apply(v, "a\nc\n"), "a\n\n// START x\nb\n// STOP x\n\nc\n");
    }

    #[test]
    fn multiline_insert_pattern_counts_lines() {
        let v = json!({"path": "/f", "block": "b", "insertafter": "(?m)^a\\nc"});
        assert_eq!(apply(v, "a\nc\nd\n"), format!("a\nc\n{M0}b\n{M1}d\n"));
        // As in Python, a match ending with its newline counts that newline: one line further.
        let v = json!({"path": "/f", "block": "b", "insertafter": "(?m)^a\\nc\\n"});
        assert_eq!(apply(v, "a\nc\nd\ne\n"), format!("a\nc\nd\n{M0}b\n{M1}e\n"));
        let v = json!({"path": "/f", "block": "b", "insertbefore": "(?m)^c\\nd"});
        assert_eq!(apply(v, "a\nc\nd\n"), format!("a\n{M0}b\n{M1}c\nd\n"));
        assert!(is_multiline("(?m)x") && !is_multiline("x(?m)"));
    }
}

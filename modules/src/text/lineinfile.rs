//! `lineinfile`: ensures a line is present (added, or replacing the line a regexp or search string
//! matches) or absent in a text file.

use super::pyre::PyRegex as Regex;
use async_trait::async_trait;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::{ModuleParams, ParamChoices};
use serde::Deserialize;

use super::pyre::{compile, search_line, Template};
use super::{
    diff_list, directory_failure, read_lines, read_target, rstrip_newlines, with_attrs_msg,
    with_file_attrs, write_text, CommonFileArgs, WriteOutcome,
};
use crate::params::{de_bool, de_opt_string};

/// Parameters of `lineinfile` (besides the common file arguments).
#[derive(Debug, Deserialize, ModuleParams)]
#[params(
    mutually_exclusive("insertbefore", "insertafter"),
    mutually_exclusive("regexp", "search_string"),
    mutually_exclusive("backrefs", "search_string")
)]
pub struct LineinfileParams {
    /// The file to edit.
    #[serde(alias = "dest", alias = "destfile", alias = "name")]
    #[serde(deserialize_with = "crate::params::de_string")]
    pub path: String,
    /// `present` (default) or `absent`.
    #[serde(default)]
    pub state: LineState,
    /// Pattern selecting the line to replace (present) or remove (absent).
    #[serde(default, alias = "regex", deserialize_with = "de_opt_string")]
    pub regexp: Option<String>,
    /// Literal string selecting the line.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub search_string: Option<String>,
    /// The line to put in the file.
    #[serde(default, alias = "value", deserialize_with = "de_opt_string")]
    pub line: Option<String>,
    /// `EOF`, `BOF` or a pattern: insert after its last (or first) match.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub insertafter: Option<String>,
    /// `BOF` or a pattern: insert before its last (or first) match.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub insertbefore: Option<String>,
    /// Expand `\1`/`\g<name>` in `line` from the regexp match; do nothing when it does not match.
    #[serde(default, deserialize_with = "de_bool")]
    pub backrefs: bool,
    /// Create the file when missing.
    #[serde(default, deserialize_with = "de_bool")]
    pub create: bool,
    /// Keep a timestamped backup of the old file.
    #[serde(default, deserialize_with = "de_bool")]
    pub backup: bool,
    /// Use the first match of `insertafter`/`insertbefore`/`regexp` instead of the last.
    #[serde(default, deserialize_with = "de_bool")]
    pub firstmatch: bool,
    /// The common file attributes and `validate`.
    #[serde(flatten)]
    pub common: CommonFileArgs,
}

/// `state` of `lineinfile` and `blockinfile`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, ParamChoices)]
#[serde(rename_all = "lowercase")]
pub enum LineState {
    /// The line (block) must be in the file.
    #[default]
    Present,
    /// The line (block) must not be in the file.
    Absent,
}

/// How the line is found.
#[derive(Debug)]
pub enum Selector {
    /// A regular expression.
    Regexp(Regex),
    /// A literal substring.
    Search(Vec<u8>),
    /// Only the exact line.
    Exact,
}

/// Where a new line goes when nothing matches.
#[derive(Debug)]
pub enum Insert {
    /// End of file.
    Eof,
    /// Beginning of file.
    Bof,
    /// After the line a pattern matches.
    After(Regex),
    /// Before the line a pattern matches.
    Before(Regex),
}

/// A compiled `state: present` edit.
#[derive(Debug)]
pub struct PresentEdit {
    /// How the existing line is found.
    pub selector: Selector,
    /// The line (a template when `backrefs`).
    pub line: Vec<u8>,
    /// Expand the line from the regexp match.
    pub backrefs: Option<Template>,
    /// Insert position.
    pub insert: Insert,
    /// Use first matches instead of last ones.
    pub firstmatch: bool,
}

/// Result of a pure edit: the new lines, whether they changed and Ansible's message.
#[derive(Debug, PartialEq)]
pub struct Edited {
    /// New file contents.
    pub content: Vec<u8>,
    /// True when the contents differ from the input.
    pub changed: bool,
    /// `line added`, `line replaced`, `N line(s) removed` or empty.
    pub msg: String,
    /// Lines removed (`state: absent`).
    pub found: usize,
}

impl PresentEdit {
    /// Compiles the edit from parameters.
    pub fn new(p: &LineinfileParams) -> Result<Self, String> {
        let line = p
            .line
            .clone()
            .ok_or("line is required with state=present")?;
        let selector = match (&p.regexp, &p.search_string) {
            (Some(r), _) => Selector::Regexp(compile(r, false, false)?),
            (None, Some(s)) => Selector::Search(s.as_bytes().to_vec()),
            (None, None) => Selector::Exact,
        };
        let backrefs = match (&selector, p.backrefs) {
            (Selector::Regexp(re), true) => Some(Template::parse(&line, re)?),
            (_, true) => return Err("regexp is required with backrefs=true".into()),
            _ => None,
        };
        let insert = match (p.insertafter.as_deref(), p.insertbefore.as_deref()) {
            (Some("BOF"), _) => Insert::Bof,
            (Some("EOF"), _) | (None, None) => Insert::Eof,
            (Some(a), _) => Insert::After(compile(a, false, false)?),
            (None, Some("BOF")) => Insert::Bof,
            (None, Some(b)) => Insert::Before(compile(b, false, false)?),
        };
        Ok(Self {
            selector,
            line: line.into_bytes(),
            backrefs,
            insert,
            firstmatch: p.firstmatch,
        })
    }

    /// Applies the edit to `content` (Ansible's `present()`).
    pub fn apply(&self, content: &[u8]) -> Edited {
        let mut lines = read_lines(content);
        let line = self.line.as_slice();
        // Index of the matching line, and its expansion when `backrefs`.
        let mut found: Option<(usize, Vec<u8>)> = None;
        match &self.selector {
            Selector::Regexp(re) => {
                for (i, cur) in lines.iter().enumerate() {
                    if let Some(caps) = search_line(re, cur) {
                        let new = match &self.backrefs {
                            Some(t) => t.expand(&caps),
                            None => line.to_vec(),
                        };
                        found = Some((i, new));
                        if self.firstmatch {
                            break;
                        }
                    }
                }
            }
            Selector::Search(s) => {
                for (i, cur) in lines.iter().enumerate() {
                    if contains(cur, s) {
                        found = Some((i, line.to_vec()));
                        if self.firstmatch {
                            break;
                        }
                    }
                }
            }
            Selector::Exact => {}
        }
        let mut insert_at: Option<usize> = None;
        if found.is_none() {
            for (i, cur) in lines.iter().enumerate() {
                if rstrip_newlines(cur) == line {
                    found = Some((i, line.to_vec()));
                } else {
                    let hit = match &self.insert {
                        Insert::After(re) => search_line(re, cur).map(|_| i + 1),
                        Insert::Before(re) => search_line(re, cur).map(|_| i),
                        _ => None,
                    };
                    if hit.is_some() {
                        insert_at = hit;
                        if self.firstmatch {
                            break;
                        }
                    }
                }
            }
        }
        let added = |lines: &mut Vec<Vec<u8>>, at: usize| {
            let mut l = line.to_vec();
            l.push(b'\n');
            lines.insert(at, l);
            "line added".to_string()
        };
        let mut msg = String::new();
        if let Some((i, mut new)) = found {
            if !new.ends_with(b"\n") {
                new.push(b'\n');
            }
            if lines[i] != new {
                lines[i] = new;
                msg = "line replaced".into();
            }
        } else if self.backrefs.is_some() {
            // Without a match there is nothing to expand the backreferences from.
        } else if matches!(self.insert, Insert::Bof) {
            msg = added(&mut lines, 0);
        } else if matches!(self.insert, Insert::Eof) || insert_at.is_none() {
            if let Some(last) = lines.last_mut() {
                if !last.ends_with(b"\n") && !last.ends_with(b"\r") {
                    last.push(b'\n');
                }
            }
            let n = lines.len();
            msg = added(&mut lines, n);
        } else if let (Insert::After(_), Some(at)) = (&self.insert, insert_at) {
            let neighbour = if at == lines.len() { at - 1 } else { at };
            if rstrip_newlines(&lines[neighbour]) != line {
                msg = added(&mut lines, at);
            }
        } else if let Some(at) = insert_at {
            msg = added(&mut lines, at);
        }
        let new = lines.concat();
        Edited {
            changed: new != content,
            content: new,
            msg,
            found: 0,
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// Applies `state: absent` (Ansible's `absent()`): removes every line the regexp, search string or
/// exact line matches.
pub fn apply_absent(
    content: &[u8],
    regexp: Option<&Regex>,
    search: Option<&[u8]>,
    line: Option<&[u8]>,
) -> Edited {
    let lines = read_lines(content);
    let total = lines.len();
    let kept: Vec<Vec<u8>> = lines
        .into_iter()
        .filter(|cur| {
            let hit = match (regexp, search, line) {
                (Some(re), _, _) => search_line(re, cur).is_some(),
                (None, Some(s), _) => contains(cur, s),
                (None, None, Some(l)) => rstrip_newlines(cur) == l,
                _ => false,
            };
            !hit
        })
        .collect();
    let found = total - kept.len();
    Edited {
        content: kept.concat(),
        changed: found > 0,
        msg: if found > 0 {
            format!("{found} line(s) removed")
        } else {
            String::new()
        },
        found,
    }
}

/// The `lineinfile` module.
pub struct Lineinfile;

fn failed(msg: impl Into<String>) -> Result<ModuleResult, ModuleError> {
    Ok(ModuleResult::failed(msg))
}

#[async_trait]
impl TypedModule for Lineinfile {
    const NAME: &'static str = "lineinfile";
    type Params = LineinfileParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: LineinfileParams,
    ) -> Result<ModuleResult, ModuleError> {
        let warning = empty_pattern_warning(&p);
        let (attrs, path) = (p.common.attrs.clone(), p.path.clone());
        let mut r = with_file_attrs(ctx, &attrs, &path, edit(ctx, p)).await?;
        if let Some(w) = warning {
            r = r.with("warnings", vec![w]);
        }
        Ok(r)
    }
}

/// ansible-core's warning for an empty `regexp` or `search_string` (which matches every line),
/// with its text.
pub fn empty_pattern_warning(p: &LineinfileParams) -> Option<String> {
    let name = if p.regexp.as_deref() == Some("") {
        "regular expression"
    } else if p.search_string.as_deref() == Some("") {
        "search string"
    } else {
        return None;
    };
    let mut msg = format!(
        "The {name} is an empty string, which will match every line in the file. This may have \
         unintended consequences, such as replacing the last line in the file rather than \
         appending."
    );
    if name == "regular expression" {
        msg.push_str(
            " If this is desired, use '^' to match every line in the file and avoid this warning.",
        );
    }
    Some(msg)
}

/// Runs the edit `p` describes (everything ansible-core's `main()` does after its warnings).
async fn edit(ctx: &ModuleContext<'_>, p: LineinfileParams) -> Result<ModuleResult, ModuleError> {
    let common = &p.common;
    if let Err(e) = common.check_validate() {
        return failed(e);
    }
    let present = match p.state {
        LineState::Present => match PresentEdit::new(&p) {
            Ok(e) => Some(e),
            Err(e) => return failed(e),
        },
        LineState::Absent => {
            if p.regexp.is_none() && p.search_string.is_none() && p.line.is_none() {
                return failed(
                    "one of line, search_string, or regexp is required with state=absent",
                );
            }
            None
        }
    };
    let absent_re = match (&present, &p.regexp) {
        (None, Some(r)) => match compile(r, false, false) {
            Ok(re) => Some(re),
            Err(e) => return failed(e),
        },
        _ => None,
    };

    let target = read_target(ctx, &p.path).await?;
    if target.is_dir() {
        return Ok(directory_failure(&p.path));
    }
    if target.unreadable() {
        return failed(format!("cannot read {}", p.path));
    }
    let exists = target.exists();
    if !exists {
        if present.is_none() {
            return Ok(ModuleResult::ok().with_msg("file not present"));
        }
        if !p.create {
            return Ok(
                ModuleResult::failed(format!("Destination {} does not exist !", p.path))
                    .with("rc", 257),
            );
        }
    }
    let before = target.content();
    let edited = match &present {
        Some(edit) => edit.apply(before),
        None => apply_absent(
            before,
            absent_re.as_ref(),
            p.search_string.as_deref().map(str::as_bytes),
            p.line.as_deref().map(str::as_bytes),
        ),
    };
    let outcome = write_text(
        ctx,
        "lineinfile",
        &target,
        edited.changed.then(|| edited.content.clone()),
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
    // Ansible skips the attribute check for a file check mode did not create.
    let attrs_changed = attrs_changed && (exists || !ctx.check_mode);
    let mut r = ModuleResult::changed(edited.changed || attrs_changed).with_msg(with_attrs_msg(
        &edited.msg,
        edited.changed,
        attrs_changed,
    ));
    if present.is_none() {
        r = r.with("found", edited.found);
    }
    r = r.with("backup", backup_file.unwrap_or_default());
    let diff = diff_list(
        &p.path,
        ctx.diff,
        before,
        &edited.content,
        attr_diff.filter(|_| attrs_changed),
    );
    Ok(r.with("diff", diff))
}
#[cfg(test)]
#[path = "lineinfile_tests.rs"]
mod tests;

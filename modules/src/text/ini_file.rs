//! `ini_file` (`community.general.ini_file`): sets, adds or removes options and sections in INI
//! files, keeping comments and layout.

use async_trait::async_trait;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;

use super::lineinfile::LineState;
use super::{content_diff, read_target, with_attrs_msg, with_file_attrs, write_text, WriteOutcome};
use crate::params::{de_bool, de_opt_string, de_opt_string_list, de_string};
use crate::remote::file_attrs::FileAttrs;

/// Parameters of `ini_file` (besides the common file arguments).
#[derive(Debug, Deserialize, ModuleParams)]
#[params(mutually_exclusive("value", "values"))]
pub struct IniFileParams {
    /// The INI file.
    #[serde(alias = "dest", deserialize_with = "de_string")]
    pub path: String,
    /// Section name; absent or null means the global part before the first section.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub section: Option<String>,
    /// Option name; without it, `state: absent` removes the whole section.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub option: Option<String>,
    /// The option's value.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub value: Option<String>,
    /// Several values for a repeated option.
    #[serde(default, deserialize_with = "de_opt_string_list")]
    pub values: Option<Vec<String>>,
    /// `present` (default) or `absent`.
    #[serde(default)]
    pub state: LineState,
    /// Remove other values of the option (default yes).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    pub exclusive: bool,
    /// Keep a timestamped backup of the old file.
    #[serde(default, deserialize_with = "de_bool")]
    pub backup: bool,
    /// Write `option=value` instead of `option = value`.
    #[serde(default, deserialize_with = "de_bool")]
    pub no_extra_spaces: bool,
    /// Treat `a=1` and `a = 1` as the same line.
    #[serde(default, deserialize_with = "de_bool")]
    pub ignore_spaces: bool,
    /// Allow options without `=` and a value.
    #[serde(default, deserialize_with = "de_bool")]
    pub allow_no_value: bool,
    /// Activate a commented-out option (`# option = x`) instead of adding a new line (default yes).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    pub modify_inactive_option: bool,
    /// Create the file when missing (default yes).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    pub create: bool,
    /// Accepted for compatibility: symlinks are always followed.
    #[serde(default, deserialize_with = "de_bool")]
    pub follow: bool,
    /// The common file attributes.
    #[serde(flatten)]
    pub attrs: FileAttrs,
}

fn yes() -> bool {
    true
}

/// Result of a pure INI edit.
#[derive(Debug, PartialEq)]
pub struct IniEdited {
    /// New contents.
    pub content: String,
    /// Ansible's message (`OK` when nothing changed).
    pub msg: &'static str,
}

fn is_blank_or_comment(line: &str) -> bool {
    let t = line.trim_start_matches([' ', '\t']);
    t.trim().is_empty() || t.starts_with(['#', ';'])
}

fn section_name(line: &str) -> Option<&str> {
    let t = line.trim();
    t.strip_prefix('[')?.strip_suffix(']').map(str::trim)
}

/// `(commented, name, value)` of an option line.
fn option_parts(line: &str) -> Option<(bool, &str, Option<&str>)> {
    let t = line.trim_start();
    let (commented, t) = match t.strip_prefix(['#', ';']) {
        Some(rest) => (true, rest.trim_start()),
        None => (false, t),
    };
    let t = t.trim_end_matches(['\n', '\r']);
    match t.split_once(['=', ':']) {
        Some((name, value)) => Some((commented, name.trim(), Some(value.trim()))),
        None => Some((commented, t.trim(), None)),
    }
}

/// Applies the edit described by `p` to `content`.
pub fn apply(p: &IniFileParams, content: &str) -> IniEdited {
    let mut lines: Vec<String> = content.split_inclusive('\n').map(str::to_string).collect();
    if let Some(last) = lines.last_mut() {
        if !last.ends_with('\n') {
            last.push('\n');
        }
    }
    let original = lines.concat();
    // The section's line range: header (if any) and the lines up to the next header.
    let header = match &p.section {
        None => None,
        Some(s) => lines
            .iter()
            .position(|l| section_name(l) == Some(s.as_str())),
    };
    let body_start = match (&p.section, header) {
        (None, _) => Some(0),
        (Some(_), Some(h)) => Some(h + 1),
        (Some(_), None) => None,
    };
    let body_end = |start: usize, lines: &[String]| {
        lines[start..]
            .iter()
            .position(|l| section_name(l).is_some())
            .map_or(lines.len(), |i| start + i)
    };
    let sep = if p.no_extra_spaces { "=" } else { " = " };
    let format = |opt: &str, value: Option<&str>| match value {
        Some(v) => format!("{opt}{sep}{v}\n"),
        None => format!("{opt}\n"),
    };
    let wanted: Vec<Option<String>> = match (&p.values, &p.value) {
        (Some(vs), _) if !vs.is_empty() => vs.iter().cloned().map(Some).collect(),
        (_, Some(v)) => vec![Some(v.clone())],
        _ => vec![None],
    };
    let mut msg = "OK";
    match (p.state, &p.option) {
        (LineState::Absent, None) => {
            if let (Some(h), Some(start)) = (header, body_start) {
                let end = body_end(start, &lines);
                lines.drain(h..end);
                msg = "section removed";
            }
        }
        (LineState::Absent, Some(opt)) => {
            if let Some(start) = body_start {
                let end = body_end(start, &lines);
                let specific: Vec<&str> = wanted.iter().flatten().map(String::as_str).collect();
                let mut i = start;
                let mut end = end;
                while i < end {
                    let remove = match option_parts(&lines[i]) {
                        Some((false, name, value)) if name == opt => {
                            specific.is_empty() || value.is_some_and(|v| specific.contains(&v))
                        }
                        _ => false,
                    };
                    if remove {
                        lines.remove(i);
                        end -= 1;
                        msg = "option changed";
                    } else {
                        i += 1;
                    }
                }
            }
        }
        (LineState::Present, None) => {
            if body_start.is_none() {
                if let Some(s) = &p.section {
                    lines.push(format!("[{s}]\n"));
                    msg = "section added";
                }
            }
        }
        (LineState::Present, Some(opt)) => match body_start {
            None => {
                if let Some(s) = &p.section {
                    lines.push(format!("[{s}]\n"));
                    for v in &wanted {
                        lines.push(format(opt, v.as_deref()));
                    }
                    msg = "section and option added";
                }
            }
            Some(start) => {
                let mut end = body_end(start, &lines);
                let mut remaining: Vec<Option<String>> = wanted.clone();
                let same = |line: &str, v: &Option<String>| -> bool {
                    let want = format(opt, v.as_deref());
                    if p.ignore_spaces {
                        let strip =
                            |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
                        strip(line) == strip(&want)
                    } else {
                        // Without ignore_spaces the line must be exactly as Ansible writes it
                        // (`x=1` becomes `x = 1`: "option changed").
                        line.trim_end_matches(['\n', '\r']) == want.trim_end_matches('\n')
                    }
                };
                // Pass 1: keep lines already right; collect active lines that are not.
                let mut stale = Vec::new();
                for (i, line) in lines.iter().enumerate().take(end).skip(start) {
                    if let Some((false, name, _)) = option_parts(line) {
                        if name == opt {
                            if let Some(k) = remaining.iter().position(|v| same(line, v)) {
                                remaining.remove(k);
                            } else {
                                stale.push(i);
                            }
                        }
                    }
                }
                // Pass 2: rewrite stale lines with the values still missing (with
                // `exclusive: false`, other values of a `values` list stay and new ones are added).
                let keep_others = p.values.is_some() && !p.exclusive;
                let mut to_remove = Vec::new();
                for i in stale {
                    if keep_others {
                        continue;
                    }
                    if remaining.is_empty() {
                        if p.exclusive {
                            to_remove.push(i);
                        }
                    } else {
                        let v = remaining.remove(0);
                        lines[i] = format(opt, v.as_deref());
                        msg = "option changed";
                    }
                }
                for i in to_remove.into_iter().rev() {
                    lines.remove(i);
                    end -= 1;
                    msg = "option changed";
                }
                // Pass 3: activate commented-out options, then add what is still missing.
                if p.modify_inactive_option {
                    for line in &mut lines[start..end] {
                        if remaining.is_empty() {
                            break;
                        }
                        if let Some((true, name, _)) = option_parts(line) {
                            if name == opt {
                                let v = remaining.remove(0);
                                *line = format(opt, v.as_deref());
                                msg = "option changed";
                            }
                        }
                    }
                }
                if !remaining.is_empty() {
                    // After the section's last line that is neither blank nor a comment.
                    let mut at = end;
                    while at > start && is_blank_or_comment(&lines[at - 1]) {
                        at -= 1;
                    }
                    for v in remaining {
                        lines.insert(at, format(opt, v.as_deref()));
                        at += 1;
                    }
                    msg = "option added";
                }
            }
        },
    }
    let mut content = lines.concat();
    // Ansible starts a new file (or an empty one) with a blank line before its first section.
    if original.is_empty() && content.starts_with('[') {
        content.insert(0, '\n');
    }
    if content == original {
        msg = "OK";
    }
    IniEdited { content, msg }
}

/// The `ini_file` module.
pub struct IniFile;

#[async_trait]
impl TypedModule for IniFile {
    const NAME: &'static str = "ini_file";
    type Params = IniFileParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: IniFileParams,
    ) -> Result<ModuleResult, ModuleError> {
        let (attrs, path) = (p.attrs.clone(), p.path.clone());
        with_file_attrs(ctx, &attrs, &path, edit_ini(ctx, p)).await
    }
}

/// Runs the edit `p` describes.
async fn edit_ini(ctx: &ModuleContext<'_>, p: IniFileParams) -> Result<ModuleResult, ModuleError> {
    // community.general 11.4.2 requires a value even for a section-only task.
    if p.state == LineState::Present
        && p.value.is_none()
        && p.values.as_ref().is_none_or(Vec::is_empty)
        && !p.allow_no_value
    {
        return Ok(ModuleResult::failed(
            "Parameter 'value(s)' must be defined if state=present and allow_no_value=False.",
        ));
    }
    let target = read_target(ctx, &p.path).await?;
    if target.is_dir() {
        return Ok(ModuleResult::failed(format!(
            "Path {} is a directory !",
            p.path
        )));
    }
    if target.unreadable() {
        return Ok(ModuleResult::failed(format!("cannot read {}", p.path)));
    }
    let exists = target.exists();
    if !exists && !p.create {
        return Ok(
            ModuleResult::failed(format!("Destination {} does not exist!", p.path)).with("rc", 257),
        );
    }
    let before = String::from_utf8_lossy(target.content()).into_owned();
    let edited = apply(&p, &before);
    let changed = edited.content != before || (!exists && p.state == LineState::Present);
    let outcome = write_text(
        ctx,
        "ini_file",
        &target,
        changed.then(|| edited.content.clone().into_bytes()),
        &p.attrs,
        None,
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
    let msg = if changed && edited.msg == "OK" {
        "file created"
    } else {
        edited.msg
    };
    let mut r = ModuleResult::changed(changed || attrs_changed)
        .with_msg(with_attrs_msg(msg, changed, attrs_changed))
        .with("path", p.path.as_str());
    if let Some(b) = backup_file {
        r = r.with("backup_file", b);
    }
    if ctx.diff {
        if changed {
            r = r.with_diff(content_diff(
                &p.path,
                before.as_bytes(),
                edited.content.as_bytes(),
            ));
        }
        if let Some(d) = attr_diff.filter(|_| attrs_changed) {
            r = r.with_diff(d);
        }
    }
    Ok(r)
}
#[cfg(test)]
#[path = "ini_file_tests.rs"]
mod tests;

//! `replace`: replaces every match of a regular expression in a file (optionally only between the
//! `after` and `before` patterns).

use super::pyre::PyRegex as Regex;
use async_trait::async_trait;
use drover_core::module::{Diff, ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;

use super::pyre::{compile, subn, Template};
use super::{
    directory_failure, read_target, with_attrs_msg, with_file_attrs, write_text, CommonFileArgs,
    WriteOutcome,
};
use crate::params::{de_bool, de_opt_string, de_string};

/// Parameters of `replace` (besides the common file arguments).
#[derive(Debug, Deserialize, ModuleParams)]
pub struct ReplaceParams {
    /// The file to edit.
    #[serde(alias = "dest", alias = "destfile", alias = "name")]
    #[serde(deserialize_with = "de_string")]
    pub path: String,
    /// Pattern to replace (Python `re`, multiline mode).
    #[serde(deserialize_with = "de_string")]
    pub regexp: String,
    /// Replacement template (`\1`, `\g<name>`); empty removes the matches.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub replace: Option<String>,
    /// Only replace after the first match of this pattern.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub after: Option<String>,
    /// Only replace before this pattern.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub before: Option<String>,
    /// Keep a timestamped backup of the old file.
    #[serde(default, deserialize_with = "de_bool")]
    pub backup: bool,
    /// Accepted for compatibility: files are edited as UTF-8.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub encoding: Option<String>,
    /// The common file attributes and `validate`.
    #[serde(flatten)]
    pub common: CommonFileArgs,
}

/// A compiled replacement.
#[derive(Debug)]
pub struct ReplaceEdit {
    /// The pattern.
    pub regexp: Regex,
    /// The replacement.
    pub template: Template,
    /// The section pattern built from `after`/`before`, as Ansible builds it (for messages too).
    pub section: Option<(Regex, String)>,
}

/// Outcome of a pure replacement.
#[derive(Debug, PartialEq)]
pub enum Replaced {
    /// `after`/`before` did not match: nothing done, with Ansible's message.
    NoSection(String),
    /// Replacements made (possibly none): new contents and count.
    Done(Vec<u8>, usize),
}

impl ReplaceEdit {
    /// Compiles the edit.
    pub fn new(p: &ReplaceParams) -> Result<Self, String> {
        let regexp = compile(&p.regexp, true, false)?;
        // Python compiles the replacement inside `re.subn`, whose errors replace.py reports so.
        let template = Template::parse(p.replace.as_deref().unwrap_or(""), &regexp)
            .map_err(|e| format!("Unable to process replace due to error: {e}"))?;
        let after = p.after.as_deref().filter(|s| !s.is_empty());
        let before = p.before.as_deref().filter(|s| !s.is_empty());
        let pattern = match (after, before) {
            (Some(a), Some(b)) => Some(format!("{a}(?P<subsection>.*?){b}")),
            (Some(a), None) => Some(format!("{a}(?P<subsection>.*)")),
            (None, Some(b)) => Some(format!("(?P<subsection>.*){b}")),
            (None, None) => None,
        };
        let section = match pattern {
            Some(pat) => Some((compile(&pat, false, true)?, pat)),
            None => None,
        };
        Ok(Self {
            regexp,
            template,
            section,
        })
    }

    /// Applies the replacement to `contents`.
    pub fn apply(&self, contents: &[u8]) -> Replaced {
        let (start, end) = match &self.section {
            None => (0, contents.len()),
            Some((re, pat)) => match re.captures(contents).and_then(|c| c.name("subsection")) {
                Some(m) => (m.start(), m.end()),
                None => {
                    return Replaced::NoSection(format!(
                        "Pattern for before/after params did not match the given file: {pat}"
                    ))
                }
            },
        };
        let (section, count) = subn(&self.regexp, &self.template, &contents[start..end]);
        let mut out = contents[..start].to_vec();
        out.extend_from_slice(&section);
        out.extend_from_slice(&contents[end..]);
        Replaced::Done(out, count)
    }
}

/// The `replace` module.
pub struct Replace;

#[async_trait]
impl TypedModule for Replace {
    const NAME: &'static str = "replace";
    type Params = ReplaceParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: ReplaceParams,
    ) -> Result<ModuleResult, ModuleError> {
        let (attrs, path) = (p.common.attrs.clone(), p.path.clone());
        with_file_attrs(ctx, &attrs, &path, edit_file(ctx, p)).await
    }
}

/// Runs the replacement `p` describes.
async fn edit_file(ctx: &ModuleContext<'_>, p: ReplaceParams) -> Result<ModuleResult, ModuleError> {
    let common = &p.common;
    if let Err(e) = common.check_validate() {
        return Ok(ModuleResult::failed(e));
    }
    let edit = match ReplaceEdit::new(&p) {
        Ok(e) => e,
        Err(e) => return Ok(ModuleResult::failed(e)),
    };
    let target = read_target(ctx, &p.path).await?;
    if target.is_dir() {
        return Ok(directory_failure(&p.path));
    }
    if !target.exists() {
        return Ok(
            ModuleResult::failed(format!("Path {} does not exist !", p.path)).with("rc", 257),
        );
    }
    if target.unreadable() {
        return Ok(ModuleResult::failed(format!("cannot read {}", p.path)));
    }
    let contents = target.content();
    let (new, count) = match edit.apply(contents) {
        Replaced::NoSection(msg) => return Ok(ModuleResult::ok().with_msg(msg).with("rc", 0)),
        Replaced::Done(new, count) => (new, count),
    };
    let changed = count > 0 && new != contents;
    let msg = if changed {
        format!("{count} replacements made")
    } else {
        String::new()
    };
    let outcome = write_text(
        ctx,
        "replace",
        &target,
        changed.then(|| new.clone()),
        &common.attrs,
        common.validate.as_deref(),
        p.backup,
    )
    .await?;
    let (backup_file, attrs_changed) = match outcome {
        WriteOutcome::Failed(r) => return Ok(r),
        WriteOutcome::Done {
            backup_file,
            attrs_changed,
            ..
        } => (backup_file, attrs_changed),
    };
    let mut r = ModuleResult::changed(changed || attrs_changed)
        .with_msg(with_attrs_msg(&msg, changed, attrs_changed))
        .with("rc", 0);
    if let Some(b) = backup_file {
        r = r.with("backup_file", b);
    }
    if ctx.diff && changed {
        r = r.with_diff(Diff {
            before_header: Some(p.path.clone()),
            after_header: Some(p.path.clone()),
            before: String::from_utf8_lossy(contents).into_owned(),
            after: String::from_utf8_lossy(&new).into_owned(),
        });
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use serde_json::Value;

    fn apply(v: Value, content: &str) -> Replaced {
        let p: ReplaceParams = serde_json::from_value(v).unwrap();
        ReplaceEdit::new(&p).unwrap().apply(content.as_bytes())
    }

    fn done(s: &str, n: usize) -> Replaced {
        Replaced::Done(s.as_bytes().to_vec(), n)
    }

    #[test]
    fn replaces_all_matches_multiline() {
        let v = json!({"path": "/f", "regexp": "^(\\w+)\\s*=\\s*(\\w+)$", "replace": "\\1=\\2"});
        assert_eq!(apply(v, "a = 1\nb= 2\n# c\n"), done("a=1\nb=2\n# c\n", 2));
        let v = json!({"path": "/f", "regexp": "^#.*\\n"});
        assert_eq!(apply(v, "#x\ny\n#z\n"), done("y\n", 2));
    }

    #[test]
    fn after_and_before_limit_the_section() {
        let content = "x=1\n[s]\nx=1\n[t]\nx=1\n";
        let v = json!({"path": "/f", "regexp": "x=1", "replace": "x=2", "after": "\\[s\\]", "before": "\\[t\\]"});
        assert_eq!(apply(v, content), done("x=1\n[s]\nx=2\n[t]\nx=1\n", 1));
        let v = json!({"path": "/f", "regexp": "x=1", "replace": "x=2", "after": "\\[t\\]"});
        assert_eq!(apply(v, content), done("x=1\n[s]\nx=1\n[t]\nx=2\n", 1));
        let v = json!({"path": "/f", "regexp": "x=1", "replace": "x=2", "before": "\\[s\\]"});
        assert_eq!(apply(v, content), done("x=2\n[s]\nx=1\n[t]\nx=1\n", 1));
        let v = json!({"path": "/f", "regexp": "x", "after": "nomatch"});
        assert_eq!(
            apply(v, content),
            Replaced::NoSection(
                "Pattern for before/after params did not match the given file: nomatch(?P<subsection>.*)".into()
            )
        );
    }

    #[test]
    fn nginx_style_braces_are_literal() {
        let v = json!({"path": "/f", "regexp": "server {", "replace": "server  {"});
        assert_eq!(apply(v, "server {\n"), done("server  {\n", 1));
    }
}

//! `find`: lists files on the target matching name patterns, type, age, size, mode and contents.
//! One `find` run lists every candidate with its stat data; filters run on the controller, and
//! `contains`/`get_checksum` take one more round trip for the remaining candidates only.

use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use drover_core::connection::shell_quote;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::{ModuleParams, ParamChoices};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::params::{de_bool, de_opt_mode, de_opt_string, de_string_list};
use crate::remote::mode::Mode;
use crate::remote::quote_path;
use crate::text::pyre;

pub use super::find_match::{
    entry_json, glob_to_regex, list_script, parse_age, parse_entry, parse_size, Entry, Filters,
    NameFilter,
};

/// Parameters of `find`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct FindParams {
    /// Directories to search.
    #[serde(alias = "name", alias = "path", deserialize_with = "de_string_list")]
    pub paths: Vec<String>,
    /// Basename patterns (shell globs, or regexps with `use_regex`); default `*`.
    #[serde(default, alias = "pattern", deserialize_with = "de_string_list")]
    pub patterns: Vec<String>,
    /// Basename patterns to leave out.
    #[serde(default, alias = "exclude", deserialize_with = "de_string_list")]
    pub excludes: Vec<String>,
    /// A regexp some line of the file must match at its start (or the whole file, with
    /// `read_whole_file`).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub contains: Option<String>,
    /// Search the whole file for `contains`.
    #[serde(default, deserialize_with = "de_bool")]
    pub read_whole_file: bool,
    /// `file` (default), `directory`, `link` or `any`.
    #[serde(default)]
    pub file_type: FindType,
    /// `[-]N[smhdw]`: at least (or, negative, at most) this old.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub age: Option<String>,
    /// Which time `age` looks at: `mtime` (default), `atime` or `ctime`.
    #[serde(default)]
    pub age_stamp: AgeStamp,
    /// `[-]N[bkmgt]`: at least (or, negative, at most) this big.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub size: Option<String>,
    /// Descend into subdirectories.
    #[serde(default, deserialize_with = "de_bool")]
    pub recurse: bool,
    /// Include names starting with a dot.
    #[serde(default, deserialize_with = "de_bool")]
    pub hidden: bool,
    /// Follow symlinks.
    #[serde(default, deserialize_with = "de_bool")]
    pub follow: bool,
    /// Add a SHA-1 `checksum` to each regular file.
    #[serde(default, deserialize_with = "de_bool")]
    pub get_checksum: bool,
    /// Patterns are Python regexps matched at the start of the name.
    #[serde(default, deserialize_with = "de_bool")]
    pub use_regex: bool,
    /// Maximum depth when recursing.
    #[serde(default)]
    pub depth: Option<u32>,
    /// Permission bits the entries must have.
    #[serde(default, deserialize_with = "de_opt_mode")]
    pub mode: Option<Mode>,
    /// `mode` must match exactly (default) or only be included.
    #[serde(default = "yes", deserialize_with = "de_bool")]
    pub exact_mode: bool,
    /// Stop after this many matches.
    #[serde(default)]
    pub limit: Option<usize>,
    /// Accepted for compatibility: files are read as UTF-8.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub encoding: Option<String>,
    /// Accepted for compatibility.
    #[param(choices("md5", "sha1", "sha224", "sha256", "sha384", "sha512"))]
    #[serde(
        default,
        alias = "checksum",
        alias = "checksum_algo",
        deserialize_with = "de_opt_string"
    )]
    pub checksum_algorithm: Option<String>,
}

fn yes() -> bool {
    true
}

/// `file_type` of `find`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, ParamChoices)]
#[serde(rename_all = "lowercase")]
pub enum FindType {
    /// Regular files.
    #[default]
    File,
    /// Directories.
    Directory,
    /// Symbolic links.
    Link,
    /// Regular files, directories and links.
    Any,
}

/// `age_stamp` of `find`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, ParamChoices)]
#[serde(rename_all = "lowercase")]
pub enum AgeStamp {
    /// Modification time.
    #[default]
    Mtime,
    /// Access time.
    Atime,
    /// Status change time.
    Ctime,
}

/// The `find` module.
pub struct Find;

#[async_trait]
impl TypedModule for Find {
    const NAME: &'static str = "find";
    type Params = FindParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: FindParams,
    ) -> Result<ModuleResult, ModuleError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        let filters = match Filters::new(&p, now) {
            Ok(f) => f,
            Err(e) => return Ok(ModuleResult::failed(e)),
        };
        if let Some(c) = &p.contains {
            if let Err(e) = pyre::translate(c) {
                return Ok(ModuleResult::failed(e));
            }
        }
        let out = ctx.conn.run(list_script(&p)).await?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut skipped = Map::new();
        let mut examined = 0usize;
        let mut matched: Vec<Entry> = Vec::new();
        for record in stdout.split('\0').filter(|r| !r.is_empty()) {
            if let Some(path) = record.strip_prefix("@skip ") {
                skipped.insert(
                    path.to_string(),
                    "'{path}' is not a directory".replace("{path}", path).into(),
                );
                continue;
            }
            let Some(entry) = parse_entry(record) else {
                continue;
            };
            examined += 1;
            if filters.accepts(&entry) {
                matched.push(entry);
            }
        }
        // Contents: grep on the target, regular files only (like Ansible).
        if let Some(c) = &p.contains {
            let files: Vec<&Entry> = matched.iter().filter(|e| e.kind == 'f').collect();
            let mut keep = std::collections::HashSet::new();
            if !files.is_empty() {
                let pattern = if p.read_whole_file {
                    c.clone()
                } else {
                    format!("^(?:{c})")
                };
                let z = if p.read_whole_file { "z" } else { "" };
                let list: Vec<String> = files.iter().map(|e| quote_path(&e.path)).collect();
                let cmd = format!(
                    "grep -l{z}P -- {} {} 2>/dev/null; exit 0",
                    shell_quote(&pattern),
                    list.join(" ")
                );
                let out = ctx.conn.run(cmd).await?;
                keep.extend(out.stdout_str().lines().map(str::to_string));
            }
            matched.retain(|e| e.kind == 'f' && keep.contains(&e.path));
        }
        if let Some(limit) = p.limit {
            matched.truncate(limit);
        }
        let mut files: Vec<Map<String, Value>> = matched.iter().map(entry_json).collect();
        if p.get_checksum {
            let regular: Vec<String> = matched
                .iter()
                .filter(|e| e.kind == 'f')
                .map(|e| quote_path(&e.path))
                .collect();
            if !regular.is_empty() {
                let out = ctx
                    .conn
                    .run(format!(
                        "sha1sum -- {} 2>/dev/null; exit 0",
                        regular.join(" ")
                    ))
                    .await?;
                let sums: std::collections::HashMap<String, String> = out
                    .stdout_str()
                    .lines()
                    .filter_map(|l| l.split_once("  "))
                    .map(|(sum, path)| (path.to_string(), sum.to_string()))
                    .collect();
                for f in &mut files {
                    let path = f
                        .get("path")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string();
                    if let Some(sum) = sums.get(&path) {
                        f.insert("checksum".into(), sum.clone().into());
                    }
                }
            }
        }
        let msg = if skipped.is_empty() {
            "All paths examined".to_string()
        } else {
            "Not all paths examined, check warnings for details".to_string()
        };
        let warnings: Vec<String> = skipped
            .iter()
            .map(|(path, why)| {
                format!(
                    "Skipped '{path}' path due to this access issue: {}\n",
                    why.as_str().unwrap_or_default()
                )
            })
            .collect();
        let mut r = ModuleResult::ok();
        if !warnings.is_empty() {
            r = r.with("warnings", warnings);
        }
        Ok(r.with_msg(msg)
            .with("examined", examined)
            .with("matched", files.len())
            .with(
                "files",
                Value::Array(files.into_iter().map(Value::Object).collect()),
            )
            .with("skipped_paths", skipped))
    }
}

//! `include_vars`: loads variables from YAML/JSON files on the controller, one file or a directory
//! of them (sorted, recursively), into the host's variables at `include_vars` precedence (the
//! executor stores its `ansible_facts` as host variables, as it does `set_fact`'s).
//!
//! Results match ansible-core's action plugin: `ansible_facts`, `ansible_included_var_files`, and
//! on failure the reason in `message`. ansible-core 2.19 puts only "Action failed: Unknown
//! error." in `msg` there; drover puts the reason in `msg` too.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use drover_core::module::{
    ControllerFile, DefinedVars, ModuleContext, ModuleError, ModuleResult, TypedModule,
};
use drover_core::params::{ArgError, ModuleParams, ParamChoices};
use drover_core::probe::ProbeRequest;
use drover_core::pyre::{compile, PyRegex};
use drover_core::template::Templar;
use drover_core::vars::{Map, Value, Vars};
use serde::Deserialize;

use crate::params::{de_bool, de_opt_string};

/// The arguments that only make sense with `dir`.
const DIR_ONLY: [&str; 6] = [
    "dir",
    "depth",
    "files_matching",
    "ignore_files",
    "extensions",
    "ignore_unknown_extensions",
];
/// The arguments that only make sense with a single file.
const FILE_ONLY: [&str; 2] = ["file", "_raw_params"];

/// How loaded dictionaries combine with variables of the same name the host already has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ParamChoices)]
#[serde(rename_all = "lowercase")]
pub enum HashBehaviour {
    /// The loaded value replaces the old one.
    Replace,
    /// Dictionaries are merged recursively into the old ones.
    Merge,
}

/// Parameters of `include_vars`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct IncludeVarsParams {
    /// The file to load; relative names are searched in the role's `vars/`, the task's
    /// directory and the playbook's directory.
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(local_file = "vars")]
    pub file: Option<String>,
    /// The file, given as free-form text (`include_vars: vars/main.yml`).
    #[serde(default, rename = "_raw_params", deserialize_with = "de_opt_string")]
    #[param(local_file = "vars")]
    pub raw_params: Option<String>,
    /// A directory whose files are all loaded, sorted by path.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub dir: Option<String>,
    /// Nest the loaded variables under this one name instead of setting them at top level.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub name: Option<String>,
    /// With `dir`: how many directory levels to read (0, the default, reads all).
    #[serde(default, deserialize_with = "de_depth")]
    pub depth: u64,
    /// With `dir`: load only files whose name matches this (Python) regular expression.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub files_matching: Option<String>,
    /// With `dir`: file names to skip (regular expressions matched at the name's end); a string
    /// is split on whitespace.
    #[serde(default, deserialize_with = "de_words")]
    pub ignore_files: Vec<String>,
    /// With `dir`: the file extensions loaded (default `yaml`, `yml`, `json`).
    #[serde(default, deserialize_with = "de_extensions")]
    pub extensions: Option<Vec<String>>,
    /// With `dir`: skip files with other extensions instead of failing.
    #[serde(default, deserialize_with = "de_bool")]
    pub ignore_unknown_extensions: bool,
    /// Merge loaded dictionaries into existing ones instead of replacing them.
    #[serde(default)]
    pub hash_behaviour: Option<HashBehaviour>,
}

/// The `include_vars` module.
pub struct IncludeVars;

#[async_trait]
impl TypedModule for IncludeVars {
    const NAME: &'static str = "include_vars";
    const CONTROLLER_ONLY: bool = true;
    type Params = IncludeVarsParams;

    fn check_more(&self, args: &Map<String, Value>) -> Result<(), ArgError> {
        let dir = args.keys().find(|k| DIR_ONLY.contains(&k.as_str()));
        let file = args.keys().find(|k| FILE_ONLY.contains(&k.as_str()));
        match (dir, file) {
            (Some(_), Some(file)) => Err(ArgError::invalid(
                Self::NAME,
                Some(file),
                "You are mixing file only and dir only arguments, these are incompatible",
            )),
            _ => Ok(()),
        }
    }

    fn probes(&self, _args: &Value, _diff: bool) -> Option<Vec<ProbeRequest>> {
        Some(Vec::new())
    }

    fn defines_vars(&self, args: &Value) -> DefinedVars {
        let literal = |key: &str| {
            args.get(key)
                .and_then(Value::as_str)
                .filter(|s| !Templar::is_template(s))
        };
        if args.get("name").is_some() {
            return literal("name").map_or(DefinedVars::Dynamic, |n| {
                DefinedVars::Names(vec![n.to_string()])
            });
        }
        match (
            &args.get("dir"),
            literal("file").or_else(|| literal("_raw_params")),
        ) {
            (None, Some(path)) => DefinedVars::File(ControllerFile {
                key: "file".into(),
                path: path.trim_end_matches('\n').to_string(),
                kind: "vars",
            }),
            _ => DefinedVars::Dynamic,
        }
    }

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: IncludeVarsParams,
    ) -> Result<ModuleResult, ModuleError> {
        let mut loaded = Loaded::default();
        let outcome = match (&p.dir, p.file.as_ref().or(p.raw_params.as_ref())) {
            (Some(dir), _) => match ctx.controller.find_file("vars", dir) {
                Ok(path) if path.is_dir() => loaded.dir(&path, &p),
                Ok(path) => Err(format!("{} is not a directory", path.display())),
                Err(_) => Err(format!("{dir} directory does not exist")),
            },
            (None, Some(file)) => match ctx
                .controller
                .find_file("vars", file.trim_end_matches('\n'))
            {
                Ok(path) => loaded.file(&path, None),
                Err(e) => Err(e.to_string()),
            },
            (None, None) => Err("include_vars needs a file or a dir".into()),
        };
        let mut r = ModuleResult::ok();
        r.data.insert(
            "ansible_included_var_files".into(),
            Value::Array(loaded.files.into_iter().map(Value::String).collect()),
        );
        if let Err(message) = outcome {
            r.failed = true;
            r.msg = Some(message.clone());
            r.data.insert("message".into(), Value::String(message));
            r.ansible_facts = Some(Vars::new());
            return Ok(r);
        }
        let mut facts = loaded.vars;
        if p.hash_behaviour == Some(HashBehaviour::Merge) {
            let existing = ctx.controller.vars();
            for (key, value) in facts.iter_mut() {
                if let Some(old) = existing.get(key) {
                    let mut merged = old.clone();
                    merge_hashes(&mut merged, value);
                    *value = merged;
                }
            }
        }
        if let Some(name) = p.name {
            facts = Vars::from_iter([(name, Value::Object(facts))]);
        }
        if loaded.encrypted {
            // Values from a vault-encrypted file are secrets: the result is not shown.
            r.data.insert("_ansible_no_log".into(), Value::Bool(true));
        }
        r.ansible_facts = Some(facts);
        Ok(r)
    }
}

/// What has been loaded so far: the variables, the files read (in order) and whether one of
/// them was vault-encrypted.
#[derive(Default)]
struct Loaded {
    vars: Vars,
    files: Vec<String>,
    encrypted: bool,
}

impl Loaded {
    /// Loads one file; `extensions` (when loading a directory) are the ones it may have.
    fn file(&mut self, path: &Path, extensions: Option<&[String]>) -> Result<(), String> {
        if let Some(valid) = extensions {
            if !has_extension(path, valid) {
                return Err(format!(
                    "{} does not have a valid extension: {}",
                    path.display(),
                    valid.join(", ")
                ));
            }
        }
        let vars = drover_core::playbook::load_vars_path(path).map_err(|e| {
            if e.to_string().contains("must contain a mapping") {
                format!("{} must be stored as a dictionary/hash", path.display())
            } else {
                e.to_string()
            }
        })?;
        self.encrypted |= std::fs::read(path)
            .map(|b| b.starts_with(b"$ANSIBLE_VAULT;"))
            .unwrap_or(false);
        self.files.push(path.display().to_string());
        // Later files replace earlier ones key by key, as ansible-core's `dict.update`.
        self.vars.extend(vars);
        Ok(())
    }

    /// Loads a directory's files: directories in sorted order, each one's files sorted, down to
    /// `depth` levels (0: all), filtered by `files_matching` and `ignore_files`.
    fn dir(&mut self, root: &Path, p: &IncludeVarsParams) -> Result<(), String> {
        let regex = |pattern: &str| {
            compile(pattern, false, false)
                .map_err(|_| format!("Invalid regular expression: {pattern}"))
        };
        let matching = p.files_matching.as_deref().map(regex).transpose()?;
        let ignored: Vec<PyRegex> = p
            .ignore_files
            .iter()
            .map(|f| regex(&format!("{f}$")))
            .collect::<Result<_, _>>()?;
        let default_extensions = ["yaml", "yml", "json"].map(String::from);
        let extensions = p.extensions.as_deref().unwrap_or(&default_extensions);
        let mut dirs = Vec::new();
        walk(root, 1, p.depth, &mut dirs);
        dirs.sort_by(|a, b| a.0.cmp(&b.0));
        for (dir, mut names) in dirs {
            names.sort();
            for name in names {
                if matching
                    .as_ref()
                    .is_some_and(|m| !m.is_match(name.as_bytes()))
                    || ignored.iter().any(|r| r.is_match(name.as_bytes()))
                {
                    continue;
                }
                let path = dir.join(&name);
                if p.ignore_unknown_extensions && !has_extension(&path, extensions) {
                    continue;
                }
                self.file(&path, Some(extensions))?;
            }
        }
        Ok(())
    }
}

/// Collects `(directory, file names)` below `dir` (at `level`, the root being 1), following
/// symbolic links, no deeper than `depth` levels (0: no limit).
fn walk(dir: &Path, level: u64, depth: u64, out: &mut Vec<(PathBuf, Vec<String>)>) {
    if depth != 0 && level > depth {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, level + 1, depth, out);
        } else {
            files.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    out.push((dir.to_path_buf(), files));
}

fn has_extension(path: &Path, valid: &[String]) -> bool {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_default();
    valid.contains(&ext)
}

/// ansible-core's `merge_hash`: dictionaries merge recursively, anything else is replaced.
fn merge_hashes(base: &mut Value, overlay: &Value) {
    match (base, overlay) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(old) => merge_hashes(old, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

/// `depth`: an integer, or its text.
fn de_depth<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(0),
        Value::Number(n) => n.as_u64().ok_or_else(|| {
            serde::de::Error::custom(format!("depth: expected an integer, got {n}"))
        }),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("depth: expected an integer, got {s}"))),
        other => Err(serde::de::Error::custom(format!(
            "depth: expected an integer, got {other}"
        ))),
    }
}

/// `ignore_files`: a list, or a string of whitespace-separated names.
fn de_words<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(Vec::new()),
        Value::String(s) => Ok(s.split_whitespace().map(String::from).collect()),
        Value::Array(items) => Ok(items.iter().map(text).collect()),
        other => Err(serde::de::Error::custom(format!("{other} must be a list"))),
    }
}

/// `extensions`: a list. A string is taken as ansible-core takes it: one extension per
/// character.
fn de_extensions<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.chars().map(String::from).collect())),
        Value::Array(items) => Ok(Some(items.iter().map(text).collect())),
        _ => Err(serde::de::Error::custom(
            "Invalid type for \"extensions\" option, it must be a list",
        )),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

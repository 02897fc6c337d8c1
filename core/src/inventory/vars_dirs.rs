//! `group_vars/` and `host_vars/` directories (Ansible's `host_group_vars` vars plugin).
//!
//! For an entity `name` in a base directory, the first of `group_vars/name`,
//! `group_vars/name.yml`, `group_vars/name.yaml`, `group_vars/name.json` that exists is used
//! (same for `host_vars/`) — as in Ansible, when both `all/` and `all.yml` exist only the
//! directory `all/` is read. A directory contributes every file inside it, recursively, in
//! sorted order, skipping hidden names and names ending in `~`; only files without an extension
//! or ending in `.yml`, `.yaml` or `.json` are read, and subdirectories only if their name has
//! no extension. Each file must be a YAML/JSON mapping (an empty file is nothing); later files
//! replace earlier keys. `!vault` values are kept as the YAML loader gives them.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::InventoryError;
use crate::vars::{merge_into, Vars};

/// Extensions tried after the bare name, and the only ones read inside directories.
const EXTENSIONS: [&str; 3] = ["yml", "yaml", "json"];

/// Variables from `group_vars/`+`host_vars/` of a list of base directories, by entity name.
#[derive(Debug, Clone, Default)]
pub struct VarsLayer {
    dirs: Vec<PathBuf>,
    groups: HashMap<String, Vars>,
    hosts: HashMap<String, Vars>,
    loaded_groups: HashSet<String>,
    loaded_hosts: HashSet<String>,
}

impl VarsLayer {
    /// A layer reading from `dirs` (later directories win); nothing is loaded yet.
    pub fn new(dirs: Vec<PathBuf>) -> Self {
        VarsLayer {
            dirs,
            ..VarsLayer::default()
        }
    }

    /// Loads, from every directory of the layer, the vars of those `groups` and `hosts` not
    /// loaded before (entities added at run time get their files too).
    pub fn load(&mut self, groups: &[String], hosts: &[String]) -> Result<(), InventoryError> {
        let new_groups: Vec<String> = groups
            .iter()
            .filter(|g| !self.loaded_groups.contains(*g))
            .cloned()
            .collect();
        let new_hosts: Vec<String> = hosts
            .iter()
            .filter(|h| !self.loaded_hosts.contains(*h))
            .cloned()
            .collect();
        for dir in self.dirs.clone() {
            self.load_dir(&dir, &new_groups, &new_hosts)?;
        }
        self.loaded_groups.extend(new_groups);
        self.loaded_hosts.extend(new_hosts);
        Ok(())
    }

    /// Adds `dir` to the layer (ranking above the directories already there) and loads its
    /// vars for `groups` and `hosts`.
    pub fn add_dir(
        &mut self,
        dir: PathBuf,
        groups: &[String],
        hosts: &[String],
    ) -> Result<(), InventoryError> {
        self.load(groups, hosts)?;
        let groups: Vec<String> = self.loaded_groups.iter().cloned().collect();
        let hosts: Vec<String> = self.loaded_hosts.iter().cloned().collect();
        self.load_dir(&dir, &groups, &hosts)?;
        self.dirs.push(dir);
        Ok(())
    }

    fn load_dir(
        &mut self,
        dir: &Path,
        groups: &[String],
        hosts: &[String],
    ) -> Result<(), InventoryError> {
        for (sub, names, store) in [
            ("group_vars", groups, &mut self.groups),
            ("host_vars", hosts, &mut self.hosts),
        ] {
            let base = dir.join(sub);
            if !base.is_dir() {
                continue;
            }
            for name in names {
                if let Some(vars) = load_entity(&base, name)? {
                    merge_into(store.entry(name.clone()).or_default(), &vars);
                }
            }
        }
        Ok(())
    }

    /// The vars of a group, if any file defined them.
    pub fn group(&self, name: &str) -> Option<&Vars> {
        self.groups.get(name)
    }

    /// The vars of a host, if any file defined them.
    pub fn host(&self, name: &str) -> Option<&Vars> {
        self.hosts.get(name)
    }

    /// The base directories read so far, lowest precedence first.
    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }
}

/// The vars files for `name` under `base` (e.g. `inventory/group_vars`), in load order.
pub fn find_vars_files(base: &Path, name: &str) -> Vec<PathBuf> {
    if name.is_empty() || name.contains('/') || name.starts_with('.') {
        return Vec::new();
    }
    let candidates =
        std::iter::once(name.to_string()).chain(EXTENSIONS.iter().map(|e| format!("{name}.{e}")));
    for candidate in candidates {
        let path = base.join(candidate);
        if path.is_dir() {
            let mut found = Vec::new();
            collect_dir(&path, &mut found);
            return found;
        }
        if path.is_file() {
            return vec![path];
        }
    }
    Vec::new()
}

fn collect_dir(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.') && !n.ends_with('~'))
        .collect();
    names.sort();
    for name in names {
        let path = dir.join(&name);
        let ext = path.extension().and_then(|e| e.to_str());
        if path.is_dir() {
            if ext.is_none() {
                collect_dir(&path, found);
            }
        } else if ext.is_none_or(|e| EXTENSIONS.contains(&e)) {
            found.push(path);
        }
    }
}

/// Reads and merges the vars files for `name`; `None` if there are none.
fn load_entity(base: &Path, name: &str) -> Result<Option<Vars>, InventoryError> {
    let files = find_vars_files(base, name);
    if files.is_empty() {
        return Ok(None);
    }
    let mut vars = Vars::new();
    for file in files {
        merge_into(&mut vars, &load_vars_file(&file)?);
    }
    Ok(Some(vars))
}

/// Reads one vars file: a YAML (or JSON) mapping; empty files give no vars.
pub fn load_vars_file(path: &Path) -> Result<Vars, InventoryError> {
    let node = crate::yaml::parse_file(path).map_err(super::yaml::yaml_error)?;
    match node.to_value() {
        serde_json::Value::Null => Ok(Vars::new()),
        serde_json::Value::Object(map) => Ok(map),
        _ => Err(InventoryError::Parse {
            file: path.display().to_string(),
            line: node.loc.line,
            message: format!(
                "a vars file must be a mapping of variable names to values, got {}",
                node.kind()
            ),
        }),
    }
}

//! Reading one `-i` source: a comma-separated host list, an inventory file (YAML or INI), or a
//! directory of them.
//!
//! File kinds: an executable file starting with `#!` is a dynamic inventory script
//! ([`super::script`]); `.yml`, `.yaml` and `.json` files are YAML inventories; `.ini` files are INI;
//! any other file is YAML if it parses as a YAML mapping of groups (e.g. starts with `all:`),
//! else INI.
//! (Ansible tries its plugins in turn; drover picks one so that the error shown is the relevant
//! one.) Directories are read in sorted order, recursing into subdirectories and skipping what
//! Ansible skips: hidden entries, `group_vars`, `host_vars`, `vars_plugins`, and names ending in
//! `~`, `.orig`, `.bak`, `.cfg`, `.retry`, `.pyc`, `.pyo`, `.swp`, `.rpm`, `.md`, `.txt`, `.rst`.

use std::path::{Component, Path, PathBuf};

use crate::vars::Value;

use super::{address, ini, yaml, Inventory, InventoryError};

/// Name endings Ansible's default `INVENTORY_IGNORE_EXTS` skips in inventory directories.
pub const IGNORED_ENDINGS: [&str; 12] = [
    "~", ".orig", ".bak", ".cfg", ".retry", ".pyc", ".pyo", ".swp", ".rpm", ".md", ".txt", ".rst",
];

/// Directory entries that are never inventory sources.
const IGNORED_NAMES: [&str; 3] = ["group_vars", "host_vars", "vars_plugins"];

/// True if a directory entry named `name` is skipped when reading an inventory directory.
pub fn is_ignored(name: &str) -> bool {
    name.starts_with('.')
        || IGNORED_NAMES.contains(&name)
        || IGNORED_ENDINGS.iter().any(|e| name.ends_with(e))
}

/// Reads `src` into `inv`. Returns the directory whose `group_vars/`/`host_vars/` belong to the
/// source (the directory itself, or a file's directory); `None` for host lists.
pub(super) fn load_source(
    inv: &mut Inventory,
    src: &str,
) -> Result<Option<PathBuf>, InventoryError> {
    let path = Path::new(src);
    if !path.exists() {
        if src.contains(',') {
            load_host_list(inv, src);
            return Ok(None);
        }
        return Err(InventoryError::Read {
            path: src.to_string(),
            message:
                "no such file or directory (for a single host, add a trailing comma: -i 'host,')"
                    .into(),
        });
    }
    let path = absolute(path);
    if path.is_dir() {
        load_dir(inv, &path)?;
        Ok(Some(path))
    } else {
        load_file(inv, &path)?;
        Ok(Some(
            path.parent().map(Path::to_path_buf).unwrap_or_default(),
        ))
    }
}

/// `a,b:2222, c,`: hosts into `ungrouped`; `name:port` sets `ansible_port`. As in Ansible, the
/// hosts' `inventory_file` is the list itself and `inventory_dir` is null; no ranges.
fn load_host_list(inv: &mut Inventory, list: &str) {
    inv.current_source = Some((Value::String(list.to_string()), Value::Null));
    for item in list.split(',').map(str::trim).filter(|h| !h.is_empty()) {
        let (host, port) = address::parse_address(item, false).unwrap_or((item.to_string(), None));
        if !inv.has_host(&host) {
            inv.add_host(&host, "ungrouped", port);
        }
    }
}

fn load_dir(inv: &mut Inventory, dir: &Path) -> Result<(), InventoryError> {
    let read_err = |e: std::io::Error| InventoryError::Read {
        path: dir.display().to_string(),
        message: e.to_string(),
    };
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(read_err)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !is_ignored(n))
        .collect();
    names.sort();
    for name in names {
        let path = dir.join(&name);
        if path.is_dir() {
            load_dir(inv, &path)?;
        } else {
            load_file(inv, &path)?;
        }
    }
    Ok(())
}

/// The kind of an inventory file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// Ansible's YAML inventory (also `.json`).
    Yaml,
    /// Ansible's INI inventory.
    Ini,
}

/// Chooses the format of an inventory file from its name and, for other names, its text.
pub fn detect_kind(path: &Path, text: &str) -> FileKind {
    match path.extension().and_then(|e| e.to_str()) {
        Some("yml" | "yaml" | "json") => FileKind::Yaml,
        Some("ini") => FileKind::Ini,
        _ => match crate::yaml::parse_str(text, "") {
            Ok(node) if looks_like_yaml_inventory(&node) => FileKind::Yaml,
            _ => FileKind::Ini,
        },
    }
}

/// A mapping whose values are all mappings or empty (groups). `web1:22` lines also parse as a
/// YAML mapping, but with numbers as values; those are INI hosts with ports.
fn looks_like_yaml_inventory(node: &crate::yaml::Node) -> bool {
    use crate::yaml::NodeValue;
    node.as_map().is_some_and(|entries| {
        entries
            .iter()
            .all(|(_, v)| matches!(v.value, NodeValue::Map(_) | NodeValue::Null))
    })
}

fn load_file(inv: &mut Inventory, path: &Path) -> Result<(), InventoryError> {
    let name = path.display().to_string();
    if super::script::is_script(path) {
        let dir = path
            .parent()
            .map(|d| d.display().to_string())
            .unwrap_or_default();
        inv.current_source = Some((Value::String(name), Value::String(dir)));
        return super::script::load(inv, path);
    }
    let text = crate::vault::read_text_file(path).map_err(|e| InventoryError::Read {
        path: name.clone(),
        message: match e {
            crate::vault::VaultError::Read { source, .. } => source.reason(),
            other => other.to_string(),
        },
    })?;
    let dir = path
        .parent()
        .map(|d| d.display().to_string())
        .unwrap_or_default();
    inv.current_source = Some((Value::String(name.clone()), Value::String(dir)));
    match detect_kind(path, &text) {
        FileKind::Ini => ini::parse(inv, &text, &name),
        FileKind::Yaml => {
            let node = crate::yaml::parse_str(&text, &name).map_err(yaml::yaml_error)?;
            yaml::parse(inv, &node, &name)
        }
    }
}

/// `path` made absolute and with `.`/`..` removed (without following symlinks, like Ansible's
/// `unfrackpath(follow=False)`).
fn absolute(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_list_matches_ansible_defaults() {
        for name in [
            ".hidden",
            "group_vars",
            "host_vars",
            "hosts.ini~",
            "x.orig",
            "x.bak",
            "site.retry",
            "a.pyc",
            "README.md",
            "notes.txt",
            "ansible.cfg",
        ] {
            assert!(is_ignored(name), "{name}");
        }
        for name in ["hosts", "hosts.ini", "prod.yml", "01-web", "inventory.json"] {
            assert!(!is_ignored(name), "{name}");
        }
    }

    #[test]
    fn detects_kind() {
        assert_eq!(detect_kind(Path::new("a.yml"), "[web]\n"), FileKind::Yaml);
        assert_eq!(detect_kind(Path::new("a.ini"), "all:\n"), FileKind::Ini);
        assert_eq!(
            detect_kind(Path::new("hosts"), "all:\n  hosts:\n    a:\n"),
            FileKind::Yaml
        );
        assert_eq!(
            detect_kind(Path::new("hosts"), "[web]\nw1\n"),
            FileKind::Ini
        );
        assert_eq!(
            detect_kind(Path::new("hosts"), "w1\nw2 a=1\n"),
            FileKind::Ini
        );
        assert_eq!(detect_kind(Path::new("hosts"), ""), FileKind::Ini);
        assert_eq!(
            detect_kind(Path::new("hosts"), "w1:22\nw2:2222\n"),
            FileKind::Ini
        );
    }
}

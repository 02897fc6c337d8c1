//! Ansible's YAML inventory format.
//!
//! ```yaml
//! all:
//!   hosts:
//!     web1:                      # null: no vars
//!     web[02:04]:2222:           # ranges and ports
//!       tier: front
//!   vars:
//!     ansible_user: deploy
//!   children:
//!     db:
//!       hosts: db1               # a single name is allowed
//! ```
//! Top-level keys are groups (usually only `all`). A group is a mapping of `hosts`, `vars` and
//! `children`, or empty. Like Ansible, other keys and non-mapping group definitions are skipped
//! with a warning ([`super::Inventory::warnings`]); a `plugin:` file is refused (inventory plugins
//! are not supported).

use super::{Inventory, InventoryError};
use crate::yaml::{Node, NodeValue, YamlError};

/// Converts a YAML syntax error into an inventory parse error.
pub(super) fn yaml_error(e: YamlError) -> InventoryError {
    InventoryError::Parse {
        file: e.location.file.to_string(),
        line: e.location.line,
        message: e.message,
    }
}

fn error_at(node: &Node, file: &str, message: impl Into<String>) -> InventoryError {
    InventoryError::Parse {
        file: file.to_string(),
        line: node.loc.line,
        message: message.into(),
    }
}

/// Reads a parsed YAML inventory document into `inv`.
pub(super) fn parse(inv: &mut Inventory, doc: &Node, file: &str) -> Result<(), InventoryError> {
    let entries = match &doc.value {
        NodeValue::Null => return Ok(()),
        NodeValue::Map(entries) => entries,
        _ => {
            return Err(error_at(
                doc,
                file,
                format!(
                    "a YAML inventory must be a mapping of group names (usually `all:`), got {}",
                    doc.kind()
                ),
            ))
        }
    };
    if let Some(plugin) = doc.get("plugin") {
        return Err(error_at(
            plugin,
            file,
            format!(
                "this is an inventory plugin configuration (plugin: {plugin}), which drover cannot \
                 run: it reads INI and YAML inventory files, executable inventory scripts \
                 (`--list` JSON), directories of them and host lists. Export the plugin's \
                 inventory once with `ansible-inventory -i {file} --list --yaml > inventory.yml`, \
                 or keep it live with an executable script that prints it \
                 (`#!/bin/sh` then `exec ansible-inventory -i {file} --list`)",
                plugin = plugin.key_string()
            ),
        ));
    }
    for (key, value) in entries {
        parse_group(inv, &key.key_string(), value, file)?;
    }
    Ok(())
}

/// Reads one group definition; a top-level group that is not a mapping is skipped with a
/// warning, as in Ansible.
fn parse_group(
    inv: &mut Inventory,
    name: &str,
    def: &Node,
    file: &str,
) -> Result<(), InventoryError> {
    let entries = match &def.value {
        NodeValue::Null => {
            inv.ensure_group(name);
            return Ok(());
        }
        NodeValue::Map(entries) => entries,
        _ => {
            inv.warnings.push(format!(
                "{}: skipping '{name}': a group must be a mapping with hosts/vars/children, got {}",
                def.loc,
                def.kind()
            ));
            return Ok(());
        }
    };
    inv.ensure_group(name);
    for (key, value) in entries {
        let section = key.key_string();
        if !matches!(section.as_str(), "hosts" | "vars" | "children") {
            inv.warnings.push(format!(
                "{}: skipping unexpected key '{section}' in group '{name}': only hosts, vars and children are valid (hint: hosts go under `hosts:`)",
                key.loc
            ));
            continue;
        }
        let items: Vec<(String, Option<&Node>, &Node)> = match &value.value {
            NodeValue::Null => continue,
            // A single name is allowed in place of a mapping.
            NodeValue::Str(s) => vec![(s.clone(), None, value)],
            NodeValue::Map(m) => m.iter().map(|(k, v)| (k.key_string(), Some(v), k)).collect(),
            _ => {
                return Err(error_at(
                    value,
                    file,
                    format!(
                        "'{section}' of group '{name}' must be a mapping, got {} (hint: write `{section}:` entries as `name:` lines, not as a list)",
                        value.kind()
                    ),
                ))
            }
        };
        match section.as_str() {
            "vars" => {
                for (k, v, at) in items {
                    let v = v.map(Node::to_value).unwrap_or(crate::vars::Value::Null);
                    inv.set_group_var(name, &k, v)
                        .map_err(|m| error_at(at, file, m))?;
                }
            }
            "children" => {
                for (child, def, at) in items {
                    let null = Node {
                        value: NodeValue::Null,
                        loc: at.loc.clone(),
                        tag: None,
                    };
                    let def = def.unwrap_or(&null);
                    if !matches!(def.value, NodeValue::Map(_) | NodeValue::Null) {
                        return Err(error_at(
                            def,
                            file,
                            format!(
                                "child group '{child}' of '{name}' must be a mapping with hosts/vars/children or empty, got {}",
                                def.kind()
                            ),
                        ));
                    }
                    parse_group(inv, &child, def, file)?;
                    inv.add_child(name, &child)
                        .map_err(|m| error_at(at, file, m))?;
                }
            }
            _ => {
                for (pattern, vars, at) in items {
                    parse_host(inv, name, &pattern, vars, at, file)?;
                }
            }
        }
    }
    Ok(())
}

fn parse_host(
    inv: &mut Inventory,
    group: &str,
    pattern: &str,
    vars: Option<&Node>,
    at: &Node,
    file: &str,
) -> Result<(), InventoryError> {
    super::address::check_host_name(pattern).map_err(|m| error_at(at, file, m))?;
    let (host, port) =
        super::address::parse_address(pattern, true).unwrap_or_else(|| (pattern.to_string(), None));
    let names = if super::range::has_range(&host) {
        super::range::expand(&host).map_err(|m| error_at(at, file, m))?
    } else {
        vec![host]
    };
    let vars = match vars.map(|v| &v.value) {
        None | Some(NodeValue::Null) => &[][..],
        Some(NodeValue::Map(m)) => m.as_slice(),
        Some(_) => {
            let v = vars.unwrap_or(at);
            return Err(error_at(
                v,
                file,
                format!(
                    "host '{pattern}' in group '{group}' must have a mapping of variables or nothing, got {} (hint: `{pattern}:` alone, or `{pattern}:` followed by indented `name: value` lines)",
                    v.kind()
                ),
            ));
        }
    };
    for name in names {
        inv.add_host(&name, group, port);
        for (k, v) in vars {
            inv.set_host_var(&name, &k.key_string(), v.to_value());
        }
    }
    Ok(())
}

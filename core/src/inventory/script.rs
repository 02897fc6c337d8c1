//! Dynamic inventory scripts (ansible's `script` inventory plugin): an executable file starting
//! with `#!` is run with `--list` and prints JSON — groups (a list of hosts, or a mapping with
//! `hosts`, `vars`, `children`) and `_meta.hostvars`. Without `_meta`, the script is run again
//! with `--host HOST` for each host's variables.

use std::path::Path;
use std::process::Command;

use crate::vars::{Map, Value};

use super::{Inventory, InventoryError};

/// True for a file ansible's `script` plugin takes: executable, starting with `#!`.
pub fn is_script(path: &Path) -> bool {
    use std::io::Read;
    use std::os::unix::fs::PermissionsExt;
    let executable = std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false);
    if !executable {
        return false;
    }
    let mut head = [0u8; 2];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .map(|()| &head == b"#!")
        .unwrap_or(false)
}

fn script_error(path: &Path, message: impl Into<String>) -> InventoryError {
    InventoryError::Read {
        path: path.display().to_string(),
        message: message.into(),
    }
}

/// Runs the script with `args` and parses its standard output as a JSON mapping.
fn run_json(path: &Path, args: &[&str]) -> Result<Map<String, Value>, InventoryError> {
    let out = Command::new(path)
        .args(args)
        .output()
        .map_err(|e| script_error(path, format!("cannot run the inventory script: {e}")))?;
    if !out.status.success() {
        return Err(script_error(
            path,
            format!(
                "inventory script ({}) had an execution error: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    if text.trim().is_empty() && args.first() == Some(&"--host") {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(other) => Err(script_error(
            path,
            format!(
                "failed to parse executable inventory script results ({}): expected a JSON object, got {other}",
                args.join(" "),
            ),
        )),
        Err(e) => Err(script_error(
            path,
            format!(
                "failed to parse executable inventory script results ({}): {e}",
                args.join(" ")
            ),
        )),
    }
}

/// Reads a dynamic inventory script's groups, hosts and variables into `inv`.
pub(super) fn load(inv: &mut Inventory, path: &Path) -> Result<(), InventoryError> {
    let data = run_json(path, &["--list"])?;
    let mut hosts: Vec<String> = Vec::new();
    let mut host_vars: Option<Map<String, Value>> = None;
    for (group, def) in &data {
        if group == "_meta" {
            host_vars = Some(
                def.get("hostvars")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default(),
            );
            continue;
        }
        parse_group(inv, path, group, def, &mut hosts)?;
    }
    for host in &hosts {
        let vars = match &host_vars {
            Some(all) => all
                .get(host)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
            None => run_json(path, &["--host", host])?,
        };
        for (k, v) in vars {
            inv.set_host_var(host, &k, v);
        }
    }
    Ok(())
}

fn parse_group(
    inv: &mut Inventory,
    path: &Path,
    group: &str,
    def: &Value,
    hosts: &mut Vec<String>,
) -> Result<(), InventoryError> {
    inv.ensure_group(group);
    let (members, vars, children) = match def {
        Value::Object(m)
            if ["hosts", "vars", "children"]
                .iter()
                .any(|k| m.contains_key(*k)) =>
        {
            (m.get("hosts"), m.get("vars"), m.get("children"))
        }
        // A mapping without those keys is the group's variables (ansible's legacy form).
        Value::Object(_) => (None, Some(def), None),
        other => (Some(other), None, None),
    };
    if let Some(members) = members {
        let list = members.as_array().ok_or_else(|| {
            script_error(
                path,
                format!("the hosts of group '{group}' must be a list, got {members}"),
            )
        })?;
        for h in list {
            let name = match h {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if !hosts.contains(&name) {
                hosts.push(name.clone());
            }
            inv.add_host(&name, group, None);
        }
    }
    if let Some(vars) = vars {
        let map = vars.as_object().ok_or_else(|| {
            script_error(
                path,
                format!("the vars of group '{group}' must be a mapping"),
            )
        })?;
        for (k, v) in map {
            inv.set_group_var(group, k, v.clone())
                .map_err(|e| script_error(path, e))?;
        }
    }
    if let Some(children) = children {
        let list = children.as_array().ok_or_else(|| {
            script_error(
                path,
                format!("the children of group '{group}' must be a list"),
            )
        })?;
        for c in list {
            let child = c
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| c.to_string());
            inv.add_child(group, &child)
                .map_err(|e| script_error(path, e))?;
        }
    }
    Ok(())
}

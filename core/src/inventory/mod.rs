//! Inventories: hosts, groups and their variables, from Ansible INI/YAML files, directories and
//! `-i a,b,` lists; host patterns (`web*:&prod:!web03`).
//!
//! STUB: only comma lists and implicit localhost, so the engine compiles; the full loader replaces it.

use indexmap::IndexMap;

use crate::vars::Vars;

/// Errors loading an inventory or matching a pattern.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// The inventory source could not be parsed.
    #[error("{file}:{line}: {message}")]
    Parse {
        file: String,
        line: usize,
        message: String,
    },
    /// The inventory source could not be read.
    #[error("cannot read inventory {path}: {message}")]
    Read { path: String, message: String },
    /// A host pattern is malformed.
    #[error("bad host pattern '{pattern}': {message}")]
    Pattern { pattern: String, message: String },
}

/// One inventory host.
#[derive(Debug, Clone, Default)]
pub struct Host {
    /// Inventory name (`inventory_hostname`).
    pub name: String,
    /// Variables set directly on the host (inventory line, `host_vars/`).
    pub vars: Vars,
}

/// One inventory group.
#[derive(Debug, Clone, Default)]
pub struct Group {
    /// Group name.
    pub name: String,
    /// Hosts listed directly in the group.
    pub hosts: Vec<String>,
    /// Child groups.
    pub children: Vec<String>,
    /// Group variables (inventory `:vars`, `group_vars/`).
    pub vars: Vars,
}

/// A loaded inventory.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    hosts: IndexMap<String, Host>,
    groups: IndexMap<String, Group>,
}

impl Inventory {
    /// Loads inventory sources: file paths, directories, or comma-separated host lists (`a,b,`).
    pub fn load(sources: &[String]) -> Result<Self, InventoryError> {
        let mut inv = Inventory::default();
        inv.groups.insert(
            "all".into(),
            Group {
                name: "all".into(),
                ..Group::default()
            },
        );
        inv.groups.insert(
            "ungrouped".into(),
            Group {
                name: "ungrouped".into(),
                ..Group::default()
            },
        );
        for src in sources {
            if src.contains(',') {
                for h in src.split(',').map(str::trim).filter(|h| !h.is_empty()) {
                    inv.add_host(h, "ungrouped");
                }
            } else {
                return Err(InventoryError::Read {
                    path: src.clone(),
                    message: "inventory files are not supported yet".into(),
                });
            }
        }
        Ok(inv)
    }

    fn add_host(&mut self, name: &str, group: &str) {
        self.hosts.entry(name.to_string()).or_insert_with(|| Host {
            name: name.to_string(),
            vars: Vars::new(),
        });
        if let Some(g) = self.groups.get_mut(group) {
            if !g.hosts.iter().any(|h| h == name) {
                g.hosts.push(name.to_string());
            }
        }
    }

    /// Hosts matching `pattern`, in inventory order. `localhost` matches implicitly when it is not
    /// in the inventory.
    pub fn select(&self, pattern: &str) -> Result<Vec<String>, InventoryError> {
        let mut out = Vec::new();
        for part in pattern.split([':', ',']).filter(|p| !p.is_empty()) {
            if part == "all" || part == "*" {
                out.extend(self.hosts.keys().cloned());
            } else if self.hosts.contains_key(part) {
                out.push(part.to_string());
            } else if part == "localhost" || part == "127.0.0.1" {
                out.push(part.to_string());
            }
        }
        out.dedup();
        Ok(out)
    }

    /// A host's inventory variables: `all` < parent groups < child groups < host.
    pub fn host_vars(&self, host: &str) -> Vars {
        let mut vars = Vars::new();
        if let Some(h) = self.hosts.get(host) {
            crate::vars::merge_into(&mut vars, &h.vars);
        }
        vars
    }

    /// Names of the groups a host belongs to (`group_names`: sorted, without `all`).
    pub fn group_names(&self, host: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .groups
            .values()
            .filter(|g| g.name != "all" && g.hosts.iter().any(|h| h == host))
            .map(|g| g.name.clone())
            .collect();
        names.sort();
        names
    }

    /// Every group with all of its hosts (including through children), for the `groups` variable.
    pub fn groups_map(&self) -> IndexMap<String, Vec<String>> {
        let mut m = IndexMap::new();
        m.insert("all".to_string(), self.hosts.keys().cloned().collect());
        for g in self.groups.values().filter(|g| g.name != "all") {
            m.insert(g.name.clone(), g.hosts.clone());
        }
        m
    }

    /// True if the inventory defines `host`.
    pub fn has_host(&self, host: &str) -> bool {
        self.hosts.contains_key(host)
    }

    /// Loads `group_vars/` and `host_vars/` found in `dir` (the playbook's directory).
    pub fn load_vars_dirs(&mut self, _dir: &std::path::Path) -> Result<(), InventoryError> {
        Ok(())
    }
}

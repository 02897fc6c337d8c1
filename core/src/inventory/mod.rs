//! Inventories: hosts, groups and their variables, from Ansible INI/YAML files, directories and
//! `-i a,b,` lists; host patterns (`web*:&prod:!web03`).
//!
//! Loading follows ansible-core's inventory plugins (`host_list`, `yaml`, `ini`) and the
//! `host_group_vars` vars plugin; the files are:
//! - [`source`]: how each `-i` source is read (file kind detection, directories, host lists);
//! - [`ini`], [`yaml`]: the two file formats; [`range`], [`address`]: host names;
//! - [`vars_dirs`]: `group_vars/` and `host_vars/`; [`pattern`]: host patterns and limits.
//!
//! # Variable precedence
//! [`Inventory::host_vars`] merges, lowest first (Ansible's default `VARIABLE_PRECEDENCE`, then
//! host vars):
//! 1. `all` group vars from inventory sources (`[all:vars]`, `all: vars:`);
//! 2. vars of the host's other groups from inventory sources;
//! 3. `group_vars/all` next to the inventory sources;
//! 4. `group_vars/all` loaded with [`Inventory::load_vars_dirs`] (the playbook directory);
//! 5. `group_vars/<group>` next to the inventory sources, for the host's other groups;
//! 6. `group_vars/<group>` from [`Inventory::load_vars_dirs`];
//! 7. host vars from inventory sources (host lines, YAML host entries, `inventory_file`/`_dir`);
//! 8. `host_vars/<host>` next to the inventory sources;
//! 9. `host_vars/<host>` from [`Inventory::load_vars_dirs`].
//!
//! Within steps 2, 5 and 6 groups are applied in Ansible's order: by depth (parents before
//! children), then `ansible_group_priority` (default 1), then name; later wins. Group `all` has
//! depth 0; every other group is at least one level below it.

pub mod address;
mod build;
pub mod ini;
pub mod pattern;
pub mod pyliteral;
mod query;
pub mod range;
pub mod script;
pub mod shlex;
pub mod source;
pub mod vars_dirs;
pub mod yaml;

use std::collections::HashMap;

use indexmap::{IndexMap, IndexSet};

use crate::vars::{Value, Vars};

pub use pattern::Limit;
use vars_dirs::VarsLayer;

/// Host names Ansible treats as the controller itself (its `C.LOCALHOST`).
pub const LOCALHOST_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// Errors loading an inventory or matching a pattern.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// The inventory source could not be parsed.
    #[error("{file}:{line}: {message}")]
    Parse {
        /// File the problem is in.
        file: String,
        /// 1-based line (0 when the problem concerns the whole file).
        line: usize,
        /// What is wrong, with the offending text and a hint.
        message: String,
    },
    /// The inventory source could not be read.
    #[error("cannot read inventory {path}: {message}")]
    Read {
        /// The source as given.
        path: String,
        /// Why it could not be read.
        message: String,
    },
    /// A host pattern is malformed.
    #[error("bad host pattern '{pattern}': {message}")]
    Pattern {
        /// The pattern (or part of it) that is wrong.
        pattern: String,
        /// What is wrong.
        message: String,
    },
}

/// One inventory host.
#[derive(Debug, Clone, Default)]
pub struct Host {
    /// Inventory name (`inventory_hostname`).
    pub name: String,
    /// Variables set on the host by inventory sources (host lines, YAML host entries, `:port`,
    /// `inventory_file`, `inventory_dir`). `host_vars/` files are kept apart; see
    /// [`Inventory::host_vars`].
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
    /// Parent groups (every group but `all` has at least one after loading).
    pub parents: Vec<String>,
    /// Group variables from inventory sources (`[g:vars]`, `vars:`); `group_vars/` files are
    /// kept apart.
    pub vars: Vars,
    /// Longest distance from `all` (which has 0).
    pub depth: usize,
    /// `ansible_group_priority` (default 1): among groups of equal depth, higher wins.
    pub priority: i64,
}

/// A loaded inventory. [`Inventory::default`] is an empty inventory with the `all` and
/// `ungrouped` groups.
#[derive(Debug, Clone)]
pub struct Inventory {
    hosts: IndexMap<String, Host>,
    groups: IndexMap<String, Group>,
    /// Groups each host is directly in.
    memberships: HashMap<String, IndexSet<String>>,
    /// `group_vars/`+`host_vars/` next to inventory sources.
    inventory_vars: VarsLayer,
    /// `group_vars/`+`host_vars/` from [`Inventory::load_vars_dirs`].
    playbook_vars: VarsLayer,
    /// The first host with a localhost name, which stands for `localhost`/`127.0.0.1`/`::1`.
    default_localhost: Option<String>,
    /// `inventory_file` and `inventory_dir` values for hosts created now.
    current_source: Option<(Value, Value)>,
    warnings: Vec<String>,
}

impl Default for Inventory {
    fn default() -> Self {
        Inventory::empty()
    }
}

impl Inventory {
    /// Loads inventory sources: file paths (INI or YAML), directories, or comma-separated host
    /// lists (`a,b,` or `host,`); later sources add to earlier ones. `group_vars/` and
    /// `host_vars/` next to each file source (in each directory source) are loaded too.
    pub fn load(sources: &[String]) -> Result<Self, InventoryError> {
        let mut inv = Inventory::empty();
        let mut vars_dirs = Vec::new();
        for src in sources {
            if let Some(dir) = source::load_source(&mut inv, src)? {
                vars_dirs.push(dir);
            }
        }
        inv.current_source = None;
        inv.reconcile();
        inv.inventory_vars = VarsLayer::new(vars_dirs);
        let (groups, hosts) = inv.entity_names();
        inv.inventory_vars.load(&groups, &hosts)?;
        Ok(inv)
    }

    /// Parses INI inventory text (no files read), e.g. for tests and embedded inventories.
    pub fn from_ini_str(text: &str, file_name: &str) -> Result<Self, InventoryError> {
        let mut inv = Inventory::empty();
        ini::parse(&mut inv, text, file_name)?;
        inv.reconcile();
        Ok(inv)
    }

    /// Parses YAML inventory text (no files read).
    pub fn from_yaml_str(text: &str, file_name: &str) -> Result<Self, InventoryError> {
        let mut inv = Inventory::empty();
        let node = crate::yaml::parse_str(text, file_name).map_err(yaml::yaml_error)?;
        yaml::parse(&mut inv, &node, file_name)?;
        inv.reconcile();
        Ok(inv)
    }

    /// An inventory with only the `all` and `ungrouped` groups.
    fn empty() -> Self {
        let mut inv = Inventory {
            hosts: IndexMap::new(),
            groups: IndexMap::new(),
            memberships: HashMap::new(),
            inventory_vars: VarsLayer::default(),
            playbook_vars: VarsLayer::default(),
            default_localhost: None,
            current_source: None,
            warnings: Vec::new(),
        };
        inv.ensure_group("all");
        inv.ensure_group("ungrouped");
        inv.link("all", "ungrouped");
        inv
    }

    /// Loads `group_vars/` and `host_vars/` found in `dir` (the playbook's directory). They rank
    /// above the inventory's own `group_vars/`/`host_vars/`; a later call ranks above earlier
    /// ones.
    pub fn load_vars_dirs(&mut self, dir: &std::path::Path) -> Result<(), InventoryError> {
        let (groups, hosts) = self.entity_names();
        self.playbook_vars
            .add_dir(dir.to_path_buf(), &groups, &hosts)
    }

    // ----- building -------------------------------------------------------------------------

    // ----- queries --------------------------------------------------------------------------
}

#[cfg(test)]
mod tests;

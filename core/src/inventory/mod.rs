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
pub mod ini;
pub mod pattern;
pub mod pyliteral;
pub mod range;
pub mod shlex;
pub mod source;
pub mod vars_dirs;
pub mod yaml;

use std::collections::{HashMap, HashSet};

use indexmap::{IndexMap, IndexSet};

use crate::vars::{merge_into, Value, Vars};

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

    /// Adds a host at run time (Ansible's `add_host`): `name` may carry a port (`h:2222`); the
    /// host joins each of `groups` (created as needed, under `all`) and gets `vars` as host
    /// vars. An existing host keeps its groups and vars and gains these. `group_vars/` and
    /// `host_vars/` files of new groups and hosts are loaded.
    pub fn add_runtime_host(
        &mut self,
        name: &str,
        groups: &[String],
        vars: &Vars,
    ) -> Result<(), InventoryError> {
        let (host, port) =
            address::parse_address(name, false).unwrap_or_else(|| (name.to_string(), None));
        self.current_source = None;
        let target = if groups.is_empty() {
            &["ungrouped".to_string()][..]
        } else {
            groups
        };
        for g in target {
            self.add_host(&host, g, port);
        }
        for (k, v) in vars {
            self.set_host_var(&host, k, v.clone());
        }
        self.after_runtime_change()
    }

    /// Puts `host` into `group` at run time (Ansible's `group_by`), making `group` a child of
    /// each of `parents` (all created as needed). Fails on an unknown host or a group loop.
    pub fn add_host_to_group(
        &mut self,
        host: &str,
        group: &str,
        parents: &[String],
    ) -> Result<(), InventoryError> {
        let pattern_error = |message: String| InventoryError::Pattern {
            pattern: group.to_string(),
            message,
        };
        let Some(name) = self.resolve(host).filter(|h| self.hosts.contains_key(h)) else {
            return Err(pattern_error(format!(
                "host '{host}' is not in the inventory"
            )));
        };
        self.ensure_group(group);
        for parent in parents {
            self.add_child(parent, group).map_err(pattern_error)?;
        }
        self.add_host(&name, group, None);
        self.after_runtime_change()
    }

    fn after_runtime_change(&mut self) -> Result<(), InventoryError> {
        self.reconcile();
        let (groups, hosts) = self.entity_names();
        self.inventory_vars.load(&groups, &hosts)?;
        self.playbook_vars.load(&groups, &hosts)
    }

    /// Names of all groups, and of all hosts plus the localhost names (whose `host_vars/`
    /// apply to the implicit localhost).
    fn entity_names(&self) -> (Vec<String>, Vec<String>) {
        let groups = self.groups.keys().cloned().collect();
        let mut hosts: Vec<String> = self.hosts.keys().cloned().collect();
        for name in LOCALHOST_NAMES {
            if !self.hosts.contains_key(name) {
                hosts.push(name.to_string());
            }
        }
        (groups, hosts)
    }

    // ----- building -------------------------------------------------------------------------

    /// Creates `name` if it does not exist.
    fn ensure_group(&mut self, name: &str) {
        if !self.groups.contains_key(name) {
            self.groups.insert(
                name.to_string(),
                Group {
                    name: name.to_string(),
                    priority: 1,
                    ..Group::default()
                },
            );
        }
    }

    /// Adds `host` (created on first sight) to `group` (created if needed). A port becomes
    /// `ansible_port` when the host is created (as in Ansible, a port given on a later mention of
    /// the host is ignored).
    fn add_host(&mut self, host: &str, group: &str, port: Option<u16>) {
        if !self.hosts.contains_key(host) {
            let mut vars = Vars::new();
            let (file, dir) = self
                .current_source
                .clone()
                .unwrap_or((Value::Null, Value::Null));
            vars.insert("inventory_file".into(), file);
            vars.insert("inventory_dir".into(), dir);
            self.hosts.insert(
                host.to_string(),
                Host {
                    name: host.to_string(),
                    vars,
                },
            );
            if let Some(port) = port {
                self.set_host_var(host, "ansible_port", Value::from(port));
            }
            if LOCALHOST_NAMES.contains(&host) {
                match &self.default_localhost {
                    None => self.default_localhost = Some(host.to_string()),
                    Some(first) => self.warnings.push(format!(
                        "a duplicate localhost-like entry was found ({host}); the first one, {first}, stands for localhost"
                    )),
                }
            }
        }
        self.ensure_group(group);
        let member = self.memberships.entry(host.to_string()).or_default();
        if member.insert(group.to_string()) {
            if let Some(g) = self.groups.get_mut(group) {
                g.hosts.push(host.to_string());
            }
        }
    }

    /// Makes `child` a child group of `parent` (both created if needed). Fails if that would
    /// make a group its own ancestor.
    fn add_child(&mut self, parent: &str, child: &str) -> Result<(), String> {
        if parent == child || self.is_ancestor(child, parent) {
            return Err(format!(
                "adding group '{child}' as a child of '{parent}' creates a loop (a group cannot contain itself)"
            ));
        }
        if child == "all" {
            return Err("group 'all' cannot be a child of another group".into());
        }
        self.ensure_group(parent);
        self.ensure_group(child);
        self.link(parent, child);
        Ok(())
    }

    fn link(&mut self, parent: &str, child: &str) {
        if let Some(p) = self.groups.get_mut(parent) {
            if !p.children.iter().any(|c| c == child) {
                p.children.push(child.to_string());
            }
        }
        if let Some(c) = self.groups.get_mut(child) {
            if !c.parents.iter().any(|p| p == parent) {
                c.parents.push(parent.to_string());
            }
        }
    }

    /// True if `a` is `b` or one of its ancestors.
    fn is_ancestor(&self, a: &str, b: &str) -> bool {
        let mut stack = vec![b.to_string()];
        let mut seen = HashSet::new();
        while let Some(g) = stack.pop() {
            if g == a {
                return true;
            }
            if seen.insert(g.clone()) {
                if let Some(group) = self.groups.get(&g) {
                    stack.extend(group.parents.iter().cloned());
                }
            }
        }
        false
    }

    /// Sets a group variable from an inventory source; `ansible_group_priority` sets the
    /// group's priority instead (as in Ansible).
    fn set_group_var(&mut self, group: &str, key: &str, value: Value) -> Result<(), String> {
        self.ensure_group(group);
        let Some(g) = self.groups.get_mut(group) else {
            return Ok(());
        };
        if key == "ansible_group_priority" {
            g.priority = match &value {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            }
            .ok_or_else(|| format!("ansible_group_priority must be an integer, got {value}"))?;
        } else {
            g.vars.insert(key.to_string(), value);
        }
        Ok(())
    }

    fn set_host_var(&mut self, host: &str, key: &str, value: Value) {
        if let Some(h) = self.hosts.get_mut(host) {
            h.vars.insert(key.to_string(), value);
        }
    }

    /// Ansible's `reconcile_inventory`: every group without a parent becomes a child of `all`,
    /// hosts in no group go to `ungrouped` (and leave it once in another group), depths are
    /// recomputed, and hosts named like groups are reported.
    fn reconcile(&mut self) {
        let orphans: Vec<String> = self
            .groups
            .values()
            .filter(|g| g.name != "all" && g.parents.is_empty())
            .map(|g| g.name.clone())
            .collect();
        for g in orphans {
            self.link("all", &g);
        }
        let host_names: Vec<String> = self.hosts.keys().cloned().collect();
        for host in &host_names {
            let direct = self.memberships.get(host).cloned().unwrap_or_default();
            let elsewhere = direct.iter().any(|g| g != "all" && g != "ungrouped");
            if elsewhere && direct.contains("ungrouped") {
                self.remove_from_group(host, "ungrouped");
            } else if !elsewhere && !direct.contains("ungrouped") {
                self.add_host(host, "ungrouped", None);
            }
        }
        self.compute_depths();
        for host in &host_names {
            if self.groups.contains_key(host) {
                let msg = format!("found both a group and a host named '{host}'");
                if !self.warnings.contains(&msg) {
                    self.warnings.push(msg);
                }
            }
        }
    }

    fn remove_from_group(&mut self, host: &str, group: &str) {
        if let Some(g) = self.groups.get_mut(group) {
            g.hosts.retain(|h| h != host);
        }
        if let Some(m) = self.memberships.get_mut(host) {
            m.shift_remove(group);
        }
    }

    /// Depth = longest path from `all` (the graph has no cycles: [`Self::add_child`] refuses them).
    fn compute_depths(&mut self) {
        let mut depths: HashMap<String, usize> = HashMap::new();
        let mut frontier = vec!["all".to_string()];
        depths.insert("all".into(), 0);
        // Relax edges breadth-first; a deeper path found later pushes the group down again.
        while let Some(g) = frontier.pop() {
            let d = depths[&g];
            let children = self
                .groups
                .get(&g)
                .map(|g| g.children.clone())
                .unwrap_or_default();
            for c in children {
                if depths.get(&c).is_none_or(|old| *old < d + 1) {
                    depths.insert(c.clone(), d + 1);
                    frontier.push(c);
                }
            }
        }
        for g in self.groups.values_mut() {
            g.depth = depths.get(&g.name).copied().unwrap_or(1);
        }
    }

    // ----- queries --------------------------------------------------------------------------

    /// Hosts in inventory order (the order they were first seen).
    pub fn hosts(&self) -> impl Iterator<Item = &Host> {
        self.hosts.values()
    }

    /// A host defined in the inventory.
    pub fn host(&self, name: &str) -> Option<&Host> {
        self.hosts.get(name)
    }

    /// Groups in inventory order (`all` and `ungrouped` first).
    pub fn groups(&self) -> impl Iterator<Item = &Group> {
        self.groups.values()
    }

    /// A group by name.
    pub fn group(&self, name: &str) -> Option<&Group> {
        self.groups.get(name)
    }

    /// True if the inventory defines `host`.
    pub fn has_host(&self, host: &str) -> bool {
        self.hosts.contains_key(host)
    }

    /// True if `host` is Ansible's implicit localhost: a localhost name (`localhost`,
    /// `127.0.0.1`, `::1`) while the inventory defines no host with such a name. It is in no
    /// group (not even `all`), connects with `ansible_connection: local`, and gets the `all`
    /// group's vars and its own `host_vars/`.
    pub fn is_implicit_localhost(&self, host: &str) -> bool {
        LOCALHOST_NAMES.contains(&host)
            && !self.hosts.contains_key(host)
            && self.default_localhost.is_none()
    }

    /// The inventory host a name refers to: itself if defined, the inventory's localhost entry
    /// for another localhost name, or the name itself for the implicit localhost.
    fn resolve(&self, host: &str) -> Option<String> {
        if self.hosts.contains_key(host) {
            return Some(host.to_string());
        }
        if LOCALHOST_NAMES.contains(&host) {
            return Some(
                self.default_localhost
                    .clone()
                    .unwrap_or_else(|| host.to_string()),
            );
        }
        None
    }

    /// Problems that do not stop loading (Ansible prints them as warnings): skipped YAML keys,
    /// hosts named like groups, duplicate localhost entries.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Every group `host` is in, directly or through child groups, including `all`.
    fn groups_of(&self, host: &str) -> IndexSet<String> {
        let mut out = IndexSet::new();
        let mut stack: Vec<String> = self
            .memberships
            .get(host)
            .map(|m| m.iter().cloned().collect())
            .unwrap_or_default();
        while let Some(g) = stack.pop() {
            if out.insert(g.clone()) {
                if let Some(group) = self.groups.get(&g) {
                    stack.extend(group.parents.iter().cloned());
                }
            }
        }
        out
    }

    /// The groups of `host` other than `all`, in variable-precedence order (lowest first).
    fn sorted_groups_of(&self, host: &str) -> Vec<&Group> {
        let mut groups: Vec<&Group> = self
            .groups_of(host)
            .iter()
            .filter(|g| *g != "all")
            .filter_map(|g| self.groups.get(g))
            .collect();
        groups.sort_by(|a, b| (a.depth, a.priority, &a.name).cmp(&(b.depth, b.priority, &b.name)));
        groups
    }

    /// A host's inventory variables, merged in the precedence order described in the module
    /// documentation. The implicit localhost gets the `all` group's vars, `ansible_connection:
    /// local` and its `host_vars/`. Empty for hosts the inventory does not know.
    pub fn host_vars(&self, host: &str) -> Vars {
        let mut vars = Vars::new();
        let Some(name) = self.resolve(host) else {
            return vars;
        };
        let all_vars = self
            .groups
            .get("all")
            .map(|g| g.vars.clone())
            .unwrap_or_default();
        let groups = self.sorted_groups_of(&name);
        merge_into(&mut vars, &all_vars);
        for g in &groups {
            merge_into(&mut vars, &g.vars);
        }
        for layer in [&self.inventory_vars, &self.playbook_vars] {
            if let Some(v) = layer.group("all") {
                merge_into(&mut vars, v);
            }
        }
        for layer in [&self.inventory_vars, &self.playbook_vars] {
            for g in &groups {
                if let Some(v) = layer.group(&g.name) {
                    merge_into(&mut vars, v);
                }
            }
        }
        match self.hosts.get(&name) {
            Some(h) => merge_into(&mut vars, &h.vars),
            None => {
                // Ansible's implicit localhost carries the `all` vars and a local connection as
                // its own host vars (it also pins the controller's Python, which drover needs not).
                merge_into(&mut vars, &all_vars);
                vars.insert("ansible_connection".into(), Value::String("local".into()));
            }
        }
        for layer in [&self.inventory_vars, &self.playbook_vars] {
            if let Some(v) = layer.host(&name) {
                merge_into(&mut vars, v);
            }
        }
        vars
    }

    /// A group's own variables: inventory sources < inventory `group_vars/` < playbook
    /// `group_vars/` (without the vars of its parents).
    pub fn group_vars(&self, group: &str) -> Vars {
        let mut vars = Vars::new();
        if let Some(g) = self.groups.get(group) {
            merge_into(&mut vars, &g.vars);
        }
        for layer in [&self.inventory_vars, &self.playbook_vars] {
            if let Some(v) = layer.group(group) {
                merge_into(&mut vars, v);
            }
        }
        vars
    }

    /// Names of the groups a host belongs to, directly or through child groups (`group_names`:
    /// sorted, without `all`, with `ungrouped` for hosts in no other group). Empty for the
    /// implicit localhost.
    pub fn group_names(&self, host: &str) -> Vec<String> {
        let Some(name) = self.resolve(host) else {
            return Vec::new();
        };
        let mut names: Vec<String> = self
            .groups_of(&name)
            .into_iter()
            .filter(|g| g != "all")
            .collect();
        names.sort();
        names
    }

    /// Hosts of a group including those of its descendants, in Ansible's order: the group's own
    /// hosts, then its children's, then grandchildren's (breadth first), without duplicates.
    pub fn group_hosts(&self, group: &str) -> Vec<String> {
        let Some(start) = self.groups.get(group) else {
            return Vec::new();
        };
        let mut order = vec![start];
        let mut seen: HashSet<&str> = HashSet::from([start.name.as_str()]);
        let mut level = vec![start];
        while !level.is_empty() {
            let mut next = Vec::new();
            for g in level {
                for c in &g.children {
                    if let Some(child) = self.groups.get(c) {
                        if seen.insert(child.name.as_str()) {
                            order.push(child);
                            next.push(child);
                        }
                    }
                }
            }
            level = next;
        }
        let mut hosts = IndexSet::new();
        for g in order {
            hosts.extend(g.hosts.iter().cloned());
        }
        hosts.into_iter().collect()
    }

    /// Every group with all of its hosts (including through children), for the `groups` variable.
    pub fn groups_map(&self) -> IndexMap<String, Vec<String>> {
        self.groups
            .keys()
            .map(|g| (g.clone(), self.group_hosts(g)))
            .collect()
    }
}

#[cfg(test)]
mod tests;

//! Reading an inventory: its hosts and groups, the groups of a host, and the variables a host
//! or group has (in the precedence order the module documentation describes).

use std::collections::HashSet;

use indexmap::{IndexMap, IndexSet};

use super::{Group, Host, Inventory, LOCALHOST_NAMES};
use crate::vars::{merge_into, Value, Vars};

impl Inventory {
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
    pub(super) fn resolve(&self, host: &str) -> Option<String> {
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
    pub(super) fn groups_of(&self, host: &str) -> IndexSet<String> {
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
    pub(super) fn sorted_groups_of(&self, host: &str) -> Vec<&Group> {
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

    /// A host's own variables (ansible-inventory's `--export` view): inventory sources <
    /// `host_vars/` next to them < `host_vars/` from [`Inventory::load_vars_dirs`], without its
    /// groups' variables. Empty for hosts the inventory does not know.
    pub fn own_host_vars(&self, host: &str) -> Vars {
        let mut vars = Vars::new();
        let Some(h) = self.hosts.get(host) else {
            return vars;
        };
        merge_into(&mut vars, &h.vars);
        for layer in [&self.inventory_vars, &self.playbook_vars] {
            if let Some(v) = layer.host(host) {
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

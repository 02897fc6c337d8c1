//! Building an inventory: adding hosts, groups, parent/child links and variables as the
//! sources are read or `add_host`/`group_by` change it at run time, then settling group depths.

use std::collections::{HashMap, HashSet};

use super::address;
use super::{Group, Host, Inventory, InventoryError, LOCALHOST_NAMES};
use crate::vars::{Value, Vars};

impl Inventory {
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

    pub(super) fn after_runtime_change(&mut self) -> Result<(), InventoryError> {
        self.reconcile();
        let (groups, hosts) = self.entity_names();
        self.inventory_vars.load(&groups, &hosts)?;
        self.playbook_vars.load(&groups, &hosts)
    }

    /// Names of all groups, and of all hosts plus the localhost names (whose `host_vars/`
    /// apply to the implicit localhost).
    pub(super) fn entity_names(&self) -> (Vec<String>, Vec<String>) {
        let groups = self.groups.keys().cloned().collect();
        let mut hosts: Vec<String> = self.hosts.keys().cloned().collect();
        for name in LOCALHOST_NAMES {
            if !self.hosts.contains_key(name) {
                hosts.push(name.to_string());
            }
        }
        (groups, hosts)
    }

    /// Creates `name` if it does not exist.
    pub(super) fn ensure_group(&mut self, name: &str) {
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
    pub(super) fn add_host(&mut self, host: &str, group: &str, port: Option<u16>) {
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
    pub(super) fn add_child(&mut self, parent: &str, child: &str) -> Result<(), String> {
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

    pub(super) fn link(&mut self, parent: &str, child: &str) {
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
    pub(super) fn is_ancestor(&self, a: &str, b: &str) -> bool {
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
    pub(super) fn set_group_var(
        &mut self,
        group: &str,
        key: &str,
        value: Value,
    ) -> Result<(), String> {
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

    pub(super) fn set_host_var(&mut self, host: &str, key: &str, value: Value) {
        if let Some(h) = self.hosts.get_mut(host) {
            h.vars.insert(key.to_string(), value);
        }
    }

    /// Ansible's `reconcile_inventory`: every group without a parent becomes a child of `all`,
    /// hosts in no group go to `ungrouped` (and leave it once in another group), depths are
    /// recomputed, and hosts named like groups are reported.
    pub(super) fn reconcile(&mut self) {
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

    pub(super) fn remove_from_group(&mut self, host: &str, group: &str) {
        if let Some(g) = self.groups.get_mut(group) {
            g.hosts.retain(|h| h != host);
        }
        if let Some(m) = self.memberships.get_mut(host) {
            m.shift_remove(group);
        }
    }

    /// Depth = longest path from `all` (the graph has no cycles: [`Self::add_child`] refuses them).
    pub(super) fn compute_depths(&mut self) {
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
}

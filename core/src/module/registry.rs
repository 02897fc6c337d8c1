//! The registry of modules by name, with did-you-mean hints and Ansible's names drover lacks.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::Module;

/// Modules by name. Names include their fully-qualified aliases (`ansible.builtin.copy`).
#[derive(Default, Clone)]
pub struct ModuleRegistry {
    modules: BTreeMap<String, Arc<dyn Module>>,
    /// Real Ansible modules drover does not implement: a warning at load, a failure if run.
    known_unimplemented: BTreeMap<String, ()>,
    /// A further test for such names (a generated table, searched without building a map).
    unimplemented_lookup: Option<fn(&str) -> bool>,
}

impl ModuleRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `module` under its name and `ansible.builtin.<name>`, `ansible.legacy.<name>`.
    pub fn register(&mut self, module: Arc<dyn Module>) {
        let name = module.name();
        for key in [
            name.to_string(),
            format!("ansible.builtin.{name}"),
            format!("ansible.legacy.{name}"),
        ] {
            self.modules.insert(key, module.clone());
        }
    }

    /// Registers an extra name (such as `community.general.lxc_container`) for an existing module.
    pub fn alias(&mut self, alias: &str, target: &str) {
        if let Some(m) = self.modules.get(target).cloned() {
            self.modules.insert(alias.to_string(), m);
        }
    }

    /// Records names of real Ansible modules that drover lacks, so they warn instead of erroring.
    pub fn mark_unimplemented(&mut self, names: &[&str]) {
        for n in names {
            self.known_unimplemented.insert((*n).to_string(), ());
        }
    }

    /// Adds a test recognising real Ansible module names that drover lacks (see
    /// [`ModuleRegistry::mark_unimplemented`]); names registered as modules are never matched.
    pub fn set_unimplemented_lookup(&mut self, lookup: fn(&str) -> bool) {
        self.unimplemented_lookup = Some(lookup);
    }

    /// Looks a module up by any of its names.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Module>> {
        self.modules.get(name)
    }

    /// True if `name` is a real Ansible module that drover does not implement.
    /// Names are matched exactly: mark every form (short, `ansible.builtin.…`, collection FQCN).
    pub fn is_known_unimplemented(&self, name: &str) -> bool {
        self.known_unimplemented.contains_key(name)
            || (!self.modules.contains_key(name)
                && self.unimplemented_lookup.is_some_and(|known| known(name)))
    }

    /// All registered names (including aliases), sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.modules.keys().map(String::as_str)
    }

    /// The registered name closest to `name`, for did-you-mean hints.
    pub fn suggest(&self, name: &str) -> Option<&str> {
        self.names()
            .filter(|n| !n.contains('.'))
            .map(|n| (strsim_distance(name, n), n))
            .filter(|(d, n)| *d <= (n.len().max(3) / 3).max(2))
            .min_by_key(|(d, _)| *d)
            .map(|(_, n)| n)
    }
}

/// Levenshtein distance (small strings only).
pub fn strsim_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance() {
        assert_eq!(strsim_distance("copy", "cpoy"), 2);
        assert_eq!(strsim_distance("shell", "shel"), 1);
    }
}

//! `setup` / `gather_facts`: gathers facts about the host in one POSIX shell round trip (no Python
//! needed on the target).
//!
//! `gather_subset` selects collectors (see `facts_probe::Collector`), `filter` keeps only facts
//! whose names match shell-style patterns. Facts come back with their `ansible_` prefix inside
//! `ansible_facts`, as Ansible's setup module returns them; the executor exposes them as top-level
//! variables and under `ansible_facts`, and keeps them for the rest of the run.

use std::collections::BTreeSet;

use async_trait::async_trait;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use drover_core::vars::{Value, Vars};
use serde::Deserialize;

use super::facts_build::add_collector_facts;
use super::facts_probe::{build_script, split_sections, Collector};
use crate::params::de_opt_string_list;

/// Parameters of `setup`.
#[derive(Debug, Deserialize, Default, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct SetupParams {
    /// Subsets to gather (`all`, `min`, `hardware`, `network`, `virtual`, collector names,
    /// `!name` to exclude).
    #[serde(default, deserialize_with = "de_opt_string_list")]
    #[param(kind = "list", default = "all")]
    pub gather_subset: Option<Vec<String>>,
    /// Only return facts whose names match these shell-style patterns.
    #[serde(default, deserialize_with = "de_opt_string_list")]
    #[param(kind = "list")]
    pub filter: Option<Vec<String>>,
    /// Timeout in seconds (accepted for compatibility; the probe is one short script).
    #[serde(default)]
    #[param(kind = "int", default = "10")]
    pub gather_timeout: Option<Value>,
    /// Directory of local facts (`*.fact` files).
    #[serde(default)]
    #[param(kind = "path", default = "/etc/ansible/facts.d")]
    pub fact_path: Option<String>,
}

/// The `setup` module.
pub struct Setup;

/// Resolves a `gather_subset` list into collectors, as Ansible does: named subsets are added,
/// `!name` excludes, `all` adds everything unless `!all`, and `min` is always gathered unless
/// `!min`. Unknown names are an error listing the valid ones.
pub fn resolve_subset(items: &[String]) -> Result<Vec<Collector>, String> {
    let mut add = BTreeSet::new();
    let mut exclude = BTreeSet::new();
    let (mut all, mut not_all, mut not_min) = (false, false, false);
    for raw in items {
        let item = raw.trim();
        let (neg, name) = match item.strip_prefix('!') {
            Some(n) => (true, n),
            None => (false, item),
        };
        match (neg, name) {
            (false, "all") => all = true,
            (true, "all") => not_all = true,
            (false, "min") => {}
            (true, "min") => not_min = true,
            (_, "ohai" | "facter") => {}
            (neg, n) => {
                let c = Collector::from_name(n).ok_or_else(|| {
                    let mut valid: Vec<&str> = Collector::ALL.iter().map(|c| c.name()).collect();
                    valid.extend([
                        "all",
                        "min",
                        "devices",
                        "interfaces",
                        "mounts",
                        "lsb",
                        "caps",
                    ]);
                    valid.sort_unstable();
                    format!(
                        "Bad subset '{n}' given to Ansible. gather_subset options allowed: {}",
                        valid.join(", ")
                    )
                })?;
                if neg {
                    exclude.insert(c);
                } else {
                    add.insert(c);
                }
            }
        }
    }
    for c in Collector::ALL {
        if (all && !not_all && !c.is_min()) || (c.is_min() && !not_min) {
            add.insert(c);
        }
    }
    Ok(Collector::ALL
        .into_iter()
        .filter(|c| add.contains(c) && !exclude.contains(c))
        .collect())
}

/// Shell-style pattern match (`*`, `?`, `[...]`), as Python's `fnmatch`.
fn glob_match(pattern: &str, name: &str) -> bool {
    fn class(p: &[char], c: char) -> Option<(bool, usize)> {
        let mut i = 1;
        let negate = matches!(p.get(1), Some('!' | '^'));
        if negate {
            i += 1;
        }
        let mut hit = false;
        let start = i;
        while i < p.len() && (p[i] != ']' || i == start) {
            if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|e| *e != ']') {
                hit |= p[i] <= c && c <= p[i + 2];
                i += 3;
            } else {
                hit |= p[i] == c;
                i += 1;
            }
        }
        (i < p.len()).then_some((hit != negate, i + 1))
    }
    fn go(p: &[char], n: &[char]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some('*'), _) => go(&p[1..], n) || (!n.is_empty() && go(p, &n[1..])),
            (Some('?'), Some(_)) => go(&p[1..], &n[1..]),
            (Some('['), Some(c)) => match class(p, *c) {
                Some((true, len)) => go(&p[len..], &n[1..]),
                Some((false, _)) => false,
                None => p.first() == n.first() && go(&p[1..], &n[1..]),
            },
            (Some(a), Some(b)) if a == b => go(&p[1..], &n[1..]),
            _ => false,
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    go(&p, &n)
}

#[async_trait]
impl TypedModule for Setup {
    const NAME: &'static str = "setup";
    type Params = SetupParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        params: SetupParams,
    ) -> Result<ModuleResult, ModuleError> {
        let subset = params
            .gather_subset
            .clone()
            .unwrap_or_else(|| vec!["all".to_string()]);
        let collectors = match resolve_subset(&subset) {
            Ok(c) => c,
            Err(msg) => return Ok(ModuleResult::failed(msg)),
        };
        let fact_path = params
            .fact_path
            .as_deref()
            .unwrap_or("/etc/ansible/facts.d");
        let out = ctx.conn.run(build_script(&collectors, fact_path)).await?;
        let sections = split_sections(&out.stdout_str());
        let mut facts = Vars::new();
        for c in &collectors {
            add_collector_facts(*c, &sections, &mut facts);
        }
        facts.insert(
            "ansible_gather_subset".into(),
            Value::Array(subset.iter().cloned().map(Value::String).collect()),
        );
        facts.insert("module_setup".into(), Value::Bool(true));
        let filters = params.filter.unwrap_or_default();
        if !filters.is_empty() {
            facts.retain(|k, _| filters.iter().any(|p| glob_match(p, k)));
        }
        Ok(ModuleResult {
            ansible_facts: Some(facts),
            ..ModuleResult::ok()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(items: &[&str]) -> Vec<&'static str> {
        let items: Vec<String> = items.iter().map(|s| s.to_string()).collect();
        resolve_subset(&items)
            .unwrap()
            .into_iter()
            .map(Collector::name)
            .collect()
    }

    #[test]
    fn subsets_resolve_like_ansible() {
        assert_eq!(names(&["all"]).len(), Collector::ALL.len());
        let min = names(&["!all"]);
        assert!(min.contains(&"distribution") && !min.contains(&"hardware"));
        let net = names(&["!all", "network"]);
        assert!(net.contains(&"network") && !net.contains(&"hardware"));
        assert_eq!(names(&["!all", "!min", "network"]), vec!["network"]);
        assert!(!names(&["all", "!hardware"]).contains(&"hardware"));
        assert!(names(&["mounts"]).contains(&"hardware"));
        let err = resolve_subset(&["bogus".to_string()]).unwrap_err();
        assert!(err.contains("Bad subset 'bogus'"), "{err}");
    }

    #[test]
    fn filter_globs() {
        assert!(glob_match(
            "ansible_distribution*",
            "ansible_distribution_version"
        ));
        assert!(!glob_match("ansible_os*", "ansible_distribution"));
        assert!(glob_match("ansible_eth[0-9]", "ansible_eth0"));
        assert!(!glob_match("ansible_eth[!0]", "ansible_eth0"));
    }
}

//! `drover inventory`: ansible-inventory's `--list`, `--graph [GROUP]` and `--host HOST`, with
//! the same data (JSON as Python's `json.dumps(sort_keys=True, indent=4)`, or `--yaml`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use drover_core::config::AnsibleConfig;
use drover_core::inventory::{Inventory, Limit};
use drover_core::template::python_text::{python_str, python_yaml_dump};
use drover_core::vars::{Map, Value, Vars};

use crate::args::VaultArgs;
use crate::pyjson::dumps;
use crate::{fail, vault, EXIT_BAD_OPTIONS, EXIT_ERROR};

/// `drover inventory` arguments (ansible-inventory's names).
#[derive(Debug, Args)]
pub struct InventoryArgs {
    /// With --graph: the group to start from (default `all`).
    #[arg(value_name = "GROUP")]
    pub group: Option<String>,
    /// Print every group and host, with the hosts' variables under `_meta`.
    #[arg(long = "list")]
    pub list: bool,
    /// Print the group tree (from GROUP, default `all`).
    #[arg(long = "graph")]
    pub graph: bool,
    /// Print one host's variables.
    #[arg(long = "host", value_name = "HOST")]
    pub host: Option<String>,
    /// With --graph: show the variables of hosts and groups.
    #[arg(long = "vars")]
    pub vars: bool,
    /// YAML instead of JSON.
    #[arg(short = 'y', long = "yaml")]
    pub yaml: bool,
    /// TOML instead of JSON (not supported: say so).
    #[arg(long = "toml")]
    pub toml: bool,
    /// Write to this file instead of standard output.
    #[arg(long = "output", value_name = "OUTPUT_FILE")]
    pub output: Option<PathBuf>,
    /// Show variables as the sources set them (host and group variables apart) instead of
    /// each host's merged view.
    #[arg(long = "export")]
    pub export: bool,
    /// Inventory file, directory, script or comma-separated host list (repeatable).
    #[arg(short = 'i', long = "inventory", value_name = "INVENTORY")]
    pub inventory: Vec<String>,
    /// Limit to hosts matching this pattern.
    #[arg(short = 'l', long = "limit", value_name = "SUBSET")]
    pub limit: Option<String>,
    /// A playbook directory whose `group_vars/`/`host_vars/` count too.
    #[arg(long = "playbook-dir", value_name = "BASEDIR")]
    pub playbook_dir: Option<PathBuf>,
    /// Vault passwords.
    #[command(flatten)]
    pub vault: VaultArgs,
}

/// ansible's `INTERNAL_STATIC_VARS`: never shown by ansible-inventory.
const INTERNAL_VARS: [&str; 34] = [
    "ansible_async_path",
    "ansible_collection_name",
    "ansible_config_file",
    "ansible_dependent_role_names",
    "ansible_diff_mode",
    "ansible_facts",
    "ansible_forks",
    "ansible_inventory_sources",
    "ansible_limit",
    "ansible_play_batch",
    "ansible_play_hosts",
    "ansible_play_hosts_all",
    "ansible_play_role_names",
    "ansible_playbook_python",
    "ansible_role_name",
    "ansible_role_names",
    "ansible_run_tags",
    "ansible_skip_tags",
    "ansible_verbosity",
    "ansible_version",
    "inventory_dir",
    "inventory_file",
    "inventory_hostname",
    "inventory_hostname_short",
    "groups",
    "group_names",
    "hostvars",
    "playbook_dir",
    "play_hosts",
    "role_name",
    "role_names",
    "role_path",
    "role_uuid",
    "omit",
];

fn remove_internal(mut vars: Vars) -> Vars {
    vars.retain(|k, _| !INTERNAL_VARS.contains(&k.as_str()));
    vars
}

/// The loaded inventory and what the output needs from it.
struct View<'a> {
    args: &'a InventoryArgs,
    /// Variables as the sources set them (`--export`, group variables).
    inventory: Inventory,
    /// With the current (or playbook) directory's `group_vars/`/`host_vars/` too: the merged
    /// host view ansible-inventory prints without `--export`.
    merged: Inventory,
    /// Hosts of `all` after `--limit`.
    available: Vec<String>,
}

impl View<'_> {
    fn host_vars(&self, host: &str) -> Vars {
        if self.args.export {
            remove_internal(self.inventory.own_host_vars(host))
        } else {
            remove_internal(self.merged.host_vars(host))
        }
    }

    fn group_vars(&self, group: &str) -> Vars {
        let mut vars = self.inventory.group_vars(group);
        if let Some(g) = self.inventory.group(group) {
            if g.priority != 1 {
                vars.insert("ansible_group_priority".into(), Value::from(g.priority));
            }
        }
        remove_internal(vars)
    }

    fn group_hosts(&self, group: &str) -> Vec<String> {
        self.inventory
            .group(group)
            .map(|g| {
                g.hosts
                    .iter()
                    .filter(|h| self.available.contains(h))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    fn children(&self, group: &str) -> Vec<String> {
        self.inventory
            .group(group)
            .map(|g| g.children.clone())
            .unwrap_or_default()
    }

    /// ansible-inventory's `json_inventory`.
    fn json_list(&self) -> Value {
        let mut results = Map::new();
        let mut seen = Vec::new();
        self.json_group("all", &mut results, &mut seen);
        let mut hostvars = Map::new();
        for h in &self.available {
            let vars = self.host_vars(h);
            if !vars.is_empty() {
                hostvars.insert(h.clone(), Value::Object(vars));
            }
        }
        let mut meta = Map::new();
        meta.insert("hostvars".into(), Value::Object(hostvars));
        meta.insert("profile".into(), Value::from("inventory_legacy"));
        results.insert("_meta".into(), Value::Object(meta));
        Value::Object(results)
    }

    fn json_group(&self, group: &str, results: &mut Map<String, Value>, seen: &mut Vec<String>) {
        let mut entry = Map::new();
        if group != "all" {
            let hosts = self.group_hosts(group);
            if !hosts.is_empty() {
                entry.insert("hosts".into(), Value::from(hosts));
            }
        }
        let children = self.children(group);
        for c in &children {
            if !seen.contains(c) {
                self.json_group(c, results, seen);
                seen.push(c.clone());
            }
        }
        if !children.is_empty() {
            entry.insert("children".into(), Value::from(children));
        }
        if self.args.export {
            let vars = self.group_vars(group);
            if !vars.is_empty() {
                entry.insert("vars".into(), Value::Object(vars));
            }
        }
        if !entry.is_empty() {
            results.insert(group.to_string(), Value::Object(entry));
        }
    }

    /// ansible-inventory's `yaml_inventory`.
    fn yaml_list(&self) -> Value {
        let mut results = Map::new();
        let mut seen_groups = Vec::new();
        let mut seen_hosts = Vec::new();
        self.yaml_group("all", &mut results, &mut seen_groups, &mut seen_hosts);
        Value::Object(results)
    }

    fn yaml_group(
        &self,
        group: &str,
        results: &mut Map<String, Value>,
        seen_groups: &mut Vec<String>,
        seen_hosts: &mut Vec<String>,
    ) {
        let mut children = Map::new();
        for c in self.children(group) {
            if c == "all" {
                continue;
            }
            if seen_groups.contains(&c) {
                children.insert(c, Value::Object(Map::new()));
            } else {
                self.yaml_group(&c, &mut children, seen_groups, seen_hosts);
                seen_groups.push(c);
            }
        }
        let mut hosts = Map::new();
        if group != "all" {
            for h in self.group_hosts(group) {
                let vars = if seen_hosts.contains(&h) {
                    Map::new()
                } else {
                    seen_hosts.push(h.clone());
                    self.host_vars(&h)
                };
                hosts.insert(h, Value::Object(vars));
            }
        }
        let mut entry = Map::new();
        if !children.is_empty() {
            entry.insert("children".into(), Value::Object(children));
        }
        if !hosts.is_empty() {
            entry.insert("hosts".into(), Value::Object(hosts));
        }
        if self.args.export {
            let vars = self.group_vars(group);
            if !vars.is_empty() {
                entry.insert("vars".into(), Value::Object(vars));
            }
        }
        if !entry.is_empty() {
            results.insert(group.to_string(), Value::Object(entry));
        }
    }

    /// ansible-inventory's `--graph` lines.
    fn graph(&self, group: &str, depth: usize, out: &mut Vec<String>) {
        out.push(graph_name(&format!("@{group}:"), depth));
        for c in self.children(group) {
            self.graph(&c, depth + 1, out);
        }
        if group != "all" {
            let hosts = self
                .inventory
                .group(group)
                .map(|g| g.hosts.clone())
                .unwrap_or_default();
            for h in hosts {
                out.push(graph_name(&h, depth + 1));
                if self.args.vars {
                    show_vars(&self.host_vars(&h), depth + 2, out);
                }
            }
        }
        if self.args.vars {
            show_vars(&self.group_vars(group), depth + 1, out);
        }
    }
}

fn graph_name(name: &str, depth: usize) -> String {
    if depth == 0 {
        name.to_string()
    } else {
        format!("{}--{name}", "  |".repeat(depth))
    }
}

fn show_vars(vars: &Vars, depth: usize, out: &mut Vec<String>) {
    let mut keys: Vec<&String> = vars.keys().collect();
    keys.sort();
    for k in keys {
        if let Some(v) = vars.get(k) {
            out.push(graph_name(&format!("{{{k} = {}}}", python_str(v)), depth));
        }
    }
}

/// JSON or YAML text of `value` as ansible-inventory's `dump`.
fn dump(value: &Value, yaml: bool) -> Result<String, String> {
    if yaml {
        python_yaml_dump(value)
    } else {
        Ok(dumps(value, Some(4)))
    }
}

/// Runs `drover inventory`.
pub fn run(args: &InventoryArgs) -> ExitCode {
    let actions = [args.list, args.graph, args.host.is_some()];
    match actions.iter().filter(|a| **a).count() {
        0 => {
            return fail(
                "No action selected, at least one of --host, --graph or --list needs to be specified.",
                None,
                EXIT_BAD_OPTIONS,
            )
        }
        1 => {}
        _ => {
            return fail(
                "Conflicting options used, only one of --host, --graph or --list can be used at the same time.",
                None,
                EXIT_BAD_OPTIONS,
            )
        }
    }
    if args.toml {
        return fail(
            "TOML output is not supported by drover; use the default JSON or --yaml",
            None,
            EXIT_BAD_OPTIONS,
        );
    }
    if args.vars && !args.graph {
        return fail(
            "The --vars option can only be used with --graph",
            None,
            EXIT_BAD_OPTIONS,
        );
    }
    let cfg = AnsibleConfig::load();
    let secrets = match vault::collect_secrets(&args.vault, &cfg) {
        Ok(s) => s,
        Err(e) => return fail(e, None, EXIT_BAD_OPTIONS),
    };
    let sources = if args.inventory.is_empty() {
        cfg.inventory.clone()
    } else {
        args.inventory.clone()
    };
    let secrets = std::sync::Arc::new(secrets);
    let loaded = drover_core::vault::with_secrets(&secrets, || -> Result<_, String> {
        let mut inventory = Inventory::load(&sources).map_err(|e| e.to_string())?;
        if let Some(dir) = &args.playbook_dir {
            inventory.load_vars_dirs(dir).map_err(|e| e.to_string())?;
        }
        let mut merged = inventory.clone();
        if args.playbook_dir.is_none() {
            // Without a playbook directory, ansible's variable manager reads the current one's.
            merged
                .load_vars_dirs(std::path::Path::new("."))
                .map_err(|e| e.to_string())?;
        }
        Ok((inventory, merged))
    });
    let (inventory, merged) = match loaded {
        Ok(i) => i,
        Err(e) => return fail(e, Some("check the inventory (-i)"), EXIT_ERROR),
    };
    if sources.is_empty() {
        eprintln!("[WARNING]: No inventory was parsed, only implicit localhost is available");
    }
    for w in inventory.warnings() {
        eprintln!("[WARNING]: {w}");
    }
    let limit = match args.limit.as_deref().map(Limit::parse).transpose() {
        Ok(l) => l,
        Err(e) => return fail(e.to_string(), None, EXIT_BAD_OPTIONS),
    };
    let available = match inventory.select_limited("all", limit.as_ref()) {
        Ok(h) => h,
        Err(e) => return fail(e.to_string(), None, EXIT_ERROR),
    };
    let view = View {
        args,
        inventory,
        merged,
        available,
    };
    let text = if let Some(host) = &args.host {
        let hosts = view.inventory.select(host).unwrap_or_default();
        let [one] = hosts.as_slice() else {
            return fail(
                "You must pass a single valid host to --host parameter",
                None,
                EXIT_BAD_OPTIONS,
            );
        };
        dump(&Value::Object(view.host_vars(one)), args.yaml)
    } else if args.graph {
        let start = args.group.clone().unwrap_or_else(|| "all".into());
        if view.inventory.group(&start).is_none() {
            return fail(
                "Pattern must be valid group name when using --graph",
                None,
                EXIT_BAD_OPTIONS,
            );
        }
        let mut lines = Vec::new();
        view.graph(&start, 0, &mut lines);
        Ok(lines.join("\n"))
    } else if args.yaml {
        dump(&view.yaml_list(), true)
    } else {
        dump(&view.json_list(), false)
    };
    let text = match text {
        Ok(t) => t,
        Err(e) => return fail(e, None, EXIT_ERROR),
    };
    match &args.output {
        // ansible's display ends the text with one newline.
        None => println!("{}", text.trim_end_matches('\n')),
        Some(path) => {
            if let Err(e) = std::fs::write(path, text.as_bytes()) {
                return fail(
                    format!(
                        "Unable to write to destination file {}: {e}",
                        path.display()
                    ),
                    None,
                    EXIT_ERROR,
                );
            }
        }
    }
    ExitCode::SUCCESS
}

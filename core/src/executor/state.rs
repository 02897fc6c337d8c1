//! Per-host state kept for the whole run, and building the variables a task sees.

use indexmap::{IndexMap, IndexSet};

use crate::events::HostStats;
use crate::playbook::RoleRef;
use crate::vars::{merge_into, Map, Value, Vars};

/// What the run remembers about one host across plays.
#[derive(Debug, Default, Clone)]
pub struct HostState {
    /// Inventory variables (groups merged, host last).
    pub inventory_vars: Vars,
    /// `group_names`.
    pub group_names: Vec<String>,
    /// Gathered facts, keys with their `ansible_` prefix.
    pub facts: Vars,
    /// `set_fact` and `register` results.
    pub host_vars: Vars,
    /// Handlers (names or `listen` topics) notified and not yet run.
    pub notified: IndexSet<String>,
    /// Handlers (by position in the play's handler list) notified after the last flush had
    /// passed them: they run at the next flush, as in ansible-core.
    pub pending_handlers: std::collections::BTreeSet<usize>,
    /// Counters for the recap.
    pub stats: HostStats,
    /// Failed in this run (excluded from later tasks and plays).
    pub failed: bool,
    /// Unreachable in this run.
    pub unreachable: bool,
    /// `meta: end_host` or `end_play` reached in the current play.
    pub ended: bool,
    /// The role instance this host ended with `meta: end_role`: its remaining tasks are skipped
    /// until the host reaches a task outside it (see `Executor::hosts_past_end_role`).
    pub ended_role: Option<std::sync::Arc<RoleRef>>,
    /// The last failed task (`ansible_failed_task`) and its result (`ansible_failed_result`).
    pub last_failure: Option<(Value, Value)>,
    /// Variables set while a `rescue` section runs.
    pub rescue_vars: Vars,
    /// Failed, but running a handler because of `force_handlers`.
    pub forced_handler: bool,
    /// Defaults of roles included with `include_role: {public: true}` in the current play.
    pub public_role_defaults: Vars,
    /// `vars/` of roles included with `include_role: {public: true}` in the current play.
    pub public_role_vars: Vars,
    /// Names of `host_vars` last set under `no_log` (left out of `--summary`).
    pub secret_vars: std::collections::BTreeSet<String>,
}

impl HostState {
    /// True if the host still takes part in the play.
    pub fn active(&self) -> bool {
        !self.failed && !self.unreachable && !self.ended
    }
}

/// Play-level values every task of the play sees.
#[derive(Debug, Clone, Default)]
pub struct PlayVars {
    /// `vars` of the play.
    pub vars: Vars,
    /// Variables from the play's `vars_files`, in order.
    pub vars_files: Vars,
    /// Hosts the play targets (`ansible_play_hosts_all`).
    pub hosts_all: Vec<String>,
    /// `groups` magic variable.
    pub groups: Map<String, Value>,
    /// `playbook_dir`.
    pub playbook_dir: String,
    /// `inventory_dir`, when the inventory is a file.
    pub inventory_dir: Option<String>,
    /// Defaults of the play's public roles.
    pub role_defaults: Vars,
    /// `vars/` of the play's public roles.
    pub role_vars: Vars,
    /// Answers to `vars_prompt`.
    pub prompted: Vars,
}

/// Inputs to [`task_vars`] besides the host itself.
pub struct VarsInput<'a> {
    /// Play values.
    pub play: &'a PlayVars,
    /// Block and task `vars`, merged.
    pub task_vars: &'a Vars,
    /// `--extra-vars`.
    pub extra_vars: &'a Vars,
    /// Hosts still active in the play (`ansible_play_hosts`).
    pub play_hosts: &'a [String],
    /// Active hosts of the current `serial` batch (`ansible_play_batch`).
    pub play_batch: &'a [String],
    /// `ansible_check_mode`.
    pub check_mode: bool,
    /// `ansible_diff_mode`.
    pub diff_mode: bool,
    /// `ansible_verbosity`.
    pub verbosity: u8,
    /// `hostvars`, when the content uses it.
    pub hostvars: Option<&'a Map<String, Value>>,
    /// The role the task belongs to.
    pub role: Option<&'a RoleRef>,
}

/// The variables a task sees on `host`, lowest precedence first (see `docs/VARIABLES.md`):
/// role defaults (the play's public roles, roles included with `public: true`, then the task's
/// own role) < inventory (groups, then
/// host) < facts < play `vars` < `vars_prompt` < `vars_files` < role `vars/` (public roles, then
/// the task's own) < block/task `vars` (and role parameters, include parameters) <
/// `include_vars`/`set_fact`/`register` < `--extra-vars`; magic variables (`inventory_hostname`,
/// `groups`, `role_path`, …) cannot be overridden.
pub fn task_vars(host: &str, state: &HostState, input: &VarsInput<'_>) -> Vars {
    let mut vars = input.play.role_defaults.clone();
    merge_into(&mut vars, &state.public_role_defaults);
    if let Some(r) = input.role {
        merge_into(&mut vars, &r.defaults);
    }
    merge_into(&mut vars, &state.inventory_vars);
    merge_into(&mut vars, &state.facts);
    vars.insert(
        "ansible_facts".into(),
        Value::Object(facts_without_prefix(&state.facts)),
    );
    merge_into(&mut vars, &input.play.vars);
    merge_into(&mut vars, &input.play.prompted);
    merge_into(&mut vars, &input.play.vars_files);
    merge_into(&mut vars, &input.play.role_vars);
    merge_into(&mut vars, &state.public_role_vars);
    if let Some(r) = input.role {
        merge_into(&mut vars, &r.vars);
    }
    merge_into(&mut vars, input.task_vars);
    merge_into(&mut vars, &state.host_vars);
    merge_into(&mut vars, input.extra_vars);
    let strs = |v: &[String]| Value::Array(v.iter().cloned().map(Value::String).collect());
    let magic: [(&str, Value); 12] = [
        ("inventory_hostname", Value::String(host.to_string())),
        (
            "inventory_hostname_short",
            Value::String(host.split('.').next().unwrap_or(host).to_string()),
        ),
        ("group_names", strs(&state.group_names)),
        ("groups", Value::Object(input.play.groups.clone())),
        (
            "playbook_dir",
            Value::String(input.play.playbook_dir.clone()),
        ),
        ("ansible_check_mode", Value::Bool(input.check_mode)),
        ("ansible_diff_mode", Value::Bool(input.diff_mode)),
        ("ansible_play_hosts", strs(input.play_hosts)),
        ("ansible_play_batch", strs(input.play_batch)),
        ("ansible_play_hosts_all", strs(&input.play.hosts_all)),
        ("ansible_verbosity", Value::from(input.verbosity)),
        (
            "ansible_version",
            serde_json::json!({"full": "2.17.0", "major": 2, "minor": 17, "revision": 0, "string": "2.17.0"}),
        ),
    ];
    for (k, v) in magic {
        vars.insert(k.to_string(), v);
    }
    vars.insert("play_hosts".into(), strs(input.play_hosts));
    if let Some(dir) = &input.play.inventory_dir {
        vars.insert("inventory_dir".into(), Value::String(dir.clone()));
    }
    if let Some(r) = input.role {
        let path = Value::String(r.path.display().to_string());
        vars.insert("role_path".into(), path);
        vars.insert("role_name".into(), Value::String(r.name.clone()));
        vars.insert("ansible_role_name".into(), Value::String(r.name.clone()));
    }
    if let Some(hv) = input.hostvars {
        vars.insert("hostvars".into(), Value::Object(hv.clone()));
    }
    vars
}

/// Facts as `ansible_facts` shows them: without the `ansible_` prefix.
pub fn facts_without_prefix(facts: &Vars) -> Vars {
    facts
        .iter()
        .map(|(k, v)| {
            (
                // `ansible_local` keeps its name inside `ansible_facts`, as in Ansible.
                if k == "ansible_local" {
                    k.clone()
                } else {
                    k.strip_prefix("ansible_").unwrap_or(k).to_string()
                },
                v.clone(),
            )
        })
        .collect()
}

/// The variables of every host as `hostvars` exposes them (inventory, facts, set_fact/register).
pub fn hostvars(states: &IndexMap<String, HostState>, extra_vars: &Vars) -> Map<String, Value> {
    states
        .iter()
        .map(|(name, s)| {
            let mut v = s.inventory_vars.clone();
            merge_into(&mut v, &s.facts);
            v.insert(
                "ansible_facts".into(),
                Value::Object(facts_without_prefix(&s.facts)),
            );
            merge_into(&mut v, &s.host_vars);
            merge_into(&mut v, extra_vars);
            v.insert("inventory_hostname".into(), Value::String(name.clone()));
            v.insert(
                "group_names".into(),
                Value::Array(s.group_names.iter().cloned().map(Value::String).collect()),
            );
            (name.clone(), Value::Object(v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn precedence_order() {
        let mut state = HostState::default();
        state.inventory_vars.insert("a".into(), json!("inventory"));
        state.inventory_vars.insert("b".into(), json!("inventory"));
        state
            .facts
            .insert("ansible_os_family".into(), json!("Debian"));
        state.host_vars.insert("c".into(), json!("registered"));
        let mut play = PlayVars::default();
        play.vars.insert("b".into(), json!("play"));
        play.vars.insert("c".into(), json!("play"));
        play.vars
            .insert("inventory_hostname".into(), json!("spoofed"));
        let mut extra = Vars::new();
        extra.insert("d".into(), json!("extra"));
        let task = Vars::new();
        let v = task_vars(
            "web1.example.com",
            &state,
            &VarsInput {
                play: &play,
                task_vars: &task,
                extra_vars: &extra,
                play_hosts: &[],
                play_batch: &[],
                check_mode: false,
                diff_mode: false,
                verbosity: 0,
                hostvars: None,
                role: None,
            },
        );
        assert_eq!(v["a"], json!("inventory"));
        assert_eq!(v["b"], json!("play"));
        assert_eq!(v["c"], json!("registered"));
        assert_eq!(v["d"], json!("extra"));
        assert_eq!(v["inventory_hostname"], json!("web1.example.com"));
        assert_eq!(v["inventory_hostname_short"], json!("web1"));
        assert_eq!(v["ansible_facts"]["os_family"], json!("Debian"));
        assert_eq!(v["ansible_os_family"], json!("Debian"));
    }
}

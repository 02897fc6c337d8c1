//! The playbook model: plays, task lists and tasks, as loaded from YAML.

use std::path::PathBuf;

use crate::vars::{Value, Vars};
use crate::yaml::Location;

/// A loaded playbook.
#[derive(Debug, Clone)]
pub struct Playbook {
    /// The playbook file.
    pub path: PathBuf,
    /// Its directory (`playbook_dir`; base for `files/`, `templates/`, `group_vars/`).
    pub dir: PathBuf,
    /// Plays in order.
    pub plays: Vec<Play>,
}

/// Settings that plays, blocks and tasks share and inherit downwards.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Keywords {
    /// `become`.
    pub become_: Option<Value>,
    /// `become_user`.
    pub become_user: Option<String>,
    /// `become_method`.
    pub become_method: Option<String>,
    /// `become_flags`.
    pub become_flags: Option<String>,
    /// `remote_user`.
    pub remote_user: Option<String>,
    /// `connection`.
    pub connection: Option<String>,
    /// `check_mode`.
    pub check_mode: Option<Value>,
    /// `diff`.
    pub diff: Option<Value>,
    /// `ignore_errors`.
    pub ignore_errors: Option<Value>,
    /// `ignore_unreachable`.
    pub ignore_unreachable: Option<Value>,
    /// `no_log`.
    pub no_log: Option<Value>,
    /// `environment` (a map, or a template evaluating to one).
    pub environment: Option<Value>,
    /// `tags`.
    pub tags: Vec<String>,
    /// `vars`.
    pub vars: Vars,
}

impl Keywords {
    /// These keywords with unset ones taken from `parent`; tags and vars accumulate.
    pub fn inherit(&self, parent: &Keywords) -> Keywords {
        let pick = |a: &Option<Value>, b: &Option<Value>| a.clone().or_else(|| b.clone());
        let picks = |a: &Option<String>, b: &Option<String>| a.clone().or_else(|| b.clone());
        let mut tags = parent.tags.clone();
        tags.extend(self.tags.iter().cloned());
        let mut vars = parent.vars.clone();
        crate::vars::merge_into(&mut vars, &self.vars);
        Keywords {
            become_: pick(&self.become_, &parent.become_),
            become_user: picks(&self.become_user, &parent.become_user),
            become_method: picks(&self.become_method, &parent.become_method),
            become_flags: picks(&self.become_flags, &parent.become_flags),
            remote_user: picks(&self.remote_user, &parent.remote_user),
            connection: picks(&self.connection, &parent.connection),
            check_mode: pick(&self.check_mode, &parent.check_mode),
            diff: pick(&self.diff, &parent.diff),
            ignore_errors: pick(&self.ignore_errors, &parent.ignore_errors),
            ignore_unreachable: pick(&self.ignore_unreachable, &parent.ignore_unreachable),
            no_log: pick(&self.no_log, &parent.no_log),
            environment: pick(&self.environment, &parent.environment),
            tags,
            vars,
        }
    }
}

/// One play.
#[derive(Debug, Clone)]
pub struct Play {
    /// `name` (defaults to the host pattern, as in Ansible).
    pub name: String,
    /// `hosts` pattern.
    pub hosts: String,
    /// Where the play starts.
    pub location: Location,
    /// `gather_facts` (default true).
    pub gather_facts: bool,
    /// `vars_files`, unrendered.
    pub vars_files: Vec<String>,
    /// `pre_tasks`.
    pub pre_tasks: Vec<Task>,
    /// `tasks`.
    pub tasks: Vec<Task>,
    /// `post_tasks`.
    pub post_tasks: Vec<Task>,
    /// `handlers`.
    pub handlers: Vec<Task>,
    /// `force_handlers`.
    pub force_handlers: bool,
    /// `any_errors_fatal`.
    pub any_errors_fatal: bool,
    /// Play-level keywords (inherited by every task).
    pub keywords: Keywords,
}

/// What a task does.
#[derive(Debug, Clone)]
pub enum TaskKind {
    /// Runs a module.
    Module {
        /// Module name as written (`copy`, `ansible.builtin.copy`).
        module: String,
        /// Arguments (unrendered).
        args: Value,
    },
    /// `block` with optional `rescue` and `always` sections.
    Block {
        /// The main tasks.
        block: Vec<Task>,
        /// Run when a task in `block` fails.
        rescue: Vec<Task>,
        /// Always run afterwards.
        always: Vec<Task>,
    },
    /// `meta: ACTION`.
    Meta(String),
}

/// One task (or block, or handler).
#[derive(Debug, Clone)]
pub struct Task {
    /// `name`, if given.
    pub name: Option<String>,
    /// Where the task starts.
    pub location: Location,
    /// What it does.
    pub kind: TaskKind,
    /// `when` conditions (all must hold).
    pub when: Vec<Value>,
    /// `register`.
    pub register: Option<String>,
    /// `loop` / `with_items` / `with_list` value.
    pub loop_: Option<Value>,
    /// `loop_control.loop_var` (default `item`).
    pub loop_var: String,
    /// `loop_control.label`.
    pub loop_label: Option<String>,
    /// `loop_control.index_var`.
    pub index_var: Option<String>,
    /// `notify` handler names.
    pub notify: Vec<String>,
    /// `listen` topics (handlers only).
    pub listen: Vec<String>,
    /// `changed_when` conditions.
    pub changed_when: Option<Vec<Value>>,
    /// `failed_when` conditions.
    pub failed_when: Option<Vec<Value>>,
    /// `delegate_to`.
    pub delegate_to: Option<String>,
    /// `delegate_facts`: facts a delegated task gathers go to the delegated host.
    pub delegate_facts: bool,
    /// `run_once`.
    pub run_once: bool,
    /// `until` condition for retries.
    pub until: Option<Value>,
    /// `retries` (default 3 when `until` is set).
    pub retries: Option<Value>,
    /// `delay` seconds between retries (default 5).
    pub delay: Option<Value>,
    /// Keywords set on this task (not yet merged with its parents).
    pub keywords: Keywords,
}

impl Task {
    /// The name shown in output: the `name`, or the module name (`meta`, `block`) as Ansible does.
    pub fn display_name(&self) -> String {
        if let Some(n) = &self.name {
            return n.clone();
        }
        match &self.kind {
            TaskKind::Module { module, .. } => module.clone(),
            TaskKind::Block { .. } => "block".into(),
            TaskKind::Meta(_) => "meta".into(),
        }
    }
}

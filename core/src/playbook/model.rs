//! The playbook model: plays, task lists and tasks, as loaded from YAML.

use std::path::PathBuf;
use std::sync::Arc;

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
    /// Extra directories searched for roles (`roles_path`).
    pub roles_path: Vec<PathBuf>,
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
    /// `timeout`: seconds the task's action may run on a host (per loop item) before it fails.
    pub timeout: Option<Value>,
    /// `tags`.
    pub tags: Vec<String>,
    /// `vars`.
    pub vars: Vars,
    /// `module_defaults` layers, outermost first (each maps a module name to default arguments).
    pub module_defaults: Vec<Vars>,
    /// Conditions inherited from enclosing blocks, imports and roles (ANDed before the task's own).
    pub when: Vec<Value>,
}

impl Keywords {
    /// Default arguments `module_defaults` gives the module `module` (inner layers win).
    pub fn defaults_for(&self, module: &str) -> Option<Vars> {
        let short = |n: &str| {
            n.strip_prefix("ansible.builtin.")
                .or_else(|| n.strip_prefix("ansible.legacy."))
                .unwrap_or(n)
                .to_string()
        };
        let wanted = short(module);
        let mut out: Option<Vars> = None;
        for layer in &self.module_defaults {
            for (name, defaults) in layer {
                if short(name) == wanted {
                    if let Value::Object(d) = defaults {
                        crate::vars::merge_into(out.get_or_insert_with(Vars::new), d);
                    }
                }
            }
        }
        out
    }

    /// These keywords with unset ones taken from `parent`; tags and vars accumulate.
    pub fn inherit(&self, parent: &Keywords) -> Keywords {
        let pick = |a: &Option<Value>, b: &Option<Value>| a.clone().or_else(|| b.clone());
        let picks = |a: &Option<String>, b: &Option<String>| a.clone().or_else(|| b.clone());
        let mut tags = parent.tags.clone();
        tags.extend(self.tags.iter().cloned());
        let mut vars = parent.vars.clone();
        crate::vars::merge_into(&mut vars, &self.vars);
        let mut module_defaults = parent.module_defaults.clone();
        module_defaults.extend(self.module_defaults.iter().cloned());
        let mut when = parent.when.clone();
        when.extend(self.when.iter().cloned());
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
            timeout: pick(&self.timeout, &parent.timeout),
            tags,
            vars,
            module_defaults,
            when,
        }
    }
}

/// One play.
#[derive(Debug, Clone)]
pub struct Play {
    /// `name`, untemplated (defaults to the `hosts` entries joined with `,`, as in Ansible).
    pub name: String,
    /// `hosts` pattern (the entries of a list joined with `:`).
    pub hosts: String,
    /// `hosts` as written: one entry per list item (a string is one entry), untemplated.
    pub hosts_list: Vec<String>,
    /// Where the play starts.
    pub location: Location,
    /// `gather_facts` (default true).
    pub gather_facts: bool,
    /// `vars_files`, unrendered: each entry lists alternatives (one name, or a list of which
    /// the first existing file is loaded).
    pub vars_files: Vec<Vec<String>>,
    /// Where each `vars_files` entry is written (same order as `vars_files`).
    pub vars_files_at: Vec<Location>,
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
    /// `run_once`: every task of the play runs on its first host only (results and facts are
    /// given to every host), as in ansible-core.
    pub run_once: bool,
    /// `roles:` entries, resolved into blocks (run before `tasks`).
    pub roles: Vec<Task>,
    /// `vars_prompt` entries.
    pub vars_prompt: Vec<VarsPrompt>,
    /// `serial` (unrendered: a number, a percentage, or a list of them).
    pub serial: Option<Value>,
    /// `strategy` (`linear` or `free`).
    pub strategy: Option<String>,
    /// `max_fail_percentage`.
    pub max_fail_percentage: Option<Value>,
    /// Defaults of the play's public roles (lowest precedence).
    pub role_defaults: Vars,
    /// `vars/` of the play's public roles.
    pub role_vars: Vars,
    /// Play-level keywords (inherited by every task).
    pub keywords: Keywords,
    /// `gather_subset`, `gather_timeout` and `fact_path` as given: the arguments of the implicit
    /// fact-gathering task.
    pub gather_args: serde_json::Map<String, serde_json::Value>,
}

/// One `vars_prompt` entry.
#[derive(Debug, Clone)]
pub struct VarsPrompt {
    /// Variable name.
    pub name: String,
    /// Prompt text.
    pub prompt: String,
    /// Default value (used when no terminal is available).
    pub default: Option<Value>,
    /// Where the entry is.
    pub location: Location,
}

/// A role as it applies to the tasks loaded from it.
#[derive(Debug, Clone, Default)]
pub struct RoleRef {
    /// The role's name as written (`common`, `geerlingguy.nginx`).
    pub name: String,
    /// The role's directory (`role_path`).
    pub path: PathBuf,
    /// `defaults/` variables.
    pub defaults: Vars,
    /// `vars/` variables.
    pub vars: Vars,
}

/// A role reference in `roles:`, `import_role`, `include_role` or `meta/main.yml` dependencies.
#[derive(Debug, Clone, Default)]
pub struct RoleSpec {
    /// Role name or path.
    pub name: String,
    /// `tasks_from` (default `main`).
    pub tasks_from: Option<String>,
    /// `vars_from`.
    pub vars_from: Option<String>,
    /// `defaults_from`.
    pub defaults_from: Option<String>,
    /// `handlers_from`.
    pub handlers_from: Option<String>,
    /// `public`: expose the role's vars and defaults to the rest of the play.
    pub public: Option<bool>,
    /// `allow_duplicates` given by the caller.
    pub allow_duplicates: Option<bool>,
    /// `rolespec_validate` of `import_role`/`include_role` (false: no argument-spec validation).
    pub rolespec_validate: Option<bool>,
    /// Role parameters (`vars:` of the entry and any other keys).
    pub params: Vars,
    /// The entry's `tags` and `when`: as in ansible-core, entries that differ in them are
    /// different role instances (a role listed with tags and again as an untagged dependency
    /// runs twice).
    pub identity: String,
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
    /// `import_tasks` (only before resolution; resolved into a `Block`).
    ImportTasks {
        /// File name as written.
        file: String,
    },
    /// `import_role` (only before resolution; resolved into a `Block`).
    ImportRole(RoleSpec),
    /// `include_tasks` / legacy `include` (run time).
    IncludeTasks {
        /// File name (a template).
        file: String,
        /// `apply` keywords given to the included tasks.
        apply: Box<Keywords>,
    },
    /// `include_role` (run time).
    IncludeRole {
        /// Which role and which files.
        spec: RoleSpec,
        /// `apply` keywords given to the role's tasks.
        apply: Box<Keywords>,
    },
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
    /// The action as written (`debug`, `ansible.builtin.include_tasks`, `meta`): how
    /// `--list-tasks` shows an unnamed task. Empty for blocks and tasks drover makes itself.
    pub action: String,
    /// Where the module name is written, and where each of its argument keys is (for errors).
    pub module_location: Option<Location>,
    /// Positions of the module's argument keys, in order.
    pub arg_locations: Vec<(String, Location)>,
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
    /// `with_<lookup>` used instead of `loop` (the lookup's name).
    pub loop_with: Option<String>,
    /// `loop_control.extended`.
    pub loop_extended: bool,
    /// `loop_control.pause` seconds.
    pub loop_pause: Option<Value>,
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
    /// `async`: seconds the action may run in the background on the host (see
    /// `executor/async_job.rs`); unset or 0 runs it in the foreground.
    pub async_: Option<Value>,
    /// `poll`: seconds between status checks of an `async` action (default 15); 0 returns at
    /// once (fire and forget, `async_status` reads the job later).
    pub poll: Option<Value>,
    /// `throttle`.
    pub throttle: Option<Value>,
    /// `any_errors_fatal`.
    pub any_errors_fatal: Option<bool>,
    /// The role this task comes from.
    pub role: Option<Arc<RoleRef>>,
    /// Keywords set on this task (not yet merged with its parents).
    pub keywords: Keywords,
}

impl Task {
    /// A task at `location` doing `kind`, with every keyword unset.
    pub fn new(location: Location, kind: TaskKind) -> Self {
        Task {
            name: None,
            location,
            kind,
            action: String::new(),
            module_location: None,
            arg_locations: Vec::new(),
            when: Vec::new(),
            register: None,
            loop_: None,
            loop_var: "item".into(),
            loop_label: None,
            index_var: None,
            loop_extended: false,
            loop_pause: None,
            loop_with: None,
            notify: Vec::new(),
            listen: Vec::new(),
            changed_when: None,
            failed_when: None,
            delegate_to: None,
            run_once: false,
            until: None,
            retries: None,
            delay: None,
            async_: None,
            poll: None,
            delegate_facts: false,
            throttle: None,
            any_errors_fatal: None,
            role: None,
            keywords: Keywords::default(),
        }
    }

    /// The name shown in output (without the role prefix): the `name`, or the module name (`meta`, `block`) as Ansible does.
    pub fn display_name(&self) -> String {
        match (&self.name, &self.kind) {
            (Some(n), _) => n.clone(),
            (None, TaskKind::Module { module, .. }) => module.clone(),
            (None, TaskKind::Block { .. }) => "block".into(),
            (None, TaskKind::Meta(_)) => "meta".into(),
            (None, TaskKind::ImportTasks { .. }) => "import_tasks".into(),
            (None, TaskKind::ImportRole(_)) => "import_role".into(),
            // The action as written: `ansible.builtin.include_tasks`, `include`.
            (None, TaskKind::IncludeTasks { .. }) => self.action_or("include_tasks").into(),
            (None, TaskKind::IncludeRole { spec, .. }) => {
                format!("{} : {}", self.action_or("include_role"), spec.name)
            }
        }
    }

    /// The action as written, or `default` for tasks drover made itself.
    fn action_or<'a>(&'a self, default: &'a str) -> &'a str {
        if self.action.is_empty() {
            default
        } else {
            &self.action
        }
    }

    /// Gives the tasks of this block (or static import, which resolves to one) its `delegate_to`
    /// unless they set their own, as ansible-core's tasks inherit it from their parent.
    pub fn pass_delegate_to_children(&mut self) {
        let Some(delegate_to) = self.delegate_to.clone() else {
            return;
        };
        if let TaskKind::Block {
            block,
            rescue,
            always,
        } = &mut self.kind
        {
            for t in block.iter_mut().chain(rescue).chain(always) {
                if t.delegate_to.is_none() {
                    t.delegate_to = Some(delegate_to.clone());
                    t.pass_delegate_to_children();
                }
            }
        }
    }

    /// `name` as Ansible shows it: prefixed with `role : ` for role tasks.
    pub fn with_role_prefix(&self, name: String) -> String {
        match &self.role {
            Some(r) => format!("{} : {name}", r.name),
            None => name,
        }
    }
}

//! Static check for undefined variables: a bare variable that a task's arguments, `when` or
//! loop read and that no source defines (inventory, play, roles, `-e`, `register`, `set_fact`,
//! `include_vars`, loop variables, magic variables, facts) is reported before any connection.
//!
//! The check is conservative: it only reports what certainly fails when the task runs. Tasks
//! that may not run (under a `when`, in a block with `rescue`, with `ignore_errors`) and
//! templates that guard a name (`default`, `is defined`, …) are not checked, and a playbook with
//! variable sources that cannot be listed before the run (templated `include_vars`, `set_fact`
//! keys or include names, fact-returning modules, `set_stats`) is not checked at all.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use super::check_files::search_paths;
use super::error::PlaybookError;
use super::model::{Play, Playbook, Task, TaskKind};
use super::resolve::{load_vars_path, FileCtx, PlayRoles, Resolver};
use crate::inventory::Inventory;
use crate::module::{strsim_distance, ControllerFile, DefinedVars, ModuleRegistry};
use crate::template::Templar;
use crate::vars::{as_unsafe_text, Value, Vars};
use crate::yaml::Location;

/// Variables Ansible defines itself (magic variables and template globals).
const MAGIC_VARIABLES: &[&str] = &[
    "hostvars",
    "groups",
    "group_names",
    "inventory_hostname",
    "inventory_hostname_short",
    "play_hosts",
    "playbook_dir",
    "role_path",
    "role_name",
    "role_names",
    "role_uuid",
    "inventory_dir",
    "inventory_file",
    "omit",
    "environment",
    "vars",
    "item",
    "lookup",
    "query",
    "q",
    "now",
    "undef",
    "True",
    "False",
    "None",
    "true",
    "false",
    "none",
    "module_setup",
    "gather_subset",
    "discovered_interpreter_python",
    // Jinja2's own globals and macro variables.
    "range",
    "dict",
    "lipsum",
    "cycler",
    "joiner",
    "namespace",
    "caller",
    "varargs",
    "kwargs",
];

/// Prefixes of fact names (`ansible_*`, and facts `setup` imports from facter and ohai).
const FACT_PREFIXES: &[&str] = &["ansible_", "facter_", "ohai_"];

/// Words that show a template guards against undefined names; such templates are not checked.
const GUARD_WORDS: &[&str] = &[
    "default",
    "d(",
    "|d",
    "| d",
    "defined",
    "undefined",
    "mandatory",
    " in vars",
    " in hostvars",
];

/// Arguments whose value is a variable name or a conditional, not a template.
const NOT_TEMPLATED_ARGS: &[(&str, &str)] = &[("debug", "var"), ("assert", "that")];

/// Names of variables defined outside the playbook: every host's and group's inventory
/// variables, `-e` extra vars, and the top-level keys of every file under `group_vars/` and
/// `host_vars/` in `vars_dirs` (whether or not a host of the inventory matches them). `None`
/// when one of those files cannot be read (the check is then skipped).
pub fn external_variable_names(
    inventory: &Inventory,
    extra_vars: &Vars,
    vars_dirs: &[PathBuf],
) -> Option<BTreeSet<String>> {
    let mut names: BTreeSet<String> = extra_vars.keys().cloned().collect();
    for host in inventory.hosts() {
        names.extend(inventory.host_vars(&host.name).keys().cloned());
    }
    for group in inventory.groups() {
        names.extend(inventory.group_vars(&group.name).keys().cloned());
    }
    for dir in vars_dirs {
        for sub in ["group_vars", "host_vars"] {
            let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') || name.ends_with('~') {
                    continue;
                }
                names.extend(load_vars_path(&path).ok()?.keys().cloned());
            }
        }
    }
    Some(names)
}

/// Errors for variables the playbook's tasks read that are defined nowhere. `external` holds
/// the names defined outside the playbook (see [`external_variable_names`]).
pub fn check_variables(
    playbook: &Playbook,
    registry: &ModuleRegistry,
    external: &BTreeSet<String>,
) -> Vec<PlaybookError> {
    let mut walk = Walk {
        registry,
        resolver: Resolver::for_playbook(playbook),
        templar: Templar::new(),
        playbook_dir: playbook.dir.clone(),
        defined: external.clone(),
        uses: Vec::new(),
        dynamic: false,
        seen_files: HashSet::new(),
    };
    for play in &playbook.plays {
        let before = walk.uses.len();
        let play_known = walk.define_play(play, &playbook.dir);
        for list in [&play.roles, &play.pre_tasks, &play.tasks, &play.post_tasks] {
            walk.walk(list, false);
        }
        // Handlers run only when notified.
        walk.walk(&play.handlers, true);
        if !play_known {
            walk.uses.truncate(before);
        }
    }
    if walk.dynamic {
        return Vec::new();
    }
    let mut reported = HashSet::new();
    let mut errors = Vec::new();
    for u in &walk.uses {
        if walk.is_defined(&u.name) || !reported.insert((u.name.clone(), u.location.to_string())) {
            continue;
        }
        let mut hint = format!(
            "define it in vars, group_vars or host_vars, pass -e {}=..., or guard it with | default(...)",
            u.name
        );
        if let Some(s) = suggest(&u.name, &walk.defined) {
            hint = format!("did you mean '{s}'? {hint}");
        }
        errors.push(
            PlaybookError::new(&u.location, format!("'{}' is not defined anywhere", u.name))
                .with_hint(hint),
        );
    }
    errors
}

/// The closest defined name to `name`, if close enough to be a likely typo.
fn suggest<'a>(name: &str, defined: &'a BTreeSet<String>) -> Option<&'a str> {
    defined
        .iter()
        .map(|n| (strsim_distance(name, n), n))
        .filter(|(d, n)| *d <= (n.len().max(3) / 4).clamp(1, 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n.as_str())
}

/// A variable read by a task.
struct Use {
    name: String,
    location: Location,
}

struct Walk<'a> {
    registry: &'a ModuleRegistry,
    resolver: Resolver<'a>,
    templar: Templar,
    playbook_dir: PathBuf,
    /// Every name defined anywhere (playbook-wide; conservative).
    defined: BTreeSet<String>,
    uses: Vec<Use>,
    /// A variable source that cannot be listed statically: nothing is reported.
    dynamic: bool,
    seen_files: HashSet<PathBuf>,
}

impl Walk<'_> {
    fn is_defined(&self, name: &str) -> bool {
        FACT_PREFIXES.iter().any(|p| name.starts_with(p))
            || MAGIC_VARIABLES.contains(&name)
            || self.defined.contains(name)
    }

    fn define_keys(&mut self, vars: &Vars) {
        self.defined.extend(vars.keys().cloned());
    }

    /// Defines the play's own variables; false if some cannot be known (templated or
    /// unreadable `vars_files`), in which case the play's uses are not checked.
    fn define_play(&mut self, play: &Play, dir: &Path) -> bool {
        self.define_keys(&play.keywords.vars);
        self.define_keys(&play.role_defaults);
        self.define_keys(&play.role_vars);
        self.defined
            .extend(play.vars_prompt.iter().map(|p| p.name.clone()));
        let mut known = true;
        for alts in &play.vars_files {
            if alts.iter().any(|name| Templar::is_template(name)) {
                known = false;
                continue;
            }
            let found = super::vars_files::first_existing(dir, alts);
            match found.map(|path| load_vars_path(&path)) {
                Some(Ok(v)) => self.define_keys(&v),
                _ => known = false,
            }
        }
        known
    }

    /// Walks `tasks`; `conditional` is true when they may not run (inherited `when`, a block
    /// with `rescue`, `ignore_errors`).
    fn walk(&mut self, tasks: &[Task], conditional: bool) {
        for task in tasks {
            self.define_task(task);
            let ignores = task
                .keywords
                .ignore_errors
                .as_ref()
                .is_some_and(|v| !matches!(v, Value::Bool(false)));
            let inner =
                conditional || ignores || !task.when.is_empty() || !task.keywords.when.is_empty();
            match &task.kind {
                TaskKind::Block {
                    block,
                    rescue,
                    always,
                } => {
                    let guarded = inner || !rescue.is_empty();
                    self.walk(block, guarded);
                    self.walk(rescue, true);
                    self.walk(always, inner);
                }
                TaskKind::IncludeTasks { file, .. } => self.include_tasks(task, file, inner),
                TaskKind::IncludeRole { spec, .. } => {
                    self.define_keys(&spec.params);
                    if Templar::is_template(&spec.name) {
                        self.dynamic = true;
                        continue;
                    }
                    match self
                        .resolver
                        .expand_include_role_once(task, spec, &mut self.seen_files)
                    {
                        Some(Ok(Some(inc))) => {
                            self.walk(&inc.tasks, inner);
                            self.walk(&inc.handlers, true);
                        }
                        Some(Ok(None)) | None => {}
                        Some(Err(_)) => self.dynamic = true,
                    }
                }
                TaskKind::Meta(action) => {
                    if action == "refresh_inventory" {
                        self.dynamic = true;
                    }
                }
                TaskKind::ImportTasks { .. } | TaskKind::ImportRole(_) => {}
                TaskKind::Module { module, args } => {
                    let short = module.rsplit('.').next().unwrap_or(module).to_string();
                    self.define_from_module(task, module, args);
                    if conditional || ignores {
                        continue;
                    }
                    // The first `when` is evaluated whenever the task is reached.
                    if let Some(Value::String(cond)) = task.when.first() {
                        if !guarded(cond) {
                            if let Some(names) = self.templar.condition_variables(cond) {
                                self.add_uses(names, &task.location);
                            }
                        }
                    }
                    if inner {
                        continue;
                    }
                    let loop_guarded = task
                        .loop_
                        .as_ref()
                        .is_some_and(|l| strings(l).iter().any(|s| guarded(s)));
                    if let Some(l) = &task.loop_ {
                        self.template_uses(l, &task.location);
                    }
                    if loop_guarded {
                        continue;
                    }
                    if let Value::Object(map) = args {
                        for (key, value) in map {
                            if NOT_TEMPLATED_ARGS.contains(&(short.as_str(), key.as_str())) {
                                continue;
                            }
                            let loc = task
                                .arg_locations
                                .iter()
                                .find(|(k, _)| k == key)
                                .map(|(_, l)| l)
                                .or(task.module_location.as_ref())
                                .unwrap_or(&task.location)
                                .clone();
                            self.template_uses(value, &loc);
                        }
                    }
                }
            }
        }
    }

    /// Records the variables templates inside `value` read (unguarded ones only).
    fn template_uses(&mut self, value: &Value, location: &Location) {
        for s in strings(value) {
            if guarded(s) {
                continue;
            }
            if let Some(names) = self.templar.referenced_variables(s) {
                self.add_uses(names, location);
            }
        }
    }

    fn add_uses(&mut self, names: BTreeSet<String>, location: &Location) {
        for name in names {
            self.uses.push(Use {
                name,
                location: location.clone(),
            });
        }
    }

    fn include_tasks(&mut self, task: &Task, file: &str, conditional: bool) {
        if Templar::is_template(file) {
            self.dynamic = true;
            return;
        }
        let ctx = FileCtx {
            dir: Path::new(&*task.location.file)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default(),
            role: task.role.clone(),
        };
        let Some(path) = self.resolver.find_tasks_file(file, &ctx) else {
            self.dynamic = true;
            return;
        };
        if !self.seen_files.insert(path.clone()) {
            return;
        }
        let mut scratch = PlayRoles::default();
        match self
            .resolver
            .load_tasks_file(&path, task.role.clone(), &mut scratch)
        {
            Ok(tasks) => self.walk(&tasks, conditional),
            Err(_) => self.dynamic = true,
        }
    }

    /// Names every task defines whatever its kind: its vars, register, loop variables, role
    /// defaults and vars.
    fn define_task(&mut self, task: &Task) {
        self.define_keys(&task.keywords.vars);
        if let Some(r) = &task.register {
            self.defined.insert(r.clone());
        }
        self.defined.insert(task.loop_var.clone());
        if let Some(i) = &task.index_var {
            self.defined.insert(i.clone());
        }
        if let Some(role) = &task.role {
            let (defaults, vars) = (role.defaults.clone(), role.vars.clone());
            self.define_keys(&defaults);
            self.define_keys(&vars);
        }
    }

    /// Names a module defines on the host, as the module tells ([`Module::defined_vars`]:
    /// `set_fact`, `include_vars`, `getent`, …). Modules drover does not have may define any
    /// names when they gather facts or change the inventory.
    fn define_from_module(&mut self, task: &Task, module: &str, args: &Value) {
        let short = module.rsplit('.').next().unwrap_or(module);
        let defined = match self.registry.get(module) {
            Some(m) => m.defined_vars(args),
            None if UNKNOWN_DEFINERS.contains(&short) || short.ends_with("_facts") => {
                DefinedVars::Dynamic
            }
            None => return,
        };
        match defined {
            DefinedVars::Names(names) => self.defined.extend(names),
            DefinedVars::File(file) => self.define_from_file(task, &file),
            DefinedVars::Dynamic
                if short == "include_vars" && self.define_from_role_vars(task, args) => {}
            DefinedVars::Dynamic => self.dynamic = true,
        }
    }

    /// A role's `include_vars: "{{ ansible_os_family }}.yml"` (or `"{{ item }}"` over
    /// `with_first_found`): a templated file name without a directory loads one of the role's
    /// `vars/` files, so the names of all of them count as defined. False when that cannot be
    /// told (no role, a path, `dir`/`name`, an unreadable file).
    fn define_from_role_vars(&mut self, task: &Task, args: &Value) -> bool {
        let Some(role) = &task.role else { return false };
        if args.get("dir").is_some() || args.get("name").is_some() {
            return false;
        }
        let Some(file) = ["file", "_raw_params"]
            .iter()
            .find_map(|k| args.get(*k).and_then(Value::as_str))
        else {
            return false;
        };
        if file.contains('/') {
            return false;
        }
        let Ok(entries) = std::fs::read_dir(role.path.join("vars")) else {
            return false;
        };
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.extension()
                    .is_some_and(|e| e == "yml" || e == "yaml" || e == "json")
            })
            .collect();
        files.sort();
        let mut loaded = Vec::new();
        for path in &files {
            match load_vars_path(path) {
                Ok(vars) => loaded.push(vars),
                Err(_) => return false,
            }
        }
        if loaded.is_empty() {
            return false;
        }
        for vars in &loaded {
            self.define_keys(vars);
        }
        true
    }

    /// The top-level keys of a variables file a task loads.
    fn define_from_file(&mut self, task: &Task, file: &ControllerFile) {
        let candidates = if Path::new(&file.path).is_absolute() {
            vec![PathBuf::from(&file.path)]
        } else {
            search_paths(task, &self.playbook_dir, file.kind, &file.path)
        };
        match candidates
            .iter()
            .find(|p| p.exists())
            .map(|p| load_vars_path(p))
        {
            Some(Ok(vars)) => self.define_keys(&vars),
            _ => self.dynamic = true,
        }
    }
}

/// Modules drover does not implement that define variables the check cannot list.
const UNKNOWN_DEFINERS: [&str; 2] = ["add_host", "set_stats"];

/// True if a template guards against undefined names somewhere in its text.
fn guarded(text: &str) -> bool {
    GUARD_WORDS.iter().any(|w| text.contains(w))
}

/// Every template string inside `value` (`!unsafe` text excluded).
fn strings(value: &Value) -> Vec<&str> {
    let mut out = Vec::new();
    collect_strings(value, &mut out);
    out
}

fn collect_strings<'v>(value: &'v Value, out: &mut Vec<&'v str>) {
    if as_unsafe_text(value).is_some() {
        return;
    }
    match value {
        Value::String(s) if Templar::is_template(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

#[cfg(test)]
#[path = "check_vars_tests.rs"]
mod tests;

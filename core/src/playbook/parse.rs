//! Turning YAML nodes into the playbook model, with file:line:col errors for anything unknown.

use std::path::{Path, PathBuf};

use super::args::parse_kv;
use super::error::PlaybookError;
use super::model::{Keywords, Play, Playbook, RoleSpec, Task, TaskKind, VarsPrompt};
use super::resolve::{FileCtx, PlayRoles, Resolver};
use crate::module::strsim_distance;
use crate::vars::{Map, Value, Vars};
use crate::yaml::{self, Node, NodeValue};

/// Keywords shared by plays, blocks and tasks (see [`Keywords`]).
const COMMON_KEYWORDS: &[&str] = &[
    "become",
    "become_user",
    "become_method",
    "become_flags",
    "remote_user",
    "user",
    "connection",
    "check_mode",
    "diff",
    "ignore_errors",
    "ignore_unreachable",
    "no_log",
    "environment",
    "tags",
    "vars",
    "name",
    "any_errors_fatal",
    "collections",
    "module_defaults",
    "debugger",
    "throttle",
    "timeout",
];

/// Keywords only plays have.
const PLAY_KEYWORDS: &[&str] = &[
    "hosts",
    "gather_facts",
    "gather_subset",
    "gather_timeout",
    "vars_files",
    "vars_prompt",
    "pre_tasks",
    "tasks",
    "post_tasks",
    "handlers",
    "roles",
    "force_handlers",
    "serial",
    "strategy",
    "max_fail_percentage",
    "order",
    "fact_path",
];

/// Keywords only tasks and blocks have.
const TASK_KEYWORDS: &[&str] = &[
    "when",
    "register",
    "loop",
    "loop_control",
    "with_items",
    "with_list",
    "with_dict",
    "notify",
    "listen",
    "changed_when",
    "failed_when",
    "args",
    "delegate_to",
    "delegate_facts",
    "run_once",
    "until",
    "retries",
    "delay",
    "block",
    "rescue",
    "always",
    "action",
    "local_action",
    "async",
    "poll",
    "throttle",
];

/// Loads a playbook file (following `import_playbook`), with roles searched only next to it.
pub fn load_playbook(path: &Path) -> Result<Playbook, PlaybookError> {
    load_playbook_with(path, &[])
}

/// Loads a playbook file (following `import_playbook`), resolving roles and static imports;
/// `roles_path` is searched for roles after the playbook's `roles/` directory.
pub fn load_playbook_with(path: &Path, roles_path: &[PathBuf]) -> Result<Playbook, PlaybookError> {
    load_playbook_as(path, roles_path, false)
}

/// Loads a playbook as [`load_playbook_with`] does, but for listing it (`--list-tasks`): a role
/// that a run would skip as a duplicate is expanded again, as ansible-playbook lists it.
pub fn load_playbook_for_listing(
    path: &Path,
    roles_path: &[PathBuf],
) -> Result<Playbook, PlaybookError> {
    load_playbook_as(path, roles_path, true)
}

fn load_playbook_as(
    path: &Path,
    roles_path: &[PathBuf],
    for_listing: bool,
) -> Result<Playbook, PlaybookError> {
    let root = yaml::parse_file(path)?;
    let dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let dir = if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    };
    let mut plays = Vec::new();
    let items = match &root.value {
        NodeValue::Seq(items) => items.as_slice(),
        NodeValue::Null => &[],
        _ => {
            return Err(PlaybookError::new(
                &root.loc,
                format!("a playbook must be a list of plays, found {}", root.kind()),
            )
            .with_hint("start each play with '- hosts: ...'"))
        }
    };
    for node in items {
        if let Some(target) = node
            .get("import_playbook")
            .or_else(|| node.get("ansible.builtin.import_playbook"))
        {
            let name = target.as_str().ok_or_else(|| {
                PlaybookError::new(&target.loc, "import_playbook takes a file name")
            })?;
            let mut imported =
                load_playbook_as(&dir.join(name), roles_path, for_listing).map_err(|e| {
                    if e.location.line == 0 {
                        PlaybookError::new(&target.loc, format!("cannot import playbook: {e}"))
                    } else {
                        e
                    }
                })?;
            apply_import_keywords(node, &mut imported.plays)?;
            plays.extend(imported.plays);
            continue;
        }
        let mut play = parse_play(node)?;
        resolve_play(&mut play, &dir, roles_path, for_listing)?;
        plays.push(play);
    }
    Ok(Playbook {
        path: path.to_path_buf(),
        dir,
        plays,
        roles_path: roles_path.to_vec(),
    })
}

/// Gives the plays of an `import_playbook` its `vars` (over the plays' own), `tags` (added to
/// the plays') and `when` (before the conditions of the plays' top-level tasks and blocks), as
/// ansible-core's `PlaybookInclude` does.
fn apply_import_keywords(node: &Node, plays: &mut [Play]) -> Result<(), PlaybookError> {
    let tags = match node.get("tags") {
        Some(t) => string_list(t, "tags", true)?,
        None => Vec::new(),
    };
    let vars = match node.get("vars") {
        Some(v) => vars_map(v)?,
        None => Vars::new(),
    };
    let when = node.get("when").map(conditions).unwrap_or_default();
    for play in plays {
        crate::vars::merge_into(&mut play.keywords.vars, &vars);
        for t in &tags {
            if !play.keywords.tags.contains(t) {
                play.keywords.tags.push(t.clone());
            }
        }
        if when.is_empty() {
            continue;
        }
        for list in [
            &mut play.pre_tasks,
            &mut play.roles,
            &mut play.tasks,
            &mut play.post_tasks,
        ] {
            for task in list.iter_mut() {
                let mut w = when.clone();
                w.append(&mut task.keywords.when);
                task.keywords.when = w;
            }
        }
    }
    Ok(())
}

/// Resolves a play's roles and static imports in place.
fn resolve_play(
    play: &mut Play,
    dir: &Path,
    roles_path: &[PathBuf],
    for_listing: bool,
) -> Result<(), PlaybookError> {
    let mut resolver = Resolver::new(dir, roles_path);
    if for_listing {
        resolver = resolver.for_listing_only();
    }
    let mut collected = PlayRoles::default();
    let ctx = FileCtx {
        dir: dir.to_path_buf(),
        role: None,
    };
    // Roles load first (they run before `tasks`).
    play.roles = resolver.resolve_tasks(std::mem::take(&mut play.roles), &ctx, &mut collected)?;
    for list in [
        &mut play.pre_tasks,
        &mut play.tasks,
        &mut play.post_tasks,
        &mut play.handlers,
    ] {
        *list = resolver.resolve_tasks(std::mem::take(list), &ctx, &mut collected)?;
    }
    // Role handlers come first, as ansible-core compiles them before the play's own.
    let own = std::mem::replace(&mut play.handlers, collected.handlers);
    play.handlers.extend(own);
    play.role_defaults = collected.defaults;
    play.role_vars = collected.vars;
    Ok(())
}

fn unknown_key_error(key: &Node, what: &str, known: &[&[&str]]) -> PlaybookError {
    let name = key.key_string();
    let best = known
        .iter()
        .flat_map(|k| k.iter())
        .map(|k| (strsim_distance(&name, k), *k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d);
    let err = PlaybookError::new(&key.loc, format!("'{name}' is not a valid {what} keyword"));
    match best {
        Some((_, k)) => err.with_hint(format!("did you mean '{k}'?")),
        None => err,
    }
}

fn expect_map<'a>(node: &'a Node, what: &str) -> Result<&'a [(Node, Node)], PlaybookError> {
    node.as_map().ok_or_else(|| {
        PlaybookError::new(
            &node.loc,
            format!("{what} must be a mapping, found {}", node.kind()),
        )
    })
}

pub(super) fn scalar_string(node: &Node, what: &str) -> Result<String, PlaybookError> {
    match &node.value {
        NodeValue::Str(s) => Ok(s.clone()),
        NodeValue::Int(i) => Ok(i.to_string()),
        NodeValue::Float(f) => Ok(f.to_string()),
        NodeValue::Bool(b) => Ok(b.to_string()),
        _ => Err(PlaybookError::new(
            &node.loc,
            format!("{what} must be a string, found {}", node.kind()),
        )),
    }
}

fn string_list(
    node: &Node,
    what: &str,
    comma_separated: bool,
) -> Result<Vec<String>, PlaybookError> {
    match &node.value {
        NodeValue::Null => Ok(Vec::new()),
        NodeValue::Seq(items) => items.iter().map(|n| scalar_string(n, what)).collect(),
        _ => {
            let s = scalar_string(node, what)?;
            Ok(if comma_separated {
                s.split(',')
                    .map(|t| t.trim().to_string())
                    .filter(|t| !t.is_empty())
                    .collect()
            } else {
                vec![s]
            })
        }
    }
}

fn conditions(node: &Node) -> Vec<Value> {
    match &node.value {
        NodeValue::Seq(items) => items.iter().map(Node::to_value).collect(),
        NodeValue::Null => Vec::new(),
        _ => vec![node.to_value()],
    }
}

fn vars_map(node: &Node) -> Result<Vars, PlaybookError> {
    match node.to_value() {
        Value::Object(m) => Ok(m),
        Value::Null => Ok(Map::new()),
        // A list of single-key mappings is accepted by Ansible too.
        Value::Array(items) if items.iter().all(Value::is_object) => {
            let mut m = Map::new();
            for item in items {
                if let Value::Object(o) = item {
                    m.extend(o);
                }
            }
            Ok(m)
        }
        _ => Err(PlaybookError::new(
            &node.loc,
            format!("vars must be a mapping, found {}", node.kind()),
        )),
    }
}

fn bool_value(node: &Node, what: &str) -> Result<bool, PlaybookError> {
    match &node.value {
        NodeValue::Bool(b) => Ok(*b),
        NodeValue::Str(s) => match s.to_ascii_lowercase().as_str() {
            "yes" | "true" | "on" | "y" | "1" => Ok(true),
            "no" | "false" | "off" | "n" | "0" => Ok(false),
            _ => Err(PlaybookError::new(
                &node.loc,
                format!("{what} must be a boolean, found '{s}'"),
            )),
        },
        NodeValue::Int(i) => Ok(*i != 0),
        _ => Err(PlaybookError::new(
            &node.loc,
            format!("{what} must be a boolean, found {}", node.kind()),
        )),
    }
}

/// Reads a common keyword into `kw`; false if `key` is not one.
fn common_keyword(kw: &mut Keywords, key: &str, value: &Node) -> Result<bool, PlaybookError> {
    let opt_string =
        |v: &Node| -> Result<Option<String>, PlaybookError> { Ok(Some(scalar_string(v, key)?)) };
    match key {
        "become" => kw.become_ = Some(value.to_value()),
        "become_user" => kw.become_user = opt_string(value)?,
        "become_method" => kw.become_method = opt_string(value)?,
        "become_flags" => kw.become_flags = opt_string(value)?,
        "remote_user" | "user" => kw.remote_user = opt_string(value)?,
        "connection" => kw.connection = opt_string(value)?,
        "check_mode" => kw.check_mode = Some(value.to_value()),
        "diff" => kw.diff = Some(value.to_value()),
        "ignore_errors" => kw.ignore_errors = Some(value.to_value()),
        "ignore_unreachable" => kw.ignore_unreachable = Some(value.to_value()),
        "no_log" => kw.no_log = Some(value.to_value()),
        "timeout" => kw.timeout = Some(value.to_value()),
        "environment" => kw.environment = Some(value.to_value()),
        "tags" => kw.tags = string_list(value, "tags", true)?,
        "vars" => kw.vars = vars_map(value)?,
        "module_defaults" => {
            kw.module_defaults = match value.to_value() {
                Value::Object(m) => vec![m],
                Value::Array(items) => items
                    .into_iter()
                    .filter_map(|i| match i {
                        Value::Object(m) => Some(m),
                        _ => None,
                    })
                    .collect(),
                Value::Null => Vec::new(),
                _ => {
                    return Err(PlaybookError::new(
                        &value.loc,
                        "module_defaults must map module names to their default arguments",
                    ))
                }
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}

fn parse_play(node: &Node) -> Result<Play, PlaybookError> {
    let entries = expect_map(node, "a play")?;
    let mut play = Play {
        name: String::new(),
        hosts: String::new(),
        hosts_list: Vec::new(),
        location: node.loc.clone(),
        gather_facts: true,
        vars_files: Vec::new(),
        pre_tasks: Vec::new(),
        tasks: Vec::new(),
        post_tasks: Vec::new(),
        handlers: Vec::new(),
        force_handlers: false,
        any_errors_fatal: false,
        run_once: false,
        roles: Vec::new(),
        vars_prompt: Vec::new(),
        serial: None,
        strategy: None,
        max_fail_percentage: None,
        role_defaults: Vars::new(),
        role_vars: Vars::new(),
        keywords: Keywords::default(),
        gather_args: serde_json::Map::new(),
    };
    let mut name = None;
    let mut has_hosts = false;
    for (k, v) in entries {
        let key = k.key_string();
        if common_keyword(&mut play.keywords, &key, v)? {
            continue;
        }
        match key.as_str() {
            "name" => name = Some(scalar_string(v, "name")?),
            "hosts" => {
                has_hosts = true;
                play.hosts_list = string_list(v, "hosts", false)?;
                play.hosts = play.hosts_list.join(":");
            }
            "gather_facts" => play.gather_facts = bool_value(v, "gather_facts")?,
            "vars_files" => play.vars_files = super::vars_files::parse(v)?,
            "pre_tasks" => play.pre_tasks = parse_tasks(v)?,
            "tasks" => play.tasks = parse_tasks(v)?,
            "post_tasks" => play.post_tasks = parse_tasks(v)?,
            "handlers" => play.handlers = parse_tasks(v)?,
            "force_handlers" => play.force_handlers = bool_value(v, "force_handlers")?,
            "any_errors_fatal" => play.any_errors_fatal = bool_value(v, "any_errors_fatal")?,
            "run_once" => play.run_once = bool_value(v, "run_once")?,
            "roles" => play.roles = parse_roles(v)?,
            "vars_prompt" => play.vars_prompt = parse_vars_prompt(v)?,
            "serial" => play.serial = Some(v.to_value()),
            "strategy" => {
                let s = scalar_string(v, "strategy")?;
                let short = s.rsplit('.').next().unwrap_or(&s).to_string();
                if !matches!(short.as_str(), "linear" | "free" | "host_pinned" | "debug") {
                    return Err(
                        PlaybookError::new(&v.loc, format!("unknown strategy '{s}'")).with_hint(
                            "drover has the 'linear', 'free' and 'host_pinned' strategies",
                        ),
                    );
                }
                play.strategy = Some(short);
            }
            "max_fail_percentage" => play.max_fail_percentage = Some(v.to_value()),
            "gather_subset" | "gather_timeout" | "fact_path" => {
                play.gather_args.insert(key.clone(), v.to_value());
            }
            k2 if PLAY_KEYWORDS.contains(&k2) || COMMON_KEYWORDS.contains(&k2) => {}
            _ => {
                return Err(unknown_key_error(
                    k,
                    "play",
                    &[PLAY_KEYWORDS, COMMON_KEYWORDS],
                ))
            }
        }
    }
    if !has_hosts {
        return Err(PlaybookError::new(&node.loc, "this play has no 'hosts'")
            .with_hint("add 'hosts: all' (or a group or host pattern) to the play"));
    }
    play.name = name.unwrap_or_else(|| play.hosts_list.join(","));
    Ok(play)
}

/// Keys of a `roles:` entry that are keywords rather than role parameters.
const ROLE_ENTRY_KEYWORDS: &[&str] = &[
    "role",
    "name",
    "when",
    "tags",
    "vars",
    "become",
    "become_user",
    "become_method",
    "become_flags",
    "remote_user",
    "connection",
    "check_mode",
    "diff",
    "ignore_errors",
    "ignore_unreachable",
    "no_log",
    "environment",
    "any_errors_fatal",
    "delegate_to",
    "run_once",
    "collections",
    "module_defaults",
    "debugger",
    "throttle",
    "timeout",
];

/// Parses `roles:` (of a play, or `dependencies:` of a role's meta) into unresolved `import_role` tasks.
pub fn parse_roles(node: &Node) -> Result<Vec<Task>, PlaybookError> {
    let items = match &node.value {
        NodeValue::Null => return Ok(Vec::new()),
        NodeValue::Seq(items) => items,
        _ => {
            return Err(PlaybookError::new(
                &node.loc,
                format!("roles must be a list, found {}", node.kind()),
            ))
        }
    };
    let mut out = Vec::new();
    for item in items {
        let mut spec = RoleSpec::default();
        let mut task = Task::new(item.loc.clone(), TaskKind::Meta("noop".into()));
        match &item.value {
            NodeValue::Str(name) => spec.name = name.clone(),
            NodeValue::Map(entries) => {
                for (k, v) in entries {
                    let key = k.key_string();
                    if key != "vars"
                        && key != "name"
                        && common_keyword(&mut task.keywords, &key, v)?
                    {
                        continue;
                    }
                    match key.as_str() {
                        "role" | "name" => spec.name = scalar_string(v, "role")?,
                        "src" | "version" | "scm" => {}
                        "when" => task.when = conditions(v),
                        "vars" => crate::vars::merge_into(&mut spec.params, &vars_map(v)?),
                        "delegate_to" => task.delegate_to = Some(scalar_string(v, "delegate_to")?),
                        "run_once" => task.run_once = bool_value(v, "run_once")?,
                        k2 if ROLE_ENTRY_KEYWORDS.contains(&k2) => {}
                        _ => {
                            spec.params.insert(key.clone(), v.to_value());
                        }
                    }
                }
            }
            _ => {
                return Err(PlaybookError::new(
                    &item.loc,
                    format!(
                        "a role entry must be a name or a mapping, found {}",
                        item.kind()
                    ),
                ))
            }
        }
        if spec.name.is_empty() {
            return Err(
                PlaybookError::new(&item.loc, "this role entry has no 'role' name")
                    .with_hint("write '- role: name' or '- name'"),
            );
        }
        if !task.keywords.tags.is_empty() || !task.when.is_empty() {
            spec.identity = format!(
                "tags={:?} when={}",
                task.keywords.tags,
                Value::Array(task.when.clone())
            );
        }
        task.kind = TaskKind::ImportRole(spec);
        out.push(task);
    }
    Ok(out)
}

fn parse_vars_prompt(node: &Node) -> Result<Vec<VarsPrompt>, PlaybookError> {
    let mut out = Vec::new();
    for item in node.as_seq().unwrap_or(&[]) {
        let mut p = VarsPrompt {
            name: String::new(),
            prompt: String::new(),
            default: None,
            location: item.loc.clone(),
        };
        for (k, v) in expect_map(item, "a vars_prompt entry")? {
            match k.key_string().as_str() {
                "name" => p.name = scalar_string(v, "name")?,
                "prompt" => p.prompt = scalar_string(v, "prompt")?,
                "default" => p.default = Some(v.to_value()),
                "private" | "confirm" | "encrypt" | "salt_size" | "salt" | "unsafe" => {}
                _ => {
                    return Err(unknown_key_error(
                        k,
                        "vars_prompt",
                        &[&[
                            "name",
                            "prompt",
                            "default",
                            "private",
                            "confirm",
                            "encrypt",
                            "salt_size",
                            "salt",
                            "unsafe",
                        ]],
                    ))
                }
            }
        }
        if p.name.is_empty() {
            return Err(PlaybookError::new(
                &item.loc,
                "vars_prompt entry has no 'name'",
            ));
        }
        out.push(p);
    }
    Ok(out)
}

/// Parses a task list.
pub fn parse_tasks(node: &Node) -> Result<Vec<Task>, PlaybookError> {
    match &node.value {
        NodeValue::Null => Ok(Vec::new()),
        NodeValue::Seq(items) => items.iter().map(parse_task).collect(),
        _ => Err(PlaybookError::new(
            &node.loc,
            format!("a task list must be a list, found {}", node.kind()),
        )
        .with_hint("start each task with '- name: ...'")),
    }
}

/// Reads the module and arguments of an `action:`/`local_action:` value.
fn action_value(node: &Node) -> Result<(String, Value), PlaybookError> {
    match &node.value {
        NodeValue::Str(s) => {
            let s = s.trim();
            let (module, rest) = s.split_once(char::is_whitespace).unwrap_or((s, ""));
            Ok((module.to_string(), Value::Object(parse_kv(module, rest))))
        }
        NodeValue::Map(entries) => {
            let mut module = None;
            let mut args = Map::new();
            for (k, v) in entries {
                if k.key_string() == "module" {
                    module = Some(scalar_string(v, "module")?);
                } else {
                    args.insert(k.key_string(), v.to_value());
                }
            }
            let module = module.ok_or_else(|| {
                PlaybookError::new(&node.loc, "action mapping has no 'module' key")
            })?;
            Ok((module, Value::Object(args)))
        }
        _ => Err(PlaybookError::new(
            &node.loc,
            "action must be a string or a mapping",
        )),
    }
}

fn module_args(module: &str, v: &Node) -> Result<Value, PlaybookError> {
    Ok(match &v.value {
        NodeValue::Str(s) => Value::Object(parse_kv(module, s)),
        NodeValue::Null => Value::Object(Map::new()),
        NodeValue::Map(_) => v.to_value(),
        _ => {
            return Err(PlaybookError::new(
                &v.loc,
                format!(
                    "arguments of '{module}' must be a mapping or a 'key=value' string, found {}",
                    v.kind()
                ),
            ))
        }
    })
}

/// Loop lookups that `with_<name>` may use.
pub const WITH_LOOKUPS: &[&str] = &[
    "items",
    "list",
    "dict",
    "together",
    "subelements",
    "sequence",
    "fileglob",
    "first_found",
    "nested",
    "cartesian",
    "indexed_items",
    "flattened",
    "random_choice",
    "lines",
    "file",
    "env",
    "inventory_hostnames",
];

/// Actions the engine performs itself (includes and imports), by short name.
pub const ENGINE_ACTIONS: &[&str] = &[
    "include_tasks",
    "import_tasks",
    "include",
    "include_role",
    "import_role",
    "include_vars",
];

fn short_action(name: &str) -> &str {
    name.strip_prefix("ansible.builtin.")
        .or_else(|| name.strip_prefix("ansible.legacy."))
        .unwrap_or(name)
}

/// Reads `apply:` of an include.
fn apply_keywords(node: &Node) -> Result<Keywords, PlaybookError> {
    let mut kw = Keywords::default();
    for (k, v) in expect_map(node, "apply")? {
        let key = k.key_string();
        if common_keyword(&mut kw, &key, v)? {
            continue;
        }
        match key.as_str() {
            "when" => kw.when = conditions(v),
            _ => return Err(unknown_key_error(k, "apply", &[COMMON_KEYWORDS, &["when"]])),
        }
    }
    Ok(kw)
}

/// The file name of an include/import given as a string or `file:`/`_raw_params`.
fn include_file(
    action: &str,
    args: &Value,
    loc: &crate::yaml::Location,
) -> Result<String, PlaybookError> {
    let file = match args {
        Value::String(s) => Some(s.clone()),
        Value::Object(m) => m
            .get("file")
            .or_else(|| m.get("_raw_params"))
            .and_then(Value::as_str)
            .map(str::to_string),
        _ => None,
    };
    file.map(|f| f.trim().to_string())
        .filter(|f| !f.is_empty())
        .ok_or_else(|| {
            PlaybookError::new(loc, format!("{action} needs a file name"))
                .with_hint(format!("write '{action}: tasks_file.yml'"))
        })
}

/// Reads a role spec from `include_role`/`import_role` arguments.
fn role_spec_from_args(
    action: &str,
    args: &Value,
    loc: &crate::yaml::Location,
) -> Result<RoleSpec, PlaybookError> {
    let Value::Object(m) = args else {
        return Err(PlaybookError::new(
            loc,
            format!("{action} takes a mapping with 'name'"),
        ));
    };
    let mut spec = RoleSpec::default();
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    for (k, v) in m {
        match k.as_str() {
            "name" | "role" => spec.name = text(v),
            "tasks_from" => spec.tasks_from = Some(text(v)),
            "vars_from" => spec.vars_from = Some(text(v)),
            "defaults_from" => spec.defaults_from = Some(text(v)),
            "handlers_from" => spec.handlers_from = Some(text(v)),
            "public" => spec.public = Some(crate::vars::is_truthy(v)),
            "allow_duplicates" => spec.allow_duplicates = Some(crate::vars::is_truthy(v)),
            "rolespec_validate" => spec.rolespec_validate = Some(crate::vars::is_truthy(v)),
            "apply" => {}
            other => {
                return Err(PlaybookError::new(
                    loc,
                    format!("'{other}' is not a valid option of {action}"),
                )
                .with_hint("valid options: name, tasks_from, vars_from, defaults_from, handlers_from, public, apply, allow_duplicates, rolespec_validate"))
            }
        }
    }
    if spec.name.is_empty() {
        return Err(PlaybookError::new(
            loc,
            format!("{action} needs the role's 'name'"),
        ));
    }
    Ok(spec)
}

/// Parses one task, block or handler.
pub fn parse_task(node: &Node) -> Result<Task, PlaybookError> {
    let entries = expect_map(node, "a task")?;
    let mut task = Task::new(node.loc.clone(), TaskKind::Meta("noop".into()));
    let mut module: Option<(String, Value, &Node)> = None;
    let mut extra_args: Option<Value> = None;
    let mut apply: Option<Keywords> = None;
    let mut block: Option<(Vec<Task>, Vec<Task>, Vec<Task>)> = None;
    for (k, v) in entries {
        let key = k.key_string();
        // `user` is a play keyword only; in a task it is the `user` module.
        let is_user_module = key == "user";
        if !is_user_module && common_keyword(&mut task.keywords, &key, v)? {
            continue;
        }
        match key.as_str() {
            "name" => task.name = Some(scalar_string(v, "name")?),
            "when" => task.when = conditions(v),
            "register" => task.register = Some(scalar_string(v, "register")?),
            "loop" => task.loop_ = Some(v.to_value()),
            with if with.starts_with("with_") => {
                let lookup = &with["with_".len()..];
                if !WITH_LOOKUPS.contains(&lookup) {
                    return Err(PlaybookError::new(
                        &k.loc,
                        format!("'{with}' uses the lookup '{lookup}', which drover does not have"),
                    )
                    .with_hint(format!(
                        "supported: {}",
                        WITH_LOOKUPS
                            .iter()
                            .map(|l| format!("with_{l}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
                task.loop_ = Some(v.to_value());
                task.loop_with = Some(lookup.to_string());
            }
            "loop_control" => {
                for (ck, cv) in expect_map(v, "loop_control")? {
                    match ck.key_string().as_str() {
                        "loop_var" => task.loop_var = scalar_string(cv, "loop_var")?,
                        "label" => task.loop_label = Some(scalar_string(cv, "label")?),
                        "index_var" => task.index_var = Some(scalar_string(cv, "index_var")?),
                        "pause" => task.loop_pause = Some(cv.to_value()),
                        "extended" => task.loop_extended = bool_value(cv, "extended")?,
                        "extended_allitems" => {}
                        _ => {
                            return Err(unknown_key_error(
                                ck,
                                "loop_control",
                                &[&[
                                    "loop_var",
                                    "label",
                                    "index_var",
                                    "pause",
                                    "extended",
                                    "extended_allitems",
                                ]],
                            ))
                        }
                    }
                }
            }
            "notify" => task.notify = string_list(v, "notify", false)?,
            "listen" => task.listen = string_list(v, "listen", false)?,
            "changed_when" => task.changed_when = Some(conditions(v)),
            "failed_when" => task.failed_when = Some(conditions(v)),
            "args" => {
                if let Some(a) = v.get("apply") {
                    apply = Some(apply_keywords(a)?);
                }
                extra_args = Some(v.to_value());
            }
            "delegate_to" => task.delegate_to = Some(scalar_string(v, "delegate_to")?),
            "delegate_facts" => task.delegate_facts = bool_value(v, "delegate_facts")?,
            "run_once" => task.run_once = bool_value(v, "run_once")?,
            "throttle" => task.throttle = Some(v.to_value()),
            "any_errors_fatal" => task.any_errors_fatal = Some(bool_value(v, "any_errors_fatal")?),
            "until" => task.until = Some(v.to_value()),
            "retries" => task.retries = Some(v.to_value()),
            "delay" => task.delay = Some(v.to_value()),
            "block" | "rescue" | "always" => {
                let b = block.get_or_insert_with(Default::default);
                let list = parse_tasks(v)?;
                match key.as_str() {
                    "block" => b.0 = list,
                    "rescue" => b.1 = list,
                    _ => b.2 = list,
                }
            }
            "action" | "local_action" => {
                if let Some((m, _, first)) = &module {
                    return Err(two_modules_error(first, m, k));
                }
                let (m, a) = action_value(v)?;
                if key == "local_action" {
                    task.delegate_to = Some("localhost".into());
                }
                module = Some((m, a, k));
            }
            k2 if !is_user_module
                && (TASK_KEYWORDS.contains(&k2) || COMMON_KEYWORDS.contains(&k2)) => {}
            "meta" => {
                module = Some(("meta".into(), Value::String(scalar_string(v, "meta")?), k));
            }
            _ => {
                if let Some((m, _, first)) = &module {
                    return Err(two_modules_error(first, m, k));
                }
                if ENGINE_ACTIONS.contains(&short_action(&key)) {
                    if let Some(a) = v.get("apply") {
                        apply = Some(apply_keywords(a)?);
                    }
                }
                if let Some(entries) = v.as_map() {
                    task.arg_locations = entries
                        .iter()
                        .map(|(ak, _)| (ak.key_string(), ak.loc.clone()))
                        .collect();
                }
                module = Some((key.clone(), module_args(&key, v)?, k));
            }
        }
    }
    if let Some(Value::Object(extra)) = extra_args {
        if let Some((_, Value::Object(args), _)) = module.as_mut() {
            for (k, v) in extra {
                args.entry(k).or_insert(v);
            }
        }
    }
    task.kind = match (block, module) {
        (Some(_), Some((m, _, k))) => {
            return Err(PlaybookError::new(
                &k.loc,
                format!("a block cannot also run the module '{m}'"),
            ))
        }
        (Some((block, rescue, always)), None) => TaskKind::Block {
            block,
            rescue,
            always,
        },
        (None, Some((m, args, _))) if m == "meta" || m.ends_with(".meta") => {
            task.action = m;
            // `ansible.builtin.meta: ACTION` arrives as free-form arguments.
            let action = args
                .as_str()
                .or_else(|| args.get("_raw_params").and_then(Value::as_str))
                .unwrap_or("noop");
            TaskKind::Meta(action.trim().to_string())
        }
        (None, Some((module, args, k))) => {
            task.action = module.clone();
            let apply = Box::new(apply.unwrap_or_default());
            match short_action(&module) {
                "import_tasks" => TaskKind::ImportTasks {
                    file: include_file(&module, &args, &k.loc)?,
                },
                "include_tasks" | "include" => {
                    if let Value::Object(m) = &args {
                        for (name, value) in m {
                            if !matches!(name.as_str(), "file" | "_raw_params" | "apply") {
                                task.keywords.vars.insert(name.clone(), value.clone());
                            }
                        }
                    }
                    TaskKind::IncludeTasks {
                        file: include_file(&module, &args, &k.loc)?,
                        apply,
                    }
                }
                "import_role" => TaskKind::ImportRole(role_spec_from_args(&module, &args, &k.loc)?),
                "include_role" => TaskKind::IncludeRole {
                    spec: role_spec_from_args(&module, &args, &k.loc)?,
                    apply,
                },
                _ => {
                    task.module_location = Some(k.loc.clone());
                    TaskKind::Module { module, args }
                }
            }
        }
        (None, None) => {
            return Err(
                PlaybookError::new(&node.loc, "this task has no module to run")
                    .with_hint("add a module such as 'command: ...' or 'debug: msg=...'"),
            )
        }
    };
    Ok(task)
}

fn two_modules_error(first: &Node, first_name: &str, second: &Node) -> PlaybookError {
    let second_name = second.key_string();
    let known = [TASK_KEYWORDS, COMMON_KEYWORDS];
    let mut err = PlaybookError::new(
        &second.loc,
        format!(
            "a task runs one module, but this one names both '{first_name}' (line {}) and '{second_name}'",
            first.loc.line
        ),
    );
    if let Some(k) = known
        .iter()
        .flat_map(|k| k.iter())
        .find(|k| strsim_distance(&second_name, k) <= 2)
    {
        err = err.with_hint(format!(
            "is '{second_name}' a misspelt task keyword? did you mean '{k}'?"
        ));
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn task(src: &str) -> Result<Task, PlaybookError> {
        parse_task(&yaml::parse_str(src, "t.yml").unwrap())
    }

    #[test]
    fn module_with_free_form_and_args() {
        let t = task("name: x\ncommand: echo hi\nargs:\n  chdir: /tmp\nwhen: a\n").unwrap();
        match t.kind {
            TaskKind::Module { module, args } => {
                assert_eq!(module, "command");
                assert_eq!(args, json!({"_raw_params": "echo hi", "chdir": "/tmp"}));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(t.when, vec![json!("a")]);
    }

    #[test]
    fn user_in_a_task_is_the_module_and_delegate_facts_parses() {
        let t = task("user: {name: alice}\ndelegate_to: h2\ndelegate_facts: yes\n").unwrap();
        assert!(t.delegate_facts);
        assert!(t.keywords.remote_user.is_none());
        match t.kind {
            TaskKind::Module { module, args } => {
                assert_eq!(module, "user");
                assert_eq!(args, json!({"name": "alice"}));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn misspelt_keyword_is_reported_with_position() {
        let e = task("name: x\ncopy: {dest: /a}\nwhne: b\n").unwrap_err();
        assert_eq!((e.location.line, e.location.col), (3, 1));
        assert_eq!(
            e.hint.as_deref(),
            Some("is 'whne' a misspelt task keyword? did you mean 'when'?")
        );
    }

    #[test]
    fn blocks_and_meta() {
        let t = task("block:\n  - debug: msg=a\nrescue:\n  - meta: flush_handlers\n").unwrap();
        match t.kind {
            TaskKind::Block { block, rescue, .. } => {
                assert_eq!(block.len(), 1);
                assert!(matches!(&rescue[0].kind, TaskKind::Meta(m) if m == "flush_handlers"));
            }
            other => panic!("{other:?}"),
        }
        for src in [
            "ansible.builtin.meta: flush_handlers\n",
            "ansible.legacy.meta: flush_handlers\n",
            "meta: end_play\n",
        ] {
            let t = task(src).unwrap();
            let expected = src.split(": ").nth(1).unwrap().trim();
            assert!(
                matches!(&t.kind, TaskKind::Meta(m) if m == expected),
                "{src}: {:?}",
                t.kind
            );
        }
    }

    #[test]
    fn import_playbook_gives_its_plays_vars_tags_and_when() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("sub.yml"),
            "- hosts: all\n  tags: own\n  vars: {who: play, keep: 1}\n  tasks:\n    - debug: msg=1\n      when: b\n",
        )
        .unwrap();
        std::fs::write(
            d.join("site.yml"),
            "- import_playbook: sub.yml\n  tags: [imp, own]\n  vars: {who: import}\n  when: a\n",
        )
        .unwrap();
        let pb = load_playbook(&d.join("site.yml")).unwrap();
        let play = &pb.plays[0];
        assert_eq!(play.keywords.tags, vec!["own", "imp"]);
        assert_eq!(play.keywords.vars["who"], json!("import"));
        assert_eq!(play.keywords.vars["keep"], json!(1));
        assert_eq!(play.tasks[0].keywords.when, vec![json!("a")]);
        assert_eq!(play.tasks[0].when, vec![json!("b")]);
    }

    #[test]
    fn play_requires_hosts() {
        let n = yaml::parse_str("- name: p\n  tasks: []\n", "p.yml").unwrap();
        let e = parse_play(&n.as_seq().unwrap()[0]).unwrap_err();
        assert!(e.message.contains("no 'hosts'"));
    }

    #[test]
    fn unknown_play_keyword_suggests() {
        let n = yaml::parse_str("- hosts: all\n  taks: []\n", "p.yml").unwrap();
        let e = parse_play(&n.as_seq().unwrap()[0]).unwrap_err();
        assert_eq!(e.location.line, 2);
        assert_eq!(e.hint.as_deref(), Some("did you mean 'tasks'?"));
    }
}

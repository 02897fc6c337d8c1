//! Parsing tasks: the action (module and arguments, free-form or mapping), `with_*` loops,
//! includes and imports, blocks and the task keywords.

use super::keywords::*;
use crate::module::strsim_distance;
use crate::playbook::args::{parse_kv, split_args, UnbalancedArgs};
use crate::playbook::error::PlaybookError;
use crate::playbook::model::{Keywords, RoleSpec, Task, TaskKind};
use crate::vars::{Map, Value};
use crate::yaml::{Node, NodeValue};

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
pub(super) fn action_value(node: &Node) -> Result<(String, Value), PlaybookError> {
    match &node.value {
        NodeValue::Str(s) => {
            let s = s.trim();
            let (module, rest) = s.split_once(char::is_whitespace).unwrap_or((s, ""));
            // ansible-core splits the whole `module args` text first, then the arguments.
            split_args(s)
                .and_then(|_| parse_kv(module, rest))
                .map(|args| (module.to_string(), Value::Object(args)))
                .map_err(|e| unbalanced_args(module, &node.loc, e))
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

pub(super) fn module_args(module: &str, v: &Node) -> Result<Value, PlaybookError> {
    Ok(match &v.value {
        NodeValue::Str(s) => {
            Value::Object(parse_kv(module, s).map_err(|e| unbalanced_args(module, &v.loc, e))?)
        }
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

/// The load-time error for `module: TEXT` whose text leaves a quote or a Jinja block open, with
/// ansible-core's message and what to write instead.
fn unbalanced_args(
    module: &str,
    loc: &crate::yaml::Location,
    error: UnbalancedArgs,
) -> PlaybookError {
    let short = short_action(module);
    let instead = match short {
        "command" | "shell" | "script" | "win_command" | "win_shell" => format!(
            ", or give the text as `cmd:` in a mapping (`{module}:` then `cmd: ...` on the next \
             line), which is not split"
        ),
        "raw" => String::new(),
        _ => ", or give the arguments as a YAML mapping, which is not split".to_string(),
    };
    PlaybookError::new(loc, error.to_string()).with_hint(format!(
        "ansible-core, too, refuses this text: it splits it into words when the play loads; \
         balance its quotes (e.g. \"it's\" rather than it's) and close each {{{{ }}}}, {{% %}} or \
         {{# #}} block{instead}"
    ))
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

pub(super) fn short_action(name: &str) -> &str {
    name.strip_prefix("ansible.builtin.")
        .or_else(|| name.strip_prefix("ansible.legacy."))
        .unwrap_or(name)
}

/// The file name of an include/import given as a string or `file:`/`_raw_params`.
pub(super) fn include_file(
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
pub(super) fn role_spec_from_args(
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
            "async" => task.async_ = Some(v.to_value()),
            "poll" => task.poll = Some(v.to_value()),
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

pub(super) fn two_modules_error(first: &Node, first_name: &str, second: &Node) -> PlaybookError {
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

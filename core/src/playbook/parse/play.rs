//! Parsing a play: its keywords, `roles:` entries and `vars_prompt`.

use super::keywords::*;
use super::task::*;
use crate::playbook::error::PlaybookError;
use crate::playbook::model::{Keywords, Play, RoleSpec, Task, TaskKind, VarsPrompt};
use crate::vars::{Value, Vars};
use crate::yaml::{Node, NodeValue};

pub(super) fn parse_play(node: &Node) -> Result<Play, PlaybookError> {
    let entries = expect_map(node, "a play")?;
    let mut play = Play {
        name: String::new(),
        hosts: String::new(),
        hosts_list: Vec::new(),
        location: node.loc.clone(),
        gather_facts: true,
        vars_files: Vec::new(),
        vars_files_at: Vec::new(),
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
            "vars_files" => {
                (play.vars_files, play.vars_files_at) = crate::playbook::vars_files::parse(v)?
            }
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
pub(super) const ROLE_ENTRY_KEYWORDS: &[&str] = &[
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
                        // `src`/`scm`/`version` (requirement-style entries) are role
                        // parameters as any other key: ansible-core runs such an entry
                        // again even when the role already ran without them.
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

pub(super) fn parse_vars_prompt(node: &Node) -> Result<Vec<VarsPrompt>, PlaybookError> {
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

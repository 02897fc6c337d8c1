//! Playbook keywords: the keywords plays, blocks and tasks take, and reading their values
//! (strings, lists, conditions, variables, booleans) from YAML nodes.

use crate::module::strsim_distance;
use crate::playbook::error::PlaybookError;
use crate::playbook::model::Keywords;
use crate::vars::{Map, Value, Vars};
use crate::yaml::{Node, NodeValue};

/// Keywords shared by plays, blocks and tasks (see [`Keywords`]).
pub(super) const COMMON_KEYWORDS: &[&str] = &[
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
pub(super) const PLAY_KEYWORDS: &[&str] = &[
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
pub(super) const TASK_KEYWORDS: &[&str] = &[
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

pub(super) fn unknown_key_error(key: &Node, what: &str, known: &[&[&str]]) -> PlaybookError {
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

pub(super) fn expect_map<'a>(
    node: &'a Node,
    what: &str,
) -> Result<&'a [(Node, Node)], PlaybookError> {
    node.as_map().ok_or_else(|| {
        PlaybookError::new(
            &node.loc,
            format!("{what} must be a mapping, found {}", node.kind()),
        )
    })
}

pub(crate) fn scalar_string(node: &Node, what: &str) -> Result<String, PlaybookError> {
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

pub(super) fn string_list(
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

pub(super) fn conditions(node: &Node) -> Vec<Value> {
    match &node.value {
        NodeValue::Seq(items) => items.iter().map(Node::to_value).collect(),
        NodeValue::Null => Vec::new(),
        _ => vec![node.to_value()],
    }
}

pub(super) fn vars_map(node: &Node) -> Result<Vars, PlaybookError> {
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

pub(super) fn bool_value(node: &Node, what: &str) -> Result<bool, PlaybookError> {
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
pub(super) fn common_keyword(
    kw: &mut Keywords,
    key: &str,
    value: &Node,
) -> Result<bool, PlaybookError> {
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

/// Reads `apply:` of an include.
pub(super) fn apply_keywords(node: &Node) -> Result<Keywords, PlaybookError> {
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

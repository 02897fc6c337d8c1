//! Argument errors at run time. A task whose arguments its module refuses (an unsupported or
//! missing parameter, mutually exclusive options) fails when it runs, as in ansible-core, with
//! ansible-core 2.19's message, so `ignore_errors`, `failed_when`, `rescue` and
//! `register` + `assert: that: r is failed` see what they see under Ansible. Whether such a task
//! also stops the run before it starts is the static check's business (`playbook::check`).
//!
//! Modules report argument problems in drover's own words (`Module::check_args`, which also
//! serves the static check); [`ansible_message`] rewords them.

use crate::module::Module;
use crate::vars::{Map, Value};

/// The failed result for a task whose module refuses `args` (already rendered), if it does.
pub(crate) fn arg_failure(module: &dyn Module, written: &str, args: &Value) -> Option<Value> {
    let map = args.as_object()?;
    let message = module.check_args(map).err()?.to_string();
    Some(serde_json::json!({
        "changed": false,
        "failed": true,
        "msg": ansible_message(written, map, &message),
    }))
}

/// Action plugins that refuse unknown options as "Invalid options for NAME: a,b".
const INVALID_OPTIONS_STYLE: &[&str] = &["fail", "wait_for_connection", "reboot"];

/// The name ansible-core's message gives the module: the action plugin's target module for
/// actions that run another module, the plugin's import path for action-only plugins written
/// fully qualified, else the module as written.
fn reported_name(written: &str) -> String {
    let short = written.rsplit('.').next().unwrap_or(written);
    let qualified = written.contains('.');
    match short {
        "command" | "shell" => "ansible.legacy.command".into(),
        "copy" | "template" => "ansible.legacy.copy".into(),
        "uri" | "unarchive" | "service" => format!("ansible.legacy.{short}"),
        // The package action runs the host's package manager module (apt on Debian).
        "package" => "ansible.legacy.apt".into(),
        "debug" | "assert" | "pause" if qualified => {
            format!("ansible_collections.ansible.builtin.plugins.action.{short}")
        }
        _ => written.to_string(),
    }
}

/// drover's argument-error text for module `written`, reworded as ansible-core 2.19 words it.
/// Messages drover has no ansible-core equivalent for are kept (without the module prefix).
pub(crate) fn ansible_message(written: &str, args: &Map<String, Value>, message: &str) -> String {
    let short = written.rsplit('.').next().unwrap_or(written);
    // drover's messages start with "MODULE: ".
    let body = match message.split_once(": ") {
        Some((prefix, rest)) if !prefix.contains(' ') => rest,
        _ => message,
    };
    // ansible-core's shell action refuses `command`'s `expand_argument_vars` itself, first.
    if short == "shell" && args.contains_key("expand_argument_vars") {
        return format!("Unsupported parameters for ({written}) module: expand_argument_vars");
    }
    if let Some(rest) = body.strip_prefix("unsupported parameter `") {
        return unsupported(written, short, args, rest);
    }
    if let Some(rest) = body.strip_prefix("missing required parameter") {
        return missing(short, rest);
    }
    if body.starts_with("no key/value pairs provided") {
        return "No key/value pairs provided, at least one is required for this action to succeed"
            .into();
    }
    if short == "include_vars" && body.starts_with("You are mixing file only") {
        return format!("Task failed: {body}");
    }
    if body == "'msg' and 'var' are incompatible options" {
        return "parameters are mutually exclusive: msg|var".into();
    }
    body.to_string()
}

/// The message for a module's refusal to parse `args` (serde's words in `message`, as
/// `ModuleError::BadArgs` carries them), as ansible-core words the same problem.
pub(crate) fn parse_message(written: &str, args: &Value, message: &str) -> String {
    let quoted = |s: &str| -> Vec<String> {
        s.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    };
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        let (got, choices) = rest.split_once('`').unwrap_or((rest, ""));
        let key = args.as_object().and_then(|m| {
            m.iter()
                .find(|(_, v)| v.as_str() == Some(got))
                .map(|(k, _)| k.clone())
        });
        if let Some(key) = key {
            return format!(
                "value of {key} must be one of: {}, got: {got}",
                quoted(choices).join(", ")
            );
        }
    }
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (field, supported) = rest.split_once('`').unwrap_or((rest, ""));
        return format!(
            "Unsupported parameters for ({}) module: {field}. Supported parameters include: {}.",
            reported_name(written),
            quoted(supported).join(", ")
        );
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or(rest);
        return format!("missing required arguments: {field}");
    }
    format!(
        "{}: {message}",
        written.rsplit('.').next().unwrap_or(written)
    )
}

/// "Unsupported parameters for (NAME) module: a, b. Supported parameters include: …".
fn unsupported(written: &str, short: &str, args: &Map<String, Value>, rest: &str) -> String {
    let first = rest.split('`').next().unwrap_or_default();
    let supported: Vec<&str> = rest
        .split_once("; supported parameters: ")
        .map(|(_, list)| list.split(", ").collect())
        .unwrap_or_default();
    // drover lists no internal `_…` keys: those are never the unsupported ones here.
    let mut unknown: Vec<&str> = args
        .keys()
        .map(String::as_str)
        .filter(|k| !k.starts_with('_') && !supported.contains(k))
        .collect();
    if unknown.is_empty() {
        unknown.push(first);
    }
    if short == "include_vars" {
        // The include_vars action plugin names one option (the last one given).
        let last = unknown.last().copied().unwrap_or(first);
        return format!("Task failed: {last} is not a valid option in include_vars");
    }
    if INVALID_OPTIONS_STYLE.contains(&short) {
        return format!("Invalid options for {short}: {}", unknown.join(","));
    }
    unknown.sort_unstable();
    format!(
        "Unsupported parameters for ({}) module: {}. Supported parameters include: {}.",
        reported_name(written),
        unknown.join(", "),
        supported.join(", ")
    )
}

/// A missing parameter: `rest` follows "missing required parameter" (" `k`", ": one of `a`, `b`",
/// ": a command (free form) or one of …").
fn missing(short: &str, rest: &str) -> String {
    let names: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
    let first = names.first().copied().unwrap_or_default();
    if rest.contains("free form") || matches!(short, "command" | "shell") {
        return "one of the following is required: _raw_params, cmd, argv".into();
    }
    match (short, first) {
        ("copy", "dest") => "dest is required".into(),
        ("copy", _) => "src (or content) is required".into(),
        ("template", _) => "src and dest are required".into(),
        ("git", "dest") => "the destination directory must be specified unless clone=no".into(),
        // Groups that are real alternatives (not one parameter and its aliases).
        ("pip" | "apt" | "service" | "timezone", _) => {
            format!("one of the following is required: {}", names.join(", "))
        }
        // A group of one parameter and its aliases: ansible-core names the parameter.
        _ => format!("missing required arguments: {first}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn msg(written: &str, args: Value, drover: &str) -> String {
        ansible_message(written, args.as_object().expect("object"), drover)
    }

    #[test]
    fn unsupported_parameters_as_ansible_words_them() {
        assert_eq!(
            msg(
                "file",
                json!({"path": "/x", "foo": 1, "bar": 2}),
                "file: unsupported parameter `foo` (did you mean `force`?); supported parameters: path, state"
            ),
            "Unsupported parameters for (file) module: bar, foo. Supported parameters include: path, state."
        );
        assert_eq!(
            msg(
                "ansible.builtin.shell",
                json!({"cmd": "x", "foo": 1}),
                "shell: unsupported parameter `foo`; supported parameters: chdir, cmd"
            ),
            "Unsupported parameters for (ansible.legacy.command) module: foo. Supported parameters include: chdir, cmd."
        );
        assert_eq!(
            msg(
                "shell",
                json!({"cmd": "x", "foo": 1, "expand_argument_vars": false}),
                "shell: unsupported parameter `expand_argument_vars`; supported parameters: chdir, cmd"
            ),
            "Unsupported parameters for (shell) module: expand_argument_vars"
        );
        assert_eq!(
            msg(
                "ansible.builtin.debug",
                json!({"msg": "x", "foo": 1}),
                "debug: unsupported parameter `foo`; supported parameters: msg, var, verbosity"
            ),
            "Unsupported parameters for (ansible_collections.ansible.builtin.plugins.action.debug) module: foo. Supported parameters include: msg, var, verbosity."
        );
        assert_eq!(
            msg(
                "wait_for_connection",
                json!({"foo": 1, "bar": 2}),
                "wait_for_connection: unsupported parameter `foo`; supported parameters: delay, timeout"
            ),
            "Invalid options for wait_for_connection: foo,bar"
        );
    }

    #[test]
    fn parse_errors_as_ansible_words_them() {
        assert_eq!(
            parse_message(
                "file",
                &json!({"path": "/x", "state": "bogus"}),
                "unknown variant `bogus`, expected one of `absent`, `directory`, `file`"
            ),
            "value of state must be one of: absent, directory, file, got: bogus"
        );
        assert_eq!(
            parse_message(
                "ansible.builtin.uri",
                &json!({"foo": 1}),
                "unknown field `foo`, expected one of `url`, `method`"
            ),
            "Unsupported parameters for (ansible.legacy.uri) module: foo. Supported parameters include: url, method."
        );
        assert_eq!(
            parse_message("stat", &json!({}), "missing field `path`"),
            "missing required arguments: path"
        );
        assert_eq!(
            parse_message("stat", &json!({}), "invalid type: map"),
            "stat: invalid type: map"
        );
    }

    #[test]
    fn missing_and_exclusive_parameters() {
        let m = |w: &str, d: &str| msg(w, json!({}), d);
        assert_eq!(
            m(
                "file",
                "file: missing required parameter: one of `path`, `dest`, `name`"
            ),
            "missing required arguments: path"
        );
        assert_eq!(
            m("package", "package: missing required parameter `name`"),
            "missing required arguments: name"
        );
        assert_eq!(
            m(
                "pip",
                "pip: missing required parameter: one of `name`, `requirements`"
            ),
            "one of the following is required: name, requirements"
        );
        assert_eq!(
            m(
                "apt",
                "apt: missing required parameter: one of `name`, `deb`, `update_cache`"
            ),
            "one of the following is required: name, deb, update_cache"
        );
        assert_eq!(
            m(
                "service",
                "service: missing required parameter: one of `state`, `enabled`"
            ),
            "one of the following is required: state, enabled"
        );
        assert_eq!(
            m(
                "timezone",
                "timezone: missing required parameter: one of `hwclock`, `name`"
            ),
            "one of the following is required: hwclock, name"
        );
        assert_eq!(
            m(
                "command",
                "command: missing required parameter: a command (free form) or one of `cmd`, `argv`"
            ),
            "one of the following is required: _raw_params, cmd, argv"
        );
        assert_eq!(
            m("copy", "copy: missing required parameter `dest`"),
            "dest is required"
        );
        assert_eq!(
            m(
                "pip",
                "pip: parameters are mutually exclusive: name|requirements"
            ),
            "parameters are mutually exclusive: name|requirements"
        );
        assert_eq!(
            m("copy", "copy: src and content are mutually exclusive"),
            "src and content are mutually exclusive"
        );
        assert_eq!(
            msg(
                "include_vars",
                json!({"file": "x", "foo": 1, "bar": 2}),
                "include_vars: unsupported parameter `foo`; supported parameters: file, dir"
            ),
            "Task failed: bar is not a valid option in include_vars"
        );
        assert_eq!(
            m(
                "include_vars",
                "include_vars: You are mixing file only and dir only arguments, these are incompatible"
            ),
            "Task failed: You are mixing file only and dir only arguments, these are incompatible"
        );
        assert_eq!(
            m("debug", "debug: 'msg' and 'var' are incompatible options"),
            "parameters are mutually exclusive: msg|var"
        );
        assert_eq!(
            m(
                "set_fact",
                "set_fact: no key/value pairs provided, at least one is required"
            ),
            "No key/value pairs provided, at least one is required for this action to succeed"
        );
    }
}

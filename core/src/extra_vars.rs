//! Parsing `-e/--extra-vars` values: `k=v k2=v2`, inline YAML/JSON, or `@file`.

use std::path::Path;

use crate::playbook::args::{split_args, unquote};
use crate::vars::{merge_into, Value, Vars};
use crate::yaml;

/// An `-e` argument that cannot be used, in the user's words.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct ExtraVarsError(pub String);

/// Parses one `-e` argument and merges it into `into`.
pub fn merge_extra_vars(arg: &str, into: &mut Vars) -> Result<(), ExtraVarsError> {
    merge(arg, into).map_err(ExtraVarsError)
}

fn merge(arg: &str, into: &mut Vars) -> Result<(), String> {
    let arg = arg.trim();
    if let Some(file) = arg.strip_prefix('@') {
        if file.trim().is_empty() {
            return Err("-e @ needs a file name after '@' (for example -e @vars.yml)".into());
        }
        let node = yaml::parse_file(Path::new(file)).map_err(|e| e.to_string())?;
        return merge_value(node.to_value(), into, arg);
    }
    if arg.starts_with('{') || arg.starts_with('[') || arg.starts_with("---") {
        let node = yaml::parse_str(arg, "extra vars").map_err(|e| e.to_string())?;
        return merge_value(node.to_value(), into, arg);
    }
    for piece in split_args(arg).map_err(|e| format!("invalid extra vars: {e}"))? {
        let piece = piece.trim();
        if piece.is_empty() {
            continue;
        }
        let (k, v) = piece.split_once('=').ok_or_else(|| {
            format!("invalid extra vars '{piece}': expected key=value, YAML/JSON, or @file")
        })?;
        if k.trim().is_empty() {
            return Err(format!(
                "invalid extra vars '{piece}': the variable name before '=' is empty"
            ));
        }
        into.insert(k.trim().to_string(), Value::String(unquote(v.trim())));
    }
    Ok(())
}

fn merge_value(v: Value, into: &mut Vars, arg: &str) -> Result<(), String> {
    match v {
        Value::Object(m) => {
            merge_into(into, &m);
            Ok(())
        }
        Value::Null => Ok(()),
        _ => Err(format!("extra vars '{arg}' must be a mapping")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_values_json_and_later_wins() {
        let mut v = Vars::new();
        merge_extra_vars("a=1 b='x y'", &mut v).unwrap();
        merge_extra_vars(r#"{"a": 2, "c": [1]}"#, &mut v).unwrap();
        assert_eq!(Value::Object(v), json!({"a": 2, "b": "x y", "c": [1]}));
    }

    #[test]
    fn rejects_garbage() {
        assert!(merge_extra_vars("novalue", &mut Vars::new()).is_err());
        let e = merge_extra_vars("=b", &mut Vars::new()).unwrap_err();
        assert!(e.to_string().contains("name before '=' is empty"), "{e}");
        let e = merge_extra_vars("@", &mut Vars::new()).unwrap_err();
        assert!(e.to_string().contains("needs a file name"), "{e}");
        let e = merge_extra_vars("@/dev/zero", &mut Vars::new()).unwrap_err();
        assert!(
            e.to_string().contains("/dev/zero") && e.to_string().contains("not a regular file"),
            "{e}"
        );
    }
}

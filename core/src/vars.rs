//! Variable values. drover stores every variable as a JSON-like [`Value`] (maps keep insertion order).

pub use serde_json::{Map, Value};

/// A set of variables, by name.
pub type Vars = Map<String, Value>;

/// Merges `overlay` into `base`, replacing values key by key (Ansible's default `hash_behaviour`).
pub fn merge_into(base: &mut Vars, overlay: &Vars) {
    for (k, v) in overlay {
        base.insert(k.clone(), v.clone());
    }
}

/// Key of the one-entry object that marks a `!unsafe` string: its text is never templated.
pub const UNSAFE_KEY: &str = "__drover_unsafe__";
/// Key of the one-entry object that holds a `!vault` encrypted string.
pub const VAULT_KEY: &str = "__drover_vault__";

/// Wraps text tagged `!unsafe` so templating leaves it alone.
pub fn unsafe_text(text: &str) -> Value {
    let mut m = Map::new();
    m.insert(UNSAFE_KEY.to_string(), Value::String(text.to_string()));
    Value::Object(m)
}

/// The text of a value made by [`unsafe_text`].
pub fn as_unsafe_text(v: &Value) -> Option<&str> {
    match v {
        Value::Object(m) if m.len() == 1 => m.get(UNSAFE_KEY).and_then(Value::as_str),
        _ => None,
    }
}

/// A registered result as it is stored: a copy whose strings holding template syntax are
/// marked [`unsafe_text`]. Results are data, never templates: ansible-core 2.19 does not trust
/// them, so a registered `stdout` containing `{{` reads back literally.
pub fn registered(result: &Value) -> Value {
    match result {
        Value::String(s) if crate::template::is_template_text(s) => unsafe_text(s),
        Value::Array(a) => Value::Array(a.iter().map(registered).collect()),
        Value::Object(m) if as_unsafe_text(result).is_none() && as_vault_text(result).is_none() => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), registered(v))).collect())
        }
        other => other.clone(),
    }
}

/// The encrypted text of a `!vault` value (a one-entry [`VAULT_KEY`] object); see
/// [`crate::vault::decrypt_value`].
pub fn as_vault_text(v: &Value) -> Option<&str> {
    match v {
        Value::Object(m) if m.len() == 1 => m.get(VAULT_KEY).and_then(Value::as_str),
        _ => None,
    }
}

/// Ansible's truthiness for values read from YAML or templates: booleans, and the strings
/// `yes/on/true/1` (case-insensitive) are true; numbers are true when non-zero.
pub fn is_truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => matches!(
            s.trim().to_ascii_lowercase().as_str(),
            "yes" | "on" | "true" | "1" | "y" | "t"
        ),
        Value::Null => false,
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn registered_results_mark_template_text_unsafe() {
        let r = registered(&json!({"stdout": "{{ x }}", "rc": 0, "lines": ["a", "{% b %}"]}));
        assert_eq!(
            r,
            json!({"stdout": unsafe_text("{{ x }}"), "rc": 0, "lines": ["a", unsafe_text("{% b %}")]})
        );
        assert_eq!(registered(&unsafe_text("{{ y }}")), unsafe_text("{{ y }}"));
    }
}

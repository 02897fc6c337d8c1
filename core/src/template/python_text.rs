//! Python's text forms of data for other commands' output: `repr()` (what `ansible-inventory
//! --graph --vars` shows) and `yaml.dump(default_flow_style=False)` (its `--yaml`).

use super::convert::{json_to_value, py_repr};
use super::filters::yaml_emit::{emit_yaml, YamlStyle};

/// Python's `str()` of a value: strings as they are, everything else as `repr()`
/// (`{'a': [1, True, None]}`).
pub fn python_str(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => py_repr(&json_to_value(other)),
    }
}

/// PyYAML's `yaml.dump(value, default_flow_style=False)` (keys sorted, 2-space indent).
pub fn python_yaml_dump(value: &serde_json::Value) -> Result<String, String> {
    let style = YamlStyle {
        indent: 2,
        sort_keys: true,
        width: 80,
        default_flow_style: Some(false),
    };
    emit_yaml(&json_to_value(value), &style).map_err(|e| e.to_string())
}

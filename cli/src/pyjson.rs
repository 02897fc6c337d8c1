//! JSON text as Python's `json.dumps(value, sort_keys=True, indent=N, ensure_ascii=False)`
//! writes it, which is what ansible's callbacks and ansible-inventory print.

use serde_json::Value;

/// `json.dumps(value, sort_keys=True, ensure_ascii=False, indent=indent)`: `None` is one line
/// with `", "` and `": "` separators; `Some(n)` puts each item on its own line indented by `n`
/// spaces per level (`Some(0)`: on its own line, not indented).
pub fn dumps(value: &Value, indent: Option<usize>) -> String {
    let mut out = String::new();
    write_value(&mut out, value, indent, 0);
    out
}

fn newline(out: &mut String, indent: Option<usize>, level: usize) {
    if let Some(n) = indent {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', n * level));
    }
}

fn write_value(out: &mut String, value: &Value, indent: Option<usize>, level: usize) {
    let sep = if indent.is_some() { "," } else { ", " };
    match value {
        Value::Array(items) if !items.is_empty() => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(sep);
                }
                newline(out, indent, level + 1);
                write_value(out, item, indent, level + 1);
            }
            newline(out, indent, level);
            out.push(']');
        }
        Value::Object(map) if !map.is_empty() => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(sep);
                }
                newline(out, indent, level + 1);
                out.push_str(&Value::String(key.clone()).to_string());
                out.push_str(": ");
                if let Some(v) = map.get(key) {
                    write_value(out, v, indent, level + 1);
                }
            }
            newline(out, indent, level);
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matches_python_layouts() {
        let v = json!({"ping": "pong", "changed": false, "l": [1, {}], "e": []});
        assert_eq!(
            dumps(&v, None),
            r#"{"changed": false, "e": [], "l": [1, {}], "ping": "pong"}"#
        );
        assert_eq!(
            dumps(&v, Some(4)),
            "{\n    \"changed\": false,\n    \"e\": [],\n    \"l\": [\n        1,\n        {}\n    ],\n    \"ping\": \"pong\"\n}"
        );
        assert_eq!(
            dumps(&json!({"b": 1, "a": "é\n"}), Some(0)).replace('\n', ""),
            "{\"a\": \"é\\n\",\"b\": 1}"
        );
    }
}

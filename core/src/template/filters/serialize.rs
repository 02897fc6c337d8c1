//! JSON and YAML filters: to_json, to_nice_json, from_json, to_yaml, to_nice_yaml, from_yaml,
//! from_yaml_all. Output matches Python's `json.dumps` and PyYAML's emitter.

use minijinja::value::{Kwargs, Value, ValueKind};
use minijinja::{Environment, Error};

use super::fail;
use super::yaml_emit::{emit_yaml, YamlStyle};
use crate::template::convert::{json_to_value, key_to_string, py_float};

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter(
        "to_json",
        |v: Value, kwargs: Kwargs| -> Result<Value, Error> {
            let indent: Option<usize> = kwargs.get("indent")?;
            let sort_keys: bool = kwargs.get::<Option<bool>>("sort_keys")?.unwrap_or(false);
            let ensure_ascii: bool = kwargs.get::<Option<bool>>("ensure_ascii")?.unwrap_or(true);
            kwargs.assert_all_used()?;
            Ok(Value::from(dump_json(&v, indent, sort_keys, ensure_ascii)?))
        },
    );
    env.add_filter(
        "to_nice_json",
        |v: Value, kwargs: Kwargs| -> Result<Value, Error> {
            let indent: usize = kwargs.get::<Option<usize>>("indent")?.unwrap_or(4);
            let sort_keys: bool = kwargs.get::<Option<bool>>("sort_keys")?.unwrap_or(true);
            let ensure_ascii: bool = kwargs.get::<Option<bool>>("ensure_ascii")?.unwrap_or(true);
            kwargs.assert_all_used()?;
            Ok(Value::from(dump_json(
                &v,
                Some(indent),
                sort_keys,
                ensure_ascii,
            )?))
        },
    );
    env.add_filter("from_json", |v: &str| -> Result<Value, Error> {
        let j: serde_json::Value =
            serde_json::from_str(v).map_err(|e| fail(format!("from_json: {e}")))?;
        Ok(json_to_value(&j))
    });
    env.add_filter(
        "to_yaml",
        |v: Value, kwargs: Kwargs| -> Result<Value, Error> {
            let style = yaml_style(&kwargs, 2, None)?;
            Ok(Value::from(emit_yaml(&v, &style)?))
        },
    );
    env.add_filter(
        "to_nice_yaml",
        |v: Value, kwargs: Kwargs| -> Result<Value, Error> {
            let style = yaml_style(&kwargs, 4, Some(false))?;
            Ok(Value::from(emit_yaml(&v, &style)?))
        },
    );
    env.add_filter("from_yaml", |v: Value| -> Result<Value, Error> {
        match v.as_str() {
            Some(s) => parse_yaml(s),
            None => Ok(v),
        }
    });
    env.add_filter("from_yaml_all", |v: &str| -> Result<Value, Error> {
        let docs: Result<Vec<Value>, Error> = split_documents(v)
            .into_iter()
            .filter(|d| !d.trim().is_empty())
            .map(|d| parse_yaml(&d))
            .collect();
        Ok(Value::from(docs?))
    });
}

fn yaml_style(kwargs: &Kwargs, indent: usize, flow: Option<bool>) -> Result<YamlStyle, Error> {
    let indent: usize = kwargs.get::<Option<usize>>("indent")?.unwrap_or(indent);
    let sort_keys: bool = kwargs.get::<Option<bool>>("sort_keys")?.unwrap_or(true);
    let width: usize = kwargs.get::<Option<usize>>("width")?.unwrap_or(80);
    let flow = match kwargs.get::<Option<Value>>("default_flow_style")? {
        Some(v) if v.is_none() => None,
        Some(v) => Some(v.is_true()),
        None => flow,
    };
    let _: Option<bool> = kwargs.get("allow_unicode")?;
    let _: Option<bool> = kwargs.get("explicit_start")?;
    kwargs.assert_all_used()?;
    Ok(YamlStyle {
        indent: indent.clamp(2, 9),
        sort_keys,
        width,
        default_flow_style: flow,
    })
}

fn parse_yaml(s: &str) -> Result<Value, Error> {
    let node =
        crate::yaml::parse_str(s, "<from_yaml>").map_err(|e| fail(format!("from_yaml: {e}")))?;
    Ok(json_to_value(&node.to_value()))
}

/// Splits a YAML stream at `---` document markers.
fn split_documents(s: &str) -> Vec<String> {
    let mut docs = vec![String::new()];
    for line in s.split_inclusive('\n') {
        let t = line.trim_end();
        if t == "---" || t.starts_with("--- ") {
            docs.push(String::new());
            if let Some(rest) = t.strip_prefix("--- ") {
                if let Some(last) = docs.last_mut() {
                    last.push_str(rest);
                    last.push('\n');
                }
            }
            continue;
        }
        if t == "..." {
            continue;
        }
        if let Some(last) = docs.last_mut() {
            last.push_str(line);
        }
    }
    docs
}

/// Python's `json.dumps` with `indent`, `sort_keys` and `ensure_ascii`.
pub(crate) fn dump_json(
    v: &Value,
    indent: Option<usize>,
    sort_keys: bool,
    ensure_ascii: bool,
) -> Result<String, Error> {
    let mut out = String::new();
    write_json(&mut out, v, indent, sort_keys, ensure_ascii, 0)?;
    Ok(out)
}

fn write_json(
    out: &mut String,
    v: &Value,
    indent: Option<usize>,
    sort_keys: bool,
    ascii: bool,
    level: usize,
) -> Result<(), Error> {
    if v.downcast_object_ref::<crate::template::lazy::Omit>()
        .is_some()
    {
        json_str(out, crate::template::lazy::OMIT_PLACEHOLDER, ascii);
        return Ok(());
    }
    let (item_sep, newline) = match indent {
        Some(_) => (",", true),
        None => (", ", false),
    };
    let pad = |out: &mut String, level: usize| {
        if let Some(n) = indent {
            out.push('\n');
            out.push_str(&" ".repeat(n * level));
        }
    };
    match v.kind() {
        ValueKind::Undefined => return Err(fail("to_json: cannot serialize an undefined value")),
        ValueKind::None => out.push_str("null"),
        ValueKind::Bool => out.push_str(if v.is_true() { "true" } else { "false" }),
        ValueKind::Number if v.is_integer() => out.push_str(&v.to_string()),
        ValueKind::Number => {
            let f = f64::try_from(v.clone())?;
            out.push_str(&match py_float(f).as_str() {
                "inf" => "Infinity".to_string(),
                "-inf" => "-Infinity".to_string(),
                "nan" => "NaN".to_string(),
                s => s.to_string(),
            });
        }
        ValueKind::String | ValueKind::Bytes => json_str(out, &super::text(v), ascii),
        ValueKind::Seq | ValueKind::Iterable => {
            let items: Vec<Value> = v.try_iter()?.collect();
            if items.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                pad(out, level + 1);
                write_json(out, item, indent, sort_keys, ascii, level + 1)?;
            }
            if newline {
                pad(out, level);
            }
            out.push(']');
        }
        ValueKind::Map => {
            let mut keys: Vec<Value> = v.try_iter()?.collect();
            if keys.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            if sort_keys {
                keys.sort_by_key(key_to_string);
            }
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                pad(out, level + 1);
                let key = match k.kind() {
                    ValueKind::Bool => (if k.is_true() { "true" } else { "false" }).to_string(),
                    ValueKind::None => "null".to_string(),
                    _ => key_to_string(k),
                };
                json_str(out, &key, ascii);
                out.push_str(": ");
                write_json(out, &v.get_item(k)?, indent, sort_keys, ascii, level + 1)?;
            }
            if newline {
                pad(out, level);
            }
            out.push('}');
        }
        _ => json_str(out, &v.to_string(), ascii),
    }
    Ok(())
}

fn json_str(out: &mut String, s: &str, ascii: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (ascii && (c as u32) > 0x7f) => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{:04x}", unit));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

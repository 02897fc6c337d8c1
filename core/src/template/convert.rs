//! Conversions between minijinja values, JSON values and Python's text forms (`str()`/`repr()`).

use minijinja::value::{Value, ValueKind};
use minijinja::{Error, ErrorKind};

use crate::vars::{as_unsafe_text, as_vault_text, Value as Json};

use super::lazy::Omit;

/// Converts a JSON value (not from the variable scope) into a minijinja value, deeply.
/// `!unsafe` markers become plain strings.
pub(crate) fn json_to_value(json: &Json) -> Value {
    match json {
        Json::Null => Value::from(()),
        Json::Bool(b) => Value::from(*b),
        Json::Number(n) => number_to_value(n),
        Json::String(s) => Value::from(s.as_str()),
        Json::Array(a) => Value::from(a.iter().map(json_to_value).collect::<Vec<_>>()),
        Json::Object(m) => {
            if let Some(text) = as_unsafe_text(json) {
                return Value::from(text);
            }
            if let Some(ciphertext) = as_vault_text(json) {
                return vault_to_value(ciphertext);
            }
            Value::from_pairs(
                m.iter()
                    .map(|(k, v)| (Value::from(k.as_str()), json_to_value(v))),
            )
        }
    }
}

/// A `!vault` value, decrypted with the installed vault passwords; an error value (failing the
/// template that uses it, naming the fix) when it cannot be. Its text is never templated.
pub(crate) fn vault_to_value(ciphertext: &str) -> Value {
    match crate::vault::decrypt_value(ciphertext) {
        Ok(plain) => Value::from(plain),
        Err(e) => Value::from(Error::new(ErrorKind::InvalidOperation, e.to_string())),
    }
}

/// A JSON number as a minijinja integer or float.
pub(crate) fn number_to_value(n: &serde_json::Number) -> Value {
    if let Some(i) = n.as_i64() {
        Value::from(i)
    } else if let Some(u) = n.as_u64() {
        Value::from(u)
    } else {
        Value::from(n.as_f64().unwrap_or(f64::NAN))
    }
}

/// Converts a minijinja value to JSON. Returns `Ok(None)` for `omit`; `omit` entries inside
/// lists and maps are dropped, as Ansible does.
pub(crate) fn value_to_json(v: &Value) -> Result<Option<Json>, Error> {
    if v.downcast_object_ref::<Omit>().is_some() {
        return Ok(None);
    }
    if let Some(node) = v.downcast_object_ref::<super::lazy::JsonNode>() {
        return node.materialize().map(Some);
    }
    Ok(Some(match v.kind() {
        ValueKind::Undefined => {
            return Err(Error::new(
                ErrorKind::UndefinedError,
                "an undefined value cannot be stored",
            ))
        }
        ValueKind::Invalid => {
            return Err(Error::new(ErrorKind::InvalidOperation, v.to_string()));
        }
        ValueKind::None => Json::Null,
        ValueKind::Bool => Json::Bool(v.is_true()),
        ValueKind::Number => number_to_json(v),
        ValueKind::String => Json::String(v.as_str().unwrap_or_default().to_string()),
        ValueKind::Bytes => {
            Json::String(String::from_utf8_lossy(v.as_bytes().unwrap_or_default()).into_owned())
        }
        ValueKind::Map => {
            let mut out = serde_json::Map::new();
            for key in v.try_iter()? {
                let item = v.get_item(&key)?;
                if let Some(j) = value_to_json(&item)? {
                    out.insert(key_to_string(&key), j);
                }
            }
            Json::Object(out)
        }
        ValueKind::Seq | ValueKind::Iterable => {
            let mut out = Vec::new();
            for item in v.try_iter()? {
                if let Some(j) = value_to_json(&item)? {
                    out.push(j);
                }
            }
            Json::Array(out)
        }
        _ => Json::String(v.to_string()),
    }))
}

/// A JSON map key from a minijinja value (strings as-is, other keys in Python's `str()`).
pub(crate) fn key_to_string(key: &Value) -> String {
    match key.as_str() {
        Some(s) => s.to_string(),
        None => py_str(key),
    }
}

fn number_to_json(v: &Value) -> Json {
    if v.is_integer() {
        if let Some(i) = v.as_i64() {
            return Json::from(i);
        }
        if let Ok(u) = u64::try_from(v.clone()) {
            return Json::from(u);
        }
    }
    let f = f64::try_from(v.clone()).unwrap_or(f64::NAN);
    serde_json::Number::from_f64(f)
        .map(Json::Number)
        .unwrap_or_else(|| Json::String(py_float(f)))
}

/// Python's `repr()` of a float (`1.0`, `0.1`, `1e+20`, `inf`, `nan`).
pub(crate) fn py_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    // Shortest round-trip digits and exponent, laid out with Python's repr rules.
    let sci = format!("{:e}", f);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if negative { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let n = digits.len() as i32;
        let body = if exp >= 0 {
            if n > exp + 1 {
                format!(
                    "{}.{}",
                    &digits[..(exp + 1) as usize],
                    &digits[(exp + 1) as usize..]
                )
            } else {
                format!("{}{}.0", digits, "0".repeat((exp + 1 - n) as usize))
            }
        } else {
            format!("0.{}{}", "0".repeat((-exp - 1) as usize), digits)
        };
        format!("{sign}{body}")
    } else {
        let m = if digits.len() > 1 {
            format!("{}.{}", &digits[..1], &digits[1..])
        } else {
            digits
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{m}e{esign}{:02}", exp.abs())
    }
}

/// Python's `str()` of a value: strings as-is, `None`, `True`/`False`, containers via repr.
pub(crate) fn py_str(v: &Value) -> String {
    match v.kind() {
        ValueKind::String => v.as_str().unwrap_or_default().to_string(),
        ValueKind::Bytes => String::from_utf8_lossy(v.as_bytes().unwrap_or_default()).into_owned(),
        _ => py_repr(v),
    }
}

/// Python's `repr()` of a value.
pub(crate) fn py_repr(v: &Value) -> String {
    let mut out = String::new();
    write_repr(&mut out, v, 0);
    out
}

fn write_repr(out: &mut String, v: &Value, depth: usize) {
    if depth > 100 {
        out.push_str("...");
        return;
    }
    if v.downcast_object_ref::<Omit>().is_some() {
        out.push_str(super::lazy::OMIT_PLACEHOLDER);
        return;
    }
    match v.kind() {
        ValueKind::Undefined => out.push_str(""),
        ValueKind::None => out.push_str("None"),
        ValueKind::Bool => out.push_str(if v.is_true() { "True" } else { "False" }),
        ValueKind::Number => {
            if v.is_integer() {
                out.push_str(&v.to_string());
            } else {
                out.push_str(&py_float(f64::try_from(v.clone()).unwrap_or(f64::NAN)));
            }
        }
        ValueKind::String => quote_py(out, v.as_str().unwrap_or_default()),
        ValueKind::Seq | ValueKind::Iterable => {
            let tuple = v.is_tuple();
            out.push(if tuple { '(' } else { '[' });
            let mut n = 0;
            if let Ok(iter) = v.try_iter() {
                for (i, item) in iter.enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_repr(out, &item, depth + 1);
                    n += 1;
                }
            }
            if tuple && n == 1 {
                out.push(',');
            }
            out.push(if tuple { ')' } else { ']' });
        }
        ValueKind::Map => {
            out.push('{');
            if let Ok(iter) = v.try_iter() {
                for (i, key) in iter.enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_repr(out, &key, depth + 1);
                    out.push_str(": ");
                    let item = v.get_item(&key).unwrap_or_default();
                    write_repr(out, &item, depth + 1);
                }
            }
            out.push('}');
        }
        _ => out.push_str(&v.to_string()),
    }
}

/// Writes `s` quoted the way Python's `repr()` does (single quotes unless the text has one
/// and no double quote).
pub(crate) fn quote_py(out: &mut String, s: &str) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
}

/// Python's `type(x).__name__` for a value, as Ansible's `type_debug` reports it.
pub(crate) fn py_type_name(v: &Value) -> &'static str {
    if v.downcast_object_ref::<Omit>().is_some() {
        return "_OmitType";
    }
    match v.kind() {
        ValueKind::Undefined => "AnsibleUndefined",
        ValueKind::None => "NoneType",
        ValueKind::Bool => "bool",
        ValueKind::Number if v.is_integer() => "int",
        ValueKind::Number => "float",
        ValueKind::String => "str",
        ValueKind::Bytes => "bytes",
        ValueKind::Seq if v.is_tuple() => "tuple",
        ValueKind::Seq => "list",
        ValueKind::Map => "dict",
        ValueKind::Iterable => "generator",
        _ => "object",
    }
}

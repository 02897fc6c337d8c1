//! Serde helpers for module parameters: Ansible accepts loosely typed YAML values (`yes`/`no`
//! strings as booleans, numbers where strings are expected, a single string where a list is
//! expected), and these helpers accept the same.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use serde_json::Value;

use drover_core::params::{ParamType, ParamValue};

use crate::remote::mode::Mode;

impl ParamValue for Mode {
    const KIND: ParamType = ParamType::Mode;
}

/// Parses a value the way Ansible's `boolean()` does: `yes/no`, `true/false`, `on/off`, `y/n`,
/// `t/f`, `1/0` (case-insensitive) and real booleans and the numbers 0 and 1.
pub fn parse_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => {
            let f = n.as_f64()?;
            if f == 1.0 {
                Some(true)
            } else if f == 0.0 {
                Some(false)
            } else {
                None
            }
        }
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "yes" | "on" | "true" | "1" | "y" | "t" | "1.0" => Some(true),
            "no" | "off" | "false" | "0" | "n" | "f" | "0.0" | "" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Deserializes a boolean the way Ansible accepts it (see [`parse_bool`]).
pub fn de_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let v = Value::deserialize(d)?;
    parse_bool(&v).ok_or_else(|| de::Error::custom(format!("expected a boolean, got {v}")))
}

/// Deserializes an optional boolean (`null` is absent).
pub fn de_opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    let v = Value::deserialize(d)?;
    if v.is_null() {
        return Ok(None);
    }
    parse_bool(&v)
        .map(Some)
        .ok_or_else(|| de::Error::custom(format!("expected a boolean, got {v}")))
}

/// Converts a scalar to the string Ansible would see (`42` → `"42"`, `true` → `"True"`).
fn scalar_to_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(true) => Some("True".into()),
        Value::Bool(false) => Some("False".into()),
        _ => None,
    }
}

struct LooseString;

impl<'de> Visitor<'de> for LooseString {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(if v { "True" } else { "False" }.to_string())
    }
}

/// Deserializes a string, accepting numbers and booleans as Ansible does (`owner: 1000`).
pub fn de_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_any(LooseString)
}

/// Deserializes an optional string, accepting numbers and booleans.
pub fn de_opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = Value::deserialize(d)?;
    if v.is_null() {
        return Ok(None);
    }
    scalar_to_string(&v)
        .map(Some)
        .ok_or_else(|| de::Error::custom(format!("expected a string, got {v}")))
}

/// Deserializes a list of strings; a single string is a one-item list (or, when it contains
/// commas, a comma-separated list, as Ansible's `type='list'` does).
pub fn de_string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let v = Value::deserialize(d)?;
    value_to_string_list(&v).map_err(de::Error::custom)
}

/// Deserializes an optional list of strings (see [`de_string_list`]).
pub fn de_opt_string_list<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Vec<String>>, D::Error> {
    let v = Value::deserialize(d)?;
    if v.is_null() {
        return Ok(None);
    }
    value_to_string_list(&v)
        .map(Some)
        .map_err(de::Error::custom)
}

fn value_to_string_list(v: &Value) -> Result<Vec<String>, String> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(|i| {
                scalar_to_string(i)
                    .ok_or_else(|| format!("expected a list of strings, got item {i}"))
            })
            .collect(),
        Value::String(s) if s.contains(',') => {
            Ok(s.split(',').map(|p| p.trim().to_string()).collect())
        }
        other => scalar_to_string(other)
            .map(|s| vec![s])
            .ok_or_else(|| format!("expected a list of strings, got {other}")),
    }
}

/// Deserializes an optional file mode: an integer (YAML `0644` is already 420) or a string
/// (`'0644'`, `'644'`, `'u+rwx,g-w'`, `preserve`).
pub fn de_opt_mode<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Mode>, D::Error> {
    let v = Value::deserialize(d)?;
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_u64()
            .filter(|m| *m <= 0o7777)
            .map(|m| Some(Mode::Octal(m as u32)))
            .ok_or_else(|| de::Error::custom(format!("invalid mode {n}"))),
        Value::String(s) => Mode::parse(&s).map(Some).map_err(de::Error::custom),
        other => Err(de::Error::custom(format!(
            "expected a mode (number or string), got {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    struct P {
        #[serde(default, deserialize_with = "de_bool")]
        flag: bool,
        #[serde(default, deserialize_with = "de_opt_string")]
        owner: Option<String>,
        #[serde(default, deserialize_with = "de_opt_mode")]
        mode: Option<Mode>,
        #[serde(default, deserialize_with = "de_string_list")]
        items: Vec<String>,
    }

    fn parse(v: Value) -> Result<P, serde_json::Error> {
        serde_json::from_value(v)
    }

    #[test]
    fn booleans_accept_yaml_words() {
        assert!(parse(json!({"flag": "yes"})).unwrap().flag);
        assert!(parse(json!({"flag": "True"})).unwrap().flag);
        assert!(!parse(json!({"flag": "no"})).unwrap().flag);
        assert!(parse(json!({"flag": 1})).unwrap().flag);
        assert!(parse(json!({"flag": "maybe"})).is_err());
    }

    #[test]
    fn strings_accept_numbers() {
        assert_eq!(
            parse(json!({"owner": 1000})).unwrap().owner.as_deref(),
            Some("1000")
        );
        assert!(parse(json!({"owner": [1]})).is_err());
    }

    #[test]
    fn modes_accept_ints_and_strings() {
        assert_eq!(
            parse(json!({"mode": 420})).unwrap().mode,
            Some(Mode::Octal(0o644))
        );
        assert_eq!(
            parse(json!({"mode": "0644"})).unwrap().mode,
            Some(Mode::Octal(0o644))
        );
        assert_eq!(
            parse(json!({"mode": "u+x"})).unwrap().mode,
            Some(Mode::Symbolic("u+x".into()))
        );
        assert!(parse(json!({"mode": "bogus"})).is_err());
    }

    #[test]
    fn lists_accept_single_strings() {
        assert_eq!(parse(json!({"items": "a"})).unwrap().items, vec!["a"]);
        assert_eq!(
            parse(json!({"items": "a, b"})).unwrap().items,
            vec!["a", "b"]
        );
        assert_eq!(
            parse(json!({"items": ["a", 2]})).unwrap().items,
            vec!["a", "2"]
        );
    }
}

//! `uri`'s request body and accepted status codes: `body` encoded per `body_format` (JSON as
//! Python's `json.dumps` writes it, form fields URL-encoded) and `status_code` read as a list.

use serde_json::Value;

/// Accepted status codes from `status_code` (a number, a list, or a comma-separated string).
pub fn parse_status_codes(v: &Option<Value>) -> Result<Vec<i64>, String> {
    let items: Vec<Value> = match v {
        None | Some(Value::Null) => return Ok(vec![200]),
        Some(Value::Array(a)) => a.clone(),
        Some(Value::String(s)) => s.split(',').map(|p| Value::from(p.trim())).collect(),
        Some(other) => vec![other.clone()],
    };
    items
        .iter()
        .map(|i| {
            match i {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            }
            .ok_or_else(|| format!("status_code must be a list of integers, got {i}"))
        })
        .collect()
}

/// The body to send and the Content-Type it implies.
pub fn encode_body(body: &Value, format: &str) -> Result<(Vec<u8>, Option<&'static str>), String> {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match format {
        "raw" => Ok((text(body).into_bytes(), None)),
        "json" => {
            let encoded = match body {
                Value::String(s) => s.clone(),
                other => python_json_dumps(other),
            };
            Ok((encoded.into_bytes(), Some("application/json")))
        }
        "form-urlencoded" => {
            let pairs: Vec<(String, String)> = match body {
                Value::String(s) => return Ok((s.clone().into_bytes(), Some("application/x-www-form-urlencoded"))),
                Value::Object(m) => m.iter().map(|(k, v)| (k.clone(), text(v))).collect(),
                Value::Array(items) => items
                    .iter()
                    .map(|i| match i {
                        Value::Array(kv) if kv.len() == 2 => Ok((text(&kv[0]), text(&kv[1]))),
                        other => Err(format!("failed to parse body as form_urlencoded: {other}")),
                    })
                    .collect::<Result<_, _>>()?,
                other => return Err(format!("failed to parse body as form_urlencoded: {other}")),
            };
            let encoded: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
                .collect();
            Ok((encoded.join("&").into_bytes(), Some("application/x-www-form-urlencoded")))
        }
        other => Err(format!(
            "body_format must be one of raw, json, form-urlencoded; got {other} (form-multipart is not supported)"
        )),
    }
}

/// JSON text as Python's `json.dumps` writes it by default (what Ansible sends): `", "` and
/// `": "` separators, non-ASCII characters escaped as `\uXXXX`.
pub fn python_json_dumps(value: &Value) -> String {
    let mut buf = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, PythonJsonFormatter);
    if serde::Serialize::serialize(value, &mut ser).is_err() {
        return value.to_string();
    }
    String::from_utf8(buf).unwrap_or_else(|_| value.to_string())
}

/// serde_json formatter with Python's default separators and `ensure_ascii`.
struct PythonJsonFormatter;

impl serde_json::ser::Formatter for PythonJsonFormatter {
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
    ) -> std::io::Result<()> {
        writer.write_all(b": ")
    }

    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        for c in fragment.chars() {
            if c.is_ascii() {
                writer.write_all(&[c as u8])?;
            } else {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(writer, "\\u{unit:04x}")?;
                }
            }
        }
        Ok(())
    }
}

fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_and_codes() {
        let (b, ct) = encode_body(&serde_json::json!({"a": 1}), "json").unwrap();
        assert_eq!((b, ct), (b"{\"a\": 1}".to_vec(), Some("application/json")));
        let (b, _) = encode_body(
            &serde_json::json!({"name": "caf\u{e9} \u{1f600}", "list": [1, true, null], "o": {}}),
            "json",
        )
        .unwrap();
        // Python: json.dumps({"name": "café 😀", "list": [1, True, None], "o": {}})
        assert_eq!(
            String::from_utf8(b).unwrap(),
            r#"{"name": "caf\u00e9 \ud83d\ude00", "list": [1, true, null], "o": {}}"#
        );
        let (b, _) = encode_body(&Value::from("{\"raw\":1}"), "json").unwrap();
        assert_eq!(b, b"{\"raw\":1}".to_vec());
        let (b, _) = encode_body(&serde_json::json!({"a": "x y&"}), "form-urlencoded").unwrap();
        assert_eq!(b, b"a=x+y%26".to_vec());
        assert!(encode_body(&Value::Null, "form-multipart").is_err());
        assert_eq!(
            parse_status_codes(&Some(serde_json::json!([200, "201"]))).unwrap(),
            vec![200, 201]
        );
        assert_eq!(
            parse_status_codes(&Some(Value::from("200, 204"))).unwrap(),
            vec![200, 204]
        );
        assert_eq!(parse_status_codes(&None).unwrap(), vec![200]);
    }
}

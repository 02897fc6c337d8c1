//! `get_url`'s argument values: `checksum` (and checksum files), `headers`, `timeout`, and the
//! file name a download into a directory gets. `uri` reads `headers` and `timeout` the same way.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::remote::base_name;
use crate::remote::checksum::ChecksumAlgorithm;

/// A parsed `checksum:` argument.
#[derive(Debug, Clone, PartialEq)]
pub struct ChecksumSpec {
    /// Algorithm.
    pub algorithm: ChecksumAlgorithm,
    /// Expected hex digest, or the URL of a checksum file.
    pub value: String,
}

/// Parses `algorithm:value`.
pub fn parse_checksum(spec: &str) -> Result<ChecksumSpec, String> {
    let (algo, value) = spec.split_once(':').ok_or_else(|| {
        "The checksum parameter has to be in format <algorithm>:<checksum>".to_string()
    })?;
    let algorithm: ChecksumAlgorithm =
        serde_json::from_value(Value::String(algo.trim().to_ascii_lowercase())).map_err(|_| {
            format!(
            "unsupported checksum algorithm '{algo}' (md5, sha1, sha224, sha256, sha384, sha512)"
        )
        })?;
    let value = value.trim().to_string();
    if !value.contains("://") && !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "The checksum '{value}' is not a hexadecimal digest"
        ));
    }
    let value = if value.contains("://") {
        value
    } else {
        value.to_ascii_lowercase()
    };
    Ok(ChecksumSpec { algorithm, value })
}

/// Finds the digest for `filename` in a checksum file (`<hex>  <name>` lines, or one bare digest).
pub fn digest_from_list(list: &str, filename: &str) -> Option<String> {
    let lines: Vec<&str> = list
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if let [only] = lines.as_slice() {
        if !only.contains(char::is_whitespace) {
            return Some(only.to_ascii_lowercase());
        }
    }
    lines.iter().find_map(|l| {
        let mut parts = l.split_whitespace();
        let digest = parts.next()?;
        let name = parts
            .next()?
            .trim_start_matches('*')
            .trim_start_matches("./");
        (name == filename).then(|| digest.to_ascii_lowercase())
    })
}

/// Request headers from the `headers` argument.
pub fn parse_header_arg(v: &Option<Value>) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    match v {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (k, v) in m {
                let s = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                out.insert(k.clone(), s);
            }
        }
        Some(Value::String(s)) if !s.trim().is_empty() => {
            for pair in s.split(',') {
                let (k, v) = pair.split_once(':').ok_or_else(|| {
                    format!("headers must be a mapping or 'Key:Value,...', got '{s}'")
                })?;
                out.insert(k.trim().to_string(), v.trim().to_string());
            }
        }
        Some(Value::String(_)) => {}
        Some(other) => return Err(format!("headers must be a mapping, got {other}")),
    }
    Ok(out)
}

/// Reads a timeout given as a number or numeric string.
pub fn parse_timeout(v: &Value) -> Result<u64, String> {
    match v {
        Value::Number(n) => n.as_f64().map(|f| f.ceil().max(1.0) as u64),
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .ok()
            .map(|f| f.ceil().max(1.0) as u64),
        _ => None,
    }
    .ok_or_else(|| format!("timeout must be a number of seconds, got {v}"))
}

/// The file name a download into a directory gets: `Content-Disposition`'s, else the URL's last
/// path segment.
pub fn file_name_for(url: &str, disposition: Option<&str>) -> String {
    if let Some(d) = disposition {
        if let Some(i) = d.find("filename=") {
            let name = d[i + 9..]
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches('"');
            let name = base_name(name);
            if !name.is_empty() && name != "." && name != ".." {
                return name;
            }
        }
    }
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let path = path.split_once("://").map_or(path, |(_, rest)| rest);
    let name = match path.split_once('/') {
        Some((_, p)) => base_name(p),
        None => String::new(),
    };
    if name.is_empty() {
        "index.html".into()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_specs() {
        let c = parse_checksum("sha256:ABCDEF").unwrap();
        assert_eq!(c.algorithm, ChecksumAlgorithm::Sha256);
        assert_eq!(c.value, "abcdef");
        assert!(parse_checksum("sha256").is_err());
        assert!(parse_checksum("crc:00").is_err());
        assert!(parse_checksum("sha1:xyz").is_err());
        assert!(parse_checksum("sha1:http://h/SUMS").is_ok());
    }

    #[test]
    fn checksum_files() {
        let list = "aaa  other.tgz\nBBB *app.tgz\n";
        assert_eq!(digest_from_list(list, "app.tgz").as_deref(), Some("bbb"));
        assert_eq!(digest_from_list("ccc\n", "x").as_deref(), Some("ccc"));
        assert_eq!(digest_from_list(list, "nope"), None);
    }

    #[test]
    fn names_and_headers() {
        assert_eq!(file_name_for("http://h/a/b.tgz?x=1", None), "b.tgz");
        assert_eq!(file_name_for("http://h", None), "index.html");
        assert_eq!(
            file_name_for("http://h/x", Some("attachment; filename=\"r.bin\"")),
            "r.bin"
        );
        let h = parse_header_arg(&Some(Value::String("A:1, B: 2".into()))).unwrap();
        assert_eq!(h["A"], "1");
        assert_eq!(h["B"], "2");
        assert_eq!(parse_timeout(&Value::from("2.5")).unwrap(), 3);
    }
}

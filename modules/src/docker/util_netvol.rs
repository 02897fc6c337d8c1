//! Helpers shared by the network, volume and prune modules: loosely typed string dictionaries
//! (labels, driver options, filters), the difference list community.docker reports, and the
//! address normalisation its IPAM comparison uses.

use std::collections::BTreeMap;
use std::net::IpAddr;

use drover_core::connection::HostConnection;
use drover_core::module::Diff;
use serde::de::{self, Deserializer};
use serde::Deserialize;
use serde_json::{Map, Value};

/// A scalar as the Docker API wants it: booleans as `true`/`false` (Go's spelling), numbers and
/// strings as written; `None` for lists, dictionaries and null.
pub fn api_scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Deserializes an optional dictionary of scalars into strings (driver options: booleans become
/// `true`/`false`, as community.docker's `clean_dict_booleans_for_docker_api` does).
pub fn de_opt_str_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<BTreeMap<String, String>>, D::Error> {
    let v = Option::<Map<String, Value>>::deserialize(d)?;
    let Some(map) = v else { return Ok(None) };
    map.into_iter()
        .map(|(k, v)| match api_scalar(&v) {
            Some(s) => Ok((k, s)),
            None => Err(de::Error::custom(format!(
                "the value of '{k}' must be a string, got {v}"
            ))),
        })
        .collect::<Result<_, _>>()
        .map(Some)
}

/// Deserializes optional labels: string values (numbers are converted); booleans and floats are
/// refused as community.docker's `sanitize_labels` does, since their text is ambiguous.
pub fn de_opt_labels<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<BTreeMap<String, String>>, D::Error> {
    let v = Option::<Map<String, Value>>::deserialize(d)?;
    let Some(map) = v else { return Ok(None) };
    map.into_iter()
        .map(|(k, v)| match &v {
            Value::String(s) => Ok((k, s.clone())),
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok((k, n.to_string())),
            other => Err(de::Error::custom(format!(
                "the value {other} for '{k}' of labels is not a string or something that can be \
                 safely converted to a string"
            ))),
        })
        .collect::<Result<_, _>>()
        .map(Some)
}

/// Deserializes optional prune filters: each value a scalar or a list of scalars (one `--filter`
/// per item), booleans as `true`/`false`.
pub fn de_opt_filters<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Vec<(String, String)>>, D::Error> {
    let v = Option::<Map<String, Value>>::deserialize(d)?;
    let Some(map) = v else { return Ok(None) };
    let mut out = Vec::new();
    for (k, v) in map {
        let items = match &v {
            Value::Array(items) => items.clone(),
            other => vec![other.clone()],
        };
        for item in items {
            let s = api_scalar(&item).ok_or_else(|| {
                de::Error::custom(format!(
                    "the filter '{k}' must be a string or a list, got {v}"
                ))
            })?;
            out.push((k.clone(), s));
        }
    }
    Ok(Some(out))
}

/// community.docker's list of differences between the task's options and the object.
#[derive(Debug, Default, Clone)]
pub struct Differences {
    items: Vec<(String, Value, Value)>,
}

impl Differences {
    /// Records that `name` is `parameter` in the task and `active` on the engine.
    pub fn add(&mut self, name: impl Into<String>, parameter: Value, active: Value) {
        self.items.push((name.into(), parameter, active));
    }

    /// True when nothing differs.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Appends `other`'s entries.
    pub fn merge(&mut self, other: &Differences) {
        self.items.extend(other.items.iter().cloned());
    }

    /// The differing option names (for messages).
    pub fn names(&self) -> Vec<&str> {
        self.items.iter().map(|(n, _, _)| n.as_str()).collect()
    }

    /// The legacy `differences` list: `[{name: {parameter, container}}]`.
    pub fn legacy(&self) -> Value {
        Value::Array(
            self.items
                .iter()
                .map(|(n, p, a)| serde_json::json!({ n: {"parameter": p, "container": a} }))
                .collect(),
        )
    }

    /// A `--diff` entry: the active values before, the task's after (one `name: value` line
    /// each). An option listed twice (a container disconnected, then reconnected) keeps its first
    /// active and its last wanted value; options ending where they started are left out.
    pub fn diff(&self) -> Diff {
        let mut merged: Vec<(&str, &Value, &Value)> = Vec::new();
        for (n, p, a) in &self.items {
            match merged.iter_mut().find(|(m, _, _)| *m == n.as_str()) {
                Some(entry) => entry.1 = p,
                None => merged.push((n.as_str(), p, a)),
            }
        }
        let mut before = String::new();
        let mut after = String::new();
        for (n, p, a) in merged.into_iter().filter(|(_, p, a)| p != a) {
            before.push_str(&format!("{n}: {a}\n"));
            after.push_str(&format!("{n}: {p}\n"));
        }
        Diff {
            before,
            after,
            ..Diff::default()
        }
    }
}

/// Marker after which a failed step's number follows on standard error.
const STEP_FAILED: &str = "@@drover-step-failed@@";

/// Runs several `docker` calls in one round trip, in order, stopping at the first that fails;
/// that one fails the task with the CLI's message, as [`super::api::DockerCli::run_ok`] would.
pub async fn run_steps(
    cli: &super::api::DockerCli,
    conn: &HostConnection,
    steps: &[Vec<String>],
) -> Result<(), super::api::DockerError> {
    if steps.is_empty() {
        return Ok(());
    }
    let script: Vec<String> = steps
        .iter()
        .enumerate()
        .map(|(i, args)| {
            format!(
                "{} >/dev/null || {{ r=$?; printf '\\n%s%s\\n' '{STEP_FAILED}' {i} >&2; exit $r; }}",
                cli.command_line(args)
            )
        })
        .collect();
    let out = conn.run(script.join("\n")).await?;
    if out.success() {
        return Ok(());
    }
    let stderr = out.stderr_str();
    let (msg, step) = match stderr.rsplit_once(STEP_FAILED) {
        Some((msg, i)) => (msg.trim().to_string(), i.trim().parse::<usize>().ok()),
        None => (stderr.trim().to_string(), None),
    };
    let what = step
        .and_then(|i| steps.get(i))
        .map(|a| {
            format!(
                "docker {}",
                a.iter().take(2).cloned().collect::<Vec<_>>().join(" ")
            )
        })
        .unwrap_or_else(|| "docker".into());
    let msg = msg
        .strip_prefix("Error response from daemon: ")
        .unwrap_or(&msg);
    let msg = if out.rc == 124 {
        "timed out (the timeout option)".to_string()
    } else {
        msg.to_string()
    };
    Err(super::api::DockerError::failed(format!("{what}: {msg}")))
}

/// An IP address in its canonical text (`2001:0db8::0001` → `2001:db8::1`); other text unchanged.
pub fn normalize_ip_address(s: &str) -> String {
    s.parse::<IpAddr>()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| s.to_string())
}

/// A network in CIDR notation in its canonical text; text that is not a network (or has host bits
/// set, which Python's `ip_network` refuses) is unchanged.
pub fn normalize_ip_network(s: &str) -> String {
    let Some((addr, len)) = s.split_once('/') else {
        return match s.parse::<IpAddr>() {
            Ok(a) => format!("{a}/{}", if a.is_ipv4() { 32 } else { 128 }),
            Err(_) => s.to_string(),
        };
    };
    let (Ok(addr), Ok(len)) = (addr.parse::<IpAddr>(), len.parse::<u32>()) else {
        return s.to_string();
    };
    let host_bits_clear = match addr {
        IpAddr::V4(a) if len <= 32 => len == 32 || u32::from(a) & (u32::MAX >> len) == 0,
        IpAddr::V6(a) if len <= 128 => len == 128 || u128::from(a) & (u128::MAX >> len) == 0,
        _ => false,
    };
    if host_bits_clear {
        format!("{addr}/{len}")
    } else {
        s.to_string()
    }
}

/// Whether `cidr` is a CIDR network community.docker's `ipam_config.subnet` check accepts.
pub fn valid_cidr(cidr: &str) -> bool {
    let Some((addr, len)) = cidr.split_once('/') else {
        return false;
    };
    let Ok(len) = len.parse::<u32>() else {
        return false;
    };
    if addr.contains(':') {
        addr.chars().all(|c| c.is_ascii_hexdigit() || c == ':') && len <= 128
    } else {
        let parts: Vec<&str> = addr.split('.').collect();
        parts.len() == 4
            && parts
                .iter()
                .all(|p| (1..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_digit()))
            && len <= 32
    }
}

/// `key=value` arguments for a repeated CLI flag (`--label`, `--opt`).
pub fn flag_pairs<'a>(
    flag: &str,
    map: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> Vec<String> {
    map.into_iter()
        .flat_map(|(k, v)| [flag.to_string(), format!("{k}={v}")])
        .collect()
}

/// Whether every entry of `wanted` is in `actual` (a JSON object) with the same string value.
pub fn subset_differences(
    out: &mut Differences,
    name: &str,
    wanted: &BTreeMap<String, String>,
    actual: &Value,
    present_is_enough: bool,
) {
    let actual_map = actual.as_object().filter(|m| !m.is_empty());
    let Some(actual_map) = actual_map else {
        out.add(name, serde_json::json!(wanted), actual.clone());
        return;
    };
    for (k, v) in wanted {
        let have = actual_map.get(k);
        let same = match have {
            Some(Value::String(s)) => s == v && !(present_is_enough && s.is_empty()),
            _ => false,
        };
        if !same {
            out.add(
                format!("{name}.{k}"),
                Value::from(v.as_str()),
                have.cloned().unwrap_or(Value::Null),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_and_addresses_are_normalized() {
        assert_eq!(normalize_ip_network("10.1.0.0/16"), "10.1.0.0/16");
        assert_eq!(normalize_ip_network("10.1.0.1/16"), "10.1.0.1/16");
        assert_eq!(
            normalize_ip_network("fd00:0000::0/64"),
            "fd00::/64".to_string()
        );
        assert_eq!(normalize_ip_address("fd00:0::0001"), "fd00::1");
        assert_eq!(normalize_ip_address("nonsense"), "nonsense");
        assert!(valid_cidr("10.0.0.0/8"));
        assert!(valid_cidr("fd00::/64"));
        assert!(!valid_cidr("10.0.0.0"));
        assert!(!valid_cidr("10.0.0/8"));
    }

    #[test]
    fn subsets_are_compared_by_key() {
        let mut d = Differences::default();
        let wanted: BTreeMap<String, String> = [("a".to_string(), "1".to_string())].into();
        subset_differences(
            &mut d,
            "labels",
            &wanted,
            &serde_json::json!({"a": "1", "b": "2"}),
            false,
        );
        assert!(d.is_empty());
        subset_differences(
            &mut d,
            "labels",
            &wanted,
            &serde_json::json!({"a": "2"}),
            false,
        );
        assert_eq!(d.names(), vec!["labels.a"]);
        subset_differences(&mut d, "labels", &wanted, &Value::Null, false);
        assert_eq!(d.names(), vec!["labels.a", "labels"]);
    }
}

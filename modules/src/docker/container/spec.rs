//! Reading community.docker's option syntaxes: sizes with units, durations, published ports,
//! volumes, shell-like command lines, env files.

use std::collections::BTreeMap;

use serde_json::{json, Value};

/// Splits a command line into words as Python's `shlex.split` does (POSIX mode, no comments).
pub fn shell_split(line: &str) -> Result<Vec<String>, String> {
    drover_core::inventory::shlex::split_command(line).map_err(|e| format!("{e} in '{line}'"))
}

/// `<number>[<unit>]` (`512`, `512k`, `1.5G`, `64MB`, `1GiB`) in bytes, with community.docker's
/// binary units; `None` when it is not one.
pub fn bytes_with_unit(text: &str) -> Option<f64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let number: f64 = num.parse().ok()?;
    let unit = unit.trim().to_ascii_uppercase();
    let unit = unit
        .strip_suffix("IB")
        .or_else(|| unit.strip_suffix('B'))
        .unwrap_or(&unit);
    let power = match unit {
        "" => 0,
        "K" => 1,
        "M" => 2,
        "G" => 3,
        "T" => 4,
        "P" => 5,
        "E" => 6,
        _ => return None,
    };
    Some(number * 1024f64.powi(power))
}

/// A size with an optional unit (`512`, `512k`, `1.5G`, `64MB`, `1GiB`) in bytes, as
/// community.docker's `human_to_bytes` reads it (units are powers of 1024).
pub fn parse_size(name: &str, text: &str) -> Result<i64, String> {
    bytes_with_unit(text)
        .map(|n| n as i64)
        .ok_or_else(|| format!("Failed to convert {name} to bytes: can't interpret '{text}'"))
}

/// A duration (`30s`, `1m30s`, `500ms`, `1h`, a plain number = seconds) in nanoseconds.
pub fn parse_duration(name: &str, text: &str) -> Result<i64, String> {
    let t = text.trim();
    if let Ok(secs) = t.parse::<f64>() {
        return Ok((secs * 1e9) as i64);
    }
    let bad = || format!("Cannot parse duration '{text}' of {name}");
    let mut total = 0f64;
    let mut rest = t;
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let value: f64 = rest[..n].parse().map_err(|_| bad())?;
        rest = &rest[n..];
        let u = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let factor = match &rest[..u] {
            "ms" => 1e6,
            "us" => 1e3,
            "ns" => 1.0,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(bad()),
        };
        total += value * factor;
        rest = &rest[u..];
    }
    Ok(total as i64)
}

/// `80`, `80/udp`, `8000-8002/tcp` → the ports with protocol (`80/tcp`, …); ranges expanded.
pub fn parse_container_ports(spec: &str) -> Result<Vec<String>, String> {
    let (ports, proto) = spec.split_once('/').unwrap_or((spec, "tcp"));
    let proto = proto.to_ascii_lowercase();
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(format!("Invalid protocol '{proto}' in port '{spec}'"));
    }
    let (lo, hi) = port_range(ports, spec)?;
    Ok((lo..=hi).map(|p| format!("{p}/{proto}")).collect())
}

fn port_number(text: &str, spec: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(p) if (1..=65535).contains(&p) => Ok(p),
        _ => Err(format!("Invalid port '{text}' in published port '{spec}'")),
    }
}

fn port_range(text: &str, spec: &str) -> Result<(u32, u32), String> {
    match text.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (port_number(a, spec)?, port_number(b, spec)?);
            if b < a {
                return Err(format!("Invalid port range '{text}' in '{spec}'"));
            }
            Ok((a, b))
        }
        None => {
            let p = port_number(text, spec)?;
            Ok((p, p))
        }
    }
}

/// Published ports in the Engine's `PortBindings` shape (`{"80/tcp": [{HostIp, HostPort}]}`),
/// every binding with an explicit host IP (`default_ip` when the spec names none).
pub fn parse_published(specs: &[String], default_ip: &str) -> Result<Value, String> {
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for spec in specs {
        let spec = spec.trim();
        // An IPv6 host address is written in brackets: `[::1]:8080:80`.
        let (ip, rest) = if let Some(r) = spec.strip_prefix('[') {
            let (ip, rest) = r
                .split_once("]:")
                .ok_or_else(|| format!("Invalid published port '{spec}'"))?;
            (Some(ip.to_string()), rest.to_string())
        } else {
            (None, spec.to_string())
        };
        let parts: Vec<&str> = rest.split(':').collect();
        let (host_ip, host_port, container) = match (ip, parts.as_slice()) {
            (Some(ip), [hp, c]) => (ip, hp.to_string(), c.to_string()),
            (None, [c]) => (default_ip.to_string(), String::new(), c.to_string()),
            (None, [hp, c]) => (default_ip.to_string(), hp.to_string(), c.to_string()),
            (None, [ip, hp, c]) => (ip.to_string(), hp.to_string(), c.to_string()),
            _ => return Err(format!("Invalid published port '{spec}'")),
        };
        let host_ip = if host_ip.is_empty() {
            default_ip.to_string()
        } else {
            host_ip
        };
        let container_ports = parse_container_ports(&container)
            .map_err(|e| format!("{e} (published port '{spec}')"))?;
        let host_ports: Vec<String> = if host_port.is_empty() {
            vec![String::new(); container_ports.len()]
        } else {
            let (lo, hi) = port_range(&host_port, spec)?;
            if hi == lo || container_ports.len() == 1 {
                if container_ports.len() > 1 {
                    vec![lo.to_string(); container_ports.len()]
                } else if hi == lo {
                    vec![lo.to_string()]
                } else {
                    vec![format!("{lo}-{hi}")]
                }
            } else if (hi - lo + 1) as usize == container_ports.len() {
                (lo..=hi).map(|p| p.to_string()).collect()
            } else {
                return Err(format!(
                    "Host port range and container port range of '{spec}' differ in length"
                ));
            }
        };
        for (cport, hport) in container_ports.into_iter().zip(host_ports) {
            out.entry(cport)
                .or_default()
                .push(json!({"HostIp": host_ip, "HostPort": hport}));
        }
    }
    Ok(serde_json::to_value(out).unwrap_or(Value::Null))
}

/// One `volumes` entry: a bind or named volume (`source`, `target`, `mode`) or an anonymous
/// volume (`target` only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeSpec {
    /// Host path or volume name; `None` for an anonymous volume.
    pub source: Option<String>,
    /// Path in the container.
    pub target: String,
    /// Mode (`ro`, `rw`, `z`, …), `rw` when not given.
    pub mode: String,
}

impl VolumeSpec {
    /// Reads `/host:/ctr[:mode]`, `name:/ctr[:mode]` or `/ctr`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let parts: Vec<&str> = spec.split(':').collect();
        let (source, target, mode) = match parts.as_slice() {
            [t] => (None, t.to_string(), "rw".to_string()),
            [s, t] if t.starts_with('/') => (Some(s.to_string()), t.to_string(), "rw".into()),
            [t, m] => (None, t.to_string(), m.to_string()),
            [s, t, m] => (Some(s.to_string()), t.to_string(), m.to_string()),
            _ => return Err(format!("Invalid volume specification '{spec}'")),
        };
        if !target.starts_with('/') {
            return Err(format!(
                "Invalid volume specification '{spec}': the container path must be absolute"
            ));
        }
        Ok(Self {
            source,
            target,
            mode,
        })
    }

    /// The `HostConfig.Binds` entry (`src:dst:mode`), `None` for an anonymous volume.
    pub fn bind(&self) -> Option<String> {
        self.source
            .as_ref()
            .map(|s| format!("{s}:{}:{}", self.target, self.mode))
    }
}

/// A `HostConfig.Binds` entry with the default mode made explicit (`/a:/b` → `/a:/b:rw`).
pub fn normalize_bind(bind: &str) -> String {
    let parts: Vec<&str> = bind.split(':').collect();
    if parts.len() == 2 {
        format!("{bind}:rw")
    } else {
        bind.to_string()
    }
}

/// Reads an env file (`NAME=value` lines, `#` comments, blank lines) as docker does.
pub fn parse_env_file(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            out.push((k.to_string(), v.to_string()));
        }
    }
    out
}

/// A capability name as the Engine stores it (`net_admin` → `CAP_NET_ADMIN`).
pub fn normalize_cap(cap: &str) -> String {
    let up = cap.trim().to_ascii_uppercase();
    if up == "ALL" || up.starts_with("CAP_") {
        up
    } else {
        format!("CAP_{up}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_ports_in_every_form() {
        let p = |s: &[&str]| {
            parse_published(
                &s.iter().map(|x| x.to_string()).collect::<Vec<_>>(),
                "0.0.0.0",
            )
        };
        assert_eq!(
            p(&["8080:80", "127.0.0.1:9090:90", "53/udp", "[::1]:7070:70"]).unwrap(),
            json!({
                "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}],
                "90/tcp": [{"HostIp": "127.0.0.1", "HostPort": "9090"}],
                "53/udp": [{"HostIp": "0.0.0.0", "HostPort": ""}],
                "70/tcp": [{"HostIp": "::1", "HostPort": "7070"}],
            })
        );
        assert_eq!(
            p(&["8000-8001:9000-9001", "127.0.0.1::81"]).unwrap(),
            json!({
                "9000/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8000"}],
                "9001/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8001"}],
                "81/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}],
            })
        );
        assert!(p(&["99999:80"]).unwrap_err().contains("99999"));
        assert!(p(&["80/xyz"]).is_err());
    }

    #[test]
    fn sizes_durations_and_words() {
        assert_eq!(parse_size("m", "512M").unwrap(), 512 * 1024 * 1024);
        assert_eq!(parse_size("m", "1g").unwrap(), 1 << 30);
        assert_eq!(parse_size("m", "1024").unwrap(), 1024);
        assert_eq!(parse_size("m", "64MB").unwrap(), 64 << 20);
        assert!(parse_size("m", "12Q").is_err());
        assert_eq!(parse_duration("i", "1m30s").unwrap(), 90_000_000_000);
        assert_eq!(parse_duration("i", "500ms").unwrap(), 500_000_000);
        assert_eq!(
            shell_split("sh -c 'echo a  b' \"x\\\"y\" z\\ w").unwrap(),
            ["sh", "-c", "echo a  b", "x\"y", "z w"]
        );
        // No comments (unlike the INI inventory's splitting); `\$` in double quotes stays as is.
        assert_eq!(
            shell_split("echo a#b # \"\\$x\"").unwrap(),
            ["echo", "a#b", "#", "\\$x"]
        );
        assert!(shell_split("echo 'open").is_err());
        assert_eq!(
            VolumeSpec::parse("/a:/b:ro").unwrap().bind().unwrap(),
            "/a:/b:ro"
        );
        assert_eq!(VolumeSpec::parse("/data").unwrap().source, None);
        assert_eq!(normalize_bind("vol:/x"), "vol:/x:rw");
    }
}

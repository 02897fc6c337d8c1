//! Comparing a desired value with the container's, as community.docker's `compare_generic`:
//! per option a data type (value, list, set, set of dicts, dict) and a mode (`strict`,
//! `ignore`, `allow_more_present`), overridable with the `comparisons` option.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::params::ContainerParams;
use crate::docker::api::DockerError;

/// The shape of an option's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A single value.
    Value,
    /// A list whose order matters.
    List,
    /// A list whose order does not matter.
    Set,
    /// A list of dicts whose order does not matter.
    SetDict,
    /// A mapping.
    Dict,
}

/// How an option is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Equal or different.
    Strict,
    /// Never different.
    Ignore,
    /// The container may have more entries than asked for.
    AllowMore,
}

impl Kind {
    /// community.docker's default mode for this shape.
    pub fn default_mode(self) -> Mode {
        match self {
            Kind::Value | Kind::List => Mode::Strict,
            _ => Mode::AllowMore,
        }
    }
}

fn len_of(v: &Value) -> usize {
    match v {
        Value::Array(a) => a.len(),
        Value::Object(o) => o.len(),
        Value::String(s) => s.len(),
        _ => 1,
    }
}

/// Whether `b` holds every key of `a` with the same value.
fn dict_allow_more(a: &Map<String, Value>, b: &Map<String, Value>) -> bool {
    a.iter().all(|(k, v)| b.get(k) == Some(v))
}

/// True when the desired value `a` matches the container's `b`.
pub fn matches(a: &Value, b: &Value, mode: Mode, kind: Kind) -> bool {
    if mode == Mode::Ignore {
        return true;
    }
    if a.is_null() || b.is_null() {
        if a == b {
            return true;
        }
        if kind == Kind::Value {
            return false;
        }
        if mode == Mode::AllowMore && a.is_null() {
            return true;
        }
        return len_of(if a.is_null() { b } else { a }) == 0;
    }
    let empty = Vec::new();
    let arr = |v: &'_ Value| -> Vec<Value> { v.as_array().unwrap_or(&empty).clone() };
    match kind {
        Kind::Value => a == b,
        Kind::List => {
            let (a, b) = (arr(a), arr(b));
            if mode == Mode::Strict {
                return a == b;
            }
            let mut i = 0;
            for v in &a {
                while i < b.len() && &b[i] != v {
                    i += 1;
                }
                if i == b.len() {
                    return false;
                }
                i += 1;
            }
            true
        }
        Kind::Dict => {
            let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
                return a == b;
            };
            if mode == Mode::Strict {
                a == b
            } else {
                dict_allow_more(a, b)
            }
        }
        Kind::Set => {
            let key = |v: &Value| v.to_string();
            let sa: BTreeMap<String, ()> = arr(a).iter().map(|v| (key(v), ())).collect();
            let sb: BTreeMap<String, ()> = arr(b).iter().map(|v| (key(v), ())).collect();
            if mode == Mode::Strict {
                sa.keys().eq(sb.keys())
            } else {
                sa.keys().all(|k| sb.contains_key(k))
            }
        }
        Kind::SetDict => {
            let (a, b) = (arr(a), arr(b));
            let found = |x: &Value, ys: &[Value]| {
                ys.iter().any(|y| match (x.as_object(), y.as_object()) {
                    (Some(x), Some(y)) => dict_allow_more(x, y),
                    _ => x == y,
                })
            };
            if !a.iter().all(|x| found(x, &b)) {
                return false;
            }
            if mode == Mode::Strict {
                return b.iter().all(|y| {
                    a.iter().any(|x| match (x.as_object(), y.as_object()) {
                        (Some(x), Some(y)) => dict_allow_more(x, y),
                        _ => x == y,
                    })
                });
            }
            true
        }
    }
}

/// Reads a comparison mode name.
pub fn parse_mode(text: &str) -> Option<Mode> {
    match text {
        "strict" => Some(Mode::Strict),
        "ignore" => Some(Mode::Ignore),
        "allow_more_present" => Some(Mode::AllowMore),
        _ => None,
    }
}

/// Every option `comparisons` may name (aliases resolved by [`comparison_key`]).
const COMPARABLE: &[&str] = &[
    "auto_remove",
    "blkio_weight",
    "capabilities",
    "cap_drop",
    "cgroupns_mode",
    "cgroup_parent",
    "command",
    "cpu_period",
    "cpu_quota",
    "cpuset_cpus",
    "cpuset_mems",
    "cpu_shares",
    "entrypoint",
    "cpus",
    "detach",
    "interactive",
    "devices",
    "device_read_bps",
    "device_write_bps",
    "device_read_iops",
    "device_write_iops",
    "device_requests",
    "device_cgroup_rules",
    "dns_servers",
    "dns_opts",
    "dns_search_domains",
    "domainname",
    "env",
    "env_file",
    "etc_hosts",
    "groups",
    "healthcheck",
    "hostname",
    "image",
    "init",
    "ipc_mode",
    "kernel_memory",
    "labels",
    "links",
    "log_driver",
    "log_options",
    "mac_address",
    "memory",
    "memory_reservation",
    "memory_swap",
    "memory_swappiness",
    "stop_timeout",
    "network_mode",
    "networks",
    "oom_killer",
    "oom_score_adj",
    "pid_mode",
    "pids_limit",
    "platform",
    "privileged",
    "read_only",
    "restart_policy",
    "restart_retries",
    "runtime",
    "security_opts",
    "shm_size",
    "stop_signal",
    "storage_opts",
    "sysctls",
    "tmpfs",
    "tty",
    "ulimits",
    "user",
    "userns_mode",
    "uts",
    "volume_driver",
    "volumes_from",
    "working_dir",
    "mounts",
    "volumes",
    "exposed_ports",
    "publish_all_ports",
    "published_ports",
];

fn comparison_key(key: &str) -> Option<&'static str> {
    let key = match key {
        "exposed" | "expose" => "exposed_ports",
        "ports" => "published_ports",
        "log_opt" => "log_options",
        other => other,
    };
    COMPARABLE.iter().copied().find(|k| *k == key)
}

/// The comparison modes the task asks for.
pub(super) struct Comparisons {
    star: Option<Mode>,
    explicit: Vec<(&'static str, Mode)>,
    networks_given: bool,
}

impl Comparisons {
    pub(super) fn parse(p: &ContainerParams) -> Result<Self, DockerError> {
        let mut c = Comparisons {
            star: None,
            explicit: Vec::new(),
            networks_given: p.networks.is_some(),
        };
        for (key, value) in p.comparisons.iter().flatten() {
            let text = value.as_str().unwrap_or_default();
            let mode = parse_mode(text)
                .ok_or_else(|| DockerError::failed(format!("Unknown comparison mode '{text}'!")))?;
            if key == "*" {
                if mode == Mode::AllowMore {
                    return Err(DockerError::failed(
                        "The wildcard can only be used with comparison modes 'strict' and 'ignore'!",
                    ));
                }
                c.star = Some(mode);
                continue;
            }
            let main = comparison_key(key).ok_or_else(|| {
                DockerError::failed(format!(
                    "Unknown module option '{key}' in comparisons dict!"
                ))
            })?;
            if c.explicit.iter().any(|(k, _)| *k == main) {
                return Err(DockerError::failed(format!(
                    "Both '{key}' and an alias of {main} are specified in comparisons dict!"
                )));
            }
            c.explicit.push((main, mode));
        }
        Ok(c)
    }

    pub(super) fn mode(&self, name: &str, kind: Kind) -> Result<Mode, DockerError> {
        let name = if name == "volume_binds" {
            "volumes"
        } else {
            name
        };
        if let Some((_, m)) = self.explicit.iter().find(|(k, _)| *k == name) {
            if *m == Mode::AllowMore && kind == Kind::Value {
                return Err(DockerError::failed(format!(
                    "Option '{name}' is a value and not a set/list/dict, so its comparison cannot be allow_more_present"
                )));
            }
            return Ok(*m);
        }
        if let Some(star) = self.star {
            if name != "networks" || self.networks_given {
                return Ok(star);
            }
        }
        Ok(match name {
            "stop_timeout" => Mode::Ignore,
            // On purpose unlike community.docker (which allows more present for both): a port or
            // network removed from the task is a difference, the complaint users file most.
            "published_ports" | "networks" => Mode::Strict,
            _ => kind.default_mode(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn generic_comparison() {
        let am = Mode::AllowMore;
        assert!(matches(&json!(["a"]), &json!(["b", "a"]), am, Kind::Set));
        assert!(!matches(
            &json!(["a"]),
            &json!(["b", "a"]),
            Mode::Strict,
            Kind::Set
        ));
        assert!(matches(
            &json!({"x": "1"}),
            &json!({"x": "1", "y": "2"}),
            am,
            Kind::Dict
        ));
        assert!(!matches(
            &json!({"x": "2"}),
            &json!({"x": "1"}),
            am,
            Kind::Dict
        ));
        assert!(matches(&json!([]), &Value::Null, Mode::Strict, Kind::List));
        assert!(!matches(
            &json!(true),
            &Value::Null,
            Mode::Strict,
            Kind::Value
        ));
        assert!(matches(
            &json!([{"Name": "n", "Soft": 1}]),
            &json!([{"Name": "n", "Soft": 1, "Hard": 2}]),
            Mode::Strict,
            Kind::SetDict
        ));
        assert!(matches(&json!(1), &json!(2), Mode::Ignore, Kind::Value));
    }
}

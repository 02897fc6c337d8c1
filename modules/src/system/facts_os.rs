//! The host's distribution (`/etc/os-release`, `/etc/lsb-release`) and name resolution
//! (`/etc/resolv.conf`) as Ansible's facts: `distribution*`, `os_family`, `lsb`, `dns`.

use std::collections::BTreeMap;

use drover_core::vars::{Map, Value};
use serde_json::json;

use super::facts_build::s;

/// Parses `KEY=value` lines of os-release (quotes removed).
fn os_release(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|x| x.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')))
                .unwrap_or(v);
            (k.trim().to_string(), v.to_string())
        })
        .collect()
}

/// Distribution facts from `/etc/os-release` (and `/etc/debian_version` for Debian's point release).
pub(super) fn distribution_facts(text: &str) -> Vec<(String, Value)> {
    let os = os_release(text);
    let get = |k: &str| os.get(k).cloned().unwrap_or_default();
    let id = get("ID");
    let distribution = match id.as_str() {
        "debian" => "Debian".to_string(),
        "ubuntu" => "Ubuntu".to_string(),
        "centos" => "CentOS".to_string(),
        "rhel" => "RedHat".to_string(),
        "fedora" => "Fedora".to_string(),
        "rocky" => "Rocky".to_string(),
        "almalinux" => "AlmaLinux".to_string(),
        "alpine" => "Alpine".to_string(),
        "arch" => "Archlinux".to_string(),
        "ol" => "OracleLinux".to_string(),
        "amzn" => "Amazon".to_string(),
        "opensuse-leap" | "opensuse" => "openSUSE Leap".to_string(),
        "sles" => "SLES".to_string(),
        "" => "Linux".to_string(),
        other => {
            let mut c = other.chars();
            c.next()
                .map(|first| first.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        }
    };
    let family = match id.as_str() {
        "debian" | "ubuntu" | "linuxmint" | "raspbian" | "kali" | "devuan" | "pop" => "Debian",
        "centos" | "rhel" | "fedora" | "rocky" | "almalinux" | "ol" | "amzn" => "RedHat",
        "alpine" => "Alpine",
        "arch" | "manjaro" => "Archlinux",
        "opensuse-leap" | "opensuse" | "sles" | "opensuse-tumbleweed" => "Suse",
        "gentoo" => "Gentoo",
        _ => distribution.as_str(),
    }
    .to_string();
    let debian_version = get("DROVER_DEBIAN_VERSION");
    let version = if id == "debian" && debian_version.starts_with(|c: char| c.is_ascii_digit()) {
        debian_version.clone()
    } else {
        get("VERSION_ID")
    };
    let major = version.split('.').next().unwrap_or("").to_string();
    let minor = version.split('.').nth(1).map(str::to_string);
    let mut out = vec![
        ("distribution".to_string(), s(distribution)),
        ("distribution_version".to_string(), s(version)),
        ("distribution_major_version".to_string(), s(major)),
        (
            "distribution_release".to_string(),
            s(get("VERSION_CODENAME")),
        ),
        ("os_family".to_string(), s(family)),
    ];
    if let Some(minor) = minor {
        out.push(("distribution_minor_version".into(), s(minor)));
    }
    if id == "debian" {
        out.push(("distribution_file_path".into(), s("/etc/os-release")));
        out.push(("distribution_file_variety".into(), s("Debian")));
        out.push(("distribution_file_parsed".into(), Value::Bool(true)));
    }
    out
}

/// `dns` from resolv.conf: nameservers, domain, search, options.
pub(super) fn dns_facts(text: &str) -> Value {
    let mut dns = Map::new();
    for l in text.lines() {
        let mut w = l.split_whitespace();
        let (Some(key), rest) = (w.next(), w.collect::<Vec<_>>()) else {
            continue;
        };
        match key {
            "nameserver" => {
                let list = dns
                    .entry("nameservers")
                    .or_insert_with(|| Value::Array(vec![]));
                if let (Value::Array(a), Some(ns)) = (list, rest.first()) {
                    a.push(s(*ns));
                }
            }
            "domain" => {
                if let Some(d) = rest.first() {
                    dns.insert("domain".into(), s(*d));
                }
            }
            "search" => {
                dns.insert(
                    "search".into(),
                    Value::Array(rest.iter().map(|x| s(*x)).collect()),
                );
            }
            "sortlist" => {
                dns.insert(
                    "sortlist".into(),
                    Value::Array(rest.iter().map(|x| s(*x)).collect()),
                );
            }
            "options" => {
                let opts = dns.entry("options").or_insert_with(|| json!({}));
                if let Value::Object(o) = opts {
                    for opt in rest {
                        match opt.split_once(':') {
                            Some((k, v)) => o.insert(k.into(), s(v)),
                            None => o.insert(opt.into(), Value::Bool(true)),
                        };
                    }
                }
            }
            _ => {}
        }
    }
    Value::Object(dns)
}

/// `lsb` from `/etc/lsb-release` (empty when absent).
pub(super) fn lsb_facts(text: &str) -> Value {
    let rel = os_release(text);
    let mut m = Map::new();
    for (k, name) in [
        ("DISTRIB_ID", "id"),
        ("DISTRIB_RELEASE", "release"),
        ("DISTRIB_CODENAME", "codename"),
        ("DISTRIB_DESCRIPTION", "description"),
    ] {
        if let Some(v) = rel.get(k) {
            m.insert(name.into(), s(v.clone()));
        }
    }
    if let Some(r) = rel.get("DISTRIB_RELEASE") {
        m.insert("major_release".into(), s(r.split('.').next().unwrap_or("")));
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_distribution() {
        let f: Map<String, Value> = distribution_facts(
            "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nDROVER_DEBIAN_VERSION=12.7\n",
        )
        .into_iter()
        .collect();
        assert_eq!(f["distribution"], "Debian");
        assert_eq!(f["os_family"], "Debian");
        assert_eq!(f["distribution_version"], "12.7");
        assert_eq!(f["distribution_major_version"], "12");
        assert_eq!(f["distribution_minor_version"], "7");
        assert_eq!(f["distribution_release"], "bookworm");
    }

    #[test]
    fn dns() {
        let dns = dns_facts("nameserver 1.2.3.4\nsearch a b\noptions ndots:2 rotate\n");
        assert_eq!(dns["nameservers"][0], "1.2.3.4");
        assert_eq!(dns["search"][1], "b");
        assert_eq!(dns["options"]["ndots"], "2");
        assert_eq!(dns["options"]["rotate"], true);
    }
}

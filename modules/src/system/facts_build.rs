//! Turns the fact probe's sections into Ansible-named facts (`ansible_distribution`, …).
//!
//! Distribution, `lsb` and `dns` facts are built in `facts_os`, hardware and mounts in
//! `facts_hw`, network facts in `facts_net`, `ansible_local` in `facts_local`.

use std::collections::BTreeMap;

use drover_core::vars::{Map, Value, Vars};
use serde_json::json;

use super::facts_hw::hardware_facts;
use super::facts_os::{distribution_facts, dns_facts, lsb_facts};
use super::facts_probe::Collector;

/// Raw probe sections by name.
pub type Sections = BTreeMap<String, String>;

pub(super) fn lines(sections: &Sections, name: &str) -> Vec<String> {
    sections
        .get(name)
        .map(|s| s.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

pub(super) fn line(l: &[String], i: usize) -> String {
    l.get(i).cloned().unwrap_or_default()
}

pub(super) fn s(v: impl Into<String>) -> Value {
    Value::String(v.into())
}

/// Adds the facts of one collector to `facts` (keys with the `ansible_` prefix).
pub fn add_collector_facts(c: Collector, sec: &Sections, facts: &mut Vars) {
    let mut put = |k: &str, v: Value| {
        facts.insert(format!("ansible_{k}"), v);
    };
    match c {
        Collector::Apparmor => {
            let status = lines(sec, "apparmor").first().cloned().unwrap_or_default();
            put("apparmor", json!({ "status": status }));
        }
        Collector::Cmdline => {
            let text = lines(sec, "cmdline").first().cloned().unwrap_or_default();
            let (cmdline, proc_cmdline) = parse_cmdline(&text);
            put("cmdline", Value::Object(cmdline));
            put("proc_cmdline", Value::Object(proc_cmdline));
        }
        Collector::DateTime => {
            for (k, v) in date_time_facts(&lines(sec, "date_time")) {
                put(&k, v);
            }
        }
        Collector::Distribution => {
            for (k, v) in distribution_facts(sec.get("distribution").map_or("", String::as_str)) {
                put(&k, v);
            }
            put("lsb", lsb_facts(sec.get("lsb").map_or("", String::as_str)));
        }
        Collector::Dns => put("dns", dns_facts(sec.get("dns").map_or("", String::as_str))),
        Collector::Env => put("env", env_facts(sec.get("env").map_or("", String::as_str))),
        Collector::Fips => {
            let on = lines(sec, "fips").first().is_some_and(|l| l.trim() == "1");
            put("fips", Value::Bool(on));
        }
        Collector::Local => put("local", super::facts_local::local_facts(sec)),
        Collector::PkgMgr => {
            let m = lines(sec, "pkg_mgr").first().cloned().unwrap_or_default();
            let name = match m.as_str() {
                "apt-get" => "apt",
                "dnf5" => "dnf5",
                "xbps-install" => "xbps",
                "emerge" => "portage",
                "pkg" => "pkgng",
                "" => "unknown",
                other => other,
            };
            put("pkg_mgr", s(name));
        }
        Collector::Platform => {
            let l = lines(sec, "platform");
            let fqdn = line(&l, 6);
            put("system", s(line(&l, 0)));
            put("kernel", s(line(&l, 1)));
            put("kernel_version", s(line(&l, 2)));
            put("machine", s(line(&l, 3)));
            put("architecture", s(line(&l, 3)));
            put("nodename", s(line(&l, 4)));
            put(
                "hostname",
                s(line(&l, 5).split('.').next().unwrap_or("").to_string()),
            );
            put(
                "domain",
                s(fqdn.split_once('.').map(|(_, d)| d).unwrap_or("")),
            );
            put("fqdn", s(fqdn));
            put("machine_id", s(line(&l, 7)));
            put("is_chroot", Value::Bool(line(&l, 8) == "True"));
            put("userspace_architecture", s(line(&l, 3)));
            put("userspace_bits", s("64"));
        }
        Collector::Python => {
            let l = lines(sec, "python");
            if let Some(exe) = l.first().filter(|e| !e.is_empty()) {
                let v: Vec<&str> = l.get(1).map_or(vec![], |x| x.split(' ').collect());
                let num = |i: usize| v.get(i).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
                let level = v.get(3).copied().unwrap_or("final");
                let version = json!({"major": num(0), "minor": num(1), "micro": num(2), "releaselevel": level, "serial": num(4)});
                put(
                    "python",
                    json!({
                        "executable": exe,
                        "has_sslcontext": true,
                        "type": line(&l, 2),
                        "version": version,
                        "version_info": [num(0), num(1), num(2), level, num(4)],
                    }),
                );
                put(
                    "python_version",
                    s(format!("{}.{}.{}", num(0), num(1), num(2))),
                );
            }
        }
        Collector::Selinux => {
            let l = lines(sec, "selinux");
            if line(&l, 0) == "enabled" {
                let mode = if line(&l, 1) == "1" {
                    "enforcing"
                } else {
                    "permissive"
                };
                put(
                    "selinux",
                    json!({"status": "enabled", "mode": mode, "policyvers": line(&l, 2).parse::<u64>().unwrap_or(0),
                           "config_mode": line(&l, 3), "type": line(&l, 4)}),
                );
            } else {
                put("selinux", json!({"status": "disabled"}));
            }
            put("selinux_python_present", Value::Bool(false));
        }
        Collector::ServiceMgr => {
            let m = lines(sec, "service_mgr")
                .first()
                .cloned()
                .unwrap_or_default();
            put("service_mgr", s(if m.is_empty() { "service" } else { &m }));
            let l = lines(sec, "service_mgr");
            if m == "systemd" {
                let version = line(&l, 1)
                    .split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<u64>().ok());
                if let Some(version) = version {
                    put(
                        "systemd",
                        json!({"version": version, "features": line(&l, 2)}),
                    );
                }
            }
        }
        Collector::SshPubKeys => {
            for l in lines(sec, "ssh_pub_keys") {
                let mut parts = l.split_whitespace();
                let (Some(file), Some(kind), Some(key)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    continue;
                };
                let alg = file
                    .strip_prefix("ssh_host_")
                    .and_then(|f| f.strip_suffix("_key.pub"))
                    .unwrap_or("");
                put(&format!("ssh_host_key_{alg}_public"), s(key));
                put(&format!("ssh_host_key_{alg}_public_keytype"), s(kind));
            }
        }
        Collector::User => {
            let l = lines(sec, "user");
            let n = |i: usize| Value::from(line(&l, i).trim().parse::<u64>().unwrap_or(0));
            let pw: Vec<String> = line(&l, 5).split(':').map(str::to_string).collect();
            let pwf = |i: usize| s(pw.get(i).cloned().unwrap_or_default());
            put("user_id", s(line(&l, 0)));
            put("user_uid", n(1));
            put("user_gid", n(2));
            put("user_dir", s(line(&l, 3)));
            put("user_shell", pwf(6));
            put("user_gecos", pwf(4));
            put("real_user_id", n(6));
            put("effective_user_id", n(1));
            put("real_group_id", n(7));
            put("effective_group_id", n(2));
        }
        Collector::Hardware => {
            for (k, v) in hardware_facts(sec) {
                put(&k, v);
            }
        }
        Collector::Network => {
            for (k, v) in super::facts_net::network_facts(sec) {
                put(&k, v);
            }
        }
        Collector::Virtual => {
            let virt = lines(sec, "virtual").first().cloned().unwrap_or_default();
            let (t, role) = match virt.as_str() {
                "none" | "" => ("NA".to_string(), "NA"),
                "lxc" | "lxc-libvirt" => ("lxc".to_string(), "guest"),
                "systemd-nspawn" => ("systemd-nspawn".to_string(), "guest"),
                "oracle" => ("virtualbox".to_string(), "guest"),
                "microsoft" => ("hyperv".to_string(), "guest"),
                other => (other.to_string(), "guest"),
            };
            let container = matches!(
                t.as_str(),
                "lxc"
                    | "docker"
                    | "podman"
                    | "systemd-nspawn"
                    | "openvz"
                    | "container-other"
                    | "wsl"
            );
            let mut tech = if role == "guest" {
                vec![s(t.clone())]
            } else {
                vec![]
            };
            if container {
                tech.push(s("container"));
            }
            put("virtualization_type", s(t));
            put("virtualization_role", s(role));
            put("virtualization_tech_guest", Value::Array(tech));
            put("virtualization_tech_host", Value::Array(vec![]));
        }
    }
}

/// `/proc/cmdline` as Ansible's `cmdline` (last value wins) and `proc_cmdline` (repeats → list).
fn parse_cmdline(text: &str) -> (Map<String, Value>, Map<String, Value>) {
    let mut cmdline = Map::new();
    let mut proc_cmdline = Map::new();
    for word in text.split_whitespace() {
        let (k, v) = match word.split_once('=') {
            Some((k, v)) => (k, Value::String(v.to_string())),
            None => (word, Value::Bool(true)),
        };
        cmdline.insert(k.to_string(), v.clone());
        match proc_cmdline.get_mut(k) {
            Some(Value::Array(a)) => a.push(v),
            Some(prev) => *prev = Value::Array(vec![prev.clone(), v]),
            None => {
                proc_cmdline.insert(k.to_string(), v);
            }
        }
    }
    (cmdline, proc_cmdline)
}

/// `date_time` from `date` output (local fields, UTC ISO time, summer zone name).
fn date_time_facts(l: &[String]) -> Vec<(String, Value)> {
    let f: Vec<&str> = l.first().map_or(vec![], |x| x.split('|').collect());
    if f.len() < 18 {
        return vec![("date_time".into(), json!({}))];
    }
    let utc: Vec<&str> = l.get(1).map_or(vec![], |x| x.split('|').collect());
    let micro = |nanos: &str| nanos.get(..6).unwrap_or("000000").to_string();
    let utc_base = utc.first().copied().unwrap_or("");
    let utc_micro = micro(utc.get(1).copied().unwrap_or(""));
    let local_micro = micro(f[17]);
    let tz_dst = l
        .get(2)
        .filter(|x| !x.is_empty())
        .map_or(f[14], |x| x.as_str());
    let dt = json!({
        "year": f[0], "month": f[1], "day": f[2], "hour": f[3], "minute": f[4], "second": f[5],
        "weekday": f[6], "weekday_number": f[7], "weeknumber": f[9],
        "epoch": f[16], "epoch_int": f[16],
        "date": format!("{}-{}-{}", f[0], f[1], f[2]),
        "time": format!("{}:{}:{}", f[3], f[4], f[5]),
        "iso8601": format!("{utc_base}Z"),
        "iso8601_micro": format!("{utc_base}.{utc_micro}Z"),
        "iso8601_basic": format!("{}{}{}T{}{}{}{}", f[0], f[1], f[2], f[3], f[4], f[5], local_micro),
        "iso8601_basic_short": format!("{}{}{}T{}{}{}", f[0], f[1], f[2], f[3], f[4], f[5]),
        "tz": f[14], "tz_dst": tz_dst, "tz_offset": f[15],
    });
    vec![("date_time".into(), dt)]
}

/// `env` from `env -0` (NUL-separated) output.
fn env_facts(text: &str) -> Value {
    let text = text.strip_suffix('\n').unwrap_or(text);
    let sep = if text.contains('\0') { '\0' } else { '\n' };
    Value::Object(
        text.split(sep)
            .filter_map(|e| e.split_once('='))
            .filter(|(k, _)| !k.is_empty())
            .map(|(k, v)| (k.to_string(), s(v)))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_time_keys() {
        let l = vec![
            "2026|11|22|19|05|07|Sunday|0|7|46|November|Nov|Sun|326|UTC|+0000|1795374307|123456789"
                .to_string(),
            "2026-11-22T19:05:07|123456789".to_string(),
            "UTC".to_string(),
        ];
        let dt = &date_time_facts(&l)[0].1;
        assert_eq!(dt["date"], "2026-11-22");
        assert_eq!(dt["iso8601"], "2026-11-22T19:05:07Z");
        assert_eq!(dt["iso8601_micro"], "2026-11-22T19:05:07.123456Z");
        assert_eq!(dt["iso8601_basic_short"], "20261122T190507");
        assert_eq!(dt["weekday_number"], "0");
        assert_eq!(dt["epoch"], "1795374307");
    }

    #[test]
    fn env() {
        let env = env_facts("HOME=/root\0A=b=c\0MULTI=x\ny\0\n");
        assert_eq!(env["A"], "b=c");
        assert_eq!(env["MULTI"], "x\ny");
    }
}

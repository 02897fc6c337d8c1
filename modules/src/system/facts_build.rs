//! Turns the fact probe's sections into Ansible-named facts (`ansible_distribution`, …).
//!
//! Network facts are built in `facts_net`, `ansible_local` in `facts_local`.

use std::collections::BTreeMap;

use drover_core::vars::{Map, Value, Vars};
use serde_json::json;

use super::facts_probe::Collector;

/// Raw probe sections by name.
pub type Sections = BTreeMap<String, String>;

fn lines(sections: &Sections, name: &str) -> Vec<String> {
    sections
        .get(name)
        .map(|s| s.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

fn line(l: &[String], i: usize) -> String {
    l.get(i).cloned().unwrap_or_default()
}

fn s(v: impl Into<String>) -> Value {
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
fn distribution_facts(text: &str) -> Vec<(String, Value)> {
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
fn dns_facts(text: &str) -> Value {
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

/// CPU, memory, uptime and mounts.
fn hardware_facts(sec: &Sections) -> Vec<(String, Value)> {
    let mem: BTreeMap<String, u64> = lines(sec, "hardware")
        .iter()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            let kb = v.split_whitespace().next()?.parse().ok()?;
            Some((k.to_string(), kb))
        })
        .collect();
    let mb = |k: &str| mem.get(k).copied().unwrap_or(0) / 1024;
    let mut out: Vec<(String, Value)> = vec![
        ("memtotal_mb".into(), mb("MemTotal").into()),
        ("memfree_mb".into(), mb("MemFree").into()),
        ("swaptotal_mb".into(), mb("SwapTotal").into()),
        ("swapfree_mb".into(), mb("SwapFree").into()),
    ];
    let nocache_free = mb("MemFree") + mb("Buffers") + mb("Cached");
    out.push((
        "memory_mb".into(),
        json!({
            "real": {"total": mb("MemTotal"), "free": mb("MemFree"), "used": mb("MemTotal").saturating_sub(mb("MemFree"))},
            "nocache": {"free": nocache_free, "used": mb("MemTotal").saturating_sub(nocache_free)},
            "swap": {"total": mb("SwapTotal"), "free": mb("SwapFree"), "used": mb("SwapTotal").saturating_sub(mb("SwapFree")), "cached": mb("SwapCached")},
        }),
    ));
    // CPU: processor list (index, vendor, model) as Ansible, sockets/cores/threads.
    let mut processor = Vec::new();
    let mut sockets = std::collections::BTreeSet::new();
    let (mut cores, mut siblings, mut count) = (0u64, 0u64, 0u64);
    for l in lines(sec, "cpuinfo") {
        let Some((k, v)) = l.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim(), v.trim());
        match k {
            "processor" => {
                count += 1;
                processor.push(s(v));
            }
            "vendor_id" | "model name" => processor.push(s(v)),
            "physical id" => {
                sockets.insert(v.to_string());
            }
            "cpu cores" => cores = v.parse().unwrap_or(cores),
            "siblings" => siblings = v.parse().unwrap_or(siblings),
            _ => {}
        }
    }
    let sockets = sockets.len().max(1) as u64;
    let cores = cores.max(1);
    let threads = if siblings >= cores {
        siblings / cores
    } else {
        1
    };
    let vcpus = lines(sec, "nproc")
        .first()
        .and_then(|n| n.trim().parse::<u64>().ok())
        .unwrap_or(count);
    out.push(("processor".into(), Value::Array(processor)));
    out.push(("processor_count".into(), sockets.into()));
    out.push(("processor_cores".into(), cores.into()));
    out.push(("processor_threads_per_core".into(), threads.into()));
    out.push(("processor_vcpus".into(), vcpus.into()));
    out.push(("processor_nproc".into(), vcpus.into()));
    let uptime = lines(sec, "uptime")
        .first()
        .and_then(|u| {
            u.split_whitespace()
                .next()?
                .split('.')
                .next()?
                .parse::<u64>()
                .ok()
        })
        .unwrap_or(0);
    out.push(("uptime_seconds".into(), uptime.into()));
    let load: Vec<f64> = lines(sec, "loadavg")
        .first()
        .map(|l| {
            l.split_whitespace()
                .take(3)
                .filter_map(|x| x.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    if load.len() == 3 {
        out.push((
            "loadavg".into(),
            json!({"1m": load[0], "5m": load[1], "15m": load[2]}),
        ));
    }
    let flags: Vec<Value> = lines(sec, "cpuinfo")
        .iter()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == "flags").then(|| v.split_whitespace().map(s).collect())
        })
        .unwrap_or_default();
    out.push(("flags".into(), Value::Array(flags)));
    for l in lines(sec, "dmi") {
        let Some((k, v)) = l.split_once('=') else {
            continue;
        };
        let key = match k {
            "sys_vendor" => "system_vendor",
            "chassis_type" => "form_factor",
            other => other,
        };
        let value = if k == "chassis_type" {
            form_factor(v)
        } else {
            v.trim().to_string()
        };
        out.push((key.to_string(), s(value)));
    }
    out.push((
        "mounts".into(),
        Value::Array(mount_facts(&lines(sec, "mounts"))),
    ));
    out
}

/// DMI chassis type number to Ansible's form factor name.
fn form_factor(code: &str) -> String {
    let names = [
        "Unknown",
        "Other",
        "Unknown",
        "Desktop",
        "Low Profile Desktop",
        "Pizza Box",
        "Mini Tower",
        "Tower",
        "Portable",
        "Laptop",
        "Notebook",
        "Hand Held",
        "Docking Station",
        "All In One",
        "Sub Notebook",
        "Space-saving",
        "Lunch Box",
        "Main Server Chassis",
        "Expansion Chassis",
        "Sub Chassis",
        "Bus Expansion Chassis",
        "Peripheral Chassis",
        "RAID Chassis",
        "Rack Mount Chassis",
        "Sealed-case PC",
        "Multi-system",
        "CompactPCI",
        "AdvancedTCA",
        "Blade",
        "Blade Enclosure",
        "Tablet",
        "Convertible",
        "Detachable",
        "IoT Gateway",
        "Embedded PC",
        "Mini PC",
        "Stick PC",
    ];
    match code.trim().parse::<usize>() {
        Ok(n) => names.get(n).map_or("unknown", |v| v).to_string(),
        Err(_) => "NA".to_string(),
    }
}

/// `lsb` from `/etc/lsb-release` (empty when absent).
fn lsb_facts(text: &str) -> Value {
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

/// Mount entries from `dev\tmount\tfstype\topts\t<stat -f fields>\tuuid` lines.
fn mount_facts(l: &[String]) -> Vec<Value> {
    l.iter()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            if f.len() < 6 {
                return None;
            }
            let st: Vec<u64> = f[4]
                .split_whitespace()
                .map(|x| x.parse().unwrap_or(0))
                .collect();
            let g = |i: usize| st.get(i).copied().unwrap_or(0);
            let (bs, blocks, avail, inodes, ifree) = (g(0), g(1), g(2), g(4), g(5));
            Some(json!({
                "device": f[0], "mount": f[1], "fstype": f[2], "options": f[3],
                "uuid": f[5],
                "size_total": bs * blocks, "size_available": bs * avail,
                "block_size": bs, "block_total": blocks, "block_available": avail,
                "block_used": blocks.saturating_sub(avail),
                "inode_total": inodes, "inode_available": ifree,
                "inode_used": inodes.saturating_sub(ifree),
            }))
        })
        .collect()
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
    fn env_and_dns() {
        let env = env_facts("HOME=/root\0A=b=c\0MULTI=x\ny\0\n");
        assert_eq!(env["A"], "b=c");
        assert_eq!(env["MULTI"], "x\ny");
        let dns = dns_facts("nameserver 1.2.3.4\nsearch a b\noptions ndots:2 rotate\n");
        assert_eq!(dns["nameservers"][0], "1.2.3.4");
        assert_eq!(dns["search"][1], "b");
        assert_eq!(dns["options"]["ndots"], "2");
        assert_eq!(dns["options"]["rotate"], true);
    }

    #[test]
    fn hardware_from_proc() {
        let mut sec = Sections::new();
        sec.insert(
            "hardware".into(),
            "MemTotal: 2048000 kB\nMemFree: 1024000 kB\n".into(),
        );
        sec.insert(
            "cpuinfo".into(),
            "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: X\nphysical id\t: 0\nsiblings\t: 2\ncpu cores\t: 2\n\nprocessor\t: 1\nvendor_id\t: GenuineIntel\nmodel name\t: X\nphysical id\t: 0\nsiblings\t: 2\ncpu cores\t: 2\n".into(),
        );
        sec.insert(
            "mounts".into(),
            "/dev/sda1\t/\text4\trw\t4096 100 50 60 10 5\tabc\n".into(),
        );
        let f: Map<String, Value> = hardware_facts(&sec).into_iter().collect();
        assert_eq!(f["memtotal_mb"], 2000);
        assert_eq!(f["processor_vcpus"], 2);
        assert_eq!(f["processor_cores"], 2);
        assert_eq!(f["processor"][1], "GenuineIntel");
        assert_eq!(f["mounts"][0]["size_total"], 409600);
        assert_eq!(f["mounts"][0]["block_used"], 50);
    }
}

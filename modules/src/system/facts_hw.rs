//! Hardware facts from `/proc`, DMI and `stat -f`: memory, processors, uptime, load, the form
//! factor and `mounts`.

use std::collections::BTreeMap;

use drover_core::vars::Value;
use serde_json::json;

use super::facts_build::{lines, s, Sections};

/// CPU, memory, uptime and mounts.
pub(super) fn hardware_facts(sec: &Sections) -> Vec<(String, Value)> {
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
    use drover_core::vars::Map;

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

//! Resource options of the desired container: CPU, memory, block IO, devices, ulimits (most of
//! them the Engine changes in place with `docker update`).

use serde_json::{json, Value};

use super::compare::Kind;
use super::desired::{at, text_of, Builder};
use super::spec::parse_size;

/// Adds the resource items of the options given.
pub(super) fn limits(b: &mut Builder<'_>, compat: bool) -> Result<(), String> {
    let p = b.p;
    if let Some(v) = p.blkio_weight {
        b.push(
            "blkio_weight",
            Kind::Value,
            json!(v),
            |c| at(c, "/HostConfig/BlkioWeight"),
            vec![format!("--blkio-weight={v}")],
        );
        b.updatable();
    }
    for (name, v, flag) in [
        ("cpu_period", p.cpu_period, "--cpu-period"),
        ("cpu_quota", p.cpu_quota, "--cpu-quota"),
        ("cpu_shares", p.cpu_shares, "--cpu-shares"),
    ] {
        if let Some(v) = v {
            let f: fn(&Value) -> Value = match name {
                "cpu_period" => |c| at(c, "/HostConfig/CpuPeriod"),
                "cpu_quota" => |c| at(c, "/HostConfig/CpuQuota"),
                _ => |c| at(c, "/HostConfig/CpuShares"),
            };
            b.push(name, Kind::Value, json!(v), f, vec![format!("{flag}={v}")]);
            b.updatable();
        }
    }
    if let Some(v) = &p.cpuset_cpus {
        b.push(
            "cpuset_cpus",
            Kind::Value,
            json!(v),
            |c| at(c, "/HostConfig/CpusetCpus"),
            vec![format!("--cpuset-cpus={v}")],
        );
        b.updatable();
    }
    if let Some(v) = &p.cpuset_mems {
        b.push(
            "cpuset_mems",
            Kind::Value,
            json!(v),
            |c| at(c, "/HostConfig/CpusetMems"),
            vec![format!("--cpuset-mems={v}")],
        );
        b.updatable();
    }
    if let Some(cpus) = p.cpus {
        let nano = (cpus * 1e9).round() as i64;
        b.push(
            "cpus",
            Kind::Value,
            json!(nano),
            |c| at(c, "/HostConfig/NanoCpus"),
            vec![format!("--cpus={cpus}")],
        );
    }
    if let Some(devs) = &p.devices {
        let mut exp = Vec::new();
        for d in devs {
            let parts: Vec<&str> = d.split(':').collect();
            let (host, ctr, perm) = match parts.as_slice() {
                [h] => (*h, *h, "rwm"),
                [h, c] => (*h, *c, "rwm"),
                [h, c, p, ..] => (*h, *c, *p),
                [] => continue,
            };
            exp.push(
                json!({"PathOnHost": host, "PathInContainer": ctr, "CgroupPermissions": perm}),
            );
        }
        let flags = devs
            .iter()
            .flat_map(|d| ["--device".to_string(), d.clone()])
            .collect();
        b.push(
            "devices",
            Kind::SetDict,
            json!(exp),
            |c| at(c, "/HostConfig/Devices"),
            flags,
        );
    }
    for (name, v, flag, iops) in [
        (
            "device_read_bps",
            &p.device_read_bps,
            "--device-read-bps",
            false,
        ),
        (
            "device_write_bps",
            &p.device_write_bps,
            "--device-write-bps",
            false,
        ),
        (
            "device_read_iops",
            &p.device_read_iops,
            "--device-read-iops",
            true,
        ),
        (
            "device_write_iops",
            &p.device_write_iops,
            "--device-write-iops",
            true,
        ),
    ] {
        let Some(v) = v else { continue };
        let mut exp = Vec::new();
        let mut flags = Vec::new();
        for entry in v {
            let path = entry
                .get("path")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("{name}: each entry needs a path"))?;
            let rate = entry
                .get("rate")
                .map(text_of)
                .ok_or_else(|| format!("{name}: each entry needs a rate"))?;
            let n = if iops {
                rate.parse::<i64>()
                    .map_err(|_| format!("{name}: rate '{rate}' is not a number"))?
            } else {
                parse_size(name, &rate)?
            };
            exp.push(json!({"Path": path, "Rate": n}));
            flags.extend([flag.to_string(), format!("{path}:{n}")]);
        }
        let f: fn(&Value) -> Value = match name {
            "device_read_bps" => |c| at(c, "/HostConfig/BlkioDeviceReadBps"),
            "device_write_bps" => |c| at(c, "/HostConfig/BlkioDeviceWriteBps"),
            "device_read_iops" => |c| at(c, "/HostConfig/BlkioDeviceReadIOps"),
            _ => |c| at(c, "/HostConfig/BlkioDeviceWriteIOps"),
        };
        b.push(name, Kind::SetDict, json!(exp), f, flags);
    }
    if p.device_requests.as_ref().is_some_and(|r| !r.is_empty()) {
        return Err(
            "device_requests is not supported by drover: the docker CLI's --gpus cannot express \
                    every device request; use a docker CLI command task"
                .into(),
        );
    }
    b.size(
        "kernel_memory",
        &p.kernel_memory,
        "--kernel-memory",
        |c| at(c, "/HostConfig/KernelMemory"),
        false,
    )?;
    if p.kernel_memory.is_some() {
        b.updatable();
    }
    let memory = if compat {
        p.memory.clone().or(Some("0".into()))
    } else {
        p.memory.clone()
    };
    for (name, v, flag, unlimited) in [
        ("memory", &memory, "--memory", false),
        (
            "memory_reservation",
            &p.memory_reservation,
            "--memory-reservation",
            false,
        ),
        ("memory_swap", &p.memory_swap, "--memory-swap", true),
    ] {
        let f: fn(&Value) -> Value = match name {
            "memory" => |c| at(c, "/HostConfig/Memory"),
            "memory_reservation" => |c| at(c, "/HostConfig/MemoryReservation"),
            _ => |c| at(c, "/HostConfig/MemorySwap"),
        };
        if v.is_some() {
            b.size(name, v, flag, f, unlimited)?;
            b.updatable();
        }
    }
    b.flag_int(
        "memory_swappiness",
        p.memory_swappiness,
        "--memory-swappiness",
        |c| at(c, "/HostConfig/MemorySwappiness"),
    );
    if let Some(ulimits) = &p.ulimits {
        let mut exp = Vec::new();
        let mut flags = Vec::new();
        for u in ulimits {
            let parts: Vec<&str> = u.split(':').collect();
            let num = |s: &str| {
                s.parse::<i64>()
                    .map_err(|_| format!("Invalid ulimit '{u}'"))
            };
            let (name, soft, hard) = match parts.as_slice() {
                [n, s] => (*n, num(s)?, num(s)?),
                [n, s, h] => (*n, num(s)?, num(h)?),
                _ => return Err(format!("Invalid ulimit '{u}' (name:soft[:hard])")),
            };
            exp.push(json!({"Name": name, "Soft": soft, "Hard": hard}));
            flags.extend(["--ulimit".to_string(), format!("{name}={soft}:{hard}")]);
        }
        b.push(
            "ulimits",
            Kind::SetDict,
            json!(exp),
            |c| at(c, "/HostConfig/Ulimits"),
            flags,
        );
    }
    Ok(())
}

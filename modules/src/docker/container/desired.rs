//! The desired container in the Engine's inspect shape: one [`Item`] per option given, with
//! the value `docker inspect` should show (image-provided defaults merged in, as
//! community.docker compares), how to read the container's value, and the `docker create`
//! (and, for limits, `docker update`) flags that set it.

use serde_json::{json, Map, Value};

use super::compare::Kind;
use super::params::ContainerParams;
use super::spec::{
    normalize_bind, normalize_cap, parse_container_ports, parse_duration, parse_published,
    parse_size, VolumeSpec,
};

/// One option of the desired container.
#[derive(Debug, Clone)]
pub struct Item {
    /// The option's name (as in `comparisons` and the diff).
    pub name: &'static str,
    /// Its shape.
    pub kind: Kind,
    /// The value the container's inspect data should show.
    pub expected: Value,
    /// Reads the container's value from its inspect data.
    pub actual: fn(&Value) -> Value,
    /// `docker create` flags.
    pub flags: Vec<String>,
    /// `docker update` flags when the Engine can change it in place.
    pub update: Option<Vec<String>>,
}

fn at(c: &Value, ptr: &str) -> Value {
    c.pointer(ptr).cloned().unwrap_or(Value::Null)
}

fn bool_at(c: &Value, ptr: &str) -> Value {
    Value::Bool(c.pointer(ptr).and_then(Value::as_bool).unwrap_or(false))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A value of a dict option as the Engine stores it (a string).
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        other => other.to_string(),
    }
}

fn str_map(m: &Map<String, Value>) -> Map<String, Value> {
    m.iter()
        .map(|(k, v)| (k.clone(), Value::String(text_of(v))))
        .collect()
}

/// Builds the items for every option given. `image` is the image the comparison uses
/// (its defaults count as desired); `env_file` the env file's contents when one is named.
pub struct Builder<'a> {
    p: &'a ContainerParams,
    items: Vec<Item>,
}

impl<'a> Builder<'a> {
    fn push(
        &mut self,
        name: &'static str,
        kind: Kind,
        expected: Value,
        actual: fn(&Value) -> Value,
        flags: Vec<String>,
    ) {
        self.items.push(Item {
            name,
            kind,
            expected,
            actual,
            flags,
            update: None,
        });
    }

    fn updatable(&mut self) {
        if let Some(last) = self.items.last_mut() {
            last.update = Some(last.flags.clone());
        }
    }

    fn flag_bool(&mut self, name: &'static str, v: Option<bool>, flag: &str, f: fn(&Value) -> Value) {
        if let Some(v) = v {
            self.push(name, Kind::Value, json!(v), f, vec![format!("{flag}={v}")]);
        }
    }

    fn flag_str(&mut self, name: &'static str, v: &Option<String>, flag: &str, f: fn(&Value) -> Value) {
        if let Some(v) = v {
            self.push(name, Kind::Value, json!(v), f, vec![flag.to_string(), v.clone()]);
        }
    }

    fn flag_int(&mut self, name: &'static str, v: Option<i64>, flag: &str, f: fn(&Value) -> Value) {
        if let Some(v) = v {
            self.push(name, Kind::Value, json!(v), f, vec![format!("{flag}={v}")]);
        }
    }

    fn flag_list(
        &mut self,
        name: &'static str,
        kind: Kind,
        v: &Option<Vec<String>>,
        flag: &str,
        f: fn(&Value) -> Value,
    ) {
        if let Some(v) = v {
            let flags = v.iter().flat_map(|x| [flag.to_string(), x.clone()]).collect();
            self.push(name, kind, json!(v), f, flags);
        }
    }

    fn flag_dict(
        &mut self,
        name: &'static str,
        v: &Option<Map<String, Value>>,
        flag: &str,
        f: fn(&Value) -> Value,
    ) {
        if let Some(v) = v {
            let m = str_map(v);
            let flags = m
                .iter()
                .flat_map(|(k, x)| [flag.to_string(), format!("{k}={}", text_of(x))])
                .collect();
            self.push(name, Kind::Dict, Value::Object(m), f, flags);
        }
    }

    fn size(&mut self, name: &'static str, v: &Option<String>, flag: &str, f: fn(&Value) -> Value, unlimited: bool) -> Result<(), String> {
        if let Some(text) = v {
            let n = if unlimited && (text == "unlimited" || text == "-1") {
                -1
            } else {
                parse_size(name, text)?
            };
            self.push(name, Kind::Value, json!(n), f, vec![format!("{flag}={n}")]);
        }
        Ok(())
    }
}

/// The desired items of `p`, compared against `image`'s defaults.
pub fn build(
    p: &ContainerParams,
    image: Option<&Value>,
    env_file: Option<&str>,
) -> Result<Vec<Item>, String> {
    let mut b = Builder {
        p,
        items: Vec::new(),
    };
    let compat = p.container_default_behavior.as_deref() == Some("compatibility");
    let dflt = |v: Option<bool>| if compat { v.or(Some(false)) } else { v };
    let img = |ptr: &str| image.map(|i| at(i, ptr)).unwrap_or(Value::Null);

    b.flag_bool("auto_remove", dflt(p.auto_remove), "--rm", |c| bool_at(c, "/HostConfig/AutoRemove"));
    if let Some(v) = p.blkio_weight {
        b.push("blkio_weight", Kind::Value, json!(v), |c| at(c, "/HostConfig/BlkioWeight"), vec![format!("--blkio-weight={v}")]);
        b.updatable();
    }
    if let Some(caps) = &b.p.capabilities {
        let caps: Vec<String> = caps.iter().map(|c| normalize_cap(c)).collect();
        let flags = caps.iter().flat_map(|c| ["--cap-add".to_string(), c.clone()]).collect();
        b.push("capabilities", Kind::Set, json!(caps), |c| json!(strings(&at(c, "/HostConfig/CapAdd")).iter().map(|x| normalize_cap(x)).collect::<Vec<_>>()), flags);
    }
    if let Some(caps) = &b.p.cap_drop {
        let caps: Vec<String> = caps.iter().map(|c| normalize_cap(c)).collect();
        let flags = caps.iter().flat_map(|c| ["--cap-drop".to_string(), c.clone()]).collect();
        b.push("cap_drop", Kind::Set, json!(caps), |c| json!(strings(&at(c, "/HostConfig/CapDrop")).iter().map(|x| normalize_cap(x)).collect::<Vec<_>>()), flags);
    }
    b.flag_str("cgroupns_mode", &p.cgroupns_mode, "--cgroupns", |c| at(c, "/HostConfig/CgroupnsMode"));
    b.flag_str("cgroup_parent", &p.cgroup_parent, "--cgroup-parent", |c| at(c, "/HostConfig/CgroupParent"));
    if let Some(cmd) = command(p)? {
        let expected = if cmd.is_empty() { img("/Config/Cmd") } else { json!(cmd) };
        b.push("command", Kind::List, expected, |c| at(c, "/Config/Cmd"), Vec::new());
    }
    for (name, v, flag) in [("cpu_period", p.cpu_period, "--cpu-period"), ("cpu_quota", p.cpu_quota, "--cpu-quota"), ("cpu_shares", p.cpu_shares, "--cpu-shares")] {
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
        b.push("cpuset_cpus", Kind::Value, json!(v), |c| at(c, "/HostConfig/CpusetCpus"), vec![format!("--cpuset-cpus={v}")]);
        b.updatable();
    }
    if let Some(v) = &p.cpuset_mems {
        b.push("cpuset_mems", Kind::Value, json!(v), |c| at(c, "/HostConfig/CpusetMems"), vec![format!("--cpuset-mems={v}")]);
        b.updatable();
    }
    if let Some(ep) = &p.entrypoint {
        let ep = if p.command_handling.as_deref() == Some("compatibility") {
            super::spec::shell_split(&ep.join(" "))?
        } else {
            ep.clone()
        };
        if ep.len() > 1 {
            return Err(format!(
                "entrypoint {ep:?}: the docker CLI sets an entrypoint of one element only; \
                 put the other elements into command"
            ));
        }
        let flags = vec!["--entrypoint".to_string(), ep.first().cloned().unwrap_or_default()];
        b.push("entrypoint", Kind::List, json!(ep), |c| at(c, "/Config/Entrypoint"), flags);
    }
    if let Some(cpus) = p.cpus {
        let nano = (cpus * 1e9).round() as i64;
        b.push("cpus", Kind::Value, json!(nano), |c| at(c, "/HostConfig/NanoCpus"), vec![format!("--cpus={cpus}")]);
    }
    b.flag_bool("interactive", dflt(p.interactive), "--interactive", |c| bool_at(c, "/Config/OpenStdin"));
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
            exp.push(json!({"PathOnHost": host, "PathInContainer": ctr, "CgroupPermissions": perm}));
        }
        let flags = devs.iter().flat_map(|d| ["--device".to_string(), d.clone()]).collect();
        b.push("devices", Kind::SetDict, json!(exp), |c| at(c, "/HostConfig/Devices"), flags);
    }
    for (name, v, flag, iops) in [
        ("device_read_bps", &p.device_read_bps, "--device-read-bps", false),
        ("device_write_bps", &p.device_write_bps, "--device-write-bps", false),
        ("device_read_iops", &p.device_read_iops, "--device-read-iops", true),
        ("device_write_iops", &p.device_write_iops, "--device-write-iops", true),
    ] {
        let Some(v) = v else { continue };
        let mut exp = Vec::new();
        let mut flags = Vec::new();
        for entry in v {
            let path = entry.get("path").and_then(Value::as_str).ok_or_else(|| format!("{name}: each entry needs a path"))?;
            let rate = entry.get("rate").map(text_of).ok_or_else(|| format!("{name}: each entry needs a rate"))?;
            let n = if iops {
                rate.parse::<i64>().map_err(|_| format!("{name}: rate '{rate}' is not a number"))?
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
        return Err("device_requests is not supported by drover: the docker CLI's --gpus cannot express \
                    every device request; use a docker CLI command task"
            .into());
    }
    b.flag_list("device_cgroup_rules", Kind::List, &p.device_cgroup_rules, "--device-cgroup-rule", |c| at(c, "/HostConfig/DeviceCgroupRules"));
    b.flag_list("dns_servers", Kind::List, &p.dns_servers, "--dns", |c| at(c, "/HostConfig/Dns"));
    b.flag_list("dns_opts", Kind::Set, &p.dns_opts, "--dns-option", |c| at(c, "/HostConfig/DnsOptions"));
    b.flag_list("dns_search_domains", Kind::List, &p.dns_search_domains, "--dns-search", |c| at(c, "/HostConfig/DnsSearch"));
    b.flag_str("domainname", &p.domainname, "--domainname", |c| at(c, "/Config/Domainname"));
    env(&mut b, image, env_file)?;
    if let Some(hosts) = &p.etc_hosts {
        let list: Vec<String> = hosts.iter().map(|(h, ip)| format!("{h}:{}", text_of(ip))).collect();
        let flags = list.iter().flat_map(|x| ["--add-host".to_string(), x.clone()]).collect();
        b.push("etc_hosts", Kind::Set, json!(list), |c| at(c, "/HostConfig/ExtraHosts"), flags);
    }
    b.flag_list("groups", Kind::Set, &p.groups, "--group-add", |c| at(c, "/HostConfig/GroupAdd"));
    if let Some(hc) = &p.healthcheck {
        healthcheck(&mut b, hc)?;
    }
    b.flag_str("hostname", &p.hostname, "--hostname", |c| at(c, "/Config/Hostname"));
    b.flag_bool("init", dflt(p.init), "--init", |c| bool_at(c, "/HostConfig/Init"));
    b.flag_str("ipc_mode", &p.ipc_mode, "--ipc", |c| at(c, "/HostConfig/IpcMode"));
    b.size("kernel_memory", &p.kernel_memory, "--kernel-memory", |c| at(c, "/HostConfig/KernelMemory"), false)?;
    if p.kernel_memory.is_some() {
        b.updatable();
    }
    labels(&mut b, image)?;
    if let Some(links) = &p.links {
        let exp: Vec<String> = links
            .iter()
            .map(|l| {
                let (n, a) = l.split_once(':').unwrap_or((l, l));
                format!("/{n}:/{}/{a}", p.name)
            })
            .collect();
        let flags = links.iter().flat_map(|l| ["--link".to_string(), l.clone()]).collect();
        b.push("links", Kind::Set, json!(exp), |c| at(c, "/HostConfig/Links"), flags);
    }
    if p.log_options.is_some() && p.log_driver.is_none() {
        return Err("missing parameter(s) required by 'log_options': log_driver".into());
    }
    b.flag_str("log_driver", &p.log_driver, "--log-driver", |c| at(c, "/HostConfig/LogConfig/Type"));
    b.flag_dict("log_options", &p.log_options, "--log-opt", |c| at(c, "/HostConfig/LogConfig/Config"));
    let mac = p.mac_address.as_ref().map(|m| m.replace('-', ":"));
    b.flag_str("mac_address", &mac, "--mac-address", |c| at(c, "/Config/MacAddress"));
    let memory = if compat { p.memory.clone().or(Some("0".into())) } else { p.memory.clone() };
    for (name, v, flag, unlimited) in [
        ("memory", &memory, "--memory", false),
        ("memory_reservation", &p.memory_reservation, "--memory-reservation", false),
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
    b.flag_int("memory_swappiness", p.memory_swappiness, "--memory-swappiness", |c| at(c, "/HostConfig/MemorySwappiness"));
    if let Some(t) = p.stop_timeout {
        b.push("stop_timeout", Kind::Value, json!(t), |c| at(c, "/Config/StopTimeout"), vec![format!("--stop-timeout={t}")]);
    }
    if let Some(mode) = network_mode(p)? {
        let expected = if mode == "default" { json!("bridge") } else { json!(mode) };
        b.push("network_mode", Kind::Value, expected, |c| match at(c, "/HostConfig/NetworkMode") {
            Value::String(s) if s == "default" => json!("bridge"),
            other => other,
        }, Vec::new());
    }
    b.flag_bool("oom_killer", p.oom_killer, "--oom-kill-disable", |c| bool_at(c, "/HostConfig/OomKillDisable"));
    b.flag_int("oom_score_adj", p.oom_score_adj, "--oom-score-adj", |c| at(c, "/HostConfig/OomScoreAdj"));
    b.flag_str("pid_mode", &p.pid_mode, "--pid", |c| at(c, "/HostConfig/PidMode"));
    b.flag_int("pids_limit", p.pids_limit, "--pids-limit", |c| at(c, "/HostConfig/PidsLimit"));
    if let Some(platform) = &p.platform {
        // Used when pulling and creating; compared like community.docker does for a platform
        // without a variant: the container's OS must match.
        let os = platform.split('/').next().unwrap_or_default().to_string();
        b.push("platform", Kind::Value, json!(os), |c| at(c, "/Platform"), vec!["--platform".into(), platform.clone()]);
    }
    b.flag_bool("privileged", dflt(p.privileged), "--privileged", |c| bool_at(c, "/HostConfig/Privileged"));
    b.flag_bool("read_only", dflt(p.read_only), "--read-only", |c| bool_at(c, "/HostConfig/ReadonlyRootfs"));
    restart(&mut b)?;
    b.flag_str("runtime", &p.runtime, "--runtime", |c| at(c, "/HostConfig/Runtime"));
    b.flag_list("security_opts", Kind::Set, &p.security_opts, "--security-opt", |c| at(c, "/HostConfig/SecurityOpt"));
    b.size("shm_size", &p.shm_size, "--shm-size", |c| at(c, "/HostConfig/ShmSize"), false)?;
    b.flag_str("stop_signal", &p.stop_signal, "--stop-signal", |c| at(c, "/Config/StopSignal"));
    b.flag_dict("storage_opts", &p.storage_opts, "--storage-opt", |c| at(c, "/HostConfig/StorageOpt"));
    b.flag_dict("sysctls", &p.sysctls, "--sysctl", |c| at(c, "/HostConfig/Sysctls"));
    if let Some(tmpfs) = &p.tmpfs {
        let m: Map<String, Value> = tmpfs
            .iter()
            .map(|t| {
                let (path, opts) = t.split_once(':').unwrap_or((t, ""));
                (path.to_string(), json!(opts))
            })
            .collect();
        let flags = tmpfs.iter().flat_map(|t| ["--tmpfs".to_string(), t.clone()]).collect();
        b.push("tmpfs", Kind::Dict, Value::Object(m), |c| at(c, "/HostConfig/Tmpfs"), flags);
    }
    b.flag_bool("tty", dflt(p.tty), "--tty", |c| bool_at(c, "/Config/Tty"));
    if let Some(ulimits) = &p.ulimits {
        let mut exp = Vec::new();
        let mut flags = Vec::new();
        for u in ulimits {
            let parts: Vec<&str> = u.split(':').collect();
            let num = |s: &str| s.parse::<i64>().map_err(|_| format!("Invalid ulimit '{u}'"));
            let (name, soft, hard) = match parts.as_slice() {
                [n, s] => (*n, num(s)?, num(s)?),
                [n, s, h] => (*n, num(s)?, num(h)?),
                _ => return Err(format!("Invalid ulimit '{u}' (name:soft[:hard])")),
            };
            exp.push(json!({"Name": name, "Soft": soft, "Hard": hard}));
            flags.extend(["--ulimit".to_string(), format!("{name}={soft}:{hard}")]);
        }
        b.push("ulimits", Kind::SetDict, json!(exp), |c| at(c, "/HostConfig/Ulimits"), flags);
    }
    b.flag_str("user", &p.user, "--user", |c| at(c, "/Config/User"));
    b.flag_str("userns_mode", &p.userns_mode, "--userns", |c| at(c, "/HostConfig/UsernsMode"));
    b.flag_str("uts", &p.uts, "--uts", |c| at(c, "/HostConfig/UTSMode"));
    b.flag_str("volume_driver", &p.volume_driver, "--volume-driver", |c| at(c, "/HostConfig/VolumeDriver"));
    b.flag_list("volumes_from", Kind::Set, &p.volumes_from, "--volumes-from", |c| at(c, "/HostConfig/VolumesFrom"));
    b.flag_str("working_dir", &p.working_dir, "--workdir", |c| at(c, "/Config/WorkingDir"));
    super::mounts::mounts(&mut b.items, p)?;
    volumes(&mut b, image)?;
    ports(&mut b, image)?;
    Ok(b.items)
}

/// The command as a list of words: a string is split like a shell would; `None` when not given.
pub fn command(p: &ContainerParams) -> Result<Option<Vec<String>>, String> {
    let compat = p.command_handling.as_deref() == Some("compatibility");
    match &p.command {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(super::spec::shell_split(s)?)),
        Some(Value::Array(items)) => {
            let words: Vec<String> = items.iter().map(text_of).collect();
            if compat {
                if words.is_empty() {
                    return Ok(None);
                }
                Ok(Some(super::spec::shell_split(&words.join(" "))?))
            } else {
                Ok(Some(words))
            }
        }
        Some(other) => Ok(Some(super::spec::shell_split(&text_of(other))?)),
    }
}

/// The network mode asked for: `network_mode`, else (CLI-compatible) the first network's name.
pub fn network_mode(p: &ContainerParams) -> Result<Option<String>, String> {
    if let Some(m) = &p.network_mode {
        return Ok(Some(m.clone()));
    }
    if p.networks_cli_compatible {
        if let Some(first) = p.networks.as_ref().and_then(|n| n.first()) {
            let name = first
                .get("name")
                .and_then(Value::as_str)
                .ok_or("networks: each entry needs a name")?;
            return Ok(Some(name.to_string()));
        }
    }
    Ok(None)
}

fn env(b: &mut Builder<'_>, image: Option<&Value>, env_file: Option<&str>) -> Result<(), String> {
    let p = b.p;
    if p.env.is_none() && p.env_file.is_none() {
        return Ok(());
    }
    let mut given: Vec<(String, String)> = env_file.map(super::spec::parse_env_file).unwrap_or_default();
    for (k, v) in p.env.iter().flatten() {
        let Value::String(s) = v else {
            return Err(format!(
                "Non-string value found for env option. Ambiguous env options must be wrapped in \
                 quotes to avoid them being interpreted. Key: {k}"
            ));
        };
        given.retain(|(n, _)| n != k);
        given.push((k.clone(), s.clone()));
    }
    let mut merged: Vec<(String, String)> = strings(&image.map(|i| at(i, "/Config/Env")).unwrap_or(Value::Null))
        .iter()
        .map(|e| {
            let (k, v) = e.split_once('=').unwrap_or((e, ""));
            (k.to_string(), v.to_string())
        })
        .collect();
    for (k, v) in &given {
        merged.retain(|(n, _)| n != k);
        merged.push((k.clone(), v.clone()));
    }
    let expected: Vec<String> = merged.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let flags = given.iter().flat_map(|(k, v)| ["--env".to_string(), format!("{k}={v}")]).collect();
    b.push("env", Kind::Set, json!(expected), |c| at(c, "/Config/Env"), flags);
    Ok(())
}

fn labels(b: &mut Builder<'_>, image: Option<&Value>) -> Result<(), String> {
    let Some(given) = &b.p.labels else { return Ok(()) };
    let given = str_map(given);
    let mut merged = image
        .and_then(|i| i.pointer("/Config/Labels"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if b.p.image_label_mismatch.as_deref() == Some("fail") {
        let missing: Vec<String> = merged.keys().filter(|k| !given.contains_key(*k)).map(|k| format!("\"{k}\"")).collect();
        if !missing.is_empty() && b.p.comparisons.as_ref().and_then(|c| c.get("labels")).and_then(Value::as_str) == Some("strict") {
            return Err(format!(
                "Some labels should be removed but are present in the base image. You can set \
                 image_label_mismatch to 'ignore' to ignore this error. Labels: {}",
                missing.join(", ")
            ));
        }
    }
    merged.extend(given.clone());
    let flags = given.iter().flat_map(|(k, v)| ["--label".to_string(), format!("{k}={}", text_of(v))]).collect();
    b.push("labels", Kind::Dict, Value::Object(merged), |c| at(c, "/Config/Labels"), flags);
    Ok(())
}

fn healthcheck(b: &mut Builder<'_>, hc: &Map<String, Value>) -> Result<(), String> {
    let mut exp = Map::new();
    let mut flags = Vec::new();
    match hc.get("test") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => {
            exp.insert("Test".into(), json!(["CMD-SHELL", s]));
            flags.extend(["--health-cmd".to_string(), s.clone()]);
        }
        Some(Value::Array(words)) => {
            let words: Vec<String> = words.iter().map(text_of).collect();
            match words.first().map(String::as_str) {
                Some("NONE") => {
                    exp.insert("Test".into(), json!(["NONE"]));
                    flags.push("--no-healthcheck".into());
                }
                Some("CMD-SHELL") if words.len() == 2 => {
                    exp.insert("Test".into(), json!(words));
                    flags.extend(["--health-cmd".to_string(), words[1].clone()]);
                }
                _ => {
                    return Err(format!(
                        "healthcheck test {words:?}: the docker CLI sets a shell test only; give \
                         test as a string (or [\"CMD-SHELL\", cmd], or [\"NONE\"])"
                    ))
                }
            }
        }
        Some(other) => return Err(format!("healthcheck test: unexpected value {other}")),
    }
    for (key, field, flag) in [
        ("interval", "Interval", "--health-interval"),
        ("timeout", "Timeout", "--health-timeout"),
        ("start_period", "StartPeriod", "--health-start-period"),
        ("start_interval", "StartInterval", "--health-start-interval"),
    ] {
        if let Some(v) = hc.get(key).filter(|v| !v.is_null()) {
            let ns = parse_duration(key, &text_of(v))?;
            exp.insert(field.into(), json!(ns));
            flags.push(format!("{flag}={}ns", ns));
        }
    }
    if let Some(r) = hc.get("retries").filter(|v| !v.is_null()) {
        let n: i64 = text_of(r).parse().map_err(|_| format!("healthcheck retries: '{r}' is not an integer"))?;
        exp.insert("Retries".into(), json!(n));
        flags.push(format!("--health-retries={n}"));
    }
    for key in hc.keys() {
        if !matches!(key.as_str(), "test" | "test_cli_compatible" | "interval" | "timeout" | "start_period" | "start_interval" | "retries") {
            return Err(format!("healthcheck: unsupported parameter '{key}'"));
        }
    }
    b.push("healthcheck", Kind::Dict, Value::Object(exp), |c| at(c, "/Config/Healthcheck"), flags);
    Ok(())
}

fn restart(b: &mut Builder<'_>) -> Result<(), String> {
    let p = b.p;
    if p.restart_retries.is_some() && p.restart_policy.is_none() {
        return Err("missing parameter(s) required by 'restart_retries': restart_policy".into());
    }
    let Some(policy) = &p.restart_policy else { return Ok(()) };
    let flag = match p.restart_retries {
        Some(n) if policy == "on-failure" => format!("--restart={policy}:{n}"),
        _ => format!("--restart={policy}"),
    };
    b.push("restart_policy", Kind::Value, json!(policy), |c| at(c, "/HostConfig/RestartPolicy/Name"), vec![flag]);
    b.updatable();
    if let Some(n) = p.restart_retries {
        b.push("restart_retries", Kind::Value, json!(n), |c| at(c, "/HostConfig/RestartPolicy/MaximumRetryCount"), Vec::new());
        b.updatable();
    }
    Ok(())
}

fn volumes(b: &mut Builder<'_>, image: Option<&Value>) -> Result<(), String> {
    let Some(vols) = &b.p.volumes else { return Ok(()) };
    let specs = vols.iter().map(|v| VolumeSpec::parse(v)).collect::<Result<Vec<_>, _>>()?;
    let mut anon: Vec<String> = specs.iter().filter(|s| s.source.is_none()).map(|s| s.target.clone()).collect();
    if let Some(Value::Object(iv)) = image.and_then(|i| i.pointer("/Config/Volumes")) {
        anon.extend(iv.keys().cloned());
    }
    anon.sort();
    anon.dedup();
    let flags = specs
        .iter()
        .flat_map(|s| ["--volume".to_string(), s.bind().unwrap_or_else(|| s.target.clone())])
        .collect();
    b.push("volumes", Kind::Set, json!(anon), |c| {
        json!(c.pointer("/Config/Volumes").and_then(Value::as_object).map(|m| m.keys().cloned().collect::<Vec<_>>()).unwrap_or_default())
    }, flags);
    let binds: Vec<String> = specs.iter().filter_map(VolumeSpec::bind).collect();
    b.push("volume_binds", Kind::Set, json!(binds), |c| {
        json!(strings(&at(c, "/HostConfig/Binds")).iter().map(|x| normalize_bind(x)).collect::<Vec<_>>())
    }, Vec::new());
    Ok(())
}

fn ports(b: &mut Builder<'_>, image: Option<&Value>) -> Result<(), String> {
    let p = b.p;
    let mut publish_all = p.publish_all_ports;
    let mut bindings: Option<Value> = None;
    if let Some(specs) = &p.published_ports {
        if specs.iter().any(|s| s == "all") {
            publish_all = Some(true);
        } else {
            let ip = p.default_host_ip.as_deref().unwrap_or("0.0.0.0");
            let ip = ip.trim_start_matches('[').trim_end_matches(']');
            bindings = Some(parse_published(specs, ip)?);
        }
    }
    let mut exposed: Vec<String> = Vec::new();
    for e in p.exposed_ports.iter().flatten() {
        exposed.extend(parse_container_ports(e)?);
    }
    if let Some(Value::Object(bm)) = &bindings {
        exposed.extend(bm.keys().cloned());
    }
    if p.exposed_ports.is_some() || bindings.is_some() {
        let mut all = exposed.clone();
        if let Some(Value::Object(ip)) = image.and_then(|i| i.pointer("/Config/ExposedPorts")) {
            all.extend(ip.keys().cloned());
        }
        all.sort();
        all.dedup();
        let flags = p.exposed_ports.iter().flatten().flat_map(|e| ["--expose".to_string(), e.clone()]).collect();
        b.push("exposed_ports", Kind::Set, json!(all), |c| {
            json!(c.pointer("/Config/ExposedPorts").and_then(Value::as_object).map(|m| m.keys().flat_map(|k| parse_container_ports(k).unwrap_or_else(|_| vec![k.clone()])).collect::<Vec<_>>()).unwrap_or_default())
        }, flags);
    }
    if let Some(bm) = bindings {
        let mut flags = Vec::new();
        for (cport, list) in bm.as_object().into_iter().flatten() {
            for binding in list.as_array().into_iter().flatten() {
                let ip = binding["HostIp"].as_str().unwrap_or_default();
                let hp = binding["HostPort"].as_str().unwrap_or_default();
                let ip = if ip.contains(':') { format!("[{ip}]") } else { ip.to_string() };
                flags.extend(["--publish".to_string(), format!("{ip}:{hp}:{cport}")]);
            }
        }
        b.push("published_ports", Kind::Dict, bm, |c| at(c, "/HostConfig/PortBindings"), flags);
    }
    b.flag_bool("publish_all_ports", publish_all, "--publish-all", |c| bool_at(c, "/HostConfig/PublishAllPorts"));
    Ok(())
}

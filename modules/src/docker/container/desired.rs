//! The desired container in the Engine's inspect shape: one [`Item`] per option given, with
//! the value `docker inspect` should show (image-provided defaults merged in, as
//! community.docker compares), how to read the container's value, and the `docker create`
//! (and, for limits, `docker update`) flags that set it.

use serde_json::{json, Map, Value};

use super::compare::Kind;
use super::params::ContainerParams;
use super::spec::{normalize_cap, parse_size};

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

pub(super) fn at(c: &Value, ptr: &str) -> Value {
    c.pointer(ptr).cloned().unwrap_or(Value::Null)
}

pub(super) fn bool_at(c: &Value, ptr: &str) -> Value {
    Value::Bool(c.pointer(ptr).and_then(Value::as_bool).unwrap_or(false))
}

pub(super) fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A value of a dict option as the Engine stores it (a string).
pub(super) fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        other => other.to_string(),
    }
}

pub(super) fn str_map(m: &Map<String, Value>) -> Map<String, Value> {
    m.iter()
        .map(|(k, v)| (k.clone(), Value::String(text_of(v))))
        .collect()
}

/// Builds the items for every option given. `image` is the image the comparison uses
/// (its defaults count as desired); `env_file` the env file's contents when one is named.
pub struct Builder<'a> {
    pub(super) p: &'a ContainerParams,
    pub(super) items: Vec<Item>,
}

impl<'a> Builder<'a> {
    pub(super) fn push(
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

    pub(super) fn updatable(&mut self) {
        if let Some(last) = self.items.last_mut() {
            last.update = Some(last.flags.clone());
        }
    }

    pub(super) fn flag_bool(
        &mut self,
        name: &'static str,
        v: Option<bool>,
        flag: &str,
        f: fn(&Value) -> Value,
    ) {
        if let Some(v) = v {
            self.push(name, Kind::Value, json!(v), f, vec![format!("{flag}={v}")]);
        }
    }

    pub(super) fn flag_str(
        &mut self,
        name: &'static str,
        v: &Option<String>,
        flag: &str,
        f: fn(&Value) -> Value,
    ) {
        if let Some(v) = v {
            self.push(
                name,
                Kind::Value,
                json!(v),
                f,
                vec![flag.to_string(), v.clone()],
            );
        }
    }

    pub(super) fn flag_int(
        &mut self,
        name: &'static str,
        v: Option<i64>,
        flag: &str,
        f: fn(&Value) -> Value,
    ) {
        if let Some(v) = v {
            self.push(name, Kind::Value, json!(v), f, vec![format!("{flag}={v}")]);
        }
    }

    pub(super) fn flag_list(
        &mut self,
        name: &'static str,
        kind: Kind,
        v: &Option<Vec<String>>,
        flag: &str,
        f: fn(&Value) -> Value,
    ) {
        if let Some(v) = v {
            let flags = v
                .iter()
                .flat_map(|x| [flag.to_string(), x.clone()])
                .collect();
            self.push(name, kind, json!(v), f, flags);
        }
    }

    pub(super) fn flag_dict(
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

    pub(super) fn size(
        &mut self,
        name: &'static str,
        v: &Option<String>,
        flag: &str,
        f: fn(&Value) -> Value,
        unlimited: bool,
    ) -> Result<(), String> {
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

    b.flag_bool("auto_remove", dflt(p.auto_remove), "--rm", |c| {
        bool_at(c, "/HostConfig/AutoRemove")
    });
    super::limits::limits(&mut b, compat)?;
    if let Some(caps) = &b.p.capabilities {
        let caps: Vec<String> = caps.iter().map(|c| normalize_cap(c)).collect();
        let flags = caps
            .iter()
            .flat_map(|c| ["--cap-add".to_string(), c.clone()])
            .collect();
        b.push(
            "capabilities",
            Kind::Set,
            json!(caps),
            |c| {
                json!(strings(&at(c, "/HostConfig/CapAdd"))
                    .iter()
                    .map(|x| normalize_cap(x))
                    .collect::<Vec<_>>())
            },
            flags,
        );
    }
    if let Some(caps) = &b.p.cap_drop {
        let caps: Vec<String> = caps.iter().map(|c| normalize_cap(c)).collect();
        let flags = caps
            .iter()
            .flat_map(|c| ["--cap-drop".to_string(), c.clone()])
            .collect();
        b.push(
            "cap_drop",
            Kind::Set,
            json!(caps),
            |c| {
                json!(strings(&at(c, "/HostConfig/CapDrop"))
                    .iter()
                    .map(|x| normalize_cap(x))
                    .collect::<Vec<_>>())
            },
            flags,
        );
    }
    b.flag_str("cgroupns_mode", &p.cgroupns_mode, "--cgroupns", |c| {
        at(c, "/HostConfig/CgroupnsMode")
    });
    b.flag_str("cgroup_parent", &p.cgroup_parent, "--cgroup-parent", |c| {
        at(c, "/HostConfig/CgroupParent")
    });
    if let Some(cmd) = super::groups::command(p)? {
        let expected = if cmd.is_empty() {
            img("/Config/Cmd")
        } else {
            json!(cmd)
        };
        b.push(
            "command",
            Kind::List,
            expected,
            |c| at(c, "/Config/Cmd"),
            Vec::new(),
        );
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
        let flags = vec![
            "--entrypoint".to_string(),
            ep.first().cloned().unwrap_or_default(),
        ];
        b.push(
            "entrypoint",
            Kind::List,
            json!(ep),
            |c| at(c, "/Config/Entrypoint"),
            flags,
        );
    }
    b.flag_bool("interactive", dflt(p.interactive), "--interactive", |c| {
        bool_at(c, "/Config/OpenStdin")
    });
    b.flag_list(
        "device_cgroup_rules",
        Kind::List,
        &p.device_cgroup_rules,
        "--device-cgroup-rule",
        |c| at(c, "/HostConfig/DeviceCgroupRules"),
    );
    b.flag_list("dns_servers", Kind::List, &p.dns_servers, "--dns", |c| {
        at(c, "/HostConfig/Dns")
    });
    b.flag_list("dns_opts", Kind::Set, &p.dns_opts, "--dns-option", |c| {
        at(c, "/HostConfig/DnsOptions")
    });
    b.flag_list(
        "dns_search_domains",
        Kind::List,
        &p.dns_search_domains,
        "--dns-search",
        |c| at(c, "/HostConfig/DnsSearch"),
    );
    b.flag_str("domainname", &p.domainname, "--domainname", |c| {
        at(c, "/Config/Domainname")
    });
    super::groups::env(&mut b, image, env_file)?;
    if let Some(hosts) = &p.etc_hosts {
        let list: Vec<String> = hosts
            .iter()
            .map(|(h, ip)| format!("{h}:{}", text_of(ip)))
            .collect();
        let flags = list
            .iter()
            .flat_map(|x| ["--add-host".to_string(), x.clone()])
            .collect();
        b.push(
            "etc_hosts",
            Kind::Set,
            json!(list),
            |c| at(c, "/HostConfig/ExtraHosts"),
            flags,
        );
    }
    b.flag_list("groups", Kind::Set, &p.groups, "--group-add", |c| {
        at(c, "/HostConfig/GroupAdd")
    });
    if let Some(hc) = &p.healthcheck {
        super::groups::healthcheck(&mut b, hc)?;
    }
    b.flag_str("hostname", &p.hostname, "--hostname", |c| {
        at(c, "/Config/Hostname")
    });
    b.flag_bool("init", dflt(p.init), "--init", |c| {
        bool_at(c, "/HostConfig/Init")
    });
    b.flag_str("ipc_mode", &p.ipc_mode, "--ipc", |c| {
        at(c, "/HostConfig/IpcMode")
    });
    super::groups::labels(&mut b, image)?;
    if let Some(links) = &p.links {
        let exp: Vec<String> = links
            .iter()
            .map(|l| {
                let (n, a) = l.split_once(':').unwrap_or((l, l));
                format!("/{n}:/{}/{a}", p.name)
            })
            .collect();
        let flags = links
            .iter()
            .flat_map(|l| ["--link".to_string(), l.clone()])
            .collect();
        b.push(
            "links",
            Kind::Set,
            json!(exp),
            |c| at(c, "/HostConfig/Links"),
            flags,
        );
    }
    if p.log_options.is_some() && p.log_driver.is_none() {
        return Err("missing parameter(s) required by 'log_options': log_driver".into());
    }
    b.flag_str("log_driver", &p.log_driver, "--log-driver", |c| {
        at(c, "/HostConfig/LogConfig/Type")
    });
    b.flag_dict("log_options", &p.log_options, "--log-opt", |c| {
        at(c, "/HostConfig/LogConfig/Config")
    });
    let mac = p.mac_address.as_ref().map(|m| m.replace('-', ":"));
    b.flag_str("mac_address", &mac, "--mac-address", |c| {
        at(c, "/Config/MacAddress")
    });
    if let Some(t) = p.stop_timeout {
        b.push(
            "stop_timeout",
            Kind::Value,
            json!(t),
            |c| at(c, "/Config/StopTimeout"),
            vec![format!("--stop-timeout={t}")],
        );
    }
    if let Some(mode) = super::groups::network_mode(p)? {
        let expected = if mode == "default" {
            json!("bridge")
        } else {
            json!(mode)
        };
        b.push(
            "network_mode",
            Kind::Value,
            expected,
            |c| match at(c, "/HostConfig/NetworkMode") {
                Value::String(s) if s == "default" => json!("bridge"),
                other => other,
            },
            Vec::new(),
        );
    }
    b.flag_bool("oom_killer", p.oom_killer, "--oom-kill-disable", |c| {
        bool_at(c, "/HostConfig/OomKillDisable")
    });
    b.flag_int("oom_score_adj", p.oom_score_adj, "--oom-score-adj", |c| {
        at(c, "/HostConfig/OomScoreAdj")
    });
    b.flag_str("pid_mode", &p.pid_mode, "--pid", |c| {
        at(c, "/HostConfig/PidMode")
    });
    b.flag_int("pids_limit", p.pids_limit, "--pids-limit", |c| {
        at(c, "/HostConfig/PidsLimit")
    });
    if let Some(platform) = &p.platform {
        // Used when pulling and creating; compared like community.docker does for a platform
        // without a variant: the container's OS must match.
        let os = platform.split('/').next().unwrap_or_default().to_string();
        b.push(
            "platform",
            Kind::Value,
            json!(os),
            |c| at(c, "/Platform"),
            vec!["--platform".into(), platform.clone()],
        );
    }
    b.flag_bool("privileged", dflt(p.privileged), "--privileged", |c| {
        bool_at(c, "/HostConfig/Privileged")
    });
    b.flag_bool("read_only", dflt(p.read_only), "--read-only", |c| {
        bool_at(c, "/HostConfig/ReadonlyRootfs")
    });
    super::groups::restart(&mut b)?;
    b.flag_str("runtime", &p.runtime, "--runtime", |c| {
        at(c, "/HostConfig/Runtime")
    });
    b.flag_list(
        "security_opts",
        Kind::Set,
        &p.security_opts,
        "--security-opt",
        |c| at(c, "/HostConfig/SecurityOpt"),
    );
    b.size(
        "shm_size",
        &p.shm_size,
        "--shm-size",
        |c| at(c, "/HostConfig/ShmSize"),
        false,
    )?;
    b.flag_str("stop_signal", &p.stop_signal, "--stop-signal", |c| {
        at(c, "/Config/StopSignal")
    });
    b.flag_dict("storage_opts", &p.storage_opts, "--storage-opt", |c| {
        at(c, "/HostConfig/StorageOpt")
    });
    b.flag_dict("sysctls", &p.sysctls, "--sysctl", |c| {
        at(c, "/HostConfig/Sysctls")
    });
    if let Some(tmpfs) = &p.tmpfs {
        let m: Map<String, Value> = tmpfs
            .iter()
            .map(|t| {
                let (path, opts) = t.split_once(':').unwrap_or((t, ""));
                (path.to_string(), json!(opts))
            })
            .collect();
        let flags = tmpfs
            .iter()
            .flat_map(|t| ["--tmpfs".to_string(), t.clone()])
            .collect();
        b.push(
            "tmpfs",
            Kind::Dict,
            Value::Object(m),
            |c| at(c, "/HostConfig/Tmpfs"),
            flags,
        );
    }
    b.flag_bool("tty", dflt(p.tty), "--tty", |c| bool_at(c, "/Config/Tty"));
    b.flag_str("user", &p.user, "--user", |c| at(c, "/Config/User"));
    b.flag_str("userns_mode", &p.userns_mode, "--userns", |c| {
        at(c, "/HostConfig/UsernsMode")
    });
    b.flag_str("uts", &p.uts, "--uts", |c| at(c, "/HostConfig/UTSMode"));
    b.flag_str("volume_driver", &p.volume_driver, "--volume-driver", |c| {
        at(c, "/HostConfig/VolumeDriver")
    });
    b.flag_list(
        "volumes_from",
        Kind::Set,
        &p.volumes_from,
        "--volumes-from",
        |c| at(c, "/HostConfig/VolumesFrom"),
    );
    b.flag_str("working_dir", &p.working_dir, "--workdir", |c| {
        at(c, "/Config/WorkingDir")
    });
    super::mounts::mounts(&mut b.items, p)?;
    super::groups::volumes(&mut b, image)?;
    super::groups::ports(&mut b, image)?;
    Ok(b.items)
}

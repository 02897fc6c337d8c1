//! Option groups of the desired container with their own rules: command, network mode,
//! env (with env_file and the image's env), labels, health check, restart policy, volumes,
//! ports.

use serde_json::{json, Map, Value};

use super::compare::Kind;
use super::desired::{at, bool_at, str_map, strings, text_of, Builder};
use super::params::ContainerParams;
use super::spec::{
    normalize_bind, parse_container_ports, parse_duration, parse_published, VolumeSpec,
};

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

pub(super) fn env(
    b: &mut Builder<'_>,
    image: Option<&Value>,
    env_file: Option<&str>,
) -> Result<(), String> {
    let p = b.p;
    if p.env.is_none() && p.env_file.is_none() {
        return Ok(());
    }
    let mut given: Vec<(String, String)> = env_file
        .map(super::spec::parse_env_file)
        .unwrap_or_default();
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
    let mut merged: Vec<(String, String)> =
        strings(&image.map(|i| at(i, "/Config/Env")).unwrap_or(Value::Null))
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
    let flags = given
        .iter()
        .flat_map(|(k, v)| ["--env".to_string(), format!("{k}={v}")])
        .collect();
    b.push(
        "env",
        Kind::Set,
        json!(expected),
        |c| at(c, "/Config/Env"),
        flags,
    );
    Ok(())
}

pub(super) fn labels(b: &mut Builder<'_>, image: Option<&Value>) -> Result<(), String> {
    let Some(given) = &b.p.labels else {
        return Ok(());
    };
    let given = str_map(given);
    let mut merged = image
        .and_then(|i| i.pointer("/Config/Labels"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if b.p.image_label_mismatch.as_deref() == Some("fail") {
        let missing: Vec<String> = merged
            .keys()
            .filter(|k| !given.contains_key(*k))
            .map(|k| format!("\"{k}\""))
            .collect();
        if !missing.is_empty()
            && b.p
                .comparisons
                .as_ref()
                .and_then(|c| c.get("labels").or_else(|| c.get("*")))
                .and_then(Value::as_str)
                == Some("strict")
        {
            return Err(format!(
                "Some labels should be removed but are present in the base image. You can set \
                 image_label_mismatch to 'ignore' to ignore this error. Labels: {}",
                missing.join(", ")
            ));
        }
    }
    merged.extend(given.clone());
    let flags = given
        .iter()
        .flat_map(|(k, v)| ["--label".to_string(), format!("{k}={}", text_of(v))])
        .collect();
    b.push(
        "labels",
        Kind::Dict,
        Value::Object(merged),
        |c| at(c, "/Config/Labels"),
        flags,
    );
    Ok(())
}

pub(super) fn healthcheck(b: &mut Builder<'_>, hc: &Map<String, Value>) -> Result<(), String> {
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
        let n: i64 = text_of(r)
            .parse()
            .map_err(|_| format!("healthcheck retries: '{r}' is not an integer"))?;
        exp.insert("Retries".into(), json!(n));
        flags.push(format!("--health-retries={n}"));
    }
    for key in hc.keys() {
        if !matches!(
            key.as_str(),
            "test"
                | "test_cli_compatible"
                | "interval"
                | "timeout"
                | "start_period"
                | "start_interval"
                | "retries"
        ) {
            return Err(format!("healthcheck: unsupported parameter '{key}'"));
        }
    }
    b.push(
        "healthcheck",
        Kind::Dict,
        Value::Object(exp),
        |c| at(c, "/Config/Healthcheck"),
        flags,
    );
    Ok(())
}

pub(super) fn restart(b: &mut Builder<'_>) -> Result<(), String> {
    let p = b.p;
    if p.restart_retries.is_some() && p.restart_policy.is_none() {
        return Err("missing parameter(s) required by 'restart_retries': restart_policy".into());
    }
    let Some(policy) = &p.restart_policy else {
        return Ok(());
    };
    let flag = match p.restart_retries {
        Some(n) if policy == "on-failure" => format!("--restart={policy}:{n}"),
        Some(n) if n != 0 => {
            return Err(format!(
                "restart_retries: maximum retry count cannot be used with restart policy '{policy}'"
            ))
        }
        _ => format!("--restart={policy}"),
    };
    b.push(
        "restart_policy",
        Kind::Value,
        json!(policy),
        |c| at(c, "/HostConfig/RestartPolicy/Name"),
        vec![flag.clone()],
    );
    b.updatable();
    if let Some(n) = p.restart_retries {
        // Set by restart_policy's flag when creating; updated with the same flag.
        b.push(
            "restart_retries",
            Kind::Value,
            json!(n),
            |c| at(c, "/HostConfig/RestartPolicy/MaximumRetryCount"),
            Vec::new(),
        );
        if let Some(last) = b.items.last_mut() {
            last.update = Some(vec![flag]);
        }
    }
    Ok(())
}

pub(super) fn volumes(b: &mut Builder<'_>, image: Option<&Value>) -> Result<(), String> {
    let Some(vols) = &b.p.volumes else {
        return Ok(());
    };
    let specs = vols
        .iter()
        .map(|v| VolumeSpec::parse(v))
        .collect::<Result<Vec<_>, _>>()?;
    let mut anon: Vec<String> = specs
        .iter()
        .filter(|s| s.source.is_none())
        .map(|s| s.target.clone())
        .collect();
    if let Some(Value::Object(iv)) = image.and_then(|i| i.pointer("/Config/Volumes")) {
        anon.extend(iv.keys().cloned());
    }
    anon.sort();
    anon.dedup();
    let flags = specs
        .iter()
        .flat_map(|s| {
            [
                "--volume".to_string(),
                s.bind().unwrap_or_else(|| s.target.clone()),
            ]
        })
        .collect();
    b.push(
        "volumes",
        Kind::Set,
        json!(anon),
        |c| {
            json!(c
                .pointer("/Config/Volumes")
                .and_then(Value::as_object)
                .map(|m| m.keys().cloned().collect::<Vec<_>>())
                .unwrap_or_default())
        },
        flags,
    );
    let binds: Vec<String> = specs.iter().filter_map(VolumeSpec::bind).collect();
    b.push(
        "volume_binds",
        Kind::Set,
        json!(binds),
        |c| {
            json!(strings(&at(c, "/HostConfig/Binds"))
                .iter()
                .map(|x| normalize_bind(x))
                .collect::<Vec<_>>())
        },
        Vec::new(),
    );
    Ok(())
}

pub(super) fn ports(b: &mut Builder<'_>, image: Option<&Value>) -> Result<(), String> {
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
        let flags = p
            .exposed_ports
            .iter()
            .flatten()
            .flat_map(|e| ["--expose".to_string(), e.clone()])
            .collect();
        b.push(
            "exposed_ports",
            Kind::Set,
            json!(all),
            |c| {
                json!(c
                    .pointer("/Config/ExposedPorts")
                    .and_then(Value::as_object)
                    .map(|m| m
                        .keys()
                        .flat_map(
                            |k| parse_container_ports(k).unwrap_or_else(|_| vec![k.to_string()])
                        )
                        .collect::<Vec<_>>())
                    .unwrap_or_default())
            },
            flags,
        );
    }
    if let Some(bm) = bindings {
        let mut flags = Vec::new();
        for (cport, list) in bm.as_object().into_iter().flatten() {
            for binding in list.as_array().into_iter().flatten() {
                let ip = binding["HostIp"].as_str().unwrap_or_default();
                let hp = binding["HostPort"].as_str().unwrap_or_default();
                let ip = if ip.contains(':') {
                    format!("[{ip}]")
                } else {
                    ip.to_string()
                };
                flags.extend(["--publish".to_string(), format!("{ip}:{hp}:{cport}")]);
            }
        }
        b.push(
            "published_ports",
            Kind::Dict,
            bm,
            |c| at(c, "/HostConfig/PortBindings"),
            flags,
        );
    }
    b.flag_bool("publish_all_ports", publish_all, "--publish-all", |c| {
        bool_at(c, "/HostConfig/PublishAllPorts")
    });
    Ok(())
}

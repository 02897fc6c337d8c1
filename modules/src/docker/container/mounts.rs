//! The `mounts` option: community.docker's mount dicts as `--mount` flags and as entries of the
//! Engine's `HostConfig.Mounts`.

use serde_json::{json, Map, Value};

use super::compare::Kind;
use super::desired::Item;
use super::params::ContainerParams;
use super::spec::parse_size;

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn truthy(v: Option<&Value>) -> Option<bool> {
    v.and_then(crate::params::parse_bool)
}

/// Adds the `mounts` item when the option is given.
pub fn mounts(items: &mut Vec<Item>, p: &ContainerParams) -> Result<(), String> {
    let Some(list) = &p.mounts else { return Ok(()) };
    let mut expected = Vec::new();
    let mut flags = Vec::new();
    for m in list {
        let m = m.as_object().ok_or("mounts: each entry must be a dict")?;
        for (key, value) in m {
            let known = matches!(
                key.as_str(),
                "target"
                    | "source"
                    | "type"
                    | "read_only"
                    | "consistency"
                    | "propagation"
                    | "no_copy"
                    | "labels"
                    | "volume_driver"
                    | "volume_options"
                    | "tmpfs_size"
                    | "tmpfs_mode"
            );
            if !known && !value.is_null() {
                return Err(format!(
                    "mounts: '{key}' cannot be set through the docker CLI's --mount"
                ));
            }
        }
        let target = m
            .get("target")
            .and_then(Value::as_str)
            .ok_or("mounts: each entry needs a target")?;
        let kind = m.get("type").and_then(Value::as_str).unwrap_or("volume");
        if !matches!(kind, "bind" | "volume" | "tmpfs") {
            return Err(format!(
                "mounts: type '{kind}' is not supported by drover (bind, volume, tmpfs)"
            ));
        }
        let mut exp = Map::new();
        exp.insert("Type".into(), json!(kind));
        exp.insert("Target".into(), json!(target));
        let mut spec = vec![format!("type={kind}"), format!("target={target}")];
        if let Some(src) = m.get("source").filter(|v| !v.is_null()) {
            let src = text(src);
            exp.insert("Source".into(), json!(src));
            spec.push(format!("source={src}"));
        } else if kind == "bind" {
            return Err(format!("mounts: the bind mount of {target} needs a source"));
        }
        if let Some(ro) = truthy(m.get("read_only")) {
            exp.insert("ReadOnly".into(), json!(ro));
            spec.push(format!("readonly={ro}"));
        }
        if let Some(c) = m.get("consistency").and_then(Value::as_str) {
            exp.insert("Consistency".into(), json!(c));
            spec.push(format!("consistency={c}"));
        }
        if let Some(pr) = m.get("propagation").and_then(Value::as_str) {
            spec.push(format!("bind-propagation={pr}"));
        }
        if let Some(nc) = truthy(m.get("no_copy")) {
            spec.push(format!("volume-nocopy={nc}"));
        }
        if let Some(d) = m.get("volume_driver").and_then(Value::as_str) {
            spec.push(format!("volume-driver={d}"));
        }
        for (k, v) in m
            .get("labels")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            spec.push(format!("volume-label={k}={}", text(v)));
        }
        for (k, v) in m
            .get("volume_options")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            spec.push(format!("volume-opt={k}={}", text(v)));
        }
        if let Some(size) = m.get("tmpfs_size").filter(|v| !v.is_null()) {
            let n = parse_size("tmpfs_size", &text(size))?;
            spec.push(format!("tmpfs-size={n}"));
        }
        if let Some(mode) = m.get("tmpfs_mode").filter(|v| !v.is_null()) {
            spec.push(format!("tmpfs-mode={}", text(mode)));
        }
        if spec.iter().any(|s| s.contains(',') || s.contains('"')) {
            return Err(format!(
                "mounts: values with commas or quotes cannot be passed to --mount ({target})"
            ));
        }
        expected.push(Value::Object(exp));
        flags.extend(["--mount".to_string(), spec.join(",")]);
    }
    items.push(Item {
        name: "mounts",
        kind: Kind::SetDict,
        expected: json!(expected),
        actual: |c| {
            c.pointer("/HostConfig/Mounts")
                .cloned()
                .unwrap_or(Value::Null)
        },
        flags,
        update: None,
    });
    Ok(())
}

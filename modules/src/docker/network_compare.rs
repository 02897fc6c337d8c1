//! `docker_network`'s comparison of the task's options with an existing network (community.docker's
//! `has_different_config`): every option given is compared with the network's inspect data;
//! dictionaries (driver options, labels) only need to contain the task's entries, and each IPAM
//! pool of the task must match one of the network's pools with addresses compared canonically.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::network::{IpamPool, NetworkParams};
use super::util_netvol::{
    normalize_ip_address, normalize_ip_network, subset_differences, Differences,
};

/// The names of the containers attached to a network (its inspect data's `Containers`).
pub fn container_names(net: &Value) -> Vec<String> {
    net.get("Containers")
        .and_then(Value::as_object)
        .map(|m| {
            m.values()
                .filter_map(|c| c.get("Name").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn bool_of(net: &Value, key: &str) -> bool {
    net.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// What differs between the task (with its effective `driver`) and the existing network.
pub fn differences(p: &NetworkParams, driver: &str, net: &Value) -> Differences {
    let mut d = Differences::default();
    if let Some(want) = p.config_only {
        if want != bool_of(net, "ConfigOnly") {
            d.add(
                "config_only",
                json!(want),
                json!(bool_of(net, "ConfigOnly")),
            );
        }
    }
    if let Some(want) = &p.config_from {
        let have = net
            .pointer("/ConfigFrom/Network")
            .and_then(Value::as_str)
            .unwrap_or("");
        if want != have {
            d.add("config_from", json!(want), json!(have));
        }
    }
    let have_driver = net.get("Driver").cloned().unwrap_or(Value::Null);
    if !driver.is_empty() && have_driver.as_str() != Some(driver) {
        d.add("driver", json!(driver), have_driver);
    }
    if let Some(opts) = p.driver_options.as_ref().filter(|o| !o.is_empty()) {
        let have = net.get("Options").cloned().unwrap_or(Value::Null);
        subset_differences(&mut d, "driver_options", opts, &have, false);
    }
    let ipam = net.get("IPAM").cloned().unwrap_or(Value::Null);
    if let Some(want) = p.ipam_driver.as_deref().filter(|s| !s.is_empty()) {
        if ipam.get("Driver").and_then(Value::as_str) != Some(want) {
            d.add("ipam_driver", json!(want), ipam.clone());
        }
    }
    if let Some(want) = &p.ipam_driver_options {
        let have: BTreeMap<String, Value> = ipam
            .get("Options")
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        let want_v: BTreeMap<String, Value> = want
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect();
        if have != want_v {
            d.add("ipam_driver_options", json!(want), json!(have));
        }
    }
    if let Some(pools) = p.ipam_config.as_ref().filter(|c| !c.is_empty()) {
        ipam_differences(&mut d, pools, &ipam);
    }
    for (opt, key, want) in [
        ("enable_ipv4", "EnableIPv4", p.enable_ipv4),
        ("enable_ipv6", "EnableIPv6", p.enable_ipv6),
        ("internal", "Internal", p.internal),
        ("attachable", "Attachable", p.attachable),
        ("ingress", "Ingress", p.ingress),
    ] {
        if let Some(want) = want {
            if want != bool_of(net, key) {
                d.add(
                    opt,
                    json!(want),
                    net.get(key).cloned().unwrap_or(json!(false)),
                );
            }
        }
    }
    if let Some(scope) = p.scope {
        let have = net.get("Scope").and_then(Value::as_str).unwrap_or("");
        if scope.as_str() != have {
            d.add("scope", json!(scope.as_str()), json!(have));
        }
    }
    if let Some(labels) = p.labels.as_ref().filter(|l| !l.is_empty()) {
        let have = net.get("Labels").cloned().unwrap_or(Value::Null);
        subset_differences(&mut d, "labels", labels, &have, false);
    }
    d
}

/// A pool's options by their task names, raw (as given / as inspected) and canonical.
fn pool_of_task(pool: &IpamPool) -> (Map<String, Value>, Map<String, Value>) {
    let mut raw = Map::new();
    let mut norm = Map::new();
    for (key, value) in [
        ("subnet", &pool.subnet),
        ("iprange", &pool.iprange),
        ("gateway", &pool.gateway),
    ] {
        if let Some(v) = value {
            raw.insert(key.into(), json!(v));
            let n = if key == "gateway" {
                normalize_ip_address(v)
            } else {
                normalize_ip_network(v)
            };
            norm.insert(key.into(), json!(n));
        }
    }
    if let Some(aux) = &pool.aux_addresses {
        raw.insert("aux_addresses".into(), json!(aux));
        let n: Map<String, Value> = aux
            .iter()
            .map(|(k, v)| (k.clone(), json!(normalize_ip_address(v))))
            .collect();
        norm.insert("aux_addresses".into(), Value::Object(n));
    }
    (raw, norm)
}

/// A network's pool (`Subnet`, `IPRange`, `Gateway`, `AuxiliaryAddresses`) by task names.
fn pool_of_network(pool: &Value) -> (Map<String, Value>, Map<String, Value>) {
    let mut raw = Map::new();
    let mut norm = Map::new();
    for (k, v) in pool.as_object().into_iter().flatten() {
        let key = if k == "AuxiliaryAddresses" {
            "aux_addresses".to_string()
        } else {
            k.to_ascii_lowercase()
        };
        raw.insert(key.clone(), v.clone());
        let n = match (key.as_str(), v) {
            ("subnet" | "iprange", Value::String(s)) => json!(normalize_ip_network(s)),
            ("gateway", Value::String(s)) => json!(normalize_ip_address(s)),
            ("aux_addresses", Value::Object(m)) => Value::Object(
                m.iter()
                    .map(|(k, v)| {
                        let t = v.as_str().map(normalize_ip_address);
                        (k.clone(), t.map_or(v.clone(), Value::from))
                    })
                    .collect(),
            ),
            _ => v.clone(),
        };
        norm.insert(key, n);
    }
    (raw, norm)
}

fn ipam_differences(d: &mut Differences, pools: &[IpamPool], ipam: &Value) {
    let net_pools: Vec<(Map<String, Value>, Map<String, Value>)> = ipam
        .get("Config")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(pool_of_network).collect())
        .unwrap_or_default();
    if net_pools.is_empty() {
        let want: Vec<Value> = pools
            .iter()
            .map(|p| Value::Object(pool_of_task(p).0))
            .collect();
        d.add(
            "ipam_config",
            Value::Array(want),
            ipam.get("Config").cloned().unwrap_or(Value::Null),
        );
        return;
    }
    let empty = (Map::new(), Map::new());
    for (idx, pool) in pools.iter().enumerate() {
        let (raw, norm) = pool_of_task(pool);
        let (net_raw, net_norm) = net_pools
            .iter()
            .find(|(_, n)| norm.iter().all(|(k, v)| n.get(k) == Some(v)))
            .unwrap_or(&empty);
        for (key, value) in &raw {
            if norm.get(key) != net_norm.get(key) {
                d.add(
                    format!("ipam_config[{idx}].{key}"),
                    value.clone(),
                    net_raw.get(key).cloned().unwrap_or(Value::Null),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(v: Value) -> NetworkParams {
        serde_json::from_value(v).unwrap()
    }

    fn net() -> Value {
        json!({
            "Name": "n", "Driver": "bridge", "Scope": "local", "EnableIPv4": true,
            "EnableIPv6": false, "Internal": false, "Attachable": false, "Ingress": false,
            "ConfigFrom": {"Network": ""}, "ConfigOnly": false,
            "IPAM": {"Driver": "default", "Options": {}, "Config": [
                {"Subnet": "172.30.0.0/24", "Gateway": "172.30.0.1"}
            ]},
            "Options": {"com.docker.network.bridge.name": "br0"},
            "Labels": {"a": "1"},
            "Containers": {"x": {"Name": "c1"}}
        })
    }

    #[test]
    fn the_same_options_are_no_difference() {
        let p = params(json!({
            "name": "n",
            "ipam_config": [{"subnet": "172.30.0.0/24", "gateway": "172.30.0.1"}],
            "driver_options": {"com.docker.network.bridge.name": "br0"},
            "labels": {"a": "1"},
            "internal": false,
        }));
        assert!(differences(&p, "bridge", &net()).is_empty());
        assert_eq!(container_names(&net()), vec!["c1"]);
    }

    #[test]
    fn changed_options_are_listed() {
        let p = params(json!({
            "name": "n",
            "ipam_config": [{"subnet": "172.31.0.0/24"}],
            "driver_options": {"com.docker.network.bridge.name": "br1"},
            "labels": {"b": "2"},
            "internal": true,
            "ipam_driver_options": {"x": "y"},
        }));
        let d = differences(&p, "macvlan", &net());
        assert_eq!(
            d.names(),
            vec![
                "driver",
                "driver_options.com.docker.network.bridge.name",
                "ipam_driver_options",
                "ipam_config[0].subnet",
                "internal",
                "labels.b"
            ]
        );
    }
}

//! `networks`: which networks the container must join or leave (`docker network connect` /
//! `disconnect`), compared as community.docker does (asked aliases and links must be present,
//! asked addresses equal; other networks are left only with `comparisons: {networks: strict}`).

use serde_json::{json, Value};

use super::params::ContainerParams;

/// One entry of `networks`.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkSpec {
    /// Network name.
    pub name: String,
    /// IPv4 address.
    pub ipv4: Option<String>,
    /// IPv6 address.
    pub ipv6: Option<String>,
    /// Aliases.
    pub aliases: Vec<String>,
    /// Links (`name:alias`).
    pub links: Vec<String>,
    /// MAC address.
    pub mac: Option<String>,
}

impl NetworkSpec {
    /// The entry as community.docker shows it in diffs.
    pub fn to_value(&self) -> Value {
        json!({
            "name": self.name, "ipv4_address": self.ipv4, "ipv6_address": self.ipv6,
            "aliases": if self.aliases.is_empty() { Value::Null } else { json!(self.aliases) },
            "links": if self.links.is_empty() { Value::Null } else { json!(self.links) },
            "mac_address": self.mac,
        })
    }

    /// `docker network connect` flags for this entry (before the network and container).
    pub fn connect_flags(&self) -> Vec<String> {
        let mut f = Vec::new();
        for a in &self.aliases {
            f.extend(["--alias".to_string(), a.clone()]);
        }
        if let Some(ip) = &self.ipv4 {
            f.extend(["--ip".to_string(), ip.clone()]);
        }
        if let Some(ip) = &self.ipv6 {
            f.extend(["--ip6".to_string(), ip.clone()]);
        }
        for l in &self.links {
            f.extend(["--link".to_string(), l.clone()]);
        }
        f
    }

    /// `docker create` flags joining this network as its first one.
    pub fn create_flags(&self) -> Vec<String> {
        let mut f = Vec::new();
        for a in &self.aliases {
            f.extend(["--network-alias".to_string(), a.clone()]);
        }
        if let Some(ip) = &self.ipv4 {
            f.extend(["--ip".to_string(), ip.clone()]);
        }
        if let Some(ip) = &self.ipv6 {
            f.extend(["--ip6".to_string(), ip.clone()]);
        }
        for l in &self.links {
            f.extend(["--link".to_string(), l.clone()]);
        }
        f
    }
}

fn strs(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// Reads `networks`.
pub fn specs(p: &ContainerParams) -> Result<Vec<NetworkSpec>, String> {
    let mut out = Vec::new();
    for n in p.networks.iter().flatten() {
        let o = n.as_object().ok_or("networks: each entry must be a dict")?;
        for k in o.keys() {
            if !matches!(
                k.as_str(),
                "name" | "ipv4_address" | "ipv6_address" | "aliases" | "links" | "mac_address"
            ) {
                return Err(format!("networks: unsupported parameter '{k}'"));
            }
        }
        let name = o
            .get("name")
            .and_then(Value::as_str)
            .ok_or("networks: each entry needs a name")?;
        let s = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_string);
        let links = strs(o.get("links"))
            .into_iter()
            .map(|l| {
                if l.contains(':') {
                    l
                } else {
                    format!("{l}:{l}")
                }
            })
            .collect();
        out.push(NetworkSpec {
            name: name.to_string(),
            ipv4: s("ipv4_address"),
            ipv6: s("ipv6_address"),
            aliases: strs(o.get("aliases")),
            links,
            mac: s("mac_address").map(|m| m.replace('-', ":")),
        });
    }
    Ok(out)
}

/// What to change on the container's networks.
#[derive(Debug, Default)]
pub struct NetworkPlan {
    /// Networks to (re)connect: the spec and whether it is connected now (then it is
    /// disconnected first).
    pub connect: Vec<(NetworkSpec, Option<Value>)>,
    /// Networks to leave (name, current settings).
    pub disconnect: Vec<(String, Value)>,
}

impl NetworkPlan {
    /// Whether anything changes.
    pub fn is_empty(&self) -> bool {
        self.connect.is_empty() && self.disconnect.is_empty()
    }
}

fn ip_eq(a: &str, b: Option<&str>) -> bool {
    let norm = |s: &str| {
        s.parse::<std::net::IpAddr>()
            .map(|ip| ip.to_string())
            .unwrap_or_else(|_| s.to_string())
    };
    b.is_some_and(|b| norm(a) == norm(b))
}

/// Compares the asked networks with the container's (`NetworkSettings.Networks`).
pub fn plan(specs: &[NetworkSpec], container: &Value, compare: bool, purge: bool) -> NetworkPlan {
    let mut plan = NetworkPlan::default();
    let connected = container
        .pointer("/NetworkSettings/Networks")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if compare {
        for spec in specs {
            match connected.get(&spec.name) {
                None => plan.connect.push((spec.clone(), None)),
                Some(info) => {
                    let ipam = info.get("IPAMConfig").cloned().unwrap_or(Value::Null);
                    let mut diff = false;
                    if let Some(ip) = &spec.ipv4 {
                        diff |= !ip_eq(ip, ipam.get("IPv4Address").and_then(Value::as_str));
                    }
                    if let Some(ip) = &spec.ipv6 {
                        diff |= !ip_eq(ip, ipam.get("IPv6Address").and_then(Value::as_str));
                    }
                    let aliases = strs(info.get("Aliases"));
                    diff |= spec.aliases.iter().any(|a| !aliases.contains(a));
                    let links = strs(info.get("Links"));
                    diff |= spec.links.iter().any(|l| !links.contains(l));
                    if let Some(mac) = &spec.mac {
                        diff |= info.get("MacAddress").and_then(Value::as_str) != Some(mac);
                    }
                    if diff {
                        let current = json!({
                            "name": spec.name,
                            "ipv4_address": ipam.get("IPv4Address"),
                            "ipv6_address": ipam.get("IPv6Address"),
                            "aliases": info.get("Aliases"),
                            "links": info.get("Links"),
                            "mac_address": info.get("MacAddress"),
                        });
                        plan.connect.push((spec.clone(), Some(current)));
                    }
                }
            }
        }
    }
    if purge {
        for (name, info) in &connected {
            if !specs.iter().any(|s| &s.name == name) {
                let id = info.get("NetworkID").cloned().unwrap_or(Value::Null);
                plan.disconnect
                    .push((name.clone(), json!({"name": name, "id": id})));
            }
        }
    }
    plan
}

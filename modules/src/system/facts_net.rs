//! Network facts: `interfaces`, per-interface `ansible_<iface>` dictionaries, `default_ipv4` /
//! `default_ipv6`, `all_ipv4_addresses` / `all_ipv6_addresses`, from `/sys/class/net` and `ip`.

use std::net::Ipv4Addr;

use drover_core::vars::{Map, Value};
use serde_json::json;

use super::facts_build::Sections;

/// Converts an IPv4 prefix length to a dotted netmask.
fn netmask(prefix: u32) -> Ipv4Addr {
    let bits = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix.min(32))
    };
    Ipv4Addr::from(bits)
}

/// The fact name of an interface (`-` and `:` become `_`, as Ansible does).
fn fact_name(iface: &str) -> String {
    iface.replace(['-', ':', '.'], "_")
}

/// One `ip -o addr show` line, parsed.
struct AddrLine {
    iface: String,
    family: String,
    address: String,
    prefix: u32,
    broadcast: Option<String>,
    scope: String,
}

fn parse_addr_line(l: &str) -> Option<AddrLine> {
    let w: Vec<&str> = l.split_whitespace().collect();
    let iface = w.get(1)?.split('@').next()?.to_string();
    let family = w.get(2)?.to_string();
    let (address, prefix) = w.get(3)?.split_once('/').unwrap_or((w.get(3)?, "32"));
    let after = |key: &str| {
        w.iter()
            .position(|x| *x == key)
            .and_then(|i| w.get(i + 1))
            .map(|x| x.to_string())
    };
    Some(AddrLine {
        iface,
        family,
        address: address.to_string(),
        prefix: prefix.parse().unwrap_or(0),
        broadcast: after("brd"),
        scope: after("scope").unwrap_or_default(),
    })
}

/// Builds the network facts from the `network`, `addrs`, `route4` and `route6` sections.
pub fn network_facts(sec: &Sections) -> Vec<(String, Value)> {
    let mut ifaces: Vec<(String, Map<String, Value>)> = Vec::new();
    for l in sec.get("network").map_or("", String::as_str).lines() {
        let w: Vec<&str> = l.split_whitespace().collect();
        if w.len() < 5 {
            continue;
        }
        let flags = u32::from_str_radix(w[3].trim_start_matches("0x"), 16).unwrap_or(0);
        let kind = match w[4] {
            "1" => "ether",
            "772" => "loopback",
            "768" | "776" => "tunnel",
            "65534" => "unknown",
            other => other,
        };
        let mut m = Map::new();
        m.insert("device".into(), json!(w[0]));
        m.insert("active".into(), json!(flags & 0x1 != 0));
        m.insert("promisc".into(), json!(flags & 0x100 != 0));
        m.insert("mtu".into(), json!(w[1].parse::<u64>().unwrap_or(0)));
        if kind != "loopback" {
            m.insert("macaddress".into(), json!(w[2]));
        }
        m.insert("type".into(), json!(kind));
        if let Some(speed) = w.get(5).and_then(|x| x.parse::<i64>().ok()) {
            m.insert("speed".into(), json!(speed));
        }
        ifaces.push((w[0].to_string(), m));
    }
    let mut all4 = Vec::new();
    let mut all6 = Vec::new();
    for l in sec.get("addrs").map_or("", String::as_str).lines() {
        let Some(a) = parse_addr_line(l) else {
            continue;
        };
        let Some((_, m)) = ifaces.iter_mut().find(|(n, _)| *n == a.iface) else {
            continue;
        };
        if a.family == "inet" {
            let Ok(ip) = a.address.parse::<Ipv4Addr>() else {
                continue;
            };
            let mask = netmask(a.prefix);
            let network = Ipv4Addr::from(u32::from(ip) & u32::from(mask));
            let entry = json!({
                "address": a.address, "broadcast": a.broadcast.clone().unwrap_or_default(),
                "netmask": mask.to_string(), "network": network.to_string(),
                "prefix": a.prefix.to_string(),
            });
            if m.contains_key("ipv4") {
                let sec = m
                    .entry("ipv4_secondaries")
                    .or_insert_with(|| Value::Array(vec![]));
                if let Value::Array(v) = sec {
                    v.push(entry);
                }
            } else {
                m.insert("ipv4".into(), entry);
            }
            if a.iface != "lo" {
                all4.push(json!(a.address));
            }
        } else if a.family == "inet6" {
            let list = m.entry("ipv6").or_insert_with(|| Value::Array(vec![]));
            if let Value::Array(v) = list {
                v.push(
                    json!({"address": a.address, "prefix": a.prefix.to_string(), "scope": a.scope}),
                );
            }
            if a.iface != "lo" {
                all6.push(json!(a.address));
            }
        }
    }
    let default = |section: &str, family: &str| -> Value {
        let route = sec
            .get(section)
            .and_then(|r| r.lines().next())
            .unwrap_or("");
        let w: Vec<&str> = route.split_whitespace().collect();
        let after = |key: &str| {
            w.iter()
                .position(|x| *x == key)
                .and_then(|i| w.get(i + 1))
                .copied()
        };
        let (Some(dev), gateway) = (after("dev"), after("via")) else {
            return json!({});
        };
        let Some((_, m)) = ifaces.iter().find(|(n, _)| n == dev) else {
            return json!({});
        };
        let mut out = Map::new();
        let addr = match family {
            "ipv4" => m.get("ipv4").cloned(),
            _ => m.get("ipv6").and_then(|v| {
                v.as_array()?
                    .iter()
                    .find(|a| a["scope"] == "global")
                    .cloned()
            }),
        };
        if let Some(Value::Object(a)) = addr {
            out.extend(a);
        }
        out.insert("interface".into(), json!(dev));
        if family == "ipv4" {
            out.insert("alias".into(), json!(dev));
        }
        out.insert("gateway".into(), json!(gateway.unwrap_or("")));
        for k in ["macaddress", "mtu", "type"] {
            if let Some(v) = m.get(k) {
                out.insert(k.into(), v.clone());
            }
        }
        Value::Object(out)
    };
    let mut out = vec![
        ("default_ipv4".to_string(), default("route4", "ipv4")),
        ("default_ipv6".to_string(), default("route6", "ipv6")),
        ("all_ipv4_addresses".to_string(), Value::Array(all4)),
        ("all_ipv6_addresses".to_string(), Value::Array(all6)),
        (
            "interfaces".to_string(),
            Value::Array(ifaces.iter().map(|(n, _)| json!(n)).collect()),
        ),
    ];
    for (name, m) in ifaces {
        out.push((fact_name(&name), Value::Object(m)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interfaces_and_default_route() {
        let mut sec = Sections::new();
        sec.insert(
            "network".into(),
            "eth0 1500 00:16:3e:00:00:01 0x1003 1\nlo 65536 00:00:00:00:00:00 0x9 772\n".into(),
        );
        sec.insert("addrs".into(), "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever\n2: eth0    inet 10.77.0.10/24 brd 10.77.0.255 scope global eth0\\  valid_lft forever\n2: eth0    inet6 fe80::1/64 scope link \\  valid_lft forever\n".into());
        sec.insert(
            "route4".into(),
            "default via 10.77.0.1 dev eth0 onlink\n".into(),
        );
        let f: Map<String, Value> = network_facts(&sec).into_iter().collect();
        assert_eq!(f["default_ipv4"]["address"], "10.77.0.10");
        assert_eq!(f["default_ipv4"]["gateway"], "10.77.0.1");
        assert_eq!(f["default_ipv4"]["netmask"], "255.255.255.0");
        assert_eq!(f["default_ipv4"]["network"], "10.77.0.0");
        assert_eq!(f["default_ipv4"]["macaddress"], "00:16:3e:00:00:01");
        assert_eq!(f["all_ipv4_addresses"], json!(["10.77.0.10"]));
        assert_eq!(f["all_ipv6_addresses"], json!(["fe80::1"]));
        assert_eq!(f["eth0"]["ipv6"][0]["scope"], "link");
        assert_eq!(f["lo"]["type"], "loopback");
        assert_eq!(f["eth0"]["active"], true);
        assert_eq!(f["interfaces"], json!(["eth0", "lo"]));
    }
}

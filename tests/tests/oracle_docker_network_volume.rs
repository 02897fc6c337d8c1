//! Differential test: the same playbook of network and volume tasks run by community.docker
//! (ansible-playbook, the oracle) and by drover on one private engine, with different object
//! names, over (check, apply, apply, check), then with changed options (check, apply): the
//! `changed` sequences, the check-mode `actions` and the main result fields must agree.
//! ansible-playbook takes 13-30 s per run on a loaded machine (drover < 2 s), hence no more runs.

mod netvol_common;

use std::path::Path;

use drover_integration::TestDockerEngine;
use netvol_common::{attached, inspect, sleeper};
use serde_json::{json, Value};

/// The playbook for objects named `<p>-…` on subnet `172.30.<octet>.0/24`; it writes the
/// registered results to `out` (as JSON, whatever the check mode). The second version changes
/// the network's driver options and containers, a volume's labels, and removes the others.
fn book(engine: &TestDockerEngine, p: &str, octet: u8, out: &Path, second: bool) -> String {
    let dh = engine.docker_host();
    let (mtu, conn, label, gone) = if second {
        ("1500", "c2", "other", "        state: absent\n")
    } else {
        ("1400", "c1", "drover", "")
    };
    format!(
        r#"- hosts: localhost
  gather_facts: false
  vars:
    dh: "{dh}"
  tasks:
    - name: network with a container
      community.docker.docker_network:
        docker_host: "{{{{ dh }}}}"
        name: {p}-net
        ipam_config:
          - subnet: 172.30.{octet}.0/24
            gateway: 172.30.{octet}.1
        driver_options:
          com.docker.network.driver.mtu: "{mtu}"
        labels:
          app: drover
        connected: [{p}-{conn}]
      register: net
    - name: internal network
      community.docker.docker_network:
        docker_host: "{{{{ dh }}}}"
        name: {p}-inner
        internal: true
{gone}      register: inner
    - name: volume
      community.docker.docker_volume:
        docker_host: "{{{{ dh }}}}"
        name: {p}-vol
        driver_options:
          type: tmpfs
          device: tmpfs
          o: size=1m
        labels:
          app: {label}
        recreate: options-changed
      register: vol
    - name: volume recreated always
      community.docker.docker_volume:
        docker_host: "{{{{ dh }}}}"
        name: {p}-vol2
        recreate: always
{gone}      register: vol2
    - name: missing network absent
      community.docker.docker_network:
        docker_host: "{{{{ dh }}}}"
        name: {p}-never
        state: absent
      register: netabsent
    - name: missing volume absent
      community.docker.docker_volume:
        docker_host: "{{{{ dh }}}}"
        name: {p}-never
        state: absent
      register: volabsent
    - name: results
      copy:
        content: "{{{{ [net, inner, vol, vol2, netabsent, volabsent] | to_json }}}}"
        dest: {out}
      check_mode: false
"#,
        out = out.display()
    )
}

/// The fields compared, with the run's prefix and subnet made neutral.
fn summary(path: &Path, prefix: &str, octet: u8) -> Vec<Value> {
    let text = std::fs::read_to_string(path)
        .expect("results file")
        .replace(&format!("{prefix}-"), "X-")
        .replace(&format!("172.30.{octet}."), "172.30.N.");
    let results: Vec<Value> = serde_json::from_str(&text).expect("results JSON");
    results
        .iter()
        .map(|r| {
            let net = r.get("network").filter(|n| !n.is_null());
            let vol = r.get("volume").filter(|v| !v.is_null());
            let mut containers: Vec<String> = net
                .and_then(|n| n["Containers"].as_object())
                .map(|m| m.values().filter_map(|c| c["Name"].as_str().map(String::from)).collect())
                .unwrap_or_default();
            containers.sort();
            json!({
                "changed": r["changed"],
                "failed": r.get("failed").cloned().unwrap_or(json!(false)),
                "exists": r.get("exists"),
                "actions": r.get("actions"),
                "network": net.map(|n| json!({
                    "Name": n["Name"], "Driver": n["Driver"], "Internal": n["Internal"],
                    "Options": n["Options"], "Labels": n["Labels"],
                    // The engine picks the internal network's subnet: compare only ours.
                    "IPAM": if n["Name"] == "X-net" { n["IPAM"]["Config"].clone() } else { Value::Null },
                    "Containers": containers,
                })),
                "network_key": r.get("network").is_some(),
                "volume": vol.map(|v| json!({
                    "Name": v["Name"], "Driver": v["Driver"], "Labels": v["Labels"],
                    "Options": v["Options"],
                })),
                "volume_key": r.get("volume").is_some(),
            })
        })
        .collect()
}

#[test]
fn drover_and_community_docker_agree_on_networks_and_volumes() {
    let engine = TestDockerEngine::start();
    let dir = tempfile::tempdir().unwrap();
    for name in ["ora-c1", "ora-c2", "drv-c1", "drv-c2"] {
        sleeper(&engine, name);
    }
    let (ora_out, drv_out) = (dir.path().join("ora.json"), dir.path().join("drv.json"));
    let ora_book = dir.path().join("ora.yml");
    let drv_book = dir.path().join("drv.yml");
    let steps = [
        ("check", true, false),
        ("apply", false, false),
        ("apply again", false, false),
        ("check again", true, false),
        ("changes: check", true, true),
        ("changes: apply", false, true),
    ];
    for (step, check, second) in steps {
        std::fs::write(&ora_book, book(&engine, "ora", 41, &ora_out, second)).unwrap();
        std::fs::write(&drv_book, book(&engine, "drv", 42, &drv_out, second)).unwrap();
        let args: Vec<&str> = if check { vec!["--check"] } else { vec![] };
        run_with_args(&ora_book, &args, true);
        run_with_args(&drv_book, &args, false);
        let ora = summary(&ora_out, "ora", 41);
        let drv = summary(&drv_out, "drv", 42);
        for (i, (o, d)) in ora.iter().zip(&drv).enumerate() {
            assert_eq!(
                o, d,
                "{step}: task {i} differs\noracle: {o:#}\ndrover: {d:#}"
            );
        }
        assert_eq!(ora.len(), drv.len());
    }
    for p in ["ora", "drv"] {
        assert_eq!(
            attached(&engine, &format!("{p}-net")),
            vec![format!("{p}-c2")]
        );
        assert!(inspect(&engine, "network", &format!("{p}-inner")).is_none());
        assert!(inspect(&engine, "volume", &format!("{p}-vol2")).is_none());
        let vol = inspect(&engine, "volume", &format!("{p}-vol")).unwrap();
        assert_eq!(vol["Labels"]["app"], "other");
    }
}

fn run_with_args(book: &Path, extra: &[&str], ansible: bool) {
    drover_integration::run_local_book(book, extra, ansible);
}

//! `docker_container` with most options at once against a private engine: created as asked,
//! idempotent, and each option group changed in turn (recreate, or update in place).

mod docker_container_common;

use docker_container_common::{changed, inspect, play, port, result};
use drover_integration::{TestDockerEngine, TEST_IMAGE};
use serde_json::Value;

/// Most options at once: created as asked, then idempotent (the Engine's normalisations of
/// capabilities, sizes, durations, binds, ports and devices are no difference); changing one of
/// them recreates.
#[test]
fn many_options_converge_and_stay_idempotent() {
    let engine = TestDockerEngine::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    engine.docker_ok(&["volume", "create", "vol1"]);
    engine.docker_ok(&[
        "run", "-d", "--name", "linked", TEST_IMAGE, "sleep", "infinity",
    ]);
    let hp = port(&engine, 3);
    let task = |dns: &str| {
        format!(
            r#"name: many
image: {TEST_IMAGE}
entrypoint: [/usr/bin/env]
command: [sleep, infinity]
init: true
tmpfs: ["/run/a:size=1m", /run/b]
mounts:
  - {{type: volume, source: vol1, target: /vol1}}
  - {{type: bind, source: /tmp, target: /bindtmp, read_only: true}}
  - {{type: tmpfs, target: /tm, tmpfs_size: 1M}}
dns_servers: [{dns}]
dns_search_domains: [example.org]
dns_opts: ["ndots:2"]
etc_hosts: {{myhost: 10.1.2.3}}
ulimits: ["nofile:1024:2048"]
sysctls: {{net.ipv4.ip_forward: 1}}
log_driver: json-file
log_options: {{max-size: 1m, max-file: 2}}
cap_drop: [MKNOD]
capabilities: [sys_time]
security_opts: [no-new-privileges]
stop_signal: SIGINT
stop_timeout: 3
user: "0:0"
shm_size: 32M
memory: 128M
memory_reservation: 64M
memory_swap: 256M
cpu_shares: 512
cpus: 0.5
read_only: false
tty: true
interactive: true
healthcheck: {{test: ["CMD-SHELL", "true"], interval: 30s, timeout: 5s, retries: 2, start_period: 1s}}
labels: {{a: b}}
exposed_ports: ["7000", "7001/udp", "7100-7101"]
published_ports: ["127.0.0.1::7000", "127.0.0.1:{hp}:7001/udp"]
pids_limit: 100
oom_score_adj: 100
groups: [audio]
domainname: example.org
hostname: manyhost
working_dir: /tmp
links: ["linked:lk"]
devices: ["/dev/null:/dev/mynull:rw"]
ipc_mode: private
auto_remove: false
privileged: false
oom_killer: false
env: {{X: "1"}}
volumes: ["vol1:/v1", "/tmp:/t2:ro", /anon2]
restart_policy: on-failure
restart_retries: 2
"#
        )
    };
    let t1 = task("1.1.1.1, 8.8.8.8");
    play(&engine, d, &t1, &[]).assert_success();
    assert!(changed(d));
    let c = inspect(&engine, "many");
    assert_eq!(c["State"]["Running"], true);
    let h = &c["HostConfig"];
    assert_eq!(
        c["Config"]["Entrypoint"],
        serde_json::json!(["/usr/bin/env"])
    );
    assert_eq!(h["Tmpfs"]["/run/a"], "size=1m");
    assert_eq!(h["Mounts"].as_array().unwrap().len(), 3);
    assert_eq!(h["Dns"], serde_json::json!(["1.1.1.1", "8.8.8.8"]));
    assert_eq!(h["Ulimits"][0]["Hard"], 2048);
    assert_eq!(h["LogConfig"]["Config"]["max-file"], "2");
    assert_eq!(h["ShmSize"], 32 << 20);
    assert_eq!(h["NanoCpus"], 500_000_000);
    assert_eq!(h["RestartPolicy"]["MaximumRetryCount"], 2);
    assert_eq!(h["Devices"][0]["PathInContainer"], "/dev/mynull");
    assert_eq!(c["Config"]["Healthcheck"]["Interval"], 30_000_000_000i64);
    play(&engine, d, &t1, &["--diff"]).assert_success();
    assert!(!changed(d), "not idempotent: {}", result(d)["diff"]);
    play(&engine, d, &t1, &["--check"]).assert_success();
    assert!(!changed(d));
    let id = c["Id"].clone();
    // Order matters for DNS servers (a list): swapping them recreates.
    let t2 = task("8.8.8.8, 1.1.1.1");
    play(&engine, d, &t2, &["--diff"]).assert_success();
    assert!(changed(d));
    assert_eq!(
        result(d)["diff"]["after"]["dns_servers"],
        serde_json::json!(["8.8.8.8", "1.1.1.1"])
    );
    let c = inspect(&engine, "many");
    assert_ne!(c["Id"], id);
    assert_eq!(
        c["HostConfig"]["Dns"],
        serde_json::json!(["8.8.8.8", "1.1.1.1"])
    );
    play(&engine, d, &t2, &[]).assert_success();
    assert!(!changed(d));

    // One option group after the other: each change recreates (or, for limits, updates in
    // place) and the Engine shows the new value.
    let mut current = t2;
    let mut id = inspect(&engine, "many")["Id"].clone();
    for (from, to, pointer, want, in_place) in [
        (
            "labels: {a: b}",
            "labels: {a: c}",
            "/Config/Labels/a",
            serde_json::json!("c"),
            false,
        ),
        (
            "command: [sleep, infinity]",
            "command: sleep 1000000",
            "/Config/Cmd/1",
            serde_json::json!("1000000"),
            false,
        ),
        (
            "\"/tmp:/t2:ro\"",
            "\"/tmp:/t2:rw\"",
            "/HostConfig/Binds",
            serde_json::json!("/tmp:/t2:rw"),
            false,
        ),
        (
            "capabilities: [sys_time]",
            "capabilities: [sys_time, net_admin]",
            "/HostConfig/CapAdd",
            serde_json::json!("CAP_NET_ADMIN"),
            false,
        ),
        (
            "interval: 30s",
            "interval: 20s",
            "/Config/Healthcheck/Interval",
            serde_json::json!(20_000_000_000i64),
            false,
        ),
        (
            "tmpfs: [\"/run/a:size=1m\", /run/b]",
            "tmpfs: [\"/run/a:size=2m\", /run/b]",
            "/HostConfig/Tmpfs/~1run~1a",
            serde_json::json!("size=2m"),
            false,
        ),
        (
            "user: \"0:0\"",
            "user: \"0:1\"",
            "/Config/User",
            serde_json::json!("0:1"),
            false,
        ),
        (
            "cpu_shares: 512",
            "cpu_shares: 256",
            "/HostConfig/CpuShares",
            serde_json::json!(256),
            true,
        ),
        (
            "memory_reservation: 64M",
            "memory_reservation: 32M",
            "/HostConfig/MemoryReservation",
            serde_json::json!(32 << 20),
            true,
        ),
        (
            "restart_retries: 2",
            "restart_retries: 5",
            "/HostConfig/RestartPolicy/MaximumRetryCount",
            serde_json::json!(5),
            true,
        ),
    ] {
        assert!(current.contains(from), "{from}");
        current = current.replace(from, to);
        play(&engine, d, &current, &[]).assert_success();
        assert!(changed(d), "{to}: no change");
        let c = inspect(&engine, "many");
        // Lists the Engine keeps in its own order are searched.
        match c.pointer(pointer) {
            Some(Value::Array(items)) => assert!(items.contains(&want), "{to}: {items:?}"),
            other => assert_eq!(other, Some(&want), "{to}"),
        }
        assert_eq!(
            c["Id"] == id,
            in_place,
            "{to}: in place {in_place} expected"
        );
        assert_eq!(c["State"]["Running"], true, "{to}");
        id = c["Id"].clone();
        play(&engine, d, &current, &[]).assert_success();
        assert!(!changed(d), "{to}: not idempotent: {}", result(d));
    }
}

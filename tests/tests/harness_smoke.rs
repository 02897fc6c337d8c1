//! Smoke test of the real-host harness: three fresh Debian hosts with systemd + sshd.

use std::process::Command;

use drover_integration::{state_dir, TestHosts, DEPLOY_USER};

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// Container names currently defined in the harness's lxcpath.
fn containers() -> Vec<String> {
    let output = Command::new("lxc-ls")
        .arg("-P")
        .arg(state_dir().join("lxc"))
        .arg("-1")
        .output()
        .expect("run lxc-ls");
    assert!(output.status.success(), "lxc-ls failed: {output:?}");
    stdout(&output).lines().map(str::to_owned).collect()
}

/// Login as root and deploy with strict host keys, systemd state, hostname, sudo, no Python.
fn check_host(hosts: &TestHosts, index: usize, known_hosts: &str) {
    let host = hosts.host(index);
    assert!(
        known_hosts
            .lines()
            .any(|line| line.starts_with(&format!("{} ", host.ip))),
        "{} missing from known_hosts:\n{known_hosts}",
        host.ip
    );
    assert_eq!(hosts.ssh_ok(index, "hostname").trim(), host.name);
    let state = stdout(&hosts.ssh(index, "systemctl is-system-running --wait"));
    assert!(
        state == "running" || state == "degraded",
        "{}: systemd state {state:?}",
        host.name
    );
    assert_eq!(hosts.ssh_ok(index, "id -u").trim(), "0");
    // The deploy user logs in with the same key and has passwordless sudo.
    let deploy = hosts.ssh_as(index, DEPLOY_USER, "id -un && sudo -n id -u");
    assert!(deploy.status.success(), "deploy sudo failed: {deploy:?}");
    assert_eq!(stdout(&deploy), "deploy\n0");
    // No Python on the targets: drover must not need it.
    assert!(!hosts.ssh(index, "command -v python3").status.success());
}

#[test]
fn three_hosts_with_systemd_sshd_sudo_and_teardown() {
    let hosts = TestHosts::start(3);
    let names: Vec<String> = hosts.hosts().iter().map(|host| host.name.clone()).collect();
    assert_eq!(names.len(), 3);
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 3, "host names collide: {names:?}");

    let known_hosts = std::fs::read_to_string(hosts.known_hosts()).expect("known_hosts");
    // Hosts are checked in parallel (each check is a fresh ssh login, ~0.3 s).
    std::thread::scope(|scope| {
        for index in 0..hosts.len() {
            let (hosts, known_hosts) = (&hosts, &known_hosts);
            scope.spawn(move || check_host(hosts, index, known_hosts));
        }
    });

    // Each host has its own host key.
    let mut keys: Vec<&String> = hosts.hosts().iter().flat_map(|h| &h.host_keys).collect();
    keys.sort_by_key(|line| line.split_whitespace().nth(2).map(str::to_owned));
    keys.dedup_by_key(|line| line.split_whitespace().nth(2).map(str::to_owned));
    assert_eq!(keys.len(), 6, "host keys are shared between clones");

    // A wrong known_hosts entry makes ssh refuse: host key checking is really on.
    let other_keys = hosts
        .host(1)
        .host_keys
        .join("\n")
        .replace(&hosts.host(1).ip.to_string(), &hosts.host(0).ip.to_string());
    std::fs::write(hosts.known_hosts(), format!("{other_keys}\n")).expect("rewrite known_hosts");
    assert_eq!(hosts.ssh(0, "true").status.code(), Some(255));
    std::fs::write(hosts.known_hosts(), known_hosts).expect("restore known_hosts");
    assert!(hosts.ssh(0, "true").status.success());

    // A stopped host is unreachable; the others are not affected; it comes back with the same keys.
    hosts.stop_host(2);
    let unreachable = hosts.ssh(2, "true");
    assert_eq!(unreachable.status.code(), Some(255), "{unreachable:?}");
    assert!(hosts.ssh(1, "true").status.success());
    hosts.start_host(2);
    assert_eq!(hosts.ssh_ok(2, "hostname").trim(), hosts.host(2).name);

    // Inventory text names every host with key, user and strict known_hosts.
    let inventory = hosts.dir().join("hosts.ini");
    hosts
        .write_inventory(&inventory, "web")
        .expect("write inventory");
    let text = std::fs::read_to_string(&inventory).expect("read inventory");
    assert!(text.starts_with("[web]\n"));
    for host in hosts.hosts() {
        assert!(text.contains(&format!(
            "{} ansible_host={} ansible_user=root",
            host.name, host.ip
        )));
    }
    assert!(text.contains(&format!(
        "UserKnownHostsFile={}",
        hosts.known_hosts().display()
    )));

    drop(hosts);
    let left = containers();
    for name in &names {
        assert!(
            !left.contains(name),
            "{name} still exists after teardown: {left:?}"
        );
    }
}

#[test]
fn drover_binary_is_built_and_runs() {
    let bin = drover_integration::drover_bin();
    assert!(bin.is_file(), "{} is not a file", bin.display());
    let run = drover_integration::run_drover(["--help"]);
    assert_eq!(run.code, Some(0), "drover --help failed: {run:?}");
}

#[test]
fn hosts_are_destroyed_when_a_test_panics() {
    let started = std::sync::Mutex::new(None);
    let outcome = std::panic::catch_unwind(|| {
        let hosts = TestHosts::start(1);
        *started.lock().unwrap_or_else(|e| e.into_inner()) = Some(hosts.host(0).name.clone());
        hosts.ssh_ok(0, "exit 3"); // fails: panics while `hosts` is alive
    });
    assert!(outcome.is_err(), "ssh_ok on a failing command must panic");
    let name = started
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .expect("a host was started");
    assert!(!containers().contains(&name), "{name} survived the panic");
}

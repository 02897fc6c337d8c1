//! `drover test --driver docker` on the harness's private Docker engine (root): a shipped role
//! passes with `--output json`, a scenario file that asks for `driver: docker` itself (systemd
//! as PID 1, a unit started, two hosts in a group), a non-idempotent role fails naming the task,
//! `--keep` prints the `docker exec` line and `--cleanup --driver docker` removes the container,
//! and SIGTERM during converge and Ctrl-C while the containers are made remove them. Each test
//! has its own engine, so no container of another test can be mistaken for a leftover; the
//! testbed directory (base, apt pool) is the LXC tests' (`<harness cache>/testbed`).

mod drover_test_common;

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use drover_integration::{drover_command, DroverOutput, TestDockerEngine};
use drover_test_common::{fixture, json, output_of, phase, scenario, testbed_dir};
use serde_json::Value;

/// `drover test ARGS` against `engine`, with the tests' testbed directory.
fn drover_test(engine: &TestDockerEngine, args: &[&str]) -> DroverOutput {
    output_of(command(engine, args))
}

fn command(engine: &TestDockerEngine, args: &[&str]) -> Command {
    let mut c = drover_command();
    c.arg("test")
        .args(args)
        .args(["--docker-host", &engine.docker_host()])
        .env("DROVER_TESTBED_DIR", testbed_dir());
    c
}

/// The testbed's containers on `engine`, running or not.
fn testbed_containers(engine: &TestDockerEngine) -> Vec<String> {
    engine
        .docker_ok(&[
            "ps",
            "-a",
            "--filter",
            "label=drover.testbed",
            "--format",
            "{{.Names}}",
        ])
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn shipped_role_passes_with_json_and_leaves_no_container() {
    let engine = TestDockerEngine::start();
    let role = Path::new(env!("CARGO_MANIFEST_DIR")).join("../playbooks/roles/omero_user");
    let out = drover_test(
        &engine,
        &[
            &role.display().to_string(),
            "--driver",
            "docker",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    let report = json(&out);
    let s = scenario(&report, "omero_user");
    assert_eq!(s["status"], "ok");
    assert_eq!(s["driver"], "docker");
    for p in ["create", "converge", "idempotence", "verify", "destroy"] {
        assert_eq!(phase(s, p)["status"], "ok", "{p}: {s:#}");
    }
    assert_ne!(phase(s, "converge")["changed"], serde_json::json!([]));
    assert_eq!(phase(s, "idempotence")["changed"], serde_json::json!([]));
    let host = &s["hosts"][0];
    let container = host["container"].as_str().expect("container");
    assert!(container.starts_with("drovertb-omero-user-1-"), "{host}");
    assert!(
        host["shell"]
            .as_str()
            .is_some_and(|c| c.ends_with(&format!("exec -it {container} bash"))),
        "{host}"
    );
    assert_eq!(testbed_containers(&engine), Vec::<String>::new());
}

#[test]
fn scenario_file_asks_for_docker_with_systemd_and_two_hosts() {
    let engine = TestDockerEngine::start();
    // No --driver: the scenario says `driver: docker`.
    let out = drover_test(&engine, &[&fixture("docker_systemd/drover-test.yml")]);
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    let row = out
        .stdout
        .lines()
        .find(|l| l.starts_with("docker-systemd "))
        .unwrap_or_else(|| panic!("no summary row: {}", out.stdout));
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    assert_eq!(&cells[..4], ["docker-systemd", "ok", "ok", "ok"], "{row}");
    assert_eq!(testbed_containers(&engine), Vec::<String>::new());
}

#[test]
fn non_idempotent_role_fails_naming_the_task() {
    let engine = TestDockerEngine::start();
    let out = drover_test(
        &engine,
        &[
            &fixture("not_idempotent"),
            "--driver",
            "docker",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, Some(2), "{}\n{}", out.stdout, out.stderr);
    let report = json(&out);
    let s = scenario(&report, "not_idempotent");
    assert_eq!(s["status"], "failed");
    assert_eq!(phase(s, "converge")["status"], "ok");
    let idem = phase(s, "idempotence");
    assert_eq!(idem["status"], "failed");
    assert_eq!(
        idem["changed"],
        serde_json::json!([{"task": "not_idempotent : Append a line every run", "host": "instance"}])
    );
    assert!(
        out.stderr
            .contains("'not_idempotent : Append a line every run' on instance"),
        "the changed task is named: {}",
        out.stderr
    );
    assert_eq!(phase(s, "destroy")["status"], "ok");
    assert_eq!(testbed_containers(&engine), Vec::<String>::new());
}

#[test]
fn keep_prints_docker_exec_and_cleanup_removes_the_container() {
    let engine = TestDockerEngine::start();
    let out = drover_test(
        &engine,
        &[
            &fixture("motd"),
            "--driver",
            "docker",
            "--keep",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    let report = json(&out);
    let s = scenario(&report, "motd");
    assert_eq!(s["kept"], true);
    let name = s["hosts"][0]["container"]
        .as_str()
        .expect("container")
        .to_string();
    let exec = format!("docker -H {} exec -it {name} bash", engine.docker_host());
    assert!(out.stderr.contains(&exec), "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "drover test --cleanup --driver docker --docker-host {}",
            engine.docker_host()
        )),
        "{}",
        out.stderr
    );
    assert_eq!(testbed_containers(&engine), vec![name.clone()]);
    assert_eq!(
        engine.docker_ok(&["exec", &name, "cat", "/etc/motd"]),
        "Managed by drover"
    );
    let state = engine.docker(&["exec", &name, "systemctl", "is-system-running"]);
    let state = String::from_utf8_lossy(&state.stdout);
    assert!(
        ["running", "degraded"].contains(&state.trim()),
        "systemd: {state}"
    );

    let cleanup = drover_test(&engine, &["--cleanup", "--driver", "docker"]);
    assert_eq!(cleanup.code, Some(0), "{}", cleanup.stderr);
    assert!(
        cleanup.stdout.contains(&format!("destroyed {name}")),
        "{}",
        cleanup.stdout
    );
    assert_eq!(testbed_containers(&engine), Vec::<String>::new());
}

#[test]
fn sigterm_during_converge_destroys_the_containers() {
    let engine = TestDockerEngine::start();
    let child = command(
        &engine,
        &[
            &fixture("slow/drover-test.yml"),
            "--driver",
            "docker",
            "--output",
            "json",
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("drover starts");
    let pid = child.id().to_string();
    // Both hosts up and `sleep 60` running in each (the first run on a machine builds the base).
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let sleeping = testbed_containers(&engine)
            .iter()
            .filter(|c| {
                let ps = engine.docker(&["exec", c, "pgrep", "-x", "sleep"]);
                ps.status.success()
            })
            .count();
        if sleeping == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "the hosts never converged");
        std::thread::sleep(Duration::from_millis(200));
    }
    let kill = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(kill.success());
    let out = child.wait_with_output().expect("drover ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON result");
    assert_eq!(report["interrupted"], true);
    assert_eq!(scenario(&report, "interrupted")["status"], "interrupted");
    assert_eq!(testbed_containers(&engine), Vec::<String>::new());
}

#[test]
fn ctrl_c_while_the_containers_are_made_removes_them() {
    let engine = TestDockerEngine::start();
    let child = command(
        &engine,
        &[
            &fixture("slow/drover-test.yml"),
            "--driver",
            "docker",
            "--output",
            "json",
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    // Its own process group, which gets the SIGINT as a terminal's foreground group gets Ctrl-C:
    // the `docker` commands drover runs get it too.
    .process_group(0)
    .spawn()
    .expect("drover starts");
    let group = format!("-{}", child.id());
    // SIGINT (Ctrl-C) as soon as the first container exists: it is still booting, the second
    // may still be in `docker create`.
    let deadline = Instant::now() + Duration::from_secs(600);
    while testbed_containers(&engine).is_empty() {
        assert!(Instant::now() < deadline, "no container was ever made");
        std::thread::sleep(Duration::from_millis(50));
    }
    let kill = Command::new("kill")
        .args(["-INT", "--", &group])
        .status()
        .expect("kill runs");
    assert!(kill.success());
    let out = child.wait_with_output().expect("drover ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON result");
    assert_eq!(report["interrupted"], true);
    let s = scenario(&report, "interrupted");
    assert_eq!(s["status"], "interrupted", "{s:#}");
    // Stopped before the converge ran.
    assert!(
        s["phases"]
            .as_array()
            .is_some_and(|p| p.iter().all(|p| p["phase"] == "create")),
        "{s:#}"
    );
    assert_eq!(testbed_containers(&engine), Vec::<String>::new());
}

//! `drover test` on real throwaway LXC hosts (root): roles with and without verify files, a role
//! that is not idempotent, failing converge and verify, `--keep` + `--cleanup`, a scenario file
//! with two hosts in groups, extra vars and prepare, and every role shipped under
//! `playbooks/roles/`. The testbed lives under the harness cache (`<cache>/testbed`), so
//! `DROVER_TEST_FRESH=1` runs build its base from nothing too.

mod drover_test_common;

use std::path::{Path, PathBuf};
use std::process::Command;

use drover_integration::{drover_command, require_root_and_setup, DroverOutput};
use drover_test_common::{fixture, json, output_of, phase, scenario, testbed_dir};
use serde_json::Value;

/// Runs `drover test ARGS` against the tests' testbed directory.
fn drover_test(args: &[&str]) -> DroverOutput {
    require_root_and_setup();
    let mut cmd = drover_command();
    cmd.arg("test")
        .args(args)
        .env("DROVER_TESTBED_DIR", testbed_dir());
    output_of(cmd)
}

/// The containers a scenario made.
fn containers(scenario: &Value) -> Vec<String> {
    scenario["hosts"]
        .as_array()
        .map(|h| {
            h.iter()
                .filter_map(|h| h["container"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn container_exists(name: &str) -> bool {
    testbed_dir().join("lxc").join(name).exists()
}

fn assert_gone(scenario: &Value) {
    let names = containers(scenario);
    assert!(!names.is_empty(), "no hosts recorded: {scenario:#}");
    for c in names {
        assert!(!container_exists(&c), "{c} was left behind");
    }
}

#[test]
fn passing_role_with_verify_reports_json_and_destroys_its_host() {
    let out = drover_test(&[&fixture("motd"), "--output", "json"]);
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    let report = json(&out);
    assert_eq!(report["interrupted"], false);
    let s = scenario(&report, "motd");
    assert_eq!(s["status"], "ok");
    for p in ["create", "converge", "idempotence", "verify", "destroy"] {
        assert_eq!(phase(s, p)["status"], "ok", "{p}: {s:#}");
        assert!(phase(s, p)["duration"].as_f64().is_some());
    }
    // The first run changed the role's tasks, the second nothing.
    let changed = phase(s, "converge")["changed"].to_string();
    assert!(
        changed.contains("motd : Write the message of the day"),
        "{changed}"
    );
    assert!(
        changed.contains("motd : Note the change"),
        "handlers count: {changed}"
    );
    assert_eq!(phase(s, "idempotence")["changed"], serde_json::json!([]));
    assert_gone(s);
}

#[test]
fn non_idempotent_failing_converge_and_failing_verify_fail_with_exit_2() {
    let out = drover_test(&[
        &fixture("not_idempotent"),
        &fixture("bad_converge"),
        &fixture("bad_verify"),
        "--parallel",
        "3",
        "--output",
        "json",
    ]);
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
    assert_gone(s);

    let s = scenario(&report, "bad_converge");
    assert_eq!(s["status"], "failed");
    let converge = phase(s, "converge");
    assert_eq!(converge["status"], "failed");
    assert_eq!(
        converge["failures"][0]["task"],
        "bad_converge : Fail on purpose"
    );
    assert_eq!(converge["failures"][0]["host"], "instance");
    assert!(s["phases"]
        .as_array()
        .is_some_and(|p| p.iter().all(|p| p["phase"] != "verify")));
    assert_gone(s);

    let s = scenario(&report, "bad_verify");
    assert_eq!(s["status"], "failed");
    assert_eq!(phase(s, "idempotence")["status"], "ok");
    let verify = phase(s, "verify");
    assert_eq!(verify["status"], "failed");
    assert_eq!(
        verify["failures"][0]["message"],
        "the file does not say two"
    );
    // A failed scenario keeps its logs.
    let log = verify["log"].as_str().expect("log path");
    assert!(Path::new(log).is_file(), "{log}");
    assert_gone(s);
}

#[test]
fn keep_leaves_the_host_and_cleanup_removes_it() {
    let out = drover_test(&[&fixture("motd"), "--keep", "--output", "json"]);
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    let report = json(&out);
    let s = scenario(&report, "motd");
    assert_eq!(s["kept"], true);
    let names = containers(s);
    assert_eq!(names.len(), 1);
    let name = &names[0];
    let lxc_path = testbed_dir().join("lxc");
    assert!(
        out.stderr
            .contains(&format!("lxc-attach -P {} -n {name}", lxc_path.display())),
        "{}",
        out.stderr
    );
    let inventory = Path::new(s["work_dir"].as_str().expect("work dir")).join("inventory.ini");
    assert!(
        out.stderr.contains(&inventory.display().to_string()),
        "{}",
        out.stderr
    );
    assert!(std::fs::read_to_string(&inventory).is_ok_and(|t| t.contains(name.as_str())));
    let motd = Command::new("lxc-attach")
        .args([
            "-P",
            &lxc_path.display().to_string(),
            "-n",
            name,
            "--",
            "cat",
            "/etc/motd",
        ])
        .output()
        .expect("lxc-attach runs");
    assert_eq!(String::from_utf8_lossy(&motd.stdout), "Managed by drover\n");

    let cleanup = drover_test(&["--cleanup"]);
    assert_eq!(cleanup.code, Some(0), "{}", cleanup.stderr);
    assert!(
        cleanup.stdout.contains(&format!("destroyed {name}")),
        "{}",
        cleanup.stdout
    );
    assert!(!container_exists(name));
}

#[test]
fn scenario_file_with_two_hosts_groups_vars_and_prepare() {
    let out = drover_test(&[&fixture("two_hosts/drover-test.yml")]);
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    // The summary table.
    let row = out
        .stdout
        .lines()
        .find(|l| l.starts_with("web-db "))
        .unwrap_or_else(|| panic!("no summary row: {}", out.stdout));
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    assert_eq!(&cells[..4], ["web-db", "ok", "ok", "ok"], "{row}");
    assert!(out.stderr.contains("[web-db] prepare ok"), "{}", out.stderr);
}

#[test]
fn bad_targets_and_scenario_files_are_reported() {
    let out = drover_test(&["/nonexistent/role"]);
    assert_eq!(out.code, Some(5), "{}", out.stderr);
    assert!(
        out.stderr.contains("/nonexistent/role: no such file"),
        "{}",
        out.stderr
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("drover-test.yml");
    std::fs::write(
        &file,
        "scenarios:\n  - name: x\n    converge: []\n    hostz: 2\n",
    )
    .expect("write");
    let out = drover_test(&[&file.display().to_string()]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "{}:4:5: unknown scenario key 'hostz'",
            file.display()
        )),
        "{}",
        out.stderr
    );
}

/// Every role shipped under playbooks/roles/, two scenarios at a time. A role that cannot be
/// tested alone carries a drover-test.yml (or says `skip:` there, with its reason).
#[test]
fn every_shipped_role() {
    let roles = Path::new(env!("CARGO_MANIFEST_DIR")).join("../playbooks/roles");
    let mut targets: Vec<String> = std::fs::read_dir(&roles)
        .expect("playbooks/roles")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("tasks/main.yml").is_file() || p.join("drover-test.yml").is_file())
        .map(|p| p.display().to_string())
        .collect();
    targets.sort();
    assert!(!targets.is_empty());
    let mut args: Vec<&str> = targets.iter().map(String::as_str).collect();
    args.extend(["--parallel", "2", "--output", "json"]);
    let out = drover_test(&args);
    let report = json(&out);
    eprintln!("{}", out.stderr);
    let mut failed = Vec::new();
    for s in report["scenarios"].as_array().expect("scenarios") {
        match s["status"].as_str() {
            Some("ok") => {}
            Some("skipped") => assert!(s["skip_reason"].is_string(), "{s:#}"),
            _ => failed.push(s["name"].to_string()),
        }
        if s["status"] != "skipped" {
            assert_gone(s);
        }
    }
    assert!(failed.is_empty(), "failed: {failed:?}\n{}", out.stderr);
    assert_eq!(out.code, Some(0));
}

#[test]
fn sigterm_destroys_the_hosts_and_exits_130() {
    require_root_and_setup();
    // Run directories of earlier runs (an interrupted run keeps its own) do not count.
    let runs = testbed_dir().join("runs");
    let run_dirs = || -> Vec<PathBuf> {
        std::fs::read_dir(&runs)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default()
    };
    let before = run_dirs();
    let child = drover_command()
        .args(["test", &fixture("slow/drover-test.yml"), "--output", "json"])
        .env("DROVER_TESTBED_DIR", testbed_dir())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("drover starts");
    let pid = child.id().to_string();
    // Wait until both hosts exist (the first run on a machine builds the base first).
    let lxc = testbed_dir().join("lxc");
    let ours = |n: &str| n.starts_with("drovertb-interrupted-");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
    loop {
        let running = std::fs::read_dir(&lxc)
            .map(|d| {
                d.flatten()
                    .filter(|e| ours(&e.file_name().to_string_lossy()))
                    .count()
            })
            .unwrap_or(0);
        let converging = run_dirs().iter().any(|d| {
            !before.contains(d)
                && d.file_name()
                    .is_some_and(|n| ours(&format!("drovertb-{}", n.to_string_lossy())))
                && d.join("converge.log").exists()
        });
        if running == 2 && converging {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the hosts never came up"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
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
    let s = scenario(&report, "interrupted");
    assert_eq!(s["status"], "interrupted");
    assert_gone(s);
}

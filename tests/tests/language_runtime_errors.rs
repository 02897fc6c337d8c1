//! Argument errors as ansible-core treats them, and loops that set facts: the playbooks under
//! `playbooks/runtime-errors/` run with ansible-core (the cached oracle, `-c local` on the
//! controller) and with drover, and every task's status per host, every debug message and the
//! recap must be identical. A task that surely runs unguarded still stops drover before any
//! host is touched; `--strict`, `DROVER_STRICT` and `--syntax-check` make every argument
//! problem an error.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use drover_integration::{drover_command, oracle_ansible_playbook, repo_root};
use serde_json::{json, Value};

fn dir() -> PathBuf {
    repo_root().join("playbooks/runtime-errors")
}

/// One line per task and host: `[task] host status debug-message`, then one per recap entry.
type Lines = Vec<String>;

/// A debug result's message; for a loop, each item's message (skipped items as `<skipped>`).
fn debug_message(result: &Value) -> Value {
    if let Some(Value::Array(items)) = result.get("results") {
        return Value::Array(
            items
                .iter()
                .map(|r| match r.get("skipped") {
                    Some(Value::Bool(true)) => json!("<skipped>"),
                    _ => r.get("msg").cloned().unwrap_or(Value::Null),
                })
                .collect(),
        );
    }
    result.get("msg").cloned().unwrap_or(Value::Null)
}

/// Keeps task lines in order of tasks, hosts sorted within a task (forks finish in any order).
fn sorted_by_task(mut lines: Vec<(usize, String)>) -> Lines {
    lines.sort();
    lines.into_iter().map(|(_, l)| l).collect()
}

fn parse_ansible(stdout: &str) -> Lines {
    let (mut tasks, mut recap) = (Vec::new(), Vec::new());
    let mut order: Vec<String> = Vec::new();
    for line in stdout.lines().filter(|l| l.starts_with('{')) {
        let v: Value = serde_json::from_str(line).expect("oracle callback JSON");
        if let Some(host) = v.get("recap").and_then(Value::as_str) {
            let s = &v["stats"];
            recap.push(format!(
                "recap {host} ok={} changed={} failed={} skipped={} rescued={} ignored={}",
                s["ok"], s["changed"], s["failures"], s["skipped"], s["rescued"], s["ignored"]
            ));
            continue;
        }
        let task = v["task"].as_str().unwrap_or_default().to_string();
        if order.last() != Some(&task) {
            order.push(task.clone());
        }
        let debug = v.get("debug").map(debug_message).unwrap_or(Value::Null);
        tasks.push((
            order.len(),
            format!(
                "[{task}] {} {} {debug}",
                v["host"].as_str().unwrap_or_default(),
                v["status"].as_str().unwrap_or_default()
            ),
        ));
    }
    let mut out = sorted_by_task(tasks);
    recap.sort();
    out.extend(recap);
    out
}

fn parse_drover(stdout: &str) -> Lines {
    let (mut tasks, mut recap) = (Vec::new(), Vec::new());
    let (mut task, mut module, mut index) = (String::new(), String::new(), 0);
    for line in stdout.lines().filter(|l| l.starts_with('{')) {
        let v: Value = serde_json::from_str(line).expect("drover JSON event");
        match v["event"].as_str() {
            Some("task_start") => {
                task = v["name"].as_str().unwrap_or_default().to_string();
                module = v["module"].as_str().unwrap_or_default().to_string();
                index += 1;
            }
            // Loop items are reported again as the loop's aggregate.
            Some("host_result") if v.get("item").is_none_or(|i| i == "") => {
                let mut status = v["status"].as_str().unwrap_or_default().to_string();
                if status == "failed" && v["ignored"] == true {
                    status = "ignored".into();
                }
                let debug = if module.ends_with("debug") && status != "skipped" {
                    debug_message(&v["result"])
                } else {
                    Value::Null
                };
                tasks.push((
                    index,
                    format!(
                        "[{task}] {} {status} {debug}",
                        v["host"].as_str().unwrap_or_default()
                    ),
                ));
            }
            Some("recap") => {
                for entry in v["hosts"].as_array().into_iter().flatten() {
                    let s = &entry[1];
                    recap.push(format!(
                        "recap {} ok={} changed={} failed={} skipped={} rescued={} ignored={}",
                        entry[0].as_str().unwrap_or_default(),
                        s["ok"],
                        s["changed"],
                        s["failed"],
                        s["skipped"],
                        s["rescued"],
                        s["ignored"]
                    ));
                }
            }
            _ => {}
        }
    }
    let mut out = sorted_by_task(tasks);
    recap.sort();
    out.extend(recap);
    out
}

fn run_ansible(playbook: &str) -> (Option<i32>, String) {
    let out = Command::new(oracle_ansible_playbook())
        .current_dir(dir())
        .env(
            "ANSIBLE_CALLBACK_PLUGINS",
            repo_root().join("tests/oracle/callback_plugins"),
        )
        .env("ANSIBLE_STDOUT_CALLBACK", "drover_oracle")
        .env("ANSIBLE_DEPRECATION_WARNINGS", "false")
        .env("ANSIBLE_LOCALHOST_WARNING", "false")
        .args(["-i", "inventory.ini", playbook])
        .output()
        .expect("run ansible-playbook");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn run_drover(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = drover_command();
    cmd.current_dir(dir()).arg("play").args(args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("run drover")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Guarded argument errors fail their tasks at run time with ansible-core's messages
/// (`ignore_errors`, `failed_when`, `rescue`, `register` + `assert … is failed`, `when`), and
/// `set_fact`/`include_vars`/`register` in loops and a play's `run_once` behave as in
/// ansible-core: statuses, messages and recap are identical.
#[test]
fn guarded_argument_errors_and_fact_loops_match_ansible() {
    let (a_code, a_out) = run_ansible("guarded.yml");
    let out = run_drover(
        &["--output", "json", "-i", "inventory.ini", "guarded.yml"],
        &[],
    );
    let (d_out, d_err) = (text(&out.stdout), text(&out.stderr));
    let (expected, actual) = (parse_ansible(&a_out), parse_drover(&d_out));
    assert!(
        expected.len() > 40,
        "the oracle reported too little:\n{a_out}"
    );
    if expected != actual {
        let first = expected
            .iter()
            .zip(&actual)
            .position(|(e, a)| e != a)
            .unwrap_or(expected.len().min(actual.len()));
        panic!(
            "first difference at line {first}\nansible:\n  {}\ndrover:\n  {}\ndrover stderr: {d_err}",
            expected[first.min(expected.len())..].join("\n  "),
            actual[first.min(actual.len())..].join("\n  ")
        );
    }
    assert_eq!(
        a_code,
        out.status.code(),
        "exit codes; drover stderr: {d_err}"
    );
    // Each guarded argument error was announced at load, with file:line:column.
    for at in [
        "guarded.yml:12:53",
        "guarded.yml:20:7",
        "guarded.yml:68:53",
        "guarded.yml:81:44",
    ] {
        assert!(
            d_err.contains(&format!("[WARNING]: {at}:")),
            "no warning at {at}:\n{d_err}"
        );
    }
}

/// A task that surely runs unguarded stops the run before any host is touched (exit 1,
/// file:line:column of the argument), whatever precedes it.
#[test]
fn unguarded_argument_error_stops_before_any_host() {
    let marker = Path::new("/tmp/drover-runtime-errors-unguarded");
    let _ = std::fs::remove_file(marker);
    let out = run_drover(&["-i", "inventory.ini", "unguarded.yml"], &[]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("unguarded.yml:9:53"), "{stderr}");
    assert!(stderr.contains("unsupported parameter `stat`"), "{stderr}");
    assert!(!stdout.contains("PLAY ["), "no play started: {stdout}");
    assert!(!marker.exists(), "the task before it must not have run");
}

/// `--strict`, `DROVER_STRICT=1` and `--syntax-check` make every argument problem an error,
/// guarded or not; nothing runs.
#[test]
fn strict_modes_make_every_argument_problem_an_error() {
    let runs = [
        run_drover(&["--strict", "-i", "inventory.ini", "guarded.yml"], &[]),
        run_drover(
            &["-i", "inventory.ini", "guarded.yml"],
            &[("DROVER_STRICT", "1")],
        ),
        run_drover(
            &["--syntax-check", "-i", "inventory.ini", "guarded.yml"],
            &[],
        ),
    ];
    for out in runs {
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
        for at in [
            "guarded.yml:12:53",
            "guarded.yml:20:7",
            // Mutually exclusive keys: the error points at the second one given.
            "guarded.yml:27:34",
            "guarded.yml:34:30",
            "guarded.yml:60:30",
            "guarded.yml:68:53",
            "guarded.yml:72:53",
            "guarded.yml:81:44",
        ] {
            assert!(stderr.contains(at), "no error at {at}:\n{stderr}");
        }
        assert!(!stderr.contains("[WARNING]: guarded.yml"), "{stderr}");
        assert!(!stdout.contains("PLAY ["), "nothing runs: {stdout}");
    }
}

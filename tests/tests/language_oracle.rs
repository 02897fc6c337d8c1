//! Differential tests of the playbook language: every `playbooks/features/*.yml` runs with drover
//! and with ansible-playbook (the cached oracle from `tests/oracle/ansible.sh`) against local-only
//! hosts, and the per-task statuses, debug values and recap counters must be identical. The
//! `--list-tasks`/`--list-tags`/`--list-hosts` text must be identical too (scripts parse it).

use std::path::{Path, PathBuf};
use std::process::Command;

use drover_integration::{drover_command, oracle_ansible_playbook, repo_root};
use serde_json::{json, Map, Value};

fn features_dir() -> PathBuf {
    repo_root().join("playbooks/features")
}

/// Keys of a result that carry no comparable value.
const META_KEYS: &[&str] = &[
    "changed",
    "failed",
    "skipped",
    "skip_reason",
    "skipped_reason",
    "false_condition",
    "ansible_loop_var",
    "ansible_index_var",
    "ansible_loop",
    "item",
    "invocation",
];

/// The comparable part of a debug result: its value keys; for loops, each item's `msg`.
fn normalize_debug(result: &Value) -> Value {
    let Some(obj) = result.as_object() else {
        return Value::Null;
    };
    if let Some(Value::Array(items)) = obj.get("results") {
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
    let kept: Map<String, Value> = obj
        .iter()
        .filter(|(k, _)| !k.starts_with('_') && !META_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Value::Object(kept)
}

/// One task's results: its name and, per host (sorted), status and debug value.
type TaskRecord = (String, Vec<(String, String, Value)>);

#[derive(Debug, PartialEq)]
struct Run {
    tasks: Vec<TaskRecord>,
    recap: Vec<(String, Value)>,
}

fn is_debug(action: &str) -> bool {
    matches!(action, "debug" | "ansible.builtin.debug")
}

/// Groups per-host lines into tasks in order of appearance (consecutive lines of a task).
fn push_result(
    tasks: &mut Vec<TaskRecord>,
    task: &str,
    host: String,
    status: String,
    debug: Value,
) {
    match tasks.last_mut() {
        Some((name, hosts)) if name == task && !hosts.iter().any(|(h, _, _)| *h == host) => {
            hosts.push((host, status, debug));
            hosts.sort_by(|a, b| a.0.cmp(&b.0));
        }
        _ => tasks.push((task.to_string(), vec![(host, status, debug)])),
    }
}

fn parse_ansible(stdout: &str) -> Run {
    let mut tasks = Vec::new();
    let mut recap = Vec::new();
    for line in stdout.lines().filter(|l| l.starts_with('{')) {
        let v: Value = serde_json::from_str(line).expect("oracle callback JSON");
        if let Some(host) = v.get("recap").and_then(Value::as_str) {
            let s = &v["stats"];
            recap.push((
                host.to_string(),
                json!([
                    s["ok"],
                    s["changed"],
                    s["failures"],
                    s["skipped"],
                    s["rescued"],
                    s["ignored"]
                ]),
            ));
            continue;
        }
        let action = v["action"].as_str().unwrap_or_default();
        let debug = if is_debug(action) && v["status"] != "skipped" {
            normalize_debug(&v["debug"])
        } else {
            Value::Null
        };
        push_result(
            &mut tasks,
            v["task"].as_str().unwrap_or_default(),
            v["host"].as_str().unwrap_or_default().to_string(),
            v["status"].as_str().unwrap_or_default().to_string(),
            debug,
        );
    }
    recap.sort_by(|a, b| a.0.cmp(&b.0));
    Run { tasks, recap }
}

fn parse_drover(stdout: &str) -> Run {
    let mut tasks = Vec::new();
    let mut recap = Vec::new();
    let mut current = (String::new(), String::new());
    // Free strategy: tasks start per host, and hosts interleave.
    let mut per_host: std::collections::HashMap<String, (String, String)> = Default::default();
    for line in stdout.lines().filter(|l| l.starts_with('{')) {
        let v: Value = serde_json::from_str(line).expect("drover JSON event");
        match v["event"].as_str() {
            Some("task_start") => {
                let task = (
                    v["name"].as_str().unwrap_or_default().to_string(),
                    v["module"].as_str().unwrap_or_default().to_string(),
                );
                match v["host"].as_str() {
                    Some(h) => {
                        per_host.insert(h.to_string(), task);
                    }
                    None => {
                        per_host.clear();
                        current = task;
                    }
                }
            }
            Some("host_result") => {
                let host = v["host"].as_str().unwrap_or_default();
                let current = per_host.get(host).unwrap_or(&current);
                // Per-item results are reported again as the loop's aggregate.
                if v.get("item").is_some_and(|i| i != "") {
                    continue;
                }
                let mut status = v["status"].as_str().unwrap_or_default().to_string();
                if status == "failed" && v["ignored"] == true {
                    status = "ignored".into();
                }
                let debug = if is_debug(&current.1) && status != "skipped" {
                    normalize_debug(&v["result"])
                } else {
                    Value::Null
                };
                push_result(
                    &mut tasks,
                    &current.0,
                    v["host"].as_str().unwrap_or_default().to_string(),
                    status,
                    debug,
                );
            }
            Some("recap") => {
                for entry in v["hosts"].as_array().into_iter().flatten() {
                    let s = &entry[1];
                    recap.push((
                        entry[0].as_str().unwrap_or_default().to_string(),
                        json!([
                            s["ok"],
                            s["changed"],
                            s["failed"],
                            s["skipped"],
                            s["rescued"],
                            s["ignored"]
                        ]),
                    ));
                }
            }
            _ => {}
        }
    }
    recap.sort_by(|a, b| a.0.cmp(&b.0));
    Run { tasks, recap }
}

/// One line per task and per recap entry, for readable failure messages.
fn compact(run: &Run) -> Vec<String> {
    let mut out: Vec<String> = run
        .tasks
        .iter()
        .map(|(name, hosts)| {
            let hs: Vec<String> = hosts
                .iter()
                .map(|(h, s, d)| {
                    if d.is_null() {
                        format!("{h}:{s}")
                    } else {
                        format!("{h}:{s}:{d}")
                    }
                })
                .collect();
            format!("[{name}] {}", hs.join(" "))
        })
        .collect();
    out.extend(run.recap.iter().map(|(h, v)| format!("recap {h} {v}")));
    out
}

fn run_ansible(ansible: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(ansible)
        .current_dir(features_dir())
        .env(
            "ANSIBLE_CALLBACK_PLUGINS",
            repo_root().join("tests/oracle/callback_plugins"),
        )
        .env("ANSIBLE_STDOUT_CALLBACK", "drover_oracle")
        .env("ANSIBLE_ROLES_PATH", features_dir().join("roles"))
        .env("ANSIBLE_DEPRECATION_WARNINGS", "false")
        .env("ANSIBLE_LOCALHOST_WARNING", "false")
        .args(args)
        .output()
        .expect("run ansible-playbook");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn run_drover_in_features(args: &[&str]) -> (Option<i32>, String, String) {
    let out = drover_command()
        .current_dir(features_dir())
        .env("ANSIBLE_ROLES_PATH", features_dir().join("roles"))
        .args(args)
        .output()
        .expect("run drover");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Each feature playbook (with optional extra arguments) gives the same results in both.
#[test]
fn feature_playbooks_match_ansible() {
    let ansible = oracle_ansible_playbook();
    let cases: &[(&str, &[&str])] = &[
        ("roles.yml", &[]),
        ("includes.yml", &[]),
        ("include_vars.yml", &[]),
        ("blocks.yml", &[]),
        ("loops.yml", &[]),
        ("handlers.yml", &[]),
        ("role_handlers.yml", &[]),
        ("tags.yml", &[]),
        ("tags.yml", &["--tags", "one,debug,tools"]),
        ("tags.yml", &["--skip-tags", "one,imp"]),
        ("tags.yml", &["--tags", "tagged"]),
        ("tags.yml", &["--tags", "untagged"]),
        ("play_control.yml", &[]),
        ("keywords.yml", &[]),
        ("roles.yml", &["--start-at-task", "web task"]),
        ("end_role.yml", &[]),
        ("meta_when.yml", &[]),
    ];
    // ansible-playbook mostly waits (about 4 s a run on one core): run the oracle in parallel.
    let oracle: Vec<(Option<i32>, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = cases
            .iter()
            .map(|(playbook, extra)| {
                let ansible = &ansible;
                scope.spawn(move || {
                    let mut args = vec!["-i", "inventory.ini", playbook];
                    args.extend_from_slice(extra);
                    run_ansible(ansible, &args)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("oracle thread"))
            .collect()
    });
    let mut failures = Vec::new();
    for ((playbook, extra), (a_code, a_out)) in cases.iter().zip(oracle) {
        let mut args = vec!["-i", "inventory.ini", playbook];
        args.extend_from_slice(extra);
        let mut dargs = vec!["play", "--output", "json"];
        dargs.extend_from_slice(&args);
        let (d_code, d_out, d_err) = run_drover_in_features(&dargs);
        let expected = parse_ansible(&a_out);
        let actual = parse_drover(&d_out);
        if expected.tasks.is_empty() {
            failures.push(format!(
                "{playbook} {extra:?}: the oracle reported no task:\n{a_out}"
            ));
            continue;
        }
        if expected != actual || a_code != d_code {
            let (e, a) = (compact(&expected), compact(&actual));
            let first = e
                .iter()
                .zip(&a)
                .position(|(x, y)| x != y)
                .unwrap_or(e.len().min(a.len()));
            failures.push(format!(
                "{playbook} {extra:?}: exit codes ansible={a_code:?} drover={d_code:?}; first difference at line {first}\n\
                 ansible:\n  {}\ndrover:\n  {}\ndrover stderr: {d_err}",
                e[first.min(e.len())..].join("\n  "),
                a[first.min(a.len())..].join("\n  ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Each host's own sequence of task results (the order across hosts is free to differ).
fn per_host_sequences(run: &Run) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut out: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (task, hosts) in &run.tasks {
        for (h, status, debug) in hosts {
            out.entry(h.clone())
                .or_default()
                .push(format!("[{task}] {status} {debug}"));
        }
    }
    out
}

/// `strategy: free`/`host_pinned`, the `timeout` keyword and `include_role` with `public`:
/// every host's task results, in its own order, and the recap match ansible-core.
#[test]
fn strategies_timeout_and_public_roles_match_ansible() {
    let ansible = oracle_ansible_playbook();
    let args = ["-i", "inventory.ini", "strategy.yml"];
    let (a_code, a_out) = run_ansible(ansible, &args);
    let mut dargs = vec!["play", "--output", "json"];
    dargs.extend_from_slice(&args);
    let (d_code, d_out, d_err) = run_drover_in_features(&dargs);
    let (expected, actual) = (parse_ansible(&a_out), parse_drover(&d_out));
    assert!(
        !expected.tasks.is_empty(),
        "the oracle reported no task:\n{a_out}"
    );
    assert_eq!(
        per_host_sequences(&expected),
        per_host_sequences(&actual),
        "drover stderr: {d_err}"
    );
    assert_eq!(expected.recap, actual.recap);
    assert_eq!(a_code, d_code, "exit codes; drover stderr: {d_err}");
    // Free-strategy warnings, as ansible-core gives them.
    assert!(
        d_out.contains("Using run_once with the free strategy is not currently supported"),
        "{d_out}"
    );
}

/// Human output of the free strategy and of includes: a task banner before a host's results
/// whenever another task was shown last, and `included: FILE for HOSTS` lines.
#[test]
fn free_strategy_and_include_output() {
    let (code, out, err) = run_drover_in_features(&["play", "-i", "inventory.ini", "strategy.yml"]);
    assert_eq!(code, Some(2), "{out}\n{err}");
    let looped = features_dir().join("tasks/looped.yml");
    for host in ["alpha", "beta", "gamma"] {
        let line = format!("included: {} for {host} => (item=one)", looped.display());
        assert!(out.contains(&line), "no {line:?} in:\n{out}");
    }
    assert!(out.contains("included: exposed for alpha"), "{out}");
    // Every result line follows a banner of its own task: in free mode each host's
    // `per-host pace` result comes right after a banner or another result of that task.
    let lines: Vec<&str> = out.lines().collect();
    for (i, l) in lines.iter().enumerate() {
        if l.starts_with("ok: [") && lines[i.saturating_sub(1)].is_empty() {
            panic!("result without a banner at line {i}:\n{out}");
        }
    }
    // Successful includes are not shown as `ok:` lines.
    for (i, l) in lines.iter().enumerate() {
        if l.starts_with("TASK [include per host]") {
            assert!(lines[i + 1].starts_with("included: "), "{out}");
        }
    }
    assert!(
        out.contains("Task failed: Timed out after 1 second(s)."),
        "{out}"
    );
}

/// An unknown strategy in the environment is refused before any host is contacted.
#[test]
fn unknown_strategy_is_rejected_before_connecting() {
    let out = drover_command()
        .current_dir(features_dir())
        .env("ANSIBLE_STRATEGY", "mitogen_linear")
        .args(["play", "-i", "nowhere.invalid,", "strategy.yml"])
        .output()
        .expect("run drover");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(err.contains("unknown strategy 'mitogen_linear'"), "{err}");
    let yaml = "- hosts: nowhere.invalid\n  strategy: mitogen_free\n  tasks: []\n";
    let dir = std::env::temp_dir().join(format!("drover-strategy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("p.yml"), yaml).expect("write playbook");
    let out = drover_command()
        .current_dir(&dir)
        .args(["play", "-i", "nowhere.invalid,", "p.yml"])
        .output()
        .expect("run drover");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("p.yml:2:13") && err.contains("unknown strategy"),
        "{err}"
    );
}

/// `--list-tasks`, `--list-tags` and `--list-hosts` print exactly what ansible-playbook prints.
#[test]
fn listings_match_ansible() {
    let ansible = oracle_ansible_playbook();
    let cases: &[&[&str]] = &[
        &["roles.yml", "--list-tasks"],
        &["tags.yml", "--list-tasks"],
        &["tags.yml", "--list-tasks", "--tags", "one,imp"],
        &["tags.yml", "--list-tags"],
        &["includes.yml", "--list-tasks"],
        &["play_control.yml", "--list-hosts"],
        &["blocks.yml", "--list-hosts", "--limit", "alpha,beta"],
    ];
    let oracle: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = cases
            .iter()
            .map(|case| {
                let ansible = &ansible;
                scope.spawn(move || {
                    let mut args = vec!["-i", "inventory.ini"];
                    args.extend_from_slice(case);
                    let out = Command::new(ansible)
                        .current_dir(features_dir())
                        .env("ANSIBLE_ROLES_PATH", features_dir().join("roles"))
                        .args(&args)
                        .output()
                        .expect("run ansible-playbook");
                    String::from_utf8_lossy(&out.stdout).into_owned()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("oracle thread"))
            .collect()
    });
    for (case, expected) in cases.iter().zip(oracle) {
        let mut args = vec!["-i", "inventory.ini"];
        args.extend_from_slice(case);
        let mut dargs = vec!["play"];
        dargs.extend_from_slice(&args);
        let (code, actual, err) = run_drover_in_features(&dargs);
        assert_eq!(code, Some(0), "{case:?}: {err}");
        // ansible-playbook prints --list-hosts from a Python set: compare host lines as sets.
        assert_eq!(
            sort_host_lines(actual.trim_end()),
            sort_host_lines(expected.trim_end()),
            "{case:?} differs from ansible-playbook"
        );
    }
}

/// Sorts each run of host lines (`      name`) of `--list-hosts` output.
fn sort_host_lines(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut run: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.starts_with("      ") && !line.trim_start().contains(' ') {
            run.push(line.to_string());
            continue;
        }
        run.sort();
        out.append(&mut run);
        out.push(line.to_string());
    }
    run.sort();
    out.append(&mut run);
    out.join("\n")
}

/// A play with a `vars_prompt` lacking a default fails clearly when no terminal can answer,
/// before any task runs; `-e` answers it.
#[test]
fn vars_prompt_without_default_needs_an_answer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pb = dir.path().join("prompt.yml");
    std::fs::write(
        &pb,
        "- hosts: localhost\n  gather_facts: false\n  vars_prompt:\n    - name: secret\n      prompt: Secret?\n  tasks:\n    - debug: msg={{ secret }}\n",
    )
    .expect("write playbook");
    let pb = pb.to_string_lossy().to_string();
    let (code, _out, err) =
        run_drover_in_features(&["play", "-i", "localhost,", "-c", "local", &pb]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("vars_prompt 'secret'"), "{err}");
    let (code, out, err) = run_drover_in_features(&[
        "play",
        "-i",
        "localhost,",
        "-c",
        "local",
        "-e",
        "secret=s3",
        "--output",
        "json",
        &pb,
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("\"msg\":\"s3\""), "{out}");
}

/// Missing roles and include files are reported with file:line before any host is contacted.
#[test]
fn missing_role_and_tasks_file_fail_at_load() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pb = dir.path().join("bad.yml");
    std::fs::write(
        &pb,
        "- hosts: nowhere.invalid\n  gather_facts: false\n  roles:\n    - no_such_role\n",
    )
    .expect("write playbook");
    let pb_s = pb.to_string_lossy().to_string();
    let (code, _out, err) = run_drover_in_features(&["play", "-i", "nowhere.invalid,", &pb_s]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("the role 'no_such_role' was not found"),
        "{err}"
    );
    assert!(err.contains("bad.yml:4"), "{err}");
    std::fs::write(
        &pb,
        "- hosts: nowhere.invalid\n  gather_facts: false\n  tasks:\n    - include_tasks: missing.yml\n",
    )
    .expect("write playbook");
    let (code, _out, err) = run_drover_in_features(&["play", "-i", "nowhere.invalid,", &pb_s]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("could not find the tasks file 'missing.yml'"),
        "{err}"
    );
}

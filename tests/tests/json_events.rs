//! drover's JSON events (`--output json`, `--events FILE`): every event of real runs validates
//! against `docs/events.schema.json` (generated from the Rust types; `drover-core`'s
//! `event_json` tests fail when it is stale), and every task and host of the run is accounted
//! for: each listed task starts, each host a task starts on gets a result before the task ends,
//! every host is in its play and the recap, and the recap's counters are what the results say.
//! `--events FILE` writes the same lines as `--output json` while the human output goes on.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use drover_integration::{repo_root, run_drover, TestHosts};
use serde_json::Value;

/// ok, changed, skipped, failed, ignored, unreachable, a loop, a rescued block, retries, an
/// include, a handler, a second play and a `free` play.
const BOOK: &str = r#"- name: accounting
  hosts: all
  gather_facts: false
  tasks:
    - name: says hello
      debug:
        msg: "hello {{ inventory_hostname }}"
    - name: changes and notifies
      command: "true"
      notify: the handler
    - name: skipped on h1
      debug:
        msg: not h1
      when: inventory_hostname != 'h1'
    - name: fails on h2
      command: "false"
      when: inventory_hostname == 'h2'
    - name: ignored failure
      command: "false"
      ignore_errors: true
    - name: a loop
      debug:
        msg: "{{ item }}"
      loop: [a, b]
    - name: a rescued block
      block:
        - name: fails in the block
          command: "false"
      rescue:
        - name: rescues
          debug:
            msg: rescued
    - name: retries
      shell: "echo x >> {{ counter_dir }}/{{ inventory_hostname }}; wc -l < {{ counter_dir }}/{{ inventory_hostname }}"
      delegate_to: localhost
      register: counted
      until: counted.stdout | int >= 2
      retries: 3
      delay: 0
    - name: includes
      include_tasks: inc.yml
  handlers:
    - name: the handler
      debug:
        msg: handled
- name: second play
  hosts: local
  gather_facts: false
  tasks:
    - name: in the second play
      command: "true"
- name: free play
  hosts: local
  strategy: free
  gather_facts: false
  tasks:
    - name: free one
      debug:
        msg: free
    - name: free two
      command: "true"
"#;

const INCLUDED: &str = "- name: included task\n  debug:\n    msg: included\n";

/// The schema from docs/, compiled.
fn schema() -> (boon::Schemas, boon::SchemaIndex) {
    let path = repo_root().join("docs/events.schema.json");
    let text = std::fs::read_to_string(&path).expect("read docs/events.schema.json");
    let json: Value = serde_json::from_str(&text).expect("the schema is JSON");
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    let url = "file:///drover/docs/events.schema.json";
    compiler.add_resource(url, json).expect("add the schema");
    let index = compiler
        .compile(url, &mut schemas)
        .expect("the schema compiles");
    (schemas, index)
}

/// Parses JSON lines and validates each against the schema; panics naming the first bad one.
fn validated(lines: &str) -> Vec<Value> {
    let (schemas, index) = schema();
    let mut events = Vec::new();
    for line in lines.lines().filter(|l| !l.trim().is_empty()) {
        let event: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        if let Err(e) = schemas.validate(&event, index) {
            panic!("event does not match docs/events.schema.json: {e}\n{line}");
        }
        assert!(
            line.starts_with("{\"schema_version\":1,\"event\":"),
            "{line}"
        );
        events.push(event);
    }
    events
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Task names of `--list-tasks` output.
fn listed_tasks(listing: &str) -> Vec<String> {
    listing
        .lines()
        .filter(|l| l.starts_with("      ") && l.contains("\tTAGS:"))
        .map(|l| l.trim().split('\t').next().unwrap_or_default().to_string())
        .collect()
}

/// Checks that the events account for every task and host; returns the recap's host names.
fn assert_accounted(events: &[Value], listed: &[String], inventory_hosts: &[&str]) -> Vec<String> {
    let started: BTreeSet<&str> = events
        .iter()
        .filter(|e| str_of(e, "event") == "task_start")
        .map(|e| str_of(e, "name"))
        .collect();
    for task in listed {
        assert!(
            started.contains(task.as_str()),
            "task {task:?} never started"
        );
    }
    // Per open task (the play's, or each host's under `free`): hosts still owed a result.
    let mut owed: BTreeMap<Option<String>, (String, BTreeSet<String>)> = BTreeMap::new();
    let mut play_hosts: BTreeSet<String> = BTreeSet::new();
    // Counters the results imply, per host.
    let mut derived: BTreeMap<String, [u32; 6]> = BTreeMap::new();
    let mut recap: Option<&Value> = None;
    for e in events {
        match str_of(e, "event") {
            "play_start" => play_hosts.extend(strings(e, "hosts")),
            "task_start" => {
                let host = e.get("host").and_then(Value::as_str).map(str::to_string);
                let hosts: BTreeSet<String> = strings(e, "hosts").into_iter().collect();
                assert!(!hosts.is_empty(), "a task started on no host: {e}");
                assert!(hosts.is_subset(&play_hosts), "{e}");
                let previous = owed.insert(host, (str_of(e, "name").to_string(), hosts));
                assert!(
                    previous.is_none(),
                    "a task started before {previous:?} ended"
                );
            }
            "host_result" => {
                let host = str_of(e, "host").to_string();
                let key = Some(host.clone());
                let key = if owed.contains_key(&key) { key } else { None };
                let Some((_, open)) = owed.get_mut(&key) else {
                    panic!("a result outside any task: {e}");
                };
                let item = e.get("item").and_then(Value::as_str);
                // A loop's items, then its overall result (item ""), which is the one counted.
                if item.is_some_and(|i| !i.is_empty()) {
                    continue;
                }
                assert!(open.remove(&host), "a result for a host not owed one: {e}");
                let ignored = e.get("ignored") == Some(&Value::Bool(true));
                let changed_flag = e.pointer("/result/changed") == Some(&Value::Bool(true));
                let c = derived.entry(host).or_default();
                // ok, changed, unreachable, failed or rescued, skipped, ignored
                match (str_of(e, "status"), ignored) {
                    ("ok", _) => c[0] += 1,
                    ("changed", _) => {
                        c[0] += 1;
                        c[1] += 1;
                    }
                    ("unreachable", _) => c[2] += 1,
                    ("failed", false) => c[3] += 1,
                    ("failed", true) => {
                        c[0] += 1;
                        c[1] += u32::from(changed_flag);
                        c[5] += 1;
                    }
                    ("skipped", _) => c[4] += 1,
                    (other, _) => panic!("status {other}: {e}"),
                }
            }
            "task_end" => {
                let host = e.get("host").and_then(Value::as_str).map(str::to_string);
                let (name, left) = owed
                    .remove(&host)
                    .unwrap_or_else(|| panic!("a task ended that never started: {e}"));
                assert_eq!(name, str_of(e, "name"));
                assert!(
                    left.is_empty(),
                    "task {name:?} ended without results for {left:?}"
                );
            }
            "recap" => recap = Some(e),
            _ => {}
        }
    }
    assert!(owed.is_empty(), "tasks never ended: {owed:?}");
    let recap = recap.expect("a recap event");
    let mut names = Vec::new();
    for entry in recap["hosts"].as_array().expect("recap hosts") {
        let host = entry[0].as_str().expect("host name").to_string();
        let s = &entry[1];
        let n = |k: &str| s[k].as_u64().unwrap_or(u64::MAX) as u32;
        let want = derived.get(&host).copied().unwrap_or_default();
        let have = [
            n("ok"),
            n("changed"),
            n("unreachable"),
            n("failed") + n("rescued"),
            n("skipped"),
            n("ignored"),
        ];
        assert_eq!(
            have, want,
            "recap of {host} (ok, changed, unreachable, failed+rescued, skipped, ignored)"
        );
        names.push(host);
    }
    for host in inventory_hosts {
        assert!(play_hosts.contains(*host), "{host} in no play");
        assert!(names.iter().any(|n| n == host), "{host} not in the recap");
    }
    names
}

fn write_fixture(dir: &Path, inventory: &str) {
    std::fs::write(dir.join("site.yml"), BOOK).unwrap();
    std::fs::write(dir.join("inc.yml"), INCLUDED).unwrap();
    std::fs::write(dir.join("hosts.ini"), inventory).unwrap();
    std::fs::create_dir_all(dir.join("counters")).unwrap();
}

fn play(dir: &Path, extra: &[&str]) -> drover_integration::DroverOutput {
    let counters = format!("counter_dir={}", dir.join("counters").display());
    let mut args = vec![
        "play".to_string(),
        dir.join("site.yml").display().to_string(),
        "-i".into(),
        dir.join("hosts.ini").display().to_string(),
        "-e".into(),
        counters,
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    run_drover(args)
}

#[test]
fn events_of_a_real_run_match_the_schema_and_account_for_everything() {
    let hosts = TestHosts::start(1);
    let dir = tempfile::tempdir().unwrap();
    let inventory = format!(
        "{}[local]\nh1 ansible_connection=local\nh2 ansible_connection=local\n\
         [far]\nh3 ansible_host=127.0.0.1 ansible_port=1\n",
        hosts.inventory_text("remote", "root")
    );
    write_fixture(dir.path(), &inventory);
    let remote = hosts.host(0).name.clone();

    let out = play(dir.path(), &["--output", "json"]);
    // h2 failed, h3 was unreachable.
    assert_eq!(out.code, Some(4), "{}\n{}", out.stdout, out.stderr);
    let events = validated(&out.stdout);
    let listing = play(dir.path(), &["--list-tasks"]);
    listing.assert_success();
    let listed = listed_tasks(&listing.stdout);
    assert!(listed.len() >= 10, "{}", listing.stdout);
    let recap = assert_accounted(&events, &listed, &[remote.as_str(), "h1", "h2", "h3"]);
    assert_eq!(recap.len(), 4, "{recap:?}");
    // The shapes this run was written to produce all appear.
    for kind in [
        "playbook_start",
        "play_start",
        "task_start",
        "host_result",
        "task_end",
        "included",
        "retry",
        "recap",
    ] {
        assert!(
            events.iter().any(|e| str_of(e, "event") == kind),
            "no {kind} event"
        );
    }
    let statuses: BTreeSet<&str> = events.iter().map(|e| str_of(e, "status")).collect();
    for status in ["ok", "changed", "failed", "skipped", "unreachable"] {
        assert!(statuses.contains(status), "no {status} result");
    }
    assert!(
        events
            .iter()
            .any(|e| e.get("host").is_some() && str_of(e, "event") == "task_start"),
        "the free play's per-host task starts"
    );
}

#[test]
fn events_file_beside_human_output() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(
        dir.path(),
        "[local]\nh1 ansible_connection=local\nh2 ansible_connection=local\n",
    );
    let file = dir.path().join("events.jsonl");
    let file_arg = file.display().to_string();

    // Human output on stdout, the events in the file.
    let human = play(dir.path(), &["--events", &file_arg]);
    assert_eq!(human.code, Some(2), "{}\n{}", human.stdout, human.stderr);
    assert!(human.stdout.contains("PLAY RECAP"), "{}", human.stdout);
    assert!(!human.stdout.contains("schema_version"), "{}", human.stdout);
    let text = std::fs::read_to_string(&file).expect("the events file");
    let events = validated(&text);
    let listing = play(dir.path(), &["--list-tasks"]);
    assert_accounted(&events, &listed_tasks(&listing.stdout), &["h1", "h2"]);
    // The file's recap is the one printed.
    for line in human.stdout.lines().filter(|l| l.contains(" : ok=")) {
        let host = line.split_whitespace().next().unwrap();
        let ok = line
            .split("ok=")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap();
        let recap = events.last().unwrap();
        let entry = recap["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h[0] == host)
            .unwrap_or_else(|| panic!("{host} not in the recap event"));
        assert_eq!(entry[1]["ok"].to_string(), ok, "{line}");
    }

    // With --output json too, the file holds exactly the lines printed.
    let json = play(dir.path(), &["--output", "json", "--events", &file_arg]);
    let text = std::fs::read_to_string(&file).expect("the events file");
    assert_eq!(text, json.stdout);
    validated(&text);

    // A file that cannot be created is a bad option, before anything runs.
    let bad = play(dir.path(), &["--events", "/nonexistent-dir/events.jsonl"]);
    assert_eq!(bad.code, Some(5), "{}", bad.stderr);
    assert!(bad.stderr.contains("--events"), "{}", bad.stderr);
    assert!(!bad.stdout.contains("PLAY"), "{}", bad.stdout);
}

#[test]
fn the_schema_rejects_what_drover_does_not_write() {
    let (schemas, index) = schema();
    let good = serde_json::json!({"schema_version": 1, "event": "warning", "message": "m"});
    assert!(schemas.validate(&good, index).is_ok());
    for bad in [
        serde_json::json!({"schema_version": 2, "event": "warning", "message": "m"}),
        serde_json::json!({"schema_version": 1, "event": "warning"}),
        serde_json::json!({"schema_version": 1, "event": "warning", "message": "m", "extra": 1}),
        serde_json::json!({"schema_version": 1, "event": "no_such_event"}),
        serde_json::json!({"schema_version": 1, "event": "host_result", "host": "h", "status": "weird",
            "ignored": false, "result": {}, "duration": 0.1}),
    ] {
        assert!(schemas.validate(&bad, index).is_err(), "accepted {bad}");
    }
}

/// docs/EVENTS.md: every example line validates, and every event type the schema names has
/// its section there (a new event type fails until it is documented).
#[test]
fn the_events_page_matches_the_schema() {
    let page = std::fs::read_to_string(repo_root().join("docs/EVENTS.md")).expect("docs/EVENTS.md");
    let mut examples = String::new();
    let mut in_json = false;
    for line in page.lines() {
        match line.trim() {
            "```json" => in_json = true,
            "```" => in_json = false,
            l if in_json => {
                examples.push_str(l);
                examples.push('\n');
            }
            _ => {}
        }
    }
    let events = validated(&examples);
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("docs/events.schema.json")).unwrap(),
    )
    .unwrap();
    let kinds: Vec<&str> = schema["oneOf"]
        .as_array()
        .expect("one schema per event type")
        .iter()
        .filter_map(|s| s.pointer("/properties/event/const").and_then(Value::as_str))
        .collect();
    assert!(kinds.len() >= 10, "{kinds:?}");
    for kind in kinds {
        assert!(
            page.contains(&format!("### `{kind}`")),
            "docs/EVENTS.md has no section for {kind}"
        );
        assert!(
            events.iter().any(|e| str_of(e, "event") == kind),
            "docs/EVENTS.md has no example of {kind}"
        );
    }
}

//! Shared by the docker_container tests: one-task playbooks run by drover against a private
//! engine (the task registers `r`, saved as `result.json`), and engine inspection helpers.

#![allow(dead_code)]

use std::path::Path;

use drover_integration::{run_drover, DroverOutput, TestDockerEngine};
use serde_json::Value;

/// Writes a one-task playbook (the task registers `r` and saves it as `result.json`) and runs it.
pub fn play(engine: &TestDockerEngine, dir: &Path, task: &str, extra: &[&str]) -> DroverOutput {
    let book = format!(
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: the container task\n      \
         docker_container:\n        docker_host: {host}\n{body}      register: r\n    \
         - copy:\n        content: \"{{{{ r | to_json }}}}\"\n        dest: {dir}/result.json\n      \
         check_mode: false\n      diff: false\n",
        host = engine.docker_host(),
        body = task
            .lines()
            .map(|l| format!("        {l}\n"))
            .collect::<String>(),
        dir = dir.display(),
    );
    let path = dir.join("book.yml");
    std::fs::write(&path, book).expect("playbook");
    let mut args = vec![
        "play".to_string(),
        path.display().to_string(),
        "-i".into(),
        "localhost,".into(),
        "-c".into(),
        "local".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    run_drover(args)
}

/// The registered result of the last [`play`].
pub fn result(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("result.json")).expect("result.json");
    serde_json::from_str(&text).expect("result json")
}

/// The task's `changed` (the copy task never changes twice in a row is not guaranteed, so read
/// the registered result).
pub fn changed(dir: &Path) -> bool {
    result(dir)["changed"].as_bool().expect("changed")
}

pub fn inspect(engine: &TestDockerEngine, name: &str) -> Value {
    let text = engine.docker_ok(&["container", "inspect", name]);
    let v: Value = serde_json::from_str(&text).expect("inspect json");
    v[0].clone()
}

pub fn exists(engine: &TestDockerEngine, name: &str) -> bool {
    engine
        .docker(&["container", "inspect", name])
        .status
        .success()
}

/// Host ports no other engine's tests use (engines share the host's port space).
pub fn port(engine: &TestDockerEngine, n: u16) -> u16 {
    21000 + u16::from(engine.slot()) * 50 + n
}

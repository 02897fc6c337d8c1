//! Shared by the docker network/volume/exec tests: playbooks run by drover against a private
//! engine, with `DH` in the task text replaced by the engine's `docker_host`.

#![allow(dead_code)]

use std::path::Path;

use drover_integration::{run_drover, DroverOutput, TestDockerEngine, TEST_IMAGE};
use serde_json::Value;

/// Writes a one-play playbook with `tasks` (YAML, indented by 4) and runs it with drover.
pub fn play(engine: &TestDockerEngine, dir: &Path, tasks: &str, extra: &[&str]) -> DroverOutput {
    let book = dir.join("book.yml");
    let text = format!(
        "- hosts: localhost\n  gather_facts: false\n  vars:\n    dh: \"{}\"\n  tasks:\n{}",
        engine.docker_host(),
        tasks.replace("DH", "\"{{ dh }}\"")
    );
    std::fs::write(&book, text).expect("write playbook");
    let mut args = vec![
        book.to_str().unwrap().to_string(),
        "-i".into(),
        "localhost,".into(),
        "-c".into(),
        "local".into(),
    ];
    args.insert(0, "play".into());
    args.extend(extra.iter().map(|s| s.to_string()));
    run_drover(args)
}

/// Like [`play`], panicking unless drover succeeded; returns the number of changed tasks.
pub fn play_ok(engine: &TestDockerEngine, dir: &Path, tasks: &str, extra: &[&str]) -> u32 {
    let out = play(engine, dir, tasks, extra);
    out.assert_success();
    out.changed()
}

/// `docker <kind> inspect name` as JSON, `None` when missing.
pub fn inspect(engine: &TestDockerEngine, kind: &str, name: &str) -> Option<Value> {
    let out = engine.docker(&[kind, "inspect", name]);
    if !out.status.success() {
        return None;
    }
    let v: Value = serde_json::from_slice(&out.stdout).expect("inspect JSON");
    v.get(0).cloned()
}

/// The names of the containers attached to network `name`.
pub fn attached(engine: &TestDockerEngine, name: &str) -> Vec<String> {
    let net = inspect(engine, "network", name).expect("network exists");
    let mut names: Vec<String> = net["Containers"]
        .as_object()
        .map(|m| {
            m.values()
                .filter_map(|c| c["Name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Starts a container that keeps running.
pub fn sleeper(engine: &TestDockerEngine, name: &str) {
    engine.docker_ok(&["run", "-d", "--name", name, TEST_IMAGE, "sleep", "infinity"]);
}

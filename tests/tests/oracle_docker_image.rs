//! drover's image modules against community.docker's on the same engine and registry: build,
//! tag, push and remove each run four times (check, apply, apply, check), and the `changed`
//! sequences must agree. Objects are named `a-…` for ansible-playbook and `d-…` for drover, so
//! the two never see each other's images.
//!
//! One known difference: community.docker's `docker_image` assumes a push would change
//! something in check mode; drover reads the registry's manifest and predicts the real answer.
//! For that step the apply runs must agree and drover's check runs must predict the applies.

use std::path::Path;
use std::process::Command;

use drover_integration::{
    oracle_ansible_playbook, oracle_collections_path, run_drover, TestDockerEngine, TEST_IMAGE,
};

/// The `MARK <changed>` lines a run printed, in order.
fn marks(stdout: &str) -> Vec<bool> {
    stdout
        .lines()
        .filter_map(|l| l.split("MARK ").nth(1))
        .map(|rest| rest.trim_start().starts_with("True"))
        .collect()
}

/// The selected result fields a run printed (`image.Id` defined, number of `actions`).
fn fields(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| l.split("FIELDS ").nth(1))
        .map(|rest| rest.trim_end().trim_end_matches('"').to_string())
        .collect()
}

fn book(engine: &TestDockerEngine, task: &str) -> String {
    format!(
        "- hosts: all\n  gather_facts: false\n  environment:\n    DOCKER_HOST: \"{}\"\n  tasks:\n{task}      register: r\n    - debug: msg=\"MARK {{{{ r.changed }}}} FIELDS {{{{ r.image.Id is defined }}}} {{{{ r.actions | length }}}}\"\n",
        engine.docker_host()
    )
}

fn run_ansible(dir: &Path, book: &Path, check: bool) -> String {
    let playbook = oracle_ansible_playbook();
    let python = playbook.with_file_name("python");
    let mut cmd = Command::new(playbook);
    cmd.arg(book)
        .args(["-c", "local", "-i", "localhost,"])
        .arg("-e")
        .arg(format!("ansible_python_interpreter={}", python.display()))
        .env("ANSIBLE_COLLECTIONS_PATH", oracle_collections_path())
        .env("ANSIBLE_HOME", dir.join("ansible-home"))
        .env("ANSIBLE_LOCAL_TEMP", dir.join("ansible-tmp"))
        .env("ANSIBLE_NOCOLOR", "1");
    if check {
        cmd.arg("--check");
    }
    let out = cmd.output().expect("run ansible-playbook");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "ansible-playbook failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn run_drover_book(book: &Path, check: bool) -> String {
    let mut args = vec![
        "play",
        book.to_str().expect("utf-8 path"),
        "-i",
        "localhost,",
        "-c",
        "local",
    ];
    if check {
        args.push("--check");
    }
    let out = run_drover(args);
    out.assert_success();
    out.stdout
}

/// The `changed` sequence of (check, apply, apply, check) for one tool, and the selected
/// result fields of each run.
fn sequence(dir: &Path, yaml: &str, drover: bool) -> (Vec<bool>, Vec<String>) {
    let path = dir.join(if drover { "drover.yml" } else { "ansible.yml" });
    std::fs::write(&path, yaml).expect("playbook");
    let mut changed = Vec::new();
    let mut selected = Vec::new();
    for check in [true, false, false, true] {
        let stdout = if drover {
            run_drover_book(&path, check)
        } else {
            run_ansible(dir, &path, check)
        };
        let m = marks(&stdout);
        assert_eq!(m.len(), 1, "{stdout}");
        changed.extend(m);
        selected.extend(fields(&stdout));
    }
    (changed, selected)
}

#[test]
fn build_tag_push_remove_agree_with_community_docker() {
    let engine = TestDockerEngine::start();
    let registry = engine.registry();
    let dir = tempfile::tempdir().expect("temp dir");
    let ctx = dir.path().join("ctx");
    std::fs::create_dir(&ctx).expect("context");
    std::fs::write(
        ctx.join("Dockerfile"),
        format!("FROM {TEST_IMAGE}\nARG WHO\nRUN echo \"$WHO\" > /who\n"),
    )
    .expect("Dockerfile");
    let steps = |p: &str| {
        vec![
            (
                "build",
                format!(
                    "    - docker_image:\n        name: {p}-oracle/app\n        tag: v1\n        source: build\n        build:\n          path: {}\n          args: {{WHO: {p}}}\n",
                    ctx.display()
                ),
            ),
            (
                "tag",
                format!(
                    "    - community.docker.docker_image_tag:\n        name: {p}-oracle/app:v1\n        repository: ['{p}-oracle/app:stable']\n"
                ),
            ),
            (
                "push",
                format!(
                    "    - community.docker.docker_image:\n        name: {p}-oracle/app:v1\n        repository: {registry}/{p}-oracle/app:v1\n        push: true\n        source: local\n"
                ),
            ),
            (
                "remove",
                format!(
                    "    - community.docker.docker_image_remove:\n        name: {p}-oracle/app:stable\n"
                ),
            ),
        ]
    };
    for ((step, ansible_task), (_, drover_task)) in steps("a").into_iter().zip(steps("d")) {
        // The two tools work on their own objects: run them side by side.
        let (ansible, drover) = std::thread::scope(|s| {
            let a = s.spawn(|| sequence(dir.path(), &book(&engine, &ansible_task), false));
            let d = sequence(dir.path(), &book(&engine, &drover_task), true);
            (a.join().expect("ansible thread"), d)
        });
        let ((ansible, ansible_fields), (drover, drover_fields)) = (ansible, drover);
        eprintln!(
            "{step}: ansible {ansible:?} {ansible_fields:?} drover {drover:?} {drover_fields:?}"
        );
        assert_eq!(
            ansible_fields, drover_fields,
            "{step}: result fields differ"
        );
        if step == "push" {
            assert_eq!(ansible[1..3], drover[1..3], "{step}: the applies differ");
            assert_eq!(drover, vec![true, true, false, false], "{step}: drover");
        } else {
            assert_eq!(
                ansible, drover,
                "{step}: ansible {ansible:?} drover {drover:?}"
            );
        }
    }
    // Both ended in the same state.
    for p in ["a", "d"] {
        assert!(engine
            .docker(&["image", "inspect", &format!("{p}-oracle/app:v1")])
            .status
            .success());
        assert!(!engine
            .docker(&["image", "inspect", &format!("{p}-oracle/app:stable")])
            .status
            .success());
        assert!(engine
            .docker(&["image", "inspect", &format!("{registry}/{p}-oracle/app:v1")])
            .status
            .success());
    }
}

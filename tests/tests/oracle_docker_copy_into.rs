//! Differential test: the same `docker_container_copy_into` tasks run by community.docker
//! (ansible-playbook, the oracle) and by drover on one private engine, on different containers,
//! over (check, apply, apply, check): the `changed` sequences, `container_path` and the files
//! written (mode, owner, content) must agree.

mod netvol_common;

use std::path::Path;

use drover_integration::{TestDockerEngine, TEST_IMAGE};
use netvol_common::sleeper;
use serde_json::Value;

fn book(engine: &TestDockerEngine, p: &str, src: &Path, out: &Path, greeting: &str) -> String {
    let dh = engine.docker_host();
    let src = src.display();
    format!(
        r#"- hosts: localhost
  gather_facts: false
  vars:
    dh: "{dh}"
  tasks:
    - name: content into running
      community.docker.docker_container_copy_into:
        docker_host: "{{{{ dh }}}}"
        container: {p}-run
        content: "{greeting}\n"
        container_path: /etc/drover.conf
        mode: "0644"
        mode_parse: modern
      register: a
    - name: path into running
      community.docker.docker_container_copy_into:
        docker_host: "{{{{ dh }}}}"
        container: {p}-run
        path: {src}
        container_path: /tmp/sub/../src.txt
        owner_id: 1000
        group_id: 1001
      register: b
    - name: content into stopped
      community.docker.docker_container_copy_into:
        docker_host: "{{{{ dh }}}}"
        container: {p}-stopped
        content: "aGVsbG8K"
        content_is_b64: true
        container_path: /root/x.txt
        owner_id: 0
        group_id: 0
        mode: 0600
      register: c
    - name: path into stopped
      community.docker.docker_container_copy_into:
        docker_host: "{{{{ dh }}}}"
        container: {p}-stopped
        path: {src}
        container_path: /tmp/p.txt
        owner_id: 33
        group_id: 33
        mode: "4755"
        mode_parse: octal_string_only
      register: d
    - name: keep an existing file
      community.docker.docker_container_copy_into:
        docker_host: "{{{{ dh }}}}"
        container: {p}-run
        content: "replaced"
        container_path: /etc/debian_version
        mode: 420
        force: false
      register: e
    - name: through a symlink
      community.docker.docker_container_copy_into:
        docker_host: "{{{{ dh }}}}"
        container: {p}-run
        content: "linked\n"
        container_path: /etc/link.conf
        follow: true
        mode: 0640
      register: f
    - name: results
      copy:
        content: "{{{{ [a, b, c, d, e, f] | to_json }}}}"
        dest: {out}
      check_mode: false
"#,
        out = out.display()
    )
}

fn summary(path: &Path) -> Vec<(Value, Value, Value)> {
    let text = std::fs::read_to_string(path).expect("results file");
    let results: Vec<Value> = serde_json::from_str(&text).expect("results JSON");
    results
        .iter()
        .map(|r| {
            (
                r["changed"].clone(),
                r.get("failed").cloned().unwrap_or(Value::Bool(false)),
                r["container_path"].clone(),
            )
        })
        .collect()
}

/// community.docker reads a container's user with a `docker exec` of `id -u && id -g` and reads
/// its exit code without waiting for the exec to end; on a loaded machine it sometimes gets no
/// output at all and fails with this message (seen once in a full suite run, never alone). The
/// oracle's run is retried once for that message only; drover's never is.
const ORACLE_EXEC_RACE: &str = "Expected two-line output to obtain user and group ID";

fn run_book(book: &Path, extra: &[&str], ansible: bool) {
    if !ansible {
        drover_integration::run_local_book(book, extra, false);
        return;
    }
    let first = std::panic::catch_unwind(|| drover_integration::run_local_book(book, extra, true));
    if let Err(panic) = first {
        let text = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if !text.contains(ORACLE_EXEC_RACE) {
            std::panic::resume_unwind(panic);
        }
        drover_integration::run_local_book(book, extra, true);
    }
}

#[test]
fn drover_and_community_docker_agree_on_copies() {
    let engine = TestDockerEngine::start();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.txt");
    std::fs::write(&src, "from the host\n").unwrap();
    std::fs::set_permissions(&src, std::os::unix::fs::PermissionsExt::from_mode(0o640)).unwrap();
    for p in ["ora", "drv"] {
        sleeper(&engine, &format!("{p}-run"));
        engine.docker_ok(&[
            "exec",
            &format!("{p}-run"),
            "ln",
            "-s",
            "/tmp/target.conf",
            "/etc/link.conf",
        ]);
        engine.docker_ok(&["create", "--name", &format!("{p}-stopped"), TEST_IMAGE]);
    }
    let (ora_out, drv_out) = (dir.path().join("ora.json"), dir.path().join("drv.json"));
    let (ora_book, drv_book) = (dir.path().join("ora.yml"), dir.path().join("drv.yml"));
    std::fs::write(&ora_book, book(&engine, "ora", &src, &ora_out, "hello")).unwrap();
    std::fs::write(&drv_book, book(&engine, "drv", &src, &drv_out, "hello")).unwrap();
    let mut sequences = Vec::new();
    for (step, check) in [
        ("check", true),
        ("apply", false),
        ("apply again", false),
        ("check again", true),
    ] {
        let args: Vec<&str> = if check { vec!["--check"] } else { vec![] };
        run_book(&ora_book, &args, true);
        run_book(&drv_book, &args, false);
        let (ora, drv) = (summary(&ora_out), summary(&drv_out));
        assert_eq!(ora, drv, "{step}: oracle vs drover");
        sequences.push(ora.iter().map(|r| r.0.clone()).collect::<Vec<_>>());
    }
    // A content change under --diff: same change and the same before/after texts.
    std::fs::write(&ora_book, book(&engine, "ora", &src, &ora_out, "bye")).unwrap();
    std::fs::write(&drv_book, book(&engine, "drv", &src, &drv_out, "bye")).unwrap();
    run_book(&ora_book, &["--diff"], true);
    run_book(&drv_book, &["--diff"], false);
    let (ora, drv) = (summary(&ora_out), summary(&drv_out));
    assert_eq!(ora, drv, "diff run: oracle vs drover");
    let diff_of = |path: &Path| {
        let results: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let d = &results[0]["diff"];
        // community.docker returns one diff object, drover a list of them.
        let d = d.get(0).unwrap_or(d).clone();
        (
            d["before"].clone(),
            d["after"].clone(),
            d["before_header"].clone(),
            d["after_header"].clone(),
        )
    };
    assert_eq!(diff_of(&ora_out), diff_of(&drv_out));
    assert_eq!(diff_of(&drv_out).0, Value::from("hello\n"));
    let t = Value::Bool(true);
    let f = Value::Bool(false);
    assert_eq!(
        sequences[0],
        vec![
            t.clone(),
            t.clone(),
            t.clone(),
            t.clone(),
            f.clone(),
            t.clone()
        ]
    );
    assert_eq!(sequences[2], vec![f.clone(); 6]);
    assert_eq!(summary(&drv_out)[0].0, t);
    for (c, path) in [
        ("run", "/etc/drover.conf"),
        ("run", "/tmp/src.txt"),
        ("stopped", "/root/x.txt"),
        ("stopped", "/tmp/p.txt"),
        ("run", "/etc/debian_version"),
        ("run", "/tmp/target.conf"),
        ("run", "/etc/link.conf"),
    ] {
        let ora = engine.container_file(&format!("ora-{c}"), path);
        let drv = engine.container_file(&format!("drv-{c}"), path);
        assert!(ora.is_some(), "{c}:{path}");
        assert_eq!(ora, drv, "{c}:{path}");
    }
}

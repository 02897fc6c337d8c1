//! The live status line: on a terminal (a pty from `script`), a task that runs for a few seconds
//! gets a line naming it and the hosts it waits for; piped output and `DROVER_NO_PROGRESS` get none.

use std::process::Command;

use drover_integration::{drover_bin, run_drover};

const BOOK: &str = "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: slow one\n      command: sleep 2\n    - debug: msg=done\n";

fn on_a_terminal(book: &std::path::Path, env: &[(&str, &str)]) -> String {
    let line = format!(
        "{} play {} -c local",
        drover_bin().display(),
        book.display()
    );
    let mut command = Command::new("script");
    command.args(["-qec", &line, "/dev/null"]);
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().expect("run script(1)");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn slow_tasks_show_a_status_line_only_on_terminals() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("slow.yml");
    std::fs::write(&book, BOOK).unwrap();

    let shown = on_a_terminal(&book, &[]);
    assert!(
        shown.contains("TASK [slow one] 1s — waiting for localhost"),
        "{shown:?}"
    );
    // The line is erased (carriage return + erase-line) before the result is printed.
    let result = shown.find("changed: [localhost]").expect("result line");
    let erase = shown[..result]
        .rfind("\r\x1b[K")
        .expect("erased before the result");
    assert!(!shown[erase..result].contains("waiting for"), "{shown:?}");

    let quiet = on_a_terminal(&book, &[("DROVER_NO_PROGRESS", "1")]);
    assert!(!quiet.contains("waiting for"), "{quiet:?}");
    let piped = run_drover(["play", &book.display().to_string(), "-c", "local"]);
    assert_eq!(piped.code, Some(0), "{}", piped.stderr);
    assert!(!piped.stderr.contains("waiting for") && !piped.stdout.contains("waiting for"));
}

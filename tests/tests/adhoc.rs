//! `drover run` (ad-hoc) against the oracle's `ansible` on two fresh hosts (one per tool, both
//! named `target`) plus an unreachable one (`ghost`, a closed loopback port): `-m ping`,
//! `-m setup`, `-m command`, `-m apt -b` twice, a failing command, `-o` and `-t DIR` — the
//! status words per host, the exit codes, and for ping/command the exact text.

use std::path::{Path, PathBuf};
use std::process::Command;

use drover_integration::{drover_bin, oracle_ansible_playbook, OracleComparison, TestHosts};

const GHOST: &str = "ghost ansible_host=127.0.0.1 ansible_port=1 ansible_user=root\n";

struct Tools {
    ansible_inventory: PathBuf,
    drover_inventory: PathBuf,
    home: PathBuf,
}

/// Exit code and standard output.
type Run = (i32, String);

impl Tools {
    fn ansible(&self, args: &[&str]) -> Run {
        let out = Command::new(oracle_ansible_playbook().with_file_name("ansible"))
            .args(args)
            .arg("-i")
            .arg(&self.ansible_inventory)
            .env("HOME", &self.home)
            .env("ANSIBLE_CONFIG", self.home.join("ansible.cfg"))
            .env("ANSIBLE_PYTHON_INTERPRETER", "/usr/bin/python3")
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_DEPRECATION_WARNINGS", "0")
            .output()
            .expect("run ansible");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }

    fn drover(&self, args: &[&str]) -> Run {
        let out = Command::new(drover_bin())
            .arg("run")
            .args(args)
            .arg("-i")
            .arg(&self.drover_inventory)
            .env("ANSIBLE_CONFIG", self.home.join("ansible.cfg"))
            .output()
            .expect("run drover");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }

    /// Runs both and asserts the same exit code and status word per host; returns both runs.
    fn same(&self, args: &[&str]) -> (Run, Run) {
        let a = self.ansible(args);
        let d = self.drover(args);
        assert_eq!(
            (a.0, statuses(&a.1)),
            (d.0, statuses(&d.1)),
            "{args:?}\nansible:\n{}\ndrover:\n{}",
            a.1,
            d.1
        );
        (a, d)
    }
}

/// `(host, status word)` of every result line, sorted by host.
fn statuses(out: &str) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = out
        .lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, " | ");
            let host = parts.next()?;
            let word = parts.next()?;
            let word = word.split([' ', ':']).next()?;
            [
                "SUCCESS",
                "CHANGED",
                "FAILED",
                "FAILED!",
                "UNREACHABLE!",
                "SKIPPED",
            ]
            .contains(&word)
            .then(|| (host.to_string(), word.to_string()))
        })
        .collect();
    found.sort();
    found
}

fn with_ghost(path: &Path) {
    let mut text = std::fs::read_to_string(path).expect("inventory");
    text.push_str(GHOST);
    std::fs::write(path, text).expect("inventory");
}

#[test]
fn adhoc_matches_ansible() {
    let hosts = TestHosts::start(2);
    let _oracle = OracleComparison::new(&hosts, 0, 1);
    let tools = Tools {
        ansible_inventory: hosts.dir().join("ansible-0.ini"),
        drover_inventory: hosts.dir().join("drover-1.ini"),
        home: hosts.dir().join("ansible-home"),
    };
    with_ghost(&tools.ansible_inventory);
    with_ghost(&tools.drover_inventory);

    // ping everywhere: one success, one unreachable host, exit 4.
    let (a, _) = tools.same(&["all", "-m", "ping"]);
    assert_eq!(a.0, 4);
    // The same text where nothing depends on the host.
    let (a, d) = tools.same(&["target", "-m", "ping"]);
    assert_eq!(a.1, d.1);
    let (a, d) = tools.same(&["target", "-a", "echo hi"]);
    assert_eq!(a.1, "target | CHANGED | rc=0 >>\nhi\n");
    assert_eq!(a.1, d.1);
    let (a, d) = tools.same(&["target", "-m", "ping", "-o"]);
    assert_eq!(a.1, d.1);
    let (a, d) = tools.same(&["target", "-m", "command", "-a", "echo hi", "-o"]);
    assert_eq!(a.1, d.1);
    // A failing command: FAILED, exit 2.
    let (a, d) = tools.same(&["target", "-m", "shell", "-a", "echo out; exit 3"]);
    assert_eq!(a.0, 2);
    assert!(d.1.starts_with("target | FAILED | rc=3 >>\nout"), "{}", d.1);
    // ping with data=crash fails as a module failure.
    tools.same(&["target", "-m", "ping", "-a", "data=crash"]);
    // Facts.
    let (_, d) = tools.same(&["target", "-m", "setup"]);
    assert!(d.1.contains("\"ansible_facts\": {"), "{}", d.1);
    // A package with become: changed, then unchanged.
    let (a, _) = tools.same(&["target", "-m", "apt", "-a", "name=tree", "-b"]);
    assert_eq!(statuses(&a.1)[0].1, "CHANGED");
    let (a, _) = tools.same(&["target", "-m", "apt", "-a", "name=tree", "-b"]);
    assert_eq!(statuses(&a.1)[0].1, "SUCCESS");
    // -t DIR: each host's result as JSON in DIR/<host>.
    for (tool, dir) in [("ansible", "tree-a"), ("drover", "tree-d")] {
        let dir = hosts.dir().join(dir);
        let args = ["all", "-m", "ping", "-t", dir.to_str().expect("utf-8")];
        let run = if tool == "ansible" {
            tools.ansible(&args)
        } else {
            tools.drover(&args)
        };
        assert_eq!(run.0, 4, "{tool}: {}", run.1);
        let target: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("target")).expect("tree file"))
                .expect("tree json");
        assert_eq!(target["ping"], "pong", "{tool}");
        let ghost: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("ghost")).expect("tree file"))
                .expect("tree json");
        assert_eq!(ghost["unreachable"], true, "{tool}");
    }
    // Options ansible refuses: exit 5.
    assert_eq!(tools.drover(&["target", "-m", "command"]).0, 5);
    assert_eq!(tools.ansible(&["target", "-m", "command"]).0, 5);
}

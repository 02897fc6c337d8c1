//! Differential test against ansible-core (the oracle): the same playbook on two identical fresh
//! hosts, one driven by ansible-playbook and one by drover. Per-task results and the files left
//! behind must match, and both tools must report `changed=0` on a second run.
//!
//! ansible-core is installed into a cached throwaway venv by `tests/oracle/ansible.sh`; it needs
//! Python on its target, so only the oracle's host gets python3 (drover's host has none).

use std::path::Path;
use std::process::Command;

use drover_integration::{oracle_ansible_playbook, repo_root, run_drover, TestHosts};

/// An inventory naming the host `target`, so both tools see the same `inventory_hostname`.
fn inventory_for(hosts: &TestHosts, index: usize, path: &Path) {
    let text = hosts.inventory_text("web", "root");
    let line = text
        .lines()
        .nth(index + 1)
        .and_then(|l| l.split_once(' '))
        .map(|(_, vars)| vars.to_string())
        .expect("inventory line with host vars");
    std::fs::write(path, format!("[web]\ntarget {line}\n")).expect("write inventory");
}

/// `(task, status line)` pairs for host `target`, from ansible-playbook-style output.
fn task_results(output: &str) -> Vec<(String, String)> {
    let mut task = String::new();
    let mut out = Vec::new();
    for line in output.lines() {
        if let Some(rest) = line
            .strip_prefix("TASK [")
            .or_else(|| line.strip_prefix("RUNNING HANDLER ["))
        {
            task = rest.split("] ").next().unwrap_or(rest).to_string();
        } else if line.contains("[target]") {
            // Keep the status word and any loop item; drop result payloads.
            let status = line.split(" => {").next().unwrap_or(line).to_string();
            out.push((task.clone(), status));
        }
    }
    out
}

fn tree_state(hosts: &TestHosts, i: usize) -> String {
    hosts.ssh_ok(
        i,
        "cd /srv/drover-check && find . -printf '%p %y %m %u %g %s %l\\n' | sort && \
         find . -type f -exec sha1sum {} + | sort -k2",
    )
}

fn changed_count(output: &str) -> u32 {
    output
        .lines()
        .find(|l| l.starts_with("target "))
        .and_then(|l| {
            l.split_whitespace()
                .find_map(|w| w.strip_prefix("changed="))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or_else(|| panic!("no recap for target:\n{output}"))
}

#[test]
fn every_module_playbook_matches_ansible_core() {
    let hosts = TestHosts::start(2);
    let ansible_playbook = oracle_ansible_playbook();
    hosts.ssh_ok(
        0,
        "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 >/dev/null",
    );

    let ansible_inv = hosts.dir().join("ansible.ini");
    let drover_inv = hosts.dir().join("drover.ini");
    inventory_for(&hosts, 0, &ansible_inv);
    inventory_for(&hosts, 1, &drover_inv);
    let book = repo_root().join("playbooks/tests/every-module.yml");
    let ansible_home = hosts.dir().join("ansible-home");
    std::fs::create_dir_all(&ansible_home).unwrap();
    let ansible_cfg = ansible_home.join("ansible.cfg");
    std::fs::write(&ansible_cfg, "[defaults]\n").unwrap();
    let run_ansible = || {
        let out = Command::new(ansible_playbook)
            .arg(&book)
            .arg("-i")
            .arg(&ansible_inv)
            .env("ANSIBLE_CONFIG", &ansible_cfg)
            .env("HOME", &ansible_home)
            .env("ANSIBLE_PYTHON_INTERPRETER", "/usr/bin/python3")
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
            .output()
            .expect("run ansible-playbook");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "ansible-playbook failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    };
    let run_drover_once = || {
        let out = run_drover([
            "play".to_string(),
            book.display().to_string(),
            "-i".into(),
            drover_inv.display().to_string(),
        ]);
        assert_eq!(
            out.code,
            Some(0),
            "drover failed:\n{}\n{}",
            out.stdout,
            out.stderr
        );
        out.stdout
    };

    let ansible_first = run_ansible();
    let drover_first = run_drover_once();
    assert!(
        task_results(&ansible_first).len() >= 20,
        "the oracle's output was not understood:\n{ansible_first}"
    );
    assert!(tree_state(&hosts, 0).lines().count() >= 15);
    assert_eq!(
        task_results(&drover_first),
        task_results(&ansible_first),
        "per-task results differ on the first run\n--- drover:\n{drover_first}\n--- ansible:\n{ansible_first}"
    );
    assert_eq!(tree_state(&hosts, 1), tree_state(&hosts, 0), "files differ");

    let ansible_second = run_ansible();
    let drover_second = run_drover_once();
    assert_eq!(changed_count(&ansible_second), 0, "{ansible_second}");
    assert_eq!(changed_count(&drover_second), 0, "{drover_second}");
    assert_eq!(task_results(&drover_second), task_results(&ansible_second));
}

//! Differential test against ansible-core (the oracle): the same playbook on two identical fresh
//! hosts, one driven by ansible-playbook and one by drover. Per-task results and the files left
//! behind must match, and both tools must report `changed=0` on a second run.
//!
//! ansible-core is installed into a cached throwaway venv by `tests/oracle/ansible.sh`; it needs
//! Python on its target, so only the oracle's host gets python3 (drover's host has none).

use drover_integration::{
    repo_root, target_changed, target_task_results, OracleComparison, TestHosts,
};

fn tree_state(hosts: &TestHosts, i: usize) -> String {
    hosts.ssh_ok(
        i,
        "cd /srv/drover-check && find . -printf '%p %y %m %u %g %s %l\\n' | sort && \
         find . -type f -exec sha1sum {} + | sort -k2",
    )
}

#[test]
fn every_module_playbook_matches_ansible_core() {
    let hosts = TestHosts::start(2);
    let oracle = OracleComparison::new(&hosts, 0, 1);
    let book = repo_root().join("playbooks/tests/every-module.yml");
    let run_ansible = || oracle.run_ansible(&book, &[]);
    let run_drover_once = || oracle.run_drover(&book, &[]);

    let ansible_first = run_ansible();
    let drover_first = run_drover_once();
    assert!(
        target_task_results(&ansible_first).len() >= 20,
        "the oracle's output was not understood:\n{ansible_first}"
    );
    assert!(tree_state(&hosts, 0).lines().count() >= 15);
    assert_eq!(
        target_task_results(&drover_first),
        target_task_results(&ansible_first),
        "per-task results differ on the first run\n--- drover:\n{drover_first}\n--- ansible:\n{ansible_first}"
    );
    assert_eq!(tree_state(&hosts, 1), tree_state(&hosts, 0), "files differ");

    let ansible_second = run_ansible();
    let drover_second = run_drover_once();
    assert_eq!(target_changed(&ansible_second), 0, "{ansible_second}");
    assert_eq!(target_changed(&drover_second), 0, "{drover_second}");
    assert_eq!(
        target_task_results(&drover_second),
        target_task_results(&ansible_second)
    );
}

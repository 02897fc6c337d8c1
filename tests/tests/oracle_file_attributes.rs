//! Differential test of file attributes (`file` `attributes` through chattr, `stat`'s lsattr keys),
//! the internal and SELinux file options and command/shell argument errors against ansible-core:
//! `playbooks/tests/file-attributes.yml` on two identical fresh hosts, one driven by
//! ansible-playbook and one by drover. Per-task results and debug messages must match, on a first
//! and a second run.

use drover_integration::{
    debug_messages, repo_root, target_task_results, OracleComparison, TestHosts,
};

#[test]
fn file_attributes_match_ansible_core() {
    let hosts = TestHosts::start(2);
    let oracle = OracleComparison::new(&hosts, 0, 1);
    let book = repo_root().join("playbooks/tests/file-attributes.yml");
    let fs = hosts.ssh(
        oracle.drover_host(),
        "stat -f -c %T /root; lsattr -vd /root; lsattr -d /root",
    );
    eprintln!(
        "file system of /root: {}{}",
        String::from_utf8_lossy(&fs.stdout),
        String::from_utf8_lossy(&fs.stderr)
    );
    for run in ["first", "second"] {
        let ansible = oracle.run_ansible(&book, &[]);
        let drover = oracle.run_drover(&book, &[]);
        let expected = target_task_results(&ansible);
        assert!(
            expected.len() >= 15,
            "the oracle's output was not understood:\n{ansible}"
        );
        assert_eq!(
            target_task_results(&drover),
            expected,
            "{run} run: per-task results differ\n--- drover:\n{drover}\n--- ansible:\n{ansible}"
        );
        let messages = debug_messages(&ansible);
        assert_eq!(
            debug_messages(&drover),
            messages,
            "{run} run: debug messages differ\n--- drover:\n{drover}\n--- ansible:\n{ansible}"
        );
    }
    // The hosts' root is overlayfs: it keeps flags (`lsattr -d`, chattr) but has no version
    // numbers, so `lsattr -vd` fails and ansible-core's stat reports no attributes there; the
    // file module reads flags without the version and sets them. Both hosts end with `d` set.
    let flags = hosts.ssh_ok(oracle.drover_host(), "lsattr -d /root/attrs.txt");
    assert!(
        flags
            .split_whitespace()
            .next()
            .is_some_and(|f| f.contains('d')),
        "{flags}"
    );
    assert_eq!(
        flags,
        hosts.ssh_ok(oracle.ansible_host(), "lsattr -d /root/attrs.txt")
    );
}

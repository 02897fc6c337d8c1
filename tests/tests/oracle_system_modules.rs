//! Differential test of the package, service, account and system modules against ansible-core:
//! `playbooks/tests/system-modules.yml` on two identical fresh hosts, one driven by
//! ansible-playbook and one by drover. Per-task results, debug messages and the hosts' final state
//! (packages, users, keys, crontabs, service state) must match; both tools must
//! report `changed=0` on a second run. The packages come from Debian's archive (harness NAT).

use drover_integration::{
    debug_messages, repo_root, target_changed, target_task_results, OracleComparison, TestHosts,
};

fn host_state(hosts: &TestHosts, i: usize) -> String {
    hosts.ssh_ok(
        i,
        "dpkg-query -W -f='${Package} ${db:Status-Abbrev}\\n' tree cron less 2>&1; \
         getent passwd app svc; getent group deployers; id app; \
         stat -c '%n %a %U %G' /srv/app /etc/cron.d/drover-check; crontab -l -u app; \
         systemctl is-enabled cron; systemctl is-active cron",
    )
}

#[test]
fn system_modules_match_ansible_core() {
    let hosts = TestHosts::start(2);
    let oracle = OracleComparison::new(&hosts, 0, 1);
    // Same apt cache age on both hosts (the oracle's host just updated it to install python3).
    hosts.ssh_ok(oracle.drover_host(), "apt-get update -qq");
    let book = repo_root().join("playbooks/tests/system-modules.yml");

    let ansible_first = oracle.run_ansible(&book, &[]);
    let drover_first = oracle.run_drover(&book, &[]);
    let expected = target_task_results(&ansible_first);
    assert!(
        expected.len() >= 20,
        "the oracle's output was not understood:\n{ansible_first}"
    );
    assert_eq!(
        target_task_results(&drover_first),
        expected,
        "per-task results differ\n--- drover:\n{drover_first}\n--- ansible:\n{ansible_first}"
    );
    assert_eq!(
        debug_messages(&drover_first),
        debug_messages(&ansible_first),
        "debug messages differ"
    );
    let state = host_state(&hosts, oracle.ansible_host());
    assert!(state.contains("cron ii"), "{state}");
    assert_eq!(
        host_state(&hosts, oracle.drover_host()),
        state,
        "host state differs"
    );

    let ansible_second = oracle.run_ansible(&book, &[]);
    let drover_second = oracle.run_drover(&book, &[]);
    assert_eq!(target_changed(&ansible_second), 0, "{ansible_second}");
    assert_eq!(target_changed(&drover_second), 0, "{drover_second}");
    assert_eq!(
        target_task_results(&drover_second),
        target_task_results(&ansible_second)
    );
    assert_eq!(
        debug_messages(&drover_second),
        debug_messages(&ansible_second)
    );
}

//! Differential test of the modules public Debian roles use most (community.general.timezone,
//! locale_gen and pam_limits, ansible.builtin.debconf and known_hosts) against ansible-core with the
//! collections from the pinned `ansible` package (`tests/oracle/collections.sh`):
//! `playbooks/tests/role-modules.yml` on two identical fresh hosts. A `--check --diff` run first
//! must report the same and leave both hosts untouched; then per-task results, the registered
//! values the playbook prints and the hosts' final state must match, and a second run of the
//! converging play must report `changed=0` for both tools.

use drover_integration::{
    debug_messages, oracle_collections_path, repo_root, target_changed, target_task_results,
    OracleComparison, TestHosts,
};

fn host_state(hosts: &TestHosts, i: usize) -> String {
    hosts.ssh_ok(
        i,
        "readlink /etc/localtime; cat /etc/timezone; timedatectl show -p Timezone --value; \
         locale -a; grep -v '^#' /etc/locale.gen 2>&1 | grep .; debconf-show tzdata locales | sort; \
         for f in /root/.ssh/known_hosts /etc/ssh/ssh_known_hosts /tmp/scratch_known_hosts \
           /tmp/scratch_known_hosts.old /etc/locale.gen \
           /etc/security/limits.conf /etc/security/limits.d/drover.conf /tmp/scratch_limits.conf; do \
           [ -e $f ] && stat -c '%n %a %U %G' $f && sed -E 's/[|]1[|][^ ]+/HASHED/' $f; done; \
         ls -a /root/.ssh /etc/ssh | grep -v '^ssh_host_'",
    )
}

fn assert_same_run(drover: &str, ansible: &str, what: &str) {
    let expected = target_task_results(ansible);
    assert!(
        expected.len() >= 20,
        "{what}: the oracle's output was not understood:\n{ansible}"
    );
    assert_eq!(
        target_task_results(drover),
        expected,
        "{what}: per-task results differ\n--- drover:\n{drover}\n--- ansible:\n{ansible}"
    );
    assert_eq!(
        debug_messages(drover),
        debug_messages(ansible),
        "{what}: registered values differ\n--- drover:\n{drover}\n--- ansible:\n{ansible}"
    );
}

#[test]
fn role_modules_match_ansible_core() {
    let collections = oracle_collections_path().display();
    let hosts = TestHosts::start(2);
    let oracle = OracleComparison::new(&hosts, 0, 1);
    oracle.set_ansible_config(&format!("[defaults]\ncollections_path = {collections}\n"));
    // Same apt cache age on both hosts (the oracle's host just updated it to install python3).
    hosts.ssh_ok(oracle.drover_host(), "apt-get update -qq");
    let book = repo_root().join("playbooks/tests/role-modules.yml");
    let (a, d) = (oracle.ansible_host(), oracle.drover_host());
    let initial = host_state(&hosts, a);
    assert_eq!(host_state(&hosts, d), initial, "the fresh hosts differ");

    // Check mode: the same predictions, and nothing changes on either host.
    let ansible_check = oracle.run_ansible(&book, &["--check", "--diff"]);
    let drover_check = oracle.run_drover(&book, &["--check", "--diff"]);
    assert_same_run(&drover_check, &ansible_check, "check mode");
    assert_eq!(
        host_state(&hosts, a),
        initial,
        "ansible-core's check mode changed the host"
    );
    assert_eq!(
        host_state(&hosts, d),
        initial,
        "drover's check mode changed the host"
    );

    let ansible_first = oracle.run_ansible(&book, &["--diff"]);
    let drover_first = oracle.run_drover(&book, &["--diff"]);
    assert_same_run(&drover_first, &ansible_first, "first run");
    let state = host_state(&hosts, a);
    assert!(
        state.contains("Europe/Paris") && state.contains("de_DE.utf8"),
        "{state}"
    );
    assert_eq!(host_state(&hosts, d), state, "host state differs");

    let converge = ["--skip-tags", "transitions"];
    let ansible_second = oracle.run_ansible(&book, &converge);
    let drover_second = oracle.run_drover(&book, &converge);
    assert_eq!(target_changed(&ansible_second), 0, "{ansible_second}");
    assert_eq!(target_changed(&drover_second), 0, "{drover_second}");
    assert_same_run(&drover_second, &ansible_second, "second run");
    assert_eq!(
        host_state(&hosts, d),
        host_state(&hosts, a),
        "host state differs after the second run"
    );
}

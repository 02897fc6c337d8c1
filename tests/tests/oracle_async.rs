//! Differential test of the `async`/`poll` keywords and `async_status` against ansible-core:
//! `playbooks/tests/async.yml` (a job that finishes, one past its time limit, fire and forget
//! then `async_status` until finished across `meta: reset_connection`, `mode: cleanup`, a
//! missing job, `creates`, a failing job, a loop, a module run on the controller, an action
//! ansible-core refuses, check mode) on two identical fresh hosts, one driven by
//! ansible-playbook and one by drover. Per-task statuses and the registered values the debug
//! tasks print must match, and no job file may be left behind. About 18 s of sleeps.

use drover_integration::{repo_root, target_task_results, OracleComparison, TestHosts};

/// Per-task statuses, without retry lines (how many checks a job takes depends on timing).
fn statuses(output: &str) -> Vec<(String, String)> {
    target_task_results(output)
        .into_iter()
        .filter(|(_, line)| !line.starts_with("FAILED - RETRYING"))
        .collect()
}

/// The bodies of the debug results (`ok: [target] => {` … `}`), in order.
fn debug_bodies(output: &str) -> Vec<String> {
    let mut bodies = Vec::new();
    let mut current: Option<String> = None;
    for line in output.lines() {
        if let Some(body) = &mut current {
            if line == "}" {
                bodies.push(current.take().unwrap_or_default());
            } else {
                body.push_str(line);
                body.push('\n');
            }
        } else if line == "ok: [target] => {" {
            current = Some(String::new());
        }
    }
    bodies
}

#[test]
fn async_matches_ansible_core() {
    let hosts = TestHosts::start(2);
    let oracle = OracleComparison::new(&hosts, 0, 1);
    let book = repo_root().join("playbooks/tests/async.yml");

    let ansible = oracle.run_ansible(&book, &[]);
    let drover = oracle.run_drover(&book, &[]);
    let expected = statuses(&ansible);
    assert!(
        expected.len() >= 20,
        "the oracle's output was not understood:\n{ansible}"
    );
    assert_eq!(
        statuses(&drover),
        expected,
        "per-task results differ\n--- drover:\n{drover}\n--- ansible:\n{ansible}"
    );
    let expected = debug_bodies(&ansible);
    assert_eq!(expected.len(), 12, "{ansible}");
    assert_eq!(
        debug_bodies(&drover),
        expected,
        "registered values differ\n--- drover:\n{drover}\n--- ansible:\n{ansible}"
    );
    // Jobs waited for are cleaned up, the timed-out one too (it finished, killed by its time
    // limit, before the first check); the fire-and-forget one was removed by `mode: cleanup`.
    for i in [oracle.ansible_host(), oracle.drover_host()] {
        let left = hosts.ssh_ok(i, "ls ~/.ansible_async | wc -l");
        assert_eq!(left.trim(), "0", "host {i}: job files left");
    }
}

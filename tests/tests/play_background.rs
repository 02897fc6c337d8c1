//! A command that leaves a process in the background holding its output open returns when the
//! command itself exits (ansible-core's rule: the process is gone and its output is quiet), over
//! SSH and over the local connection alike, instead of waiting for the background process.

use std::time::{Duration, Instant};

use drover_integration::{drover_bin, run_drover, TestHosts};

#[test]
fn backgrounded_children_do_not_hold_the_task() {
    let hosts = TestHosts::start(1);
    let inventory = hosts.dir().join("hosts.ini");
    hosts.write_inventory(&inventory, "web").unwrap();
    let playbook = hosts.dir().join("site.yml");
    std::fs::write(
        &playbook,
        "- hosts: web\n  gather_facts: false\n  tasks:\n\
         \x20   - shell: 'echo started; sleep 30 &'\n      register: remote\n\
         \x20   - shell: 'echo started; sleep 30 &'\n      delegate_to: localhost\n      register: local\n\
         \x20   - assert:\n        that: [remote.stdout == 'started', local.stdout == 'started']\n",
    )
    .unwrap();
    drover_bin(); // built before the clock starts
    let started = Instant::now();
    let run = run_drover([
        "play",
        playbook.to_str().unwrap(),
        "-i",
        inventory.to_str().unwrap(),
    ]);
    let took = started.elapsed();
    assert!(run.success(), "{}\n{}", run.stdout, run.stderr);
    assert!(
        took < Duration::from_secs(20),
        "took {took:?}:\n{}",
        run.stdout
    );
}

//! `wait_for_connection` across a host outage: the host is stopped after the first task connected
//! and started again a few seconds later; the wait must succeed once sshd answers again.

use drover_integration::{run_drover, TestHosts};

// Fails today: the SSH transport keeps its dead pooled connection ("connection lost: cannot open a
// session channel") and has no way to reconnect, so every retry fails. Enable once core's
// `Connection` can be reset/reconnected (Ansible's `reset_connection` / retried connect).
#[test]
#[ignore = "needs reconnect support in core's SSH transport"]
fn wait_for_connection_survives_a_restart() {
    let hosts = TestHosts::start(1);
    let inventory = hosts.dir().join("hosts.ini");
    hosts.write_inventory(&inventory, "web").unwrap();
    let book = hosts.dir().join("wfc.yml");
    std::fs::write(
        &book,
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - file: {path: /run/drover-first-done, state: touch}\n    - pause: {seconds: 5}\n    - wait_for_connection: {timeout: 60, sleep: 1}\n      register: w\n    - command: cat /etc/hostname\n    - file: {path: /tmp/after-restart, state: touch}\n    - debug: {msg: 'elapsed={{ w.elapsed }}'}\n",
    )
    .unwrap();
    std::thread::scope(|scope| {
        let h = &hosts;
        scope.spawn(move || {
            // Stop the host during the pause that follows the first task.
            for _ in 0..600 {
                if h.ssh(0, "test -e /run/drover-first-done").status.success() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            h.stop_host(0);
            std::thread::sleep(std::time::Duration::from_secs(2));
            h.start_host(0);
        });
        let out = run_drover([
            "play",
            book.to_str().unwrap(),
            "-i",
            inventory.to_str().unwrap(),
        ]);
        assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    });
    hosts.ssh_ok(0, "test -e /tmp/after-restart");
}

//! Reconnecting after a host went away: `wait_for_connection` across a host restart, and the
//! `reboot` module rebooting a real container and waiting until it is back.

use drover_integration::{run_drover, TestHosts};

/// Start time of the host's PID 1 (clock ticks since the kernel booted): changes on every
/// container boot.
const PID1_START: &str = "sed 's/.*) //' /proc/1/stat | cut -d' ' -f20";

/// The host is stopped right after the first task and started again 6 s later, while
/// `wait_for_connection` polls: the pooled (now dead) connection must be replaced by a fresh
/// one, and the tasks after the wait must run over it.
#[test]
fn wait_for_connection_survives_a_restart() {
    let hosts = TestHosts::start(1);
    let inventory = hosts.dir().join("hosts.ini");
    hosts.write_inventory(&inventory, "web").unwrap();
    let book = hosts.dir().join("wfc.yml");
    std::fs::write(
        &book,
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - file: {path: /run/drover-first-done, state: touch}\n    - pause: {seconds: 2}\n    - wait_for_connection: {timeout: 60, sleep: 1, connect_timeout: 3}\n      register: w\n    - command: cat /etc/hostname\n    - file: {path: /tmp/after-restart, state: touch}\n    - debug: {msg: 'elapsed={{ w.elapsed }}'}\n",
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
            std::thread::sleep(std::time::Duration::from_secs(6));
            h.start_host(0);
        });
        let out = run_drover([
            "play",
            book.to_str().unwrap(),
            "-i",
            inventory.to_str().unwrap(),
        ]);
        assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
        // The wait really had to outlast the outage (it started during it).
        let elapsed: u64 = out
            .stdout
            .split("elapsed=")
            .nth(1)
            .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no elapsed in output:\n{}", out.stdout));
        assert!(
            elapsed >= 2,
            "wait_for_connection returned after {elapsed}s"
        );
    });
    // /run is a tmpfs: the marker of the first boot is gone, the file written after the restart is there.
    hosts.ssh_ok(
        0,
        "test ! -e /run/drover-first-done && test -e /tmp/after-restart",
    );
}

/// `reboot` reboots the container (its PID 1 restarts), waits for it, and later tasks run over a
/// new connection; `--check` does not reboot; an unknown argument is rejected before connecting.
#[test]
fn reboot_reboots_and_waits() {
    let hosts = TestHosts::start(1);
    let inventory = hosts.dir().join("hosts.ini");
    hosts.write_inventory(&inventory, "web").unwrap();
    let book = hosts.dir().join("reboot.yml");
    std::fs::write(
        &book,
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - file: {path: /run/before-reboot, state: touch}\n    - reboot: {reboot_timeout: 120, msg: 'drover test reboot'}\n      register: r\n    - assert: {that: ['r.rebooted', 'r.changed', 'r.elapsed is number']}\n    - command: test ! -e /run/before-reboot\n      changed_when: false\n    - file: {path: /run/after-reboot, state: touch}\n",
    )
    .unwrap();
    let boot_before = hosts.ssh_ok(0, PID1_START);
    let check = hosts.play(
        "web",
        "reboot-check.yml",
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - reboot: {}\n      register: r\n    - assert: {that: ['r.rebooted', 'r.changed']}\n",
        &["--check"],
    );
    check.assert_success();
    assert_eq!(check.changed(), 1, "{}", check.stdout);
    assert_eq!(
        hosts.ssh_ok(0, PID1_START),
        boot_before,
        "--check rebooted the host"
    );
    let out = run_drover([
        "play",
        book.to_str().unwrap(),
        "-i",
        inventory.to_str().unwrap(),
    ]);
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    let boot_after = hosts.ssh_ok(0, PID1_START);
    assert_ne!(boot_before, boot_after, "PID 1 did not restart");
    hosts.ssh_ok(0, "test -e /run/after-reboot");

    let bad = hosts.dir().join("bad.yml");
    std::fs::write(
        &bad,
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - reboot: {timeout: 5}\n",
    )
    .unwrap();
    let out = run_drover([
        "play",
        bad.to_str().unwrap(),
        "-i",
        inventory.to_str().unwrap(),
    ]);
    assert_eq!(out.code, Some(1), "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("timeout"), "{}", out.stderr);
    assert!(out.stderr.contains("bad.yml:4"), "{}", out.stderr);
}

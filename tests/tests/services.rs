//! `systemd` / `systemd_service` / `service` against real systemd on a Debian host: converge,
//! idempotence, check mode, restart changes the MainPID, reload, masked, enabled,
//! daemon_reload, the SysV fallback, and bad input.

use drover_integration::TestHosts;

const UNIT: &str = "[Unit]\nDescription=drover test sleeper\n[Service]\nExecStart=/bin/sleep infinity\nExecReload=/bin/true\n[Install]\nWantedBy=multi-user.target\n";

/// A tiny init script that keeps a pid file.
const INIT_SCRIPT: &str = r#"#!/bin/sh
### BEGIN INIT INFO
# Provides:          drover-initd
# Required-Start:
# Required-Stop:
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: drover test
### END INIT INFO
P=/run/drover-initd.pid
case "$1" in
  start) [ -f $P ] && kill -0 "$(cat $P)" 2>/dev/null && exit 0; sleep 100000 >/dev/null 2>&1 & echo $! > $P;;
  stop) [ -f $P ] && kill "$(cat $P)" 2>/dev/null; rm -f $P;;
  restart) "$0" stop; "$0" start;;
  status) [ -f $P ] && kill -0 "$(cat $P)" 2>/dev/null;;
  *) exit 3;;
esac
"#;

#[test]
fn systemd_and_service_modules() {
    let hosts = TestHosts::start(1);
    let state = hosts.ssh(0, "systemctl is-system-running --wait");
    let state = String::from_utf8_lossy(&state.stdout).trim().to_string();
    assert!(
        state == "running" || state == "degraded",
        "systemd: {state}"
    );
    hosts.ssh_ok(
        0,
        &format!(
            "printf '{}' > /usr/lib/systemd/system/drover-sleep.service",
            UNIT.replace('\n', "\\n")
        ),
    );
    let sh = |cmd: &str| hosts.ssh_ok(0, cmd).trim().to_string();
    let active = || {
        let o = hosts.ssh(0, "systemctl is-active drover-sleep");
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    let enabled = || {
        let o = hosts.ssh(0, "systemctl is-enabled drover-sleep");
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };

    let converge = r#"- hosts: targets
  gather_facts: false
  tasks:
    - name: start the sleeper
      systemd:
        name: drover-sleep
        state: started
        enabled: true
        daemon_reload: true
      register: r
    - copy:
        dest: /tmp/result.json
        content: "{{ r | to_json }}"
"#;
    // Check mode: reports the change, touches nothing.
    let run = hosts.play("targets", "converge.yml", converge, &["--check"]);
    run.assert_success();
    assert_eq!(run.changed(), 2, "{}", run.stdout);
    assert_eq!(active(), "inactive");
    assert_eq!(enabled(), "disabled");
    // Converge.
    let run = hosts.play("targets", "converge.yml", converge, &[]);
    run.assert_success();
    assert_eq!(run.changed(), 2, "{}", run.stdout);
    assert_eq!(active(), "active");
    assert_eq!(enabled(), "enabled");
    let r: serde_json::Value = serde_json::from_str(&sh("cat /tmp/result.json")).unwrap();
    assert_eq!(r["name"], "drover-sleep");
    assert_eq!(r["state"], "started");
    assert_eq!(r["enabled"], true);
    assert_eq!(r["changed"], true);
    assert_eq!(r["status"]["LoadState"], "loaded");
    // Re-run: nothing changes (the copy of the result differs only in `changed`... so drop it).
    let idem = r#"- hosts: targets
  gather_facts: false
  tasks:
    - systemd: {name: drover-sleep, state: started, enabled: true}
    - systemd_service: {name: drover-sleep.service, state: started}
    - service: {name: drover-sleep, state: started, enabled: yes}
"#;
    let run = hosts.play("targets", "idem.yml", idem, &[]);
    run.assert_success();
    assert_eq!(run.changed(), 0, "{}", run.stdout);

    // restarted changes the MainPID; reloaded reports a change and keeps it running.
    let pid_before = sh("systemctl show -p MainPID --value drover-sleep");
    let run = hosts.play(
        "targets",
        "restart.yml",
        "- hosts: targets\n  gather_facts: false\n  tasks:\n    - systemd: {name: drover-sleep, state: restarted}\n      register: r\n    - assert: {that: [\"r.state == 'started'\", r is changed]}\n    - service: {name: drover-sleep, state: reloaded}\n",
        &[],
    );
    run.assert_success();
    assert_eq!(run.changed(), 2, "{}", run.stdout);
    let pid_after = sh("systemctl show -p MainPID --value drover-sleep");
    assert_ne!(pid_before, pid_after);
    assert_eq!(active(), "active");
    // Restart in check mode: reported, PID unchanged.
    let run = hosts.play(
        "targets",
        "restart-check.yml",
        "- hosts: targets\n  gather_facts: false\n  tasks:\n    - systemd: {name: drover-sleep, state: restarted}\n",
        &["--check"],
    );
    run.assert_success();
    assert_eq!(run.changed(), 1);
    assert_eq!(
        sh("systemctl show -p MainPID --value drover-sleep"),
        pid_after
    );

    // daemon_reload picks up an edited unit file before restarting.
    hosts.ssh_ok(
        0,
        "sed -i 's|sleep infinity|sleep 424242|' /usr/lib/systemd/system/drover-sleep.service",
    );
    let run = hosts.play(
        "targets",
        "reload.yml",
        "- hosts: targets\n  gather_facts: false\n  tasks:\n    - systemd: {name: drover-sleep, state: restarted, daemon_reload: true}\n",
        &[],
    );
    run.assert_success();
    assert!(sh("ps -eo args").contains("sleep 424242"));
    assert_eq!(
        sh("systemctl show -p NeedDaemonReload --value drover-sleep"),
        "no"
    );

    // stopped + disabled; then masked (idempotent) and unmasked.
    let stop = "- hosts: targets\n  gather_facts: false\n  tasks:\n    - service: {name: drover-sleep, state: stopped, enabled: false}\n";
    let run = hosts.play("targets", "stop.yml", stop, &[]);
    run.assert_success();
    assert_eq!(run.changed(), 1);
    assert_eq!(active(), "inactive");
    assert_eq!(enabled(), "disabled");
    assert_eq!(hosts.play("targets", "stop.yml", stop, &[]).changed(), 0);
    let mask = "- hosts: targets\n  gather_facts: false\n  tasks:\n    - systemd: {name: drover-sleep, masked: true}\n";
    let run = hosts.play("targets", "mask.yml", mask, &["--check"]);
    run.assert_success();
    assert_eq!(run.changed(), 1);
    assert_eq!(enabled(), "disabled");
    hosts
        .play("targets", "mask.yml", mask, &[])
        .assert_success();
    assert_eq!(enabled(), "masked");
    assert_eq!(hosts.play("targets", "mask.yml", mask, &[]).changed(), 0);
    // Starting a masked unit fails with systemctl's reason.
    let run = hosts.play(
        "targets",
        "masked-start.yml",
        "- hosts: targets\n  gather_facts: false\n  tasks:\n    - systemd: {name: drover-sleep, state: started}\n",
        &[],
    );
    assert_eq!(run.code, Some(2), "{}", run.stdout);
    assert!(
        run.stdout.contains("Unable to start service drover-sleep"),
        "{}",
        run.stdout
    );
    let run = hosts.play(
        "targets",
        "unmask.yml",
        "- hosts: targets\n  gather_facts: false\n  tasks:\n    - systemd: {name: drover-sleep, masked: false}\n",
        &[],
    );
    run.assert_success();
    assert_eq!(run.changed(), 1);
    assert_eq!(enabled(), "disabled");

    // Unknown service: a clear failed result, for both modules.
    let run = hosts.play(
        "targets",
        "unknown.yml",
        "- hosts: targets\n  gather_facts: false\n  tasks:\n    - systemd: {name: no-such-unit-xyz, state: started}\n      ignore_errors: true\n    - service: {name: no-such-unit-xyz, enabled: true}\n",
        &[],
    );
    assert_eq!(run.code, Some(2), "{}", run.stdout);
    assert_eq!(
        run.stdout
            .matches(r#""msg": "Could not find the requested service no-such-unit-xyz: host""#)
            .count(),
        2,
        "{}",
        run.stdout
    );
    // Unknown argument and bad value: exit 1 / a failed task, host untouched.
    let run = hosts.play(
        "targets",
        "badarg.yml",
        "- hosts: targets\n  gather_facts: false\n  tasks:\n    - systemd:\n        name: drover-sleep\n        stat: started\n",
        &[],
    );
    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(
        all.contains("stat") && all.contains("badarg.yml:6"),
        "{all}"
    );
    let run = hosts.play(
        "targets",
        "badval.yml",
        "- hosts: targets\n  gather_facts: false\n  tasks:\n    - systemd: {name: drover-sleep, state: running}\n",
        &[],
    );
    assert_eq!(run.code, Some(2), "{}", run.stdout);
    assert!(run.stdout.contains("running"), "{}", run.stdout);
    assert_eq!(active(), "inactive");

    // SysV fallback: `use: sysvinit` drives /etc/init.d and update-rc.d links.
    hosts.ssh_ok(
        0,
        &format!(
            "cat > /etc/init.d/drover-initd <<'EOF'\n{INIT_SCRIPT}EOF\nchmod +x /etc/init.d/drover-initd"
        ),
    );
    let sysv = "- hosts: targets\n  gather_facts: false\n  tasks:\n    - service: {name: drover-initd, state: started, enabled: true, use: sysvinit}\n";
    let run = hosts.play("targets", "sysv.yml", sysv, &["--check"]);
    run.assert_success();
    assert_eq!(run.changed(), 1);
    assert!(!hosts
        .ssh(0, "/etc/init.d/drover-initd status")
        .status
        .success());
    let run = hosts.play("targets", "sysv.yml", sysv, &[]);
    run.assert_success();
    assert_eq!(run.changed(), 1);
    assert!(hosts
        .ssh(0, "/etc/init.d/drover-initd status")
        .status
        .success());
    assert!(hosts
        .ssh(0, "ls /etc/rc2.d/S*drover-initd")
        .status
        .success());
    assert_eq!(hosts.play("targets", "sysv.yml", sysv, &[]).changed(), 0);
    let run = hosts.play(
        "targets",
        "sysv-stop.yml",
        "- hosts: targets\n  gather_facts: false\n  tasks:\n    - service: {name: drover-initd, state: stopped, enabled: false, use: sysvinit}\n    - service: {name: nope-initd, state: started, use: sysvinit}\n      ignore_errors: true\n",
        &[],
    );
    run.assert_success();
    assert!(!hosts
        .ssh(0, "/etc/init.d/drover-initd status")
        .status
        .success());
    assert!(!hosts
        .ssh(0, "ls /etc/rc2.d/S*drover-initd")
        .status
        .success());
    assert!(run
        .stdout
        .contains("Could not find the requested service nope-initd"));
}

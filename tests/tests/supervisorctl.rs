//! `supervisorctl` against a real Debian host running supervisord (installed by the test).

use drover_integration::TestHosts;

fn state(hosts: &TestHosts) -> String {
    let out = hosts.ssh(0, "supervisorctl status sleeper");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut words = text.split_whitespace();
    match (words.next(), words.next()) {
        (Some("sleeper"), Some(s)) => s.to_string(),
        _ => String::new(),
    }
}

#[test]
fn supervisorctl_manages_programs() {
    let hosts = TestHosts::start(1);
    let dir = hosts.dir().to_path_buf();
    let inventory = dir.join("hosts.ini");
    hosts.write_inventory(&inventory, "t").unwrap();

    // Before supervisor exists: a clear failure.
    let absent = hosts.play(
        "t",
        "none.yml",
        "- hosts: t\n  tasks:\n    - supervisorctl: {name: sleeper, state: started}\n",
        &[],
    );
    assert_eq!(absent.code, Some(2), "{}", absent.stdout);
    assert!(
        absent.stdout.contains("install the supervisor package"),
        "{}",
        absent.stdout
    );

    let started = std::time::Instant::now();
    hosts.ssh_ok(
        0,
        "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-unsafe-io supervisor >/dev/null && systemctl start supervisor \
         && for i in $(seq 50); do supervisorctl status >/dev/null 2>&1; [ $? -ne 2 ] && break; sleep 0.2; done \
         && printf '[program:sleeper]\\ncommand=/bin/sleep 1000\\nautostart=false\\nstartsecs=0\\n' > /etc/supervisor/conf.d/sleeper.conf",
    );
    eprintln!("supervisor installed in {:?}", started.elapsed());

    let converge = "- hosts: t\n  tasks:\n    - supervisorctl: {name: sleeper, state: present}\n    - supervisorctl: {name: sleeper, state: started, config: /etc/supervisor/supervisord.conf}\n";
    // --check first: nothing is added.
    let check = hosts.play("t", "up.yml", converge, &["--check"]);
    assert_eq!(check.code, Some(2), "{}", check.stdout); // `started` has no process to act on yet, as in Ansible
    assert!(check.stdout.contains("no such process"), "{}", check.stdout);
    assert_eq!(state(&hosts), "");
    let up = hosts.play("t", "up.yml", converge, &[]);
    assert_eq!(up.code, Some(0), "{}\n{}", up.stdout, up.stderr);
    assert_eq!(up.changed(), 2, "{}", up.stdout);
    assert_eq!(state(&hosts), "RUNNING");
    let again = hosts.play("t", "up.yml", converge, &[]);
    assert_eq!(again.changed(), 0, "{}", again.stdout);

    let stop = "- hosts: t\n  tasks:\n    - supervisorctl: {name: sleeper, state: stopped}\n";
    let check = hosts.play("t", "stop.yml", stop, &["--check"]);
    assert_eq!(check.changed(), 1, "{}", check.stdout);
    assert_eq!(state(&hosts), "RUNNING");
    let stopped = hosts.play("t", "stop.yml", stop, &[]);
    assert_eq!(stopped.changed(), 1, "{}", stopped.stdout);
    assert_eq!(state(&hosts), "STOPPED");

    let pid = |h: &TestHosts| h.ssh_ok(0, "supervisorctl pid sleeper");
    let restart = "- hosts: t\n  tasks:\n    - supervisorctl: {name: sleeper, state: started}\n    - supervisorctl: {name: sleeper, state: restarted}\n";
    hosts.play("t", "restart.yml", restart, &[]);
    let before = pid(&hosts);
    let restarted = hosts.play(
        "t",
        "restart2.yml",
        "- hosts: t\n  tasks:\n    - supervisorctl: {name: sleeper, state: restarted}\n",
        &[],
    );
    assert_eq!(restarted.changed(), 1, "{}", restarted.stdout);
    assert_ne!(pid(&hosts), before);
    assert_eq!(state(&hosts), "RUNNING");

    let remove = "- hosts: t\n  tasks:\n    - supervisorctl: {name: sleeper, state: absent, stop_before_removing: yes}\n    - supervisorctl: {name: ghost, state: started}\n      register: ghost\n      ignore_errors: yes\n    - assert: {that: [\"ghost.msg == 'ERROR (no such process)'\"]}\n";
    let removed = hosts.play("t", "remove.yml", remove, &[]);
    assert_eq!(removed.code, Some(0), "{}", removed.stdout);
    assert_eq!(removed.changed(), 1, "{}", removed.stdout);
    assert!(hosts.ssh_ok(0, "supervisorctl avail").contains("sleeper"));
    assert_eq!(state(&hosts), "");

    let typo = hosts.play(
        "t",
        "typo.yml",
        "- hosts: t\n  tasks:\n    - supervisorctl: {name: x, state: started, confg: /x}\n",
        &[],
    );
    assert_eq!(typo.code, Some(1), "{}", typo.stdout);
    assert!(
        typo.stderr.contains("typo.yml:3") && typo.stderr.contains("confg"),
        "{}",
        typo.stderr
    );
    let bad_state = hosts.play(
        "t",
        "bad.yml",
        "- hosts: t\n  tasks:\n    - supervisorctl: {name: x, state: running}\n",
        &[],
    );
    assert_eq!(bad_state.code, Some(2), "{}", bad_state.stdout);
    assert!(
        bad_state.stdout.contains("state must be one of"),
        "{}",
        bad_state.stdout
    );
}

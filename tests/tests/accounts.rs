//! `user`, `group` and `authorized_key` against a real Debian host: create, modify, idempotence,
//! check mode, diff, SSH key generation, removal and bad input.

use drover_integration::TestHosts;

const HASH: &str = "$6$saltsalt$4ZSXHGFc/Q5K7sA0WDUbRtg5sVOZX9OETEc0gTqlJwdM4qFSJ8qFuW5b39sC0RFkrKbGy.MZ5L/rCQGkKbK4D.";
const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJt5b0Zk2pQ0mY8u3K6Gv6i0nqkC8yDq7m7QAnqkqZ1f test@drover";

#[test]
fn users_groups_and_keys() {
    let hosts = TestHosts::start(1);
    let sh = |cmd: &str| hosts.ssh_ok(0, cmd).trim().to_string();
    let converge = format!(
        r#"- hosts: targets
  gather_facts: false
  tasks:
    - group: {{name: drovers, gid: 2345}}
    - group: {{name: extra}}
    - user:
        name: alice
        uid: 2001
        group: drovers
        groups: [extra, adm]
        shell: /bin/sh
        comment: Alice A
        password: '{HASH}'
        generate_ssh_key: true
        ssh_key_type: ed25519
      register: u
    - copy: {{dest: /tmp/user.json, content: "{{{{ u | to_json }}}}"}}
    - authorized_key: {{user: alice, key: "{KEY}"}}
      when: not ansible_check_mode
"#
    );
    // Groups first (the user module, like Ansible's, fails on a missing group even in check mode).
    let groups = "- hosts: targets\n  gather_facts: false\n  tasks:\n    - group: {name: drovers, gid: 2345}\n    - group: {name: extra}\n";
    let run = hosts.play("targets", "groups.yml", groups, &["--check"]);
    run.assert_success();
    assert_eq!(run.changed(), 2, "{}", run.stdout);
    assert!(!hosts.ssh(0, "getent group drovers").status.success());
    let run = hosts.play("targets", "groups.yml", groups, &[]);
    run.assert_success();
    assert_eq!(run.changed(), 2, "{}", run.stdout);
    // Check mode: nothing is created.
    let run = hosts.play("targets", "converge.yml", &converge, &["--check"]);
    run.assert_success();
    assert_eq!(run.changed(), 2, "{}", run.stdout);
    assert!(!hosts.ssh(0, "getent passwd alice").status.success());
    // Converge.
    let run = hosts.play("targets", "converge.yml", &converge, &[]);
    run.assert_success();
    assert_eq!(run.changed(), 3, "{}", run.stdout);
    assert_eq!(sh("getent group drovers | cut -d: -f3"), "2345");
    assert_eq!(
        sh("getent passwd alice"),
        "alice:x:2001:2345:Alice A:/home/alice:/bin/sh"
    );
    assert_eq!(sh("id -Gn alice"), "drovers adm extra");
    assert_eq!(sh("getent shadow alice | cut -d: -f2"), HASH);
    assert_eq!(sh("stat -c %U /home/alice"), "alice");
    let u: serde_json::Value = serde_json::from_str(&sh("cat /tmp/user.json")).unwrap();
    assert_eq!(u["name"], "alice");
    assert_eq!(u["uid"], 2001);
    assert_eq!(u["group"], 2345);
    assert_eq!(u["home"], "/home/alice");
    assert_eq!(u["shell"], "/bin/sh");
    assert_eq!(u["password"], "NOT_LOGGING_PASSWORD");
    assert_eq!(u["ssh_key_file"], "/home/alice/.ssh/id_ed25519");
    assert_eq!(
        u["ssh_public_key"].as_str().unwrap(),
        sh("cat /home/alice/.ssh/id_ed25519.pub")
    );
    assert_eq!(
        sh("stat -c '%U %a' /home/alice/.ssh/id_ed25519"),
        "alice 600"
    );
    assert_eq!(sh("cat /home/alice/.ssh/authorized_keys"), KEY);
    assert_eq!(
        sh("stat -c '%U %a' /home/alice/.ssh/authorized_keys"),
        "alice 600"
    );
    // Re-run: nothing changes (the result file is rewritten only if the result differs).
    let idem = format!(
        r#"- hosts: targets
  gather_facts: false
  tasks:
    - group: {{name: drovers, gid: 2345}}
    - user: {{name: alice, uid: 2001, group: drovers, groups: [extra, adm], shell: /bin/sh, comment: Alice A, password: '{HASH}', generate_ssh_key: true, ssh_key_type: ed25519}}
    - user: {{name: alice, groups: adm, append: true}}
    - authorized_key: {{user: alice, key: "{KEY}"}}
"#
    );
    let run = hosts.play("targets", "idem.yml", &idem, &[]);
    run.assert_success();
    assert_eq!(run.changed(), 0, "{}", run.stdout);

    // Modify: groups replaced, shell changed; append keeps existing ones.
    let run = hosts.play(
        "targets",
        "modify.yml",
        "- hosts: targets\n  gather_facts: false\n  tasks:\n    - user: {name: alice, groups: [adm], shell: /bin/bash}\n    - user: {name: alice, groups: [extra], append: yes}\n",
        &[],
    );
    run.assert_success();
    assert_eq!(run.changed(), 2);
    assert_eq!(sh("id -Gn alice"), "drovers adm extra");
    assert_eq!(sh("getent passwd alice | cut -d: -f7"), "/bin/bash");
    let run = hosts.play(
        "targets",
        "replace.yml",
        "- hosts: targets\n  gather_facts: false\n  tasks:\n    - user: {name: alice, groups: [extra]}\n",
        &[],
    );
    run.assert_success();
    assert_eq!(sh("id -Gn alice"), "drovers extra");

    // authorized_key: options update in place with a diff; absent removes it.
    let run = hosts.play(
        "targets",
        "keyopts.yml",
        &format!("- hosts: targets\n  gather_facts: false\n  tasks:\n    - authorized_key: {{user: alice, key: \"{KEY}\", key_options: no-pty}}\n"),
        &["--diff"],
    );
    run.assert_success();
    assert!(
        run.stdout.contains(&format!("+no-pty {KEY}")),
        "{}",
        run.stdout
    );
    assert_eq!(
        sh("cat /home/alice/.ssh/authorized_keys"),
        format!("no-pty {KEY}")
    );
    let run = hosts.play(
        "targets",
        "keyabsent.yml",
        &format!("- hosts: targets\n  gather_facts: false\n  tasks:\n    - authorized_key: {{user: alice, key: \"{KEY}\", state: absent}}\n"),
        &[],
    );
    run.assert_success();
    assert_eq!(run.changed(), 1);
    assert_eq!(sh("cat /home/alice/.ssh/authorized_keys"), "");

    // A system user without a home; removal with its home; group removal.
    let run = hosts.play(
        "targets",
        "remove.yml",
        "- hosts: targets\n  gather_facts: false\n  tasks:\n    - user: {name: svc, system: true, create_home: false, shell: /usr/sbin/nologin}\n    - user: {name: alice, state: absent, remove: true}\n    - group: {name: drovers, state: absent}\n",
        &[],
    );
    run.assert_success();
    assert_eq!(run.changed(), 3);
    assert!(
        sh("getent passwd svc | cut -d: -f3")
            .parse::<u32>()
            .unwrap()
            < 1000
    );
    assert!(!hosts.ssh(0, "test -d /home/svc").status.success());
    assert!(!hosts.ssh(0, "getent passwd alice").status.success());
    assert!(!hosts.ssh(0, "test -d /home/alice").status.success());
    assert!(!hosts.ssh(0, "getent group drovers").status.success());

    // Bad input: a missing group is a failed task; an unknown key stops before any host work.
    let run = hosts.play(
        "targets",
        "badgroup.yml",
        "- hosts: targets\n  gather_facts: false\n  tasks:\n    - user: {name: carol, groups: [no-such-group]}\n",
        &[],
    );
    assert_eq!(run.code, Some(2), "{}", run.stdout);
    assert!(
        run.stdout.contains("Group no-such-group does not exist"),
        "{}",
        run.stdout
    );
    assert!(!hosts.ssh(0, "getent passwd carol").status.success());
    let run = hosts.play(
        "targets",
        "badarg.yml",
        "- hosts: targets\n  gather_facts: false\n  tasks:\n    - user:\n        name: carol\n        shel: /bin/sh\n",
        &[],
    );
    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(
        all.contains("shel") && all.contains("badarg.yml:6"),
        "{all}"
    );
}

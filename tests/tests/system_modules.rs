//! `cron`, `getent`, `hostname` and `sysctl` against a real Debian host: converge, idempotence,
//! check mode, diff and bad input.

use drover_integration::TestHosts;

#[test]
fn cron_getent_hostname_sysctl() {
    let hosts = TestHosts::start(1);
    let sh = |cmd: &str| hosts.ssh_ok(0, cmd).trim().to_string();
    // cron without the package: a clear failure.
    let cron = r#"- hosts: targets
  gather_facts: false
  tasks:
    - cron: {name: backup, minute: "5", hour: "2", job: /usr/local/bin/backup, user: root}
    - cron: {name: PATH, env: true, job: "/usr/bin:/bin", user: root}
    - cron: {name: cleanup, special_time: daily, job: "find /tmp -delete", cron_file: drover-cleanup, user: root}
"#;
    let run = hosts.play("targets", "cron.yml", cron, &[]);
    assert_eq!(run.code, Some(2), "{}", run.stdout);
    assert!(run.stdout.contains("crontab"), "{}", run.stdout);
    hosts.ssh_ok(
        0,
        "DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cron >/dev/null",
    );
    // Check mode with diff: reported, nothing written.
    let run = hosts.play("targets", "cron.yml", cron, &["--check", "--diff"]);
    run.assert_success();
    assert_eq!(run.changed(), 3, "{}", run.stdout);
    assert!(
        run.stdout.contains("+5 2 * * * /usr/local/bin/backup"),
        "{}",
        run.stdout
    );
    assert!(!hosts.ssh(0, "crontab -l").status.success());
    assert!(!hosts
        .ssh(0, "test -e /etc/cron.d/drover-cleanup")
        .status
        .success());
    let run = hosts.play("targets", "cron.yml", cron, &[]);
    run.assert_success();
    assert_eq!(run.changed(), 3, "{}", run.stdout);
    assert_eq!(
        sh("crontab -l"),
        // ansible-core writes variables quoted (checked in oracle_system_modules.rs).
        "PATH=\"/usr/bin:/bin\"\n#Ansible: backup\n5 2 * * * /usr/local/bin/backup"
    );
    assert_eq!(
        sh("cat /etc/cron.d/drover-cleanup"),
        "#Ansible: cleanup\n@daily root find /tmp -delete"
    );
    assert_eq!(hosts.play("targets", "cron.yml", cron, &[]).changed(), 0);
    // disabled: the job is commented out (the usual first step before maintenance), then removed.
    let run = hosts.play(
        "targets",
        "cron-off.yml",
        "- hosts: targets\n  gather_facts: false\n  tasks:\n    - cron: {name: backup, minute: \"5\", hour: \"2\", job: /usr/local/bin/backup, disabled: true}\n      register: r\n    - assert: {that: [\"r.jobs == ['backup']\", \"r.envs == ['PATH']\"]}\n",
        &[],
    );
    run.assert_success();
    assert_eq!(run.changed(), 1);
    assert!(sh("crontab -l").contains("\n#5 2 * * * /usr/local/bin/backup"));
    let run = hosts.play(
        "targets",
        "cron-rm.yml",
        "- hosts: targets\n  gather_facts: false\n  tasks:\n    - cron: {name: backup, state: absent}\n    - cron: {name: PATH, env: true, state: absent}\n",
        &[],
    );
    run.assert_success();
    assert_eq!(run.changed(), 2);
    assert_eq!(sh("crontab -l"), "");

    // getent: passwd as a fact; a missing key fails unless fail_key is false.
    let run = hosts.play(
        "targets",
        "getent.yml",
        r#"- hosts: targets
  gather_facts: false
  tasks:
    - getent: {database: passwd, key: nobody-here, fail_key: false}
      register: nk
    - getent: {database: passwd, key: root}
    - getent: {database: group}
    - copy:
        dest: /tmp/getent.txt
        content: "{{ getent_passwd.root[4] }} {{ getent_group.sudo[1] }} {{ nk.ansible_facts.getent_passwd['nobody-here'] is none }}"
    - getent: {database: passwd, key: nobody-here}
"#,
        &[],
    );
    assert_eq!(run.code, Some(2), "{}", run.stdout);
    let getent = hosts.ssh(0, "cat /tmp/getent.txt");
    assert_eq!(
        String::from_utf8_lossy(&getent.stdout),
        "/root 27 True",
        "{}",
        run.stdout
    );
    assert!(run
        .stdout
        .contains("One or more supplied key could not be found in the database."));

    // hostname: check mode, diff, converge, facts updated, idempotent.
    let hn = "- hosts: targets\n  gather_facts: false\n  tasks:\n    - hostname: {name: web-renamed}\n    - copy: {dest: /tmp/hn.txt, content: '{{ ansible_hostname }}'}\n";
    let run = hosts.play("targets", "hostname.yml", hn, &["--check", "--diff"]);
    run.assert_success();
    assert!(
        run.stdout.contains("+hostname = web-renamed"),
        "{}",
        run.stdout
    );
    assert_eq!(sh("hostname"), hosts.host(0).name);
    let run = hosts.play("targets", "hostname.yml", hn, &[]);
    run.assert_success();
    assert_eq!(sh("hostname"), "web-renamed");
    assert_eq!(sh("cat /etc/hostname"), "web-renamed");
    assert_eq!(sh("cat /tmp/hn.txt"), "web-renamed");
    assert_eq!(hosts.play("targets", "hostname.yml", hn, &[]).changed(), 0);

    // sysctl: file line + runtime value, check mode, idempotence, unknown key.
    let sc = "- hosts: targets\n  gather_facts: false\n  tasks:\n    - sysctl: {name: net.ipv4.ip_forward, value: '1', sysctl_file: /etc/sysctl.d/90-drover.conf, sysctl_set: true}\n";
    let before = sh("cat /proc/sys/net/ipv4/ip_forward");
    let run = hosts.play("targets", "sysctl.yml", sc, &["--check"]);
    run.assert_success();
    assert_eq!(run.changed(), 1);
    assert_eq!(sh("cat /proc/sys/net/ipv4/ip_forward"), before);
    assert!(!hosts
        .ssh(0, "test -e /etc/sysctl.d/90-drover.conf")
        .status
        .success());
    let run = hosts.play("targets", "sysctl.yml", sc, &[]);
    run.assert_success();
    assert_eq!(sh("cat /proc/sys/net/ipv4/ip_forward"), "1");
    assert_eq!(
        sh("cat /etc/sysctl.d/90-drover.conf"),
        "net.ipv4.ip_forward=1"
    );
    assert_eq!(hosts.play("targets", "sysctl.yml", sc, &[]).changed(), 0);
    let run = hosts.play(
        "targets",
        "sysctl-bad.yml",
        "- hosts: targets\n  gather_facts: false\n  tasks:\n    - sysctl: {name: net.no.such.key, value: '1'}\n",
        &[],
    );
    assert_eq!(run.code, Some(2), "{}", run.stdout);
    assert!(run.stdout.contains("net.no.such.key"), "{}", run.stdout);
    let run = hosts.play(
        "targets",
        "badarg.yml",
        "- hosts: targets\n  gather_facts: false\n  tasks:\n    - cron:\n        name: x\n        jobb: ls\n",
        &[],
    );
    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(
        all.contains("jobb") && all.contains("badarg.yml:6"),
        "{all}"
    );
}

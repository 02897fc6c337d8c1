//! `lineinfile`, `blockinfile`, `replace` and `ini_file` against a real host: converge, re-run with
//! `changed=0`, `--check --diff` leaves the host untouched, bad arguments and bad values.
//! The expected file contents were produced by ansible-core 2.19 from the same inputs and
//! playbook.

use std::path::Path;

use drover_integration::{run_drover, DroverOutput, TestHosts};

const SETUP: &str = r#"D=/etc/drover-text
rm -rf $D; mkdir -p $D
printf 'Port 22\n#PermitRootLogin yes\nX11Forwarding yes\nPasswordAuthentication yes\n' > $D/sshd.conf
printf 'http {\n    server {\n        listen 80;\n        listen [::]:80;\n    }\n}\n' > $D/nginx.conf
printf '[main]\nuser = root\n' > $D/app.ini
chmod 644 $D/app.ini"#;

const PLAYBOOK: &str = r#"- hosts: all
  gather_facts: false
  vars:
    d: /etc/drover-text
  tasks:
    - name: root login off
      lineinfile: {path: "{{ d }}/sshd.conf", regexp: '^#?PermitRootLogin', line: 'PermitRootLogin no', backup: true}
      register: rootlogin
    - name: usedns after port
      lineinfile: {path: "{{ d }}/sshd.conf", line: 'UseDNS no', insertafter: '^Port'}
    - name: no x11 line
      lineinfile: {path: "{{ d }}/sshd.conf", regexp: '^X11Forwarding', state: absent}
      register: x11
    - name: port via backrefs, validated
      lineinfile: {path: "{{ d }}/sshd.conf", regexp: '^Port (\d\d)$', line: 'Port 2\1', backrefs: true, validate: 'grep -q "^Port" %s'}
    - name: new file
      lineinfile: {path: "{{ d }}/sub/new.conf", line: 'a=1', create: true, mode: '0600'}
    - name: upstream block
      blockinfile:
        path: "{{ d }}/nginx.conf"
        insertafter: 'http {'
        marker: "    # {mark} drover upstream"
        block: |2
              upstream app {
                  server 127.0.0.1:8000;
              }
    - name: listen port
      replace: {path: "{{ d }}/nginx.conf", regexp: 'listen (\[::\]:)?80;', replace: 'listen \g<1>8080;'}
      register: listen
    - name: ini option
      ini_file: {path: "{{ d }}/app.ini", section: main, option: workers, value: "4"}
    - name: mode only
      replace: {path: "{{ d }}/app.ini", regexp: 'nomatch', mode: '0640'}
    - name: results
      debug:
        msg: "{{ rootlogin.msg }}|{{ rootlogin.backup is match('/etc/drover-text/sshd.conf.[0-9]+.') }}|{{ x11.msg }}|{{ x11.found }}|{{ listen.msg }}"
"#;

const SSHD_AFTER: &str = "Port 222\nUseDNS no\nPermitRootLogin no\nPasswordAuthentication yes\n";
const NGINX_AFTER: &str = "http {\n    # BEGIN drover upstream\n    upstream app {\n        server 127.0.0.1:8000;\n    }\n    # END drover upstream\n    server {\n        listen 8080;\n        listen [::]:8080;\n    }\n}\n";

/// `(ok, changed, failed)` from the recap line of `host`.
fn recap(out: &DroverOutput, host: &str) -> (u32, u32, u32) {
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with(host) && l.contains("ok="))
        .unwrap_or_else(|| panic!("no recap for {host}:\n{}\n{}", out.stdout, out.stderr));
    let field = |name: &str| -> u32 {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {line}"))
    };
    (field("ok"), field("changed"), field("failed"))
}

fn play(inventory: &Path, book: &Path, extra: &[&str]) -> DroverOutput {
    let mut args = vec![
        "play".to_string(),
        book.display().to_string(),
        "-i".into(),
        inventory.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    run_drover(args)
}

fn host_state(hosts: &TestHosts) -> String {
    hosts.ssh_ok(
        0,
        "cd /etc/drover-text && find . -printf '%p %y %m\\n' | sort && cat sshd.conf nginx.conf app.ini",
    )
}

#[test]
fn text_modules_converge_rerun_check_diff_and_bad_input() {
    let started = std::time::Instant::now();
    let hosts = TestHosts::start(1);
    let name = hosts.host(0).name.clone();
    let inventory = hosts.dir().join("hosts.ini");
    hosts.write_inventory(&inventory, "web").unwrap();
    let book = hosts.dir().join("edit.yml");
    std::fs::write(&book, PLAYBOOK).unwrap();

    // --check --diff on the fresh files: reports the changes, shows diffs, touches nothing.
    hosts.ssh_ok(0, SETUP);
    let pristine = host_state(&hosts);
    let check = play(&inventory, &book, &["--check", "--diff"]);
    assert_eq!(check.code, Some(0), "{}\n{}", check.stdout, check.stderr);
    assert_eq!(recap(&check, &name).1, 9, "{}", check.stdout);
    for needle in [
        "-#PermitRootLogin yes",
        "+PermitRootLogin no",
        "+UseDNS no",
        "-X11Forwarding yes",
        "+    # BEGIN drover upstream",
        "+        listen [::]:8080;",
        "+workers = 4",
        "sshd.conf (content)",
    ] {
        assert!(
            check.stdout.contains(needle),
            "diff lacks {needle:?}:\n{}",
            check.stdout
        );
    }
    assert_eq!(host_state(&hosts), pristine, "--check changed the host");

    // Converge.
    let first = play(&inventory, &book, &[]);
    assert_eq!(first.code, Some(0), "{}\n{}", first.stdout, first.stderr);
    assert_eq!(recap(&first, &name), (10, 9, 0), "{}", first.stdout);
    assert!(
        first
            .stdout
            .contains("line replaced|True|1 line(s) removed|1|2 replacements made"),
        "{}",
        first.stdout
    );
    assert_eq!(
        hosts.ssh_ok(0, "cat /etc/drover-text/sshd.conf"),
        SSHD_AFTER
    );
    assert_eq!(
        hosts.ssh_ok(0, "cat /etc/drover-text/nginx.conf"),
        NGINX_AFTER
    );
    assert_eq!(
        hosts.ssh_ok(0, "cat /etc/drover-text/app.ini"),
        "[main]\nuser = root\nworkers = 4\n"
    );
    assert_eq!(
        hosts.ssh_ok(
            0,
            "stat -c '%a %s' /etc/drover-text/sub/new.conf /etc/drover-text/app.ini"
        ),
        "600 4\n640 31\n"
    );
    // One backup of the original sshd.conf.
    assert_eq!(
        hosts.ssh_ok(0, "cat /etc/drover-text/sshd.conf.*~"),
        "Port 22\n#PermitRootLogin yes\nX11Forwarding yes\nPasswordAuthentication yes\n"
    );
    // No temporary files left behind.
    assert_eq!(
        hosts
            .ssh_ok(0, "find /etc/drover-text -name '.*' | wc -l")
            .trim(),
        "0"
    );

    // Re-run: nothing changes.
    let second = play(&inventory, &book, &[]);
    assert_eq!(recap(&second, &name), (10, 0, 0), "{}", second.stdout);

    // A failing validate leaves the file alone and fails the task with Ansible's message.
    let bad_validate = hosts.dir().join("validate.yml");
    std::fs::write(
        &bad_validate,
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - lineinfile: {path: /etc/drover-text/sshd.conf, line: 'Bad yes', validate: 'grep -q nothere %s'}\n",
    )
    .unwrap();
    let out = play(&inventory, &bad_validate, &[]);
    assert_eq!(out.code, Some(2), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("failed to validate: rc:1 error:"),
        "{}",
        out.stdout
    );
    assert_eq!(
        hosts.ssh_ok(0, "cat /etc/drover-text/sshd.conf"),
        SSHD_AFTER
    );

    // Bad values: missing file, a directory, an invalid regexp: clear failed results.
    let bad_values = hosts.dir().join("values.yml");
    std::fs::write(
        &bad_values,
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - lineinfile: {path: /etc/drover-text/missing, line: x}\n      ignore_errors: true\n    - replace: {path: /etc/drover-text, regexp: x}\n      ignore_errors: true\n    - blockinfile: {path: /etc/drover-text/missing, block: x}\n      ignore_errors: true\n    - lineinfile: {path: /etc/drover-text/sshd.conf, regexp: '^(Port', line: x}\n      ignore_errors: true\n",
    )
    .unwrap();
    let out = play(&inventory, &bad_values, &[]);
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    for needle in [
        "Destination /etc/drover-text/missing does not exist !",
        "Path /etc/drover-text is a directory !",
        "Path /etc/drover-text/missing does not exist !",
        "invalid regular expression '^(Port'",
    ] {
        assert!(
            out.stdout.contains(needle),
            "missing {needle:?}:\n{}",
            out.stdout
        );
    }

    // Unknown argument: exit 1 before touching the host, naming the key and its location.
    let typo = hosts.dir().join("typo.yml");
    std::fs::write(
        &typo,
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - file: {path: /tmp/drover-typo-marker, state: touch}\n    - blockinfile: {path: /etc/drover-text/x, blok: y}\n",
    )
    .unwrap();
    let out = play(&inventory, &typo, &[]);
    assert_eq!(out.code, Some(1), "{}\n{}", out.stdout, out.stderr);
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(
        text.contains("blok") && text.contains("typo.yml:5"),
        "{text}"
    );
    assert!(!hosts
        .ssh(0, "test -e /tmp/drover-typo-marker")
        .status
        .success());
    eprintln!("text modules test took {:?}", started.elapsed());
}

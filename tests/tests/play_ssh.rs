//! The walking skeleton end to end: `drover play` over SSH against real Debian hosts.
//!
//! Converge, re-run with `changed=0`, `--check` leaves hosts untouched, an unreachable host gives
//! exit 4 while the others complete, a failing task gives exit 2, and bad content is rejected with
//! file:line before any host is touched.

use std::path::Path;

use drover_integration::{repo_root, run_drover, DroverOutput, TestHosts};

fn playbook(name: &str) -> String {
    repo_root()
        .join("playbooks")
        .join(name)
        .display()
        .to_string()
}

/// `(ok, changed, unreachable, failed, skipped)` from the PLAY RECAP line of `host`.
fn recap(out: &DroverOutput, host: &str) -> (u32, u32, u32, u32, u32) {
    let line = out
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("PLAY RECAP"))
        .find(|l| l.split_whitespace().next() == Some(host))
        .unwrap_or_else(|| panic!("no recap line for {host}:\n{}", out.stdout));
    let field = |name: &str| -> u32 {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name}= in {line:?}"))
    };
    (
        field("ok"),
        field("changed"),
        field("unreachable"),
        field("failed"),
        field("skipped"),
    )
}

/// A listing of everything under `dir` on host `i`: path, type, mode, owner, group, size, link
/// target, and content checksums — what "the host's state" means for these tests.
fn tree_state(hosts: &TestHosts, i: usize, dir: &str) -> String {
    hosts.ssh_ok(
        i,
        &format!(
            "cd {dir} && find . -printf '%p %y %m %u %g %s %l\\n' | sort && \
             find . -type f -exec sha1sum {{}} + | sort -k2"
        ),
    )
}

fn run(inventory: &Path, extra: &[&str], book: &str) -> DroverOutput {
    let mut args = vec!["play".to_string(), book.to_string(), "-i".into()];
    args.push(inventory.display().to_string());
    args.extend(extra.iter().map(|s| s.to_string()));
    run_drover(args)
}

#[test]
fn converges_then_reports_no_changes_and_check_mode_touches_nothing() {
    let hosts = TestHosts::start(3);
    let inventory = hosts.dir().join("hosts.ini");
    hosts.write_inventory(&inventory, "web").expect("inventory");
    let book = playbook("tests/every-module.yml");

    let first = run(&inventory, &[], &book);
    assert_eq!(
        first.code,
        Some(0),
        "first run failed:\n{}\n{}",
        first.stdout,
        first.stderr
    );
    for h in hosts.hosts() {
        let (ok, changed, unreachable, failed, _) = recap(&first, &h.name);
        assert!(
            changed >= 10,
            "{}: only {changed} changes on a fresh host",
            h.name
        );
        assert!(ok >= changed);
        assert_eq!((unreachable, failed), (0, 0));
    }
    assert!(first
        .stdout
        .contains("RUNNING HANDLER [app config changed]"));
    assert!(first.stdout.contains("\"msg\": \"All assertions passed\""));
    assert!(first.stdout.contains("task time: "));

    // The hosts really are in the described state.
    let motd = hosts.ssh_ok(0, "cat /srv/drover-check/conf/motd");
    assert_eq!(motd, format!("Welcome to {}\n", hosts.host(0).name));
    let modes = hosts.ssh_ok(
        1,
        "stat -c '%n %a %U:%G' /srv/drover-check/conf/app.conf /srv/drover-check/data /srv/drover-check/www/hello.txt",
    );
    assert_eq!(
        modes,
        "/srv/drover-check/conf/app.conf 600 root:root\n/srv/drover-check/data 750 nobody:nogroup\n/srv/drover-check/www/hello.txt 640 nobody:root\n"
    );
    assert_eq!(
        hosts.ssh_ok(2, "readlink /srv/drover-check/app.conf"),
        "/srv/drover-check/conf/app.conf\n"
    );
    let conf = hosts.ssh_ok(2, "cat /srv/drover-check/conf/app.conf");
    assert!(
        conf.contains("want nginx\nwant rsyslog\nfamily = debian\n"),
        "{conf}"
    );
    // No temporary files left behind by atomic writes.
    assert_eq!(
        hosts.ssh_ok(0, "find /srv/drover-check -name '*drover-tmp*' | wc -l"),
        "0\n"
    );

    let second = run(&inventory, &[], &book);
    assert_eq!(
        second.code,
        Some(0),
        "second run failed:\n{}",
        second.stdout
    );
    for h in hosts.hosts() {
        assert_eq!(
            recap(&second, &h.name).1,
            0,
            "second run changed {}:\n{}",
            h.name,
            second.stdout
        );
    }
    assert!(!second.stdout.contains("RUNNING HANDLER"));

    // Drift on one host: check mode reports it and changes nothing anywhere.
    hosts.ssh_ok(
        0,
        "echo drift > /srv/drover-check/www/hello.txt && chmod 0600 /srv/drover-check/conf/motd",
    );
    let before: Vec<String> = (0..3)
        .map(|i| tree_state(&hosts, i, "/srv/drover-check"))
        .collect();
    let check = run(&inventory, &["--check", "--diff"], &book);
    assert_eq!(
        check.code,
        Some(0),
        "check run failed:\n{}\n{}",
        check.stdout,
        check.stderr
    );
    assert!(
        recap(&check, &hosts.host(0).name).1 >= 2,
        "{}",
        check.stdout
    );
    assert_eq!(recap(&check, &hosts.host(1).name).1, 0);
    assert!(
        check.stdout.contains("-drift"),
        "diff missing:\n{}",
        check.stdout
    );
    let after: Vec<String> = (0..3)
        .map(|i| tree_state(&hosts, i, "/srv/drover-check"))
        .collect();
    assert_eq!(before, after, "--check changed a host");

    // A fresh host in check mode: the directory would be created, and nothing is. (Later tasks
    // that need the directory fail in check mode, exactly as with ansible-playbook.)
    hosts.ssh_ok(2, "rm -rf /srv/drover-check");
    let check_fresh = run(&inventory, &["--check", "-l", &hosts.host(2).name], &book);
    let base_dir_task = check_fresh
        .stdout
        .split("TASK [")
        .find(|t| t.starts_with("Base directory]"))
        .unwrap_or_default();
    assert!(
        base_dir_task.contains(&format!("changed: [{}]", hosts.host(2).name)),
        "{}",
        check_fresh.stdout
    );
    assert_eq!(
        hosts.ssh_ok(2, "test -e /srv/drover-check && echo yes || echo no"),
        "no\n"
    );
}

#[test]
fn unreachable_host_exits_4_while_others_complete_and_failures_exit_2() {
    let hosts = TestHosts::start(3);
    let inventory = hosts.dir().join("hosts.ini");
    hosts
        .write_inventory(&inventory, "all_hosts")
        .expect("inventory");
    let book = hosts.dir().join("touch.yml");
    std::fs::write(
        &book,
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: mark\n      copy:\n        dest: /root/marker\n        content: here\n    - name: second\n      command: cat /root/marker\n      register: m\n      changed_when: false\n",
    )
    .unwrap();
    hosts.stop_host(1);
    let out = run(&inventory, &[], &book.display().to_string());
    assert_eq!(out.code, Some(4), "{}\n{}", out.stdout, out.stderr);
    let dead = &hosts.host(1).name;
    assert!(
        out.stdout
            .contains(&format!("fatal: [{dead}]: UNREACHABLE!")),
        "{}",
        out.stdout
    );
    assert_eq!(recap(&out, dead), (0, 0, 1, 0, 0));
    for i in [0, 2] {
        let name = &hosts.host(i).name;
        assert_eq!(recap(&out, name), (2, 1, 0, 0, 0), "{}", out.stdout);
        assert_eq!(hosts.ssh_ok(i, "cat /root/marker"), "here");
    }

    let failing = hosts.dir().join("fail.yml");
    std::fs::write(
        &failing,
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: boom\n      command: /bin/false\n    - name: never\n      command: touch /root/never\n",
    )
    .unwrap();
    let limit = format!("{},{}", hosts.host(0).name, hosts.host(2).name);
    let out = run(&inventory, &["-l", &limit], &failing.display().to_string());
    assert_eq!(out.code, Some(2), "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("FAILED! => {"), "{}", out.stdout);
    assert!(out.stdout.contains("\"rc\": 1"), "{}", out.stdout);
    assert_eq!(recap(&out, &hosts.host(0).name).3, 1);
    assert_eq!(
        hosts.ssh_ok(0, "test -e /root/never && echo yes || echo no"),
        "no\n"
    );
}

#[test]
fn bad_content_is_rejected_with_file_and_line_before_touching_hosts() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "copy:\n        dset: /tmp/x\n        content: y\n",
            "dset",
            6,
        ),
        ("debgu:\n        msg: hi\n", "debgu", 5),
        ("command: echo hi\n      whne: true\n", "whne", 6),
    ];
    for (task, needle, line) in cases {
        let book = dir.path().join("bad.yml");
        std::fs::write(
            &book,
            format!("- hosts: all\n  gather_facts: false\n  tasks:\n    - name: t\n      {task}"),
        )
        .unwrap();
        // The inventory names a loopback address: a connection attempt would end differently
        // (exit 4 or 0), so exit 1 with no PLAY banner proves nothing was contacted.
        let out = run_drover(["play", &book.display().to_string(), "-i", "127.0.0.77,"]);
        assert_eq!(out.code, Some(1), "{task}: {}\n{}", out.stdout, out.stderr);
        assert!(
            out.stderr.contains(&format!("bad.yml:{line}:")),
            "{task}: expected bad.yml:{line} in:\n{}",
            out.stderr
        );
        assert!(out.stderr.contains(needle), "{}", out.stderr);
        assert!(!out.stdout.contains("PLAY ["), "ran anyway: {}", out.stdout);
    }

    std::fs::write(
        dir.path().join("syntax.yml"),
        "- hosts: all\n  tasks:\n   - debug: msg=x\n  - bad\n",
    )
    .unwrap();
    let out = run_drover(["play", &dir.path().join("syntax.yml").display().to_string()]);
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("syntax.yml:4:"), "{}", out.stderr);

    let out = run_drover(["play", "--forks", "many", "x.yml"]);
    assert_eq!(out.code, Some(5), "bad option must exit 5: {}", out.stderr);
}

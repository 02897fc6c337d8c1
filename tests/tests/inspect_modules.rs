//! `wait_for`, `wait_for_connection`, `find`, `tempfile` and `pause` against a real host. A port
//! that opens later is a second sshd started by a delayed systemd timer; a file that appears later
//! is written by another one. `pause` with a prompt must not wait (drover's stdin is closed here).

use std::time::Instant;

use drover_integration::{run_drover, DroverOutput, TestHosts};

const SETUP: &str = r#"D=/etc/drover-find
rm -rf $D /tmp/drover-ready; mkdir -p $D/sub $D/.hidden
printf 'listen 80;\n' > $D/a.conf
printf 'server x;\n  listen 81;\n' > $D/sub/b.conf
printf 'notes\n' > $D/c.txt
printf 'x\n' > $D/.dot.conf
printf 'old\n' > $D/old.log; touch -d '3 days ago' $D/old.log"#;

const PLAYBOOK: &str = r#"- hosts: all
  gather_facts: false
  tasks:
    - name: a listener that starts in two seconds
      command: systemd-run --unit drover-late-sshd --timer-property=AccuracySec=50ms --on-active=2 /usr/sbin/sshd -D -p 2222
    - wait_for: {port: 2222, timeout: 30}
      register: late
    - wait_for: {port: 22, search_regex: OpenSSH, timeout: 10}
    - wait_for: {port: 2299, state: stopped, timeout: 5}
    - name: a file that appears in two seconds
      command: systemd-run --timer-property=AccuracySec=50ms --on-active=2 /bin/sh -c 'echo ready=yes 42 > /tmp/drover-ready'
    - wait_for: {path: /tmp/drover-ready, search_regex: 'ready=yes (\d+)', timeout: 30}
      register: ready
    - wait_for: {path: /tmp/drover-nothing, state: absent}
    - wait_for: {port: 2298, timeout: 2}
      register: timedout
      ignore_errors: true
    - find: {paths: /etc/drover-find, patterns: "*.conf", recurse: true}
      register: f1
    - find: {paths: /etc/drover-find, contains: "\\s*listen", recurse: true}
      register: f2
    - find: {paths: /etc/drover-find, file_type: directory, hidden: true}
      register: f3
    - find: {paths: [/etc/drover-find, /nonexistent], age: 1d, get_checksum: true}
      register: f4
    - tempfile: {state: directory, suffix: build}
      register: tdir
    - tempfile: {path: "{{ tdir.path }}", prefix: x.}
      register: tfile
    - pause: {seconds: 1}
      register: p1
    - pause: {prompt: "Continue?"}
      register: p2
    - wait_for_connection: {timeout: 20}
      register: wfc
    - debug:
        msg: >-
          late={{ late.state }}:{{ late.port }}
          groups={{ ready.match_groups | join(',') }}
          timeout={{ timedout.msg }}
          f1={{ f1.files | map(attribute='path') | sort | join(',') }}
          f2={{ f2.files | map(attribute='path') | sort | join(',') }}
          f3={{ f3.files | map(attribute='path') | sort | join(',') }}
          f4={{ f4.matched }}:{{ f4.files[0].checksum }}:{{ f4.skipped_paths | list | join(',') }}
          tdir={{ tdir.path }}:{{ tdir.mode }}
          tfile={{ tfile.path }}:{{ tfile.mode }}
          p1={{ p1.stdout }}
          p2={{ p2.user_input }}|{{ p2.warnings | join(',') }}
          wfc={{ wfc.elapsed }}
"#;

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

/// The value after `key=` in the debug message (up to the next space).
fn value<'a>(stdout: &'a str, key: &str) -> &'a str {
    let start = stdout
        .find(&format!(" {key}="))
        .or_else(|| stdout.find(&format!("\"{key}=")))
        .unwrap_or_else(|| panic!("no {key}= in\n{stdout}"));
    let rest = &stdout[start + key.len() + 2..];
    rest.split([' ', '"']).next().unwrap_or(rest)
}

#[test]
fn inspect_modules_wait_find_tempfile_pause() {
    let started = Instant::now();
    let hosts = TestHosts::start(1);
    let name = hosts.host(0).name.clone();
    hosts.ssh_ok(0, SETUP);
    let inventory = hosts.dir().join("hosts.ini");
    hosts.write_inventory(&inventory, "web").unwrap();
    let book = hosts.dir().join("inspect.yml");
    std::fs::write(&book, PLAYBOOK).unwrap();

    let run_started = Instant::now();
    let out = run_drover([
        "play",
        book.to_str().unwrap(),
        "-i",
        inventory.to_str().unwrap(),
    ]);
    let took = run_started.elapsed();
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert_eq!(recap(&out, &name).2, 0, "{}", out.stdout);
    let s = out.stdout.as_str();
    assert_eq!(value(s, "late"), "started:2222");
    assert_eq!(value(s, "groups"), "42");
    assert!(
        s.contains("timeout=Timeout when waiting for 127.0.0.1:2298"),
        "{s}"
    );
    assert_eq!(
        value(s, "f1"),
        "/etc/drover-find/a.conf,/etc/drover-find/sub/b.conf"
    );
    // `contains` is matched at the start of each line, as Ansible's `re.match` does.
    assert_eq!(
        value(s, "f2"),
        "/etc/drover-find/a.conf,/etc/drover-find/sub/b.conf"
    );
    assert_eq!(
        value(s, "f3"),
        "/etc/drover-find/.hidden,/etc/drover-find/sub"
    );
    let sha = hosts.ssh_ok(0, "sha1sum /etc/drover-find/old.log | cut -d' ' -f1");
    assert_eq!(value(s, "f4"), format!("1:{}:/nonexistent", sha.trim()));
    let (tdir, tdir_mode) = value(s, "tdir").split_once(':').unwrap();
    assert!(
        tdir.starts_with("/tmp/ansible.") && tdir.ends_with("build"),
        "{tdir}"
    );
    assert_eq!(tdir_mode, "0700");
    let (tfile, tfile_mode) = value(s, "tfile").split_once(':').unwrap();
    assert!(tfile.starts_with(&format!("{tdir}/x.")), "{tfile}");
    assert_eq!(tfile_mode, "0600");
    assert_eq!(
        hosts.ssh_ok(0, &format!("stat -c %F {tdir} {tfile}")),
        "directory\nregular empty file\n"
    );
    assert!(value(s, "p1").starts_with("Paused"), "{s}");
    assert!(
        s.contains("p2=|Not waiting for response to prompt as stdin is not interactive"),
        "{s}"
    );
    // The host is up: wait_for_connection answers at its first try, well before its 20 s timeout
    // (not necessarily within the same second on a loaded machine).
    let wfc: u64 = value(s, "wfc").parse().unwrap_or(u64::MAX);
    assert!(wfc < 20, "wait_for_connection waited {wfc} s:\n{s}");
    // The waits are short: listener and file after ~2 s each, the timeout case 2 s, pause 1 s.
    // (drover's own `total time:` excludes building the binary on the first call.)
    let total: f64 = s
        .lines()
        .find_map(|l| l.strip_prefix("total time: "))
        .and_then(|t| t.trim_end_matches('s').parse().ok())
        .unwrap_or_else(|| panic!("no total time in\n{s}"));
    assert!(
        total < 25.0,
        "run took {total}s ({took:?} with the build):\n{s}"
    );

    // Bad input: an unknown argument stops the run before any host is touched; a bad
    // combination is a clear failed result.
    let typo = hosts.dir().join("typo.yml");
    std::fs::write(
        &typo,
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - wait_for: {prot: 22}\n",
    )
    .unwrap();
    let bad = run_drover([
        "play",
        typo.to_str().unwrap(),
        "-i",
        inventory.to_str().unwrap(),
    ]);
    assert_eq!(bad.code, Some(1), "{}\n{}", bad.stdout, bad.stderr);
    let text = format!("{}{}", bad.stdout, bad.stderr);
    assert!(
        text.contains("prot") && text.contains("typo.yml:4"),
        "{text}"
    );
    let combo = hosts.dir().join("combo.yml");
    std::fs::write(
        &combo,
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - wait_for: {port: 22, path: /x}\n",
    )
    .unwrap();
    let bad = run_drover([
        "play",
        combo.to_str().unwrap(),
        "-i",
        inventory.to_str().unwrap(),
    ]);
    assert_eq!(bad.code, Some(2), "{}\n{}", bad.stdout, bad.stderr);
    assert!(
        bad.stdout
            .contains("port and path parameter can not both be passed to wait_for"),
        "{}",
        bad.stdout
    );
    // Check mode: like ansible-core, tempfile and wait_for do not support it and are skipped.
    let check = hosts.dir().join("check.yml");
    std::fs::write(
        &check,
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - tempfile: {path: /etc/drover-find}\n    - wait_for: {port: 2297, timeout: 1}\n",
    )
    .unwrap();
    let out = run_drover([
        "play",
        check.to_str().unwrap(),
        "-i",
        inventory.to_str().unwrap(),
        "--check",
    ]);
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("skipped=2"), "{}", out.stdout);
    assert_eq!(
        hosts
            .ssh_ok(0, "ls /etc/drover-find | grep -c ansible || true")
            .trim(),
        "0"
    );
    eprintln!("inspect modules test took {:?}", started.elapsed());
}

//! Faults on real hosts: a host that drops mid-run is UNREACHABLE while the others finish and a
//! re-run converges; SSH connection retries with backoff reach a host that comes back; a full
//! disk or a permission problem on the target fails the task with a clear message and leaves the
//! old file intact (copy, template, lineinfile).

use std::process::Stdio;
use std::time::{Duration, Instant};

use drover_integration::{drover_command, run_drover, DroverOutput, TestHosts, DEPLOY_USER};

fn play(args: &[&str]) -> DroverOutput {
    run_drover(std::iter::once("play").chain(args.iter().copied()))
}

/// `fatal:` lines of `host` (ignored or not), with their messages.
fn fatal_lines<'a>(out: &'a DroverOutput, host: &str) -> Vec<&'a str> {
    let prefix = format!("fatal: [{host}]");
    out.stdout
        .lines()
        .filter(|l| l.starts_with(&prefix))
        .collect()
}

#[test]
fn disk_full_and_permission_denied_fail_the_task_and_keep_the_old_file() {
    let hosts = TestHosts::start(1);
    let dir = hosts.dir();
    let name = &hosts.host(0).name;
    // A tiny filesystem, filled up, holding the file the tasks rewrite.
    hosts.ssh_ok(
        0,
        "mkdir -p /mnt/tiny && mount -t tmpfs -o size=256k tmpfs /mnt/tiny \
         && printf 'old\\n' > /mnt/tiny/app.conf \
         && (dd if=/dev/zero of=/mnt/tiny/fill bs=4k count=1000 2>/dev/null; true) \
         && printf 'old\\n' > /etc/app.conf && chmod 644 /etc/app.conf",
    );
    std::fs::write(dir.join("big.j2"), "{{ 'z' * 300000 }}\n").unwrap();
    let book = dir.join("faults.yml");
    std::fs::write(
        &book,
        r#"- hosts: web
  gather_facts: false
  tasks:
    - name: copy onto a full disk
      copy: {dest: /mnt/tiny/app.conf, content: "{{ 'x' * 300000 }}"}
      ignore_errors: true
    - name: template onto a full disk
      template: {src: big.j2, dest: /mnt/tiny/app.conf}
      ignore_errors: true
    - name: lineinfile onto a full disk
      lineinfile: {path: /mnt/tiny/app.conf, line: "{{ 'y' * 300000 }}"}
      ignore_errors: true
"#,
    )
    .unwrap();
    let inventory = dir.join("root.ini");
    hosts.write_inventory(&inventory, "web").expect("inventory");
    let full = play(&[book.to_str().unwrap(), "-i", inventory.to_str().unwrap()]);
    let fatal = fatal_lines(&full, name);
    assert_eq!(fatal.len(), 3, "{}\n{}", full.stdout, full.stderr);
    for line in &fatal {
        assert!(line.contains("No space left on device"), "{line}");
    }
    assert_eq!(hosts.ssh_ok(0, "cat /mnt/tiny/app.conf"), "old\n");
    // No temporary file left beside it.
    assert_eq!(hosts.ssh_ok(0, "ls -A /mnt/tiny"), "app.conf\nfill\n");

    let denied = dir.join("denied.yml");
    std::fs::write(
        &denied,
        r#"- hosts: web
  gather_facts: false
  tasks:
    - name: copy without permission
      copy: {dest: /etc/app.conf, content: "new\n"}
      ignore_errors: true
    - name: template without permission
      template: {src: big.j2, dest: /etc/app.conf}
      ignore_errors: true
    - name: lineinfile without permission
      lineinfile: {path: /etc/app.conf, line: new}
      ignore_errors: true
"#,
    )
    .unwrap();
    let as_deploy = dir.join("deploy.ini");
    hosts
        .write_inventory_as(&as_deploy, "web", DEPLOY_USER)
        .expect("inventory");
    let out = play(&[denied.to_str().unwrap(), "-i", as_deploy.to_str().unwrap()]);
    let fatal = fatal_lines(&out, name);
    assert_eq!(fatal.len(), 3, "{}\n{}", out.stdout, out.stderr);
    for line in &fatal {
        assert!(line.contains("Permission denied"), "{line}");
    }
    assert_eq!(hosts.ssh_ok(0, "cat /etc/app.conf"), "old\n");
    hosts.ssh_ok(0, "umount /mnt/tiny");
}

/// Waits until `done` holds, at most `limit`.
fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

/// Starts `drover play ARGS` in the background with extra environment variables.
fn spawn_play(args: &[&str], env: &[(&str, &str)]) -> std::process::Child {
    let mut command = drover_command();
    command.arg("play").args(args);
    for (k, v) in env {
        command.env(k, v);
    }
    command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("drover starts")
}

fn finish(child: std::process::Child) -> DroverOutput {
    let out = child.wait_with_output().expect("drover ends");
    DroverOutput {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn a_host_dropping_mid_run_is_unreachable_while_the_others_finish_and_a_rerun_converges() {
    let hosts = TestHosts::start(2);
    let dir = hosts.dir();
    let inventory = dir.join("hosts.ini");
    hosts.write_inventory(&inventory, "web").expect("inventory");
    // Dead connections are noticed after 1 s × 2 unanswered keepalives.
    let mut text = std::fs::read_to_string(&inventory).unwrap();
    text.push_str("\n[web:vars]\nansible_ssh_extra_args='-o ServerAliveInterval=1 -o ServerAliveCountMax=2'\n");
    std::fs::write(&inventory, text).unwrap();
    let book = dir.join("site.yml");
    std::fs::write(
        &book,
        r#"- hosts: web
  gather_facts: false
  tasks:
    - name: first
      copy: {dest: /root/first, content: "1\n"}
    - name: long
      command: sleep 8
      changed_when: false
    - name: last
      copy: {dest: /root/last, content: "done\n"}
"#,
    )
    .unwrap();
    let (inv, pb) = (inventory.to_str().unwrap(), book.to_str().unwrap());
    let (dropped, other) = (&hosts.host(0).name, &hosts.host(1).name);
    let child = spawn_play(&[pb, "-i", inv], &[]);
    assert!(
        wait_until(Duration::from_secs(60), || {
            hosts.ssh(0, "pgrep -x sleep").status.success()
        }),
        "the long task never started"
    );
    hosts.stop_host(0);
    let out = finish(child);
    assert_eq!(out.code, Some(4), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains(&format!("fatal: [{dropped}]: UNREACHABLE!")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&format!("changed: [{other}]")),
        "{}",
        out.stdout
    );
    assert_eq!(hosts.ssh_ok(1, "cat /root/last"), "done\n");

    hosts.start_host(0);
    // The dropped host kept the run's deploy lock; its holder is gone, so the next run refuses
    // at once (no waiting) and names the way out, which the operator takes.
    let refused = play(&[pb, "-i", inv]);
    assert!(!refused.success(), "{}\n{}", refused.stdout, refused.stderr);
    // The message as one line (the terminal report wraps it).
    let message = refused
        .stderr
        .replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        message.contains("looks stale")
            && message.contains(&format!("drover lock release --force {dropped}")),
        "{}",
        refused.stderr
    );
    let released = drover_command()
        .args(["lock", "release", "--force", dropped.as_str(), "-i", inv])
        .output()
        .expect("drover lock release");
    assert!(released.status.success(), "{released:?}");
    let rerun = play(&[pb, "-i", inv]);
    assert!(rerun.success(), "{}\n{}", rerun.stdout, rerun.stderr);
    for i in 0..2 {
        assert_eq!(hosts.ssh_ok(i, "cat /root/first /root/last"), "1\ndone\n");
    }
    let again = play(&[pb, "-i", inv]);
    assert!(again.success(), "{}\n{}", again.stdout, again.stderr);
    assert!(!again.stdout.contains("changed: ["), "{}", again.stdout);
}

#[test]
fn connection_retries_with_backoff_reach_a_host_that_comes_back() {
    let hosts = TestHosts::start(1);
    let dir = hosts.dir();
    let inventory = dir.join("hosts.ini");
    hosts.write_inventory(&inventory, "web").expect("inventory");
    let book = dir.join("site.yml");
    std::fs::write(
        &book,
        "- hosts: web\n  gather_facts: false\n  tasks:\n    - copy: {dest: /root/reached, content: reached}\n",
    )
    .unwrap();
    let (inv, pb) = (inventory.to_str().unwrap(), book.to_str().unwrap());
    hosts.stop_host(0);
    // Without retries the host is unreachable at once.
    let start = Instant::now();
    let out = play(&[pb, "-i", inv, "-T", "2"]);
    assert_eq!(out.code, Some(4), "{}\n{}", out.stdout, out.stderr);
    let single = start.elapsed();
    // With retries (1 s, 2 s, 4 s, … apart) drover keeps trying while the host boots.
    let child = spawn_play(
        &[pb, "-i", inv, "-T", "2"],
        &[
            ("ANSIBLE_SSH_RETRIES", "6"),
            ("DROVER_SSH_RETRY_BACKOFF", "1"),
        ],
    );
    std::thread::sleep(Duration::from_secs(2));
    hosts.start_host(0);
    let out = finish(child);
    assert!(out.success(), "{}\n{}", out.stdout, out.stderr);
    assert_eq!(hosts.ssh_ok(0, "cat /root/reached"), "reached");
    assert!(single < Duration::from_secs(20), "{single:?}");
}

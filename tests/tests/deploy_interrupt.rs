//! Ctrl-C on `drover play` against a real host: SIGINT during a long command and during the
//! upload of a large file ends the run with exit 99, the recap and the `--summary` (marking no
//! host finished), the remote command is gone, `--resume` of that summary then finishes the run,
//! no partial file is left (neither the destination nor a temporary file), the deploy lock is
//! released; SIGINT while waiting for a held lock stops the wait (exit 99, nothing ran, the
//! holder's lock kept); a second SIGINT exits at once with 130.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use drover_integration::{drover_command_default_locks, DroverOutput, TestHosts};

const LOCK: &str = "/var/lib/drover/locks/host.lock";

fn start(hosts: &TestHosts, name: &str, yaml: &str, extra: &[&str]) -> Child {
    let inventory = hosts.dir().join("hosts.ini");
    if !inventory.exists() {
        hosts
            .write_inventory(&inventory, "targets")
            .expect("inventory");
    }
    let playbook = hosts.dir().join(name);
    std::fs::write(&playbook, yaml).expect("playbook");
    drover_command_default_locks()
        .current_dir(hosts.dir())
        .arg("play")
        .arg(&playbook)
        .arg("-i")
        .arg(&inventory)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start drover")
}

fn sigint(child: &Child) {
    let ok = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill")
        .success();
    assert!(ok, "kill -INT failed");
}

fn finish(child: Child) -> (DroverOutput, Duration) {
    let begun = Instant::now();
    let out = child.wait_with_output().expect("wait for drover");
    (
        DroverOutput {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        },
        begun.elapsed(),
    )
}

/// Polls `command` on host 0 until its output is non-empty (or panics after 60 s).
fn wait_on_host(hosts: &TestHosts, command: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = hosts.ssh_ok(0, &format!("{command} || true"));
        if !out.trim().is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "never saw {what} on the host");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn assert_interrupted_cleanly(out: &DroverOutput) {
    assert_eq!(out.code, Some(99), "{out:#?}");
    assert!(
        out.stdout.contains("PLAY RECAP"),
        "no recap: {}",
        out.stdout
    );
    assert!(
        out.stderr.contains("User interrupted execution"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stdout.contains("never runs"),
        "a task started after the interrupt"
    );
}

const SLEEP_PLAY: &str = r#"
- hosts: targets
  gather_facts: false
  tasks:
    - name: long
      command: "sleep {{ (long | default(61)) if inventory_hostname == groups['targets'][0] else 0 }}"
    - name: never runs
      command: touch /root/after-interrupt
"#;

#[test]
fn sigint_stops_a_long_command_and_releases_the_lock() {
    // Host 1's task ends at once: it is waiting for host 0 when the run is interrupted.
    let hosts = TestHosts::start(2);
    let summary = hosts.dir().join("summary.json");
    let summary_arg = summary.display().to_string();
    let child = start(
        &hosts,
        "sleep.yml",
        SLEEP_PLAY,
        &["--summary", &summary_arg],
    );
    wait_on_host(&hosts, "pgrep -f 'slee[p] 61'", "the remote sleep");
    wait_on_host(&hosts, &format!("ls {LOCK}/info 2>/dev/null"), "the lock");
    std::thread::sleep(Duration::from_secs(1));
    sigint(&child);
    let (out, took) = finish(child);
    assert_interrupted_cleanly(&out);
    assert!(took < Duration::from_secs(30), "took {took:?} to stop");
    let left = hosts.ssh_ok(0, "pgrep -a -f 'slee[p] 61' || true");
    assert_eq!(left.trim(), "", "the remote command still runs");
    let lock = hosts.ssh_ok(0, &format!("ls -d {LOCK} 2>/dev/null || true"));
    assert_eq!(lock.trim(), "", "the lock was not released");
    let after = hosts.ssh_ok(0, "ls /root/after-interrupt 2>/dev/null || true");
    assert_eq!(after.trim(), "");
    // The summary is written and marks the run interrupted, no host finished: not even host 1,
    // whose only started task had ended.
    let h1_done = format!("changed: [{}]", hosts.host(1).name);
    assert!(
        out.stdout.contains(&h1_done),
        "host 1's task had not ended: {}",
        out.stdout
    );
    let text = std::fs::read_to_string(&summary).expect("the summary was not written");
    let record: serde_json::Value = serde_json::from_str(&text).expect("summary JSON");
    assert_eq!(record["interrupted"], true, "{text}");
    for host in hosts.hosts() {
        assert_eq!(record["hosts"][&host.name]["end"], "stopped", "{text}");
    }
    let lock = hosts.ssh_ok(1, &format!("ls -d {LOCK} 2>/dev/null || true"));
    assert_eq!(lock.trim(), "", "the lock of host 1 was not released");

    // --resume finishes the interrupted run: each host from its stopped task (host 0's is
    // shortened), ending as an uninterrupted run ends: the last task ran on both hosts.
    let resumed = start(
        &hosts,
        "sleep.yml",
        SLEEP_PLAY,
        &["--resume", &summary_arg, "-e", "long=1"],
    );
    let (out, _) = finish(resumed);
    assert_eq!(out.code, Some(0), "{out:#?}");
    for i in 0..2 {
        let after = hosts.ssh_ok(i, "ls /root/after-interrupt 2>/dev/null || true");
        assert_eq!(after.trim(), "/root/after-interrupt", "host {i}: {out:#?}");
    }
}

#[test]
fn sigint_during_a_large_copy_leaves_no_partial_file() {
    let hosts = TestHosts::start(1);
    // Incompressible, large enough to take a few seconds to upload.
    let big = hosts.dir().join("big.bin");
    let ok = Command::new("head")
        .args(["-c", "400M", "/dev/urandom"])
        .stdout(std::fs::File::create(&big).expect("big file"))
        .status()
        .expect("head")
        .success();
    assert!(ok);
    let yaml = format!(
        r#"
- hosts: targets
  gather_facts: false
  tasks:
    - name: upload
      copy:
        src: {}
        dest: /srv/big.bin
    - name: never runs
      command: touch /root/after-interrupt
"#,
        big.display()
    );
    let child = start(&hosts, "copy.yml", &yaml, &[]);
    wait_on_host(
        &hosts,
        "find /srv -maxdepth 1 -name '.*drover-tmp*' -size +1M",
        "the upload's temporary file",
    );
    sigint(&child);
    let (out, _) = finish(child);
    assert_interrupted_cleanly(&out);
    // The clean-up ran before drover exited.
    let left = hosts.ssh_ok(0, "ls -A /srv");
    assert_eq!(left.trim(), "", "files left in /srv after the interrupt");
    let lock = hosts.ssh_ok(0, &format!("ls -d {LOCK} 2>/dev/null || true"));
    assert_eq!(lock.trim(), "", "the lock was not released");
}

#[test]
fn a_second_sigint_exits_at_once() {
    let hosts = TestHosts::start(1);
    // A play whose clean stop would take long: the abandoned command ignores SIGTERM.
    let yaml = r#"
- hosts: targets
  gather_facts: false
  tasks:
    - name: stubborn
      shell: "trap '' TERM; sleep 62"
"#;
    let child = start(&hosts, "stubborn.yml", yaml, &["--no-lock"]);
    wait_on_host(&hosts, "pgrep -f 'slee[p] 62'", "the remote sleep");
    sigint(&child);
    std::thread::sleep(Duration::from_millis(300));
    sigint(&child);
    let (out, took) = finish(child);
    assert_eq!(out.code, Some(130), "{out:#?}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    hosts.ssh_ok(0, "pkill -f 'slee[p] 62' || true");
}

#[test]
fn sigint_while_waiting_for_a_lock_runs_nothing() {
    let hosts = TestHosts::start(1);
    let inventory = hosts.dir().join("hosts.ini");
    hosts
        .write_inventory(&inventory, "targets")
        .expect("inventory");
    let held = drover_command_default_locks()
        .current_dir(hosts.dir())
        .args(["lock", "acquire", "targets", "--lock-owner", "alice", "-i"])
        .arg(&inventory)
        .output()
        .expect("drover lock acquire");
    assert!(held.status.success(), "{held:?}");
    let child = start(
        &hosts,
        "waits.yml",
        SLEEP_PLAY,
        &["--lock-wait", "10m", "--lock-owner", "bob"],
    );
    std::thread::sleep(Duration::from_secs(3));
    assert!(child_running(&child), "drover did not wait for the lock");
    sigint(&child);
    let (out, took) = finish(child);
    assert_eq!(out.code, Some(99), "{out:#?}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert!(!out.stdout.contains("TASK ["), "a task ran: {}", out.stdout);
    assert!(out.stderr.contains("interrupted"), "{}", out.stderr);
    let info = hosts.ssh_ok(0, &format!("cat {LOCK}/info"));
    assert!(info.contains("owner=alice"), "alice's lock is gone: {info}");
}

/// True while `child` has not exited (its /proc entry is not a zombie).
fn child_running(child: &Child) -> bool {
    std::fs::read_to_string(format!("/proc/{}/stat", child.id()))
        .is_ok_and(|stat| !stat.contains(") Z "))
}

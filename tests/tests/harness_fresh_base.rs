//! The harness as a machine that has never run it sees it, in every test run: this binary gives
//! itself a throwaway `DROVER_TEST_CACHE`/`DROVER_TEST_STATE`, so `setup.sh` builds the base rootfs
//! from nothing (mmdebstrap), makes a new harness key, and starts a host from that just-built base.
//! A cached base hides what only a fresh one has — package lists that are empty but modified minutes
//! ago, host keys generated at the first boot of every clone — and once hid three failures from CI.

use std::path::PathBuf;
use std::process::Command;

use drover_integration::{harness_dir, TestHosts};

/// Removes the throwaway harness installation when the test ends, also on panic (after the hosts,
/// which are declared later and so dropped first).
struct Throwaway(PathBuf);

impl Drop for Throwaway {
    fn drop(&mut self) {
        let status = Command::new("bash")
            .arg(harness_dir().join("remove-state.sh"))
            .status();
        if !matches!(status, Ok(s) if s.success()) {
            eprintln!("removing {} failed: {status:?}", self.0.display());
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_just_built_base_gets_packages_without_an_explicit_cache_update() {
    let root = tempfile::Builder::new()
        .prefix("drover-test-fresh-base-")
        .tempdir_in("/var/tmp")
        .expect("temporary directory")
        .keep();
    // SAFETY: this binary holds this one test and sets the variables before any other thread
    // exists; the harness scripts and the Rust harness read them from here on.
    unsafe {
        std::env::set_var("DROVER_TEST_CACHE", root.join("cache"));
        std::env::set_var("DROVER_TEST_STATE", root.join("state"));
    }
    let _throwaway = Throwaway(root.clone());

    let started = std::time::Instant::now();
    let hosts = TestHosts::start(2);
    eprintln!(
        "fresh harness (base built from nothing, 2 hosts) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        root.join("cache").join("id_ed25519").exists(),
        "the harness key was not made in the throwaway cache"
    );

    // What a just-built base looks like: no package lists, and a lists directory modified minutes
    // ago (so `cache_valid_time` alone would not update it).
    let lists = hosts.ssh_ok(
        0,
        "ls /var/lib/apt/lists | grep -c _Packages; echo $(( $(date +%s) - $(stat -c %Y /var/lib/apt/lists) ))",
    );
    let mut lines = lists.lines();
    assert_eq!(lines.next(), Some("0"), "{lists}");
    let age: u64 = lines
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(u64::MAX);
    assert!(age < 3600, "lists directory is {age} s old");

    // Each clone made its own host keys at its first boot; all four are distinct and complete.
    let mut keys: Vec<String> = hosts
        .hosts()
        .iter()
        .flat_map(|h| h.host_keys.iter().filter_map(|l| l.split(' ').nth(2)))
        .map(str::to_owned)
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 4, "{:?}", hosts.hosts());

    // The first tasks of countless roles: packages by name, with and without cache_valid_time.
    let book = "- hosts: fresh
  tasks:
    - name: by name
      apt: {name: hello}
    - name: via package
      package: {name: [hello, less], state: present}
      register: second
    - name: valid time
      apt: {name: netbase, cache_valid_time: 3600}
";
    let run = hosts.play("fresh", "fresh.yml", book, &[]);
    assert!(run.success(), "{}{}", run.stdout, run.stderr);
    for index in 0..hosts.len() {
        assert!(hosts.ssh_ok(index, "hello").contains("Hello, world!"));
        hosts.ssh_ok(index, "test -e /etc/services");
    }
    let again = hosts.play("fresh", "fresh.yml", book, &[]);
    assert!(again.success(), "{}{}", again.stdout, again.stderr);
    for host in hosts.hosts() {
        let recap = again
            .stdout
            .lines()
            .rfind(|l| l.starts_with(&format!("{} ", host.name)))
            .unwrap_or_default();
        assert!(
            recap.contains("changed=0") && recap.contains("failed=0"),
            "{}",
            again.stdout
        );
    }
}

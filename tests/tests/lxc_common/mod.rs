//! A private LXC lab for the `lxc_container` tests: an lxcpath of its own
//! (`/tmp/drover-lxc-test-*`, with the test process's pid in `owner.pid` so
//! `tests/harness/cleanup.sh` can tell a leak), a small busybox source container to clone from,
//! and a Drop guard that destroys every container in it, even on panic.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use drover_integration::{require_root_and_setup, run_drover, DroverOutput};
use serde_json::Value;

/// The network config of test containers: a veth whose host end is attached to nothing, with a
/// documentation-range address, so containers have an interface and an IP but no traffic
/// leaves them.
pub const NET_CONF: &str = "lxc.net.0.type = veth\nlxc.net.0.flags = up\n\
lxc.net.0.ipv4.address = 192.0.2.10/24\nlxc.apparmor.profile = unconfined\n";

/// busybox's init script without `udhcpc` (nothing answers DHCP on the unattached veth, and
/// the client would replace the static address).
pub const RCS: &str = "#!/bin/sh\n/bin/mount -a\n";

/// Runs a command, returning (success, stdout+stderr).
pub fn sh(cmd: &str) -> (bool, String) {
    let out = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .output()
        .expect("run sh");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// Runs a command that must succeed; returns its stdout+stderr.
pub fn sh_ok(cmd: &str) -> String {
    let (ok, text) = sh(cmd);
    assert!(ok, "{cmd}: {text}");
    text
}

/// Stops and destroys every container of `lxcpath` (clones before their sources).
pub fn destroy_all(lxcpath: &Path) {
    let p = lxcpath.display();
    for _ in 0..4 {
        let (_, names) = sh(&format!("lxc-ls -P '{p}' -1 2>/dev/null"));
        let names: Vec<&str> = names.split_whitespace().collect();
        if names.is_empty() {
            break;
        }
        for n in &names {
            sh(&format!(
                "lxc-unfreeze -P '{p}' -n '{n}' >/dev/null 2>&1; lxc-stop -k -P '{p}' -n '{n}' >/dev/null 2>&1; \
                 lxc-destroy -P '{p}' -n '{n}' >/dev/null 2>&1"
            ));
        }
    }
}

/// A private lxcpath, destroyed with its containers on drop.
pub struct Lab {
    dir: tempfile::TempDir,
}

impl Lab {
    /// A fresh lab (after the harness setup, which installs busybox-static and python3-lxc).
    pub fn new() -> Lab {
        require_root_and_setup();
        let dir = tempfile::Builder::new()
            .prefix("drover-lxc-test-")
            .tempdir_in("/tmp")
            .expect("lab dir");
        std::fs::write(dir.path().join("owner.pid"), std::process::id().to_string())
            .expect("owner.pid");
        std::fs::write(dir.path().join("net.conf"), NET_CONF).expect("net.conf");
        Lab { dir }
    }

    /// The lxcpath.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The lxcpath as a string.
    pub fn p(&self) -> String {
        self.dir.path().display().to_string()
    }

    /// The network config file (for `config:` and `lxc-create -f`).
    pub fn net_conf(&self) -> PathBuf {
        self.dir.path().join("net.conf")
    }

    /// Creates a busybox container `name` (stopped) to clone from.
    pub fn busybox(&self, name: &str) {
        sh_ok(&format!(
            "lxc-create -P '{}' -n '{name}' -t busybox -f '{}' >/dev/null",
            self.p(),
            self.net_conf().display()
        ));
        std::fs::write(self.rootfs(name).join("etc/init.d/rcS"), RCS).expect("rcS");
    }

    /// The container's rootfs directory (of a dir-backed container).
    pub fn rootfs(&self, name: &str) -> PathBuf {
        self.dir.path().join(name).join("rootfs")
    }

    /// The container's config file text ("" when absent).
    pub fn config(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name).join("config")).unwrap_or_default()
    }

    /// `lxc-info -s`: RUNNING, STOPPED, FROZEN, or "absent".
    pub fn state(&self, name: &str) -> String {
        if !self.dir.path().join(name).join("config").exists() {
            return "absent".into();
        }
        let (_, out) = sh(&format!("lxc-info -P '{}' -n '{name}' -s -H", self.p()));
        out.trim().to_string()
    }

    /// The init PID (-1 when not running).
    pub fn pid(&self, name: &str) -> i64 {
        let (_, out) = sh(&format!("lxc-info -P '{}' -n '{name}' -p -H", self.p()));
        out.trim().parse().unwrap_or(-1)
    }

    /// Writes a playbook with these tasks (LP is replaced by the lxcpath) and runs drover on it.
    pub fn play(&self, tasks: &str, extra: &[&str]) -> DroverOutput {
        let mut args = vec!["-i", "localhost,", "-c", "local"];
        args.extend_from_slice(extra);
        self.play_with(tasks, &args)
    }

    /// Like [`Lab::play`], with drover's options (inventory, connection) given by the caller.
    pub fn play_with(&self, tasks: &str, options: &[&str]) -> DroverOutput {
        let book = self.dir.path().join("book.yml");
        let yaml = format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n{}",
            tasks.replace("LP", &self.p())
        );
        std::fs::write(&book, yaml).expect("book");
        let mut args = vec!["play".to_string(), book.display().to_string()];
        args.extend(options.iter().map(|s| s.to_string()));
        run_drover(args)
    }

    /// [`Lab::play`] that must succeed; returns the changed count.
    pub fn play_ok(&self, tasks: &str, extra: &[&str]) -> u32 {
        let out = self.play(tasks, extra);
        out.assert_success();
        out.changed()
    }

    /// The registered result a task saved with [`save`].
    pub fn saved(&self, key: &str) -> Value {
        let text = std::fs::read_to_string(self.dir.path().join(format!("{key}.json")))
            .unwrap_or_else(|e| panic!("result {key}: {e}"));
        serde_json::from_str(&text).expect("result json")
    }
}

/// A task saving the registered variable `key` to LP/key.json (never counted as a change, run
/// in check mode too).
pub fn save(key: &str) -> String {
    format!(
        "    - copy:\n        content: \"{{{{ {key} | to_json }}}}\"\n        dest: LP/{key}.json\n      \
         changed_when: false\n      check_mode: false\n"
    )
}

impl Drop for Lab {
    fn drop(&mut self) {
        destroy_all(self.dir.path());
        // LXC's lock directory for this lxcpath.
        let _ = std::fs::remove_dir_all(format!("/run/lxc/lock{}", self.dir.path().display()));
    }
}

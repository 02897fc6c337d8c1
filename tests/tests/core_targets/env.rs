//! Hosts and working directories prepared as ansible-test prepares them, the two tools' runs
//! (with a timeout), and a cache of ansible-core's results.
//!
//! ansible-test runs a target as a role in a generated play (`hosts: testhost`, facts gathered,
//! `output_dir` set, the targets directory as the roles path), mostly with the controller as
//! the target. Here the target is a remote harness host, so what the targets assume of
//! controller == target is provided explicitly: `output_dir` is one directory both see (see
//! [`SharedOutputDir`]), the targets tree sits at the same path on the host (tasks `stat`
//! `{{ role_path }}/files/…` there), and `ansible-playbook` on the controller's PATH is the tool
//! under test (`copy` runs it on localhost to check `no_log`).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use drover_integration::{
    cache_dir, drover_bin, oracle_ansible_playbook, repo_root, state_dir, TestHosts, ROOT_USER,
};

/// Packages ansible-test's test environments have and the targets assume (`stat` asserts a
/// mimetype, which needs `file`; `lineinfile` runs `setfacl`), installed on both tools' hosts.
pub const TEST_PACKAGES: &str = "file acl";

/// Settings for both tools (pipelining only makes ansible-core faster).
const ANSIBLE_CFG: &str =
    "[defaults]\nretry_files_enabled = False\n[ssh_connection]\npipelining = True\n";

/// Bump when the way hosts or working directories are prepared changes: it is part of the key of
/// the cached ansible-core results.
const RECIPE_VERSION: &str = "1";

/// The two tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// ansible-core (the oracle).
    Ansible,
    /// drover.
    Drover,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Ansible => "ansible",
            Tool::Drover => "drover",
        }
    }
}

/// Prepares host `index` like an ansible-test host: /tmp on a tmpfs as in ansible-test's
/// containers (on the overlay's ext4 upper dir files carry the `e` attribute, which nothing can
/// clear, and `file`'s attribute tests fail under ansible-core itself), and the packages
/// (python3 too for ansible-core).
pub fn prepare_host(hosts: &TestHosts, index: usize, tool: Tool) {
    let python = if tool == Tool::Ansible {
        "python3 "
    } else {
        ""
    };
    hosts.ssh_ok(
        index,
        &format!(
            "mount -t tmpfs -o mode=1777 tmpfs /tmp && apt-get update -qq && \
             DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
             {python}{TEST_PACKAGES} >/dev/null"
        ),
    );
}

/// The inventory of host `index`, named `target`. `ansible_python_interpreter` is set as
/// ansible-test's inventory sets it (`command_shell` runs it); drover's host has no python.
fn inventory(hosts: &TestHosts, index: usize) -> String {
    let text = hosts.inventory_text("testgroup", ROOT_USER);
    let vars = text
        .lines()
        .nth(index + 1)
        .and_then(|l| l.split_once(' '))
        .map(|(_, vars)| vars.to_string())
        .expect("inventory line with host vars");
    format!("[testgroup]\ntarget {vars} ansible_python_interpreter=/usr/bin/python3\n")
}

/// The directory on the controller where host `index`'s overlay keeps the files it writes.
fn overlay_upper(hosts: &TestHosts, index: usize) -> PathBuf {
    let name = &hosts.host(index).name;
    let config = std::fs::read_to_string(state_dir().join("lxc").join(name).join("config"))
        .expect("the host's LXC config");
    config
        .lines()
        .filter_map(|l| l.split_once('='))
        .find(|(k, _)| k.trim() == "lxc.rootfs.path")
        .and_then(|(_, v)| v.trim().rsplit(':').next().map(PathBuf::from))
        .expect("lxc.rootfs.path of an overlay clone")
}

/// `output_dir` as ansible-test provides it: one directory that the controller and the target
/// both see (`template`, a controller-context target, writes files on the target and reads them
/// with `lookup('file')`). It is a directory on the target under /var/tmp, and the same path on
/// the controller is a symlink to where the target's overlay stores it. Removed on drop.
pub struct SharedOutputDir {
    /// The path on both sides.
    pub path: PathBuf,
}

impl SharedOutputDir {
    fn new(hosts: &TestHosts, index: usize) -> Self {
        let path = PathBuf::from(format!(
            "/var/tmp/drover-core-targets-{}",
            hosts.host(index).name
        ));
        hosts.ssh_ok(index, &format!("mkdir -p '{}'", path.display()));
        let inside = overlay_upper(hosts, index).join(path.strip_prefix("/").expect("absolute"));
        assert!(
            inside.is_dir(),
            "{} is not in the overlay",
            inside.display()
        );
        let _ = std::fs::remove_file(&path);
        std::os::unix::fs::symlink(&inside, &path).expect("output_dir symlink");
        Self { path }
    }
}

impl Drop for SharedOutputDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A tool's working directory for one target: a private copy of the targets (some tasks write
/// into `role_path`), the inventory, the play, `ansible.cfg`, a `bin/` put first on PATH, and
/// `output_dir`.
pub struct Workdir {
    /// The directory (the runs' working directory and HOME).
    pub dir: PathBuf,
    /// The roles path: the copy of the targets.
    pub roles: PathBuf,
    /// `output_dir`.
    pub output_dir: SharedOutputDir,
    tool: Tool,
}

/// The play ansible-test generates for a target (commands/integration:
/// command_integration_role), with `extra` play keywords.
fn play_text(target: &str, output_dir: &Path, extra: &str) -> String {
    format!(
        "- hosts: target\n  gather_facts: true\n{extra}  vars:\n    output_dir: {}\n  roles:\n    - {target}\n",
        output_dir.display()
    )
}

/// Prepares `tool`'s working directory for `target` on host `index`; `extra_play` adds play
/// keywords (indented by two spaces, one per line).
pub fn prepare_workdir(
    hosts: &TestHosts,
    targets: &Path,
    tool: Tool,
    target: &str,
    index: usize,
    extra_play: &str,
) -> Workdir {
    let dir = hosts.dir().join(format!("{}-{target}", tool.name()));
    let roles = dir.join("targets");
    std::fs::create_dir_all(dir.join("bin")).expect("work dir");
    let status = Command::new("cp")
        .arg("-a")
        .arg(targets)
        .arg(&roles)
        .status()
        .expect("cp");
    assert!(status.success(), "copy the targets");
    copy_tree_to_host(hosts, index, &roles);
    let output_dir = SharedOutputDir::new(hosts, index);
    std::fs::write(dir.join("inventory.ini"), inventory(hosts, index)).expect("inventory");
    std::fs::write(
        dir.join("play.yml"),
        play_text(target, &output_dir.path, extra_play),
    )
    .expect("play");
    std::fs::write(dir.join("ansible.cfg"), ANSIBLE_CFG).expect("ansible.cfg");
    let shim = dir.join("bin/ansible-playbook");
    match tool {
        Tool::Ansible => std::os::unix::fs::symlink(oracle_ansible_playbook(), &shim),
        Tool::Drover => std::fs::write(
            &shim,
            format!("#!/bin/sh\nexec '{}' play \"$@\"\n", drover_bin().display()),
        )
        .and_then(|()| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755))
        }),
    }
    .expect("ansible-playbook on PATH");
    Workdir {
        dir,
        roles,
        output_dir,
        tool,
    }
}

/// Puts the controller's directory `path` at the same path on host `index`.
fn copy_tree_to_host(hosts: &TestHosts, index: usize, path: &Path) {
    let parent = path.parent().expect("a parent");
    let tar = Command::new("tar")
        .arg("-C")
        .arg(parent)
        .arg("-cf")
        .arg("-")
        .arg(path.file_name().expect("a name"))
        .output()
        .expect("tar");
    assert!(tar.status.success(), "tar {}", path.display());
    let mut child = Command::new("ssh")
        .args(hosts.ssh_options())
        .arg(format!("root@{}", hosts.host(index).ip))
        .arg(format!(
            "mkdir -p '{0}' && tar -C '{0}' -xf -",
            parent.display()
        ))
        .stdin(Stdio::piped())
        .spawn()
        .expect("ssh");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&tar.stdout)
        .expect("send the targets");
    assert!(child.wait().expect("ssh").success(), "untar on the host");
}

/// A finished (or killed) process.
#[derive(Debug)]
pub struct Finished {
    /// Exit code (None when killed).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Killed after the timeout.
    pub timed_out: bool,
    /// Wall time.
    pub elapsed: Duration,
}

/// Runs the play of `work` with its tool, killed (with everything it started) after `timeout`.
pub fn run_tool(work: &Workdir, timeout: Duration) -> Finished {
    let path = format!(
        "{}:{}",
        work.dir.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut command = match work.tool {
        Tool::Ansible => {
            let mut c = Command::new(oracle_ansible_playbook());
            c.args(["play.yml", "-i", "inventory.ini"])
                .env(
                    "ANSIBLE_CALLBACK_PLUGINS",
                    repo_root().join("tests/oracle/callback_plugins"),
                )
                .env("ANSIBLE_STDOUT_CALLBACK", "drover_oracle")
                .env("ANSIBLE_NOCOLOR", "1")
                .env("ANSIBLE_DEPRECATION_WARNINGS", "false");
            c
        }
        Tool::Drover => {
            let mut c = Command::new(drover_bin());
            c.args([
                "play",
                "play.yml",
                "-i",
                "inventory.ini",
                "--output",
                "json",
            ])
            .env("DROVER_NO_PROGRESS", "1");
            c
        }
    };
    command
        .current_dir(&work.dir)
        .env("PATH", path)
        .env("ANSIBLE_CONFIG", work.dir.join("ansible.cfg"))
        .env("HOME", &work.dir)
        .env("ANSIBLE_ROLES_PATH", &work.roles)
        .env("OUTPUT_DIR", &work.output_dir.path);
    run_with_timeout(command, timeout, &work.dir, work.tool.name())
}

/// Runs `command` in its own process group, killing the whole group after `timeout`. Output goes
/// to files under `dir` (named after `label`), so a full pipe never blocks it.
fn run_with_timeout(mut command: Command, timeout: Duration, dir: &Path, label: &str) -> Finished {
    use std::os::unix::process::CommandExt;
    let out_path = dir.join(format!("{label}.stdout"));
    let err_path = dir.join(format!("{label}.stderr"));
    let out = std::fs::File::create(&out_path).expect("stdout file");
    let err = std::fs::File::create(&err_path).expect("stderr file");
    let start = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {label}: {e}"));
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if start.elapsed() > timeout {
            timed_out = true;
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let read = |p: &Path| {
        let mut s = Vec::new();
        let _ = std::fs::File::open(p).and_then(|mut f| f.read_to_end(&mut s));
        String::from_utf8_lossy(&s).into_owned()
    };
    Finished {
        code: status.and_then(|s| s.code()),
        stdout: read(&out_path),
        stderr: read(&err_path),
        timed_out,
        elapsed: start.elapsed(),
    }
}

/// ansible-core's results, cached in the harness cache under a key made of everything that
/// shapes them: ansible-core's version, the sdist, the oracle callback and this preparation
/// recipe. `DROVER_CORE_TARGETS_FRESH=1` ignores the cache.
pub struct OracleCache {
    dir: PathBuf,
}

impl OracleCache {
    /// The cache for the sdist the targets came from (`targets` is fetch.sh's output).
    pub fn new(targets: &Path) -> Self {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        targets.hash(&mut h);
        std::fs::read(repo_root().join("tests/oracle/callback_plugins/drover_oracle.py"))
            .expect("the oracle callback")
            .hash(&mut h);
        (
            RECIPE_VERSION,
            TEST_PACKAGES,
            ANSIBLE_CFG,
            play_text("T", Path::new("/O"), ""),
        )
            .hash(&mut h);
        Self {
            dir: cache_dir()
                .join("core-targets-oracle")
                .join(format!("{:016x}", h.finish())),
        }
    }

    /// The cached output and run time of `target`, unless `DROVER_CORE_TARGETS_FRESH` is set.
    pub fn get(&self, target: &str) -> Option<(String, f64)> {
        if std::env::var_os("DROVER_CORE_TARGETS_FRESH").is_some_and(|v| v != "0") {
            return None;
        }
        let out = std::fs::read_to_string(self.dir.join(format!("{target}.jsonl"))).ok()?;
        let secs = std::fs::read_to_string(self.dir.join(format!("{target}.secs")))
            .ok()?
            .trim()
            .parse()
            .ok()?;
        Some((out, secs))
    }

    /// Stores a complete run (one that reached its recap).
    pub fn put(&self, target: &str, run: &Finished) {
        if run.timed_out || !run.stdout.contains("\"recap\"") {
            return;
        }
        let _ = std::fs::create_dir_all(&self.dir);
        let tmp = self.dir.join(format!("{target}.jsonl.tmp"));
        if std::fs::write(&tmp, &run.stdout).is_ok() {
            let _ = std::fs::write(
                self.dir.join(format!("{target}.secs")),
                format!("{:.1}", run.elapsed.as_secs_f64()),
            );
            let _ = std::fs::rename(&tmp, self.dir.join(format!("{target}.jsonl")));
        }
    }
}

//! `TestHosts`: a set of fresh Debian 12 containers for one test, torn down on drop.

use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::thread;

use tempfile::TempDir;

use crate::lease::{self, Lease};
use crate::setup::{run_script, try_require_root_and_setup};
use crate::HarnessError;

/// The superuser account on every test host (key login allowed).
pub const ROOT_USER: &str = "root";
/// An unprivileged account on every test host with passwordless `sudo` and the same key.
pub const DEPLOY_USER: &str = "deploy";

/// One running test host.
#[derive(Debug, Clone)]
pub struct TestHost {
    /// Inventory and container name, also the host's hostname (`drvt-<n>`).
    pub name: String,
    /// Address on the harness bridge (10.77.0.n).
    pub ip: Ipv4Addr,
    /// The host's keys as known_hosts lines (`<ip> <type> <base64>`), from ssh-keyscan.
    pub host_keys: Vec<String>,
}

/// Fresh test hosts for one test. Dropping it (also while unwinding from a panic) stops and destroys
/// the containers and frees their names/IPs.
#[derive(Debug)]
pub struct TestHosts {
    hosts: Vec<TestHost>,
    leases: Vec<Lease>,
    dir: TempDir,
    known_hosts: PathBuf,
    private_key: PathBuf,
}

impl TestHosts {
    /// Writes `yaml` as the playbook `name` in [`TestHosts::dir`] and runs `drover play` on it
    /// with `extra` arguments, against `hosts.ini` there (written on first use, with these hosts
    /// in `group`).
    pub fn play(&self, group: &str, name: &str, yaml: &str, extra: &[&str]) -> crate::DroverOutput {
        let inventory = self.dir().join("hosts.ini");
        if !inventory.exists() {
            self.write_inventory(&inventory, group)
                .expect("write inventory");
        }
        self.play_with_inventory(&inventory, name, yaml, extra)
    }

    /// Like [`TestHosts::play`], with an inventory the test wrote itself (e.g. one logging in as `deploy`).
    pub fn play_with_inventory(
        &self,
        inventory: &Path,
        name: &str,
        yaml: &str,
        extra: &[&str],
    ) -> crate::DroverOutput {
        let path = self.dir().join(name);
        std::fs::write(&path, yaml).expect("write playbook");
        let mut args = vec![
            "play".to_string(),
            path.display().to_string(),
            "-i".to_string(),
            inventory.display().to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        crate::run_drover(args)
    }

    /// Starts `count` hosts in parallel (running the machine setup first if this process has not);
    /// panics with the harness's output if that fails.
    pub fn start(count: usize) -> TestHosts {
        match TestHosts::try_start(count) {
            Ok(hosts) => hosts,
            Err(error) => panic!("starting {count} test hosts failed: {error}"),
        }
    }

    /// Like [`TestHosts::start`], returning the error instead of panicking.
    pub fn try_start(count: usize) -> Result<TestHosts, HarnessError> {
        try_require_root_and_setup()?;
        let dir = tempfile::Builder::new()
            .prefix("drover-test-")
            .tempdir()
            .map_err(HarnessError::io("creating the test's temporary directory"))?;
        let leases = lease::acquire(count)?;
        let results: Vec<Result<String, HarnessError>> = thread::scope(|scope| {
            let handles: Vec<_> = leases
                .iter()
                .map(|lease| {
                    let (name, ip) = (lease.name(), lease.ip().to_string());
                    scope.spawn(move || run_script("host.sh", &["up", &name, &ip]))
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| handle.join().unwrap_or_else(|_| Ok(String::new())))
                .collect()
        });
        let mut hosts = Vec::with_capacity(count);
        let mut first_error = None;
        for (lease, result) in leases.iter().zip(results) {
            match result {
                Ok(keys) => hosts.push(TestHost {
                    name: lease.name(),
                    ip: lease.ip(),
                    host_keys: keys.lines().map(str::to_owned).collect(),
                }),
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        let known_hosts = dir.path().join("known_hosts");
        let private_key = crate::setup::state_key_path();
        let test_hosts = TestHosts {
            hosts,
            leases,
            dir,
            known_hosts,
            private_key,
        };
        if let Some(error) = first_error {
            return Err(error); // dropping `test_hosts` destroys what did start
        }
        test_hosts.write_known_hosts()?;
        Ok(test_hosts)
    }

    fn write_known_hosts(&self) -> Result<(), HarnessError> {
        let mut text = String::new();
        for host in &self.hosts {
            if host.host_keys.is_empty() {
                return Err(HarnessError::Io {
                    context: format!("{}: ssh-keyscan returned no host keys", host.name),
                    source: std::io::Error::other("empty keyscan"),
                });
            }
            for line in &host.host_keys {
                let _ = writeln!(text, "{line}");
            }
        }
        std::fs::write(&self.known_hosts, text).map_err(HarnessError::io(format!(
            "writing {}",
            self.known_hosts.display()
        )))
    }

    /// The hosts, in start order.
    pub fn hosts(&self) -> &[TestHost] {
        &self.hosts
    }

    /// Host `index` (panics if out of range).
    pub fn host(&self, index: usize) -> &TestHost {
        &self.hosts[index]
    }

    /// Number of hosts.
    pub fn len(&self) -> usize {
        self.hosts.len()
    }

    /// Whether there are no hosts.
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }

    /// A temporary directory owned by this test (inventories, playbooks, ...); removed on drop.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The known_hosts file holding exactly these hosts' keys.
    pub fn known_hosts(&self) -> &Path {
        &self.known_hosts
    }

    /// The private key accepted by `root` and `deploy` on every host.
    pub fn private_key(&self) -> &Path {
        &self.private_key
    }

    /// Writes an INI inventory with every host in `group`, logging in as `root`.
    pub fn write_inventory(&self, path: &Path, group: &str) -> Result<(), HarnessError> {
        self.write_inventory_as(path, group, ROOT_USER)
    }

    /// Writes an INI inventory with every host in `group`, logging in as `user` (e.g. [`DEPLOY_USER`]).
    /// Host key checking stays on: `ansible_ssh_common_args` points at [`TestHosts::known_hosts`].
    pub fn write_inventory_as(
        &self,
        path: &Path,
        group: &str,
        user: &str,
    ) -> Result<(), HarnessError> {
        std::fs::write(path, self.inventory_text(group, user))
            .map_err(HarnessError::io(format!("writing {}", path.display())))
    }

    /// The INI inventory text [`TestHosts::write_inventory_as`] writes.
    pub fn inventory_text(&self, group: &str, user: &str) -> String {
        let mut text = format!("[{group}]\n");
        for host in &self.hosts {
            let _ = writeln!(
                text,
                "{} ansible_host={} ansible_user={user} ansible_ssh_private_key_file={} \
                 ansible_ssh_common_args='-o UserKnownHostsFile={}'",
                host.name,
                host.ip,
                self.private_key.display(),
                self.known_hosts.display(),
            );
        }
        text
    }

    /// OpenSSH client arguments (before `user@ip`) that use the harness key and known_hosts with strict
    /// host key checking, batch mode and a 5 s connect timeout, ignoring ~/.ssh/config.
    pub fn ssh_options(&self) -> Vec<String> {
        let mut args: Vec<String> = ["-F", "/dev/null", "-i"].map(String::from).to_vec();
        args.push(self.private_key.display().to_string());
        for option in [
            "IdentitiesOnly=yes".to_string(),
            "BatchMode=yes".to_string(),
            "StrictHostKeyChecking=yes".to_string(),
            format!("UserKnownHostsFile={}", self.known_hosts.display()),
            "GlobalKnownHostsFile=/dev/null".to_string(),
            "ConnectTimeout=5".to_string(),
            "LogLevel=ERROR".to_string(),
        ] {
            args.push("-o".into());
            args.push(option);
        }
        args
    }

    /// Runs `command` (a shell line) on host `index` as root with the OpenSSH client.
    pub fn ssh(&self, index: usize, command: &str) -> Output {
        self.ssh_as(index, ROOT_USER, command)
    }

    /// Runs `command` (a shell line) on host `index` as `user` with the OpenSSH client.
    /// Panics only if `ssh` itself cannot be spawned; a failed login shows in the exit status (255).
    pub fn ssh_as(&self, index: usize, user: &str, command: &str) -> Output {
        let host = self.host(index);
        Command::new("ssh")
            .args(self.ssh_options())
            .arg(format!("{user}@{}", host.ip))
            .arg("--")
            .arg(command)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|error| panic!("cannot run ssh: {error}"))
    }

    /// Runs `command` on host `index` as root, asserts it succeeded and returns its stdout.
    pub fn ssh_ok(&self, index: usize, command: &str) -> String {
        let output = self.ssh(index, command);
        assert!(
            output.status.success(),
            "ssh {} {command:?} failed ({}):\nstdout: {}\nstderr: {}",
            self.host(index).name,
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Stops host `index` (kills its container); it becomes unreachable but keeps its disk.
    pub fn stop_host(&self, index: usize) {
        let name = &self.host(index).name;
        if let Err(error) = run_script("host.sh", &["stop", name]) {
            panic!("stopping test host {name}: {error}");
        }
    }

    /// Starts a stopped host `index` again and waits for sshd (same host keys as before).
    pub fn start_host(&self, index: usize) {
        let name = &self.host(index).name;
        if let Err(error) = run_script("host.sh", &["start", name]) {
            panic!("starting test host {name}: {error}");
        }
    }

    /// The LXC path (`lxc-* -P`) holding the hosts' containers; each host's container is named
    /// like the host ([`TestHost::name`]). For reaching them with `connection: lxc`; start,
    /// stop and destroy them only through this type.
    pub fn lxc_path(&self) -> PathBuf {
        crate::setup::state_dir().join("lxc")
    }

    /// Container names this set holds (also those that failed to come up).
    fn container_names(&self) -> Vec<String> {
        self.leases.iter().map(Lease::name).collect()
    }
}

impl Drop for TestHosts {
    fn drop(&mut self) {
        let names = self.container_names();
        let failures: Vec<String> = thread::scope(|scope| {
            let handles: Vec<_> = names
                .iter()
                .map(|name| scope.spawn(move || run_script("host.sh", &["down", name])))
                .collect();
            handles
                .into_iter()
                .filter_map(|handle| match handle.join() {
                    Ok(Ok(_)) => None,
                    Ok(Err(error)) => Some(error.to_string()),
                    Err(_) => Some("teardown thread panicked".into()),
                })
                .collect()
        });
        if failures.is_empty() {
            self.leases.drain(..).for_each(Lease::release);
        } else {
            // Leases stay: the next allocation sees a dead owner and destroys the leftovers.
            eprintln!(
                "drover test harness: teardown failed:\n{}",
                failures.join("\n")
            );
        }
    }
}

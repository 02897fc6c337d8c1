//! The LXC driver: privileged overlay clones of a cached Debian 12 base with systemd, on the
//! testbed's own bridge with static addresses, reached with drover's `lxc` connection.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};
use tokio::process::Command;

use crate::apt_cache::{AptCache, Seeded};
use crate::error::DriverError;
use crate::lease::Leases;

/// The environment variable naming the testbed directory.
pub const DIR_ENV: &str = "DROVER_TESTBED_DIR";
/// The testbed directory when [`DIR_ENV`] is not set.
pub const DEFAULT_DIR: &str = "/var/cache/drover/testbed";
/// Every testbed container's name starts with this.
pub const CONTAINER_PREFIX: &str = "drovertb-";
/// The testbed bridge.
pub const BRIDGE: &str = "drovertb0";
/// The bridge's address: the hosts' gateway.
pub const BRIDGE_ADDR: &str = "10.79.0.1";
/// A fixed MAC: a bridge without one takes its lowest port's, which changes as hosts come and go.
pub const BRIDGE_MAC: &str = "02:79:00:00:00:01";
const SUBNET: &str = "10.79.0.0/24";
const NFT_TABLE: &str = "drovertb";
/// Seconds a host may take to finish booting.
const BOOT_TIMEOUT: u64 = 90;

const BASE_SCRIPT: &str = include_str!("../scripts/base.sh");
const NET_SCRIPT: &str = include_str!("../scripts/net.sh");

/// The testbed directory: `$DROVER_TESTBED_DIR` or [`DEFAULT_DIR`].
pub fn testbed_dir() -> PathBuf {
    std::env::var_os(DIR_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DIR))
}

/// The LXC path of the testbed in `dir`.
pub fn lxc_path(dir: &Path) -> PathBuf {
    dir.join("lxc")
}

/// The base container's name: a hash of the recipe, so a changed recipe builds a new base.
fn base_name() -> String {
    let digest = Sha256::digest(BASE_SCRIPT.as_bytes());
    format!("base-{}", &hex::encode(digest)[..12])
}

/// The effective user id of this process.
fn euid() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2))
                .and_then(|u| u.parse().ok())
        })
        .unwrap_or(u32::MAX)
}

/// A throwaway host.
#[derive(Debug, Clone)]
pub struct LxcHost {
    /// The container.
    pub container: String,
    /// Its hostname and inventory name.
    pub hostname: String,
    /// The last octet of its address.
    pub octet: u8,
    /// The clone's overlay upper directory (what it wrote, seen from the controller).
    pub upper: PathBuf,
    /// What the shared apt cache gave it.
    pub seeded: Seeded,
}

impl LxcHost {
    /// Its address on the testbed bridge.
    pub fn address(&self) -> String {
        format!("10.79.0.{}", self.octet)
    }
}

/// The machine's testbed: directory, base, network, leases and apt pool.
pub struct Testbed {
    dir: PathBuf,
    lxc_path: PathBuf,
    base: String,
    nameservers: Vec<String>,
    leases: Leases,
    apt: AptCache,
}

impl Testbed {
    /// Checks root and the tools, sets the network up and builds the base if needed (once per
    /// machine; about 25 s).
    pub async fn prepare(dir: &Path) -> Result<Testbed, DriverError> {
        let uid = euid();
        if uid != 0 {
            return Err(DriverError::NotRoot(uid));
        }
        for (tool, package) in [
            ("lxc-copy", "lxc"),
            ("mmdebstrap", "mmdebstrap"),
            ("nft", "nftables"),
        ] {
            if !on_path(tool) {
                return Err(DriverError::MissingTool {
                    tool: tool.into(),
                    package: package.into(),
                });
            }
        }
        let lxc_path = lxc_path(dir);
        let net = run_script(
            NET_SCRIPT,
            &[BRIDGE, BRIDGE_ADDR, "24", SUBNET, BRIDGE_MAC, NFT_TABLE],
        )
        .await?;
        empty_trash(dir);
        let base = base_name();
        let (d, l) = (dir.display().to_string(), lxc_path.display().to_string());
        run_script(BASE_SCRIPT, &[&d, &l, &base, BRIDGE]).await?;
        Ok(Testbed {
            leases: Leases::new(dir, &lxc_path),
            apt: AptCache::new(dir),
            dir: dir.to_path_buf(),
            lxc_path,
            base,
            nameservers: net.split_whitespace().map(str::to_string).collect(),
        })
    }

    /// The testbed directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The LXC path of the hosts.
    pub fn lxc_path(&self) -> &Path {
        &self.lxc_path
    }

    /// Creates and boots `container` with hostname `hostname`; returns once systemd has
    /// finished booting (`degraded` is fine).
    pub async fn create(&self, container: &str, hostname: &str) -> Result<LxcHost, DriverError> {
        let octet = self.leases.acquire(container)?;
        match self.create_leased(container, hostname, octet).await {
            Ok(host) => Ok(host),
            Err(e) => {
                self.destroy_container(container).await;
                self.leases.release(octet, container);
                Err(e)
            }
        }
    }

    async fn create_leased(
        &self,
        container: &str,
        hostname: &str,
        octet: u8,
    ) -> Result<LxcHost, DriverError> {
        let p = self.lxc_path.display().to_string();
        run(
            "lxc-copy",
            &[
                "-P", &p, "-n", &self.base, "-N", container, "-s", "-B", "overlay",
            ],
        )
        .await?;
        mark_owner(&self.lxc_path.join(container));
        let config = self.lxc_path.join(container).join("config");
        let mut text = std::fs::read_to_string(&config).map_err(|e| DriverError::io(&config, e))?;
        let upper = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .find(|(k, _)| k.trim() == "lxc.rootfs.path")
            .and_then(|(_, v)| v.trim().rsplit(':').next().map(PathBuf::from))
            .ok_or_else(|| {
                DriverError::io(
                    &config,
                    std::io::Error::other("no overlay lxc.rootfs.path in the clone's config"),
                )
            })?;
        text.push_str(&format!(
            "lxc.uts.name = {hostname}\nlxc.net.0.ipv4.address = 10.79.0.{octet}/24\n\
             lxc.net.0.ipv4.gateway = {BRIDGE_ADDR}\nlxc.net.0.hwaddr = 02:79:00:00:00:{octet:02x}\n"
        ));
        std::fs::write(&config, text).map_err(|e| DriverError::io(&config, e))?;
        // Files of the clone go straight into its overlay upper dir: it is not mounted yet.
        let etc = upper.join("etc");
        let write = |name: &str, content: String| {
            let path = etc.join(name);
            std::fs::write(&path, content).map_err(|e| DriverError::io(&path, e))
        };
        std::fs::create_dir_all(&etc).map_err(|e| DriverError::io(&etc, e))?;
        write("hostname", format!("{hostname}\n"))?;
        write(
            "hosts",
            format!("127.0.0.1\tlocalhost\n127.0.1.1\t{hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n"),
        )?;
        let resolv: String = self
            .nameservers
            .iter()
            .map(|n| format!("nameserver {n}\n"))
            .collect();
        write("resolv.conf", resolv)?;
        let seeded = self.apt.seed(&upper)?;
        run("lxc-start", &["-P", &p, "-n", container, "-d"]).await?;
        self.wait_booted(container).await?;
        Ok(LxcHost {
            container: container.to_string(),
            hostname: hostname.to_string(),
            octet,
            upper,
            seeded,
        })
    }

    /// Waits for `systemctl is-system-running --wait` to say `running` or `degraded`.
    async fn wait_booted(&self, container: &str) -> Result<(), DriverError> {
        let p = self.lxc_path.display().to_string();
        let deadline = Instant::now() + Duration::from_secs(BOOT_TIMEOUT);
        let mut state = String::from("not started");
        while Instant::now() < deadline {
            let attempt = tokio::time::timeout_at(
                deadline.into(),
                output(
                    "lxc-attach",
                    &[
                        "-P",
                        &p,
                        "-n",
                        container,
                        "--",
                        "systemctl",
                        "is-system-running",
                        "--wait",
                    ],
                ),
            )
            .await;
            match attempt {
                Ok(Ok((_, out, err))) => {
                    state = out.trim().to_string();
                    if state == "running" || state == "degraded" {
                        return Ok(());
                    }
                    if state.is_empty() {
                        state = err.trim().to_string();
                    }
                }
                Ok(Err(e)) => state = e.to_string(),
                Err(_) => break,
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(DriverError::BootTimeout {
            host: container.to_string(),
            seconds: BOOT_TIMEOUT,
            state,
        })
    }

    /// Hands the `.deb` files and lists `host` downloaded to the shared pool.
    pub fn harvest(&self, host: &LxcHost) -> Result<usize, DriverError> {
        self.apt.harvest(&host.upper)
    }

    /// Stops and destroys `host` and frees its address.
    pub async fn destroy(&self, host: &LxcHost) {
        self.destroy_container(&host.container).await;
        self.leases.release(host.octet, &host.container);
    }

    /// Frees the addresses of `containers` (after destroying them).
    pub fn release_all(&self, containers: &[String]) {
        self.leases.release_containers(containers);
    }

    /// Stops and destroys a container of the testbed, if it exists.
    pub async fn destroy_container(&self, container: &str) {
        if !self.lxc_path.join(container).exists() {
            return;
        }
        let p = self.lxc_path.display().to_string();
        let _ = output("lxc-stop", &["-P", &p, "-n", container, "-k"]).await;
        // Removing a clone that installed packages takes long (46 s for a 755 MB overlay on a
        // busy disk): once stopped, the container leaves the lxcpath at once (a rename) and its
        // files are removed by a detached `rm`. What a killed `rm` leaves, the next run removes.
        let trash = self.dir.join("trash");
        let moved = std::fs::create_dir_all(&trash).is_ok()
            && std::fs::rename(self.lxc_path.join(container), trash.join(container)).is_ok();
        if moved {
            empty_trash(&self.dir);
        } else if run("lxc-destroy", &["-P", &p, "-n", container])
            .await
            .is_err()
        {
            let _ = run("lxc-destroy", &["-P", &p, "-n", container, "-f"]).await;
        }
    }

    /// Destroys every testbed container (`drovertb-*`) whose creating process no longer runs,
    /// and the work directories of finished runs. Returns the containers' names.
    pub async fn cleanup(dir: &Path) -> Result<Vec<String>, DriverError> {
        let uid = euid();
        if uid != 0 {
            return Err(DriverError::NotRoot(uid));
        }
        let lxc_path = lxc_path(dir);
        let testbed = Testbed {
            leases: Leases::new(dir, &lxc_path),
            apt: AptCache::new(dir),
            dir: dir.to_path_buf(),
            lxc_path: lxc_path.clone(),
            base: base_name(),
            nameservers: Vec::new(),
        };
        let mut removed = Vec::new();
        let entries = match std::fs::read_dir(&lxc_path) {
            Ok(e) => e,
            Err(_) => return Ok(removed),
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with(CONTAINER_PREFIX) || owner_alive(&entry.path()) {
                continue;
            }
            testbed.destroy_container(&name).await;
            removed.push(name);
        }
        testbed.leases.release_containers(&removed);
        // Run directories (inventory, logs) of the hosts removed, and any older than a day.
        let runs = dir.join("runs");
        let day_ago = SystemTime::now() - Duration::from_secs(86_400);
        for entry in std::fs::read_dir(&runs).into_iter().flatten().flatten() {
            let path = entry.path();
            let inventory = std::fs::read_to_string(path.join("inventory.ini")).unwrap_or_default();
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t < day_ago);
            let mine = removed.iter().any(|c| inventory.contains(c.as_str()));
            if mine || (old && !owner_alive(&path)) {
                let _ = std::fs::remove_dir_all(path);
            }
        }
        removed.sort();
        Ok(removed)
    }
}

/// Starts a detached `rm -rf` of what is in `<dir>/trash` (not waited for).
fn empty_trash(dir: &Path) {
    let trash = dir.join("trash");
    let entries: Vec<PathBuf> = std::fs::read_dir(&trash)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    if entries.is_empty() {
        return;
    }
    let _ = std::process::Command::new("rm")
        .arg("-rf")
        .args(&entries)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}

/// Marks `dir` (a container's or a run's) as belonging to this process.
pub fn mark_owner(dir: &Path) {
    let _ = std::fs::write(
        dir.join("drover-test.owner"),
        std::process::id().to_string(),
    );
}

/// Whether the process that made `dir` still runs (see [`mark_owner`]).
fn owner_alive(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("drover-test.owner"))
        .ok()
        .and_then(|p| p.trim().parse::<u32>().ok())
        .is_some_and(|pid| pid != std::process::id() && Path::new(&format!("/proc/{pid}")).exists())
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(tool).is_file()))
        || ["/usr/sbin", "/sbin", "/usr/bin"]
            .iter()
            .any(|d| Path::new(d).join(tool).is_file())
}

/// Runs a program; its exit status, stdout and stderr. Killed if the future is dropped.
async fn output(program: &str, args: &[&str]) -> Result<(bool, String, String), DriverError> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| DriverError::io(program, e))?;
    Ok((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

/// Runs a program that must succeed; its stdout.
async fn run(program: &str, args: &[&str]) -> Result<String, DriverError> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| DriverError::io(program, e))?;
    if !out.status.success() {
        return Err(DriverError::Command {
            command: format!("{program} {}", args.join(" ")),
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs an embedded bash script with `args`; its stdout.
async fn run_script(script: &str, args: &[&str]) -> Result<String, DriverError> {
    let mut all = vec!["-c", script, "drover-testbed"];
    all.extend_from_slice(args);
    run("bash", &all).await.map_err(|e| match e {
        DriverError::Command { status, stderr, .. } => DriverError::Command {
            command: "testbed setup script".into(),
            status,
            stderr,
        },
        other => other,
    })
}

//! The LXC driver: privileged overlay clones of a cached Debian 12 base with systemd, on the
//! testbed's own bridge with static addresses, reached with drover's `lxc` connection.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use futures::future::BoxFuture;
use futures::FutureExt;
use sha2::{Digest, Sha256};

use crate::apt_cache::AptCache;
use crate::driver::{Driver, DriverKind, Host};
use crate::error::DriverError;
use crate::lease::Leases;
use crate::process::{
    euid, mark_owner, on_path, output, owner_alive, run, run_script, wait_booted,
};

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
pub(crate) fn base_name() -> String {
    let digest = Sha256::digest(BASE_SCRIPT.as_bytes());
    format!("base-{}", &hex::encode(digest)[..12])
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
        build_base(dir).await?;
        let base = base_name();
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
    pub async fn create(&self, container: &str, hostname: &str) -> Result<Host, DriverError> {
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
    ) -> Result<Host, DriverError> {
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
        wait_booted("lxc-attach", &["-P", &p, "-n", container, "--"], container).await?;
        Ok(Host {
            container: container.to_string(),
            hostname: hostname.to_string(),
            address: format!("10.79.0.{octet}"),
            upper: Some(upper),
            seeded,
            lease: Some(octet),
        })
    }

    /// Hands the `.deb` files and lists `host` downloaded to the shared pool.
    pub fn harvest(&self, host: &Host) -> Result<usize, DriverError> {
        match &host.upper {
            Some(upper) => self.apt.harvest(upper),
            None => Ok(0),
        }
    }

    /// Stops and destroys `host` and frees its address.
    pub async fn destroy(&self, host: &Host) {
        self.destroy_container(&host.container).await;
        if let Some(octet) = host.lease {
            self.leases.release(octet, &host.container);
        }
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

    /// Destroys every testbed container (`drovertb-*`) whose creating process no longer runs.
    /// Returns the containers' names.
    pub(crate) async fn cleanup(dir: &Path) -> Result<Vec<String>, DriverError> {
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
        Ok(removed)
    }
}

/// Builds the base of the current recipe in `dir` if it is not there yet (once per machine;
/// about 25 s) and returns its root filesystem.
pub(crate) async fn build_base(dir: &Path) -> Result<PathBuf, DriverError> {
    let lxc_path = lxc_path(dir);
    let base = base_name();
    let (d, l) = (dir.display().to_string(), lxc_path.display().to_string());
    run_script(BASE_SCRIPT, &[&d, &l, &base, BRIDGE]).await?;
    Ok(lxc_path.join(base).join("rootfs"))
}

impl Driver for Testbed {
    fn kind(&self) -> DriverKind {
        DriverKind::Lxc
    }

    fn create<'a>(
        &'a self,
        container: &'a str,
        hostname: &'a str,
    ) -> BoxFuture<'a, Result<Host, DriverError>> {
        Testbed::create(self, container, hostname).boxed()
    }

    fn destroy<'a>(&'a self, host: &'a Host) -> BoxFuture<'a, ()> {
        Testbed::destroy(self, host).boxed()
    }

    fn destroy_container<'a>(&'a self, container: &'a str) -> BoxFuture<'a, ()> {
        Testbed::destroy_container(self, container).boxed()
    }

    fn release_all(&self, containers: &[String]) {
        Testbed::release_all(self, containers);
    }

    fn harvest(&self, host: &Host) -> Result<usize, DriverError> {
        Testbed::harvest(self, host)
    }

    fn connection_vars(&self, host: &Host) -> String {
        format!(
            "ansible_connection=lxc ansible_lxc_name={} ansible_lxc_path={} ansible_host={}",
            host.container,
            self.lxc_path.display(),
            host.address
        )
    }

    fn shell_command(&self, host: &Host) -> String {
        format!(
            "lxc-attach -P {} -n {}",
            self.lxc_path.display(),
            host.container
        )
    }

    fn lxc_path(&self) -> Option<&Path> {
        Some(&self.lxc_path)
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

//! How throwaway hosts are made: the [`Driver`] trait and its two implementations, LXC overlay
//! clones ([`crate::Testbed`]) and Docker containers ([`crate::DockerDriver`]), both booting the
//! same Debian 12 base with systemd as PID 1.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;
use serde::Serialize;

use crate::apt_cache::Seeded;
use crate::docker::DockerDriver;
use crate::error::DriverError;
use crate::lxc::Testbed;
use crate::process::owner_alive;

/// The kinds of throwaway hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DriverKind {
    /// Privileged LXC overlay clones (the default).
    Lxc,
    /// Docker containers with systemd as PID 1.
    Docker,
}

impl DriverKind {
    /// The driver's name, as in `--driver` and `driver:`.
    pub fn name(self) -> &'static str {
        match self {
            DriverKind::Lxc => "lxc",
            DriverKind::Docker => "docker",
        }
    }
}

/// Settings of the Docker driver.
#[derive(Debug, Clone, Default)]
pub struct DockerSettings {
    /// The engine (`docker -H`), e.g. `unix:///run/docker.sock`; the CLI's default when unset.
    pub host: Option<String>,
    /// Run the containers with `--privileged` instead of the narrower default (`SYS_ADMIN`
    /// and no seccomp filter).
    pub privileged: bool,
}

/// A throwaway host made by a driver.
#[derive(Debug, Clone)]
pub struct Host {
    /// The container.
    pub container: String,
    /// Its hostname and inventory name.
    pub hostname: String,
    /// Its IPv4 address.
    pub address: String,
    /// The container's writable layer seen from the controller (the apt cache is shared through
    /// it); `None` when it is not reachable from here (a remote Docker engine).
    pub upper: Option<PathBuf>,
    /// What the shared apt cache gave it.
    pub seeded: Seeded,
    /// The testbed address lease it holds (LXC).
    pub(crate) lease: Option<u8>,
}

/// Makes, reaches and destroys throwaway hosts.
pub trait Driver: Send + Sync {
    /// Which driver this is.
    fn kind(&self) -> DriverKind;

    /// Creates and boots `container` with hostname `hostname`; returns once systemd has finished
    /// booting (`degraded` is fine). A host that fails to start is destroyed again.
    fn create<'a>(
        &'a self,
        container: &'a str,
        hostname: &'a str,
    ) -> BoxFuture<'a, Result<Host, DriverError>>;

    /// Destroys `host` and frees what it held.
    fn destroy<'a>(&'a self, host: &'a Host) -> BoxFuture<'a, ()>;

    /// Destroys a container of this driver by name, if it exists (after an interrupt).
    fn destroy_container<'a>(&'a self, container: &'a str) -> BoxFuture<'a, ()>;

    /// After an interrupt, destroys what a cancelled `create` may still have made: the engine
    /// can finish a `docker create` whose client was killed. Does nothing by default.
    fn sweep(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }

    /// Frees whatever `containers` held (after destroying them by name).
    fn release_all(&self, _containers: &[String]) {}

    /// Hands the `.deb` files and package lists `host` downloaded to the shared pool.
    fn harvest(&self, host: &Host) -> Result<usize, DriverError>;

    /// The inventory variables that connect to `host` (`ansible_connection=…`).
    fn connection_vars(&self, host: &Host) -> String;

    /// A command that opens a shell on `host` (printed for `--keep`).
    fn shell_command(&self, host: &Host) -> String;

    /// The LXC path of the hosts (LXC only).
    fn lxc_path(&self) -> Option<&Path> {
        None
    }
}

/// Prepares the driver `kind` in the testbed directory `dir`: checks, network and base.
pub async fn prepare(
    kind: DriverKind,
    dir: &Path,
    docker: &DockerSettings,
) -> Result<Box<dyn Driver>, DriverError> {
    Ok(match kind {
        DriverKind::Lxc => Box::new(Testbed::prepare(dir).await?),
        DriverKind::Docker => Box::new(DockerDriver::prepare(dir, docker).await?),
    })
}

/// Destroys the hosts of driver `kind` whose `drover test` process has ended (left by `--keep`
/// or a killed run), and their run directories. Returns the containers' names, sorted.
pub async fn cleanup(
    kind: DriverKind,
    dir: &Path,
    docker: &DockerSettings,
) -> Result<Vec<String>, DriverError> {
    let mut removed = match kind {
        DriverKind::Lxc => Testbed::cleanup(dir).await?,
        DriverKind::Docker => DockerDriver::cleanup(docker).await?,
    };
    remove_run_dirs(dir, &removed);
    removed.sort();
    Ok(removed)
}

/// Removes the run directories (inventory, logs) of the hosts in `removed`, and those older than
/// a day whose process has ended.
fn remove_run_dirs(dir: &Path, removed: &[String]) {
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
}

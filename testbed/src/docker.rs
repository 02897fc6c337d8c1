//! The Docker driver: containers of the testbed's Debian 12 base (the rootfs the LXC driver
//! boots, `docker import`ed once per engine) with systemd as PID 1, on the testbed's own Docker
//! network, reached with drover's `docker` connection.

use std::path::{Path, PathBuf};

use futures::future::BoxFuture;
use futures::FutureExt;
use sha2::{Digest, Sha256};

use crate::apt_cache::{AptCache, Seeded};
use crate::driver::{DockerSettings, Driver, DriverKind, Host};
use crate::error::DriverError;
use crate::lxc::{base_name, build_base};
use crate::process::{euid, on_path, output, run, run_script, wait_booted};

/// The repository of the testbed's image; the tag names the base and import recipes.
pub const IMAGE_REPOSITORY: &str = "drover-testbed/debian12";
/// The Docker network of the testbed's containers.
pub const NETWORK: &str = "drover-testbed";
/// Every testbed container has this label; `drover test --cleanup` looks for it.
pub const LABEL: &str = "drover.testbed";
const PID_LABEL: &str = "drover.testbed.pid";
const CONTROLLER_LABEL: &str = "drover.testbed.controller";
/// How the imported image boots: systemd as PID 1 (`docker import` takes no STOPSIGNAL: the
/// containers get `--stop-signal SIGRTMIN+3`, the signal systemd halts on).
const IMAGE_CHANGES: &[&str] = &["CMD [\"/sbin/init\"]", "ENV container=docker"];
const SCRIPT: &str = include_str!("../scripts/docker.sh");

/// The Docker driver, prepared: engine reachable, image imported, network made.
pub struct DockerDriver {
    /// `docker -H` value, when one was given.
    host: Option<String>,
    image: String,
    /// `docker create` options shared by every host.
    create_args: Vec<String>,
    /// The engine runs on this machine (its container layers are reachable from here).
    local: bool,
    apt: AptCache,
}

/// `unix://PATH` for a bare socket path; anything else as given.
fn engine_url(host: &str) -> String {
    if host.starts_with('/') {
        format!("unix://{host}")
    } else {
        host.to_string()
    }
}

/// This machine's id, so that `--cleanup` only touches containers this machine made.
fn controller_id() -> String {
    std::fs::read_to_string("/etc/machine-id")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

impl DockerDriver {
    /// Checks root, the tools and the engine, builds the base if needed and imports it into the
    /// engine (once), and makes the testbed network.
    pub async fn prepare(
        dir: &Path,
        settings: &DockerSettings,
    ) -> Result<DockerDriver, DriverError> {
        let uid = euid();
        if uid != 0 {
            return Err(DriverError::DockerNotRoot(uid));
        }
        for (tool, package) in [("docker", "docker.io"), ("mmdebstrap", "mmdebstrap")] {
            if !on_path(tool) {
                return Err(DriverError::MissingTool {
                    tool: tool.into(),
                    package: package.into(),
                });
            }
        }
        let host = settings.host.as_deref().map(engine_url);
        let engine = host
            .clone()
            .or_else(|| std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty()));
        let local = engine.as_deref().is_none_or(|h| h.starts_with("unix://"));
        let mut driver = DockerDriver {
            host,
            image: String::new(),
            create_args: Vec::new(),
            local,
            apt: AptCache::new(dir),
        };
        let cgroup = driver
            .docker(&["info", "--format", "{{.CgroupVersion}}"])
            .await
            .map_err(|e| DriverError::DockerUnavailable {
                engine: engine
                    .clone()
                    .unwrap_or_else(|| "the default engine".into()),
                message: e.to_string(),
            })?;
        let rootfs = build_base(dir).await?;
        driver.image = format!("{IMAGE_REPOSITORY}:{}-{}", base_name(), recipe_hash());
        let engine_arg = driver.host.clone().unwrap_or_default();
        let (d, r) = (dir.display().to_string(), rootfs.display().to_string());
        let mut args = vec!["image", &engine_arg, &d, &r, &driver.image];
        args.extend_from_slice(IMAGE_CHANGES);
        run_script(SCRIPT, &args).await?;
        let subnet = driver.network().await?;
        if local {
            run_script(SCRIPT, &["net", &engine_arg, &subnet, NETWORK]).await?;
        }
        driver.create_args = create_args(cgroup.trim(), settings.privileged);
        Ok(driver)
    }

    /// Runs the docker CLI against the engine; its stdout.
    async fn docker(&self, args: &[&str]) -> Result<String, DriverError> {
        let all = self.cli_args(args);
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        run("docker", &all).await
    }

    fn cli_args(&self, args: &[&str]) -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        if let Some(h) = &self.host {
            all.extend(["-H".to_string(), h.clone()]);
        }
        all.extend(args.iter().map(|a| a.to_string()));
        all
    }

    /// Makes the testbed network if it is missing; its subnet.
    async fn network(&self) -> Result<String, DriverError> {
        let inspect = [
            "network",
            "inspect",
            NETWORK,
            "--format",
            "{{range .IPAM.Config}}{{.Subnet}} {{end}}",
        ];
        if let Ok(out) = self.docker(&inspect).await {
            return first_word(&out, NETWORK);
        }
        let label = format!("{LABEL}=1");
        // A parallel run may have made it meanwhile: inspect again either way.
        let _ = self
            .docker(&["network", "create", "--label", &label, NETWORK])
            .await;
        first_word(&self.docker(&inspect).await?, NETWORK)
    }

    async fn create_started(&self, container: &str, hostname: &str) -> Result<Host, DriverError> {
        let pid = format!("{PID_LABEL}={}", std::process::id());
        let controller = format!("{CONTROLLER_LABEL}={}", controller_id());
        let label = format!("{LABEL}=1");
        let mut args: Vec<&str> = vec![
            "create",
            "--name",
            container,
            "--hostname",
            hostname,
            "--network",
            NETWORK,
            "--label",
            &label,
            "--label",
            &pid,
            "--label",
            &controller,
        ];
        args.extend(self.create_args.iter().map(String::as_str));
        args.push(&self.image);
        self.docker(&args).await?;
        let (upper, seeded) = match self.upper_dir(container).await {
            Some(upper) => {
                let seeded = self.apt.seed(&upper)?;
                (Some(upper), seeded)
            }
            None => (None, Seeded::default()),
        };
        self.docker(&["start", container]).await?;
        let prefix = self.cli_args(&["exec", container]);
        let prefix: Vec<&str> = prefix.iter().map(String::as_str).collect();
        wait_booted("docker", &prefix, container).await?;
        let address = self
            .docker(&[
                "inspect",
                "--format",
                "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}",
                container,
            ])
            .await?
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
        Ok(Host {
            container: container.to_string(),
            hostname: hostname.to_string(),
            address,
            upper,
            seeded,
            lease: None,
        })
    }

    /// The container's writable overlay2 layer, when the engine is local and uses overlay2.
    async fn upper_dir(&self, container: &str) -> Option<PathBuf> {
        if !self.local {
            return None;
        }
        let out = self
            .docker(&[
                "inspect",
                "--format",
                "{{.GraphDriver.Name}} {{.GraphDriver.Data.UpperDir}}",
                container,
            ])
            .await
            .ok()?;
        let mut words = out.split_whitespace();
        if words.next() != Some("overlay2") {
            return None;
        }
        let upper = PathBuf::from(words.next()?);
        upper.is_dir().then_some(upper)
    }

    /// Removes a container, if it exists.
    async fn remove(&self, container: &str) {
        let args = self.cli_args(&["rm", "-f", "-v", container]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let _ = output("docker", &args).await;
    }

    /// Removes every testbed container labelled with this process's pid.
    async fn remove_mine(&self) {
        let filter = format!("label={PID_LABEL}={}", std::process::id());
        let Ok(list) = self
            .docker(&["ps", "-a", "--filter", &filter, "--format", "{{.Names}}"])
            .await
        else {
            return;
        };
        futures::future::join_all(list.split_whitespace().map(|name| self.remove(name))).await;
    }

    /// Removes the testbed containers this machine made whose `drover test` process has ended.
    pub(crate) async fn cleanup(settings: &DockerSettings) -> Result<Vec<String>, DriverError> {
        let driver = DockerDriver {
            host: settings.host.as_deref().map(engine_url),
            image: String::new(),
            create_args: Vec::new(),
            local: true,
            apt: AptCache::new(Path::new("/nonexistent")),
        };
        let filter = format!("label={LABEL}");
        let format = format!(
            "{{{{.Names}}}} {{{{.Label \"{PID_LABEL}\"}}}} {{{{.Label \"{CONTROLLER_LABEL}\"}}}}"
        );
        let list = driver
            .docker(&["ps", "-a", "--filter", &filter, "--format", &format])
            .await?;
        let me = controller_id();
        let mut removed = Vec::new();
        for line in list.lines() {
            let mut words = line.split_whitespace();
            let (Some(name), Some(pid), Some(controller)) =
                (words.next(), words.next(), words.next())
            else {
                continue;
            };
            let alive = pid.parse::<u32>().is_ok_and(|p| {
                p != std::process::id() && Path::new(&format!("/proc/{p}")).exists()
            });
            if controller == me && !alive {
                driver.remove(name).await;
                removed.push(name.to_string());
            }
        }
        Ok(removed)
    }
}

/// A hash of what goes into the image besides the base: a changed recipe imports a new image.
fn recipe_hash() -> String {
    let digest = Sha256::digest(format!("{IMAGE_CHANGES:?}\n{SCRIPT}").as_bytes());
    hex::encode(digest)[..8].to_string()
}

fn first_word(out: &str, what: &str) -> Result<String, DriverError> {
    out.split_whitespace()
        .next()
        .map(str::to_string)
        .ok_or_else(|| DriverError::Command {
            command: format!("docker network inspect {what}"),
            status: "0".into(),
            stderr: "the network has no subnet".into(),
        })
}

/// `docker create` options that let systemd run as PID 1: `/run` and `/run/lock` on tmpfs, the
/// cgroup tree (read-only on cgroup v1; on v2 the host's namespace, writable), and `SYS_ADMIN`
/// without seccomp filter — or `--privileged`.
fn create_args(cgroup_version: &str, privileged: bool) -> Vec<String> {
    let mut args: Vec<&str> = vec![
        "--stop-signal",
        "SIGRTMIN+3",
        "--tmpfs",
        "/run",
        "--tmpfs",
        "/run/lock",
    ];
    if cgroup_version == "2" {
        args.extend([
            "--cgroupns",
            "host",
            "-v",
            "/sys/fs/cgroup:/sys/fs/cgroup:rw",
        ]);
    } else {
        args.extend(["-v", "/sys/fs/cgroup:/sys/fs/cgroup:ro"]);
    }
    if privileged {
        args.push("--privileged");
    } else {
        args.extend([
            "--cap-add",
            "SYS_ADMIN",
            "--security-opt",
            "seccomp=unconfined",
            "--security-opt",
            "apparmor=unconfined",
        ]);
    }
    args.into_iter().map(str::to_string).collect()
}

impl Driver for DockerDriver {
    fn kind(&self) -> DriverKind {
        DriverKind::Docker
    }

    fn create<'a>(
        &'a self,
        container: &'a str,
        hostname: &'a str,
    ) -> BoxFuture<'a, Result<Host, DriverError>> {
        async move {
            let created = self.create_started(container, hostname).await;
            if created.is_err() {
                self.remove(container).await;
            }
            created
        }
        .boxed()
    }

    fn destroy<'a>(&'a self, host: &'a Host) -> BoxFuture<'a, ()> {
        self.remove(&host.container).boxed()
    }

    fn destroy_container<'a>(&'a self, container: &'a str) -> BoxFuture<'a, ()> {
        self.remove(container).boxed()
    }

    fn sweep(&self) -> BoxFuture<'_, ()> {
        self.remove_mine().boxed()
    }

    fn harvest(&self, host: &Host) -> Result<usize, DriverError> {
        match &host.upper {
            Some(upper) => self.apt.harvest(upper),
            None => Ok(0),
        }
    }

    fn connection_vars(&self, host: &Host) -> String {
        let mut vars = format!(
            "ansible_connection=docker ansible_docker_host={} ansible_host={}",
            host.container, host.address
        );
        if let Some(h) = &self.host {
            vars.push_str(&format!(" ansible_docker_docker_host={h}"));
        }
        vars
    }

    fn shell_command(&self, host: &Host) -> String {
        match &self.host {
            Some(h) => format!("docker -H {h} exec -it {} bash", host.container),
            None => format!("docker exec -it {} bash", host.container),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_socket_path_becomes_a_unix_url() {
        assert_eq!(engine_url("/run/d.sock"), "unix:///run/d.sock");
        assert_eq!(engine_url("tcp://10.0.0.1:2375"), "tcp://10.0.0.1:2375");
    }

    #[test]
    fn systemd_options_follow_the_cgroup_version_and_privileged() {
        let v1 = create_args("1", false).join(" ");
        assert!(v1.contains("/sys/fs/cgroup:/sys/fs/cgroup:ro"), "{v1}");
        assert!(
            v1.contains("--cap-add SYS_ADMIN") && !v1.contains("--privileged"),
            "{v1}"
        );
        let v2 = create_args("2", true).join(" ");
        assert!(v2.contains("--cgroupns host") && v2.contains(":rw"), "{v2}");
        assert!(
            v2.contains("--privileged") && !v2.contains("SYS_ADMIN"),
            "{v2}"
        );
        assert!(v2.contains("--tmpfs /run --tmpfs /run/lock"), "{v2}");
    }
}

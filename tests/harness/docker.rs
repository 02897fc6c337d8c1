//! A private Docker engine per test process (Debian's docker.io on its own socket, data root, bridge
//! and containerd namespace; never the machine's default engine), with a local registry on demand.
//!
//! ```no_run
//! let engine = drover_integration::TestDockerEngine::start();
//! let out = engine.docker(&["ps", "-a"]);
//! assert!(out.status.success());
//! // `engine.docker_host()` is the `DOCKER_HOST` value for playbooks (`docker_host:` option);
//! // dropping `engine` stops dockerd, removes its files and restores the FORWARD policy.
//! ```
//! Slots (0-15) are leased machine-wide like the host slots: `<DOCKER_LEASE_DIR>/<n>` holds the
//! owner's pid and start time; a dead owner's engine is torn down before its slot is reused.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::lease::SlotTable;
use crate::setup::{cache_dir, harness_dir, require_root_and_setup};
use crate::HarnessError;

/// Where docker engine slot leases live (machine-wide).
const DOCKER_LEASE_DIR: &str = "/var/lib/drover-test/docker-leases";
const SLOTS: u8 = 16;

/// The image every engine starts with, imported from the harness's cached Debian 12 tarball
/// (`docker import`; `CMD ["/bin/bash"]`). No Python inside.
pub const TEST_IMAGE: &str = "drover-test/debian:bookworm";

/// A running private engine; stopped and removed on drop.
#[derive(Debug)]
pub struct TestDockerEngine {
    slot: u8,
    socket: PathBuf,
    lease: PathBuf,
}

impl TestDockerEngine {
    /// Sets the machine up if needed, leases a slot and starts its engine (about 2 s plus the image
    /// import). Panics with the script's output if that fails.
    pub fn start() -> TestDockerEngine {
        Self::try_start().unwrap_or_else(|error| panic!("docker engine unavailable: {error}"))
    }

    /// Like [`TestDockerEngine::start`], returning the error.
    pub fn try_start() -> Result<TestDockerEngine, HarnessError> {
        require_root_and_setup();
        let (slot, lease) = acquire()?;
        match engine_script("up", slot) {
            Ok(out) => Ok(TestDockerEngine {
                slot,
                socket: PathBuf::from(out.trim()),
                lease,
            }),
            Err(error) => {
                let _ = engine_script("down", slot);
                let _ = fs::remove_file(&lease);
                Err(error)
            }
        }
    }

    /// The engine's socket path.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// `unix://<socket>`: the value for `DOCKER_HOST` / the modules' `docker_host`.
    pub fn docker_host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// The engine's slot (its bridge is `drvdk<slot>`, `172.29.<slot>.1/24`).
    pub fn slot(&self) -> u8 {
        self.slot
    }

    /// Runs the docker CLI against this engine.
    pub fn docker(&self, args: &[&str]) -> Output {
        Command::new("docker")
            .args(args)
            .env("DOCKER_HOST", self.docker_host())
            .stdin(Stdio::null())
            .output()
            .expect("running the docker CLI")
    }

    /// Mode + owner (`tar -tv --numeric-owner`'s first two fields) and content of a file in a
    /// container, running or not (`docker cp CONTAINER:PATH -`); `None` when it cannot be read.
    pub fn container_file(&self, container: &str, path: &str) -> Option<(String, String)> {
        let out = self.docker(&["cp", &format!("{container}:{path}"), "-"]);
        if !out.status.success() {
            return None;
        }
        let tar = |args: &[&str]| {
            let mut child = Command::new("tar")
                .args(args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("tar");
            child
                .stdin
                .take()
                .expect("tar's stdin")
                .write_all(&out.stdout)
                .expect("writing to tar");
            let listed = child.wait_with_output().expect("tar");
            String::from_utf8_lossy(&listed.stdout).into_owned()
        };
        let list = tar(&["-tvf", "-", "--numeric-owner"]);
        let head: Vec<&str> = list.split_whitespace().take(2).collect();
        Some((head.join(" "), tar(&["-xOf", "-"])))
    }

    /// Runs the docker CLI and returns its trimmed stdout; panics with stderr on failure.
    pub fn docker_ok(&self, args: &[&str]) -> String {
        let out = self.docker(args);
        assert!(
            out.status.success(),
            "docker {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Makes image `tag` from `dockerfile` (its `FROM` is usually [`TEST_IMAGE`]; no build context),
    /// built once per machine and kept in the harness cache as a `docker save` archive keyed by a
    /// hash of the Dockerfile: later engines load it in a few seconds. The build uses the host's
    /// network, so `RUN apt-get install …` reaches Debian's archive as the LXC test hosts do.
    pub fn cached_image(&self, tag: &str, dockerfile: &str) -> String {
        let dir = cache_dir().join("docker-images");
        fs::create_dir_all(&dir).expect("creating the docker image cache");
        let hash = {
            let mut child = Command::new("sha256sum")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("running sha256sum");
            if let Some(mut stdin) = child.stdin.take() {
                stdin
                    .write_all(format!("{tag}\n{dockerfile}").as_bytes())
                    .expect("hashing the Dockerfile");
            }
            let out = child.wait_with_output().expect("sha256sum output");
            String::from_utf8_lossy(&out.stdout)[..16].to_string()
        };
        let safe: String = tag
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let archive = dir.join(format!("{safe}-{hash}.tar"));
        let lock_path = archive.with_extension("lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .expect("opening the image cache lock");
        lock.lock().expect("locking the image cache");
        if !archive.exists() {
            let mut build = Command::new("docker")
                .args(["build", "--network", "host", "-t", tag, "-"])
                .env("DOCKER_HOST", self.docker_host())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("running docker build");
            if let Some(mut stdin) = build.stdin.take() {
                stdin
                    .write_all(dockerfile.as_bytes())
                    .expect("writing the Dockerfile");
            }
            let out = build.wait_with_output().expect("docker build output");
            assert!(
                out.status.success(),
                "building {tag}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            let partial = archive.with_extension("partial");
            self.docker_ok(&["save", "-o", &partial.to_string_lossy(), tag]);
            fs::rename(&partial, &archive).expect("storing the image archive");
        } else {
            self.docker_ok(&["load", "-q", "-i", &archive.to_string_lossy()]);
        }
        tag.to_string()
    }

    /// Starts (once) this slot's local registry and returns its `127.0.0.1:<port>` address; the
    /// engine treats loopback registries as insecure, so push and pull work over plain HTTP.
    pub fn registry(&self) -> String {
        engine_script("registry", self.slot)
            .unwrap_or_else(|error| panic!("local registry unavailable: {error}"))
            .trim()
            .to_string()
    }
}

impl Drop for TestDockerEngine {
    fn drop(&mut self) {
        if let Err(error) = engine_script("down", self.slot) {
            eprintln!("stopping docker engine slot {}: {error}", self.slot);
        }
        let _ = fs::remove_file(&self.lease);
    }
}

fn engine_script(cmd: &str, slot: u8) -> Result<String, HarnessError> {
    let path = harness_dir().join("docker-engine.sh");
    let output = Command::new("bash")
        .arg(&path)
        .args([cmd, &slot.to_string()])
        .stdin(Stdio::null())
        .output()
        .map_err(HarnessError::io(format!("running {}", path.display())))?;
    if !output.status.success() {
        return Err(HarnessError::Script {
            script: path,
            args: format!("{cmd} {slot}"),
            status: output.status.to_string(),
            output: format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Leases a free engine slot (a dead owner's engine is torn down first).
fn acquire() -> Result<(u8, PathBuf), HarnessError> {
    let table = SlotTable::lock(Path::new(DOCKER_LEASE_DIR))?;
    for slot in 0..SLOTS {
        if table.is_held(slot) {
            continue;
        }
        engine_script("down", slot)?;
        return Ok((slot, table.take(slot)?));
    }
    Err(HarnessError::NoFreeSlots { wanted: 1, free: 0 })
}

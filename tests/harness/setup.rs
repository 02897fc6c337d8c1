//! Machine setup: root check and running `setup.sh` once per process.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::HarnessError;

/// Directory holding the harness scripts (`setup.sh`, `host.sh`).
pub fn harness_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/harness"))
}

/// The default state directory (also where every slot's lease lives).
pub(crate) const DEFAULT_STATE_DIR: &str = "/var/lib/drover-test";

/// The harness's state directory (lxcpath, base name, locks); `DROVER_TEST_STATE` overrides the
/// default `/var/lib/drover-test`, exactly as in `harness/common.sh`.
pub fn state_dir() -> PathBuf {
    std::env::var_os("DROVER_TEST_STATE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_STATE_DIR))
}

/// Checks that the process runs as root and runs `tests/harness/setup.sh` once per process (the script
/// itself takes a lock, so parallel test binaries do not race). Panics with a clear message otherwise.
/// `TestHosts::start` calls this itself; call it directly in tests that need the machine set up
/// without hosts.
pub fn require_root_and_setup() {
    if let Err(error) = try_require_root_and_setup() {
        panic!("real-host test harness unavailable: {error}");
    }
}

/// Like [`require_root_and_setup`], returning the error instead of panicking.
pub fn try_require_root_and_setup() -> Result<(), HarnessError> {
    static SETUP: OnceLock<Result<(), String>> = OnceLock::new();
    let outcome = SETUP.get_or_init(|| run_setup().map_err(|error| error.to_string()));
    outcome.clone().map_err(|output| HarnessError::Script {
        script: harness_dir().join("setup.sh"),
        args: String::new(),
        status: "earlier in this process".into(),
        output,
    })
}

fn run_setup() -> Result<(), HarnessError> {
    let uid = effective_uid()?;
    if uid != 0 {
        return Err(HarnessError::NotRoot(uid));
    }
    run_script("setup.sh", &[]).map(|_| ())
}

/// Runs a harness script with bash; returns its stdout, or an error carrying stdout + stderr.
pub(crate) fn run_script(script: &str, args: &[&str]) -> Result<String, HarnessError> {
    run_script_with_state(script, args, &state_dir())
}

/// Like [`run_script`], for the containers of state directory `state` (a dead owner's may differ).
pub(crate) fn run_script_with_state(
    script: &str,
    args: &[&str],
    state: &Path,
) -> Result<String, HarnessError> {
    let path = harness_dir().join(script);
    let output = Command::new("bash")
        .arg(&path)
        .args(args)
        .env("DROVER_TEST_STATE", state)
        .stdin(Stdio::null())
        .output()
        .map_err(HarnessError::io(format!("running {}", path.display())))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(HarnessError::Script {
            script: path,
            args: args.join(" "),
            status: output.status.to_string(),
            output: format!("{stdout}{stderr}"),
        });
    }
    if !stderr.is_empty() {
        // Progress messages (e.g. the one-time base build); captured by libtest like any test output.
        eprint!("{stderr}");
    }
    Ok(stdout)
}

fn effective_uid() -> Result<u32, HarnessError> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(HarnessError::io("reading /proc/self/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .and_then(|euid| euid.parse().ok())
        .ok_or_else(|| HarnessError::Io {
            context: "reading the effective uid from /proc/self/status".into(),
            source: std::io::Error::other("no Uid line"),
        })
}

/// The harness's cache directory (base rootfs, SSH key); `DROVER_TEST_CACHE` overrides the default
/// `/var/cache/drover-test`, exactly as in `harness/common.sh`.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("DROVER_TEST_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/drover-test"))
}

/// The harness's private SSH key (made by `setup.sh`).
pub(crate) fn state_key_path() -> PathBuf {
    cache_dir().join("id_ed25519")
}

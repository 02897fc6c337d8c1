//! Locating and running the `drover` binary from integration tests.
//!
//! `CARGO_BIN_EXE_drover` only exists inside the `drover-cli` package, so the harness asks cargo:
//! once per process it runs `cargo build --workspace --bin drover` with the profile of the running
//! test binary and takes the executable path from cargo's JSON messages. That is a no-op (< 1 s) when
//! the binary is fresh and rebuilds it when it is stale, so tests never run an old `drover`.
//! `--workspace` (not `-p drover-cli`) makes cargo resolve features exactly as for
//! `cargo test --workspace`, so it reuses the test build's artifacts instead of compiling the
//! dependency graph a second time with other feature sets.
//! `DROVER_BIN=/path/to/drover` skips the build and uses that binary.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// What a `drover` run produced.
#[derive(Debug, Clone)]
pub struct DroverOutput {
    /// Exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded.
    pub stderr: String,
}

impl DroverOutput {
    /// Whether drover exited with code 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// Panics with drover's output unless it exited with code 0.
    pub fn assert_success(&self) {
        assert_eq!(self.code, Some(0), "{}\n{}", self.stdout, self.stderr);
    }

    /// The `changed=` counts of every host in the PLAY RECAP, added up.
    pub fn changed(&self) -> u32 {
        self.stdout
            .lines()
            .filter(|l| l.contains(" : ok="))
            .filter_map(|l| {
                l.split("changed=")
                    .nth(1)?
                    .split_whitespace()
                    .next()?
                    .parse::<u32>()
                    .ok()
            })
            .sum()
    }
}

/// Path of an up-to-date `drover` binary (built on first use; panics with cargo's output on failure).
pub fn drover_bin() -> &'static Path {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match BIN.get_or_init(locate_or_build) {
        Ok(path) => path,
        Err(message) => panic!("cannot get the drover binary: {message}"),
    }
}

/// The environment variables of drover's deploy-lock settings (docs/LOCKING.md).
const LOCK_ENV: [&str; 8] = [
    "DROVER_LOCK",
    "DROVER_LOCK_DIR",
    "DROVER_LOCK_HOST",
    "DROVER_LOCK_NAME",
    "DROVER_LOCK_OWNER",
    "DROVER_LOCK_TTL",
    "DROVER_LOCK_WAIT",
    "DROVER_NO_LOCK",
];

/// [`drover_command`] without any deploy-lock setting from the environment (not even the
/// harness's `DROVER_LOCK_WAIT`): for tests of the locks themselves, which want drover's defaults
/// and refusals.
pub fn drover_command_default_locks() -> Command {
    let mut command = drover_command();
    for name in LOCK_ENV {
        command.env_remove(name);
    }
    command
}

/// A `Command` for the drover binary with stdin closed; add args, env and cwd as needed.
/// Runs get `DROVER_LOCK_WAIT=600` unless the environment sets it: two tests that reach the same
/// machine (the controller itself through [`crate::LoopbackSshd`]) then wait for each other's deploy
/// lock instead of failing (docs/LOCKING.md).
pub fn drover_command() -> Command {
    let mut command = Command::new(drover_bin());
    command.stdin(Stdio::null());
    if std::env::var_os("DROVER_LOCK_WAIT").is_none() {
        command.env("DROVER_LOCK_WAIT", "600");
    }
    command
}

/// Runs drover with `args` and returns its exit code and output.
pub fn run_drover<I, S>(args: I) -> DroverOutput
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let output = drover_command()
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("cannot run {}: {error}", drover_bin().display()));
    DroverOutput {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn locate_or_build() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("DROVER_BIN") {
        return Ok(PathBuf::from(path));
    }
    cargo_build_executable(&["--bin", "drover"], "drover")
}

/// Path of an up-to-date build of the example program `name` (the `examples/` crate: programs
/// that embed drover through its library API), built as [`drover_bin`] builds drover.
pub fn example_bin(name: &str) -> PathBuf {
    cargo_build_executable(&["--example", name], name)
        .unwrap_or_else(|message| panic!("cannot build the example {name}: {message}"))
}

/// Runs `cargo build --workspace ARGS` with the test binary's profile and returns the path of
/// the executable target `name` from cargo's JSON messages.
fn cargo_build_executable(args: &[&str], name: &str) -> Result<PathBuf, String> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("the tests crate has no parent directory")?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(&cargo);
    command
        .current_dir(workspace)
        .args(["build", "--workspace"])
        .args(args)
        .arg("--message-format=json-render-diagnostics")
        .args(profile_args())
        .stdin(Stdio::null());
    remove_test_run_env(&mut command);
    let output = command
        .output()
        .map_err(|error| format!("running {cargo:?}: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "`cargo build --workspace {}` failed:\n{}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact")
        .filter(|message| message["target"]["name"] == name)
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| format!("cargo reported no `{name}` executable"))
}

/// Removes the variables cargo sets for the running test binary. Passed on to the nested cargo they
/// reach build scripts (ring's tracks `CARGO_MANIFEST_DIR`), which then rebuild — and the outer
/// `cargo test` rebuilds again next time: a ping-pong of ~30 s per run.
fn remove_test_run_env(command: &mut Command) {
    const SET_BY_CARGO_FOR_TESTS: [&str; 8] = [
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_MANIFEST_LINKS",
        "CARGO_CRATE_NAME",
        "CARGO_BIN_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "LD_LIBRARY_PATH",
    ];
    for (key, _) in std::env::vars_os() {
        let key_text = key.to_string_lossy();
        if key_text.starts_with("CARGO_PKG_") || SET_BY_CARGO_FOR_TESTS.contains(&key_text.as_ref())
        {
            command.env_remove(&key);
        }
    }
}

/// Cargo flags selecting the profile the running test binary was built with
/// (`target/<profile-dir>/deps/<test>`): `debug` is the dev profile.
fn profile_args() -> Vec<String> {
    let profile_dir = std::env::current_exe().ok().and_then(|exe| {
        let deps = exe.parent()?;
        let profile = if deps.file_name()? == "deps" {
            deps.parent()?
        } else {
            deps
        };
        Some(profile.file_name()?.to_string_lossy().into_owned())
    });
    match profile_dir.as_deref() {
        None | Some("debug") => Vec::new(),
        Some("release") => vec!["--release".into()],
        Some(other) => vec!["--profile".into(), other.into()],
    }
}

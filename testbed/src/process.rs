//! Small process helpers shared by the drivers: running programs and scripts, root and tool
//! checks, owner marks on directories, and waiting for systemd to finish booting.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::Command;

use crate::error::DriverError;

/// Seconds a host may take to finish booting.
pub(crate) const BOOT_TIMEOUT: u64 = 90;

/// The effective user id of this process.
pub(crate) fn euid() -> u32 {
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

/// Marks `dir` (a container's or a run's) as belonging to this process.
pub(crate) fn mark_owner(dir: &Path) {
    let _ = std::fs::write(
        dir.join("drover-test.owner"),
        std::process::id().to_string(),
    );
}

/// Whether the process that made `dir` still runs (see [`mark_owner`]).
pub(crate) fn owner_alive(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("drover-test.owner"))
        .ok()
        .and_then(|p| p.trim().parse::<u32>().ok())
        .is_some_and(|pid| pid != std::process::id() && Path::new(&format!("/proc/{pid}")).exists())
}

pub(crate) fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(tool).is_file()))
        || ["/usr/sbin", "/sbin", "/usr/bin"]
            .iter()
            .any(|d| Path::new(d).join(tool).is_file())
}

/// Runs a program with no stdin to its end; killed if the future is dropped.
async fn spawn(program: &str, args: &[&str]) -> Result<std::process::Output, DriverError> {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| DriverError::io(program, e))
}

/// Runs a program; its exit status, stdout and stderr. Killed if the future is dropped.
pub(crate) async fn output(
    program: &str,
    args: &[&str],
) -> Result<(bool, String, String), DriverError> {
    let out = spawn(program, args).await?;
    Ok((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

/// Runs a program that must succeed; its stdout.
pub(crate) async fn run(program: &str, args: &[&str]) -> Result<String, DriverError> {
    let out = spawn(program, args).await?;
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
pub(crate) async fn run_script(script: &str, args: &[&str]) -> Result<String, DriverError> {
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

/// Waits until `systemctl is-system-running --wait`, run in `host` by `program prefix…`, says
/// `running` or `degraded` (at most [`BOOT_TIMEOUT`] seconds).
pub(crate) async fn wait_booted(
    program: &str,
    prefix: &[&str],
    host: &str,
) -> Result<(), DriverError> {
    let mut args = prefix.to_vec();
    args.extend_from_slice(&["systemctl", "is-system-running", "--wait"]);
    let deadline = Instant::now() + Duration::from_secs(BOOT_TIMEOUT);
    let mut state = String::from("not started");
    while Instant::now() < deadline {
        match tokio::time::timeout_at(deadline.into(), output(program, &args)).await {
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
        host: host.to_string(),
        seconds: BOOT_TIMEOUT,
        state,
    })
}

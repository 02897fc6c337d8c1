//! `reboot`: reboots the host, waits until it is back (its boot identity changed and
//! `test_command` succeeds over a fresh connection) and reports `rebooted` and `elapsed`.
//!
//! Like Ansible, the boot is detected by comparing a boot identity read before and after. Ansible
//! reads `/proc/sys/kernel/random/boot_id`, which belongs to the kernel and so does not change when
//! a container restarts; drover's default also reads the start time of PID 1, so container reboots
//! are detected too. `boot_time_command` overrides it.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use drover_core::connection::shell_quote;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;

use super::de_secs;

/// Default boot identity: the kernel's boot id and PID 1's start time (clock ticks since boot).
const DEFAULT_BOOT_TIME_COMMAND: &str =
    "cat /proc/sys/kernel/random/boot_id && sed 's/.*) //' /proc/1/stat | cut -d' ' -f20";

/// Parameters of `reboot`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct RebootParams {
    /// Seconds before the reboot (passed to `shutdown` in whole minutes, rounded down).
    #[serde(default, deserialize_with = "de_secs")]
    pub pre_reboot_delay: u64,
    /// Seconds to wait after the reboot command before checking that the host is back.
    #[serde(default, deserialize_with = "de_secs")]
    pub post_reboot_delay: u64,
    /// Seconds to wait for the host to come back and pass `test_command`.
    #[serde(default = "six_hundred", deserialize_with = "de_secs")]
    pub reboot_timeout: u64,
    /// Seconds one connection attempt may take.
    #[serde(default = "ten", deserialize_with = "de_secs")]
    pub connect_timeout: u64,
    /// Command that must succeed after the reboot.
    #[serde(default = "whoami")]
    pub test_command: String,
    /// Message broadcast to logged-in users.
    #[serde(default = "default_msg")]
    pub msg: String,
    /// Command whose output identifies the current boot.
    #[serde(default)]
    pub boot_time_command: Option<String>,
    /// Command that reboots the host (default `shutdown -r +<minutes> "<msg>"`).
    #[serde(default)]
    pub reboot_command: Option<String>,
    /// Directories searched for `shutdown`.
    #[serde(default)]
    pub search_paths: Option<Vec<String>>,
}

fn six_hundred() -> u64 {
    600
}
fn ten() -> u64 {
    10
}
fn whoami() -> String {
    "whoami".into()
}
fn default_msg() -> String {
    "Reboot initiated by Ansible".into()
}

/// The `reboot` module.
pub struct Reboot;

/// The shell line that reboots the host.
fn reboot_command(p: &RebootParams) -> String {
    if let Some(cmd) = &p.reboot_command {
        return cmd.clone();
    }
    let paths = p.search_paths.clone().unwrap_or_else(|| {
        vec![
            "/sbin".into(),
            "/bin".into(),
            "/usr/sbin".into(),
            "/usr/bin".into(),
            "/usr/local/sbin".into(),
        ]
    });
    let path = paths.join(":");
    format!(
        "PATH={}:$PATH shutdown -r +{} {}",
        shell_quote(&path),
        p.pre_reboot_delay / 60,
        shell_quote(&p.msg)
    )
}

/// A failed result carrying `rebooted` and `elapsed`.
fn failure(msg: String, rebooted: bool, start: Instant) -> ModuleResult {
    ModuleResult::failed(msg)
        .with("rebooted", rebooted)
        .with("elapsed", start.elapsed().as_secs())
}

#[async_trait]
impl TypedModule for Reboot {
    const NAME: &'static str = "reboot";
    /// ansible-core's action refuses `async`.
    const ASYNC: drover_core::async_job::AsyncSupport =
        drover_core::async_job::AsyncSupport::Unsupported;
    type Params = RebootParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: RebootParams,
    ) -> Result<ModuleResult, ModuleError> {
        let start = Instant::now();
        if ctx.check_mode {
            return Ok(ModuleResult::changed(true)
                .with("rebooted", true)
                .with("elapsed", 0));
        }
        let boot_cmd = p
            .boot_time_command
            .clone()
            .unwrap_or_else(|| DEFAULT_BOOT_TIME_COMMAND.into());
        let before = ctx.conn.run(boot_cmd.clone()).await?;
        if !before.success() {
            return Ok(failure(
                format!(
                    "failed to read the boot identity with '{boot_cmd}': {}",
                    before.stderr_str().trim()
                ),
                false,
                start,
            ));
        }
        let before = before.stdout_str();
        match ctx.conn.run(reboot_command(&p)).await {
            Ok(out) if !out.success() => {
                return Ok(failure(
                    format!(
                        "Reboot command failed. Error was: '{}'",
                        format!("{}{}", out.stdout_str(), out.stderr_str()).trim()
                    ),
                    false,
                    start,
                ));
            }
            // The host may drop the connection while the command returns: that is expected.
            Ok(_) | Err(drover_core::connection::ConnectionError::Lost { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        let pre = Duration::from_secs(p.pre_reboot_delay);
        tokio::time::sleep(Duration::from_secs(p.post_reboot_delay) + pre).await;
        let deadline = start + pre + Duration::from_secs(p.reboot_timeout);
        let attempt_timeout = Duration::from_secs(p.connect_timeout.max(1));
        let mut booted = false;
        let mut last_error;
        loop {
            ctx.conn.reset().await;
            let step = if booted {
                p.test_command.as_str()
            } else {
                boot_cmd.as_str()
            };
            match tokio::time::timeout(attempt_timeout, ctx.conn.run(step)).await {
                Ok(Ok(out)) if out.success() => {
                    if booted {
                        return Ok(ModuleResult::changed(true)
                            .with("rebooted", true)
                            .with("elapsed", start.elapsed().as_secs()));
                    }
                    if out.stdout_str() != before {
                        booted = true;
                        continue;
                    }
                    last_error = "the boot identity has not changed yet".into();
                }
                Ok(Ok(out)) => {
                    last_error = format!(
                        "'{step}' returned rc {}: {}",
                        out.rc,
                        out.stderr_str().trim()
                    )
                }
                Ok(Err(e)) => last_error = e.to_string(),
                Err(_) => last_error = format!("no answer within {} seconds", p.connect_timeout),
            }
            if Instant::now() + Duration::from_secs(1) >= deadline {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let what = if booted {
            "post-reboot test command"
        } else {
            "system to reboot"
        };
        Ok(failure(
            format!(
                "Timed out waiting for {what} ({}s): {last_error}",
                p.reboot_timeout
            ),
            booted,
            start,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use drover_core::module::parse_params;
    use serde_json::Value;

    fn params(v: Value) -> RebootParams {
        parse_params("reboot", &v).unwrap()
    }

    #[test]
    fn default_command_uses_shutdown_with_minutes() {
        let p = params(serde_json::json!({"pre_reboot_delay": 130, "msg": "it's time"}));
        let cmd = reboot_command(&p);
        assert!(cmd.contains(r"shutdown -r +2 'it'\''s time'"), "{cmd}");
        assert!(cmd.starts_with("PATH=/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:$PATH"));
        let p = params(serde_json::json!({"reboot_command": "systemctl reboot"}));
        assert_eq!(reboot_command(&p), "systemctl reboot");
    }

    #[test]
    fn unknown_keys_and_bad_numbers_are_rejected() {
        let e = parse_params::<RebootParams>("reboot", &serde_json::json!({"timeout": 5}));
        assert!(e
            .unwrap_err()
            .to_string()
            .contains("unknown field `timeout`"));
        let e = parse_params::<RebootParams>("reboot", &serde_json::json!({"reboot_timeout": "x"}));
        assert!(e.is_err());
    }
}

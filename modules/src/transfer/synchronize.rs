//! `synchronize` (ansible.posix): runs `rsync` on the controller to push files to the target or
//! pull them from it, over ssh with the host's own connection settings (address, port, user,
//! key, known_hosts, ssh args) resolved exactly as drover's ssh transport resolves them.

use std::path::Path;

use async_trait::async_trait;
use drover_core::connection::ssh::{HostKeyPolicy, SshOptions};
use drover_core::connection::{shell_quote, BecomeMethod};
use drover_core::executor::{ssh_options, transport_for, RunOptions};
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use drover_core::vars::Vars;
use serde::Deserialize;
use serde_json::Value;

use super::bad_args;
use crate::params::{de_bool, de_opt_bool, de_opt_string, de_string, de_string_list};

/// Parameters of `synchronize`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct SyncParams {
    /// Source path (controller for push, target for pull).
    #[serde(deserialize_with = "de_string")]
    pub src: String,
    /// Destination path (target for push, controller for pull).
    #[serde(deserialize_with = "de_string")]
    pub dest: String,
    /// `push` (default) or `pull`.
    #[serde(default = "push", deserialize_with = "de_string")]
    #[param(choices("pull", "push"), default = "push")]
    pub mode: String,
    /// `--archive` (default yes).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    pub archive: bool,
    /// Compare by checksum instead of time and size.
    #[serde(default, deserialize_with = "de_bool")]
    pub checksum: bool,
    /// Compress in transit (default yes).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    pub compress: bool,
    /// Only update files that already exist at the destination.
    #[serde(default, deserialize_with = "de_bool")]
    pub existing_only: bool,
    /// Delete destination files missing from the source.
    #[serde(default, deserialize_with = "de_bool")]
    pub delete: bool,
    /// Transfer directories without recursing.
    #[serde(default, deserialize_with = "de_bool")]
    pub dirs: bool,
    /// Recurse (default: the value of `archive`).
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub recursive: Option<bool>,
    /// Copy symlinks as symlinks (default: `archive`).
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub links: Option<bool>,
    /// Copy what symlinks point to.
    #[serde(default, deserialize_with = "de_bool")]
    pub copy_links: bool,
    /// Preserve permissions (default: `archive`).
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub perms: Option<bool>,
    /// Preserve modification times (default: `archive`).
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub times: Option<bool>,
    /// Preserve owners (default: `archive`).
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub owner: Option<bool>,
    /// Preserve groups (default: `archive`).
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub group: Option<bool>,
    /// rsync on the target (e.g. `sudo rsync`).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub rsync_path: Option<String>,
    /// rsync `--timeout` in seconds (0 = none).
    #[serde(default)]
    pub rsync_timeout: Option<Value>,
    /// Extra rsync options.
    #[serde(default, deserialize_with = "de_string_list")]
    pub rsync_opts: Vec<String>,
    /// Keep partially transferred files.
    #[serde(default, deserialize_with = "de_bool")]
    pub partial: bool,
    /// Check the target's host key (default no, as Ansible).
    #[serde(default, deserialize_with = "de_bool")]
    pub verify_host: bool,
    /// Private key to use instead of the host's.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub private_key: Option<String>,
    /// Port to use instead of the host's.
    #[serde(default)]
    pub dest_port: Option<Value>,
    /// Put `user@` in the remote path (default yes).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    pub set_remote_user: bool,
    /// Accepted: the host's ssh args are always used.
    #[serde(default, deserialize_with = "de_bool")]
    pub use_ssh_args: bool,
    /// Accepted for compatibility (no ControlMaster is used).
    #[serde(default, deserialize_with = "de_bool")]
    pub ssh_connection_multiplexing: bool,
    /// `--link-dest` directories.
    #[serde(default, deserialize_with = "de_string_list")]
    pub link_dest: Vec<String>,
    /// `--delay-updates` (default yes).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    pub delay_updates: bool,
}

fn yes() -> bool {
    true
}
fn push() -> String {
    "push".into()
}

/// The `synchronize` module.
pub struct Synchronize;

/// How the remote end is reached.
pub struct Remote {
    /// `user@host:` prefix (empty for a local connection).
    pub prefix: String,
    /// The `--rsh` command, when over ssh.
    pub rsh: Option<String>,
}

/// The `--rsh` ssh command and the remote prefix for resolved ssh options.
pub fn remote_for(o: &SshOptions, p: &SyncParams, port: Option<u16>) -> Remote {
    let mut rsh = vec!["ssh".to_string(), "-S".into(), "none".into()];
    rsh.push("-o".into());
    rsh.push("BatchMode=yes".into());
    let port = port.unwrap_or(o.port);
    if port != 22 {
        rsh.push("-p".into());
        rsh.push(port.to_string());
    }
    let keys: Vec<String> = match &p.private_key {
        Some(k) => vec![k.clone()],
        None => o
            .identity_files
            .iter()
            .map(|k| k.display().to_string())
            .collect(),
    };
    for k in keys {
        rsh.push("-i".into());
        rsh.push(shell_quote(&k));
    }
    if p.verify_host && o.host_key_policy != HostKeyPolicy::Off {
        let files: Vec<String> = o
            .known_hosts_files
            .iter()
            .map(|f| f.display().to_string())
            .collect();
        if !files.is_empty() {
            rsh.push("-o".into());
            rsh.push(shell_quote(&format!(
                "UserKnownHostsFile={}",
                files.join(" ")
            )));
        }
        let strict = if o.host_key_policy == HostKeyPolicy::AcceptNew {
            "accept-new"
        } else {
            "yes"
        };
        rsh.push("-o".into());
        rsh.push(format!("StrictHostKeyChecking={strict}"));
        if let Some(a) = &o.host_key_alias {
            rsh.push("-o".into());
            rsh.push(shell_quote(&format!("HostKeyAlias={a}")));
        }
    } else {
        rsh.push("-o".into());
        rsh.push("StrictHostKeyChecking=no".into());
        rsh.push("-o".into());
        rsh.push("UserKnownHostsFile=/dev/null".into());
    }
    if let Some(j) = &o.proxy_jump {
        rsh.push("-J".into());
        rsh.push(shell_quote(j));
    } else if let Some(c) = &o.proxy_command {
        rsh.push("-o".into());
        rsh.push(shell_quote(&format!("ProxyCommand={c}")));
    }
    let host = if o.host.contains(':') {
        format!("[{}]", o.host)
    } else {
        o.host.clone()
    };
    let prefix = if p.set_remote_user {
        format!("{}@{host}:", o.user)
    } else {
        format!("{host}:")
    };
    Remote {
        prefix,
        rsh: Some(rsh.join(" ")),
    }
}

/// The rsync arguments (without source and destination).
pub fn rsync_args(
    p: &SyncParams,
    check: bool,
    rsync_path: Option<&str>,
    rsh: Option<&str>,
) -> Result<Vec<String>, String> {
    let mut a = Vec::new();
    if p.delay_updates {
        a.push("--delay-updates".to_string());
    }
    a.push("-F".into());
    if p.compress {
        a.push("--compress".into());
    }
    if p.archive {
        a.push("--archive".into());
    }
    let flag = |a: &mut Vec<String>, v: Option<bool>, name: &str| match (p.archive, v) {
        (true, Some(false)) => a.push(format!("--no-{name}")),
        (false, Some(true)) => a.push(format!("--{name}")),
        _ => {}
    };
    flag(&mut a, p.recursive, "recursive");
    flag(&mut a, p.links, "links");
    flag(&mut a, p.perms, "perms");
    flag(&mut a, p.times, "times");
    flag(&mut a, p.owner, "owner");
    flag(&mut a, p.group, "group");
    if p.checksum {
        a.push("--checksum".into());
    }
    if p.copy_links {
        a.push("--copy-links".into());
    }
    if p.existing_only {
        a.push("--existing".into());
    }
    if p.dirs {
        a.push("--dirs".into());
    }
    if p.delete {
        a.push("--delete-after".into());
    }
    if p.partial {
        a.push("--partial".into());
    }
    match &p.rsync_timeout {
        None | Some(Value::Null) => {}
        Some(v) => {
            let n = match v {
                Value::Number(n) => n.as_u64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            }
            .ok_or_else(|| format!("rsync_timeout must be a number of seconds, got {v}"))?;
            if n > 0 {
                a.push(format!("--timeout={n}"));
            }
        }
    }
    for l in &p.link_dest {
        a.push(format!("--link-dest={l}"));
    }
    if check {
        a.push("--dry-run".into());
    }
    if let Some(r) = rsync_path {
        a.push(format!("--rsync-path={r}"));
    }
    if let Some(r) = rsh {
        a.push(format!("--rsh={r}"));
    }
    a.extend(p.rsync_opts.iter().cloned());
    a.push("--out-format=<<CHANGED>>%i %n%L".into());
    Ok(a)
}

/// The host's connection variables, rendered.
fn connection_vars(ctx: &ModuleContext<'_>) -> Result<Vars, ModuleError> {
    let mut out = Vars::new();
    for (k, v) in ctx.controller.vars() {
        if !k.starts_with("ansible_") {
            continue;
        }
        let v = match v {
            Value::String(s) if s.contains("{{") || s.contains("{%") => {
                Value::String(ctx.controller.render_str(s)?)
            }
            other => other.clone(),
        };
        out.insert(k.clone(), v);
    }
    Ok(out)
}

fn local_path(
    ctx: &ModuleContext<'_>,
    path: &str,
    must_exist: bool,
) -> Result<String, ModuleError> {
    if Path::new(path).is_absolute() {
        return Ok(path.to_string());
    }
    let slash = if path.ends_with('/') { "/" } else { "" };
    if must_exist {
        if let Ok(found) = ctx
            .controller
            .find_file("files", path.trim_end_matches('/'))
        {
            return Ok(format!("{}{slash}", found.display()));
        }
    }
    let base = ctx
        .controller
        .vars()
        .get("playbook_dir")
        .and_then(Value::as_str)
        .unwrap_or(".");
    Ok(format!("{}/{path}", base.trim_end_matches('/')))
}

#[async_trait]
impl TypedModule for Synchronize {
    const NAME: &'static str = "synchronize";
    /// ansible-core's action refuses `async`.
    const ASYNC: drover_core::async_job::AsyncSupport =
        drover_core::async_job::AsyncSupport::Unsupported;
    type Params = SyncParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: SyncParams,
    ) -> Result<ModuleResult, ModuleError> {
        let bad = |m: String| bad_args("synchronize", m);
        let pull = match p.mode.as_str() {
            "push" => false,
            "pull" => true,
            other => return Err(bad(format!("mode must be push or pull, got {other}"))),
        };
        let vars = connection_vars(ctx)?;
        let opts = RunOptions::default();
        let local = transport_for(ctx.host, &vars, &opts) == "local";
        let remote = if local {
            Remote {
                prefix: String::new(),
                rsh: None,
            }
        } else {
            let (o, _warnings) = ssh_options(ctx.host, &vars, &opts)
                .map_err(|e| ModuleError::Local(e.to_string()))?;
            let port = match &p.dest_port {
                None | Some(Value::Null) => None,
                Some(Value::Number(n)) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
                Some(Value::String(s)) => s.trim().parse().ok(),
                Some(_) => None,
            };
            remote_for(&o, &p, port)
        };
        let rsync_path = p.rsync_path.clone().or_else(|| {
            let b = ctx.conn.become_settings()?;
            (b.method == BecomeMethod::Sudo).then(|| {
                if b.user == "root" {
                    "sudo -n rsync".to_string()
                } else {
                    format!("sudo -n -u {} rsync", b.user)
                }
            })
        });
        let (src, dest) = if pull {
            (
                format!("{}{}", remote.prefix, p.src),
                local_path(ctx, &p.dest, false)?,
            )
        } else {
            (
                local_path(ctx, &p.src, true)?,
                format!("{}{}", remote.prefix, p.dest),
            )
        };
        let mut argv = rsync_args(
            &p,
            ctx.check_mode,
            rsync_path.as_deref(),
            remote.rsh.as_deref(),
        )
        .map_err(bad)?;
        argv.push(src);
        argv.push(dest);
        let cmd = format!(
            "rsync {}",
            argv.iter()
                .map(|a| shell_quote(a))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let output = tokio::process::Command::new("rsync")
            .args(&argv)
            .stdin(std::process::Stdio::null())
            .output()
            .await;
        let output = match output {
            Ok(o) => o,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(ModuleResult::failed(
                    "rsync is not installed on the controller (synchronize runs rsync locally)",
                )
                .with("cmd", cmd));
            }
            Err(e) => return Err(ModuleError::Local(format!("running rsync: {e}"))),
        };
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let rc = output.status.code().unwrap_or(-1);
        let lines: Vec<Value> = stdout.lines().map(Value::from).collect();
        let mut r = ModuleResult::changed(stdout.contains("<<CHANGED>>"))
            .with("cmd", cmd)
            .with("rc", rc)
            .with("stdout_lines", lines);
        if rc != 0 {
            r.changed = false;
            r.failed = true;
            let hint = if stderr.contains("command not found") || rc == 127 {
                " (is rsync installed on the target?)"
            } else {
                ""
            };
            r.msg = Some(format!("{}{hint}", stderr.trim()));
            return Ok(r);
        }
        if ctx.diff && r.changed {
            let changes: String = stdout
                .lines()
                .filter_map(|l| l.strip_prefix("<<CHANGED>>"))
                .map(|l| format!("{l}\n"))
                .collect();
            r = r.with_diff(drover_core::module::Diff {
                before_header: None,
                after_header: None,
                before: String::new(),
                after: changes,
            });
        }
        r.msg = Some(stdout);
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(v: Value) -> SyncParams {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn rsync_flags_follow_ansible() {
        let p = params(
            serde_json::json!({"src": "a/", "dest": "/b", "delete": true, "times": false, "rsync_opts": ["--exclude=.git"]}),
        );
        let a = rsync_args(&p, true, Some("sudo rsync"), Some("ssh -p 2222")).unwrap();
        assert_eq!(
            a,
            vec![
                "--delay-updates",
                "-F",
                "--compress",
                "--archive",
                "--no-times",
                "--delete-after",
                "--dry-run",
                "--rsync-path=sudo rsync",
                "--rsh=ssh -p 2222",
                "--exclude=.git",
                "--out-format=<<CHANGED>>%i %n%L"
            ]
        );
    }

    #[test]
    fn remote_uses_connection_settings() {
        let mut o = SshOptions::new("10.0.0.5");
        o.port = 2222;
        o.user = "deploy".into();
        o.identity_files = vec!["/k/id".into()];
        o.known_hosts_files = vec!["/kh".into()];
        let p = params(serde_json::json!({"src": "a", "dest": "/b", "verify_host": true}));
        let r = remote_for(&o, &p, None);
        assert_eq!(r.prefix, "deploy@10.0.0.5:");
        assert_eq!(r.rsh.unwrap(), "ssh -S none -o BatchMode=yes -p 2222 -i /k/id -o UserKnownHostsFile=/kh -o StrictHostKeyChecking=yes");
    }
}

//! `sysctl`: keeps a `key=value` line in a sysctl file (default `/etc/sysctl.conf`), reloads it
//! with `sysctl -p` when it changed, and with `sysctl_set` also checks and sets the running value,
//! as ansible-core does.

use async_trait::async_trait;
use drover_core::connection::shell_quote;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;

use crate::accounts::group::Presence;
use crate::params::{de_bool, de_opt_string, de_string};

/// Parameters of `sysctl`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct SysctlParams {
    /// Key (`net.ipv4.ip_forward`; `/` separators are accepted).
    #[serde(alias = "key", deserialize_with = "de_string")]
    pub name: String,
    /// Value (required for `present`).
    #[serde(default, alias = "val", deserialize_with = "de_opt_string")]
    pub value: Option<String>,
    /// Whether the entry is present or absent in the file.
    #[serde(default)]
    pub state: Presence,
    /// Reload the file after a change.
    #[serde(default = "yes", deserialize_with = "de_bool")]
    #[param(default = "true")]
    pub reload: bool,
    /// The file to edit.
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(kind = "path", default = "/etc/sysctl.conf")]
    pub sysctl_file: Option<String>,
    /// Also check and set the running value with `sysctl -w`.
    #[serde(default, deserialize_with = "de_bool")]
    pub sysctl_set: bool,
    /// Ignore unknown keys on reload.
    #[serde(default, deserialize_with = "de_bool")]
    pub ignoreerrors: bool,
}

fn yes() -> bool {
    true
}

/// The `sysctl` module.
pub struct Sysctl;

/// Normalizes a value for comparison (whitespace runs collapse; booleans become 1/0).
fn normalize(v: &str) -> String {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" => "1".into(),
        "false" | "no" | "off" => "0".into(),
        _ => v.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

/// Applies the wanted line to the file's lines: replaces the first line for the key (removing
/// later duplicates) or appends; `None` removes it.
fn apply(lines: &[String], key: &str, value: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    let mut done = false;
    for l in lines {
        let t = l.trim_start();
        let is_key = !t.starts_with('#')
            && !t.starts_with(';')
            && t.split_once('=')
                .is_some_and(|(k, _)| k.trim().replace('/', ".") == key);
        if is_key {
            if let (Some(v), false) = (value, done) {
                out.push(format!("{key}={v}"));
            }
            done = true;
            continue;
        }
        out.push(l.clone());
    }
    if let (Some(v), false) = (value, done) {
        out.push(format!("{key}={v}"));
    }
    out
}

/// The current value of the key in the file (normalized), if any.
fn file_value(lines: &[String], key: &str) -> Option<String> {
    lines.iter().find_map(|l| {
        let t = l.trim_start();
        if t.starts_with('#') || t.starts_with(';') {
            return None;
        }
        let (k, v) = t.split_once('=')?;
        (k.trim().replace('/', ".") == key).then(|| normalize(v))
    })
}

#[async_trait]
impl TypedModule for Sysctl {
    const NAME: &'static str = "sysctl";
    type Params = SysctlParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: SysctlParams,
    ) -> Result<ModuleResult, ModuleError> {
        let key = p.name.trim().replace('/', ".");
        let present = p.state == Presence::Present;
        let value = match (&p.value, present) {
            (Some(v), _) => Some(normalize(v)),
            (None, true) => {
                return Ok(ModuleResult::failed("value cannot be None"));
            }
            (None, false) => None,
        };
        let file = p.sysctl_file.as_deref().unwrap_or("/etc/sysctl.conf");
        let qfile = shell_quote(file);
        let proc_path = shell_quote(&format!("/proc/sys/{}", key.replace('.', "/")));
        let out = ctx
            .conn
            .run(format!(
                "cat {qfile} 2>/dev/null; echo '@@RUNTIME@@'; cat {proc_path} 2>/dev/null || echo '@@NOKEY@@'"
            ))
            .await?;
        let text = out.stdout_str();
        let (file_text, runtime) = text.split_once("@@RUNTIME@@\n").unwrap_or((&text, ""));
        if present && runtime.contains("@@NOKEY@@") && !p.ignoreerrors {
            return Ok(ModuleResult::failed(format!(
                "setting {key} failed: invalid token (key not found in /proc/sys)"
            )));
        }
        let lines: Vec<String> = file_text.lines().map(str::to_string).collect();
        let file_changed = match (&value, present) {
            (Some(v), true) => file_value(&lines, &key).as_deref() != Some(v.as_str()),
            (_, false) => file_value(&lines, &key).is_some(),
            _ => false,
        };
        let runtime_changed =
            present && p.sysctl_set && value.as_deref() != Some(normalize(runtime).as_str());
        let changed = file_changed || runtime_changed;
        let mut result = ModuleResult::changed(changed);
        if !changed || ctx.check_mode {
            return Ok(result);
        }
        let mut script = String::new();
        if runtime_changed {
            if let Some(v) = &value {
                script.push_str(&format!(
                    "sysctl -w {} >/dev/null 2>&1 || {{ echo \"@@FAIL@@setting {key} failed\"; exit 1; }}\n",
                    shell_quote(&format!("{key}={v}"))
                ));
            }
        }
        if file_changed {
            let new = apply(&lines, &key, value.as_deref().filter(|_| present));
            let mut content = new.join("\n");
            content.push('\n');
            ctx.conn.write_file_atomic(content.as_bytes(), file).await?;
            if p.reload {
                let ignore = if p.ignoreerrors { " -e" } else { "" };
                script.push_str(&format!(
                    "o=$(sysctl{ignore} -p {qfile} 2>&1) || {{ printf '@@FAIL@@Failed to reload sysctl: %s' \"$o\"; exit 1; }}\n"
                ));
            }
        }
        if !script.is_empty() {
            let out = ctx.conn.run(script).await?;
            if !out.success() {
                let text = out.stdout_str();
                let msg = text
                    .split("@@FAIL@@")
                    .nth(1)
                    .unwrap_or(&text)
                    .trim()
                    .to_string();
                result = ModuleResult::failed(msg);
                result.changed = file_changed;
            }
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(s: &str) -> Vec<String> {
        s.lines().map(str::to_string).collect()
    }

    #[test]
    fn edits_sysctl_lines() {
        let cur = lines("# c\nnet.ipv4.ip_forward = 0\nvm.swappiness=10\nnet/ipv4/ip_forward=0\n");
        assert_eq!(
            file_value(&cur, "net.ipv4.ip_forward").as_deref(),
            Some("0")
        );
        let new = apply(&cur, "net.ipv4.ip_forward", Some("1"));
        assert_eq!(new, lines("# c\nnet.ipv4.ip_forward=1\nvm.swappiness=10\n"));
        let new = apply(&cur, "kernel.x", Some("2"));
        assert_eq!(new.last().unwrap(), "kernel.x=2");
        let new = apply(&cur, "vm.swappiness", None);
        assert_eq!(new.len(), 3);
        assert_eq!(normalize(" 4096  87380\t6291456 "), "4096 87380 6291456");
        assert_eq!(normalize("yes"), "1");
    }
}

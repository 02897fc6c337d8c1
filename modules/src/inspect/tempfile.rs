//! `tempfile`: creates a temporary file or directory on the target with `mktemp`.

use async_trait::async_trait;
use drover_core::connection::shell_quote;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::{ModuleParams, ParamChoices};
use serde::Deserialize;

use crate::files::add_file_attrs;
use crate::params::{de_opt_string, de_string};
use crate::remote::probe::{parse_probe, probe_script, ProbeRequest};
use crate::remote::quote_path;

/// Parameters of `tempfile`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct TempfileParams {
    /// `file` (default) or `directory`.
    #[serde(default)]
    pub state: TempKind,
    /// Directory to create it in (default: the target's `TMPDIR` or `/tmp`).
    #[param(kind = "path")]
    #[serde(default, deserialize_with = "de_opt_string")]
    pub path: Option<String>,
    /// Name prefix (default `ansible.`).
    #[serde(default = "default_prefix", deserialize_with = "de_string")]
    pub prefix: String,
    /// Name suffix.
    #[serde(default, deserialize_with = "de_string")]
    pub suffix: String,
}

fn default_prefix() -> String {
    "ansible.".into()
}

/// What `tempfile` creates.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, ParamChoices)]
#[serde(rename_all = "lowercase")]
pub enum TempKind {
    /// A regular file (mode 0600).
    #[default]
    File,
    /// A directory (mode 0700).
    Directory,
}

/// The `mktemp` command for `p`, printing the new path.
pub fn mktemp_command(p: &TempfileParams) -> Result<String, String> {
    // tempfile.py: a prefix or suffix must be its own basename.
    for (name, value) in [("prefix", &p.prefix), ("suffix", &p.suffix)] {
        if value.contains('/') {
            return Err(format!(
                "{name} must be a valid file name component, got '{value}'"
            ));
        }
    }
    let dir = match &p.path {
        Some(d) => quote_path(d),
        None => "\"${TMPDIR:-/tmp}\"".into(),
    };
    let d = if p.state == TempKind::Directory {
        " -d"
    } else {
        ""
    };
    Ok(format!(
        "cd {dir} || exit $?; t=$(mktemp{d} --suffix={} -p \"$(pwd)\" {}) || exit $?",
        shell_quote(&p.suffix),
        shell_quote(&format!("{}XXXXXXXX", p.prefix))
    ))
}

/// The `tempfile` module.
pub struct Tempfile;

#[async_trait]
impl TypedModule for Tempfile {
    const NAME: &'static str = "tempfile";
    const CHECK_MODE: bool = false;
    type Params = TempfileParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: TempfileParams,
    ) -> Result<ModuleResult, ModuleError> {
        let cmd = match mktemp_command(&p) {
            Ok(c) => c,
            Err(e) => return Ok(ModuleResult::failed(e)),
        };
        // The probe request names "$t", which the shell expands after mktemp ran.
        let probe = [ProbeRequest::new("@T@")];
        let script = format!(
            "{cmd}\nprintf '@path %s\\n' \"$t\"\n{}",
            probe_script(&probe).replace("_p0=@T@", "_p0=\"$t\"")
        );
        let out = ctx.conn.run(script).await?;
        if out.rc != 0 {
            return Ok(ModuleResult::failed(format!(
                "could not create a temporary {}: {}",
                if p.state == TempKind::Directory {
                    "directory"
                } else {
                    "file"
                },
                out.stderr_str().trim()
            )));
        }
        let stdout = out.stdout_str();
        let Some(path) = stdout.lines().find_map(|l| l.strip_prefix("@path ")) else {
            return Ok(ModuleResult::failed("mktemp printed no path"));
        };
        let mut r = ModuleResult::changed(true).with("path", path);
        let stats = parse_probe(&probe, &out.stdout).map_err(ModuleError::Local)?;
        if let Some(info) = stats.first().and_then(|s| s.info.as_ref()) {
            add_file_attrs(&mut r, info);
        }
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn mktemp_commands() {
        let p: TempfileParams = serde_json::from_value(json!({"suffix": ".x"})).unwrap();
        let c = mktemp_command(&p).unwrap();
        assert!(c.contains("mktemp --suffix=.x"), "{c}");
        assert!(c.contains("ansible.XXXXXXXX"), "{c}");
        let p: TempfileParams =
            serde_json::from_value(json!({"state": "directory", "path": "/var/tmp"})).unwrap();
        let c = mktemp_command(&p).unwrap();
        assert!(
            c.starts_with("cd /var/tmp ||") && c.contains("mktemp -d"),
            "{c}"
        );
        let p: TempfileParams = serde_json::from_value(json!({"prefix": "a/b"})).unwrap();
        assert!(mktemp_command(&p).is_err());
    }
}

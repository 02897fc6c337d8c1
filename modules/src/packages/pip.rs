//! `pip`: Python packages with the target's pip, optionally in a virtualenv that is created when
//! missing. One round trip finds pip (and the virtualenv) and lists installed distributions; a
//! second runs `pip install`/`uninstall`.

use async_trait::async_trait;
use drover_core::connection::shell_quote;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::{ModuleParams, ParamChoices};
use serde::Deserialize;
use serde_json::Value;

use crate::params::{de_bool, de_opt_string, de_string_list};
use crate::remote::quote_path;

/// `state` of `pip`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, ParamChoices)]
#[serde(rename_all = "lowercase")]
pub enum PipState {
    /// Installed.
    #[default]
    Present,
    /// Uninstalled.
    Absent,
    /// Upgraded to the newest version.
    Latest,
    /// Reinstalled.
    Forcereinstall,
}

impl PipState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Present => "present",
            Self::Absent => "absent",
            Self::Latest => "latest",
            Self::Forcereinstall => "forcereinstall",
        }
    }
}

/// Parameters of `pip`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
#[params(
    required_one_of("name", "requirements"),
    mutually_exclusive("name", "requirements"),
    mutually_exclusive("executable", "virtualenv")
)]
pub struct PipParams {
    /// Distributions (or URLs/paths) to manage.
    #[serde(default, deserialize_with = "de_string_list")]
    pub name: Vec<String>,
    /// Version for a single `name`.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub version: Option<String>,
    /// A requirements file on the target.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub requirements: Option<String>,
    /// Virtualenv directory (created if missing).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub virtualenv: Option<String>,
    /// Give the virtualenv access to system site packages.
    #[serde(default, deserialize_with = "de_bool")]
    pub virtualenv_site_packages: bool,
    /// Command creating the virtualenv (default `virtualenv`; e.g. `python3 -m venv`).
    #[serde(
        default = "default_virtualenv_command",
        deserialize_with = "crate::params::de_string"
    )]
    pub virtualenv_command: String,
    /// Python for `virtualenv -p`.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub virtualenv_python: Option<String>,
    /// Desired state.
    #[serde(default)]
    pub state: PipState,
    /// Extra arguments for pip.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub extra_args: Option<String>,
    /// Install in editable mode (`-e`).
    #[serde(default, deserialize_with = "de_bool")]
    pub editable: bool,
    /// Directory to run pip in.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub chdir: Option<String>,
    /// The pip executable to use.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub executable: Option<String>,
    /// umask for pip (octal string).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub umask: Option<String>,
    /// Pass `--break-system-packages`.
    #[serde(default, deserialize_with = "de_bool")]
    pub break_system_packages: bool,
}

fn default_virtualenv_command() -> String {
    "virtualenv".into()
}

/// Package specs with `version` applied as Ansible does (`name==version` unless it has an operator).
pub fn package_specs(p: &PipParams) -> Vec<String> {
    match (&p.version, p.name.as_slice()) {
        (Some(v), [name]) => {
            let v = v.trim();
            if v.starts_with(['=', '<', '>', '!', '~']) {
                vec![format!("{name}{v}")]
            } else {
                vec![format!("{name}=={v}")]
            }
        }
        _ => p.name.clone(),
    }
}

/// Normalized distribution name (PEP 503).
fn normalize(name: &str) -> String {
    name.to_ascii_lowercase().replace(['_', '.'], "-")
}

/// Whether `spec` (`name`, `name==1.0`, `name>=1`) is satisfied by `pip list --format=freeze`
/// output; only `==` versions are checked exactly, other constraints count as present.
pub fn is_present(spec: &str, freeze: &str) -> bool {
    let end = spec
        .find(['=', '<', '>', '!', '~', '[', ' ', ';'])
        .unwrap_or(spec.len());
    let (name, rest) = (normalize(&spec[..end]), spec[end..].trim());
    let wanted = rest.strip_prefix("==").map(str::trim);
    freeze.lines().any(|line| match line.split_once("==") {
        Some((n, v)) => normalize(n.trim()) == name && wanted.is_none_or(|w| w == v.trim()),
        None => false,
    })
}

/// The pip subcommand for a state.
fn state_args(state: PipState) -> &'static str {
    match state {
        PipState::Present => "install",
        PipState::Absent => "uninstall -y",
        PipState::Latest => "install -U",
        PipState::Forcereinstall => "install -U --force-reinstall",
    }
}

/// The `pip` module.
pub struct Pip;

const VENV_MISSING: &str = "@@drover-venv-missing";
const NO_PIP: &str = "@@drover-no-pip";
const PIP_IS: &str = "@@drover-pip ";
const FREEZE: &str = "@@drover-freeze";

#[async_trait]
impl TypedModule for Pip {
    const NAME: &'static str = "pip";
    type Params = PipParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: PipParams,
    ) -> Result<ModuleResult, ModuleError> {
        if p.version.is_some() && p.name.len() > 1 {
            return Ok(ModuleResult::failed("'version' argument is ambiguous when installing multiple package distributions. Please specify version restrictions next to each package in 'name' argument."));
        }
        if p.version.is_some() && p.state == PipState::Latest {
            return Ok(ModuleResult::failed(
                "version is incompatible with state=latest",
            ));
        }
        let specs = package_specs(&p);
        let cd = match &p.chdir {
            Some(dir) => format!("cd {} || exit 1\n", quote_path(dir)),
            None => String::new(),
        };
        let umask = p
            .umask
            .as_deref()
            .map(|u| format!("umask {}\n", shell_quote(u)))
            .unwrap_or_default();
        let mut out_text = String::new();
        let mut changed = false;

        // Round trip 1: create the virtualenv if missing, find pip, list installed distributions.
        let mut s = format!(
            "export LANG=C.UTF-8 LC_ALL=C.UTF-8 PIP_DISABLE_PIP_VERSION_CHECK=1\n{cd}{umask}"
        );
        let pip_candidates = if let Some(venv) = &p.virtualenv {
            let venv_q = quote_path(venv);
            s.push_str(&format!(
                "if [ ! -f {venv_q}/bin/activate ]; then echo '{VENV_MISSING}'\n"
            ));
            if !ctx.check_mode {
                let mut cmd = p.virtualenv_command.clone();
                if p.virtualenv_site_packages {
                    cmd.push_str(" --system-site-packages");
                }
                if !["pyvenv", "-m venv"]
                    .iter()
                    .any(|v| p.virtualenv_command.contains(v))
                {
                    if let Some(py) = &p.virtualenv_python {
                        cmd.push_str(&format!(" -p{}", shell_quote(py)));
                    }
                }
                s.push_str(&format!(
                    "{cmd} {venv_q} 2>&1 || {{ echo '@@drover-venv-failed'; exit 0; }}\n"
                ));
            }
            s.push_str("fi\n");
            vec![format!("{venv_q}/bin/pip3"), format!("{venv_q}/bin/pip")]
        } else if let Some(exe) = &p.executable {
            vec![quote_path(exe)]
        } else {
            vec!["pip3".to_string(), "pip".to_string()]
        };
        s.push_str("pip=\n");
        for c in &pip_candidates {
            s.push_str(&format!(
                "[ -z \"$pip\" ] && command -v {c} >/dev/null 2>&1 && pip={c}\n"
            ));
        }
        s.push_str(&format!(
            "[ -z \"$pip\" ] && {{ echo '{NO_PIP}'; exit 0; }}\necho \"{PIP_IS}$pip\"\necho '{FREEZE}'\n$pip list --format=freeze 2>/dev/null\nexit 0\n"
        ));
        let out = ctx.conn.run(s).await?.stdout_str();
        let venv_missing = out.contains(VENV_MISSING);
        if let Some(i) = out.find("@@drover-venv-failed") {
            let created = out[..i].replace(&format!("{VENV_MISSING}\n"), "");
            return Ok(ModuleResult::failed(format!(
                "Failed to create virtualenv {}: {}",
                p.virtualenv.as_deref().unwrap_or(""),
                created.trim()
            )));
        }
        if venv_missing {
            changed = true;
            if ctx.check_mode {
                return Ok(ModuleResult::changed(true));
            }
            if let Some(i) = out.find(PIP_IS).or_else(|| out.find(NO_PIP)) {
                out_text.push_str(out[..i].replace(&format!("{VENV_MISSING}\n"), "").as_str());
            }
        }
        if out.contains(NO_PIP) {
            return Ok(ModuleResult::failed(
                "Unable to find any of pip3, pip to use.  pip needs to be installed.",
            ));
        }
        let pip = out
            .lines()
            .find_map(|l| l.strip_prefix(PIP_IS))
            .unwrap_or("pip3")
            .to_string();
        let freeze = out.split_once(FREEZE).map(|(_, f)| f).unwrap_or("");

        let mut cmd = format!("{pip} {}", state_args(p.state));
        if p.break_system_packages {
            cmd.push_str(" --break-system-packages");
        }
        if let Some(extra) = &p.extra_args {
            cmd.push(' ');
            cmd.push_str(extra);
        }
        if !specs.is_empty() {
            for spec in &specs {
                if p.editable {
                    cmd.push_str(" -e");
                }
                cmd.push(' ');
                cmd.push_str(&shell_quote(spec));
            }
        } else if let Some(req) = &p.requirements {
            cmd.push_str(&format!(" -r {}", quote_path(req)));
        }
        let base = |r: ModuleResult, cmd: &str| {
            r.with("cmd", cmd.to_string())
                .with(
                    "name",
                    Value::Array(p.name.iter().cloned().map(Value::String).collect()),
                )
                .with(
                    "version",
                    p.version.clone().map_or(Value::Null, Value::String),
                )
                .with("state", p.state.as_str())
                .with(
                    "requirements",
                    p.requirements.clone().map_or(Value::Null, Value::String),
                )
                .with(
                    "virtualenv",
                    p.virtualenv.clone().map_or(Value::Null, Value::String),
                )
        };

        if ctx.check_mode {
            if p.extra_args.is_some() && p.state != PipState::Absent
                || p.requirements.is_some()
                || p.state == PipState::Latest
                || specs.is_empty()
            {
                return Ok(base(ModuleResult::changed(true), &cmd));
            }
            let would = specs.iter().any(|s| {
                let present = is_present(s, freeze);
                if p.state == PipState::Absent {
                    present
                } else {
                    !present || p.state == PipState::Forcereinstall
                }
            });
            return Ok(base(ModuleResult::changed(would), &cmd));
        }

        let compare_freeze = p.requirements.is_some();
        let script = format!(
            "export LANG=C.UTF-8 LC_ALL=C.UTF-8 PIP_DISABLE_PIP_VERSION_CHECK=1\n{cd}{umask}{cmd}\nrc=$?\n{}exit $rc\n",
            if compare_freeze {
                format!("echo '{FREEZE}' >&2\n{pip} list --format=freeze >&2 2>/dev/null\n")
            } else {
                String::new()
            }
        );
        let run = ctx.conn.run(script).await?;
        let stdout = run.stdout_str();
        let mut stderr = run.stderr_str();
        let mut freeze_after = None;
        if let Some((e, f)) = stderr.clone().split_once(&format!("{FREEZE}\n")) {
            stderr = e.to_string();
            freeze_after = Some(f.to_string());
        }
        out_text.push_str(&stdout);
        if run.rc != 0 {
            let mut msg = String::new();
            if !out_text.is_empty() {
                msg.push_str(&format!("stdout: {out_text}"));
            }
            if !stderr.is_empty() {
                msg.push_str(&format!("\n:stderr: {stderr}"));
            }
            return Ok(base(ModuleResult::failed(msg), &cmd));
        }
        changed |= match (p.state, freeze_after) {
            (_, Some(after)) => after.trim() != freeze.trim(),
            (PipState::Absent, None) => stdout.contains("Successfully uninstalled"),
            (_, None) => stdout.contains("Successfully installed"),
        };
        Ok(base(ModuleResult::changed(changed), &cmd)
            .with("stdout", out_text)
            .with("stderr", stderr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use drover_core::module::parse_params;
    use serde_json::json;

    fn params(v: Value) -> PipParams {
        parse_params("pip", &v).unwrap()
    }

    #[test]
    fn versions_apply_to_a_single_name() {
        assert_eq!(
            package_specs(&params(json!({"name": "a", "version": "1.0"}))),
            vec!["a==1.0"]
        );
        assert_eq!(
            package_specs(&params(json!({"name": "a", "version": ">=2"}))),
            vec!["a>=2"]
        );
        assert_eq!(
            package_specs(&params(json!({"name": ["a", "b"]}))),
            vec!["a", "b"]
        );
    }

    #[test]
    fn presence_from_freeze_output() {
        let freeze = "Drover_Tiny==1.0\npip==23.0.1\n";
        assert!(is_present("drover-tiny", freeze));
        assert!(is_present("drover-tiny==1.0", freeze));
        assert!(!is_present("drover-tiny==2.0", freeze));
        assert!(is_present("drover-tiny>=0.5", freeze));
        assert!(!is_present("other", freeze));
    }

    #[test]
    fn states_and_defaults() {
        let p = params(json!({"name": "a"}));
        assert_eq!(p.state, PipState::Present);
        assert_eq!(p.virtualenv_command, "virtualenv");
        assert_eq!(state_args(PipState::Absent), "uninstall -y");
        assert!(parse_params::<PipParams>("pip", &json!({"name": "a", "state": "gone"})).is_err());
    }
}

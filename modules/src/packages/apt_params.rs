//! Parameters of `apt`, with Ansible's names, aliases and defaults.

use drover_core::params::{ModuleParams, ParamChoices, ParamType, ParamValue};
use serde::Deserialize;

use crate::params::{de_bool, de_opt_bool, de_opt_string, de_string_list};

/// `state` of `apt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, ParamChoices)]
#[serde(rename_all = "kebab-case")]
pub enum AptState {
    /// Installed (any version unless pinned).
    #[default]
    #[serde(alias = "installed")]
    Present,
    /// Not installed.
    #[serde(alias = "removed")]
    Absent,
    /// Installed at the candidate version.
    Latest,
    /// Fix broken dependencies (`--fix-broken`).
    Fixed,
    /// Install build dependencies.
    #[serde(alias = "build_dep")]
    BuildDep,
}

/// `upgrade` of `apt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UpgradeMode {
    /// No upgrade.
    #[default]
    No,
    /// `yes`/`safe`: aptitude safe-upgrade, or apt-get upgrade --with-new-pkgs.
    Safe,
    /// aptitude full-upgrade, or apt-get dist-upgrade.
    Full,
    /// apt-get dist-upgrade.
    Dist,
}

impl ParamValue for UpgradeMode {
    const KIND: ParamType = ParamType::Str;
    const CHOICES: &'static [&'static str] = &["dist", "full", "no", "safe", "yes"];
}

impl<'de> Deserialize<'de> for UpgradeMode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        if let Some(b) = crate::params::parse_bool(&v) {
            if !matches!(&v, serde_json::Value::String(s) if s.is_empty()) {
                return Ok(if b { Self::Safe } else { Self::No });
            }
        }
        match v.as_str().map(str::to_ascii_lowercase).as_deref() {
            Some("safe") => Ok(Self::Safe),
            Some("full") => Ok(Self::Full),
            Some("dist") => Ok(Self::Dist),
            _ => Err(serde::de::Error::custom(format!(
                "value of upgrade must be one of: dist, full, no, safe, yes, got: {v}"
            ))),
        }
    }
}

/// Parameters of `apt`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
#[params(required_one_of(
    "name",
    "deb",
    "update_cache",
    "upgrade",
    "autoremove",
    "autoclean",
    "clean"
))]
pub struct AptParams {
    /// Package specs (`foo`, `foo=1.0*`, `foo>=1.0`).
    #[serde(
        default,
        alias = "package",
        alias = "pkg",
        deserialize_with = "de_string_list"
    )]
    pub name: Vec<String>,
    /// Desired state.
    #[serde(default)]
    pub state: AptState,
    /// Run `apt-get update` first.
    #[serde(default, alias = "update-cache", deserialize_with = "de_opt_bool")]
    pub update_cache: Option<bool>,
    /// Update only if the cache is older than this many seconds (implies `update_cache`).
    #[serde(default)]
    pub cache_valid_time: u64,
    /// Retries of `apt-get update`.
    #[serde(default = "default_retries")]
    pub update_cache_retries: u32,
    /// Maximum delay between retries (seconds).
    #[serde(default = "default_retry_delay")]
    pub update_cache_retry_max_delay: u32,
    /// Install recommended packages (default: the OS setting).
    #[serde(
        default,
        alias = "install-recommends",
        deserialize_with = "de_opt_bool"
    )]
    pub install_recommends: Option<bool>,
    /// Remove configuration files too.
    #[serde(default, deserialize_with = "de_bool")]
    pub purge: bool,
    /// Remove unused dependencies.
    #[serde(default, deserialize_with = "de_bool")]
    pub autoremove: bool,
    /// Remove obsolete downloaded packages.
    #[serde(default, deserialize_with = "de_bool")]
    pub autoclean: bool,
    /// Run `apt-get clean`.
    #[serde(default, deserialize_with = "de_bool")]
    pub clean: bool,
    /// A `.deb` file on the target (or a URL) to install.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub deb: Option<String>,
    /// Upgrade the whole system.
    #[serde(default)]
    pub upgrade: UpgradeMode,
    /// `apt-get -t`: the release to prefer.
    #[serde(default, alias = "default-release", deserialize_with = "de_opt_string")]
    pub default_release: Option<String>,
    /// Allow downgrades (`--allow-downgrades`).
    #[serde(
        default,
        alias = "allow-downgrade",
        alias = "allow_downgrades",
        alias = "allow-downgrades",
        deserialize_with = "de_bool"
    )]
    pub allow_downgrade: bool,
    /// Allow unauthenticated packages.
    #[serde(default, alias = "allow-unauthenticated", deserialize_with = "de_bool")]
    pub allow_unauthenticated: bool,
    /// Allow changing held packages.
    #[serde(default, deserialize_with = "de_bool")]
    pub allow_change_held_packages: bool,
    /// `--force-yes` (deprecated in apt).
    #[serde(default, deserialize_with = "de_bool")]
    pub force: bool,
    /// Use apt-get even if aptitude is present.
    #[serde(default, deserialize_with = "de_bool")]
    pub force_apt_get: bool,
    /// Fail instead of removing packages to satisfy dependencies.
    #[serde(default, deserialize_with = "de_bool")]
    pub fail_on_autoremove: bool,
    /// Only upgrade packages that are already installed.
    #[serde(default, deserialize_with = "de_bool")]
    pub only_upgrade: bool,
    /// Exit code for a temporary `/usr/sbin/policy-rc.d` (e.g. 101: do not start services).
    #[serde(default)]
    pub policy_rc_d: Option<i32>,
    /// Comma-separated dpkg options.
    #[serde(
        default = "default_dpkg_options",
        deserialize_with = "crate::params::de_string"
    )]
    pub dpkg_options: String,
    /// Seconds to wait for the dpkg lock.
    #[serde(default = "default_lock_timeout")]
    pub lock_timeout: u32,
}

fn default_retries() -> u32 {
    5
}
fn default_retry_delay() -> u32 {
    12
}
fn default_lock_timeout() -> u32 {
    60
}
fn default_dpkg_options() -> String {
    super::dpkg::DEFAULT_DPKG_OPTIONS.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use drover_core::module::parse_params;
    use serde_json::json;

    #[test]
    fn aliases_and_defaults() {
        let p: AptParams =
            parse_params("apt", &json!({"pkg": "a,b", "update-cache": "yes"})).unwrap();
        assert_eq!(p.name, vec!["a", "b"]);
        assert_eq!(p.update_cache, Some(true));
        assert_eq!(p.state, AptState::Present);
        assert_eq!(p.lock_timeout, 60);
        let p: AptParams =
            parse_params("apt", &json!({"state": "build-dep", "upgrade": "dist"})).unwrap();
        assert_eq!(p.state, AptState::BuildDep);
        assert_eq!(p.upgrade, UpgradeMode::Dist);
        let p: AptParams = parse_params("apt", &json!({"upgrade": true})).unwrap();
        assert_eq!(p.upgrade, UpgradeMode::Safe);
        assert!(parse_params::<AptParams>("apt", &json!({"state": "gone"})).is_err());
        assert!(parse_params::<AptParams>("apt", &json!({"upgrade": "sideways"})).is_err());
    }

    #[test]
    fn one_of_the_actions_is_required() {
        let check =
            |v: serde_json::Value| AptParams::spec().check("apt", v.as_object().expect("object"));
        let e = check(json!({"state": "latest"})).unwrap_err();
        assert_eq!(
            e.to_string(),
            "apt: missing required parameter: one of `name`, `deb`, `update_cache`, `upgrade`, `autoremove`, `autoclean`, `clean`"
        );
        assert!(check(json!({"pkg": "x"})).is_ok());
        assert!(check(json!({"update-cache": true})).is_ok());
        assert!(check(json!({"clean": true})).is_ok());
    }
}

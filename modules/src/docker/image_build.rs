//! `docker_image`'s `build` and `pull` option groups, and the `docker build` command line they
//! make.

use drover_core::params::{ParamType, ParamValue};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::image_common::dict_pairs;
use crate::params::{de_bool, de_opt_bool, de_opt_string, de_opt_string_list, de_string};

fn yes() -> bool {
    true
}

/// `build`: how to build the image (`docker build` on the target; the context is a directory on
/// the target host).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildOptions {
    /// The build context directory (on the target host).
    #[serde(deserialize_with = "de_string")]
    pub path: String,
    /// The Dockerfile, relative to `path` (default `Dockerfile`).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub dockerfile: Option<String>,
    /// Build arguments (`ARG`); non-string values are converted to strings.
    #[serde(default)]
    pub args: Option<Map<String, Value>>,
    /// Labels to set on the image.
    #[serde(default)]
    pub labels: Option<Map<String, Value>>,
    /// The stage to build.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub target: Option<String>,
    /// Pull newer versions of the `FROM` images.
    #[serde(default, deserialize_with = "de_bool")]
    pub pull: bool,
    /// Build without the cache.
    #[serde(default, deserialize_with = "de_bool")]
    pub nocache: bool,
    /// Remove intermediate containers (`--rm`, `--force-rm`).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    pub rm: bool,
    /// Network for `RUN` instructions.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub network: Option<String>,
    /// Images to use as cache sources.
    #[serde(default, deserialize_with = "de_opt_string_list")]
    pub cache_from: Option<Vec<String>>,
    /// Extra `/etc/hosts` entries (`name: ip`).
    #[serde(default)]
    pub etc_hosts: Option<Map<String, Value>>,
    /// Platform (`os[/arch[/variant]]`).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub platform: Option<String>,
    /// Size of `/dev/shm` (`64M`).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub shm_size: Option<String>,
    /// Limits of the build containers (`memory`, `memswap`, `cpushares`, `cpusetcpus`).
    #[serde(default)]
    pub container_limits: Option<Map<String, Value>>,
    /// Accepted for compatibility: the CLI call has no time limit.
    #[serde(default)]
    pub http_timeout: Option<Value>,
    /// Accepted for compatibility: the docker CLI always passes the proxies of its config file.
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub use_config_proxy: Option<bool>,
}

impl ParamValue for BuildOptions {
    const KIND: ParamType = ParamType::Dict;
}

/// `pull`: options for pulling.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullOptions {
    /// Platform to pull (`linux/amd64`).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub platform: Option<String>,
}

impl ParamValue for PullOptions {
    const KIND: ParamType = ParamType::Dict;
}

impl BuildOptions {
    /// The `docker build` arguments building `image` (`name:tag`).
    pub fn cli_args(&self, image: &str) -> Result<Vec<String>, String> {
        let mut a: Vec<String> = vec!["build".into(), "-t".into(), image.into()];
        if let Some(f) = &self.dockerfile {
            a.push("-f".into());
            a.push(if f.starts_with('/') {
                f.clone()
            } else {
                format!("{}/{}", self.path.trim_end_matches('/'), f)
            });
        }
        for (k, v) in dict_pairs(self.args.as_ref().unwrap_or(&Map::new()), true) {
            a.push("--build-arg".into());
            a.push(format!("{k}={v}"));
        }
        for (k, v) in dict_pairs(self.labels.as_ref().unwrap_or(&Map::new()), false) {
            a.push("--label".into());
            a.push(format!("{k}={v}"));
        }
        for (k, v) in dict_pairs(self.etc_hosts.as_ref().unwrap_or(&Map::new()), false) {
            a.push("--add-host".into());
            a.push(format!("{k}:{v}"));
        }
        for (flag, value) in [
            ("--target", &self.target),
            ("--network", &self.network),
            ("--platform", &self.platform),
            ("--shm-size", &self.shm_size),
        ] {
            if let Some(v) = value {
                a.push(flag.into());
                a.push(v.clone());
            }
        }
        for c in self.cache_from.iter().flatten() {
            a.push("--cache-from".into());
            a.push(c.clone());
        }
        for (k, v) in self.container_limits.iter().flatten() {
            let flag = match k.as_str() {
                "memory" => "--memory",
                "memswap" => "--memory-swap",
                "cpushares" => "--cpu-shares",
                "cpusetcpus" => "--cpuset-cpus",
                other => return Err(format!("Invalid container_limits key {other}")),
            };
            let value = match v {
                Value::String(s) => s.clone(),
                Value::Null => continue,
                other => other.to_string(),
            };
            a.push(flag.into());
            a.push(value);
        }
        if self.pull {
            a.push("--pull".into());
        }
        if self.nocache {
            a.push("--no-cache".into());
        }
        a.push(format!("--rm={}", self.rm));
        a.push(format!("--force-rm={}", self.rm));
        a.push(self.path.clone());
        Ok(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_options_become_flags() {
        let b: BuildOptions = serde_json::from_value(serde_json::json!({
            "path": "/ctx", "dockerfile": "Dockerfile.alt", "args": {"A": 1, "B": true},
            "labels": {"l": "v"}, "target": "t", "nocache": "yes", "container_limits": {"memory": "64M"}
        }))
        .unwrap();
        let a = b.cli_args("x:1").unwrap().join(" ");
        assert_eq!(
            a,
            "build -t x:1 -f /ctx/Dockerfile.alt --build-arg A=1 --build-arg B=True --label l=v \
             --target t --memory 64M --no-cache --rm=true --force-rm=true /ctx"
        );
        let bad: BuildOptions = serde_json::from_value(serde_json::json!({
            "path": "/ctx", "container_limits": {"cpus": 2}
        }))
        .unwrap();
        assert!(bad.cli_args("x").is_err());
    }
}

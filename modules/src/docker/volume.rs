//! `docker_volume` (community.docker): creates and removes volumes. An existing volume is compared
//! with the task (driver; driver options and labels it must contain) and recreated according to
//! `recreate`: `never` (the default) keeps it, `options-changed` recreates it when something
//! differs, `always` recreates it on every run. The result's `volume` is its inspect data.

use std::collections::BTreeMap;

use async_trait::async_trait;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::{ModuleParams, ParamChoices};
use serde::Deserialize;
use serde_json::{json, Value};

use super::api::{finish, DockerApi, DockerCli, DockerError, ObjectKind};
use super::network::PresentAbsent;
use super::util_netvol::{de_opt_labels, de_opt_str_map, flag_pairs, run_steps, Differences};
use crate::params::{de_opt_string, de_string};

/// When an existing volume is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, ParamChoices)]
pub enum Recreate {
    /// On every run.
    #[serde(rename = "always")]
    Always,
    /// Never: a volume with other options is kept as it is.
    #[default]
    #[serde(rename = "never")]
    Never,
    /// When the driver, a driver option or a label differs.
    #[serde(rename = "options-changed")]
    OptionsChanged,
}

/// Parameters of `docker_volume`.
#[derive(Debug, Deserialize, ModuleParams)]
pub struct VolumeParams {
    /// The volume's name.
    #[serde(alias = "name", deserialize_with = "de_string")]
    pub volume_name: String,
    /// `present` or `absent`.
    #[serde(default)]
    #[param(default = "present")]
    pub state: PresentAbsent,
    /// The volume driver.
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(default = "local")]
    pub driver: Option<String>,
    /// Driver options (`type: tmpfs`, `device: tmpfs`, `o: size=10m`).
    #[serde(default, deserialize_with = "de_opt_str_map")]
    pub driver_options: Option<BTreeMap<String, String>>,
    /// Labels the volume must have.
    #[serde(default, deserialize_with = "de_opt_labels")]
    pub labels: Option<BTreeMap<String, String>>,
    /// `always`, `never` or `options-changed`.
    #[serde(default)]
    #[param(default = "never")]
    pub recreate: Recreate,
    /// The engine connection options.
    #[serde(flatten)]
    pub api: DockerApi,
}

/// The `docker_volume` module.
pub struct DockerVolume;

#[async_trait]
impl TypedModule for DockerVolume {
    const NAME: &'static str = "docker_volume";
    type Params = VolumeParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: VolumeParams,
    ) -> Result<ModuleResult, ModuleError> {
        finish(run(ctx, p).await)
    }
}

/// What differs between the task and the existing volume.
fn differences(p: &VolumeParams, driver: &str, vol: &Value) -> Differences {
    let mut d = Differences::default();
    let have = vol.get("Driver").cloned().unwrap_or(Value::Null);
    if !driver.is_empty() && have.as_str() != Some(driver) {
        d.add("driver", json!(driver), have);
    }
    if let Some(opts) = p.driver_options.as_ref().filter(|o| !o.is_empty()) {
        let have = vol.get("Options").cloned().unwrap_or(Value::Null);
        super::util_netvol::subset_differences(&mut d, "driver_options", opts, &have, true);
    }
    if let Some(labels) = p.labels.as_ref().filter(|l| !l.is_empty()) {
        let have = vol.get("Labels").and_then(Value::as_object);
        for (k, v) in labels {
            let active = have.and_then(|m| m.get(k));
            if active.and_then(Value::as_str) != Some(v.as_str()) {
                d.add(
                    format!("labels.{k}"),
                    json!(v),
                    active.cloned().unwrap_or(Value::Null),
                );
            }
        }
    }
    d
}

/// The volume as community.docker's `docker_volume` reports it (from the engine's volume list,
/// where a volume without driver options has `Options: {}`; inspect says `null`).
fn as_listed(mut volume: Value) -> Value {
    if let Some(opts) = volume.get_mut("Options").filter(|o| o.is_null()) {
        *opts = json!({});
    }
    volume
}

async fn run(ctx: &ModuleContext<'_>, p: VolumeParams) -> Result<ModuleResult, DockerError> {
    if p.volume_name.trim().is_empty() {
        return Err(DockerError::failed("volume_name must not be empty"));
    }
    let cli = DockerCli::new(&p.api)?;
    let driver = p.driver.clone().unwrap_or_else(|| "local".into());
    let existing = cli
        .inspect(ctx.conn, ObjectKind::Volume, &p.volume_name)
        .await?;
    let mut tracker = Differences::default();
    let (remove, create) = match p.state {
        PresentAbsent::Absent => {
            tracker.add("exists", json!(false), json!(existing.is_some()));
            (existing.is_some(), false)
        }
        PresentAbsent::Present => {
            tracker.add("exists", json!(true), json!(existing.is_some()));
            let diffs = existing
                .as_ref()
                .map(|v| differences(&p, &driver, v))
                .unwrap_or_default();
            let remove = existing.is_some()
                && (p.recreate == Recreate::Always
                    || (p.recreate == Recreate::OptionsChanged && !diffs.is_empty()));
            tracker.merge(&diffs);
            (remove, existing.is_none() || remove)
        }
    };
    let mut actions = Vec::new();
    if remove {
        actions.push(format!("Removed volume {}", p.volume_name));
    }
    if create {
        actions.push(format!(
            "Created volume {} with driver {driver}",
            p.volume_name
        ));
    }
    if !ctx.check_mode {
        let mut calls: Vec<Vec<String>> = Vec::new();
        if remove {
            calls.push(
                ["volume", "rm", "--", &p.volume_name]
                    .map(String::from)
                    .to_vec(),
            );
        }
        if create {
            let mut args: Vec<String> = vec!["volume".into(), "create".into()];
            args.extend(["--driver".into(), driver.clone()]);
            if let Some(opts) = &p.driver_options {
                args.extend(flag_pairs("--opt", opts));
            }
            if let Some(labels) = &p.labels {
                args.extend(flag_pairs("--label", labels));
            }
            args.extend(["--".into(), p.volume_name.clone()]);
            calls.push(args);
        }
        run_steps(&cli, ctx.conn, &calls).await?;
    }
    let changed = remove || create;
    let mut result = ModuleResult::changed(changed);
    if ctx.check_mode || p.api.debug || p.state == PresentAbsent::Absent {
        result = result.with("actions", actions);
    }
    if p.state == PresentAbsent::Present {
        let volume = if changed && !ctx.check_mode {
            cli.inspect(ctx.conn, ObjectKind::Volume, &p.volume_name)
                .await?
        } else {
            existing
        };
        result = result.with("volume", volume.map_or(Value::Null, as_listed));
    }
    if ctx.diff && changed {
        result = result.with_diff(tracker.diff());
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volumes_are_compared_like_community_docker() {
        let p: VolumeParams = serde_json::from_value(json!({
            "name": "v", "driver_options": {"type": "tmpfs"}, "labels": {"a": "1"},
            "recreate": "options-changed",
        }))
        .unwrap();
        assert_eq!(p.recreate, Recreate::OptionsChanged);
        let same = json!({"Driver": "local", "Options": {"type": "tmpfs", "device": "tmpfs"},
                          "Labels": {"a": "1", "b": "2"}});
        assert!(differences(&p, "local", &same).is_empty());
        let other = json!({"Driver": "local", "Options": null, "Labels": null});
        assert_eq!(
            differences(&p, "local", &other).names(),
            vec!["driver_options", "labels.a"]
        );
    }
}

//! `docker_prune` (community.docker): removes unused containers, images, networks, volumes and
//! build cache, each selected by its `*_filters`, with the CLI's `docker <kind> prune --force`.
//! Results are community.docker's: the removed objects' IDs or names and the space reclaimed;
//! `changed` when something was removed. community.docker has no check mode here; drover's
//! predicts what the apply would remove (see [`super::prune_plan`]).
//!
//! The CLI prints the space reclaimed rounded to four significant digits (`1.234MB`), so the
//! `*_space_reclaimed` byte counts are that figure converted back, not the engine's exact count.

use async_trait::async_trait;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;
use serde_json::{json, Value};

use super::api::{finish, DockerApi, DockerCli, DockerError};
use super::util_netvol::de_opt_filters;
use crate::params::{de_bool, de_opt_string};

/// Parameters of `docker_prune`.
#[derive(Debug, Deserialize, ModuleParams)]
pub struct PruneParams {
    /// Remove stopped containers.
    #[serde(default, deserialize_with = "de_bool")]
    pub containers: bool,
    /// Filters selecting the containers (`until: 24h`, `label: …`); a list value gives the
    /// filter several times.
    #[serde(default, deserialize_with = "de_opt_filters")]
    pub containers_filters: Option<Vec<(String, String)>>,
    /// Remove unused images (only dangling ones unless `images_filters` has `dangling: false`).
    #[serde(default, deserialize_with = "de_bool")]
    pub images: bool,
    /// Filters selecting the images (`dangling: false`, `until: 10m`, `label: …`).
    #[serde(default, deserialize_with = "de_opt_filters")]
    pub images_filters: Option<Vec<(String, String)>>,
    /// Remove unused networks.
    #[serde(default, deserialize_with = "de_bool")]
    pub networks: bool,
    /// Filters selecting the networks (`until`, `label`).
    #[serde(default, deserialize_with = "de_opt_filters")]
    pub networks_filters: Option<Vec<(String, String)>>,
    /// Remove unused volumes (the engine prunes only anonymous ones unless the filter `all: true`).
    #[serde(default, deserialize_with = "de_bool")]
    pub volumes: bool,
    /// Filters selecting the volumes (`label`, `all`).
    #[serde(default, deserialize_with = "de_opt_filters")]
    pub volumes_filters: Option<Vec<(String, String)>>,
    /// Remove the build cache.
    #[serde(default, deserialize_with = "de_bool")]
    pub builder_cache: bool,
    /// Remove all unused build cache, not just dangling entries.
    #[serde(default, deserialize_with = "de_bool")]
    pub builder_cache_all: bool,
    /// Filters selecting the build cache (`until: 10m`).
    #[serde(default, deserialize_with = "de_opt_filters")]
    pub builder_cache_filters: Option<Vec<(String, String)>>,
    /// Cache space to keep, `<number>[B|K|M|G|T|P]` (binary units; bytes without a unit).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub builder_cache_keep_storage: Option<String>,
    /// The engine connection options.
    #[serde(flatten)]
    pub api: DockerApi,
}

/// The `docker_prune` module.
pub struct DockerPrune;

#[async_trait]
impl TypedModule for DockerPrune {
    const NAME: &'static str = "docker_prune";
    type Params = PruneParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: PruneParams,
    ) -> Result<ModuleResult, ModuleError> {
        finish(run(ctx, p).await)
    }
}

/// `<number>[<unit>]` with binary units (community.docker's `human_to_bytes`).
pub fn human_to_bytes(text: &str) -> Result<u64, String> {
    super::container::spec::bytes_with_unit(text)
        .map(|n| n.round() as u64)
        .ok_or_else(|| format!("can't interpret following string: {text}"))
}

/// The CLI's rounded decimal size (`1.234MB`, `0B`) in bytes.
pub(super) fn cli_size(text: &str) -> u64 {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let num: f64 = num.parse().unwrap_or(0.0);
    let power = match unit.trim().to_ascii_lowercase().as_str() {
        "kb" => 1,
        "mb" => 2,
        "gb" => 3,
        "tb" => 4,
        "pb" => 5,
        _ => 0,
    };
    (num * 1000f64.powi(power)).round() as u64
}

/// A prune's output: the listed objects and the space reclaimed.
fn parse_prune(out: &str) -> (Vec<String>, u64) {
    let mut items = Vec::new();
    let mut space = 0;
    let mut in_list = false;
    for line in out.lines() {
        let line = line.trim();
        if let Some(size) = line.strip_prefix("Total reclaimed space:") {
            space = cli_size(size);
            in_list = false;
        } else if line.starts_with("Deleted ") && line.ends_with(':') {
            in_list = true;
        } else if line.is_empty() {
            in_list = false;
        } else if in_list {
            items.push(line.to_string());
        }
    }
    (items, space)
}

/// An image prune line (`untagged: x`, `deleted: sha256:…`) as the API's `{"Untagged": x}`.
fn image_entry(line: &str) -> Value {
    match line.split_once(": ") {
        Some(("untagged", v)) => json!({"Untagged": v}),
        Some(("deleted", v)) => json!({"Deleted": v}),
        _ => json!({"Deleted": line}),
    }
}

fn filter_args(filters: &Option<Vec<(String, String)>>) -> Vec<String> {
    filters
        .iter()
        .flatten()
        .flat_map(|(k, v)| ["--filter".to_string(), format!("{k}={v}")])
        .collect()
}

async fn run(ctx: &ModuleContext<'_>, p: PruneParams) -> Result<ModuleResult, DockerError> {
    let keep_storage = match &p.builder_cache_keep_storage {
        Some(text) => Some(human_to_bytes(text).map_err(|e| {
            DockerError::failed(format!(
                "Error while parsing value of builder_cache_keep_storage: {e}"
            ))
        })?),
        None => None,
    };
    let cli = DockerCli::new(&p.api)?;
    if ctx.check_mode {
        return super::prune_plan::predict(ctx, &cli, &p, keep_storage).await;
    }
    let mut result = ModuleResult::ok();
    let mut changed = false;
    if p.containers {
        let mut args = vec!["container".to_string(), "prune".into(), "--force".into()];
        args.extend(filter_args(&p.containers_filters));
        let (ids, space) = parse_prune(&cli.run_ok(ctx.conn, &args).await?);
        changed |= !ids.is_empty() || space > 0;
        result = result
            .with("containers", ids)
            .with("containers_space_reclaimed", space);
    }
    if p.images {
        let mut args = vec!["image".to_string(), "prune".into(), "--force".into()];
        // The CLI adds `dangling=true` itself unless `--all`: `dangling` becomes that flag.
        let mut filters = p.images_filters.clone().unwrap_or_default();
        if let Some(i) = filters.iter().position(|(k, _)| k == "dangling") {
            let (_, v) = filters.remove(i);
            if matches!(v.to_ascii_lowercase().as_str(), "false" | "0" | "no") {
                args.push("--all".into());
            }
        }
        args.extend(filter_args(&Some(filters)));
        let (lines, space) = parse_prune(&cli.run_ok(ctx.conn, &args).await?);
        changed |= !lines.is_empty() || space > 0;
        let images: Vec<Value> = lines.iter().map(|l| image_entry(l)).collect();
        result = result
            .with("images", images)
            .with("images_space_reclaimed", space);
    }
    if p.networks {
        let mut args = vec!["network".to_string(), "prune".into(), "--force".into()];
        args.extend(filter_args(&p.networks_filters));
        let (names, _) = parse_prune(&cli.run_ok(ctx.conn, &args).await?);
        changed |= !names.is_empty();
        result = result.with("networks", names);
    }
    if p.volumes {
        let mut args = vec!["volume".to_string(), "prune".into(), "--force".into()];
        // The CLI refuses the engine's `all` filter and spells it `--all`.
        let mut filters = p.volumes_filters.clone().unwrap_or_default();
        if let Some(i) = filters.iter().position(|(k, _)| k == "all") {
            let (_, v) = filters.remove(i);
            if matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "yes") {
                args.push("--all".into());
            }
        }
        args.extend(filter_args(&Some(filters)));
        let (names, space) = parse_prune(&cli.run_ok(ctx.conn, &args).await?);
        changed |= !names.is_empty() || space > 0;
        result = result
            .with("volumes", names)
            .with("volumes_space_reclaimed", space);
    }
    if p.builder_cache {
        let mut args = vec!["builder".to_string(), "prune".into(), "--force".into()];
        if p.builder_cache_all {
            args.push("--all".into());
        }
        if let Some(bytes) = keep_storage {
            args.extend(["--keep-storage".into(), bytes.to_string()]);
        }
        args.extend(filter_args(&p.builder_cache_filters));
        let (ids, space) = parse_prune(&cli.run_long(ctx.conn, &args).await?);
        changed |= !ids.is_empty() || space > 0;
        result = result
            .with("builder_cache_space_reclaimed", space)
            .with("builder_cache_caches_deleted", ids);
    }
    result.changed = changed;
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prune_output_is_read() {
        let out = "Deleted Containers:\nabc\ndef\n\nTotal reclaimed space: 1.5kB\n";
        assert_eq!(parse_prune(out), (vec!["abc".into(), "def".into()], 1500));
        assert_eq!(parse_prune("Total reclaimed space: 0B\n"), (vec![], 0));
        assert_eq!(image_entry("untagged: a:1"), json!({"Untagged": "a:1"}));
    }

    #[test]
    fn sizes_are_read_in_binary_units() {
        assert_eq!(human_to_bytes("10").unwrap(), 10);
        assert_eq!(human_to_bytes("1K").unwrap(), 1024);
        assert_eq!(human_to_bytes("2MB").unwrap(), 2 * 1024 * 1024);
        assert!(human_to_bytes("lots").is_err());
    }
}

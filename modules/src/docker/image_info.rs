//! `docker_image_info` (community.docker's): inspect data of the named images that exist (all
//! images when no name is given), in one round trip.

use async_trait::async_trait;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;
use serde_json::Value;

use super::api::{finish, DockerApi, DockerCli, DockerError, ObjectKind};
use super::image_common::ImageRef;
use crate::params::de_opt_string_list;

/// Parameters of `docker_image_info`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct ImageInfoParams {
    /// Image names (`name[:tag]`, tag `latest` when omitted) or IDs; all images when omitted.
    #[serde(default, deserialize_with = "de_opt_string_list")]
    pub name: Option<Vec<String>>,
    /// How to reach the engine.
    #[serde(flatten)]
    pub api: DockerApi,
}

/// The `docker_image_info` module.
pub struct DockerImageInfo;

#[async_trait]
impl TypedModule for DockerImageInfo {
    const NAME: &'static str = "docker_image_info";
    type Params = ImageInfoParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: ImageInfoParams,
    ) -> Result<ModuleResult, ModuleError> {
        finish(run(ctx, p).await)
    }
}

async fn run(ctx: &ModuleContext<'_>, p: ImageInfoParams) -> Result<ModuleResult, DockerError> {
    let cli = DockerCli::new(&p.api)?;
    let names: Vec<String> = match p.name {
        Some(names) => names
            .iter()
            .map(|n| ImageRef::new(n, "latest").full())
            .collect(),
        None => cli
            .run_ok(ctx.conn, &["image", "ls", "-q", "--no-trunc"])
            .await?
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .fold(Vec::new(), |mut acc, id| {
                if !acc.contains(&id) {
                    acc.push(id);
                }
                acc
            }),
    };
    let objects: Vec<(ObjectKind, &str)> = names
        .iter()
        .map(|n| (ObjectKind::Image, n.as_str()))
        .collect();
    let images: Vec<Value> = cli
        .inspect_many(ctx.conn, &objects)
        .await?
        .into_iter()
        .flatten()
        .collect();
    Ok(ModuleResult::ok().with("images", images))
}

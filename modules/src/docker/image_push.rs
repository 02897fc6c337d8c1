//! `docker_image_push` (community.docker's): pushes `name:tag` to its registry, only when the
//! registry does not already hold that image (see [`super::image_common`]), so a second push and
//! check mode report no change.

use async_trait::async_trait;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;

use super::api::{finish, DockerApi, DockerCli, DockerError};
use super::image_common::{find_image, is_image_id, is_valid_tag, push_if_needed, ImageRef};
use crate::params::de_string;

fn latest() -> String {
    "latest".into()
}

/// Parameters of `docker_image_push`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct ImagePushParams {
    /// Image name including its registry (`registry:port/name`), optionally with `:tag`.
    #[serde(deserialize_with = "de_string")]
    pub name: String,
    /// Tag to push (a tag in `name` wins).
    #[serde(default = "latest", deserialize_with = "de_string")]
    #[param(default = "latest")]
    pub tag: String,
    /// How to reach the engine.
    #[serde(flatten)]
    pub api: DockerApi,
}

/// The `docker_image_push` module.
pub struct DockerImagePush;

#[async_trait]
impl TypedModule for DockerImagePush {
    const NAME: &'static str = "docker_image_push";
    type Params = ImagePushParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: ImagePushParams,
    ) -> Result<ModuleResult, ModuleError> {
        finish(run(ctx, p).await)
    }
}

async fn run(ctx: &ModuleContext<'_>, p: ImagePushParams) -> Result<ModuleResult, DockerError> {
    let cli = DockerCli::new(&p.api)?;
    if is_image_id(&p.name) {
        return Err(DockerError::failed("Cannot push an image by ID"));
    }
    let image = ImageRef::new(&p.name, &p.tag);
    if image.is_digest() {
        return Err(DockerError::failed("Cannot push an image by digest"));
    }
    if !is_valid_tag(&image.tag, false) {
        return Err(DockerError::failed(format!(
            "\"{}\" is not a valid docker tag!",
            image.tag
        )));
    }
    let Some(current) = find_image(&cli, ctx.conn, &image).await? else {
        return Err(DockerError::failed(format!(
            "Cannot find image {}:{}",
            image.name, image.tag
        )));
    };
    let pushed = push_if_needed(
        &cli,
        ctx.conn,
        &current,
        &image.name,
        &image.tag,
        ctx.check_mode,
    )
    .await?;
    Ok(ModuleResult::changed(pushed)
        .with(
            "actions",
            vec![format!("Pushed image {}:{}", image.name, image.tag)],
        )
        .with("image", current))
}

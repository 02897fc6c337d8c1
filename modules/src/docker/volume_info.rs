//! `docker_volume_info` (community.docker): reads one volume.
//! Never `changed`: `exists` says whether it is there, `volume` holds its inspect data (`null`
//! when missing).

use async_trait::async_trait;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;
use serde_json::Value;

use super::api::{finish, DockerApi, DockerCli, DockerError, ObjectKind};
use crate::params::de_string;

/// Parameters of `docker_volume_info`.
#[derive(Debug, Deserialize, ModuleParams)]
pub struct DockerVolumeInfoParams {
    /// The volume's name.
    #[serde(alias = "volume_name", deserialize_with = "de_string")]
    pub name: String,
    /// The engine connection options.
    #[serde(flatten)]
    pub api: DockerApi,
}

/// The `docker_volume_info` module.
pub struct DockerVolumeInfo;

#[async_trait]
impl TypedModule for DockerVolumeInfo {
    const NAME: &'static str = "docker_volume_info";
    type Params = DockerVolumeInfoParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: DockerVolumeInfoParams,
    ) -> Result<ModuleResult, ModuleError> {
        finish(run(ctx, p).await)
    }
}

async fn run(
    ctx: &ModuleContext<'_>,
    p: DockerVolumeInfoParams,
) -> Result<ModuleResult, DockerError> {
    if p.name.trim().is_empty() {
        return Err(DockerError::failed("name must not be empty"));
    }
    let cli = DockerCli::new(&p.api)?;
    let found = cli.inspect(ctx.conn, ObjectKind::Volume, &p.name).await?;
    Ok(ModuleResult::ok()
        .with("exists", found.is_some())
        .with("volume", found.unwrap_or(Value::Null)))
}

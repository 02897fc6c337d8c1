//! `docker_container_info` (community.docker): reads one container (running or not).
//! Never `changed`: `exists` says whether it is there, `container` holds its inspect data (`null`
//! when missing).

use async_trait::async_trait;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;
use serde_json::Value;

use super::api::{finish, DockerApi, DockerCli, DockerError, ObjectKind};
use crate::params::de_string;

/// Parameters of `docker_container_info`.
#[derive(Debug, Deserialize, ModuleParams)]
pub struct DockerContainerInfoParams {
    /// The container's name or ID.
    #[serde(deserialize_with = "de_string")]
    pub name: String,
    /// The engine connection options.
    #[serde(flatten)]
    pub api: DockerApi,
}

/// The `docker_container_info` module.
pub struct DockerContainerInfo;

#[async_trait]
impl TypedModule for DockerContainerInfo {
    const NAME: &'static str = "docker_container_info";
    type Params = DockerContainerInfoParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: DockerContainerInfoParams,
    ) -> Result<ModuleResult, ModuleError> {
        finish(run(ctx, p).await)
    }
}

async fn run(
    ctx: &ModuleContext<'_>,
    p: DockerContainerInfoParams,
) -> Result<ModuleResult, DockerError> {
    if p.name.trim().is_empty() {
        return Err(DockerError::failed("name must not be empty"));
    }
    let cli = DockerCli::new(&p.api)?;
    let found = cli
        .inspect(ctx.conn, ObjectKind::Container, &p.name)
        .await?;
    Ok(ModuleResult::ok()
        .with("exists", found.is_some())
        .with("container", found.unwrap_or(Value::Null)))
}

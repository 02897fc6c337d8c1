//! `docker_container` (community.docker's): creates, updates, recreates, starts, stops and
//! removes a container so that it matches the task.
//!
//! The desired container is expressed in the Engine's inspect shape ([`desired`]) and compared
//! with `docker inspect` of the container, option by option, as community.docker does: only the
//! options the task gives count, image-provided defaults (env, labels, command, exposed ports,
//! volumes) are part of the desired value, and sets and dicts allow more entries unless
//! `comparisons` says `strict`. A difference recreates the container (stop, remove, create,
//! start) unless only limits the Engine changes in place differ (`docker update`: restart
//! policy, memory, CPU, block IO). Networks are joined and left with `docker network
//! connect`/`disconnect`.
//!
//! The idempotent path is one round trip: the container and its image are inspected together.

mod compare;
mod desired;
mod flow;
mod groups;
mod limits;
mod mounts;
mod networks;
mod ops;
pub mod params;
mod spec;
#[cfg(test)]
mod tests;

use async_trait::async_trait;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};

use self::params::ContainerParams;
use super::api::finish;

/// The `docker_container` module.
pub struct DockerContainer;

#[async_trait]
impl TypedModule for DockerContainer {
    const NAME: &'static str = "docker_container";
    type Params = ContainerParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: ContainerParams,
    ) -> Result<ModuleResult, ModuleError> {
        finish(flow::run(ctx, p).await)
    }
}

//! Docker modules (community.docker's): containers, images, networks, volumes, registries.
//!
//! # How drover reaches the engine: the `docker` CLI on the target host
//! Every module runs the `docker` command-line client on the host the task targets (through the
//! host's own connection, so `become` applies), never Python. The Engine API over the socket
//! (a streamed unix-socket channel) was the other choice; the CLI won because:
//! - `become` works as users expect: the socket is usually `root:docker 0660`, and a login user
//!   with `become: true` reaches it exactly as community.docker's modules do under sudo (an SSH
//!   stream-local channel would open the socket as the login user);
//! - registry credentials are the ones `docker login` (and `docker_login`) stores in the user's
//!   `~/.docker/config.json`, shared with people running the CLI by hand, credential helpers
//!   included; a build context stays on the target; the TLS options map 1:1 to CLI flags;
//! - `docker inspect` prints exactly the Engine API's inspect JSON, which is what community.docker
//!   returns (`container.State.Running`, `container.NetworkSettings…`).
//!
//! The cost: one CLI process per call on the target (≈30–60 ms each). Read-only steps are batched
//! into one shell round trip (an idempotent `docker_container` call is a single exec that inspects
//! the container and its image; see `docs/DOCKER.md` for measurements).
//!
//! The engine is chosen as community.docker does: `docker_host` (alias `docker_url`), else
//! `DOCKER_HOST` from the task's or play's `environment`, else the CLI's default; `api_version`,
//! `timeout` and the TLS options (`tls`, `validate_certs`, `ca_path`, `client_cert`, `client_key`)
//! are honoured, see [`api::DockerApi`].
//!
//! # Running tasks inside containers: `connection: docker`
//! Distinct from these modules: a host whose `ansible_connection` is `docker` (or
//! `community.docker.docker`) *is* a running container, and every module runs inside it through
//! `docker exec` (drover-core's `connection::docker` transport). The docker CLI runs on the
//! controller, or on the Docker host named by the container's `ansible_docker_via` variable
//! (an inventory host, reached over its own SSH connection, shared by all its containers). See
//! `docs/DOCKER_CONNECTION.md` for the variables.

pub mod api;
pub mod container;
pub mod container_commit;
pub mod container_copy_into;
pub mod container_exec;
pub mod container_info;
pub mod copy_into_decide;
pub mod copy_into_probe;
pub mod image;
pub mod image_archive;
pub mod image_build;
pub mod image_common;
pub mod image_info;
pub mod image_pull;
pub mod image_push;
pub mod image_remove;
pub mod image_tag;
pub mod login;
pub mod network;
pub mod network_compare;
pub mod network_info;
pub mod prune;
pub mod prune_plan;
pub mod util_netvol;
pub mod volume;
pub mod volume_info;

use std::sync::Arc;

use drover_core::module::ModuleRegistry;

/// Registers the docker modules under their short names and `community.docker.<name>`, and
/// drover's own docker modules (no community.docker counterpart) under their short names only.
pub fn register(r: &mut ModuleRegistry) {
    let modules: Vec<Arc<dyn drover_core::module::Module>> = vec![
        Arc::new(container::DockerContainer),
        Arc::new(network::DockerNetwork),
        Arc::new(network_info::DockerNetworkInfo),
        Arc::new(volume::DockerVolume),
        Arc::new(volume_info::DockerVolumeInfo),
        Arc::new(container_info::DockerContainerInfo),
        Arc::new(container_exec::DockerContainerExec),
        Arc::new(container_copy_into::DockerContainerCopyInto),
        Arc::new(prune::DockerPrune),
        Arc::new(image::DockerImage),
        Arc::new(image_info::DockerImageInfo),
        Arc::new(image_pull::DockerImagePull),
        Arc::new(image_push::DockerImagePush),
        Arc::new(image_tag::DockerImageTag),
        Arc::new(image_remove::DockerImageRemove),
        Arc::new(login::DockerLogin),
    ];
    for module in modules {
        let name = module.name().to_string();
        r.register(module);
        r.alias(&format!("community.docker.{name}"), &name);
    }
    // drover's own: no `community.docker.` alias (that collection has no such module).
    r.register(Arc::new(container_commit::DockerContainerCommit));
}

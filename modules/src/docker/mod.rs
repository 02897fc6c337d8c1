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

pub mod api;
pub mod container;

use std::sync::Arc;

use drover_core::module::ModuleRegistry;

/// Registers the docker modules under their short names and `community.docker.<name>`.
pub fn register(r: &mut ModuleRegistry) {
    let modules: Vec<Arc<dyn drover_core::module::Module>> =
        vec![Arc::new(container::DockerContainer)];
    for module in modules {
        let name = module.name().to_string();
        r.register(module);
        r.alias(&format!("community.docker.{name}"), &name);
    }
}

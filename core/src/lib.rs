//! drover-core: the engine behind drover.
//!
//! - [`connection`]: transports (`ssh`, `local`) behind the [`connection::Connection`] trait.
//! - [`inventory`]: hosts, groups, variables and host patterns.
//! - [`template`] and [`vars`]: Jinja templating with Ansible's semantics, variable values.
//! - [`yaml`]: YAML loading with Ansible's scalar rules and source positions.
//! - [`playbook`]: the playbook model, parsed and checked before any host is touched.
//! - [`pyre`]: Python `re`-compatible regular expressions and replacement templates.
//! - [`module`]: the interface modules implement and the registry that holds them.
//! - [`params`]: module parameter descriptions, derived from the params types.
//! - [`executor`]: runs plays against hosts and reports progress as [`events::Event`]s.
//! - [`progress`]: the `--summary` file and `--resume`.
//! - [`session`]: everything a run needs (config, inventory, vault, prompts, transports) in one
//!   builder: the way to embed drover.

extern crate self as drover_core;

pub mod async_job;
pub mod config;
pub mod connection;
pub mod event_json;
pub mod events;
pub mod executor;
pub mod extra_vars;
pub mod interrupt;
pub mod inventory;
pub mod limits;
pub mod lock;
pub mod module;
pub mod params;
pub mod playbook;
pub mod probe;
pub mod progress;
pub mod pyre;
pub mod session;
pub mod template;
pub mod utc;
pub mod vars;
pub mod vault;
pub mod yaml;

//! drover's modules. [`registry`] returns all of them, registered by name.
//!
//! Each module lives in its own file, grouped by area: `commands` (`command`, `shell`, `raw`),
//! `files` (`file`, `copy`, `template`, `stat`) and `utilities` (the controller-side `debug`,
//! `set_fact`, `assert`, `fail`). Shared target-side helpers (the stat probe, modes, checksums,
//! ownership) are in `remote`; loose YAML value parsing is in `params`.

use std::sync::Arc;

use drover_core::module::ModuleRegistry;

pub mod commands;
pub mod files;
pub mod params;
pub mod remote;
pub mod utilities;

/// A registry holding every module drover ships.
pub fn registry() -> ModuleRegistry {
    let mut r = ModuleRegistry::new();
    r.register(Arc::new(commands::command::Command));
    r.register(Arc::new(commands::shell::Shell));
    r.register(Arc::new(commands::raw::Raw));
    r.register(Arc::new(files::file::File));
    r.register(Arc::new(files::copy::Copy));
    r.register(Arc::new(files::template::Template));
    r.register(Arc::new(files::stat::Stat));
    r.register(Arc::new(utilities::debug::Debug));
    r.register(Arc::new(utilities::set_fact::SetFact));
    r.register(Arc::new(utilities::assert::Assert));
    r.register(Arc::new(utilities::fail::Fail));
    r
}

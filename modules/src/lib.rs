//! drover's modules. [`registry`] returns all of them, registered by name.

pub mod system;
pub mod unimplemented;

use std::sync::Arc;

use drover_core::module::ModuleRegistry;

/// A registry holding every module drover ships.
pub fn registry() -> ModuleRegistry {
    let mut r = ModuleRegistry::new();
    r.register(Arc::new(system::setup::Setup));
    r.alias("gather_facts", "setup");
    r.mark_unimplemented(unimplemented::KNOWN_ANSIBLE_MODULES);
    r
}

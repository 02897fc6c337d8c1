//! drover's modules. [`registry`] returns all of them, registered by name.

use drover_core::module::ModuleRegistry;

/// A registry holding every module drover ships.
pub fn registry() -> ModuleRegistry {
    ModuleRegistry::new()
}

//! Controller-side modules: `debug`, `set_fact`, `assert`, `fail`. They never touch the target.

pub mod assert;
pub mod debug;
pub mod fail;
pub mod set_fact;

//! Controller-side modules: `debug`, `set_fact`, `assert`, `fail`, `include_vars`. They never touch the target.

pub mod assert;
pub mod debug;
pub mod fail;
pub mod include_vars;
pub mod set_fact;

//! Modules that run commands: `command`, `shell`, `raw`.

pub mod command;
pub mod raw;
pub(crate) mod run;
pub mod shell;

pub use run::{format_delta, split_lines};

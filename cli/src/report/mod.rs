//! Reporters: turn executor events into output.

mod human;
mod json;
mod origin;
pub mod progress;

pub use human::HumanReporter;
pub use json::JsonReporter;

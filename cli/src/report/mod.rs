//! Reporters: turn executor events into output.

mod human;
mod json;
pub mod progress;

pub use human::HumanReporter;
pub use json::JsonReporter;

//! Reporters: turn executor events into output.

mod human;
mod json;

pub use human::HumanReporter;
pub use json::JsonReporter;

//! Reporters: turn executor events into output.

mod adhoc;
mod human;
mod json;
mod origin;
pub mod progress;

pub use adhoc::AdHocReporter;
pub use human::HumanReporter;
pub use json::JsonReporter;

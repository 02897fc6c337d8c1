//! System modules: facts.

pub mod setup;

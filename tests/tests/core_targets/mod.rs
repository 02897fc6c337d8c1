//! Support for `oracle_core_targets.rs`: preparing hosts and working directories as
//! ansible-test would (`env`), and reading and scoring both tools' results (`results`).

pub mod env;
pub mod results;

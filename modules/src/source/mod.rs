//! Source-control modules: `git`.

pub mod git;
pub mod git_steps;

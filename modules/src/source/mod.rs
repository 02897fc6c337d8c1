//! Source-control modules: `git`.

pub mod git;

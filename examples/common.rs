//! Helpers shared by the examples (not part of drover's API): reading the inventory and other
//! inputs from arguments or the environment.
//!
//! Run an example with `cargo run -p drover-examples --example NAME -- ARGS`; see each
//! example's header for its arguments.

use std::process::ExitCode;

/// The `index`th command-line argument, else the environment variable `env`, else an error
/// naming both.
pub fn arg_or_env(index: usize, env: &str, what: &str) -> Result<String, String> {
    std::env::args()
        .nth(index)
        .or_else(|| std::env::var(env).ok())
        .ok_or_else(|| format!("missing {what}: pass it as argument {index} or set {env}"))
}

/// Prints `message` as an error and returns exit status 1.
pub fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(1)
}

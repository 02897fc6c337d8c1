//! What the `drover test` tests share: fixture paths, the testbed directory and reading
//! `--output json` reports.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use drover_integration::{cache_dir, DroverOutput};
use serde_json::Value;

/// The path of fixture `name` (a role or scenario under `tests/drover_test_fixtures`).
pub fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/drover_test_fixtures")
        .join(name)
        .display()
        .to_string()
}

/// The tests' testbed directory (base, apt pool), under the harness cache.
pub fn testbed_dir() -> PathBuf {
    cache_dir().join("testbed")
}

/// Runs `cmd` (a `drover test …` command) to completion.
pub fn output_of(mut cmd: Command) -> DroverOutput {
    let out = cmd.output().expect("drover runs");
    DroverOutput {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The `--output json` report of a run.
pub fn json(out: &DroverOutput) -> Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "--output json is not JSON ({e}):\n{}\n{}",
            out.stdout, out.stderr
        )
    })
}

/// Scenario `name` of a report.
pub fn scenario<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["scenarios"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("no scenario {name} in {report:#}"))
}

/// Phase `name` of a scenario.
pub fn phase<'a>(scenario: &'a Value, name: &str) -> &'a Value {
    scenario["phases"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["phase"] == name))
        .unwrap_or_else(|| panic!("no phase {name} in {scenario:#}"))
}

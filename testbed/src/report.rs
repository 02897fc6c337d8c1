//! What a test run gives back: per scenario and phase, status, duration, changed tasks and
//! failures. Serialised as the `--output json` document.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::driver::DriverKind;

/// The phases of a scenario, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Throwaway hosts are created and booted.
    Create,
    /// The scenario's `prepare` playbook.
    Prepare,
    /// The converge playbook (the role, or the playbook under test).
    Converge,
    /// The converge playbook again: nothing may change.
    Idempotence,
    /// The `verify` playbook.
    Verify,
    /// The hosts are destroyed (or kept with `--keep`).
    Destroy,
}

impl Phase {
    /// The phase's name as shown.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Create => "create",
            Phase::Prepare => "prepare",
            Phase::Converge => "converge",
            Phase::Idempotence => "idempotence",
            Phase::Verify => "verify",
            Phase::Destroy => "destroy",
        }
    }
}

/// How a phase (or a scenario) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// It passed.
    Ok,
    /// It failed.
    Failed,
    /// It did not run (an earlier phase failed, or nothing to do).
    Skipped,
    /// Ctrl-C or SIGTERM stopped it.
    Interrupted,
}

impl Status {
    /// The status as shown in the summary.
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Failed => "FAILED",
            Status::Skipped => "-",
            Status::Interrupted => "interrupted",
        }
    }
}

/// A task that reported `changed` (on the idempotence run: the reason it failed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangedTask {
    /// The task's name as displayed (`role : name`).
    pub task: String,
    /// The inventory host it changed.
    pub host: String,
}

/// A failed task, an unreachable host, or a problem before any task ran.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    /// The task, when a task failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// The host, when one host failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// What went wrong.
    pub message: String,
}

/// One phase of one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseReport {
    /// Which phase.
    pub phase: Phase,
    /// How it ended.
    pub status: Status,
    /// Wall time, in seconds in JSON.
    #[serde(serialize_with = "secs")]
    pub duration: Duration,
    /// Tasks that changed something (every phase that runs a playbook lists them).
    pub changed: Vec<ChangedTask>,
    /// What failed.
    pub failures: Vec<Failure>,
    /// The playbook run's event log (JSON lines), when one ran and was kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<PathBuf>,
}

/// A host of a scenario: its inventory name and its container.
#[derive(Debug, Clone, Serialize)]
pub struct HostReport {
    /// Inventory name (and hostname).
    pub name: String,
    /// The container (LXC or Docker).
    pub container: String,
    /// Its address on the testbed bridge or network.
    pub address: String,
    /// A command that opens a shell on it (`lxc-attach …`, `docker exec -it …`).
    pub shell: String,
}

/// One scenario's result.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioReport {
    /// The scenario's name.
    pub name: String,
    /// The target it came from.
    pub source: PathBuf,
    /// Overall: ok only when every phase that ran passed.
    pub status: Status,
    /// Why it was skipped, for a scenario that says `skip:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
    /// Wall time from create to destroy.
    #[serde(serialize_with = "secs")]
    pub duration: Duration,
    /// The phases that ran or were skipped, in order.
    pub phases: Vec<PhaseReport>,
    /// Its hosts.
    pub hosts: Vec<HostReport>,
    /// The driver that made its hosts.
    pub driver: DriverKind,
    /// The LXC path of the hosts (for `lxc-attach -P`; LXC only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lxc_path: Option<PathBuf>,
    /// Inventory and logs of the run; kept when the scenario failed or hosts were kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work_dir: Option<PathBuf>,
    /// The hosts were left running (`--keep`).
    pub kept: bool,
}

impl ScenarioReport {
    /// The status of `phase`, `Skipped` if it is not in the report.
    pub fn phase_status(&self, phase: Phase) -> Status {
        self.phase(phase).map_or(Status::Skipped, |p| p.status)
    }

    /// The report of `phase`, if it ran.
    pub fn phase(&self, phase: Phase) -> Option<&PhaseReport> {
        self.phases.iter().find(|p| p.phase == phase)
    }
}

/// The result of a whole `drover test` run.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// Every scenario, in the order they were given.
    pub scenarios: Vec<ScenarioReport>,
    /// Ctrl-C or SIGTERM stopped the run.
    pub interrupted: bool,
    /// Total wall time.
    #[serde(serialize_with = "secs")]
    pub duration: Duration,
}

impl RunReport {
    /// True when no scenario failed and the run was not interrupted.
    pub fn success(&self) -> bool {
        !self.interrupted && self.scenarios.iter().all(|s| s.status != Status::Failed)
    }
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
}

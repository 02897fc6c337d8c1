//! `drover test`: roles and playbooks tested on throwaway Debian 12 hosts, the way molecule
//! does it, through drover's own engine in this process.
//!
//! A target ([`load_target`]: a role directory, a playbook or a `drover-test.yml` scenario file)
//! gives [`Scenario`]s; [`run`] creates each scenario's hosts with a [`Driver`] (privileged LXC
//! overlay clones of a cached Debian 12 base with systemd, reached with drover's `lxc`
//! connection, or Docker containers of the same base with systemd as PID 1, reached with the
//! `docker` connection), runs prepare,
//! converge, converge again (a changed task fails the scenario), verify, and destroys the hosts
//! — on failure and on Ctrl-C/SIGTERM too — returning a [`RunReport`]. The format and the phases
//! are described in docs/TESTING.md.

mod apt_cache;
mod docker;
mod driver;
mod error;
mod lease;
mod lxc;
mod play;
mod process;
mod report;
mod runner;
mod scenario;
mod steps;

pub use apt_cache::{Seeded, LISTS_MAX_AGE};
pub use docker::{DockerDriver, IMAGE_REPOSITORY, LABEL, NETWORK};
pub use driver::{cleanup, prepare, DockerSettings, Driver, DriverKind, Host};
pub use error::{DriverError, ScenarioError};
pub use lxc::{
    lxc_path, testbed_dir, Testbed, BRIDGE, BRIDGE_ADDR, BRIDGE_MAC, CONTAINER_PREFIX, DEFAULT_DIR,
    DIR_ENV,
};
pub use report::{
    ChangedTask, Failure, HostReport, Phase, PhaseReport, RunReport, ScenarioReport, Status,
};
pub use runner::{run, Progress, Quiet, RunnerOptions};
pub use scenario::{
    load_scenario_file, load_target, HostSpec, Image, Scenario, Step, SCENARIO_FILE,
};

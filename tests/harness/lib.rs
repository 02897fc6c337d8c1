//! Test harness: real Debian 12 hosts (privileged LXC overlay clones with systemd + sshd) for drover's
//! integration tests, and helpers to run the `drover` binary.
//!
//! Typical use in a test:
//! ```no_run
//! let hosts = drover_integration::TestHosts::start(2);
//! let inventory = hosts.dir().join("hosts.ini");
//! hosts.write_inventory(&inventory, "web").unwrap();
//! let run = drover_integration::run_drover(["--help"]);
//! assert_eq!(run.code, Some(0), "{}", run.stderr);
//! assert!(hosts.ssh(0, "test -d /etc").status.success());
//! // dropping `hosts` (also during a panic) stops and destroys the containers
//! ```
//! See `tests/README.md` for the machine setup (`tests/harness/setup.sh`) and measured timings.

mod docker;
mod drover;
mod error;
mod hosts;
mod http;
mod lease;
mod oracle;
mod setup;
mod sshd;

pub use docker::{TestDockerEngine, TEST_IMAGE};
pub use drover::{
    drover_bin, drover_command, drover_command_default_locks, example_bin, run_drover, DroverOutput,
};
pub use error::HarnessError;
pub use hosts::{TestHost, TestHosts, DEPLOY_USER, ROOT_USER};
pub use http::{TestHttpServer, BRIDGE_ADDRESS};
pub use oracle::{
    debug_messages, oracle_ansible_playbook, oracle_collections_path, repo_root, run_local_book,
    target_changed, target_task_results, OracleComparison,
};
pub use setup::{
    cache_dir, harness_dir, require_root_and_setup, state_dir, try_require_root_and_setup,
};
pub use sshd::LoopbackSshd;

//! Errors of the testbed: bad targets and scenario files (with file:line), and the driver's.

use std::path::PathBuf;

use drover_core::yaml::Location;

/// Why a target could not be read into scenarios.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The target is neither a role directory, a playbook nor a scenario file.
    #[error(
        "{0}: not a role directory (tasks/main.yml), a playbook or a drover-test.yml scenario file"
    )]
    UnknownTarget(PathBuf),
    /// The target does not exist.
    #[error("{0}: no such file or directory")]
    NotFound(PathBuf),
    /// YAML that could not be parsed.
    #[error(transparent)]
    Yaml(#[from] drover_core::yaml::YamlError),
    /// A well-formed file with a wrong value.
    #[error("{location}: {message}")]
    Invalid {
        /// Where the bad value is.
        location: Location,
        /// What is wrong with it.
        message: String,
    },
    /// Two scenarios of one run have the same name.
    #[error("{location}: scenario name '{name}' is used twice")]
    DuplicateName {
        /// The second use.
        location: Location,
        /// The name.
        name: String,
    },
}

/// A driver failure: creating, reaching or destroying throwaway hosts.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// LXC needs root.
    #[error("drover test needs root to create LXC containers (running as uid {0}); run it with sudo or as root")]
    NotRoot(u32),
    /// The Docker driver needs root too.
    #[error("drover test --driver docker needs root to build the Debian base and share the apt cache through the containers' layers (running as uid {0}); run it with sudo or as root")]
    DockerNotRoot(u32),
    /// The Docker engine does not answer.
    #[error("cannot reach the Docker engine ({engine}): {message}")]
    DockerUnavailable {
        /// The engine asked (`--docker-host`, `DOCKER_HOST` or the CLI's default).
        engine: String,
        /// What the docker CLI said.
        message: String,
    },
    /// A tool is missing on the controller.
    #[error("'{tool}' is not installed: apt-get install {package}")]
    MissingTool {
        /// The program.
        tool: String,
        /// The Debian package that has it.
        package: String,
    },
    /// A command failed.
    #[error("{command} failed ({status}): {stderr}")]
    Command {
        /// The command line.
        command: String,
        /// Its exit status.
        status: String,
        /// What it printed on stderr (trimmed).
        stderr: String,
    },
    /// A file of the testbed could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Every address of the testbed bridge is leased.
    #[error(
        "no free address on the testbed bridge ({0} hosts leased); run `drover test --cleanup`"
    )]
    NoFreeAddress(usize),
    /// A host did not finish booting.
    #[error("{host}: systemd did not finish booting within {seconds} s ({state})")]
    BootTimeout {
        /// The container.
        host: String,
        /// The limit.
        seconds: u64,
        /// What `systemctl is-system-running` said last.
        state: String,
    },
}

impl DriverError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DriverError::Io {
            path: path.into(),
            source,
        }
    }
}

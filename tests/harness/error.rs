//! Errors of the test harness.

use std::io;
use std::path::PathBuf;

/// What can go wrong while preparing or managing test hosts.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// The harness needs root (bridge, NAT, LXC containers).
    #[error("drover's real-host tests must run as root (they create a bridge and LXC containers); current uid is {0}")]
    NotRoot(u32),
    /// A harness script failed; carries its combined output.
    #[error("{script} {args} failed ({status}):\n{output}")]
    Script {
        /// The script that ran.
        script: PathBuf,
        /// Its arguments, space-separated.
        args: String,
        /// How it exited.
        status: String,
        /// Its stdout and stderr.
        output: String,
    },
    /// All host slots on the harness bridge are taken.
    #[error("no free test-host slots on the harness bridge (wanted {wanted}, {free} free)")]
    NoFreeSlots {
        /// Hosts requested.
        wanted: usize,
        /// Slots that were free.
        free: usize,
    },
    /// A file operation of the harness failed.
    #[error("{context}: {source}")]
    Io {
        /// What the harness was doing.
        context: String,
        /// The underlying error.
        source: io::Error,
    },
}

impl HarnessError {
    /// Wraps an I/O error with what the harness was doing.
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(io::Error) -> HarnessError {
        let context = context.into();
        move |source| HarnessError::Io { context, source }
    }
}

//! What can stop a [`super::Session`] before or while it runs.

use std::path::PathBuf;

use crate::connection::ConnectionError;
use crate::executor::ExecError;
use crate::inventory::InventoryError;
use crate::module::ModuleError;
use crate::playbook::PlaybookError;

/// Errors of a [`super::Session`]. Task failures are not errors: they are results.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// A playbook file does not exist.
    #[error("the playbook {} could not be found", .0.display())]
    PlaybookNotFound(PathBuf),
    /// A playbook could not be loaded (YAML, unknown keyword, missing role, …).
    #[error(transparent)]
    Playbook(#[from] PlaybookError),
    /// The static checks found problems (module arguments, undefined variables); nothing ran.
    #[error("{} problem(s) found before running; the first: {}", .0.len(), first_message(.0))]
    Check(Vec<PlaybookError>),
    /// The inventory could not be read.
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    /// A run stopped on an error that is not a task result.
    #[error(transparent)]
    Exec(#[from] ExecError),
    /// The host is neither in the inventory nor the implicit localhost.
    #[error("host '{0}' is not in the inventory")]
    UnknownHost(String),
    /// No module of that name is registered.
    #[error("couldn't resolve module '{name}'{}", .suggestion.as_ref().map(|s| format!(" (did you mean '{s}'?)")).unwrap_or_default())]
    UnknownModule {
        /// The name asked for.
        name: String,
        /// A registered name close to it.
        suggestion: Option<String>,
    },
    /// Module arguments were rejected before the module ran.
    #[error("{module}: {message}")]
    BadArgs {
        /// The module.
        module: String,
        /// What is wrong.
        message: String,
    },
    /// The host could not be connected to.
    #[error(transparent)]
    Connection(#[from] ConnectionError),
    /// A module failed to run (not a failed result: an error such as a lost connection).
    #[error(transparent)]
    Module(#[from] ModuleError),
    /// A setting is invalid (unknown strategy, bad become method, …).
    #[error("{0}")]
    Options(String),
}

fn first_message(errors: &[PlaybookError]) -> String {
    errors.first().map(ToString::to_string).unwrap_or_default()
}

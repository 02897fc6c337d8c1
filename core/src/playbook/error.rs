//! Errors found while loading a playbook: they name the file, line and column, and say what to do.

use crate::yaml::{Location, YamlError};

/// A problem in playbook content, found before any host is touched.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{location}: {message}")]
pub struct PlaybookError {
    /// Where the problem is.
    pub location: Location,
    /// What is wrong.
    pub message: String,
    /// What to do about it, when there is something to suggest.
    pub hint: Option<String>,
}

impl PlaybookError {
    /// An error at `location`.
    pub fn new(location: &Location, message: impl Into<String>) -> Self {
        Self {
            location: location.clone(),
            message: message.into(),
            hint: None,
        }
    }

    /// Adds a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl From<YamlError> for PlaybookError {
    fn from(e: YamlError) -> Self {
        Self {
            location: e.location,
            message: e.message,
            hint: e.hint,
        }
    }
}

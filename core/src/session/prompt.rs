//! Questions a run asks a person: `vars_prompt`, `pause`, `--step`, become and key passphrases,
//! vault passwords. The library never reads standard input itself; it asks a [`Prompter`].

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

/// What a question is for, so a prompter can answer some kinds and refuse others.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PromptKind {
    /// A play's `vars_prompt` entry for the variable `name`.
    VarsPrompt {
        /// The variable the answer is stored in.
        name: String,
    },
    /// The `pause` module waiting for input (the answer is its `user_input`).
    Pause,
    /// `--step`: whether to run the task (`y`, `n` or `c`).
    Step,
    /// The become password (`-K`).
    BecomePassword,
    /// The passphrase of an encrypted private key no agent holds.
    KeyPassphrase {
        /// The key file.
        key: PathBuf,
    },
    /// A vault password (`--ask-vault-pass`, `--vault-id LABEL@prompt`).
    VaultPassword {
        /// The vault-id label.
        label: String,
    },
}

/// One question.
#[derive(Debug, Clone)]
pub struct Prompt {
    /// What the question is for.
    pub kind: PromptKind,
    /// The text to show, exactly as a terminal shows it (ending in `": "` or a newline).
    pub message: String,
    /// The answer is secret: do not echo it.
    pub secret: bool,
}

/// Why a question got no answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PromptError {
    /// Nobody can be asked (no terminal, or an embedding program that answers nothing).
    #[error("{0}")]
    Unavailable(String),
    /// Asking failed.
    #[error("cannot read the answer: {0}")]
    Failed(String),
}

/// Answers the questions of a run. Calls may block (a terminal waits for a person); the
/// library calls them from blocking-safe places.
pub trait Prompter: Send + Sync {
    /// Answers `prompt`; the answer is the text typed, without the line end.
    fn ask(&self, prompt: &Prompt) -> Result<String, PromptError>;
}

/// The default prompter for embedding programs: answers nothing, so a run that needs an
/// answer uses the question's default or stops with a clear error — it never reads stdin.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPrompter;

impl Prompter for NoPrompter {
    fn ask(&self, prompt: &Prompt) -> Result<String, PromptError> {
        Err(PromptError::Unavailable(format!(
            "no prompter to answer {:?} (give the session one with SessionBuilder::prompter)",
            prompt.kind
        )))
    }
}

/// A prompter shared by a run (cheap to clone, printable in options).
#[derive(Clone)]
pub struct SharedPrompter(pub Arc<dyn Prompter>);

impl std::fmt::Debug for SharedPrompter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedPrompter")
    }
}

impl Default for SharedPrompter {
    fn default() -> Self {
        Self(Arc::new(NoPrompter))
    }
}

impl SharedPrompter {
    /// Asks on a blocking-safe thread, so a waiting person does not stall other hosts.
    pub async fn ask_async(&self, prompt: Prompt) -> Result<String, PromptError> {
        let prompter = self.0.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(_) => tokio::task::spawn_blocking(move || prompter.ask(&prompt))
                .await
                .map_err(|e| PromptError::Failed(e.to_string()))?,
            Err(_) => prompter.ask(&prompt),
        }
    }
}

tokio::task_local! {
    static CURRENT: SharedPrompter;
}

/// The prompter of the run this code belongs to (modules such as `pause` ask it); outside a
/// run, a [`NoPrompter`].
pub fn current_prompter() -> SharedPrompter {
    CURRENT.try_with(Clone::clone).unwrap_or_default()
}

/// Runs `future` with `prompter` as the [`current_prompter`].
pub async fn scope_prompter<F: Future>(prompter: SharedPrompter, future: F) -> F::Output {
    CURRENT.scope(prompter, future).await
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;
    impl Prompter for Fixed {
        fn ask(&self, _: &Prompt) -> Result<String, PromptError> {
            Ok("yes".into())
        }
    }

    fn pause() -> Prompt {
        Prompt {
            kind: PromptKind::Pause,
            message: "go? ".into(),
            secret: false,
        }
    }

    #[tokio::test]
    async fn the_run_scope_decides_who_answers() {
        assert!(current_prompter().ask_async(pause()).await.is_err());
        let answer = scope_prompter(SharedPrompter(Arc::new(Fixed)), async {
            current_prompter().ask_async(pause()).await
        })
        .await;
        assert_eq!(answer.unwrap(), "yes");
    }
}

//! The terminal prompter: asks `vars_prompt`, `pause`, `--step`, become, passphrase and vault
//! questions on the terminal, and refuses when stdin is not one.

use std::io::{BufRead, IsTerminal, Write};

use drover_core::session::{Prompt, PromptError, Prompter};

use crate::report;

/// Asks on the controlling terminal (standard input and error).
pub(crate) struct TerminalPrompter;

impl Prompter for TerminalPrompter {
    fn ask(&self, prompt: &Prompt) -> Result<String, PromptError> {
        if !std::io::stdin().is_terminal() {
            return Err(PromptError::Unavailable("no terminal to ask on".into()));
        }
        report::progress::paused(|| read_line(&prompt.message, prompt.secret))
            .map_err(PromptError::Failed)
    }
}

/// Prints `message` and reads a line, with echo off for secrets.
fn read_line(message: &str, secret: bool) -> Result<String, String> {
    eprint!("{message}");
    let _ = std::io::stderr().flush();
    if secret {
        let _ = std::process::Command::new("stty").arg("-echo").status();
    }
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    if secret {
        let _ = std::process::Command::new("stty").arg("echo").status();
        eprintln!();
    }
    read.map_err(|e| e.to_string())?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

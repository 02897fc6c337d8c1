//! `drover completions SHELL`, the hidden `drover man` (a man page from the clap definitions)
//! and the long `--version` text.

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, CommandFactory, ValueEnum};

use crate::args::Cli;
use crate::{fail, EXIT_ERROR};

/// `drover completions` arguments.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to write a completion script for.
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

/// Shells `drover completions` writes scripts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    /// bash: `drover completions bash > /etc/bash_completion.d/drover`.
    Bash,
    /// zsh: `drover completions zsh > ~/.zfunc/_drover` (with ~/.zfunc on fpath).
    Zsh,
    /// fish: `drover completions fish > ~/.config/fish/completions/drover.fish`.
    Fish,
}

/// `drover man` arguments.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write one page per subcommand (`drover.1`, `drover-play.1`, …) into this directory
    /// instead of printing `drover.1`.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<std::path::PathBuf>,
}

/// Writes the completion script to standard output.
pub fn completions(args: &CompletionsArgs) -> ExitCode {
    let shell = match args.shell {
        CompletionShell::Bash => clap_complete::Shell::Bash,
        CompletionShell::Zsh => clap_complete::Shell::Zsh,
        CompletionShell::Fish => clap_complete::Shell::Fish,
    };
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "drover", &mut buf);
    write_stdout(&buf)
}

/// Writes `bytes` to standard output; a closed pipe (`| head`) is not an error.
fn write_stdout(bytes: &[u8]) -> ExitCode {
    match std::io::stdout().write_all(bytes) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => fail(
            format!("cannot write to standard output: {e}"),
            None,
            EXIT_ERROR,
        ),
    }
}

/// Writes the man page(s).
pub fn man(args: &ManArgs) -> ExitCode {
    let cmd = Cli::command().version(env!("CARGO_PKG_VERSION"));
    let result = match &args.dir {
        Some(dir) => std::fs::create_dir_all(dir)
            .and_then(|()| clap_mangen::generate_to(cmd, dir))
            .map_err(|e| format!("{}: {e}", dir.display())),
        None => {
            let mut buf = Vec::new();
            match clap_mangen::Man::new(cmd).render(&mut buf) {
                Ok(()) => return write_stdout(&buf),
                Err(e) => Err(e.to_string()),
            }
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format!("cannot write the man page: {e}"), None, EXIT_ERROR),
    }
}

/// `drover --version`: version, commit, transports, module count and build.
pub fn long_version() -> &'static str {
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEXT.get_or_init(|| {
        let modules = drover_modules::registry()
            .names()
            .filter(|n| !n.contains('.'))
            .count();
        format!(
            "{}\ncommit: {}\ntransports: ssh (built in, russh), local, docker (docker CLI), lxc (lxc-attach, local or over ssh)\nfeatures: ansible.cfg + ANSIBLE_* settings, vault, async, roles and collections (galaxy install from git/paths), drover test (LXC)\nmodules: {modules}\nbuild: {} {}",
            env!("CARGO_PKG_VERSION"),
            env!("DROVER_BUILD_COMMIT"),
            env!("DROVER_BUILD_TARGET"),
            env!("DROVER_BUILD_PROFILE"),
        )
    })
}

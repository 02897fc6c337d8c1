//! Reporters: turn executor events into output.

mod adhoc;
pub mod color;
mod human;
mod json;
mod origin;
mod profile;
pub mod progress;

pub use adhoc::AdHocReporter;
pub use human::HumanReporter;
pub use json::{EventsFile, JsonReporter, Tee};

use std::io::IsTerminal;
use std::sync::Arc;

use drover_core::config::AnsibleConfig;
use drover_core::events::EventSink;

use crate::args::{OutputFormat, PlayArgs};
use color::{Colors, Terminal};

/// Colour for a stream (standard output, or standard error for diagnostics), from the
/// configuration, the environment and `--no-color`.
pub fn colors_for(cfg: &AnsibleConfig, is_terminal: bool, no_color_flag: bool) -> Colors {
    let terminal = Terminal {
        stdout_is_terminal: is_terminal,
        no_color_flag,
    };
    Colors::resolve(cfg, terminal, |k| std::env::var(k).ok())
}

/// The event sink of `drover play`: the chosen output format on standard output, plus the
/// `--events` file when one is given (an error names a file that cannot be created).
pub fn play_sink(
    args: &PlayArgs,
    cfg: &AnsibleConfig,
    no_color: bool,
) -> Result<Arc<dyn EventSink>, String> {
    let main: Arc<dyn EventSink> = match args.output {
        OutputFormat::Human => {
            let colors = colors_for(cfg, std::io::stdout().is_terminal(), no_color);
            let profile =
                args.profile || profile::enabled_by_config(cfg, |k| std::env::var(k).ok());
            Arc::new(HumanReporter::new(
                args.hosts.verbose,
                args.hosts.diff,
                colors,
                profile,
            ))
        }
        OutputFormat::Json => Arc::new(JsonReporter),
    };
    let Some(path) = &args.events else {
        return Ok(main);
    };
    let file = EventsFile::create(path)
        .map_err(|e| format!("--events {}: cannot create the file: {e}", path.display()))?;
    Ok(Arc::new(Tee(vec![main, Arc::new(file)])))
}

/// Prints `[WARNING]: message` on standard error in the warning colour.
pub fn warning(colors: &Colors, message: &str) {
    eprintln!(
        "{}",
        colors.paint(color::Role::Warn, &format!("[WARNING]: {message}"))
    );
}

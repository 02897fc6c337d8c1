//! One JSON object per event, per line, on stdout.

use std::io::Write;

use drover_core::events::{Event, EventSink};

/// Writes each event as a JSON line.
#[derive(Debug, Default)]
pub struct JsonReporter;

impl EventSink for JsonReporter {
    fn emit(&self, event: &Event) {
        // Checkpoints hold variable values: only `--summary` writes them down.
        if matches!(event, Event::HostCheckpoint(_)) {
            return;
        }
        if let Ok(line) = serde_json::to_string(event) {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
        }
    }
}

//! One JSON object per event, per line (`drover_core::event_json`: `schema_version`, then the
//! event), on stdout (`--output json`) or into a file (`--events FILE`).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use drover_core::event_json;
use drover_core::events::{Event, EventSink};

/// Writes each event as a JSON line on standard output.
#[derive(Debug, Default)]
pub struct JsonReporter;

impl EventSink for JsonReporter {
    fn emit(&self, event: &Event) {
        if let Some(line) = event_json::to_line(event) {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
        }
    }
}

/// Writes each event as a JSON line into a file, flushed at the end of each playbook (the
/// recap) and when dropped.
#[derive(Debug)]
pub struct EventsFile {
    out: Mutex<BufWriter<File>>,
}

impl EventsFile {
    /// Creates (or truncates) `path`.
    pub fn create(path: &Path) -> std::io::Result<Self> {
        Ok(Self {
            out: Mutex::new(BufWriter::new(File::create(path)?)),
        })
    }
}

impl EventSink for EventsFile {
    fn emit(&self, event: &Event) {
        let (Ok(mut out), Some(line)) = (self.out.lock(), event_json::to_line(event)) else {
            return;
        };
        let _ = writeln!(out, "{line}");
        // A reader following the file (`tail -f`) sees each task as it ends.
        if matches!(event, Event::TaskEnd { .. } | Event::Recap { .. }) {
            let _ = out.flush();
        }
    }
}

impl Drop for EventsFile {
    fn drop(&mut self) {
        if let Ok(mut out) = self.out.lock() {
            let _ = out.flush();
        }
    }
}

/// Sends every event to each of its sinks, in order.
pub struct Tee(pub Vec<Arc<dyn EventSink>>);

impl EventSink for Tee {
    fn emit(&self, event: &Event) {
        for sink in &self.0 {
            sink.emit(event);
        }
    }
}

//! The JSON form of [`Event`]s (`drover play --output json`, `--events FILE`): one object per
//! line, `schema_version` first, then the event's own fields. The JSON Schema of that line
//! (`docs/events.schema.json`) is generated from the Rust types by [`json_schema`], so it cannot
//! drift from what drover writes; `docs/EVENTS.md` describes it.

use schemars::JsonSchema;
use serde::Serialize;

use crate::events::Event;

/// Version of the JSON events format. Adding an event type or an optional field keeps it;
/// removing or renaming a field, or changing what a value means, increments it.
pub const SCHEMA_VERSION: u32 = 1;

/// One line of drover's JSON event stream: the format's version and an [`Event`].
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(
    title = "drover event",
    description = "One line of `drover play --output json` or `--events FILE`: the version of this \
                   format, the event's type in `event`, then that type's fields. Durations are \
                   seconds (three decimals)."
)]
pub struct EventRecord<'a> {
    /// The version of this format; readers should check it.
    pub schema_version: u32,
    /// The event, its fields beside `schema_version`.
    #[serde(flatten)]
    pub event: &'a Event,
}

impl<'a> EventRecord<'a> {
    /// The record of `event` in the current format.
    pub fn new(event: &'a Event) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            event,
        }
    }
}

/// `event` as one line of JSON (no trailing newline); `None` for events that stay out of the
/// stream: a [`Event::HostCheckpoint`] holds variable values, which only `--summary` writes down.
pub fn to_line(event: &Event) -> Option<String> {
    if matches!(event, Event::HostCheckpoint(_)) {
        return None;
    }
    serde_json::to_string(&EventRecord::new(event)).ok()
}

/// The JSON Schema (draft 2020-12) that every line of the event stream satisfies.
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(EventRecord<'static>);
    let mut generated = match schema.to_value() {
        serde_json::Value::Object(map) => map,
        other => return other,
    };
    if let Some(version) = generated
        .get_mut("properties")
        .and_then(|p| p.get_mut("schema_version"))
        .and_then(|v| v.as_object_mut())
    {
        version.insert("const".into(), SCHEMA_VERSION.into());
    }
    // The identification first, for a reader of the file; then the generated schema.
    let mut object = serde_json::Map::new();
    for key in ["$schema", "title", "description"] {
        if let Some(v) = generated.remove(key) {
            object.insert(key.into(), v);
        }
    }
    object.insert(
        "$id".into(),
        format!("drover-events-v{SCHEMA_VERSION}.schema.json").into(),
    );
    object.extend(generated);
    // No field beyond those described: a field added to an event without regenerating the
    // schema fails validation.
    object.insert("unevaluatedProperties".into(), false.into());
    serde_json::Value::Object(object)
}

/// [`json_schema`] as the text of `docs/events.schema.json` (pretty-printed, newline-terminated).
pub fn json_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&json_schema()).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{HostStats, Status};
    use std::time::Duration;

    #[test]
    fn schema_version_comes_first_then_the_event() {
        let event = Event::Recap {
            hosts: vec![("web1".into(), HostStats::default())],
            duration: Duration::from_millis(1500),
        };
        let line = to_line(&event).expect("a line");
        assert!(
            line.starts_with(&format!(
                "{{\"schema_version\":{SCHEMA_VERSION},\"event\":\"recap\""
            )),
            "{line}"
        );
        assert!(line.contains("\"duration\":1.5"), "{line}");
    }

    /// `docs/events.schema.json` is what the types generate; regenerate it with
    /// `DROVER_REGENERATE_EVENTS_SCHEMA=1 cargo test -p drover-core --lib event_json`.
    #[test]
    fn docs_schema_file_is_current() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/events.schema.json");
        let want = json_schema_text();
        if std::env::var_os("DROVER_REGENERATE_EVENTS_SCHEMA").is_some() {
            std::fs::write(&path, &want).unwrap();
            return;
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "{} is stale (the event types changed): regenerate it with \
             `DROVER_REGENERATE_EVENTS_SCHEMA=1 cargo test -p drover-core --lib event_json`, \
             update docs/EVENTS.md, and increment SCHEMA_VERSION if a field was removed, \
             renamed or changed meaning",
            path.display()
        );
    }

    #[test]
    fn schema_names_every_event_type_and_status() {
        let text = json_schema_text();
        for name in [
            "playbook_start",
            "play_start",
            "no_hosts_matched",
            "task_start",
            "host_result",
            "task_end",
            "included",
            "retry",
            "warning",
            "recap",
        ] {
            assert!(text.contains(&format!("\"{name}\"")), "{name} missing");
        }
        let status = serde_json::to_string(&Status::Unreachable).unwrap();
        assert!(text.contains(&status), "{status}");
        assert!(text.contains("\"schema_version\""));
    }
}

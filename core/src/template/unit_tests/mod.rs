//! Unit tests of the templating layer. Expected values were checked against ansible-core 2.19.

mod escapes;
mod files;
mod filters;
mod jinja_tests;
mod lookups;
mod render;

use serde_json::json;

use crate::template::Templar;
use crate::vars::{Value, Vars};

/// Variables used across the tests (mirrors the oracle's variable file).
pub(super) fn vars() -> Vars {
    let v = json!({
        "a": "{{ b }}",
        "b": "{{ c }}",
        "c": 42,
        "loop1": "{{ loop2 }}",
        "loop2": "{{ loop1 }}",
        "s": "false",
        "sy": "yes",
        "lst": [3, 1, 2],
        "d": {"x": 1, "y": "{{ c }}"},
        "users": [{"name": "bob", "age": 3}, {"name": "al", "age": 5}],
        "bad": "{{ missing }}",
    });
    match v {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

/// Renders `src` with [`vars`] to text.
pub(super) fn r(src: &str) -> String {
    match Templar::new().render_str(src, &vars()) {
        Ok(s) => s,
        Err(e) => panic!("render of {src:?} failed: {e}"),
    }
}

/// Renders `src` with [`vars`] keeping native types.
pub(super) fn rv(src: &str) -> Value {
    match Templar::new().render_value(&Value::String(src.into()), &vars()) {
        Ok(v) => v,
        Err(e) => panic!("render of {src:?} failed: {e}"),
    }
}

/// The error message of rendering `src`.
pub(super) fn err(src: &str) -> String {
    match Templar::new().render_str(src, &vars()) {
        Ok(s) => panic!("render of {src:?} unexpectedly gave {s:?}"),
        Err(e) => e.message,
    }
}

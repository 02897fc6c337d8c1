//! Native (type-preserving) results: the record of the values `{{ }}` emits during one render,
//! from which a template that is exactly one expression keeps that expression's type.
//!
//! Jinja2's native environment (ansible-core's) also concatenates a macro's output natively: a
//! macro whose body emits exactly one value returns that value, not its text
//! (`{% macro m() %}{{ {"a": 1} }}{% endmacro %}{{ m() }}` is a dict). minijinja's macros return
//! their text, so an emitted string that is exactly the text of the one value a macro body
//! emitted (into another output buffer, the macro's own) is taken as that value.

use minijinja::value::{Value, ValueKind};

/// One value written by `{{ }}`, with the address of the output buffer it went to.
struct Emission {
    out: usize,
    value: Value,
    text: String,
}

/// Per-render record of the values emitted by `{{ }}`.
#[derive(Default)]
pub(crate) struct NativeCapture {
    /// How many values (other than `None`) were emitted.
    pub count: usize,
    /// The first of them.
    pub first: Option<Value>,
    /// Its text.
    pub first_text: String,
    /// Whether a `None` was emitted.
    pub saw_none: bool,
    first_out: usize,
    last: Option<Emission>,
}

impl NativeCapture {
    /// Records `value`, written as `text` into the output buffer at address `out`.
    pub(crate) fn record(&mut self, out: usize, value: &Value, text: &str) {
        if value.is_none() {
            self.saw_none = true;
            return;
        }
        let mut value = value.clone();
        if value.kind() == ValueKind::String {
            let macro_result = self
                .last
                .take()
                .filter(|l| l.out != out && value.as_str() == Some(l.text.as_str()));
            if let Some(inner) = macro_result {
                // The macro body's emission is not one of this output's values.
                if self.count == 1 && self.first_out == inner.out {
                    self.count = 0;
                    self.first = None;
                }
                value = inner.value;
            }
        }
        self.count += 1;
        if self.count == 1 {
            self.first = Some(value.clone());
            self.first_text = text.to_string();
            self.first_out = out;
        }
        self.last = Some(Emission {
            out,
            value,
            text: text.to_string(),
        });
    }
}

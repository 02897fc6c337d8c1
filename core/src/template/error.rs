//! [`TemplateError`] and the translation of minijinja errors into Ansible-style messages.

use std::fmt;

/// What kind of templating failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateErrorKind {
    /// A variable or attribute was undefined (`'x' is undefined`).
    Undefined,
    /// The template text could not be parsed.
    Syntax,
    /// A variable's value refers back to itself.
    RecursiveLoop,
    /// A conditional did not produce a boolean.
    BrokenConditional,
    /// A whole template resolved to `omit` where a value was required.
    Omitted,
    /// A filter, test, lookup or operation failed.
    Other,
}

/// A templating failure: undefined variable, syntax error, failing filter.
#[derive(Debug, Clone)]
pub struct TemplateError {
    /// What went wrong, including the (shortened) template text where known.
    pub message: String,
    /// The failure's category.
    pub kind: TemplateErrorKind,
    /// Where the template came from (`file:line:col` of the task, a template path); callers fill it.
    pub location: Option<String>,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(loc) => write!(f, "{}: {}", loc, self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for TemplateError {}

impl TemplateError {
    /// An error of kind [`TemplateErrorKind::Other`] with the given message.
    pub fn new(message: impl Into<String>) -> Self {
        Self::with_kind(TemplateErrorKind::Other, message)
    }

    /// An error of the given kind.
    pub fn with_kind(kind: TemplateErrorKind, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            kind,
            location: None,
        }
    }

    /// Sets where the failing template came from.
    pub fn at(mut self, location: impl Into<String>) -> Self {
        self.location = Some(location.into());
        self
    }

    /// Builds an error from a minijinja failure while rendering `source`.
    pub(crate) fn from_jinja(err: &minijinja::Error, source: &str) -> Self {
        let kind = classify(err);
        let mut message = describe(err);
        if kind == TemplateErrorKind::Syntax {
            if let Some(line) = err.line() {
                message.push_str(&format!(" (line {line})"));
            }
        }
        message.push_str(&format!(". Template: {}", shorten(source)));
        Self::with_kind(kind, message)
    }
}

impl From<minijinja::Error> for TemplateError {
    fn from(e: minijinja::Error) -> Self {
        Self::with_kind(classify(&e), describe(&e))
    }
}

fn classify(err: &minijinja::Error) -> TemplateErrorKind {
    use minijinja::ErrorKind as K;
    match err.kind() {
        K::UndefinedError => TemplateErrorKind::Undefined,
        K::SyntaxError | K::BadEscape => TemplateErrorKind::Syntax,
        _ if err.detail().is_some_and(|d| d.contains(RECURSION_MARKER)) => {
            TemplateErrorKind::RecursiveLoop
        }
        _ => TemplateErrorKind::Other,
    }
}

/// The text that identifies a recursive variable definition.
pub(crate) const RECURSION_MARKER: &str = "recursive loop detected in template";

/// A one-line description of a minijinja error in Ansible's words.
fn describe(err: &minijinja::Error) -> String {
    use minijinja::ErrorKind as K;
    let detail = err.detail().unwrap_or_default();
    let mut msg = match err.kind() {
        K::UndefinedError => undefined_message(detail),
        K::SyntaxError => format!("template syntax error: {detail}"),
        K::UnknownFilter => format!("no filter named '{}'", strip_unknown(detail, "filter")),
        K::UnknownTest => format!("no test named '{}'", strip_unknown(detail, "test")),
        K::UnknownFunction => format!("'{}' is undefined", strip_unknown(detail, "")),
        K::InvalidOperation | K::MissingArgument | K::TooManyArguments | K::CannotUnpack => {
            if detail.is_empty() {
                err.kind().to_string()
            } else {
                detail.to_string()
            }
        }
        _ if detail.is_empty() => err.kind().to_string(),
        _ => format!("{}: {detail}", err.kind()),
    };
    let mut src = std::error::Error::source(err);
    while let Some(s) = src {
        msg.push_str(&format!(": {s}"));
        src = s.source();
    }
    msg
}

fn strip_unknown<'a>(detail: &'a str, what: &str) -> &'a str {
    let d = detail.strip_suffix(" is unknown").unwrap_or(detail);
    if what.is_empty() {
        d
    } else {
        d.strip_prefix(what).map(str::trim_start).unwrap_or(d)
    }
}

/// Turns minijinja's "`x.y` is undefined" into Ansible's "'x.y' is undefined".
fn undefined_message(detail: &str) -> String {
    if detail.is_empty() {
        return "an undefined variable was used".to_string();
    }
    let mut out = String::with_capacity(detail.len());
    let mut in_tick = false;
    for c in detail.chars() {
        if c == '`' {
            in_tick = !in_tick;
            out.push('\'');
        } else {
            out.push(c);
        }
    }
    out
}

/// The template text cut to a readable length for error messages.
pub(crate) fn shorten(source: &str) -> String {
    const MAX: usize = 200;
    let one_line = source.trim();
    if one_line.chars().count() <= MAX {
        return format!("\"{one_line}\"");
    }
    let cut: String = one_line.chars().take(MAX).collect();
    format!("\"{cut}...\"")
}

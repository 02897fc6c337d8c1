//! Turning playbook and inventory errors into miette diagnostics with the offending source line.

use drover_core::playbook::PlaybookError;
use miette::{Diagnostic, NamedSource, SourceSpan};

/// A located problem in a file, rendered with a snippet of the source.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{message}")]
pub struct SourceDiagnostic {
    message: String,
    #[source_code]
    src: NamedSource<String>,
    #[label("here")]
    span: SourceSpan,
    #[help]
    hint: Option<String>,
}

/// A problem with no useful source snippet.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{message}")]
pub struct PlainDiagnostic {
    /// What went wrong.
    pub message: String,
    /// What to do about it.
    #[help]
    pub hint: Option<String>,
}

/// Byte offset of a 1-based line and column in `text`.
fn offset_of(text: &str, line: usize, col: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let within: usize = l
                .chars()
                .take(col.saturating_sub(1))
                .map(char::len_utf8)
                .sum();
            return offset + within.min(l.len());
        }
        offset += l.len();
    }
    offset.min(text.len())
}

/// The diagnostic for a playbook error; with the file's text when it can be read.
pub fn playbook_diagnostic(err: &PlaybookError) -> miette::Report {
    let file = err.location.file.to_string();
    let located = format!("{}: {}", err.location, err.message);
    match std::fs::read_to_string(&file) {
        Ok(text) if err.location.line > 0 => {
            let offset = offset_of(&text, err.location.line, err.location.col);
            let len = text[offset..]
                .find(['\n', ':'])
                .unwrap_or(text.len() - offset)
                .max(1);
            let span = (offset, len.min(text.len().saturating_sub(offset))).into();
            miette::Report::new(SourceDiagnostic {
                message: located,
                src: NamedSource::new(file, text),
                span,
                hint: err.hint.clone(),
            })
        }
        _ => miette::Report::new(PlainDiagnostic {
            message: located,
            hint: err.hint.clone(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets() {
        let t = "a: 1\nbb: 2\n";
        assert_eq!(offset_of(t, 2, 1), 5);
        assert_eq!(offset_of(t, 2, 2), 6);
    }
}

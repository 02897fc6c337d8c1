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

/// Widest source line shown whole in a snippet; wider lines are cut to a window around the
/// column (the renderer cannot pad past 65,535 columns, and nobody reads such a line anyway).
const MAX_SNIPPET_WIDTH: usize = 200;

/// The offending line cut to a window around `col` (1-based), with the column inside it, when
/// the line is wider than [`MAX_SNIPPET_WIDTH`].
fn clip_wide_line(text: &str, line: usize, col: usize) -> Option<(String, usize)> {
    let l = text.lines().nth(line.checked_sub(1)?)?;
    if l.chars().count() <= MAX_SNIPPET_WIDTH {
        return None;
    }
    let half = MAX_SNIPPET_WIDTH / 2;
    let start = col.saturating_sub(1).saturating_sub(half);
    let window: String = l.chars().skip(start).take(MAX_SNIPPET_WIDTH).collect();
    let prefix = if start > 0 { "…" } else { "" };
    let shown = format!("{prefix}{window}…");
    let col_in = col.saturating_sub(start) + usize::from(start > 0);
    Some((shown, col_in.max(1)))
}

/// The diagnostic for a playbook error; with the file's text when it can be read.
pub fn playbook_diagnostic(err: &PlaybookError) -> miette::Report {
    let file = err.location.file.to_string();
    let located = format!("{}: {}", err.location, err.message);
    let readable = drover_core::limits::read_text(std::path::Path::new(&file));
    let clipped = readable
        .as_ref()
        .ok()
        .and_then(|t| clip_wide_line(t, err.location.line, err.location.col));
    if let Some((line_text, col)) = clipped {
        let name = format!(
            "{file}, line {} (cut to columns near {})",
            err.location.line, err.location.col
        );
        let offset = offset_of(&line_text, 1, col);
        return miette::Report::new(SourceDiagnostic {
            message: located,
            span: (offset, 1usize.min(line_text.len() - offset)).into(),
            src: NamedSource::new(name, line_text),
            hint: err.hint.clone(),
        });
    }
    match readable {
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

    #[test]
    fn wide_lines_are_cut_around_the_column() {
        let text = format!("a: 1\nb: [{}x]\n", " ".repeat(70_000));
        let (shown, col) = clip_wide_line(&text, 2, 70_005).unwrap();
        assert!(shown.chars().count() <= MAX_SNIPPET_WIDTH + 2);
        assert_eq!(shown.chars().nth(col - 1), Some('x'));
        assert!(clip_wide_line(&text, 1, 1).is_none());
    }
}

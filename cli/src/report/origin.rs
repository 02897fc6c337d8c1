//! ansible-core 2.19's error origin: `Origin: FILE:LINE:COL`, then the target line with up to two
//! lines before it, numbered, and a caret under the column (`^ column N`).

use std::path::Path;

/// Lines shown before the target line.
const CONTEXT_LINES: usize = 2;
/// Width of an annotated line, its number included.
const MAX_LINE_WIDTH: usize = 120;
const TRUNCATION: &str = "...";

/// Splits a `file:line:col` location (the file may contain colons).
pub fn parse_location(location: &str) -> Option<(&str, usize, usize)> {
    let mut parts = location.rsplitn(3, ':');
    let col = parts.next()?.parse().ok()?;
    let line = parts.next()?.parse().ok()?;
    let file = parts.next()?;
    Some((file, line, col))
}

/// The `Origin:` block for `location` (`file:line:col`): the origin line, a blank line, the
/// annotated source, and a closing blank line, as ansible-core prints it under an `[ERROR]:`.
/// `None` when the location has no line.
pub fn origin_block(location: &str) -> Option<String> {
    let (file, line, col) = parse_location(location)?;
    if line == 0 {
        return None;
    }
    let path = std::path::absolute(Path::new(file)).unwrap_or_else(|_| file.into());
    let mut out = format!("Origin: {}:{line}:{col}\n", path.display());
    match annotated_source(&path, line, col) {
        Some(lines) => {
            out.push('\n');
            for l in lines {
                out.push_str(&l);
                out.push('\n');
            }
        }
        None => return Some(out),
    }
    Some(out)
}

/// The numbered source lines up to `line`, and the column marker, as ansible-core's
/// `SourceContext.from_origin` renders them.
fn annotated_source(path: &Path, line: usize, col: usize) -> Option<Vec<String>> {
    let text = drover_core::limits::read_text(path).ok()?;
    let start = line.saturating_sub(1).saturating_sub(CONTEXT_LINES);
    let lines: Vec<&str> = text.split('\n').skip(start).take(line - start).collect();
    if lines.len() != line - start {
        return None;
    }
    let label_width = line.to_string().len();
    let max_src = MAX_LINE_WIDTH - label_width - 1;
    let mut usable = max_src;
    let mut out = Vec::new();
    for (i, src) in lines.iter().enumerate() {
        let mut src = src.replace('\t', " ");
        if src.chars().count() > max_src {
            src = src
                .chars()
                .take(max_src - TRUNCATION.len())
                .collect::<String>()
                + TRUNCATION;
            usable = max_src - TRUNCATION.len();
        }
        let num = start + i + 1;
        let sep = if src.is_empty() { "" } else { " " };
        out.push(format!("{num:>label_width$}{sep}{src}"));
    }
    if col >= 1 && col <= usable {
        let marker = format!("column {col}");
        let idx = col - 1;
        let marker = if idx + 2 + marker.len() > max_src {
            format!(
                "{}{marker} ^",
                " ".repeat(idx.saturating_sub(marker.len() + 1))
            )
        } else {
            format!("{}^ {marker}", " ".repeat(idx))
        };
        out.push(format!("{} {marker}", " ".repeat(label_width)));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_the_column_under_numbered_context() {
        let f = std::env::temp_dir().join(format!("drover-origin-{}.yml", std::process::id()));
        let body = "- hosts: all\n\n  tasks:\n    - name: x\n      command: y\n";
        std::fs::write(&f, body).expect("write");
        let lines = annotated_source(&f, 4, 7).expect("context");
        assert_eq!(
            lines,
            ["2", "3   tasks:", "4     - name: x", "        ^ column 7"]
        );
        let block = origin_block(&format!("{}:1:3", f.display())).expect("block");
        assert!(
            block.ends_with("1 - hosts: all\n    ^ column 3\n"),
            "{block}"
        );
        let _ = std::fs::remove_file(&f);
    }

    #[test]
    fn locations_with_colons_in_the_file() {
        assert_eq!(parse_location("a:b.yml:3:5"), Some(("a:b.yml", 3, 5)));
        assert_eq!(parse_location("nowhere"), None);
    }
}

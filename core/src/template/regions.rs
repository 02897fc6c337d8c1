//! Code regions of a template: the text inside `{{ }}` and `{% %}` (comments and `{% raw %}`
//! blocks excluded), found the way Jinja2's lexer finds them, for source rewrites done before
//! compiling (`%` formatting, string-literal escapes).

use std::borrow::Cow;

use super::engine::SyntaxKey;

/// Which kind of code region a piece of template code sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Region {
    /// An expression: `{{ … }}`.
    Variable,
    /// A statement: `{% … %}`.
    Block,
}

/// Applies `f` to every code region of `source` and splices the results back in. Text outside
/// code regions, comments and raw blocks are copied unchanged. Returns the source borrowed when
/// `f` changed nothing.
pub(crate) fn map_code_regions<'a, E>(
    source: &'a str,
    syntax: &SyntaxKey,
    mut f: impl FnMut(&str, Region) -> Result<Cow<'_, str>, E>,
) -> Result<Cow<'a, str>, E> {
    let mut out = String::new();
    let mut changed = false;
    let mut pos = 0;
    let starts = [
        (
            syntax.variable.0.as_str(),
            syntax.variable.1.as_str(),
            Region::Variable,
        ),
        (
            syntax.block.0.as_str(),
            syntax.block.1.as_str(),
            Region::Block,
        ),
    ];
    let (comment_start, comment_end) = (syntax.comment.0.as_str(), syntax.comment.1.as_str());
    while pos < source.len() {
        // Find the next opening delimiter.
        let mut next: Option<(usize, &str, &str, Region)> = None;
        for (open, close, region) in starts {
            if let Some(i) = source[pos..].find(open) {
                if next.is_none_or(|n| pos + i < n.0) {
                    next = Some((pos + i, open, close, region));
                }
            }
        }
        let comment = source[pos..].find(comment_start).map(|i| pos + i);
        match (next, comment) {
            (_, Some(c)) if next.is_none_or(|n| c < n.0) => {
                let end = source[c + comment_start.len()..]
                    .find(comment_end)
                    .map(|i| c + comment_start.len() + i + comment_end.len())
                    .unwrap_or(source.len());
                out.push_str(&source[pos..end]);
                pos = end;
            }
            (Some((at, open, close, region)), _) => {
                let code_start = at + open.len();
                let code_end = find_code_end(source, code_start, close);
                out.push_str(&source[pos..code_start]);
                let code = &source[code_start..code_end];
                let rewritten = f(code, region)?;
                if let Cow::Owned(_) = rewritten {
                    changed = true;
                }
                out.push_str(&rewritten);
                pos = code_end;
                if region == Region::Block && is_raw_tag(code) {
                    let end = raw_block_end(source, pos, &syntax.block.0);
                    out.push_str(&source[pos..end]);
                    pos = end;
                }
            }
            _ => {
                out.push_str(&source[pos..]);
                pos = source.len();
            }
        }
    }
    Ok(if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(source)
    })
}

/// Where the `{% endraw %}` tag after a raw block starting at `pos` begins (or the end).
fn raw_block_end(source: &str, pos: usize, block_start: &str) -> usize {
    let rest = &source[pos..];
    let mut search = 0;
    while let Some(i) = rest[search..].find(block_start) {
        let tag_start = search + i + block_start.len();
        let tag = rest[tag_start..].trim_start_matches(['-', '+', ' ', '\t', '\n']);
        if tag.starts_with("endraw") {
            return pos + search + i;
        }
        search = tag_start;
    }
    source.len()
}

fn is_raw_tag(code: &str) -> bool {
    code.trim_matches(|c: char| c == '-' || c == '+' || c.is_whitespace()) == "raw"
}

/// The byte offset where the code started at `start` ends (the closing delimiter, outside
/// string literals), or the end of the source.
fn find_code_end(source: &str, start: usize, close: &str) -> usize {
    let bytes = source.as_bytes();
    let mut i = start;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'\'' || c == b'"' {
            i = skip_string(bytes, i);
            continue;
        }
        if bytes[i..].starts_with(close.as_bytes()) {
            return i;
        }
        i += 1;
    }
    bytes.len()
}

/// The index just past the string literal that starts (with its quote) at `start`, or the end
/// of the input if it is not closed.
pub(crate) fn skip_string(bytes: &[u8], start: usize) -> usize {
    let quote = bytes[start];
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            c if c == quote => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

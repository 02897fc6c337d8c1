//! Python's `%` string formatting for templates.
//!
//! minijinja's `%` only does arithmetic. Before a template is compiled, every
//! `'literal' % operand` inside template code is rewritten to `'literal'|__pyformat(operand)`,
//! where `operand` is the unary/postfix expression Jinja2 would bind to `%` (a name with
//! attribute, subscript, call and filter suffixes, a literal, or a bracketed group such as a
//! tuple). Only a string literal on the left is rewritten; `x % 2` stays arithmetic. The
//! rewrite runs once per distinct source (results are cached with the compiled template).

use std::borrow::Cow;

use super::engine::SyntaxKey;

/// Name of the filter that implements `%` formatting.
pub(crate) const PYFORMAT_FILTER: &str = "__pyformat";

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok {
    Str,
    Name,
    Num,
    Open(u8),
    Close,
    Punct(u8),
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: Tok,
    start: usize,
    end: usize,
}

/// Rewrites `%` string formatting in all code regions of a template.
pub(crate) fn rewrite_percent<'a>(source: &'a str, syntax: &SyntaxKey) -> Cow<'a, str> {
    if !source.contains('%') {
        return Cow::Borrowed(source);
    }
    let mut out = String::with_capacity(source.len() + 16);
    let mut changed = false;
    let mut pos = 0;
    let starts = [
        (
            syntax.variable.0.as_str(),
            syntax.variable.1.as_str(),
            false,
        ),
        (syntax.block.0.as_str(), syntax.block.1.as_str(), true),
    ];
    let (comment_start, comment_end) = (syntax.comment.0.as_str(), syntax.comment.1.as_str());
    while pos < source.len() {
        // Find the next opening delimiter.
        let mut next: Option<(usize, &str, &str, bool)> = None;
        for (open, close, is_block) in starts {
            if let Some(i) = source[pos..].find(open) {
                if next.is_none_or(|n| pos + i < n.0) {
                    next = Some((pos + i, open, close, is_block));
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
            (Some((at, open, close, is_block)), _) => {
                let code_start = at + open.len();
                let code_end = find_code_end(source, code_start, close);
                out.push_str(&source[pos..code_start]);
                let code = &source[code_start..code_end];
                let rewritten = rewrite_code(code);
                if let Cow::Owned(_) = rewritten {
                    changed = true;
                }
                out.push_str(&rewritten);
                pos = code_end;
                if is_block && is_raw_tag(code) {
                    // Copy a raw block through untouched.
                    let rest = &source[pos..];
                    let mut search = 0;
                    let mut end = source.len();
                    while let Some(i) = rest[search..].find(syntax.block.0.as_str()) {
                        let tag_start = search + i + syntax.block.0.len();
                        let tag = rest[tag_start..].trim_start_matches(['-', '+', ' ', '\t', '\n']);
                        if tag.starts_with("endraw") {
                            end = pos + search + i;
                            break;
                        }
                        search = tag_start;
                    }
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
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(source)
    }
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
        if source[i..].starts_with(close) {
            // Include a whitespace-control marker right before the delimiter in the code.
            return i;
        }
        i += 1;
    }
    bytes.len()
}

fn skip_string(bytes: &[u8], start: usize) -> usize {
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

fn tokenize(code: &str) -> Vec<Token> {
    let bytes = code.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let kind = if c.is_ascii_whitespace() {
            i += 1;
            continue;
        } else if c == b'\'' || c == b'"' {
            i = skip_string(bytes, i);
            Tok::Str
        } else if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] >= 0x80)
            {
                i += 1;
            }
            Tok::Name
        } else if c.is_ascii_digit() {
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.' || bytes[i] == b'_')
            {
                i += 1;
            }
            Tok::Num
        } else if matches!(c, b'(' | b'[' | b'{') {
            i += 1;
            Tok::Open(c)
        } else if matches!(c, b')' | b']' | b'}') {
            i += 1;
            Tok::Close
        } else {
            i += 1;
            Tok::Punct(c)
        };
        toks.push(Token {
            kind,
            start,
            end: i,
        });
    }
    toks
}

/// Index just past the bracket group opened at `open`.
fn skip_group(toks: &[Token], open: usize) -> usize {
    let mut depth = 0usize;
    let mut i = open;
    while i < toks.len() {
        match toks[i].kind {
            Tok::Open(_) => depth += 1,
            Tok::Close => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    toks.len()
}

/// The token range of the operand bound to `%` starting at token `i`, as Jinja2 parses it.
fn operand_end(toks: &[Token], code: &str, mut i: usize) -> Option<usize> {
    // unary operators
    while i < toks.len() {
        match toks[i].kind {
            Tok::Punct(b'-') | Tok::Punct(b'+') => i += 1,
            Tok::Name if &code[toks[i].start..toks[i].end] == "not" => i += 1,
            _ => break,
        }
    }
    // primary
    match toks.get(i)?.kind {
        Tok::Str => {
            i += 1;
            while toks.get(i).is_some_and(|t| t.kind == Tok::Str) {
                i += 1;
            }
        }
        Tok::Name | Tok::Num => i += 1,
        Tok::Open(_) => i = skip_group(toks, i),
        _ => return None,
    }
    // postfix: .attr, [sub], (call), |filter(args)
    loop {
        match toks.get(i).map(|t| t.kind) {
            Some(Tok::Punct(b'.'))
                if toks
                    .get(i + 1)
                    .is_some_and(|t| t.kind == Tok::Name || t.kind == Tok::Num) =>
            {
                i += 2
            }
            Some(Tok::Open(b'[')) | Some(Tok::Open(b'(')) => i = skip_group(toks, i),
            Some(Tok::Punct(b'|')) if toks.get(i + 1).is_some_and(|t| t.kind == Tok::Name) => {
                i += 2;
                // dotted filter names are not a thing in minijinja; arguments follow directly
                if toks.get(i).is_some_and(|t| t.kind == Tok::Open(b'(')) {
                    i = skip_group(toks, i);
                }
            }
            _ => break,
        }
    }
    Some(i)
}

/// Rewrites `'lit' % operand` inside one code region.
fn rewrite_code(code: &str) -> Cow<'_, str> {
    if !code.contains('%') {
        return Cow::Borrowed(code);
    }
    let mut current = code.to_string();
    let mut changed = false;
    // Each pass rewrites the first eligible `%`; nested ones are handled by later passes.
    for _ in 0..64 {
        let toks = tokenize(&current);
        let mut done = true;
        for (idx, t) in toks.iter().enumerate() {
            if t.kind != Tok::Punct(b'%') || idx == 0 || toks[idx - 1].kind != Tok::Str {
                continue;
            }
            // `%%` or `%=` are not the modulo operator
            if toks
                .get(idx + 1)
                .is_some_and(|n| n.kind == Tok::Punct(b'%') && n.start == t.end)
            {
                continue;
            }
            let Some(end) = operand_end(&toks, &current, idx + 1) else {
                continue;
            };
            if end <= idx + 1 {
                continue;
            }
            let rhs_start = toks[idx + 1].start;
            let rhs_end = toks[end - 1].end;
            let mut next = String::with_capacity(current.len() + 16);
            next.push_str(&current[..t.start]);
            next.push('|');
            next.push_str(PYFORMAT_FILTER);
            next.push('(');
            next.push_str(&current[rhs_start..rhs_end]);
            next.push(')');
            next.push_str(&current[rhs_end..]);
            current = next;
            changed = true;
            done = false;
            break;
        }
        if done {
            break;
        }
    }
    if changed {
        Cow::Owned(current)
    } else {
        Cow::Borrowed(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rw(s: &str) -> String {
        rewrite_percent(s, &SyntaxKey::inline()).into_owned()
    }

    #[test]
    fn rewrites_string_literal_modulo() {
        assert_eq!(rw("{{ '%s' % x }}"), "{{ '%s' |__pyformat(x) }}");
        assert_eq!(
            rw("{{ '%s-%d' % (a, b) ~ 'z' }}"),
            "{{ '%s-%d' |__pyformat((a, b)) ~ 'z' }}"
        );
        assert_eq!(
            rw("{{ '%s' % x.y[0]|upper + 'k' }}"),
            "{{ '%s' |__pyformat(x.y[0]|upper) + 'k' }}"
        );
        assert_eq!(
            rw("{% set v = '%d' % n %}"),
            "{% set v = '%d' |__pyformat(n) %}"
        );
    }

    #[test]
    fn leaves_arithmetic_text_and_raw_alone() {
        assert_eq!(rw("{{ n % 2 }}"), "{{ n % 2 }}");
        assert_eq!(rw("100% '%s' % x"), "100% '%s' % x");
        assert_eq!(
            rw("{% raw %}{{ '%s' % x }}{% endraw %}"),
            "{% raw %}{{ '%s' % x }}{% endraw %}"
        );
        assert_eq!(rw("{# '%s' % x #}"), "{# '%s' % x #}");
    }
}

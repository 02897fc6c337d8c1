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
use super::regions::{map_code_regions, skip_string};

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
    match map_code_regions(source, syntax, |code, _| {
        Ok::<_, std::convert::Infallible>(rewrite_code(code))
    }) {
        Ok(text) => text,
        Err(never) => match never {},
    }
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

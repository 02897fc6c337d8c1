//! Fully-qualified filter and test names.
//!
//! Roles written for current ansible-core name builtin filters and tests with their collection
//! (`x | ansible.builtin.regex_replace(...)`, `x is ansible.builtin.version(...)`). Every filter
//! and test drover has is a builtin one, so before a template is compiled the `ansible.builtin.`
//! and `ansible.legacy.` prefixes are dropped where a filter or test name stands: after `|`, or
//! after `is` / `is not`. String literals (lookup names such as `'ansible.builtin.file'`) are
//! left alone.

use std::borrow::Cow;

use super::engine::SyntaxKey;
use super::regions::{map_code_regions, skip_string};

/// Collections whose filters and tests drover registers under their short names.
const PREFIXES: [&str; 2] = ["ansible.builtin.", "ansible.legacy."];

/// Drops builtin collection prefixes from filter and test names in every code region.
pub(crate) fn rewrite_fqcn<'a>(source: &'a str, syntax: &SyntaxKey) -> Cow<'a, str> {
    if !PREFIXES.iter().any(|p| source.contains(p)) {
        return Cow::Borrowed(source);
    }
    match map_code_regions(source, syntax, |code, _| {
        Ok::<_, std::convert::Infallible>(rewrite_code(code))
    }) {
        Ok(out) => out,
        Err(never) => match never {},
    }
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Whether a filter or test name may start at `at`: the code before it (spaces skipped) ends
/// with `|`, or with the word `is` or `not` (as in `is not`).
fn name_position(code: &[u8], at: usize) -> bool {
    let mut i = at;
    while i > 0 && code[i - 1].is_ascii_whitespace() {
        i -= 1;
    }
    if i > 0 && code[i - 1] == b'|' {
        return true;
    }
    let end = i;
    while i > 0 && is_ident(code[i - 1]) {
        i -= 1;
    }
    let word = &code[i..end];
    end > i && (word == b"is" || word == b"not") && end < at
}

fn rewrite_code(code: &str) -> Cow<'_, str> {
    let bytes = code.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\'' || b == b'"' {
            i = skip_string(bytes, i).max(i + 1);
            continue;
        }
        let starts_word = i == 0 || !(is_ident(bytes[i - 1]) || bytes[i - 1] == b'.');
        if starts_word {
            if let Some(prefix) = PREFIXES.iter().find(|p| code[i..].starts_with(**p)) {
                let rest = i + prefix.len();
                if rest < bytes.len() && is_ident(bytes[rest]) && name_position(bytes, i) {
                    out.push_str(&code[copied..i]);
                    copied = rest;
                    i = rest;
                    continue;
                }
            }
        }
        i += 1;
    }
    if copied == 0 {
        Cow::Borrowed(code)
    } else {
        out.push_str(&code[copied..]);
        Cow::Owned(out)
    }
}

#[cfg(test)]
mod unit {
    use super::rewrite_code;

    #[test]
    fn filter_and_test_names_lose_their_builtin_prefix() {
        for (code, want) in [
            (
                " x | ansible.builtin.regex_replace('a', 'b') ",
                " x | regex_replace('a', 'b') ",
            ),
            (" x|ansible.legacy.to_json ", " x|to_json "),
            (
                " v is ansible.builtin.version('3', '<') ",
                " v is version('3', '<') ",
            ),
            (
                " v is not ansible.builtin.match('a') ",
                " v is not match('a') ",
            ),
            (
                " lookup('ansible.builtin.file', 'ansible.builtin.x') ",
                " lookup('ansible.builtin.file', 'ansible.builtin.x') ",
            ),
            (" ansible.builtin.x ", " ansible.builtin.x "),
            (" this.ansible.builtin.x ", " this.ansible.builtin.x "),
        ] {
            assert_eq!(rewrite_code(code), want, "{code}");
        }
    }
}

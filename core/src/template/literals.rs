//! String literals in template code, decoded as ansible-core 2.19 decodes them.
//!
//! Jinja2 decodes a string literal with Python's `unicode_escape` codec (`'\n'`, `'\x41'`,
//! `'\101'`, `'\u00e9'`; unknown escapes such as `'\d'` keep their backslash). ansible-core
//! changes that for the templates it compiles from variables and task arguments: inside
//! `{{ }}` (not `{% %}`), backslashes of string literals are escaped first, so a literal's
//! text is taken as written — `"{{ x | regex_replace('(\\d)', '\\1') }}"` in a double-quoted
//! YAML scalar reaches `regex_replace` as `(\d)` and `\1`, as its author meant. Bare
//! expressions (`when`, `debug: var=`), template files, the `template` lookup and included
//! templates keep Jinja2's decoding.
//!
//! minijinja's own unescaping differs from Python's (`\/`, `\a`, `\v`, `\U`, octal above
//! `\377`, escaped newlines), so every literal with a backslash is decoded here and handed to
//! minijinja re-escaped, which it decodes back exactly.

use std::borrow::Cow;

use super::engine::SyntaxKey;
use super::regions::{map_code_regions, skip_string, Region};

/// Rewrites the string literals of every code region of `source`. With `raw_variables`,
/// literals inside `{{ }}` keep their text as written (ansible-core's `escape_backslashes`).
/// Fails with Jinja2's message when a literal has an invalid escape (`'\x4'`).
pub(crate) fn rewrite_literals<'a>(
    source: &'a str,
    syntax: &SyntaxKey,
    raw_variables: bool,
) -> Result<Cow<'a, str>, String> {
    if !source.contains('\\') && !source.contains('\r') {
        return Ok(Cow::Borrowed(source));
    }
    map_code_regions(source, syntax, |code, region| {
        rewrite_code(code, raw_variables && region == Region::Variable)
    })
}

fn rewrite_code(code: &str, raw: bool) -> Result<Cow<'_, str>, String> {
    let bytes = code.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let q = bytes[i];
        if q != b'\'' && q != b'"' {
            i += 1;
            continue;
        }
        let end = skip_string(bytes, i);
        if end > bytes.len() || end < i + 2 || bytes[end - 1] != q {
            break; // unterminated: left for the parser to report
        }
        let body = &code[i + 1..end - 1];
        if body.contains('\\') || body.contains('\r') {
            let value = if raw {
                normalize_newlines(body)
            } else {
                py_unescape(&normalize_newlines(body))?
            };
            out.push_str(&code[copied..i]);
            push_minijinja_literal(&mut out, &value, q as char);
            copied = end;
        }
        i = end;
    }
    if copied == 0 {
        return Ok(Cow::Borrowed(code));
    }
    out.push_str(&code[copied..]);
    Ok(Cow::Owned(out))
}

/// `\r\n` and `\r` become `\n`, as Jinja2's lexer does inside literals.
fn normalize_newlines(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}

/// Writes `value` as a literal that minijinja decodes back to exactly `value`.
fn push_minijinja_literal(out: &mut String, value: &str, quote: char) {
    out.push(quote);
    for c in value.chars() {
        if c == '\\' || c == quote {
            out.push('\\');
        }
        out.push(c);
    }
    out.push(quote);
}

/// Python's `s.encode('ascii', 'backslashreplace').decode('unicode_escape')`, which is what
/// Jinja2 applies to a literal's text.
pub(crate) fn py_unescape(s: &str) -> Result<String, String> {
    // The ASCII form: non-ASCII characters become \xNN, \uNNNN or \UNNNNNNNN escapes.
    let mut ascii = String::with_capacity(s.len());
    for c in s.chars() {
        match c as u32 {
            0..=0x7f => ascii.push(c),
            n @ 0x80..=0xff => ascii.push_str(&format!("\\x{n:02x}")),
            n @ 0x100..=0xffff => ascii.push_str(&format!("\\u{n:04x}")),
            n => ascii.push_str(&format!("\\U{n:08x}")),
        }
    }
    let b = ascii.as_bytes();
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i] as char);
            i += 1;
            continue;
        }
        let Some(&e) = b.get(i + 1) else {
            return Err("\\ at end of string".into());
        };
        i += 2;
        match e {
            b'\n' => {}
            b'\\' | b'\'' | b'"' => out.push(e as char),
            b'a' => out.push('\x07'),
            b'b' => out.push('\x08'),
            b'f' => out.push('\x0c'),
            b'n' => out.push('\n'),
            b'r' => out.push('\r'),
            b't' => out.push('\t'),
            b'v' => out.push('\x0b'),
            b'0'..=b'7' => {
                let mut n = u32::from(e - b'0');
                for _ in 0..2 {
                    match b.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            n = n * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(char::from_u32(n).unwrap_or('\u{fffd}'));
            }
            b'x' | b'u' | b'U' => {
                let (len, what) = match e {
                    b'x' => (2, "\\xXX"),
                    b'u' => (4, "\\uXXXX"),
                    _ => (8, "\\UXXXXXXXX"),
                };
                let digits = ascii
                    .get(i..i + len)
                    .filter(|d| d.len() == len && d.bytes().all(|c| c.is_ascii_hexdigit()));
                let Some(digits) = digits else {
                    return Err(format!("truncated {what} escape"));
                };
                i += len;
                let n = u32::from_str_radix(digits, 16).map_err(|e| e.to_string())?;
                match char::from_u32(n) {
                    Some(c) => out.push(c),
                    None if n > 0x10ffff => return Err("illegal Unicode character".into()),
                    // A lone surrogate: Python keeps it; a Rust string cannot hold it.
                    None => return Err("surrogate code points are not supported".into()),
                }
            }
            b'N' => return Err("\\N{...} escapes are not supported".into()),
            other => {
                out.push('\\');
                out.push(other as char);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rw(s: &str, raw: bool) -> String {
        rewrite_literals(s, &SyntaxKey::inline(), raw)
            .expect("valid")
            .into_owned()
    }

    #[test]
    fn python_escapes() {
        assert_eq!(
            py_unescape(r"a\nb\t\x41\101\u00e9\d\/\a\v").unwrap(),
            "a\nb\tAAé\\d\\/\x07\x0b"
        );
        assert_eq!(py_unescape(r"\1.\2").unwrap(), "\u{1}.\u{2}");
        assert_eq!(py_unescape("é\\\n!").unwrap(), "é!");
        assert_eq!(py_unescape(r"\777").unwrap(), "\u{1ff}");
        assert!(py_unescape(r"\x4").is_err());
        assert!(py_unescape(r"\U00110000").is_err());
    }

    #[test]
    fn variable_literals_are_raw_when_escaping() {
        assert_eq!(rw(r"{{ x | f('\1.\2') }}", true), r"{{ x | f('\\1.\\2') }}");
        assert_eq!(rw(r"{{ 'it\'s' }}", true), r"{{ 'it\\\'s' }}");
        // statements keep Python's decoding
        assert_eq!(rw(r"{% set a = '\x41' %}", true), "{% set a = 'A' %}");
        assert_eq!(rw(r"{{ '\x41\\' }}", false), r"{{ 'A\\' }}");
        assert_eq!(rw(r"{{ 'plain' }}", true), "{{ 'plain' }}");
        assert_eq!(rw(r"text \1 {# '\1' #}", true), r"text \1 {# '\1' #}");
    }
}

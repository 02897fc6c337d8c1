//! Regular-expression filters: regex_replace, regex_search, regex_findall, regex_escape.

use minijinja::value::{Kwargs, Rest, Value};
use minijinja::{Environment, Error};

use super::{fail, text};

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("regex_replace", regex_replace);
    env.add_filter("regex_search", regex_search);
    env.add_filter("regex_findall", regex_findall);
    env.add_filter("regex_escape", |v: Value, re_type: Option<String>| {
        let s = text(&v);
        match re_type.as_deref() {
            Some("posix_basic") => Value::from(posix_basic_escape(&s)),
            _ => Value::from(py_re_escape(&s)),
        }
    });
}

/// Compiles a Python-style pattern with flags from `ignorecase`/`multiline` kwargs.
pub(crate) fn compile(
    pattern: &str,
    ignorecase: bool,
    multiline: bool,
) -> Result<regex::Regex, Error> {
    let translated = translate_pattern(pattern);
    regex::RegexBuilder::new(&translated)
        .case_insensitive(ignorecase)
        .multi_line(multiline)
        .build()
        .map_err(|e| fail(format!("invalid regular expression '{pattern}': {e}")))
}

/// Rewrites Python-only syntax: `(?P=name)` is unsupported, `\Z` becomes `\z`.
fn translate_pattern(p: &str) -> String {
    p.replace("\\Z", "\\z")
}

fn flags(kwargs: &Kwargs) -> Result<(bool, bool), Error> {
    let ignorecase: Option<bool> = kwargs.get("ignorecase")?;
    let multiline: Option<bool> = kwargs.get("multiline")?;
    Ok((ignorecase.unwrap_or(false), multiline.unwrap_or(false)))
}

/// Converts a Python replacement (`\1`, `\g<1>`, `\g<name>`) to the regex crate's syntax.
fn translate_replacement(r: &str) -> String {
    let mut out = String::with_capacity(r.len());
    let chars: Vec<char> = r.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '$' {
            out.push_str("$$");
            i += 1;
            continue;
        }
        if c == '\\' && i + 1 < chars.len() {
            let n = chars[i + 1];
            if n.is_ascii_digit() {
                let mut j = i + 1;
                let mut num = String::new();
                while j < chars.len() && chars[j].is_ascii_digit() && num.len() < 2 {
                    num.push(chars[j]);
                    j += 1;
                }
                out.push_str(&format!("${{{num}}}"));
                i = j;
                continue;
            }
            if n == 'g' && chars.get(i + 2) == Some(&'<') {
                if let Some(end) = chars[i + 3..].iter().position(|c| *c == '>') {
                    let name: String = chars[i + 3..i + 3 + end].iter().collect();
                    out.push_str(&format!("${{{name}}}"));
                    i = i + 4 + end;
                    continue;
                }
            }
            match n {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                '\\' => out.push('\\'),
                other => {
                    out.push('\\');
                    out.push(other);
                }
            }
            i += 2;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// `regex_replace(pattern='', replacement='', ignorecase=False, multiline=False, count=0)`.
fn regex_replace(
    v: Value,
    pattern: Option<String>,
    replacement: Option<String>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let (ic, ml) = flags(&kwargs)?;
    let count: Option<usize> = kwargs.get("count")?;
    kwargs.assert_all_used()?;
    let re = compile(&pattern.unwrap_or_default(), ic, ml)?;
    let rep = translate_replacement(&replacement.unwrap_or_default());
    let s = text(&v);
    Ok(Value::from(
        re.replacen(&s, count.unwrap_or(0), rep.as_str())
            .into_owned(),
    ))
}

/// `regex_search(pattern, *groups, ignorecase, multiline)`: the match, the requested groups
/// (`'\\1'`, `'\\g<name>'`) as a list, or None.
fn regex_search(
    v: Value,
    pattern: String,
    groups: Rest<String>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let (ic, ml) = flags(&kwargs)?;
    kwargs.assert_all_used()?;
    let re = compile(&pattern, ic, ml)?;
    let s = text(&v);
    let Some(caps) = re.captures(&s) else {
        return Ok(Value::from(()));
    };
    if groups.is_empty() {
        return Ok(Value::from(caps.get(0).map_or("", |m| m.as_str())));
    }
    let mut out = Vec::new();
    for g in groups.iter() {
        let m = if let Some(n) = g.strip_prefix('\\') {
            if let Ok(idx) = n.parse::<usize>() {
                caps.get(idx)
            } else if let Some(name) = n.strip_prefix("g<").and_then(|x| x.strip_suffix('>')) {
                caps.name(name)
            } else {
                return Err(fail(format!("regex_search: unknown group '{g}'")));
            }
        } else {
            return Err(fail(format!("regex_search: unknown group '{g}'")));
        };
        out.push(m.map_or(Value::from(()), |m| Value::from(m.as_str())));
    }
    Ok(Value::from(out))
}

/// `regex_findall(pattern, ignorecase, multiline)`: all matches; with groups, the groups.
fn regex_findall(v: Value, pattern: String, kwargs: Kwargs) -> Result<Value, Error> {
    let (ic, ml) = flags(&kwargs)?;
    kwargs.assert_all_used()?;
    let re = compile(&pattern, ic, ml)?;
    let s = text(&v);
    let groups = re.captures_len() - 1;
    let mut out = Vec::new();
    for caps in re.captures_iter(&s) {
        let g = |i: usize| Value::from(caps.get(i).map_or("", |m| m.as_str()));
        out.push(match groups {
            0 => g(0),
            1 => g(1),
            n => Value::from((1..=n).map(g).collect::<Vec<_>>()),
        });
    }
    Ok(Value::from(out))
}

/// Python's `re.escape` (escapes regex metacharacters and whitespace).
fn py_re_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        if "()[]{}?*+-|^$\\.&~# \t\n\r\u{b}\u{c}".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn posix_basic_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        if "^$.*[]\\".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

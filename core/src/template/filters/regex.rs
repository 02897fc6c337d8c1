//! Regular-expression filters: regex_replace, regex_search, regex_findall, regex_escape.

use minijinja::value::{Kwargs, Rest, Value};
use minijinja::{Environment, Error};

use super::{fail, text};
use crate::pyre::{subn_limited, PyRegex, Template};

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("regex_replace", regex_replace);
    env.add_filter("regex_search", regex_search);
    env.add_filter("regex_findall", regex_findall);
    env.add_filter(
        "regex_escape",
        |v: Value, re_type: Option<String>, kwargs: Kwargs| -> Result<Value, Error> {
            let re_type = match re_type {
                Some(t) => Some(t),
                None => kwargs.get::<Option<String>>("re_type")?,
            };
            kwargs.assert_all_used()?;
            let s = text(&v);
            match re_type.as_deref().unwrap_or("python") {
                "posix_basic" => Ok(Value::from(posix_basic_escape(&s))),
                "python" => Ok(Value::from(py_re_escape(&s))),
                other => Err(fail(format!("Regex type ({other}) not yet implemented"))),
            }
        },
    );
}

/// Compiles a Python-style pattern with flags from `ignorecase`/`multiline` kwargs (see
/// [`crate::pyre`]: lookaround and backreferences work).
pub(crate) fn compile(pattern: &str, ignorecase: bool, multiline: bool) -> Result<PyRegex, Error> {
    PyRegex::new(pattern, multiline, false, ignorecase).map_err(fail)
}

fn flags(kwargs: &Kwargs) -> Result<(bool, bool), Error> {
    let ignorecase: Option<bool> = kwargs.get("ignorecase")?;
    let multiline: Option<bool> = kwargs.get("multiline")?;
    Ok((ignorecase.unwrap_or(false), multiline.unwrap_or(false)))
}

/// A matched group as a string value.
fn group_value(m: Option<crate::pyre::PyMatch<'_>>) -> Value {
    m.map_or(Value::from(()), |m| {
        Value::from(String::from_utf8_lossy(m.as_bytes()).into_owned())
    })
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
    let template = Template::parse(&replacement.unwrap_or_default(), &re).map_err(fail)?;
    let s = text(&v);
    let (out, _) = subn_limited(&re, &template, s.as_bytes(), count.unwrap_or(0));
    Ok(Value::from(String::from_utf8_lossy(&out).into_owned()))
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
    // The group arguments are read before matching, as ansible-core does (a bad one fails
    // even when nothing matches).
    enum Group<'a> {
        Index(usize),
        Name(&'a str),
    }
    let mut wanted = Vec::new();
    for g in groups.iter() {
        let parsed = g.strip_prefix('\\').and_then(|n| {
            if let Some(name) = n.strip_prefix("g<").and_then(|x| x.strip_suffix('>')) {
                Some(Group::Name(name))
            } else {
                n.parse::<usize>().ok().map(Group::Index)
            }
        });
        wanted.push(parsed.ok_or_else(|| fail(format!("regex_search: unknown group '{g}'")))?);
    }
    let s = text(&v);
    let Some(caps) = re.captures(s.as_bytes()) else {
        return Ok(Value::from(()));
    };
    if wanted.is_empty() {
        return Ok(group_value(caps.get(0)));
    }
    Ok(Value::from(
        wanted
            .into_iter()
            .map(|g| {
                group_value(match g {
                    Group::Index(i) => caps.get(i),
                    Group::Name(n) => caps.name(n),
                })
            })
            .collect::<Vec<_>>(),
    ))
}

/// `regex_findall(pattern, ignorecase, multiline)`: all matches; with groups, the groups.
fn regex_findall(v: Value, pattern: String, kwargs: Kwargs) -> Result<Value, Error> {
    let (ic, ml) = flags(&kwargs)?;
    kwargs.assert_all_used()?;
    let re = compile(&pattern, ic, ml)?;
    let s = text(&v);
    let groups = re.captures_len() - 1;
    let mut out = Vec::new();
    for caps in re.captures_all(s.as_bytes()) {
        let g = |i: usize| {
            Value::from(caps.get(i).map_or(String::new(), |m| {
                String::from_utf8_lossy(m.as_bytes()).into_owned()
            }))
        };
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

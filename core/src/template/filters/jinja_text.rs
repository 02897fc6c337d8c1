//! Jinja2 builtin filters minijinja lacks or words differently: center, striptags, truncate,
//! wordwrap, xmlattr, filesizeformat, pprint, format (Python `%`), title, list, dictsort.

use minijinja::value::{Kwargs, Rest, Value, ValueKind};
use minijinja::{Environment, Error};

use super::{fail, items, text};
use crate::template::convert::py_str;

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("center", |v: Value, width: Option<usize>| {
        let s = text(&v);
        let width = width.unwrap_or(80);
        let len = s.chars().count();
        if len >= width {
            return Value::from(s);
        }
        // Python's str.center
        let marg = width - len;
        let left = marg / 2 + (marg & width & 1);
        Value::from(format!(
            "{}{s}{}",
            " ".repeat(left),
            " ".repeat(marg - left)
        ))
    });
    env.add_filter("striptags", |v: Value| Value::from(striptags(&text(&v))));
    env.add_filter("truncate", truncate);
    env.add_filter("wordwrap", wordwrap);
    env.add_filter("xmlattr", xmlattr);
    env.add_filter("filesizeformat", |v: Value, binary: Option<bool>| {
        filesizeformat(&v, binary.unwrap_or(false))
    });
    env.add_filter("pprint", |v: Value| Value::from(py_str(&v)));
    env.add_filter("format", |fmt: Value, args: Rest<Value>| {
        let operand = if args.len() == 1 {
            args[0].clone()
        } else {
            Value::from(minijinja::value::Tuple::from(args.0.clone()))
        };
        crate::template::pyformat::percent_format(&text(&fmt), &operand).map(Value::from)
    });
    env.add_filter("title", |v: Value| Value::from(jinja_title(&text(&v))));
    env.add_filter("list", |v: Value| -> Result<Value, Error> {
        match v.kind() {
            ValueKind::String => Ok(Value::from(
                text(&v)
                    .chars()
                    .map(|c| Value::from(c.to_string()))
                    .collect::<Vec<_>>(),
            )),
            ValueKind::None | ValueKind::Number | ValueKind::Bool => Err(fail(format!(
                "'{}' object is not iterable",
                crate::template::convert::py_type_name(&v)
            ))),
            _ => items(&v, "list").map(Value::from),
        }
    });
    env.add_filter("dictsort", dictsort);
}

/// Jinja2's `title`: each word (split at whitespace, `-`, and opening brackets) gets an upper
/// first letter and lower-case rest, so `it's` stays `It's`.
fn jinja_title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut word_start = true;
    for c in s.chars() {
        let sep = c.is_whitespace() || matches!(c, '-' | '(' | '{' | '[' | '<');
        if sep {
            out.push(c);
            word_start = true;
        } else if word_start {
            out.extend(c.to_uppercase());
            word_start = false;
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Jinja2's `striptags`: tags and comments removed, whitespace collapsed, entities unescaped.
fn striptags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        let end = if after.starts_with("<!--") {
            after.find("-->").map(|e| e + 3)
        } else {
            after.find('>').map(|e| e + 1)
        };
        match end {
            Some(e) => rest = &after[e..],
            None => {
                out.push_str(after);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    let collapsed = out.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// `truncate(length=255, killwords=False, end='...', leeway=None)` (leeway defaults to 5).
fn truncate(v: Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let arg = |i: usize, name: &str| -> Result<Option<Value>, Error> {
        match args.get(i) {
            Some(v) => Ok(Some(v.clone())),
            None => kwargs.get::<Option<Value>>(name),
        }
    };
    let length = arg(0, "length")?.and_then(|v| v.as_usize()).unwrap_or(255);
    let killwords = arg(1, "killwords")?.is_some_and(|v| v.is_true());
    let end = arg(2, "end")?.map_or("...".to_string(), |v| text(&v));
    let leeway = arg(3, "leeway")?.and_then(|v| v.as_usize()).unwrap_or(5);
    kwargs.assert_all_used()?;
    let s = text(&v);
    let chars: Vec<char> = s.chars().collect();
    let end_len = end.chars().count();
    if length < end_len {
        return Err(fail(format!("expected length >= {end_len}, got {length}")));
    }
    if chars.len() <= length + leeway {
        return Ok(Value::from(s));
    }
    let head: String = chars[..length - end_len].iter().collect();
    if killwords {
        return Ok(Value::from(head + &end));
    }
    let cut = match head.rfind(' ') {
        Some(i) => &head[..i],
        None => "",
    };
    Ok(Value::from(format!("{cut}{end}")))
}

/// `wordwrap(width=79, break_long_words=True, wrapstring=None, break_on_hyphens=True)`,
/// for the common case of space-separated words.
fn wordwrap(v: Value, width: Option<usize>, kwargs: Kwargs) -> Result<Value, Error> {
    let width = width.unwrap_or(79).max(1);
    let wrapstring: Option<String> = kwargs.get("wrapstring")?;
    let _: Option<bool> = kwargs.get("break_long_words")?;
    let _: Option<bool> = kwargs.get("break_on_hyphens")?;
    kwargs.assert_all_used()?;
    let wrap = wrapstring.unwrap_or_else(|| "\n".into());
    let s = text(&v);
    let mut paragraphs = Vec::new();
    for line in s.split('\n') {
        let mut lines: Vec<String> = Vec::new();
        let mut cur = String::new();
        for word in line.split_whitespace() {
            if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut cur));
            }
            if !cur.is_empty() {
                cur.push(' ');
            }
            cur.push_str(word);
        }
        if !cur.is_empty() {
            lines.push(cur);
        }
        paragraphs.push(lines.join(&wrap));
    }
    Ok(Value::from(paragraphs.join(&wrap)))
}

/// `xmlattr(autospace=True)`: ` key="value"` pairs, None and undefined values skipped.
fn xmlattr(v: Value, autospace: Option<bool>) -> Result<Value, Error> {
    let mut parts = Vec::new();
    for key in items(&v, "xmlattr")? {
        let value = v.get_item(&key)?;
        if value.is_none() || value.is_undefined() {
            continue;
        }
        let k = text(&key);
        if k.chars().any(|c| c.is_whitespace() || "/>=".contains(c)) {
            return Err(fail(format!("Invalid character in attribute name: {k:?}")));
        }
        parts.push(format!("{k}=\"{}\"", html_escape(&text(&value))));
    }
    let joined = parts.join(" ");
    Ok(Value::from(
        if autospace.unwrap_or(true) && !joined.is_empty() {
            format!(" {joined}")
        } else {
            joined
        },
    ))
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

/// `filesizeformat(binary=False)`: `1.0 MB`, `976.6 KiB`.
fn filesizeformat(v: &Value, binary: bool) -> Result<Value, Error> {
    let bytes = match v.kind() {
        ValueKind::Number => f64::try_from(v.clone())?,
        _ => text(v)
            .trim()
            .parse::<f64>()
            .map_err(|_| fail("filesizeformat: not a number"))?,
    };
    let base: f64 = if binary { 1024.0 } else { 1000.0 };
    let prefixes = if binary {
        ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"]
    } else {
        ["kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]
    };
    if bytes == 1.0 {
        return Ok(Value::from("1 Byte"));
    }
    if bytes < base {
        return Ok(Value::from(format!("{} Bytes", bytes as i64)));
    }
    let mut unit = base;
    for (i, prefix) in prefixes.iter().enumerate() {
        unit = base.powi(i32::try_from(i + 2).unwrap_or(i32::MAX));
        if bytes < unit {
            return Ok(Value::from(format!("{:.1} {prefix}", base * bytes / unit)));
        }
    }
    Ok(Value::from(format!(
        "{:.1} {}",
        base * bytes / unit,
        prefixes[prefixes.len() - 1]
    )))
}

/// `dictsort(case_sensitive=False, by='key', reverse=False)`: the (key, value) pairs sorted.
fn dictsort(v: Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let case_sensitive = match args.first() {
        Some(b) => b.is_true(),
        None => kwargs
            .get::<Option<bool>>("case_sensitive")?
            .unwrap_or(false),
    };
    let by: String = match args.get(1) {
        Some(b) => text(b),
        None => kwargs
            .get::<Option<String>>("by")?
            .unwrap_or_else(|| "key".into()),
    };
    let reverse = match args.get(2) {
        Some(b) => b.is_true(),
        None => kwargs.get::<Option<bool>>("reverse")?.unwrap_or(false),
    };
    kwargs.assert_all_used()?;
    if v.kind() != ValueKind::Map {
        return Err(fail("dictsort: expected a mapping"));
    }
    let idx = match by.as_str() {
        "key" => 0,
        "value" => 1,
        _ => return Err(fail("You can only sort by either \"key\" or \"value\"")),
    };
    let mut pairs: Vec<(Value, Value)> = Vec::new();
    for k in v.try_iter()? {
        let val = v.get_item(&k)?;
        pairs.push((k, val));
    }
    let sort_key = |p: &(Value, Value)| -> Value {
        let x = if idx == 0 { &p.0 } else { &p.1 };
        match (case_sensitive, x.as_str()) {
            (false, Some(s)) => Value::from(s.to_lowercase()),
            _ => x.clone(),
        }
    };
    pairs.sort_by_key(sort_key);
    if reverse {
        pairs.reverse();
    }
    Ok(Value::from(
        pairs
            .into_iter()
            .map(|(k, v)| Value::from(vec![k, v]))
            .collect::<Vec<_>>(),
    ))
}

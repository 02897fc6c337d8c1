//! Jinja2 builtin filters minijinja lacks or words differently: center, striptags, truncate,
//! wordwrap, xmlattr, filesizeformat, pprint, format (Python `%`), title, list, dictsort, attr,
//! selectattr/rejectattr.

use minijinja::value::{Kwargs, Rest, Value, ValueKind};
use minijinja::{Environment, Error, State};

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
    env.add_function("lipsum", lipsum);
    env.add_filter("attr", |v: Value, name: String| -> Result<Value, Error> {
        // Jinja2's attr reads attributes only: a dict's keys are not attributes.
        if v.kind() == ValueKind::Map {
            return Err(fail(format!(
                "object of type 'dict' has no attribute '{name}'"
            )));
        }
        v.get_attr(&name)
    });
    env.add_filter(
        "selectattr",
        |state: &mut State, v: Value, attr: String, test: Rest<Value>| {
            select_attr(state, &v, &attr, &test, true)
        },
    );
    env.add_filter(
        "rejectattr",
        |state: &mut State, v: Value, attr: String, test: Rest<Value>| {
            select_attr(state, &v, &attr, &test, false)
        },
    );
}

/// `selectattr`/`rejectattr(attribute, test=None, *args)`: without a test, an item lacking
/// the attribute is an error, as with ansible-core's strict undefined.
fn select_attr(
    state: &mut State,
    v: &Value,
    attr: &str,
    test: &[Value],
    keep: bool,
) -> Result<Value, Error> {
    let mut out = Vec::new();
    for item in items(v, "selectattr")? {
        let mut value = item.clone();
        for part in attr.split('.') {
            value = match part.parse::<usize>() {
                Ok(i) if value.kind() == ValueKind::Seq => value.get_item(&Value::from(i))?,
                _ => value.get_attr(part)?,
            };
        }
        let passed = match test.split_first() {
            None => {
                if value.is_undefined() {
                    return Err(fail(format!(
                        "object of type '{}' has no attribute '{attr}'",
                        crate::template::convert::py_type_name(&item)
                    )));
                }
                value.is_true()
            }
            Some((name, rest)) => {
                let mut args = vec![value];
                args.extend(rest.iter().cloned());
                state.perform_test(&text(name), &args)?
            }
        };
        if passed == keep {
            out.push(item);
        }
    }
    Ok(Value::from(out))
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

/// Jinja2's `lipsum(n=5, html=True, min=20, max=100)` global: `n` paragraphs of random
/// lorem-ipsum words.
fn lipsum(n: Option<usize>, html: Option<bool>, min: Option<usize>, max: Option<usize>) -> Value {
    use rand::Rng;
    const WORDS: &[&str] = &[
        "lorem",
        "ipsum",
        "dolor",
        "sit",
        "amet",
        "consectetur",
        "adipiscing",
        "elit",
        "sed",
        "do",
        "eiusmod",
        "tempor",
        "incididunt",
        "ut",
        "labore",
        "et",
        "dolore",
        "magna",
        "aliqua",
        "enim",
        "ad",
        "minim",
        "veniam",
        "quis",
        "nostrud",
        "exercitation",
    ];
    let (min, max) = (min.unwrap_or(20), max.unwrap_or(100).max(1));
    let mut rng = rand::rng();
    let paragraphs: Vec<String> = (0..n.unwrap_or(5))
        .map(|_| {
            let count = rng.random_range(min.min(max)..=max);
            let mut p = (0..count)
                .map(|_| WORDS[rng.random_range(0..WORDS.len())])
                .collect::<Vec<_>>()
                .join(" ");
            if let Some(first) = p.get(..1) {
                p = first.to_uppercase() + &p[1..];
            }
            p.push('.');
            p
        })
        .collect();
    Value::from(if html.unwrap_or(true) {
        paragraphs
            .iter()
            .map(|p| format!("<p>{p}</p>"))
            .collect::<Vec<_>>()
            .join("\n")
    } else {
        paragraphs.join("\n\n")
    })
}

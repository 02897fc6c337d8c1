//! String filters: join, quote, comment, wordcount, capitalize, title, splitext-free text helpers.

use minijinja::value::{Kwargs, Value};
use minijinja::{Environment, Error};

use super::{items, text};

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("join", join);
    env.add_filter("quote", |v: Value| Value::from(shell_quote(&text(&v))));
    env.add_filter("comment", comment);
    env.add_filter("wordcount", |v: Value| {
        Value::from(text(&v).split_whitespace().count())
    });
    env.add_filter("capitalize", |v: Value| {
        let s = text(&v);
        let mut chars = s.chars();
        Value::from(match chars.next() {
            Some(first) => {
                first.to_uppercase().collect::<String>() + &chars.as_str().to_lowercase()
            }
            None => String::new(),
        })
    });
    env.add_filter("lower", |v: Value| Value::from(text(&v).to_lowercase()));
    env.add_filter("upper", |v: Value| Value::from(text(&v).to_uppercase()));
    env.add_filter("to_uuid", to_uuid);
    env.add_filter("urlencode", urlencode);
}

/// `join(sep='', attribute=None)` with Python `str()` of the items.
fn join(v: Value, sep: Option<String>, kwargs: Kwargs) -> Result<Value, Error> {
    let attribute: Option<String> = kwargs.get("attribute")?;
    kwargs.assert_all_used()?;
    if let Some(s) = v.as_str() {
        let sep = sep.unwrap_or_default();
        return Ok(Value::from(
            s.chars().map(String::from).collect::<Vec<_>>().join(&sep),
        ));
    }
    let parts: Result<Vec<String>, Error> = items(&v, "join")?
        .iter()
        .map(|item| match &attribute {
            Some(a) => item.get_attr(a).map(|x| text(&x)),
            None => Ok(text(item)),
        })
        .collect();
    Ok(Value::from(parts?.join(&sep.unwrap_or_default())))
}

/// Python's `shlex.quote`.
pub(crate) fn shell_quote(s: &str) -> String {
    if s.is_empty() {
        return "''".into();
    }
    let safe = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./-_".contains(c));
    if safe {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\"'\"'"))
}

/// `comment(style='plain', **params)` with Ansible's styles and parameters.
fn comment(v: Value, style: Option<String>, kwargs: Kwargs) -> Result<Value, Error> {
    let style = style.unwrap_or_else(|| "plain".into());
    let (beginning, decoration, end) = match style.as_str() {
        "plain" => ("", "# ", ""),
        "erlang" => ("", "% ", ""),
        "c" => ("", "// ", ""),
        "cblock" => ("/*", " * ", " */"),
        "xml" => ("<!--", " - ", "-->"),
        other => return Err(super::fail(format!("comment: unknown style '{other}'"))),
    };
    let get = |k: &str, d: &str| -> Result<String, Error> {
        Ok(kwargs
            .get::<Option<Value>>(k)?
            .map(|v| text(&v))
            .unwrap_or_else(|| d.to_string()))
    };
    let decoration = get("decoration", decoration)?;
    let newline = get("newline", "\n")?;
    let beginning = get("beginning", beginning)?;
    let end = get("end", end)?;
    let prefix = get("prefix", decoration.trim_end())?;
    let postfix = get("postfix", decoration.trim_end())?;
    let prefix_count: usize = kwargs.get::<Option<usize>>("prefix_count")?.unwrap_or(1);
    let postfix_count: usize = kwargs.get::<Option<usize>>("postfix_count")?.unwrap_or(1);
    kwargs.assert_all_used()?;
    let mut out = String::new();
    if !beginning.is_empty() {
        out.push_str(&beginning);
        out.push_str(&newline);
    }
    if !prefix.is_empty() {
        if prefix != newline {
            out.push_str(&format!("{prefix}{newline}").repeat(prefix_count));
        } else {
            out.push_str(&newline.repeat(prefix_count));
        }
    }
    let body = text(&v);
    let joiner = format!("{newline}{decoration}");
    out.push_str(&decoration);
    out.push_str(
        &body
            .split(newline.as_str())
            .collect::<Vec<_>>()
            .join(&joiner),
    );
    for _ in 0..postfix_count {
        out.push_str(&newline);
        out.push_str(&postfix);
    }
    if !end.is_empty() {
        out.push_str(&newline);
        out.push_str(&end);
    }
    Ok(Value::from(out))
}

/// `to_uuid(namespace)`: a UUIDv5 of the text (Ansible's default namespace).
fn to_uuid(v: Value, namespace: Option<String>, kwargs: Kwargs) -> Result<Value, Error> {
    use sha1::{Digest, Sha1};
    let namespace = match namespace {
        Some(n) => Some(n),
        None => kwargs.get::<Option<String>>("namespace")?,
    };
    kwargs.assert_all_used()?;
    let ns = namespace.unwrap_or_else(|| "361E6D51-FAEC-444A-9079-341386DA8E2E".into());
    let ns_hex: String = ns.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    let ns_bytes = hex::decode(&ns_hex).map_err(|_| super::fail("to_uuid: invalid namespace"))?;
    let mut h = Sha1::new();
    h.update(&ns_bytes);
    h.update(text(&v).as_bytes());
    let mut d = h.finalize()[..16].to_vec();
    d[6] = (d[6] & 0x0f) | 0x50;
    d[8] = (d[8] & 0x3f) | 0x80;
    let x = hex::encode(d);
    Ok(Value::from(format!(
        "{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..]
    )))
}

/// Python's `urllib.parse.quote` (letters, digits and `_.-~` plus `safe` are kept).
fn url_quote(s: &str, safe: &str, for_qs: bool) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        let c = b as char;
        if b.is_ascii_alphanumeric() || "_.-~".contains(c) || (b.is_ascii() && safe.contains(c)) {
            out.push(c);
        } else if for_qs && b == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Jinja2's `urlencode`: strings quoted (keeping `/`), dicts and pair lists as a query string.
fn urlencode(v: Value) -> Result<Value, Error> {
    use minijinja::value::ValueKind;
    let pairs: Option<Vec<(Value, Value)>> = match v.kind() {
        ValueKind::Map => Some(
            v.try_iter()?
                .map(|k| {
                    let val = v.get_item(&k).unwrap_or_default();
                    (k, val)
                })
                .collect(),
        ),
        ValueKind::Seq => Some(
            v.try_iter()?
                .map(|p| {
                    (
                        p.get_item_by_index(0).unwrap_or_default(),
                        p.get_item_by_index(1).unwrap_or_default(),
                    )
                })
                .collect(),
        ),
        _ => None,
    };
    Ok(Value::from(match pairs {
        Some(pairs) => pairs
            .iter()
            .map(|(k, val)| {
                format!(
                    "{}={}",
                    url_quote(&text(k), "", true),
                    url_quote(&text(val), "", true)
                )
            })
            .collect::<Vec<_>>()
            .join("&"),
        None => url_quote(&text(&v), "/", false),
    }))
}

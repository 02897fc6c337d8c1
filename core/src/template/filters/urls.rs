//! URL filters: `urldecode` (Python's `unquote_plus`) and `urlsplit`.

use minijinja::value::Value;
use minijinja::{Environment, Error};

use super::{fail, text};

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("urldecode", |v: Value| Value::from(unquote_plus(&text(&v))));
    env.add_filter("urlsplit", urlsplit);
}

/// `+` as space, `%XX` decoded (invalid UTF-8 replaced).
fn unquote_plus(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() && s.is_char_boundary(i + 3) => {
                match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                    Ok(x) => {
                        out.push(x);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Python's `urllib.parse.urlsplit` result as a dict, or one of its fields.
fn urlsplit(v: Value, query: Option<String>) -> Result<Value, Error> {
    let url = text(&v);
    let mut rest = url.as_str();
    let mut scheme = "";
    if let Some(i) = rest.find(':') {
        let cand = &rest[..i];
        if !cand.is_empty()
            && cand.starts_with(|c: char| c.is_ascii_alphabetic())
            && cand
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            scheme = cand;
            rest = &rest[i + 1..];
        }
    }
    let mut netloc = "";
    if let Some(r) = rest.strip_prefix("//") {
        let end = r.find(['/', '?', '#']).unwrap_or(r.len());
        netloc = &r[..end];
        rest = &r[end..];
    }
    let (rest, fragment) = rest.split_once('#').unwrap_or((rest, ""));
    let (path, query_s) = rest.split_once('?').unwrap_or((rest, ""));
    let (userinfo, hostport) = match netloc.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, netloc),
    };
    let (username, password) = match userinfo {
        Some(u) => match u.split_once(':') {
            Some((a, b)) => (Value::from(a), Value::from(b)),
            None => (Value::from(u), Value::from(())),
        },
        None => (Value::from(()), Value::from(())),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || hostport.starts_with('[') => (h, Some(p)),
        _ => (hostport, None),
    };
    let port = match port {
        Some(p) if !p.is_empty() => Value::from(
            p.parse::<u16>()
                .map_err(|_| fail(format!("Port could not be cast to integer value as {p:?}")))?,
        ),
        _ => Value::from(()),
    };
    let hostname = if host.is_empty() {
        Value::from(())
    } else {
        Value::from(
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .to_lowercase(),
        )
    };
    let fields = [
        ("fragment", Value::from(fragment)),
        ("hostname", hostname),
        ("netloc", Value::from(netloc)),
        ("password", password),
        ("path", Value::from(path)),
        ("port", port),
        ("query", Value::from(query_s)),
        ("scheme", Value::from(scheme.to_lowercase())),
        ("username", username),
    ];
    match query {
        None => Ok(Value::from(
            fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect::<std::collections::BTreeMap<String, Value>>(),
        )),
        Some(q) => fields
            .into_iter()
            .find(|(k, _)| *k == q)
            .map(|(_, v)| v)
            .ok_or_else(|| fail(format!("urlsplit: unknown URL component: {q}"))),
    }
}

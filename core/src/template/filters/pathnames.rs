//! Path-name filters on strings only (no file system): `normpath`, `commonpath` (Python's
//! `posixpath`), and `win_basename`, `win_dirname`, `win_splitdrive` (Python's `ntpath`).

use minijinja::value::Value;
use minijinja::{Environment, Error};

use super::{fail, items, text};

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("normpath", |v: Value| Value::from(normpath(&text(&v))));
    env.add_filter("commonpath", commonpath);
    env.add_filter("win_splitdrive", |v: Value| {
        let s = text(&v);
        let (drive, rest) = split_drive(&s);
        Value::from(vec![Value::from(drive), Value::from(rest)])
    });
    env.add_filter("win_basename", |v: Value| {
        let s = text(&v);
        let (_, rest) = split_drive(&s);
        let i = rest.rfind(['\\', '/']).map_or(0, |i| i + 1);
        Value::from(&rest[i..])
    });
    env.add_filter("win_dirname", |v: Value| {
        let s = text(&v);
        let (drive, rest) = split_drive(&s);
        let i = rest.rfind(['\\', '/']).map_or(0, |i| i + 1);
        let head = &rest[..i];
        let trimmed = head.trim_end_matches(['\\', '/']);
        let head = if trimmed.is_empty() { head } else { trimmed };
        Value::from(format!("{drive}{head}"))
    });
}

/// `posixpath.normpath`.
pub(super) fn normpath(s: &str) -> String {
    if s.is_empty() {
        return ".".into();
    }
    let lead = if s.starts_with("//") && !s.starts_with("///") {
        "//"
    } else if s.starts_with('/') {
        "/"
    } else {
        ""
    };
    let mut parts: Vec<&str> = Vec::new();
    for p in s.split('/') {
        match p {
            "" | "." => {}
            ".." if lead.is_empty() && parts.last().is_none_or(|l| *l == "..") => parts.push(".."),
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    let out = format!("{lead}{}", parts.join("/"));
    if out.is_empty() {
        ".".into()
    } else {
        out
    }
}

/// `posixpath.commonpath`: the longest common sub-path of absolute (or of relative) paths.
fn commonpath(v: Value) -> Result<Value, Error> {
    let paths: Vec<String> = items(&v, "commonpath")?.iter().map(text).collect();
    let Some(first) = paths.first() else {
        return Err(fail("commonpath() arg is an empty sequence"));
    };
    let absolute = first.starts_with('/');
    if paths.iter().any(|p| p.starts_with('/') != absolute) {
        return Err(fail("Can't mix absolute and relative paths"));
    }
    let split = |p: &str| -> Vec<String> {
        p.split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .map(String::from)
            .collect()
    };
    let mut common = split(first);
    for p in &paths[1..] {
        let parts = split(p);
        let n = common
            .iter()
            .zip(parts.iter())
            .take_while(|(a, b)| a == b)
            .count();
        common.truncate(n);
    }
    let prefix = if absolute { "/" } else { "" };
    Ok(Value::from(format!("{prefix}{}", common.join("/"))))
}

/// `ntpath.splitdrive` for drive letters and UNC shares.
fn split_drive(s: &str) -> (&str, &str) {
    let b = s.as_bytes();
    if b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic() {
        return s.split_at(2);
    }
    let is_sep = |c: u8| c == b'\\' || c == b'/';
    if b.len() > 2 && is_sep(b[0]) && is_sep(b[1]) && !is_sep(b[2]) {
        // \\server\share\rest: the drive is \\server\share
        let after = &s[2..];
        if let Some(i) = after.find(['\\', '/']) {
            let share = &after[i + 1..];
            let end = share.find(['\\', '/']).unwrap_or(share.len());
            return s.split_at(2 + i + 1 + end);
        }
    }
    ("", s)
}

//! Path filters: basename, dirname, expanduser, expandvars, realpath, relpath, splitext,
//! path_join, fileglob.

use std::path::{Path, PathBuf};

use minijinja::value::{Value, ValueKind};
use minijinja::{Environment, Error};

use super::{items, text};

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("basename", |v: Value| {
        let s = text(&v);
        Value::from(s.rsplit('/').next().unwrap_or("").to_string())
    });
    env.add_filter("dirname", |v: Value| Value::from(dirname(&text(&v))));
    env.add_filter("expanduser", |v: Value| Value::from(expanduser(&text(&v))));
    env.add_filter("expandvars", |v: Value| Value::from(expandvars(&text(&v))));
    env.add_filter("realpath", |v: Value| {
        let s = expanduser(&text(&v));
        Value::from(
            std::fs::canonicalize(&s)
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_else(|_| normalize(&absolute(&s))),
        )
    });
    env.add_filter("relpath", |v: Value, start: Option<String>| {
        Value::from(relpath(&text(&v), start.as_deref()))
    });
    env.add_filter("splitext", |v: Value| {
        let (root, ext) = splitext(&text(&v));
        Value::from(vec![Value::from(root), Value::from(ext)])
    });
    env.add_filter("path_join", |v: Value| -> Result<Value, Error> {
        let parts: Vec<String> = if v.kind() == ValueKind::String {
            vec![text(&v)]
        } else {
            items(&v, "path_join")?.iter().map(text).collect()
        };
        Ok(Value::from(path_join(&parts)))
    });
    env.add_filter("fileglob", |v: Value| -> Result<Value, Error> {
        Ok(Value::from(fileglob(&text(&v))))
    });
}

/// Python's `os.path.dirname`.
pub(crate) fn dirname(s: &str) -> String {
    match s.rfind('/') {
        Some(i) => {
            let head = &s[..=i];
            let trimmed = head.trim_end_matches('/');
            if trimmed.is_empty() {
                head.to_string()
            } else {
                trimmed.to_string()
            }
        }
        None => String::new(),
    }
}

/// Python's `os.path.splitext`.
pub(crate) fn splitext(s: &str) -> (String, String) {
    let base_start = s.rfind('/').map_or(0, |i| i + 1);
    let base = &s[base_start..];
    let leading_dots = base.len() - base.trim_start_matches('.').len();
    match base.rfind('.') {
        Some(i) if i >= leading_dots && i > 0 => (
            s[..base_start + i].to_string(),
            s[base_start + i..].to_string(),
        ),
        _ => (s.to_string(), String::new()),
    }
}

/// Python's `os.path.join`.
pub(crate) fn path_join(parts: &[String]) -> String {
    let mut out = String::new();
    for p in parts {
        if p.starts_with('/') {
            out = p.clone();
        } else if out.is_empty() || out.ends_with('/') {
            out.push_str(p);
        } else {
            out.push('/');
            out.push_str(p);
        }
    }
    out
}

/// `~` and `~/...` expanded with the controller user's home directory.
pub(crate) fn expanduser(s: &str) -> String {
    if s == "~" || s.starts_with("~/") {
        if let Some(home) = std::env::var_os("HOME")
            .map(PathBuf::from)
            .or_else(dirs::home_dir)
        {
            return format!("{}{}", home.to_string_lossy(), &s[1..]);
        }
    }
    s.to_string()
}

/// A controller-side file name starting with `~` as Ansible's `path_dwim_relative_stack` reads
/// it: absolute after `unfrackpath` (`$VAR`s, then `~`, expanded). `None` for any other name,
/// which is searched for relative to the role and playbook (a leading `$VAR` is not expanded
/// there: Ansible joins it to each search directory first).
pub(crate) fn home_relative(name: &str) -> Option<PathBuf> {
    if !name.starts_with('~') {
        return None;
    }
    let expanded = expanduser(&expandvars(name));
    (!expanded.starts_with('~')).then(|| PathBuf::from(expanded))
}

fn expandvars(s: &str) -> String {
    let re = regex::Regex::new(r"\$(\w+|\{[^}]*\})").expect("static regex");
    re.replace_all(s, |c: &regex::Captures| {
        let name = c[1].trim_start_matches('{').trim_end_matches('}');
        std::env::var(name).unwrap_or_else(|_| c[0].to_string())
    })
    .into_owned()
}

fn absolute(s: &str) -> String {
    if s.starts_with('/') {
        s.to_string()
    } else {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        format!("{}/{}", cwd.to_string_lossy(), s)
    }
}

/// Python's `os.path.normpath` for absolute paths.
fn normalize(s: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for p in s.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

fn relpath(path: &str, start: Option<&str>) -> String {
    let path = normalize(&absolute(path));
    let start = normalize(&absolute(start.unwrap_or(".")));
    let a: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let b: Vec<&str> = start.split('/').filter(|s| !s.is_empty()).collect();
    let common = a.iter().zip(b.iter()).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<&str> = vec![".."; b.len() - common];
    parts.extend(&a[common..]);
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// Files (not directories) matching a glob pattern, sorted.
pub(crate) fn fileglob(pattern: &str) -> Vec<Value> {
    let mut out: Vec<String> = match glob::glob(pattern) {
        Ok(paths) => paths
            .filter_map(Result::ok)
            .filter(|p| Path::new(p).is_file())
            .map(|p| p.to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out.into_iter().map(Value::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_relative_expands_only_a_leading_tilde() {
        let home = expanduser("~");
        assert!(!home.starts_with('~'));
        assert_eq!(
            home_relative("~/.ssh/k"),
            Some(PathBuf::from(format!("{home}/.ssh/k")))
        );
        assert_eq!(home_relative("$HOME/.ssh/k"), None);
        assert_eq!(home_relative("files/k"), None);
        assert_eq!(home_relative("/etc/k"), None);
    }
}

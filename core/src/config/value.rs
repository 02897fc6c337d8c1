//! Setting types and values, read as ansible-core's `ensure_type` reads them.

use std::path::{Component, Path, PathBuf};

/// How a setting's text is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `yes`/`true`/`on`/`1`/`y`/`t` are true, anything else false (ansible-core's non-strict rule).
    Bool,
    /// A whole number.
    Int,
    /// A number, possibly with a fraction.
    Float,
    /// Text (quotes around an `ansible.cfg` value are removed).
    Str,
    /// One path: `~` and `$VARS` expanded, relative to the config file's directory (or the
    /// current directory for environment values).
    Path,
    /// Comma-separated paths, each resolved as [`Kind::Path`].
    PathList,
    /// Colon-separated paths, each resolved as [`Kind::Path`].
    PathSpec,
    /// Comma-separated words.
    List,
}

impl Kind {
    /// ansible-config's name of the type.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Bool => "boolean",
            Kind::Int => "integer",
            Kind::Float => "float",
            Kind::Str => "string",
            Kind::Path => "path",
            Kind::PathList => "pathlist",
            Kind::PathSpec => "pathspec",
            Kind::List => "list",
        }
    }

    /// Reads `text`; relative paths are resolved against `base` (the current directory when
    /// `None`), `~` and `$VARS` through `env`.
    pub fn parse(
        self,
        text: &str,
        base: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Value, String> {
        let path = |t: &str| resolve_path(t, base, env);
        Ok(match self {
            Kind::Bool => Value::Bool(matches!(
                text.trim().to_ascii_lowercase().as_str(),
                "y" | "yes" | "on" | "1" | "true" | "t" | "1.0"
            )),
            Kind::Int => Value::Int(parse_int(text)?),
            Kind::Float => Value::Float(
                text.trim()
                    .parse()
                    .map_err(|_| format!("invalid value for a float: {text:?}"))?,
            ),
            Kind::Str => Value::Str(text.to_string()),
            Kind::Path => Value::Path(path(text)),
            Kind::PathList => Value::Paths(text.split(',').map(|p| path(p.trim())).collect()),
            Kind::PathSpec => Value::Paths(text.split(':').map(path).collect()),
            Kind::List => {
                if text.trim().is_empty() {
                    Value::List(Vec::new())
                } else {
                    Value::List(
                        text.split(',')
                            .map(|w| unquote(w.trim()).to_string())
                            .collect(),
                    )
                }
            }
        })
    }
}

fn parse_int(text: &str) -> Result<i64, String> {
    let t = text.trim();
    if let Ok(n) = t.parse::<i64>() {
        return Ok(n);
    }
    match t.parse::<f64>() {
        Ok(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(f as i64),
        _ => Err(format!("invalid value for an integer: {text:?}")),
    }
}

/// Removes one pair of matching quotes around `s`, as ansible-core's `unquote`.
pub fn unquote(s: &str) -> &str {
    let b = s.as_bytes();
    if b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0] {
        &s[1..s.len() - 1]
    } else {
        s
    }
}

/// `$VAR`/`${VAR}` and `~` expanded, made absolute against `base` (or the current directory),
/// `.`/`..` removed: ansible-core's `unfrackpath(follow=False)`.
pub fn resolve_path(
    text: &str,
    base: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> PathBuf {
    let expanded = expand_vars(text, env);
    let expanded = match expanded.strip_prefix('~') {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => {
            let home = env("HOME")
                .map(PathBuf::from)
                .or_else(dirs::home_dir)
                .unwrap_or_default();
            format!("{}{rest}", home.display())
        }
        _ => expanded,
    };
    let p = Path::new(&expanded);
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        let base = base
            .map(Path::to_path_buf)
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_default();
        base.join(p)
    };
    normalize(&joined)
}

fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn expand_vars(text: &str, env: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, len) = if let Some(braced) = after.strip_prefix('{') {
            match braced.find('}') {
                Some(end) => (&braced[..end], end + 2),
                None => ("", 0),
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], end)
        };
        // Python's expandvars leaves unknown variables as written.
        match (name.is_empty(), env(name)) {
            (false, Some(v)) => out.push_str(&v),
            _ => out.push_str(&rest[i..i + 1 + len]),
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

/// A setting's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Not set.
    None,
    /// A boolean.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A number, possibly with a fraction.
    Float(f64),
    /// Text.
    Str(String),
    /// One resolved path.
    Path(PathBuf),
    /// Resolved paths.
    Paths(Vec<PathBuf>),
    /// Words.
    List(Vec<String>),
}

impl Value {
    /// The boolean, if this is one.
    pub fn bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number, if this is one.
    pub fn int(&self) -> Option<i64> {
        match self {
            Value::Int(n) => Some(*n),
            _ => None,
        }
    }

    /// The number, if this is one (whole numbers too).
    pub fn float(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            Value::Int(n) => Some(*n as f64),
            _ => None,
        }
    }

    /// The text, if this is text.
    pub fn string(self) -> Option<String> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The path, if this is one.
    pub fn path(self) -> Option<PathBuf> {
        match self {
            Value::Path(p) => Some(p),
            _ => None,
        }
    }

    /// The paths (one path gives a list of one).
    pub fn paths(self) -> Vec<PathBuf> {
        match self {
            Value::Paths(p) => p,
            Value::Path(p) => vec![p],
            _ => Vec::new(),
        }
    }

    /// The words.
    pub fn list(self) -> Vec<String> {
        match self {
            Value::List(l) => l,
            _ => Vec::new(),
        }
    }

    /// As `ansible-config dump` prints it (Python's `str()`: `True`, `None`, `['a', 'b']`).
    pub fn python(&self) -> String {
        fn repr(s: &str) -> String {
            if s.contains('\'') && !s.contains('"') {
                format!("\"{s}\"")
            } else {
                format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
            }
        }
        match self {
            Value::None => "None".into(),
            Value::Bool(true) => "True".into(),
            Value::Bool(false) => "False".into(),
            Value::Int(n) => n.to_string(),
            Value::Float(f) => format!("{f:?}"),
            Value::Str(s) => s.clone(),
            Value::Path(p) => p.display().to_string(),
            Value::Paths(ps) => {
                let items: Vec<String> =
                    ps.iter().map(|p| repr(&p.display().to_string())).collect();
                format!("[{}]", items.join(", "))
            }
            Value::List(ws) => {
                let items: Vec<String> = ws.iter().map(|w| repr(w)).collect();
                format!("[{}]", items.join(", "))
            }
        }
    }

    /// As JSON.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::None => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(n) => J::from(*n),
            Value::Float(f) => J::from(*f),
            Value::Str(s) => J::String(s.clone()),
            Value::Path(p) => J::String(p.display().to_string()),
            Value::Paths(ps) => ps
                .iter()
                .map(|p| J::String(p.display().to_string()))
                .collect(),
            Value::List(ws) => ws.iter().map(|w| J::String(w.clone())).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(k: &str) -> Option<String> {
        match k {
            "HOME" => Some("/home/u".into()),
            "X" => Some("ex".into()),
            _ => None,
        }
    }

    #[test]
    fn paths_resolve_like_unfrackpath() {
        let base = Path::new("/etc/cfg");
        let p = |t| resolve_path(t, Some(base), &env);
        assert_eq!(p("roles"), PathBuf::from("/etc/cfg/roles"));
        assert_eq!(p("../r/./s"), PathBuf::from("/etc/r/s"));
        assert_eq!(p("~/x"), PathBuf::from("/home/u/x"));
        assert_eq!(p("/a/$X/${X}/$NOPE"), PathBuf::from("/a/ex/ex/$NOPE"));
    }

    #[test]
    fn values_print_as_ansible_config() {
        let v = Kind::PathSpec
            .parse("a:/b", Some(Path::new("/c")), &env)
            .unwrap();
        assert_eq!(v.python(), "['/c/a', '/b']");
        assert_eq!(
            Kind::Bool.parse("Yes", None, &env).unwrap().python(),
            "True"
        );
        assert_eq!(
            Kind::Bool.parse("maybe", None, &env).unwrap().python(),
            "False"
        );
        assert_eq!(Kind::Int.parse(" 20 ", None, &env).unwrap(), Value::Int(20));
        assert!(Kind::Int.parse("twenty", None, &env).is_err());
        assert_eq!(
            Kind::List.parse("a, 'b'", None, &env).unwrap().python(),
            "['a', 'b']"
        );
        assert_eq!(Kind::List.parse("", None, &env).unwrap().python(), "[]");
    }
}

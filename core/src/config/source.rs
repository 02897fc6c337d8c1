//! Where settings come from: finding and parsing `ansible.cfg` (with line numbers), and each
//! setting's value and origin in ansible-core's precedence (environment over file over default).

use std::path::{Path, PathBuf};

use super::settings::{Setting, SETTINGS};
use super::value::{unquote, Kind, Value};

/// One `key = value` line of an `ansible.cfg`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IniEntry {
    /// The section (`defaults`).
    pub section: String,
    /// The key, lowercased as Python's ConfigParser does.
    pub key: String,
    /// The value (continuation lines joined with newlines, `%%` read as `%`).
    pub value: String,
    /// The 1-based line of the key.
    pub line: usize,
}

/// A parsed `ansible.cfg`.
#[derive(Debug, Clone, Default)]
pub struct ConfigFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its entries in file order.
    pub entries: Vec<IniEntry>,
    /// Lines that are not INI (ansible-core refuses such a file; drover skips the lines).
    pub problems: Vec<String>,
}

impl ConfigFile {
    /// Reads and parses `path`.
    pub fn read(path: &Path) -> Result<Self, crate::limits::ReadError> {
        let text = crate::limits::read_text(path)?;
        Ok(Self::parse(path, &text))
    }

    /// Parses `text` as the contents of `path`.
    pub fn parse(path: &Path, text: &str) -> Self {
        let mut file = ConfigFile {
            path: path.to_path_buf(),
            ..Self::default()
        };
        let mut section = String::from("defaults");
        // The indentation of the last key, while its value may continue.
        let mut open: Option<usize> = None;
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            let indent = raw.len() - raw.trim_start().len();
            let line = strip_inline_comment(raw.trim());
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let (Some(key_indent), Some(last)) = (open, file.entries.last_mut()) {
                if indent > key_indent {
                    last.value.push('\n');
                    last.value.push_str(&line.replace("%%", "%"));
                    continue;
                }
            }
            open = None;
            if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = s.trim().to_string();
                continue;
            }
            match line.find(['=', ':']) {
                Some(at) => {
                    file.entries.push(IniEntry {
                        section: section.clone(),
                        key: line[..at].trim().to_lowercase(),
                        value: line[at + 1..].trim().replace("%%", "%"),
                        line: line_no,
                    });
                    open = Some(indent);
                }
                None => file.problems.push(format!(
                    "{}:{line_no}: not a `key = value` line: {line}",
                    path.display()
                )),
            }
        }
        file
    }

    /// The last entry for `section.key`.
    pub fn get(&self, section: &str, key: &str) -> Option<&IniEntry> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.section == section && e.key == key)
    }
}

/// ConfigParser's inline comments: `;` after whitespace.
fn strip_inline_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b';' && i > 0 && bytes[i - 1].is_ascii_whitespace() {
            return line[..i].trim_end();
        }
    }
    line
}

/// The `ansible.cfg` ansible-core would read: `$ANSIBLE_CONFIG` (a file, or a directory holding
/// `ansible.cfg`), `./ansible.cfg` (unless the current directory is world-writable),
/// `~/.ansible.cfg`, `/etc/ansible/ansible.cfg` — the first that exists.
pub fn find_config_file(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(v) = env("ANSIBLE_CONFIG") {
        let p = super::value::resolve_path(&v, None, env);
        candidates.push(if p.is_dir() { p.join("ansible.cfg") } else { p });
    }
    if let Ok(cwd) = std::env::current_dir() {
        if !world_writable(&cwd) {
            candidates.push(cwd.join("ansible.cfg"));
        }
    }
    candidates.push(super::value::resolve_path("~/.ansible.cfg", None, env));
    candidates.push(PathBuf::from("/etc/ansible/ansible.cfg"));
    candidates.into_iter().find(|p| p.is_file())
}

#[cfg(unix)]
fn world_writable(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(dir)
        .map(|m| m.permissions().mode() & 0o002 != 0)
        .unwrap_or(false)
}

#[cfg(not(unix))]
fn world_writable(_dir: &Path) -> bool {
    false
}

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Nothing set it.
    Default,
    /// This environment variable.
    Env(String),
    /// This line of a config file.
    File {
        /// The file.
        path: PathBuf,
        /// Its section.
        section: String,
        /// The key.
        key: String,
        /// The 1-based line.
        line: usize,
    },
}

impl Origin {
    /// As `ansible-config dump` prints it: `default`, `env: NAME`, or the file's path.
    pub fn ansible(&self) -> String {
        match self {
            Origin::Default => "default".into(),
            Origin::Env(name) => format!("env: {name}"),
            Origin::File { path, .. } => path.display().to_string(),
        }
    }
}

/// A setting's value and where it came from.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The setting.
    pub setting: &'static Setting,
    /// Its value.
    pub value: Value,
    /// Its origin.
    pub origin: Origin,
    /// Why a value that was set could not be used (the default is used instead).
    pub problem: Option<String>,
}

/// Every setting's value and origin from `file` and `env`, in table order.
pub fn resolve_all(
    file: Option<&ConfigFile>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Vec<Resolved> {
    SETTINGS.iter().map(|s| resolve(s, file, env)).collect()
}

/// One setting's value and origin: the last of its environment variables that is set, else the
/// last of its `ansible.cfg` keys that is present, else its default.
pub fn resolve(
    setting: &'static Setting,
    file: Option<&ConfigFile>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Resolved {
    let from_env = setting
        .env
        .iter()
        .rev()
        .find_map(|name| env(name).map(|v| (name, v)));
    let (text, origin, base) = if let Some((name, v)) = from_env {
        (v, Origin::Env((*name).to_string()), None)
    } else if let Some((f, e)) = file.and_then(|f| {
        setting
            .ini
            .iter()
            .rev()
            .find_map(|(section, key)| f.get(section, key).map(|e| (f, e)))
    }) {
        let text = match setting.kind {
            Kind::Str | Kind::Path => unquote(&e.value).to_string(),
            _ => e.value.clone(),
        };
        let origin = Origin::File {
            path: f.path.clone(),
            section: e.section.clone(),
            key: e.key.clone(),
            line: e.line,
        };
        let base = f.path.parent().filter(|p| !p.as_os_str().is_empty());
        (text, origin, base.map(Path::to_path_buf))
    } else {
        return Resolved {
            setting,
            value: default_value(setting, env),
            origin: Origin::Default,
            problem: None,
        };
    };
    match setting.kind.parse(&text, base.as_deref(), env) {
        Ok(value) => Resolved {
            setting,
            value,
            origin,
            problem: None,
        },
        Err(e) => Resolved {
            setting,
            value: default_value(setting, env),
            problem: Some(format!("{} ({}): {e}", setting.name, origin.ansible())),
            origin,
        },
    }
}

/// The value drover uses when nothing sets `setting`.
pub fn default_value(setting: &Setting, env: &dyn Fn(&str) -> Option<String>) -> Value {
    setting
        .default
        .and_then(|d| setting.kind.parse(d, None, env).ok())
        .unwrap_or(Value::None)
}

#[cfg(test)]
mod tests {
    use super::super::settings::setting;
    use super::*;

    #[test]
    fn ini_lines_keys_and_comments() {
        let f = ConfigFile::parse(
            Path::new("/c/ansible.cfg"),
            "# c\n[defaults]\nForks = 20 ; note\nroles_path: a:b\n  :c\nnot ini\n[privilege_escalation]\nbecome=yes\n",
        );
        let forks = f.get("defaults", "forks").unwrap();
        assert_eq!((forks.value.as_str(), forks.line), ("20", 3));
        assert_eq!(f.get("defaults", "roles_path").unwrap().value, "a:b\n:c");
        assert_eq!(f.get("privilege_escalation", "become").unwrap().line, 8);
        assert_eq!(f.problems.len(), 1);
    }

    #[test]
    fn environment_over_file_over_default() {
        let f = ConfigFile::parse(
            Path::new("/c/ansible.cfg"),
            "[defaults]\nforks=20\ntimeout=7\n",
        );
        let env = |k: &str| (k == "ANSIBLE_TIMEOUT").then(|| "33".to_string());
        let forks = resolve(setting("DEFAULT_FORKS").unwrap(), Some(&f), &env);
        assert_eq!(forks.value, Value::Int(20));
        assert!(matches!(forks.origin, Origin::File { line: 2, .. }));
        let timeout = resolve(setting("DEFAULT_TIMEOUT").unwrap(), Some(&f), &env);
        assert_eq!(
            (timeout.value, timeout.origin.ansible()),
            (Value::Int(33), "env: ANSIBLE_TIMEOUT".into())
        );
        let become_ = resolve(setting("DEFAULT_BECOME").unwrap(), Some(&f), &env);
        assert_eq!(
            (become_.value, become_.origin),
            (Value::Bool(false), Origin::Default)
        );
    }

    #[test]
    fn bad_values_fall_back_to_the_default_with_a_problem() {
        let f = ConfigFile::parse(Path::new("/c/ansible.cfg"), "[defaults]\nforks=many\n");
        let forks = resolve(setting("DEFAULT_FORKS").unwrap(), Some(&f), &|_| None);
        assert_eq!(forks.value, Value::Int(5));
        assert!(forks.problem.unwrap().contains("many"));
    }
}

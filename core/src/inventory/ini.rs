//! Ansible's INI inventory format.
//!
//! ```ini
//! web1 ansible_host=10.0.0.5      # before any section: ungrouped
//! [web]
//! web[01:10].example.com:2222 tier=front
//! [web:vars]
//! ansible_user=deploy
//! [prod:children]
//! web
//! ```
//! Lines are trimmed; empty lines and lines starting with `#` or `;` are skipped. Host lines are
//! split like a POSIX shell (quotes group words and are removed, `#` starts a comment); the first
//! word is the host (`name`, `name:port`, ranges), the rest are `key=value` host vars. In
//! `:vars` sections each line is `key = value` (split at the first `=`, no comment stripping).
//! Every value goes through [`super::pyliteral::parse_value`] as Ansible does with
//! `ast.literal_eval`: `1` → 1, `True` → true, `'x'` → "x", `[1, 2]` → a list, while `yes`,
//! `FALSE` or `a b` stay strings. Note that on host lines the shell-style split has already
//! removed quotes, so `a="1"` gives 1 there but `a="1"` in a `:vars` section gives "1".
//! A `[g:vars]` or `[p:children]` that names a group never declared with `[g]` or
//! `[g:children]` in the same file is an error, as in Ansible.

use indexmap::IndexMap;

use super::{pyliteral::parse_value, range, shlex, Inventory, InventoryError};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Hosts,
    Vars,
    Children,
}

/// A group named in a `[g:vars]` or as a child before being declared.
struct Pending {
    line: usize,
    kind: Section,
    /// Groups waiting to get it as a child.
    parents: Vec<String>,
}

struct IniParser<'a> {
    inv: &'a mut Inventory,
    file: &'a str,
    line: usize,
    text: &'a str,
}

impl IniParser<'_> {
    fn error(&self, message: impl std::fmt::Display) -> InventoryError {
        InventoryError::Parse {
            file: self.file.to_string(),
            line: self.line,
            message: format!("{message}\n    {}", self.text),
        }
    }
}

/// Parses INI inventory `text` (named `file` in errors) into `inv`.
pub(super) fn parse(inv: &mut Inventory, text: &str, file: &str) -> Result<(), InventoryError> {
    // A byte-order mark (editors on Windows write one) is not part of the first group's name.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut p = IniParser {
        inv,
        file,
        line: 0,
        text: "",
    };
    let mut group = "ungrouped".to_string();
    let mut section = Section::Hosts;
    let mut pending: IndexMap<String, Pending> = IndexMap::new();
    for (index, raw) in text.lines().enumerate() {
        p.line = index + 1;
        let line = raw.trim();
        p.text = line;
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(section_line) = parse_section(line) {
            let (name, kind) = section_line.map_err(|m| p.error(m))?;
            group = name;
            section = kind;
            if !p.inv.groups.contains_key(&group) {
                if kind == Section::Vars && !pending.contains_key(&group) {
                    pending.insert(
                        group.clone(),
                        Pending {
                            line: p.line,
                            kind,
                            parents: vec![],
                        },
                    );
                }
                p.inv.ensure_group(&group);
            }
            if kind != Section::Vars {
                if let Some(decl) = pending.shift_remove(&group) {
                    for parent in decl.parents {
                        p.inv.add_child(&parent, &group).map_err(|m| p.error(m))?;
                    }
                }
            }
            continue;
        }
        match section {
            Section::Hosts => parse_host_line(&mut p, &group, line)?,
            Section::Vars => {
                let Some((key, value)) = line.split_once('=') else {
                    return Err(p.error(format!(
                        "expected key=value in [{group}:vars], got '{line}' (hint: variables in :vars sections are written name=value)"
                    )));
                };
                p.inv
                    .set_group_var(&group, key.trim(), parse_value(value.trim()))
                    .map_err(|m| p.error(m))?;
            }
            Section::Children => {
                let child = parse_child_name(line).ok_or_else(|| {
                    p.error(format!(
                        "expected a group name in [{group}:children], got '{line}' (hint: list one child group per line; hosts go in [{group}])"
                    ))
                })?;
                if p.inv.groups.contains_key(child) {
                    p.inv.add_child(&group, child).map_err(|m| p.error(m))?;
                } else {
                    pending
                        .entry(child.to_string())
                        .or_insert_with(|| Pending {
                            line: p.line,
                            kind: Section::Children,
                            parents: vec![],
                        })
                        .parents
                        .push(group.clone());
                }
            }
        }
    }
    if let Some((name, decl)) = pending.into_iter().next() {
        let message = match decl.kind {
            Section::Vars => format!(
                "section [{name}:vars] is for a group that is never declared (hint: add a [{name}] or [{name}:children] section)"
            ),
            _ => format!(
                "section [{}:children] includes undefined group '{name}' (hint: declare it with a [{name}] section, even an empty one)",
                decl.parents.last().map(String::as_str).unwrap_or("?")
            ),
        };
        return Err(InventoryError::Parse {
            file: file.to_string(),
            line: decl.line,
            message,
        });
    }
    Ok(())
}

/// `[name]`, `[name:vars]` or `[name:children]`, optionally followed by a `#` comment. `None`
/// if the line is not a section (e.g. the host `[fe80::2]:22`); an error for a line that ends
/// in `]` but is not a valid section (as in Ansible).
fn parse_section(line: &str) -> Option<Result<(String, Section), String>> {
    let invalid = || {
        Some(Err(format!(
            "invalid section '{line}' (hint: a section is [group], [group:vars] or [group:children], without spaces)"
        )))
    };
    let inner = line.strip_prefix('[')?;
    let Some(close) = inner.find(']') else {
        return if line.ends_with(']') { invalid() } else { None };
    };
    let after = inner[close + 1..].trim_start();
    let (head, tag) = match inner[..close].split_once(':') {
        Some((n, t)) => (n, Some(t)),
        None => (&inner[..close], None),
    };
    let name_ok = !head.is_empty() && !head.chars().any(|c| c.is_whitespace() || c == '[');
    let tag_ok =
        tag.is_none_or(|t| !t.is_empty() && t.chars().all(|c| c.is_alphanumeric() || c == '_'));
    if !(name_ok && tag_ok && (after.is_empty() || after.starts_with('#'))) {
        return if line.ends_with(']') { invalid() } else { None };
    }
    let name = head.to_string();
    Some(match tag {
        None => Ok((name, Section::Hosts)),
        Some("vars") => Ok((name, Section::Vars)),
        Some("children") => Ok((name, Section::Children)),
        Some(t) => Err(format!(
            "section [{head}:{t}] has unknown type '{t}' (hint: use :vars or :children)"
        )),
    })
}

/// A child group line: one name, optionally followed by a `#` comment.
fn parse_child_name(line: &str) -> Option<&str> {
    let end = line
        .find(|c: char| c.is_whitespace() || c == '#')
        .unwrap_or(line.len());
    let (name, rest) = line.split_at(end);
    let rest = rest.trim_start();
    let valid = !name.is_empty() && !name.contains([':', ']']);
    (valid && (rest.is_empty() || rest.starts_with('#'))).then_some(name)
}

fn parse_host_line(p: &mut IniParser, group: &str, line: &str) -> Result<(), InventoryError> {
    let words = shlex::split(line).map_err(|m| {
        p.error(format!(
            "cannot split host line: {m} (hint: check the quotes)"
        ))
    })?;
    let Some((pattern, var_words)) = words.split_first() else {
        return Ok(());
    };
    let (names, port) = expand_host_pattern(pattern).map_err(|m| p.error(m))?;
    let mut vars = Vec::new();
    for word in var_words {
        let Some((key, value)) = word.split_once('=') else {
            return Err(p.error(format!(
                "expected key=value host variable after the host name, got '{word}' (hint: one host per line; quote values that contain spaces)"
            )));
        };
        vars.push((key.to_string(), parse_value(value)));
    }
    for name in names {
        p.inv.add_host(&name, group, port);
        for (k, v) in &vars {
            p.inv.set_host_var(&name, k, v.clone());
        }
    }
    Ok(())
}

/// Host names and port from an INI host word (Ansible's INI `_expand_hostpattern`).
pub(super) fn expand_host_pattern(pattern: &str) -> Result<(Vec<String>, Option<u16>), String> {
    let (name, port) =
        super::address::parse_address(pattern, true).unwrap_or_else(|| (pattern.to_string(), None));
    if pattern.ends_with(':') && port.is_none() {
        return Err(format!(
            "invalid host '{pattern}': a trailing ':' must be followed by a port number"
        ));
    }
    super::address::check_host_name(pattern)?;
    if name == "---" {
        return Err(
            "invalid host '---': this looks like a YAML file (hint: name it .yml or .yaml)".into(),
        );
    }
    let names = if range::has_range(&name) {
        range::expand(&name)?
    } else {
        vec![name]
    };
    Ok((names, port))
}

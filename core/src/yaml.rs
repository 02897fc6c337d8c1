//! YAML loading with Ansible's (YAML 1.1 / PyYAML) reading of scalars and with source positions.
//!
//! Documents are read into [`Node`] trees that remember line and column of every value, so errors
//! can point at `file:line:col`. `yes/no/on/off` are booleans, `0644` is octal, `<<` merges are
//! applied, `!unsafe` and `!vault` tags are kept; plain `y`/`n` stay strings as in PyYAML.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Spanned, Tagged};

use crate::vars::{unsafe_text, Map, Value, VAULT_KEY};

mod messages;

/// A position in a source file (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// File name as given by the caller (may be empty for in-memory sources).
    pub file: Arc<str>,
    /// 1-based line; 0 when unknown.
    pub line: usize,
    /// 1-based column; 0 when unknown.
    pub col: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.file.is_empty(), self.line) {
            (true, 0) => write!(f, "<unknown>"),
            (false, 0) => write!(f, "{}", self.file),
            (true, l) => write!(f, "line {}:{}", l, self.col),
            (false, l) => write!(f, "{}:{}:{}", self.file, l, self.col),
        }
    }
}

/// A YAML value with its source position and tag.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: NodeValue,
    /// Where the value starts.
    pub loc: Location,
    /// Its explicit tag (`!unsafe`, `!vault`), if any.
    pub tag: Option<String>,
}

/// The value part of a [`Node`].
#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    /// `~`, `null` or empty.
    Null,
    /// Boolean.
    Bool(bool),
    /// Integer.
    Int(i64),
    /// Floating-point number.
    Float(f64),
    /// String.
    Str(String),
    /// Sequence.
    Seq(Vec<Node>),
    /// Mapping, in source order.
    Map(Vec<(Node, Node)>),
}

/// A YAML file that could not be read or parsed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{location}: {message}")]
pub struct YamlError {
    /// Where the problem is.
    pub location: Location,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
}

impl Node {
    /// The value as a string, if it is one.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            NodeValue::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The entries, if this is a mapping.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            NodeValue::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The items, if this is a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            NodeValue::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// Looks up a mapping entry by string key.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.key_string() == key)
            .map(|(_, v)| v)
    }

    /// The key text of a node used as a mapping key (PyYAML's `str()` of scalars).
    pub fn key_string(&self) -> String {
        match &self.value {
            NodeValue::Str(s) => s.clone(),
            NodeValue::Null => "None".into(),
            NodeValue::Bool(true) => "True".into(),
            NodeValue::Bool(false) => "False".into(),
            NodeValue::Int(i) => i.to_string(),
            NodeValue::Float(f) => f.to_string(),
            NodeValue::Seq(_) | NodeValue::Map(_) => self.to_value().to_string(),
        }
    }

    /// A short description of the kind of value, for error messages.
    pub fn kind(&self) -> &'static str {
        match self.value {
            NodeValue::Null => "null",
            NodeValue::Bool(_) => "a boolean",
            NodeValue::Int(_) => "an integer",
            NodeValue::Float(_) => "a number",
            NodeValue::Str(_) => "a string",
            NodeValue::Seq(_) => "a list",
            NodeValue::Map(_) => "a mapping",
        }
    }

    /// Converts to a plain variable value. `!unsafe` strings become [`unsafe_text`] markers and
    /// `!vault` strings a `{__drover_vault__: …}` object.
    pub fn to_value(&self) -> Value {
        match (&self.value, self.tag.as_deref()) {
            (NodeValue::Str(s), Some("!unsafe")) => unsafe_text(s),
            (NodeValue::Str(s), Some("!vault")) => {
                let mut m = Map::new();
                m.insert(VAULT_KEY.into(), Value::String(s.clone()));
                Value::Object(m)
            }
            (NodeValue::Null, _) => Value::Null,
            (NodeValue::Bool(b), _) => Value::Bool(*b),
            (NodeValue::Int(i), _) => Value::from(*i),
            (NodeValue::Float(f), _) => {
                serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
            }
            (NodeValue::Str(s), _) => Value::String(s.clone()),
            (NodeValue::Seq(items), _) => Value::Array(items.iter().map(Node::to_value).collect()),
            (NodeValue::Map(entries), _) => {
                let mut m = Map::new();
                for (k, v) in entries {
                    m.insert(k.key_string(), v.to_value());
                }
                Value::Object(m)
            }
        }
    }

    fn fix_locations(&mut self, file: &Arc<str>, lines: &[&str]) {
        self.loc.file = file.clone();
        // PyYAML reads plain `y`/`n` as strings; serde-saphyr reads them as booleans.
        if let NodeValue::Bool(_) = self.value {
            if self.tag.is_none() {
                if let Some(text) = scalar_text_at(lines, self.loc.line, self.loc.col) {
                    if matches!(text, "y" | "Y" | "n" | "N") {
                        self.value = NodeValue::Str(text.to_string());
                    }
                }
            }
        }
        match &mut self.value {
            NodeValue::Seq(items) => items.iter_mut().for_each(|n| n.fix_locations(file, lines)),
            NodeValue::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
                k.fix_locations(file, lines);
                v.fix_locations(file, lines);
            }),
            _ => {}
        }
    }
}

/// The plain scalar word starting at `line:col` (1-based), if the position is known.
fn scalar_text_at<'a>(lines: &[&'a str], line: usize, col: usize) -> Option<&'a str> {
    let l = lines.get(line.checked_sub(1)?)?;
    let start = l.char_indices().nth(col.checked_sub(1)?)?.0;
    let rest = &l[start..];
    let end = rest
        .find(|c: char| !c.is_alphanumeric())
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s: Spanned<Tagged<NodeValue>> = Spanned::deserialize(d)?;
        Ok(Node {
            loc: Location {
                file: Arc::from(""),
                line: s.referenced.line() as usize,
                col: s.referenced.column() as usize,
            },
            tag: s.value.1,
            value: s.value.0,
        })
    }
}

struct NodeValueVisitor;

impl<'de> Visitor<'de> for NodeValueVisitor {
    type Value = NodeValue;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<NodeValue, E> {
        Ok(NodeValue::Null)
    }
    fn visit_none<E>(self) -> Result<NodeValue, E> {
        Ok(NodeValue::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<NodeValue, E> {
        Ok(NodeValue::Bool(b))
    }
    fn visit_i64<E>(self, i: i64) -> Result<NodeValue, E> {
        Ok(NodeValue::Int(i))
    }
    fn visit_u64<E: serde::de::Error>(self, u: u64) -> Result<NodeValue, E> {
        i64::try_from(u)
            .map(NodeValue::Int)
            .or(Ok(NodeValue::Float(u as f64)))
    }
    fn visit_f64<E>(self, f: f64) -> Result<NodeValue, E> {
        Ok(NodeValue::Float(f))
    }
    fn visit_str<E>(self, s: &str) -> Result<NodeValue, E> {
        Ok(NodeValue::Str(s.to_string()))
    }
    fn visit_string<E>(self, s: String) -> Result<NodeValue, E> {
        Ok(NodeValue::Str(s))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<NodeValue, A::Error> {
        let mut items = Vec::new();
        while let Some(n) = a.next_element::<Node>()? {
            items.push(n);
        }
        Ok(NodeValue::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<NodeValue, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = a.next_entry::<Node, Node>()? {
            entries.push(entry);
        }
        Ok(NodeValue::Map(entries))
    }
}

impl<'de> Deserialize<'de> for NodeValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeValueVisitor)
    }
}

fn options() -> serde_saphyr::Options {
    serde_saphyr::options! { legacy_octal_numbers: true }
}

/// Parses one YAML document. `file` names the source in locations and errors. An empty document
/// gives a `Null` node.
pub fn parse_str(source: &str, file: &str) -> Result<Node, YamlError> {
    let file: Arc<str> = Arc::from(file);
    if source
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#') || l.trim() == "---")
    {
        return Ok(Node {
            value: NodeValue::Null,
            loc: Location {
                file,
                line: 1,
                col: 1,
            },
            tag: None,
        });
    }
    let mut node: Node = serde_saphyr::from_str_with_options(source, options())
        .map_err(|e| convert_error(&e, &file))?;
    let lines: Vec<&str> = source.lines().collect();
    node.fix_locations(&file, &lines);
    Ok(node)
}

/// Reads and parses a YAML file, decrypting it first if it is vault-encrypted.
pub fn parse_file(path: &Path) -> Result<Node, YamlError> {
    let name = path.display().to_string();
    let source = crate::vault::read_text_file(path).map_err(|e| {
        use crate::limits::ReadError;
        use crate::vault::VaultError;
        let (line, hint) = match &e {
            VaultError::Read {
                source: ReadError::NotUtf8 { line, .. },
                ..
            } => (*line, Some("save the file as UTF-8 text")),
            VaultError::Read {
                source: ReadError::TooLarge { .. },
                ..
            } => (
                0,
                Some("split the data, or raise the limit (see docs/LIMITS.md)"),
            ),
            _ => (0, None),
        };
        YamlError {
            location: Location {
                file: Arc::from(name.as_str()),
                line,
                col: usize::from(line > 0),
            },
            message: match e {
                VaultError::Read { source, .. } => format!("cannot read file: {}", source.reason()),
                other => other.to_string(),
            },
            hint: hint.map(str::to_string),
        }
    })?;
    parse_str(&source, &name)
}

fn convert_error(e: &serde_saphyr::Error, file: &Arc<str>) -> YamlError {
    let (line, col) = e
        .location()
        .map(|l| (l.line() as usize, l.column() as usize))
        .unwrap_or((0, 0));
    // The crate's rendering repeats the position and adds a snippet; keep the first line's text.
    let text = e.to_string();
    let first = text.lines().next().unwrap_or(&text);
    let raw = first
        .trim_start_matches("error: ")
        .split_once(": ")
        .filter(|(pos, _)| pos.starts_with("line "))
        .map(|(_, m)| m.to_string())
        .unwrap_or_else(|| first.to_string());
    let (message, hint) = messages::user_message(&raw);
    YamlError {
        location: Location {
            file: file.clone(),
            line,
            col,
        },
        message,
        hint: Some(hint.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_scalars_like_pyyaml() {
        let n = parse_str(
            "mode: 0644\na: yes\nb: off\nc: y\nd: n\ne: '0644'\nf: 1.5\ng: ~\n",
            "t.yml",
        )
        .unwrap();
        assert_eq!(
            n.to_value(),
            json!({"mode": 420, "a": true, "b": false, "c": "y", "d": "n", "e": "0644", "f": 1.5, "g": null})
        );
    }

    #[test]
    fn keeps_positions_and_tags() {
        let n = parse_str("- hosts: all\n  vars:\n    s: !unsafe '{{ x }}'\n", "p.yml").unwrap();
        let play = &n.as_seq().unwrap()[0];
        let s = play.get("vars").unwrap().get("s").unwrap();
        assert_eq!((s.loc.line, s.loc.col), (3, 16));
        assert_eq!(&*s.loc.file, "p.yml");
        assert_eq!(s.to_value(), unsafe_text("{{ x }}"));
    }

    #[test]
    fn applies_merge_keys() {
        let n = parse_str("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n", "m.yml").unwrap();
        assert_eq!(n.to_value()["other"], json!({"x": 1, "y": 3}));
    }

    #[test]
    fn syntax_errors_have_positions() {
        let e = parse_str("a: 1\n- b\n", "bad.yml").unwrap_err();
        assert_eq!(e.location.line, 2);
        assert!(e.to_string().starts_with("bad.yml:2:"), "{e}");
    }

    #[test]
    fn empty_document_is_null() {
        assert_eq!(
            parse_str("---\n# nothing\n", "e.yml").unwrap().value,
            NodeValue::Null
        );
    }
}

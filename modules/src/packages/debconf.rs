//! `debconf`: pre-seeds a Debian package's debconf answers with `debconf-set-selections`, as
//! ansible-core's module does: `debconf-show` gives the current answers (passwords come from
//! `debconf-get-selections`, in `debconf-utils`), a question whose answer differs is set, and the
//! result has `current`, `previous` and (in diff mode) `diff` as ansible-core returns them.

use async_trait::async_trait;
use drover_core::connection::{shell_quote, ExecRequest};
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::{ModuleParams, ParamChoices};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::params::{de_bool, de_opt_string, de_string};

/// `vtype` of `debconf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ParamChoices)]
#[serde(rename_all = "lowercase")]
pub enum Vtype {
    /// `true`/`false`.
    Boolean,
    /// An error message.
    Error,
    /// Several choices, comma-separated.
    Multiselect,
    /// A note.
    Note,
    /// A password (read back with `debconf-get-selections`).
    Password,
    /// The `seen` flag.
    Seen,
    /// One choice.
    Select,
    /// A string.
    String,
    /// Text.
    Text,
    /// A title.
    Title,
}

impl Vtype {
    fn as_str(self) -> &'static str {
        match self {
            Vtype::Boolean => "boolean",
            Vtype::Error => "error",
            Vtype::Multiselect => "multiselect",
            Vtype::Note => "note",
            Vtype::Password => "password",
            Vtype::Seen => "seen",
            Vtype::Select => "select",
            Vtype::String => "string",
            Vtype::Text => "text",
            Vtype::Title => "title",
        }
    }
}

/// Parameters of `debconf`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct DebconfParams {
    /// The package the question belongs to.
    #[serde(alias = "pkg", deserialize_with = "de_string")]
    pub name: String,
    /// The question (`tzdata/Areas`).
    #[serde(
        default,
        alias = "selection",
        alias = "setting",
        deserialize_with = "de_opt_string"
    )]
    pub question: Option<String>,
    /// The type of the value.
    #[serde(default)]
    pub vtype: Option<Vtype>,
    /// The answer: any value (a list for `multiselect`).
    #[serde(default, alias = "answer")]
    pub value: Option<Value>,
    /// Do not set the `seen` flag (`debconf-set-selections -u`).
    #[serde(default, deserialize_with = "de_bool")]
    pub unseen: bool,
}

/// The `debconf` module.
pub struct Debconf;

/// `debconf-show` output as ansible-core reads it: `[*] question: value` lines.
fn parse_show(out: &str) -> Result<Map<String, Value>, String> {
    let mut m = Map::new();
    for line in out.lines() {
        let (k, v) = line
            .split_once(':')
            .ok_or_else(|| format!("unexpected debconf-show line: {line:?}"))?;
        let key = k.trim().trim_matches('*').trim();
        m.insert(key.to_string(), Value::from(v.trim()));
    }
    Ok(m)
}

/// The password in `debconf-get-selections` output, as ansible-core's `get_password_value`
/// finds it (the first line of the package decides when it has no value field).
fn password_value(out: &str, pkg: &str, question: &str, vtype: &str) -> String {
    for line in out.split('\n') {
        if !line.starts_with(pkg) {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() <= 3 {
            return String::new();
        }
        if fields[1] == question && fields[2] == vtype {
            return fields[3].to_string();
        }
    }
    String::new()
}

/// Python's `str()` of a scalar value, as `to_text` gives it.
fn py_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        other => other.to_string(),
    }
}

#[async_trait]
impl TypedModule for Debconf {
    const NAME: &'static str = "debconf";
    type Params = DebconfParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: DebconfParams,
    ) -> Result<ModuleResult, ModuleError> {
        let given = [
            p.question.is_some(),
            p.vtype.is_some(),
            p.value.as_ref().is_some_and(|v| !v.is_null()),
        ];
        if given.iter().any(|g| *g) && !given.iter().all(|g| *g) {
            return Ok(ModuleResult::failed(
                "parameters are required together: question, vtype, value",
            ));
        }
        let pkg = p.name.as_str();
        let show = ctx
            .conn
            .run(format!("debconf-show {}", shell_quote(pkg)))
            .await?;
        if !show.success() {
            return Ok(ModuleResult::failed(show.stderr_str()));
        }
        let mut prev = match parse_show(&show.stdout_str()) {
            Ok(m) => m,
            Err(e) => return Ok(ModuleResult::failed(e)),
        };
        let (Some(question), Some(vtype), Some(value)) = (&p.question, p.vtype, &p.value) else {
            return Ok(ModuleResult::ok()
                .with("msg", "")
                .with("current", Value::Object(prev)));
        };
        let mut value = value.clone();
        if vtype == Vtype::Boolean {
            value = Value::from(py_text(&value).to_lowercase());
        }
        let changed = match prev.get(question) {
            None => true,
            Some(existing) => {
                let existing_text = existing.as_str().unwrap_or_default().to_string();
                let existing = match vtype {
                    Vtype::Boolean => Value::from(existing_text.to_lowercase()),
                    Vtype::Password => {
                        let sel = ctx.conn.run("debconf-get-selections").await?;
                        if !sel.success() {
                            return Ok(ModuleResult::failed(format!(
                                "Failed to get the value '{question}' from '{pkg}': {}",
                                sel.stderr_str()
                            )));
                        }
                        Value::from(password_value(&sel.stdout_str(), pkg, question, "password"))
                    }
                    Vtype::Multiselect if value.is_array() => {
                        if let Some(msg) = unsortable(&value) {
                            return Ok(ModuleResult::failed(format!(
                                "Invalid value provided for 'multiselect': {msg}"
                            )));
                        }
                        let mut items: Vec<String> = value
                            .as_array()
                            .map(|a| a.iter().map(py_text).collect())
                            .unwrap_or_default();
                        items.sort();
                        value = Value::from(items);
                        let mut have: Vec<String> = existing_text
                            .split(',')
                            .map(|i| i.trim().to_string())
                            .collect();
                        have.sort();
                        Value::from(have)
                    }
                    _ => Value::from(existing_text),
                };
                value != existing
            }
        };
        if !changed {
            return Ok(ModuleResult::ok()
                .with("msg", "")
                .with("current", Value::Object(prev)));
        }
        let mut msg = String::new();
        if !ctx.check_mode {
            let text = match &value {
                Value::Array(items) if vtype == Vtype::Multiselect => {
                    items.iter().map(py_text).collect::<Vec<_>>().join(", ")
                }
                Value::String(s) => s.clone(),
                other => {
                    return Ok(ModuleResult::failed(format!(
                    "debconf: the value of '{question}' must be a string for vtype {}, got {other}",
                    vtype.as_str()
                )))
                }
            };
            let line = [pkg, question.as_str(), vtype.as_str(), text.as_str()].join(" ");
            let flag = if p.unseen { " -u" } else { "" };
            let mut req = ExecRequest::new(format!("debconf-set-selections{flag}"));
            req.stdin = Some(line.into_bytes());
            let out = ctx.conn.exec(req).await?;
            if !out.success() {
                return Ok(ModuleResult::failed(out.stderr_str()));
            }
            msg = out.stdout_str();
            // ansible-core reports the joined answer once it has set it.
            value = Value::from(text);
        }
        let mut curr = Map::new();
        curr.insert(question.clone(), value);
        let prev = match prev.remove(question.as_str()) {
            Some(v) => {
                let mut m = Map::new();
                m.insert(question.clone(), v);
                m
            }
            None => {
                prev.insert(question.clone(), Value::from(""));
                prev
            }
        };
        let mut diff = Map::new();
        if ctx.diff {
            let mut after = prev.clone();
            after.extend(curr.clone());
            diff.insert("before".into(), Value::Object(prev.clone()));
            diff.insert("after".into(), Value::Object(after));
        }
        Ok(ModuleResult::changed(true)
            .with("msg", msg)
            .with("current", Value::Object(curr))
            .with("previous", Value::Object(prev))
            .with("diff", Value::Object(diff)))
    }
}

/// Python's name of a JSON value's type.
fn py_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// The `TypeError` Python's `sorted()` raises for a multiselect list mixing strings with other
/// types (debconf.py sorts the answer before comparing it), if it would.
fn unsortable(value: &Value) -> Option<String> {
    let items = value.as_array()?;
    let first = items.first().map(py_type)?;
    let other = items.iter().map(py_type).find(|t| {
        *t != first
            && !(matches!(*t, "int" | "float" | "bool")
                && matches!(first, "int" | "float" | "bool"))
    })?;
    Some(format!(
        "'<' not supported between instances of '{other}' and '{first}'"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_debconf_show() {
        let m = parse_show("* tzdata/Areas: Europe\n  tzdata/Zones/Etc: UTC\n").unwrap();
        assert_eq!(m["tzdata/Areas"], "Europe");
        assert_eq!(m["tzdata/Zones/Etc"], "UTC");
        assert!(parse_show("garbage\n").is_err());
    }

    #[test]
    fn finds_passwords() {
        let out = "mysql\tmysql/pw\tpassword\tsecret\nmysql\tmysql/x\tstring\t\n";
        assert_eq!(
            password_value(out, "mysql", "mysql/pw", "password"),
            "secret"
        );
        assert_eq!(
            password_value("other\ta\tb\tc\n", "mysql", "q", "password"),
            ""
        );
        assert_eq!(py_text(&Value::Bool(true)).to_lowercase(), "true");
    }

    #[test]
    fn mixed_multiselect_lists_do_not_sort() {
        let msg = unsortable(&serde_json::json!(["group", 1, "passwd"])).unwrap();
        assert_eq!(
            msg,
            "'<' not supported between instances of 'int' and 'str'"
        );
        assert!(unsortable(&serde_json::json!(["b", "a"])).is_none());
        assert!(unsortable(&serde_json::json!([2, 1.5, true])).is_none());
    }
}

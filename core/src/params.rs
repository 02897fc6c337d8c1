//! Module parameter descriptions: the one source of truth for which keys a module takes.
//!
//! A module's parameters struct derives [`ModuleParams`] (see the `drover-derive` crate), which
//! describes every key from the struct itself: names and aliases from its fields and `serde`
//! attributes, types from the field types ([`ParamValue`]), docs from doc comments. The argument
//! check before a run ([`ParamsSpec::check`]), `parse_params`, the static checks and the module
//! docs all read that description, so nothing keeps a second list of keys.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value};

pub use drover_derive::{ModuleParams, ParamChoices};

/// The type of a parameter, in Ansible's argument-spec terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    /// A string (numbers and booleans are converted, as Ansible does).
    Str,
    /// A boolean (`yes`/`no`, `true`/`false`, …).
    Bool,
    /// An integer.
    Int,
    /// A floating-point number.
    Float,
    /// A list (a single string may be accepted as a one-item or comma-separated list).
    List,
    /// A mapping.
    Dict,
    /// A path on the target or the controller.
    Path,
    /// A file mode (octal number or string, or symbolic).
    Mode,
    /// Any value, kept as written.
    Raw,
}

/// What a Rust type tells the description about a parameter of that type.
pub trait ParamValue {
    /// The parameter type.
    const KIND: ParamType;
    /// The values it accepts, when it is a choice (an enum deriving [`ParamChoices`]).
    const CHOICES: &'static [&'static str] = &[];
    /// True when an absent key is fine (`Option<T>`).
    const OPTIONAL: bool = false;
}

macro_rules! param_value {
    ($kind:ident: $($t:ty),*) => {
        $(impl ParamValue for $t {
            const KIND: ParamType = ParamType::$kind;
        })*
    };
}

param_value!(Str: String, &'static str, char);
param_value!(Bool: bool);
param_value!(Int: i8, i16, i32, i64, u8, u16, u32, u64, usize, isize);
param_value!(Float: f32, f64);
param_value!(Path: std::path::PathBuf);
param_value!(Raw: Value);
param_value!(Dict: Map<String, Value>);

impl<T: ParamValue> ParamValue for Option<T> {
    const KIND: ParamType = T::KIND;
    const CHOICES: &'static [&'static str] = T::CHOICES;
    const OPTIONAL: bool = true;
}

impl<T> ParamValue for Vec<T> {
    const KIND: ParamType = ParamType::List;
}

impl<K, V, S> ParamValue for std::collections::HashMap<K, V, S> {
    const KIND: ParamType = ParamType::Dict;
}

impl<K, V> ParamValue for std::collections::BTreeMap<K, V> {
    const KIND: ParamType = ParamType::Dict;
}

impl<K, V, S> ParamValue for indexmap::IndexMap<K, V, S> {
    const KIND: ParamType = ParamType::Dict;
}

/// One parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FieldSpec {
    /// The key.
    pub name: &'static str,
    /// Other keys meaning the same.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub aliases: &'static [&'static str],
    /// The value's type.
    #[serde(rename = "type")]
    pub kind: ParamType,
    /// The values it takes, when it is a choice.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub choices: &'static [&'static str],
    /// Whether the key must be given.
    pub required: bool,
    /// The default, as documentation (what applies when the key is absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<&'static str>,
    /// The doc comment.
    pub description: &'static str,
    /// The value names a controller-side file, searched in this kind of directory (`files`,
    /// `templates`, `vars`) as Ansible does; the static check looks for it before a run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_file: Option<&'static str>,
    /// A flag argument that, when set, makes the file a path on the host instead
    /// (`remote_src`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_unless: Option<&'static str>,
    /// The value is a secret: never shown.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_log: bool,
}

impl FieldSpec {
    /// The key and its aliases.
    pub fn keys(&self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.name).chain(self.aliases.iter().copied())
    }
}

/// A module's parameters: every key, and the rules between keys.
#[derive(Debug)]
pub struct ParamsSpec {
    /// The struct's doc comment.
    pub doc: &'static str,
    /// Its own fields.
    pub fields: &'static [FieldSpec],
    /// Shared option groups flattened into it (file attributes, connection options, …).
    pub groups: &'static [fn() -> &'static ParamsSpec],
    /// Groups of which at least one key must be given.
    pub required_one_of: &'static [&'static [&'static str]],
    /// Groups of which at most one key may be given.
    pub mutually_exclusive: &'static [&'static [&'static str]],
    /// Groups whose keys are given all together or not at all.
    pub required_together: &'static [&'static [&'static str]],
    /// Any further key is accepted (free-form modules such as `set_fact`).
    pub open: bool,
}

/// A parameters type that describes itself: derive it with `#[derive(ModuleParams)]`.
pub trait ModuleParams: DeserializeOwned + Send + Sync {
    /// The description of the keys.
    fn spec() -> &'static ParamsSpec;

    /// The keys (and aliases) of the description that deserializing the type itself rejects as
    /// unknown: empty when description and type agree (a hand-written `Deserialize` or a serde
    /// rename the description missed would show here).
    fn keys_unknown_to_type() -> Vec<String> {
        let mut bad = Vec::new();
        for field in Self::spec().all_fields() {
            for key in field.keys() {
                let args = Value::Object(Map::from_iter([(key.to_string(), Value::Null)]));
                if let Err(e) = crate::module::parse_params::<Self>("", &args) {
                    if e.to_string().contains("unknown field") {
                        bad.push(key.to_string());
                    }
                }
            }
        }
        bad
    }
}

impl ParamsSpec {
    /// Every parameter, the groups' included, in declaration order.
    pub fn all_fields(&self) -> Vec<&'static FieldSpec> {
        let mut out: Vec<&'static FieldSpec> = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect(&self, out: &mut Vec<&'static FieldSpec>) {
        // `fields` is `'static`: re-borrow through it.
        let fields: &'static [FieldSpec] = self.fields;
        out.extend(fields.iter());
        for group in self.groups {
            group().collect(out);
        }
    }

    /// Whether any group or the spec itself accepts any key.
    pub fn is_open(&self) -> bool {
        self.open || self.groups.iter().any(|g| g().is_open())
    }

    /// The parameter a key (or alias) names.
    pub fn field(&self, key: &str) -> Option<&'static FieldSpec> {
        self.all_fields()
            .into_iter()
            .find(|f| f.keys().any(|k| k == key))
    }

    /// Every accepted key (aliases included), sorted; internal `_keys` left out.
    pub fn public_keys(&self) -> Vec<&'static str> {
        let mut keys: Vec<&'static str> = self
            .all_fields()
            .into_iter()
            .flat_map(FieldSpec::keys)
            .filter(|k| !k.starts_with('_'))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    /// Checks the keys of `args` without looking at values (they may be unrendered templates):
    /// no unknown key, required keys present, the rules between keys kept.
    pub fn check(&self, module: &str, args: &Map<String, Value>) -> Result<(), ArgError> {
        let err = |key: Option<&str>, kind| ArgError {
            module: module.to_string(),
            key: key.map(str::to_string),
            kind,
        };
        let fields = self.all_fields();
        if !self.is_open() {
            for key in args.keys() {
                if !fields.iter().any(|f| f.keys().any(|k| k == key)) {
                    let supported = self.public_keys();
                    let suggestion = suggest(key, &supported).map(str::to_string);
                    return Err(err(
                        Some(key),
                        ArgErrorKind::Unsupported {
                            suggestion,
                            supported: supported.iter().map(|k| k.to_string()).collect(),
                        },
                    ));
                }
            }
        }
        let given = |f: &FieldSpec| f.keys().any(|k| args.contains_key(k));
        for field in &fields {
            if field.required && !given(field) {
                return Err(err(
                    Some(field.name),
                    ArgErrorKind::Missing {
                        one_of: vec![field.name.to_string()],
                    },
                ));
            }
        }
        let present = |k: &str| match self.field(k) {
            Some(f) => given(f),
            None => args.contains_key(k),
        };
        for group in self.all_rules(|s| s.required_one_of) {
            if !group.iter().any(|k| present(k)) {
                return Err(err(
                    group.first().copied(),
                    ArgErrorKind::Missing {
                        one_of: group.iter().map(|k| k.to_string()).collect(),
                    },
                ));
            }
        }
        for group in self.all_rules(|s| s.mutually_exclusive) {
            let set: Vec<&str> = group.iter().copied().filter(|k| present(k)).collect();
            if set.len() > 1 {
                return Err(err(
                    set.get(1).copied(),
                    ArgErrorKind::Exclusive {
                        keys: group.iter().map(|k| k.to_string()).collect(),
                    },
                ));
            }
        }
        for group in self.all_rules(|s| s.required_together) {
            let set = group.iter().filter(|k| present(k)).count();
            if set > 0 && set < group.len() {
                let absent = group.iter().find(|k| !present(k)).copied();
                return Err(err(
                    absent,
                    ArgErrorKind::Together {
                        keys: group.iter().map(|k| k.to_string()).collect(),
                    },
                ));
            }
        }
        Ok(())
    }

    fn all_rules(
        &self,
        pick: fn(&ParamsSpec) -> &'static [&'static [&'static str]],
    ) -> Vec<&'static [&'static str]> {
        let mut out = pick(self).to_vec();
        for group in self.groups {
            out.extend(group().all_rules(pick));
        }
        out
    }

    /// The controller-side files `args` name: literal values of the parameters marked
    /// `local_file` (templated values and URLs are only known at run time), unless the
    /// parameter's `unless` flag (`remote_src`) is set.
    pub fn controller_files(
        &self,
        args: &Map<String, Value>,
    ) -> Vec<crate::module::ControllerFile> {
        let mut out = Vec::new();
        for field in self.all_fields() {
            let Some(kind) = field.local_file else {
                continue;
            };
            if let Some(flag) = field.local_unless {
                let off = match args.get(flag) {
                    None | Some(Value::Null) | Some(Value::Bool(false)) => true,
                    Some(Value::String(s)) => matches!(s.as_str(), "no" | "false" | "False"),
                    Some(_) => false,
                };
                if !off {
                    continue;
                }
            }
            for key in field.keys() {
                if let Some(path) = args.get(key).and_then(Value::as_str) {
                    let literal = !crate::template::Templar::is_template(path)
                        && !path.contains("://")
                        && !path.is_empty();
                    if literal {
                        out.push(crate::module::ControllerFile {
                            key: key.to_string(),
                            path: path.to_string(),
                            kind,
                        });
                    }
                }
            }
        }
        out
    }

    /// The machine-readable description: what module docs and editor schemas are made from.
    pub fn describe(&self) -> Value {
        json!({
            "description": self.doc,
            "options": self.all_fields(),
            "required_one_of": self.all_rules(|s| s.required_one_of),
            "mutually_exclusive": self.all_rules(|s| s.mutually_exclusive),
            "required_together": self.all_rules(|s| s.required_together),
            "free_form": self.is_open(),
        })
    }
}

/// The closest of `known` to `key` (at most two edits away), for did-you-mean hints.
pub fn suggest<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (crate::module::strsim_distance(key, k), *k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// An argument a module refuses: which key, and why. Displays as
/// `MODULE: unsupported parameter `dset` (did you mean `dest`?); supported parameters: …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgError {
    /// The module, as its check names it.
    pub module: String,
    /// The key the problem is about (where the static check points), when there is one.
    pub key: Option<String>,
    /// What is wrong.
    pub kind: ArgErrorKind,
}

impl ArgError {
    /// A problem with a value or a combination no spec rule covers.
    pub fn invalid(module: &str, key: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            module: module.to_string(),
            key: key.map(str::to_string),
            kind: ArgErrorKind::Invalid(message.into()),
        }
    }

    /// The message without the module name in front.
    pub fn message(&self) -> String {
        let key = self.key.as_deref().unwrap_or("");
        match &self.kind {
            ArgErrorKind::Unsupported {
                suggestion,
                supported,
            } => {
                let hint = suggestion
                    .as_ref()
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                format!(
                    "unsupported parameter `{key}`{hint}; supported parameters: {}",
                    supported.join(", ")
                )
            }
            ArgErrorKind::Missing { one_of } => missing_text(one_of),
            ArgErrorKind::Exclusive { keys } => {
                format!("parameters are mutually exclusive: {}", keys.join("|"))
            }
            ArgErrorKind::Together { keys } => {
                format!("parameters are required together: {}", keys.join(", "))
            }
            ArgErrorKind::Invalid(message) => message.clone(),
        }
    }
}

impl std::fmt::Display for ArgError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.module, self.message())
    }
}

impl std::error::Error for ArgError {}

/// What is wrong with an argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgErrorKind {
    /// The module does not take the key.
    Unsupported {
        /// The closest supported key.
        suggestion: Option<String>,
        /// Every supported key, sorted.
        supported: Vec<String>,
    },
    /// None of these required keys is given.
    Missing {
        /// The keys of which one is needed.
        one_of: Vec<String>,
    },
    /// More than one of these keys is given.
    Exclusive {
        /// The keys of which at most one may be given.
        keys: Vec<String>,
    },
    /// Some but not all of these keys are given.
    Together {
        /// The keys given together or not at all.
        keys: Vec<String>,
    },
    /// Anything else, in the module's words.
    Invalid(String),
}

fn missing_text(one_of: &[String]) -> String {
    let names: Vec<String> = one_of
        .iter()
        .filter(|k| !k.starts_with('_'))
        .map(|k| format!("`{k}`"))
        .collect();
    if one_of.iter().any(|k| k == "_raw_params") {
        format!(
            "missing required parameter: a command (free form) or one of {}",
            names.join(", ")
        )
    } else if names.len() == 1 {
        format!("missing required parameter {}", names[0])
    } else {
        format!("missing required parameter: one of {}", names.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    /// Shared options, flattened into [`Params`].
    #[derive(Debug, Deserialize, ModuleParams)]
    #[allow(dead_code)]
    struct Shared {
        /// Owner.
        #[serde(default)]
        owner: Option<String>,
    }

    #[derive(Debug, Deserialize, ParamChoices)]
    #[serde(rename_all = "lowercase")]
    enum State {
        Present,
        #[serde(alias = "gone")]
        Absent,
    }

    /// Test params.
    #[derive(Debug, Deserialize, ModuleParams)]
    #[allow(dead_code)]
    #[params(
        mutually_exclusive("src", "content"),
        required_one_of("src", "content")
    )]
    struct Params {
        /// Where.
        #[serde(alias = "path")]
        dest: String,
        /// From where.
        #[serde(default)]
        #[param(local_file = "files", unless = "remote_src")]
        src: Option<String>,
        /// Whether `src` is on the host.
        #[serde(default)]
        remote_src: Option<bool>,
        /// What.
        #[serde(default)]
        content: Option<String>,
        /// State.
        #[serde(default)]
        state: Option<State>,
        #[serde(flatten)]
        shared: Shared,
    }

    fn check(args: Value) -> Result<(), ArgError> {
        Params::spec().check("m", args.as_object().expect("object"))
    }

    #[test]
    fn keys_come_from_the_struct() {
        let spec = Params::spec();
        assert_eq!(
            spec.public_keys(),
            vec![
                "content",
                "dest",
                "owner",
                "path",
                "remote_src",
                "src",
                "state"
            ]
        );
        let state = spec.field("state").expect("state");
        assert_eq!(state.choices, &["present", "absent", "gone"]);
        assert!(spec.field("path").expect("alias").required);
        assert_eq!(spec.field("src").and_then(|f| f.local_file), Some("files"));
        assert_eq!(spec.field("owner").map(|f| f.kind), Some(ParamType::Str));
    }

    #[test]
    fn check_names_the_key() {
        assert!(check(json!({"dest": "/x", "src": "a", "owner": "me"})).is_ok());
        let e = check(json!({"dset": "/x", "src": "a"})).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("dset"));
        assert!(e.to_string().contains("did you mean `dest`"), "{e}");
        let e = check(json!({"src": "a"})).unwrap_err();
        assert_eq!(e.to_string(), "m: missing required parameter `dest`");
        let e = check(json!({"dest": "/x"})).unwrap_err();
        assert!(matches!(e.kind, ArgErrorKind::Missing { .. }), "{e}");
        let e = check(json!({"dest": "/x", "src": "a", "content": "b"})).unwrap_err();
        assert_eq!(
            e.to_string(),
            "m: parameters are mutually exclusive: src|content"
        );
        assert_eq!(e.key.as_deref(), Some("content"));
    }

    #[test]
    fn local_files_are_literal_values_unless_remote() {
        let files = |args: Value| {
            Params::spec()
                .controller_files(args.as_object().expect("object"))
                .into_iter()
                .map(|f| (f.key, f.path, f.kind))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            files(json!({"src": "a.txt", "dest": "/x"})),
            vec![("src".to_string(), "a.txt".to_string(), "files")]
        );
        assert!(files(json!({"src": "{{ f }}", "dest": "/x"})).is_empty());
        assert!(files(json!({"src": "a", "remote_src": true})).is_empty());
        assert_eq!(files(json!({"src": "a", "remote_src": "no"})).len(), 1);
    }

    #[test]
    fn describe_is_json() {
        let d = Params::spec().describe();
        assert_eq!(d["description"], "Test params.");
        assert_eq!(d["options"][0]["name"], "dest");
        assert_eq!(d["options"][0]["aliases"], json!(["path"]));
        assert_eq!(
            d["options"][4]["choices"],
            json!(["present", "absent", "gone"])
        );
        assert_eq!(d["options"][5]["name"], "owner");
    }
}

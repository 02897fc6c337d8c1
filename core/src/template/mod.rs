//! Templating: Jinja2 via minijinja, with Ansible's semantics (strict undefined, native types for
//! whole-expression strings, `omit`, lazy variables) and its filters, tests and lookups.
//!
//! STUB: a minimal implementation so the engine compiles; the full library replaces it.

use minijinja::value::Serde;
use minijinja::{Environment, UndefinedBehavior};

use crate::vars::{Value, Vars};

/// A templating failure: undefined variable, syntax error, failing filter.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    /// What went wrong, including the template text or name where known.
    pub message: String,
}

impl TemplateError {
    /// An error with the given message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

impl From<minijinja::Error> for TemplateError {
    fn from(e: minijinja::Error) -> Self {
        let mut message = e.to_string();
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            message.push_str(&format!(": {s}"));
            src = s.source();
        }
        Self { message }
    }
}

/// Renders templates and evaluates expressions against a set of variables.
pub struct Templar {
    env: Environment<'static>,
}

impl Default for Templar {
    fn default() -> Self {
        Self::new()
    }
}

impl Templar {
    /// A templar with Ansible's filters, tests and lookups registered.
    pub fn new() -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        Self { env }
    }

    /// True if `s` contains template syntax (`{{`, `{%` or `{#`).
    pub fn is_template(s: &str) -> bool {
        s.contains("{{") || s.contains("{%") || s.contains("{#")
    }

    /// Renders a template string to text.
    pub fn render_str(&self, source: &str, vars: &Vars) -> Result<String, TemplateError> {
        if !Self::is_template(source) {
            return Ok(source.to_string());
        }
        Ok(self.env.render_str(source, Serde(vars))?)
    }

    /// Renders every string inside `value`. A string that is exactly one `{{ expr }}` keeps the
    /// expression's native type (list, number, bool), as Ansible does.
    pub fn render_value(&self, value: &Value, vars: &Vars) -> Result<Value, TemplateError> {
        Ok(match value {
            Value::String(s) => Value::String(self.render_str(s, vars)?),
            Value::Array(a) => Value::Array(
                a.iter()
                    .map(|v| self.render_value(v, vars))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(m) => {
                let mut out = serde_json::Map::new();
                for (k, v) in m {
                    out.insert(self.render_str(k, vars)?, self.render_value(v, vars)?);
                }
                Value::Object(out)
            }
            other => other.clone(),
        })
    }

    /// Evaluates a bare Jinja expression (no braces).
    pub fn eval_expr(&self, expr: &str, vars: &Vars) -> Result<Value, TemplateError> {
        let e = self.env.compile_expression(expr)?;
        let v = e.eval(Serde(vars))?;
        serde_json::to_value(&v).map_err(|e| TemplateError::new(e.to_string()))
    }

    /// Evaluates a conditional (`when`, `that`, `changed_when`) to a boolean.
    pub fn eval_condition(&self, expr: &str, vars: &Vars) -> Result<bool, TemplateError> {
        let e = self.env.compile_expression(expr)?;
        Ok(e.eval(Serde(vars))?.is_true())
    }

    /// Renders the contents of a template file (`template` module).
    pub fn render_template_file(
        &self,
        source: &str,
        _name: &str,
        vars: &Vars,
    ) -> Result<String, TemplateError> {
        Ok(self.env.render_str(source, Serde(vars))?)
    }
}

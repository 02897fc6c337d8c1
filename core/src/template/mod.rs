//! Templating: Jinja2 via minijinja, with Ansible's semantics.
//!
//! - Strict undefined: `{{ missing }}` and `{% if missing %}` fail with "'missing' is undefined";
//!   `default()`/`d()` and `is defined` work.
//! - Native types: a template whose whole output is one expression keeps that expression's type
//!   (list, dict, int, bool, None), as ansible-core 2.19 does; anything else renders to text.
//! - `omit`: map entries (and list items) that render to `omit` are dropped by
//!   [`Templar::render_value`].
//! - Lazy variables: variable values that contain templates are rendered when referenced,
//!   recursively, with loop detection; the caller's `&Vars` is read in place, not copied.
//! - `!unsafe` values (see [`crate::vars::unsafe_text`]) are never templated.
//! - Python's `%` string formatting (`'%s-%d' % (a, b)`) is supported by rewriting
//!   `'literal' % operand` into a filter call before compiling (see `percent.rs`); the left
//!   side must be a string literal.
//! - Compiled templates are cached by source text (bounded), so repeated renders do not re-parse.

mod chain;
mod convert;
mod crypt;
mod engine;
mod error;
mod filters;
mod fqcn;
pub(crate) use filters::home_relative;

/// Python's `str()` of a JSON value (`'%s' % value`), for messages that quote values as
/// ansible-core's Python code does.
pub(crate) fn py_str_json(v: &serde_json::Value) -> String {
    convert::py_str(&convert::json_to_value(v))
}
mod header;
mod lazy;
mod literals;
mod lookups;
mod methods;
mod native;
mod pep440;
mod percent;
mod pyformat;
mod pymethods;
pub mod python_text;
mod regions;
mod tests;
mod version;

#[cfg(test)]
mod unit_tests;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use minijinja::value::Value as JinjaValue;

use crate::vars::{as_unsafe_text, as_vault_text, Value, Vars};

use engine::{Engine, SyntaxKey};
pub use error::{TemplateError, TemplateErrorKind};
use lazy::{Omit, ScopeGuard};

/// True if `s` contains template syntax (`{{`, `{%` or `{#`).
pub(crate) fn is_template_text(s: &str) -> bool {
    let b = s.as_bytes();
    b.windows(2)
        .any(|w| w[0] == b'{' && matches!(w[1], b'{' | b'%' | b'#'))
}

/// Settings of a [`Templar`].
#[derive(Debug, Clone)]
pub struct TemplateOptions {
    /// Accept non-boolean conditional results using Python truthiness (ansible-core's
    /// `ALLOW_BROKEN_CONDITIONALS`); off by default, as in ansible-core 2.19.
    pub allow_broken_conditionals: bool,
    /// About how many compiled templates each cache keeps before it is reset.
    pub cache_limit: usize,
}

impl Default for TemplateOptions {
    fn default() -> Self {
        Self {
            allow_broken_conditionals: false,
            cache_limit: 4096,
        }
    }
}

/// Where a render happens: controller paths for file-based lookups and includes, and a
/// location for error messages.
#[derive(Debug, Clone, Default)]
pub struct TemplateContext {
    /// Base directories searched, in order, for relative paths of `file`, `template`,
    /// `fileglob`, `first_found`, `lines`-free lookups and `{% include %}`: for each base `B`
    /// and lookup subdirectory `S` (`files`, `templates`, `vars`), `B/S/name` then `B/name`.
    /// Typically: the role's directory, then the playbook's directory.
    pub search_paths: Vec<PathBuf>,
    /// Where the template comes from (`playbook.yml:12:5`), put on errors.
    pub location: Option<String>,
    /// Keep `!unsafe` markers in [`Templar::render_value`] output instead of unwrapping them
    /// to plain strings (for values stored back into variables, e.g. `set_fact`).
    pub preserve_unsafe: bool,
    /// Fail on any lookup instead of running it: for rendering ahead of time, when a lookup's
    /// side effects (running a command, creating a password file) must not happen early.
    pub no_lookups: bool,
}

impl TemplateContext {
    /// A context that searches `paths` for lookup files.
    pub fn with_search_paths(paths: Vec<PathBuf>) -> Self {
        Self {
            search_paths: paths,
            ..Self::default()
        }
    }

    /// Finds a lookup file: absolute paths as given, else `base/subdir/name` or `base/name`
    /// for each search path, else `name` relative to the current directory.
    pub fn find_file(&self, subdir: &str, name: &str) -> Option<PathBuf> {
        let p = Path::new(name);
        if p.is_absolute() {
            return p.exists().then(|| p.to_path_buf());
        }
        for base in &self.search_paths {
            if !subdir.is_empty() {
                let c = base.join(subdir).join(name);
                if c.exists() {
                    return Some(c);
                }
            }
            let c = base.join(name);
            if c.exists() {
                return Some(c);
            }
        }
        p.exists().then(|| p.to_path_buf())
    }
}

/// Options of the `template` module for rendering a file (Jinja2 environment settings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateFileOptions {
    /// Remove the first newline after a block tag (Ansible's default: true).
    pub trim_blocks: bool,
    /// Strip whitespace before a block tag on its line (default: false).
    pub lstrip_blocks: bool,
    /// Keep a final newline of the template (Jinja2's option; off unless a `#jinja2:` header
    /// sets it: the template module restores trailing newlines after rendering instead).
    pub keep_trailing_newline: bool,
    /// Line ending written for newlines of the template text (`\n`, `\r\n`, `\r`).
    pub newline_sequence: String,
    /// Start of a block tag (`{%`).
    pub block_start_string: String,
    /// End of a block tag (`%}`).
    pub block_end_string: String,
    /// Start of an expression (`{{`).
    pub variable_start_string: String,
    /// End of an expression (`}}`).
    pub variable_end_string: String,
    /// Start of a comment (`{#`).
    pub comment_start_string: String,
    /// End of a comment (`#}`).
    pub comment_end_string: String,
    /// Prefix making a whole line a block statement (`: if x`), when set.
    pub line_statement_prefix: Option<String>,
    /// Prefix making the rest of a line a comment, when set.
    pub line_comment_prefix: Option<String>,
}

impl Default for TemplateFileOptions {
    fn default() -> Self {
        Self {
            trim_blocks: true,
            lstrip_blocks: false,
            keep_trailing_newline: false,
            newline_sequence: "\n".into(),
            block_start_string: "{%".into(),
            block_end_string: "%}".into(),
            variable_start_string: "{{".into(),
            variable_end_string: "}}".into(),
            comment_start_string: "{#".into(),
            comment_end_string: "#}".into(),
            line_statement_prefix: None,
            line_comment_prefix: None,
        }
    }
}

/// Renders templates and evaluates expressions against a set of variables.
#[derive(Clone)]
pub struct Templar {
    engine: Arc<Engine>,
    options: TemplateOptions,
    default_context: Arc<TemplateContext>,
}

impl Default for Templar {
    fn default() -> Self {
        Self::new()
    }
}

impl Templar {
    /// A templar with Ansible's filters, tests and lookups registered.
    pub fn new() -> Self {
        Self::with_options(TemplateOptions::default())
    }

    /// A templar with the given options.
    pub fn with_options(options: TemplateOptions) -> Self {
        Self {
            engine: Arc::new(Engine::new(options.cache_limit)),
            options,
            default_context: Arc::new(TemplateContext::default()),
        }
    }

    /// True if `s` contains template syntax (`{{`, `{%` or `{#`).
    pub fn is_template(s: &str) -> bool {
        is_template_text(s)
    }

    fn scope(&self, vars: &Vars, ctx: Option<&TemplateContext>) -> ScopeGuard {
        let context = match ctx {
            Some(c) => Arc::new(c.clone()),
            None => self.default_context.clone(),
        };
        ScopeGuard::new(vars, self.engine.clone(), context)
    }

    fn error(
        &self,
        guard: &ScopeGuard,
        err: &minijinja::Error,
        source: &str,
        ctx: Option<&TemplateContext>,
    ) -> TemplateError {
        let mut e = TemplateError::from_jinja(err, source);
        if e.kind == TemplateErrorKind::Undefined {
            if let Some(inner) = guard.scope().take_inner_undefined() {
                e.message = format!("{inner}. Template: {}", error::shorten(source));
            }
        }
        if let Some(loc) = ctx.and_then(|c| c.location.clone()) {
            e.location = Some(loc);
        }
        e
    }

    /// Renders a template string to text.
    pub fn render_str(&self, source: &str, vars: &Vars) -> Result<String, TemplateError> {
        self.render_str_in(source, vars, None)
    }

    /// Renders a template string to text with a context (lookup search paths, error location).
    pub fn render_str_in(
        &self,
        source: &str,
        vars: &Vars,
        ctx: Option<&TemplateContext>,
    ) -> Result<String, TemplateError> {
        if !is_template_text(source) {
            return Ok(source.to_string());
        }
        let guard = self.scope(vars, ctx);
        self.engine
            .render_in_scope(source, &SyntaxKey::inline(), guard.scope())
            .map(|r| r.text)
            .map_err(|e| self.error(&guard, &e, source, ctx))
    }

    /// Renders every string inside `value`. A string that is exactly one `{{ expr }}` keeps the
    /// expression's native type (list, number, bool), as Ansible does. Map keys are rendered
    /// too; entries and list items that render to `omit` are dropped. A top-level string that
    /// renders to `omit` is an error of kind [`TemplateErrorKind::Omitted`].
    pub fn render_value(&self, value: &Value, vars: &Vars) -> Result<Value, TemplateError> {
        self.render_value_in(value, vars, None)
    }

    /// [`Templar::render_value`] with a context.
    pub fn render_value_in(
        &self,
        value: &Value,
        vars: &Vars,
        ctx: Option<&TemplateContext>,
    ) -> Result<Value, TemplateError> {
        let guard = self.scope(vars, ctx);
        let preserve = ctx.is_some_and(|c| c.preserve_unsafe);
        match self.render_value_rec(value, &guard, ctx, preserve)? {
            Some(v) => Ok(v),
            None => Err(TemplateError::with_kind(
                TemplateErrorKind::Omitted,
                "a template resolved to omit where a value is required",
            )),
        }
    }

    fn render_value_rec(
        &self,
        value: &Value,
        guard: &ScopeGuard,
        ctx: Option<&TemplateContext>,
        preserve_unsafe: bool,
    ) -> Result<Option<Value>, TemplateError> {
        Ok(Some(match value {
            Value::String(s) => {
                if !is_template_text(s) {
                    return Ok(Some(value.clone()));
                }
                let v = self
                    .engine
                    .render_native_in_scope(s, guard.scope())
                    .map_err(|e| self.error(guard, &e, s, ctx))?;
                return convert::value_to_json(&v).map_err(|e| self.error(guard, &e, s, ctx));
            }
            Value::Array(a) => {
                let mut out = Vec::with_capacity(a.len());
                for item in a {
                    if let Some(v) = self.render_value_rec(item, guard, ctx, preserve_unsafe)? {
                        out.push(v);
                    }
                }
                Value::Array(out)
            }
            Value::Object(m) => {
                if let Some(ciphertext) = as_vault_text(value) {
                    let plain = crate::vault::decrypt_value(ciphertext).map_err(|e| {
                        TemplateError::with_kind(TemplateErrorKind::Other, e.to_string())
                    })?;
                    return Ok(Some(Value::String(plain)));
                }
                if let Some(text) = as_unsafe_text(value) {
                    return Ok(Some(if preserve_unsafe {
                        value.clone()
                    } else {
                        Value::String(text.to_string())
                    }));
                }
                let mut out = serde_json::Map::with_capacity(m.len());
                for (k, v) in m {
                    let key = if is_template_text(k) {
                        self.engine
                            .render_in_scope(k, &SyntaxKey::inline(), guard.scope())
                            .map_err(|e| self.error(guard, &e, k, ctx))?
                            .text
                    } else {
                        k.clone()
                    };
                    if let Some(v) = self.render_value_rec(v, guard, ctx, preserve_unsafe)? {
                        out.insert(key, v);
                    }
                }
                Value::Object(out)
            }
            other => other.clone(),
        }))
    }

    /// Root names of the variables a template string reads without defining them (globals such
    /// as `lookup` or `omit` excluded). `None` if the text does not compile; empty when it has no
    /// template syntax. Used by the static check for undefined variables.
    pub fn referenced_variables(&self, source: &str) -> Option<std::collections::BTreeSet<String>> {
        if !is_template_text(source) {
            return Some(Default::default());
        }
        self.engine.undeclared_names(source)
    }

    /// [`Templar::referenced_variables`] for a bare conditional (`when`), which may itself be
    /// wrapped in `{{ }}`.
    pub fn condition_variables(&self, expr: &str) -> Option<std::collections::BTreeSet<String>> {
        if is_template_text(expr) {
            return self.engine.undeclared_names(expr);
        }
        self.engine
            .undeclared_names(&format!("{{{{ ({}\n) }}}}", expr.trim()))
    }

    /// Evaluates a bare Jinja expression (no braces) to a value.
    pub fn eval_expr(&self, expr: &str, vars: &Vars) -> Result<Value, TemplateError> {
        self.eval_expr_in(expr, vars, None)
    }

    /// [`Templar::eval_expr`] with a context.
    pub fn eval_expr_in(
        &self,
        expr: &str,
        vars: &Vars,
        ctx: Option<&TemplateContext>,
    ) -> Result<Value, TemplateError> {
        let guard = self.scope(vars, ctx);
        let v = self.eval_in_scope(expr, &guard, ctx)?;
        convert::value_to_json(&v)
            .map_err(|e| self.error(&guard, &e, expr, ctx))?
            .ok_or_else(|| {
                TemplateError::with_kind(
                    TemplateErrorKind::Omitted,
                    format!("expression resolved to omit: {}", error::shorten(expr)),
                )
            })
    }

    fn eval_in_scope(
        &self,
        expr: &str,
        guard: &ScopeGuard,
        ctx: Option<&TemplateContext>,
    ) -> Result<JinjaValue, TemplateError> {
        let source = format!("{{{{ ({}\n) }}}}", expr.trim());
        self.engine
            .eval_native_in_scope(&source, guard.scope())
            .map_err(|e| self.error(guard, &e, expr, ctx))
    }

    /// Evaluates a conditional (`when`, `that`, `changed_when`) to a boolean.
    pub fn eval_condition(&self, expr: &str, vars: &Vars) -> Result<bool, TemplateError> {
        self.eval_condition_in(expr, vars, None)
    }

    /// [`Templar::eval_condition`] with a context. As in ansible-core 2.19, the result must be
    /// a boolean unless [`TemplateOptions::allow_broken_conditionals`] is set; a conditional
    /// wrapped in `{{ }}` is rendered first and its result evaluated again (deprecated in
    /// Ansible, still accepted).
    pub fn eval_condition_in(
        &self,
        expr: &str,
        vars: &Vars,
        ctx: Option<&TemplateContext>,
    ) -> Result<bool, TemplateError> {
        let guard = self.scope(vars, ctx);
        let condition_error = |e: TemplateError| TemplateError {
            message: format!("error while evaluating conditional: {}", e.message),
            ..e
        };
        let value = if is_template_text(expr) {
            let rendered = self
                .engine
                .render_native_in_scope(expr, guard.scope())
                .map_err(|e| condition_error(self.error(&guard, &e, expr, ctx)))?;
            match rendered.as_str() {
                Some(text) => {
                    let text = text.to_string();
                    self.eval_in_scope(&text, &guard, ctx)
                        .map_err(condition_error)?
                }
                None => rendered,
            }
        } else {
            self.eval_in_scope(expr, &guard, ctx)
                .map_err(condition_error)?
        };
        if value.kind() == minijinja::value::ValueKind::Bool {
            return Ok(value.is_true());
        }
        if self.options.allow_broken_conditionals {
            return Ok(value.is_true() && value.downcast_object_ref::<Omit>().is_none());
        }
        let mut e = TemplateError::with_kind(
            TemplateErrorKind::BrokenConditional,
            format!(
                "Conditional result ({}) was derived from value of type '{}'. Conditionals must \
                 have a boolean result. Conditional: {}",
                if value.is_true() { "True" } else { "False" },
                convert::py_type_name(&value),
                error::shorten(expr)
            ),
        );
        e.location = ctx.and_then(|c| c.location.clone());
        Err(e)
    }

    /// Renders the contents of a template file (`template` module) with Ansible's defaults
    /// (`trim_blocks`, trailing newlines restored) and the `#jinja2:` first-line overrides.
    pub fn render_template_file(
        &self,
        source: &str,
        name: &str,
        vars: &Vars,
    ) -> Result<String, TemplateError> {
        self.render_template_file_with(source, name, vars, &TemplateFileOptions::default(), None)
    }

    /// Renders a template file with explicit options (the `template` module's parameters;
    /// a `#jinja2:` header in the file overrides them) and a context.
    pub fn render_template_file_with(
        &self,
        source: &str,
        name: &str,
        vars: &Vars,
        options: &TemplateFileOptions,
        ctx: Option<&TemplateContext>,
    ) -> Result<String, TemplateError> {
        let (options, body) = header::apply_header(source, options)
            .map_err(|m| TemplateError::new(format!("{name}: {m}")))?;
        let body = normalize_newlines(body);
        let key = SyntaxKey::for_file(&options);
        let guard = self.scope(vars, ctx);
        let rendered = self
            .engine
            .render_in_scope(&body, &key, guard.scope())
            .map_err(|e| {
                let mut err = self.error(&guard, &e, "", ctx);
                err.message = format!(
                    "{}{}",
                    error_head(&err.message),
                    e.line()
                        .map(|l| format!(" (in {name}, line {l})"))
                        .unwrap_or_else(|| format!(" (in {name})"))
                );
                err
            })?;
        let text = restore_trailing_newlines(&body, rendered.text);
        Ok(if options.newline_sequence == "\n" {
            text
        } else {
            text.replace('\n', &options.newline_sequence)
        })
    }
}

/// The message without the trailing `. Template: "..."` quote (file templates name the file).
fn error_head(message: &str) -> &str {
    match message.rfind(". Template: ") {
        Some(i) => &message[..i],
        None => message,
    }
}

/// ansible-core's post-render step for templates: Jinja2 (without `keep_trailing_newline`) drops
/// the source's final newline and `trim_blocks` may eat newlines after a last block tag, so
/// newlines are appended until the output ends with as many as the source does.
fn restore_trailing_newlines(source: &str, mut text: String) -> String {
    let count = |s: &str| s.bytes().rev().take_while(|b| *b == b'\n').count();
    let missing = count(source).saturating_sub(count(&text));
    text.extend(std::iter::repeat_n('\n', missing));
    text
}

/// Converts `\r\n` and `\r` line endings of template text to `\n`, as Jinja2's lexer does.
fn normalize_newlines(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('\r') {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
}

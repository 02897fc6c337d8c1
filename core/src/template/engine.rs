//! The minijinja environments behind a [`super::Templar`]: registration of Ansible's filters,
//! tests and lookups, a bounded cache of compiled templates keyed by source text, and native
//! (type-preserving) rendering.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use minijinja::value::{Value, ValueKind};
use minijinja::{AutoEscape, Environment, Error, ErrorKind, State, UndefinedBehavior};

use super::chain::chains_undefined;
use super::convert::{py_float, py_str};
use super::fqcn::rewrite_fqcn;
use super::lazy::{current_scope, Omit, RootVars, Scope};
use super::literals::rewrite_literals;
use super::native::NativeCapture;
use super::percent::rewrite_percent;
use super::{filters, lookups, tests, TemplateFileOptions};

/// Prefix of loader names that carry the template source inline (the cache key).
const INLINE_PREFIX: char = '\u{1}';

/// Delimiters and whitespace rules of one environment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct SyntaxKey {
    pub trim_blocks: bool,
    pub lstrip_blocks: bool,
    pub keep_trailing_newline: bool,
    pub block: (String, String),
    pub variable: (String, String),
    pub comment: (String, String),
    /// Line statement and line comment prefixes (`#jinja2:` header options).
    pub line_prefixes: (Option<String>, Option<String>),
    /// Take the text of string literals inside `{{ }}` as written (ansible-core's
    /// `escape_backslashes`, on for templates in variables and task arguments); see
    /// [`super::literals`].
    pub escape_backslashes: bool,
    /// Build the environment with chainable undefined values (see [`chains_undefined`]).
    pub chainable: bool,
}

impl SyntaxKey {
    /// Syntax for template strings: Ansible's environment (`trim_blocks` on), with trailing
    /// newlines kept (Ansible preserves them: `content: "{{ x }}\n"` ends in a newline).
    pub(crate) fn inline() -> Self {
        Self {
            trim_blocks: true,
            lstrip_blocks: false,
            keep_trailing_newline: true,
            block: ("{%".into(), "%}".into()),
            variable: ("{{".into(), "}}".into()),
            comment: ("{#".into(), "#}".into()),
            line_prefixes: (None, None),
            escape_backslashes: true,
            chainable: false,
        }
    }

    /// Syntax for bare expressions (`when`, `debug: var=`): Jinja2's string-literal decoding,
    /// as ansible-core compiles expressions without `escape_backslashes`.
    pub(crate) fn expression() -> Self {
        Self {
            escape_backslashes: false,
            ..Self::inline()
        }
    }

    /// The syntax of a template file rendered with `opts`.
    pub(crate) fn for_file(opts: &TemplateFileOptions) -> Self {
        Self {
            trim_blocks: opts.trim_blocks,
            lstrip_blocks: opts.lstrip_blocks,
            keep_trailing_newline: opts.keep_trailing_newline,
            block: (
                opts.block_start_string.clone(),
                opts.block_end_string.clone(),
            ),
            variable: (
                opts.variable_start_string.clone(),
                opts.variable_end_string.clone(),
            ),
            comment: (
                opts.comment_start_string.clone(),
                opts.comment_end_string.clone(),
            ),
            line_prefixes: (
                opts.line_statement_prefix.clone(),
                opts.line_comment_prefix.clone(),
            ),
            escape_backslashes: false,
            chainable: false,
        }
    }
}

/// One environment plus the count of templates compiled into its cache.
struct CachedEnv {
    env: Arc<Environment<'static>>,
    loads: Arc<AtomicUsize>,
}

/// Compiled-template caches and environments, shared by a templar and its render scopes.
pub(crate) struct Engine {
    envs: RwLock<HashMap<SyntaxKey, CachedEnv>>,
    cache_limit: usize,
    rebuild_lock: Mutex<()>,
}

/// What a render produced: the text, and the single native value if the output was exactly
/// one expression.
pub(crate) struct Rendered {
    pub text: String,
    pub native: Option<Value>,
}

impl Rendered {
    /// The native value if there is one, else the text.
    pub(crate) fn into_value(self) -> Value {
        match self.native {
            Some(v) => v,
            None => Value::from(self.text),
        }
    }
}

impl Engine {
    /// An engine whose caches hold at most about `cache_limit` compiled templates per syntax.
    pub(crate) fn new(cache_limit: usize) -> Self {
        Self {
            envs: RwLock::new(HashMap::new()),
            cache_limit: cache_limit.max(16),
            rebuild_lock: Mutex::new(()),
        }
    }

    /// The environment for `key`, (re)built when missing or when its cache is full.
    fn env_for(&self, key: &SyntaxKey) -> Result<Arc<Environment<'static>>, Error> {
        if let Ok(envs) = self.envs.read() {
            if let Some(c) = envs.get(key) {
                if c.loads.load(Ordering::Relaxed) < self.cache_limit {
                    return Ok(c.env.clone());
                }
            }
        }
        let _building = self.rebuild_lock.lock();
        if let Ok(envs) = self.envs.read() {
            if let Some(c) = envs.get(key) {
                if c.loads.load(Ordering::Relaxed) < self.cache_limit {
                    return Ok(c.env.clone());
                }
            }
        }
        let loads = Arc::new(AtomicUsize::new(0));
        let env = Arc::new(build_env(key, loads.clone())?);
        if let Ok(mut envs) = self.envs.write() {
            envs.insert(
                key.clone(),
                CachedEnv {
                    env: env.clone(),
                    loads,
                },
            );
        }
        Ok(env)
    }

    /// Names of the variables `source` (an inline template) reads without defining them, with
    /// the environment's globals (`lookup`, `range`, `omit`, …) left out. `None` if it does not
    /// compile.
    pub(crate) fn undeclared_names(
        &self,
        source: &str,
    ) -> Option<std::collections::BTreeSet<String>> {
        let env = self.env_for(&SyntaxKey::inline()).ok()?;
        let mut name = String::with_capacity(source.len() + 1);
        name.push(INLINE_PREFIX);
        name.push_str(source);
        let tmpl = env.get_template(&name).ok()?;
        let globals: std::collections::HashSet<&str> = env.globals().map(|(n, _)| n).collect();
        Some(
            tmpl.undeclared_variables(false)
                .into_iter()
                .filter(|n| !globals.contains(n.as_str()))
                .collect(),
        )
    }

    /// Renders an inline template (Jinja2 defaults) against a scope, keeping native types.
    pub(crate) fn render_native_in_scope(
        &self,
        source: &str,
        scope: &Arc<Scope>,
    ) -> Result<Value, Error> {
        Ok(self
            .render_in_scope(source, &SyntaxKey::inline(), scope)?
            .into_value())
    }

    /// Evaluates a bare-expression template (`{{ (expr) }}`) against a scope, keeping native
    /// types, with Jinja2's string-literal decoding (no `escape_backslashes`).
    pub(crate) fn eval_native_in_scope(
        &self,
        source: &str,
        scope: &Arc<Scope>,
    ) -> Result<Value, Error> {
        Ok(self
            .render_in_scope(source, &SyntaxKey::expression(), scope)?
            .into_value())
    }

    /// Renders `source` with the syntax `key` against a scope.
    pub(crate) fn render_in_scope(
        &self,
        source: &str,
        key: &SyntaxKey,
        scope: &Arc<Scope>,
    ) -> Result<Rendered, Error> {
        match self.render_with(source, key, scope) {
            // ansible-core carries an undefined value along attribute and item lookups
            // (`nope.x | default(1)`, `nope.x is defined`); minijinja's strict mode fails at the
            // lookup. Such a template is evaluated again with chainable undefined values; if
            // that fails too (the undefined value was used), the strict error stands.
            Err(e) if !key.chainable && chains_undefined(source, &e) => {
                let chained = SyntaxKey {
                    chainable: true,
                    ..key.clone()
                };
                self.render_with(source, &chained, scope).map_err(|_| e)
            }
            other => other,
        }
    }

    fn render_with(
        &self,
        source: &str,
        key: &SyntaxKey,
        scope: &Arc<Scope>,
    ) -> Result<Rendered, Error> {
        let env = self.env_for(key)?;
        let mut name = String::with_capacity(source.len() + 1);
        name.push(INLINE_PREFIX);
        name.push_str(source);
        let tmpl = env.get_template(&name)?;
        let captured = tmpl.render_captured(Value::from_object(RootVars {
            scope: scope.clone(),
        }))?;
        let native = match captured.state().get_extension::<NativeCapture>() {
            Some(cap) if cap.count == 1 && captured.output() == cap.first_text => cap.first.clone(),
            // Jinja2 drops one trailing newline of a template, so `{{ 1 }}\n` is still the one
            // expression (a string keeps the newline, as Ansible preserves it); any other text
            // after it, even a space, makes the result a string.
            Some(cap)
                if cap.count == 1
                    && captured
                        .output()
                        .strip_prefix(cap.first_text.as_str())
                        .is_some_and(|rest| rest == "\n")
                    && cap
                        .first
                        .as_ref()
                        .is_some_and(|v| v.kind() != ValueKind::String) =>
            {
                cap.first.clone()
            }
            Some(cap) if cap.count == 0 && cap.saw_none && captured.output().is_empty() => {
                Some(Value::from(()))
            }
            _ => None,
        };
        Ok(Rendered {
            text: captured.into_output(),
            native,
        })
    }
}

/// Builds an environment with Ansible's behaviour for the given syntax.
fn build_env(key: &SyntaxKey, loads: Arc<AtomicUsize>) -> Result<Environment<'static>, Error> {
    let mut env = Environment::new();
    env.set_undefined_behavior(if key.chainable {
        UndefinedBehavior::Chainable
    } else {
        UndefinedBehavior::Strict
    });
    env.set_debug(true);
    env.set_recursion_limit(crate::limits::max_template_recursion());
    env.set_auto_escape_callback(|_| AutoEscape::None);
    let mut syntax = minijinja::syntax::SyntaxConfig::builder();
    syntax
        .block_delimiters(key.block.0.clone(), key.block.1.clone())
        .variable_delimiters(key.variable.0.clone(), key.variable.1.clone())
        .comment_delimiters(key.comment.0.clone(), key.comment.1.clone())
        .trim_blocks(key.trim_blocks)
        .lstrip_blocks(key.lstrip_blocks)
        .keep_trailing_newline(key.keep_trailing_newline);
    if let Some(prefix) = &key.line_prefixes.0 {
        syntax.line_statement_prefix(prefix.clone());
    }
    if let Some(prefix) = &key.line_prefixes.1 {
        syntax.line_comment_prefix(prefix.clone());
    }
    let syntax = syntax.build()?;
    env.set_syntax(syntax);
    let delims = key.clone();
    env.set_loader(move |name: &str| {
        loads.fetch_add(1, Ordering::Relaxed);
        if let Some(src) = name.strip_prefix(INLINE_PREFIX) {
            return prepare_source(src, &delims, delims.escape_backslashes).map(Some);
        }
        match crate::limits::read_text(std::path::Path::new(name)) {
            // Included and imported templates never get `escape_backslashes`, as in Ansible.
            Ok(text) => prepare_source(&text, &delims, false).map(Some),
            Err(crate::limits::ReadError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                Ok(None)
            }
            Err(e) => Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("could not read template {name}: {}", e.reason()),
            )),
        }
    });
    env.set_path_join_callback(join_include_path);
    env.set_formatter(format_output);
    env.set_unknown_method_callback(super::methods::unknown_method);
    env.add_global("omit", Value::from_object(Omit));
    filters::register(&mut env);
    tests::register(&mut env);
    lookups::register(&mut env);
    Ok(env)
}

/// The source minijinja compiles: string literals decoded as Jinja2 decodes them, `%`
/// formatting rewritten to a filter call, builtin filters and tests named without their
/// collection.
fn prepare_source(
    src: &str,
    syntax: &SyntaxKey,
    escape_backslashes: bool,
) -> Result<String, Error> {
    let decoded = rewrite_literals(src, syntax, escape_backslashes)
        .map_err(|m| Error::new(ErrorKind::SyntaxError, m))?;
    let formatted = rewrite_percent(&decoded, syntax);
    Ok(rewrite_fqcn(&formatted, syntax).into_owned())
}

/// Resolves `{% include %}`/`{% import %}` names against the caller's template search paths.
fn join_include_path<'s>(name: &'s str, _parent: &'s str) -> Cow<'s, str> {
    if name.starts_with('/') {
        return Cow::Borrowed(name);
    }
    if let Some(scope) = current_scope() {
        if let Some(p) = scope.context.find_file("templates", name) {
            return Cow::Owned(p.to_string_lossy().into_owned());
        }
    }
    Cow::Borrowed(name)
}

/// Writes one `{{ }}` value the way Ansible does (Python `str()`, `None` as nothing) and records
/// it for native-type detection.
fn format_output(
    out: &mut minijinja::Output,
    state: &mut State,
    value: &Value,
) -> Result<(), Error> {
    let text = if value.is_none() || value.downcast_object_ref::<Omit>().is_some() {
        String::new()
    } else if value.is_undefined() && state.undefined_behavior() == UndefinedBehavior::Strict {
        // Strict mode stops ordinary undefined values before the formatter: what reaches it is
        // the silent undefined of an `{{ x if cond }}` without `else`, which Jinja2 renders as ''.
        String::new()
    } else if value.is_undefined() {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            "an undefined value was rendered",
        ));
    } else if value.kind() == minijinja::value::ValueKind::Number && !value.is_integer() {
        py_float(f64::try_from(value.clone()).unwrap_or(f64::NAN))
    } else {
        py_str(value)
    };
    let addr = out as *const minijinja::Output as usize;
    state
        .get_or_insert_extension_with(NativeCapture::default)
        .record(addr, value, &text);
    out.write_str(&text).map_err(Error::from)
}

//! Lazy, zero-copy access to the caller's variables from templates.
//!
//! A render call borrows `&Vars`. Instead of converting the whole map into minijinja values,
//! templates see [`RootVars`] / [`JsonNode`] objects that point into the borrowed map and convert
//! values only when read. String values that contain templates are rendered when first
//! referenced (recursively, with loop detection) and cached for the rest of the call.
//!
//! Soundness: the pointers are only dereferenced while the [`Scope`] is alive, which is checked
//! under a read lock; [`ScopeGuard`] clears the scope (write lock) before the borrow of `&Vars`
//! ends, so objects that escape the call see a dead scope instead of a dangling pointer.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};

use minijinja::value::{Enumerator, Object, ObjectRepr, Value};
use minijinja::{Error, ErrorKind};

use crate::vars::{as_unsafe_text, as_vault_text, Map, Value as Json, Vars};

use super::convert::number_to_value;
use super::engine::Engine;
use super::error::RECURSION_MARKER;
use super::{is_template_text, TemplateContext};

/// What `{{ omit }}` renders to inside a larger string.
pub(crate) const OMIT_PLACEHOLDER: &str = "__omit_place_holder__";

/// The `omit` global: a map entry whose value renders to it is dropped.
#[derive(Debug)]
pub(crate) struct Omit;

impl Object for Omit {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(OMIT_PLACEHOLDER)
    }
}

/// A pointer to data borrowed for the duration of one render call.
struct Ptr<T>(*const T);

impl<T> Clone for Ptr<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Ptr<T> {}
// SAFETY: the pointee is only read (never mutated) while the owning scope is alive; see the
// module documentation.
unsafe impl<T> Send for Ptr<T> {}
// SAFETY: as above; shared reads of immutable data are thread-safe.
unsafe impl<T> Sync for Ptr<T> {}

/// The variables of one render call, plus its per-call caches.
pub(crate) struct Scope {
    vars: Ptr<Vars>,
    /// (alive, number of readers currently dereferencing pointers).
    liveness: Mutex<(bool, usize)>,
    readers_done: Condvar,
    rendered: Mutex<HashMap<usize, Value>>,
    active: Mutex<Vec<usize>>,
    inner_undefined: Mutex<Option<String>>,
    pub(crate) engine: Arc<Engine>,
    pub(crate) context: Arc<TemplateContext>,
}

impl std::fmt::Debug for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scope")
    }
}

thread_local! {
    static SCOPES: RefCell<Vec<Arc<Scope>>> = const { RefCell::new(Vec::new()) };
}

/// The scope of the innermost render call on this thread.
pub(crate) fn current_scope() -> Option<Arc<Scope>> {
    SCOPES.with(|s| s.borrow().last().cloned())
}

/// Keeps a scope alive and current for one render call; kills it on drop.
pub(crate) struct ScopeGuard {
    scope: Arc<Scope>,
}

impl ScopeGuard {
    /// Opens a scope over `vars`, valid until the guard drops.
    pub(crate) fn new(vars: &Vars, engine: Arc<Engine>, context: Arc<TemplateContext>) -> Self {
        let scope = Arc::new(Scope {
            vars: Ptr(vars as *const Vars),
            liveness: Mutex::new((true, 0)),
            readers_done: Condvar::new(),
            rendered: Mutex::new(HashMap::new()),
            active: Mutex::new(Vec::new()),
            inner_undefined: Mutex::new(None),
            engine,
            context,
        });
        SCOPES.with(|s| s.borrow_mut().push(scope.clone()));
        Self { scope }
    }

    /// The scope.
    pub(crate) fn scope(&self) -> &Arc<Scope> {
        &self.scope
    }
}

impl Drop for ScopeGuard {
    fn drop(&mut self) {
        SCOPES.with(|s| {
            let mut stack = s.borrow_mut();
            if let Some(pos) = stack.iter().rposition(|x| Arc::ptr_eq(x, &self.scope)) {
                stack.remove(pos);
            }
        });
        self.scope.kill();
    }
}

impl Scope {
    /// Marks the scope dead, waiting for readers on other threads to finish.
    fn kill(&self) {
        let Ok(mut state) = self.liveness.lock() else {
            return;
        };
        state.0 = false;
        while state.1 > 0 {
            match self.readers_done.wait(state) {
                Ok(s) => state = s,
                Err(_) => return,
            }
        }
    }

    /// Registers a reader if the scope is alive; the returned guard unregisters it.
    fn enter(&self) -> Option<ReaderGuard<'_>> {
        let mut state = self.liveness.lock().ok()?;
        if !state.0 {
            return None;
        }
        state.1 += 1;
        Some(ReaderGuard { scope: self })
    }

    /// Runs `f` on the borrowed variables if the scope is still alive.
    fn with_vars<R>(&self, f: impl FnOnce(&Vars) -> R) -> Option<R> {
        let _reader = self.enter()?;
        // SAFETY: while a reader is registered the scope cannot be killed, so the borrow of
        // `Vars` that created it has not ended; the data is never mutated during that borrow.
        Some(f(unsafe { &*self.vars.0 }))
    }

    /// Runs `f` on a JSON node inside the borrowed variables if the scope is still alive.
    fn with_node<T, R>(&self, node: Ptr<T>, f: impl FnOnce(&T) -> R) -> Option<R> {
        let _reader = self.enter()?;
        // SAFETY: `node` points into the variables borrowed by this scope, which is alive.
        Some(f(unsafe { &*node.0 }))
    }

    /// The message of the last undefined error hit while rendering a variable's template.
    pub(crate) fn take_inner_undefined(&self) -> Option<String> {
        self.inner_undefined.lock().ok()?.take()
    }

    /// Looks up a top-level variable.
    pub(crate) fn lookup(self: &Arc<Self>, name: &str) -> Option<Value> {
        if name == "vars" {
            return self.with_vars(|vars| {
                Value::from_object(JsonNode {
                    scope: self.clone(),
                    target: Target::Map(Ptr(vars as *const Map<String, Json>)),
                })
            });
        }
        let peeked = self
            .with_vars(|vars| vars.get(name).map(|j| self.peek(j)))
            .flatten()?;
        Some(self.finish(peeked, name))
    }

    /// The names of all top-level variables.
    pub(crate) fn var_names(&self) -> Vec<String> {
        self.with_vars(|vars| vars.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Exposes one JSON value to templates (scalars copied, containers as lazy nodes,
    /// template strings rendered on first use).
    fn wrap(self: &Arc<Self>, json: &Json, name: &str) -> Value {
        let peeked = self.peek(json);
        self.finish(peeked, name)
    }

    /// The first half of [`Scope::wrap`], safe to run under the variables lock: no rendering.
    fn peek(self: &Arc<Self>, json: &Json) -> Peeked {
        Peeked::Ready(match json {
            Json::Null => Value::from(()),
            Json::Bool(b) => Value::from(*b),
            Json::Number(n) => number_to_value(n),
            Json::String(s) => {
                if is_template_text(s) {
                    return Peeked::Render(json as *const Json as usize, s.clone());
                }
                Value::from(s.as_str())
            }
            Json::Array(a) => Value::from_object(JsonNode {
                scope: self.clone(),
                target: Target::Seq(Ptr(a as *const Vec<Json>)),
            }),
            Json::Object(m) => {
                if let Some(text) = as_unsafe_text(json) {
                    return Peeked::Ready(Value::from(text));
                }
                if let Some(ciphertext) = as_vault_text(json) {
                    return Peeked::Ready(super::convert::vault_to_value(ciphertext));
                }
                Value::from_object(JsonNode {
                    scope: self.clone(),
                    target: Target::Map(Ptr(m as *const Map<String, Json>)),
                })
            }
        })
    }

    /// The second half of [`Scope::wrap`]: renders template strings (outside the lock).
    fn finish(self: &Arc<Self>, peeked: Peeked, name: &str) -> Value {
        match peeked {
            Peeked::Ready(v) => v,
            Peeked::Render(key, source) => self.render_lazy(key, source, name),
        }
    }

    /// Renders a variable's template text (once per call), detecting self-references.
    fn render_lazy(self: &Arc<Self>, key: usize, source: String, name: &str) -> Value {
        if let Some(v) = self.rendered.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return v;
        }
        {
            let Ok(mut active) = self.active.lock() else {
                return Value::UNDEFINED;
            };
            if active.contains(&key) {
                return Value::from(Error::new(
                    ErrorKind::InvalidOperation,
                    format!("{RECURSION_MARKER} (variable '{name}': {source:?})"),
                ));
            }
            active.push(key);
        }
        let result = self.engine.render_native_in_scope(&source, self);
        if let Ok(mut active) = self.active.lock() {
            active.retain(|k| *k != key);
        }
        let value = match result {
            Ok(v) => v,
            Err(e) if e.kind() == ErrorKind::UndefinedError => {
                // Undefined inside a variable's value makes the variable itself undefined,
                // so `default()` and `is defined` work on it, as in Ansible.
                if let Ok(mut slot) = self.inner_undefined.lock() {
                    if slot.is_none() {
                        *slot = Some(format!(
                            "{} (in the value of '{name}': {})",
                            super::error::TemplateError::from(e).message,
                            super::error::shorten(&source)
                        ));
                    }
                }
                return Value::UNDEFINED;
            }
            Err(e) => {
                let msg = e.detail().unwrap_or_default().to_string();
                let kind = e.kind();
                Value::from(Error::new(
                    kind,
                    if msg.contains(RECURSION_MARKER) {
                        msg
                    } else {
                        format!(
                            "{} (in the value of '{name}': {})",
                            super::error::TemplateError::from(e).message,
                            super::error::shorten(&source)
                        )
                    },
                ))
            }
        };
        if let Ok(mut cache) = self.rendered.lock() {
            cache.insert(key, value.clone());
        }
        value
    }
}

/// Unregisters a reader of a scope.
struct ReaderGuard<'a> {
    scope: &'a Scope,
}

impl Drop for ReaderGuard<'_> {
    fn drop(&mut self) {
        if let Ok(mut state) = self.scope.liveness.lock() {
            state.1 -= 1;
            if state.1 == 0 {
                self.scope.readers_done.notify_all();
            }
        }
    }
}

/// A variable value read under the lock, possibly still to be rendered.
enum Peeked {
    Ready(Value),
    Render(usize, String),
}

#[derive(Clone, Copy)]
enum Target {
    Map(Ptr<Map<String, Json>>),
    Seq(Ptr<Vec<Json>>),
}

/// A map or list inside the borrowed variables, read lazily.
pub(crate) struct JsonNode {
    scope: Arc<Scope>,
    target: Target,
}

impl std::fmt::Debug for JsonNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&super::convert::py_repr(&Value::from_dyn_object(
            minijinja::value::DynObject::new(Arc::new(JsonNode {
                scope: self.scope.clone(),
                target: self.target,
            })),
        )))
    }
}

impl JsonNode {
    /// A deep JSON copy with template strings rendered and `!unsafe` markers unwrapped.
    pub(crate) fn materialize(&self) -> Result<Json, Error> {
        let dead = || Error::new(ErrorKind::InvalidOperation, "variables no longer available");
        match self.target {
            Target::Map(p) => self
                .scope
                .with_node(p, |m| self.materialize_map(m))
                .ok_or_else(dead)?,
            Target::Seq(p) => self
                .scope
                .with_node(p, |a| self.materialize_seq(a))
                .ok_or_else(dead)?,
        }
    }

    fn materialize_map(&self, m: &Map<String, Json>) -> Result<Json, Error> {
        let mut out = Map::new();
        for (k, v) in m {
            if let Some(j) = self.materialize_json(v, k)? {
                out.insert(k.clone(), j);
            }
        }
        Ok(Json::Object(out))
    }

    fn materialize_seq(&self, a: &[Json]) -> Result<Json, Error> {
        let mut out = Vec::with_capacity(a.len());
        for v in a {
            if let Some(j) = self.materialize_json(v, "item")? {
                out.push(j);
            }
        }
        Ok(Json::Array(out))
    }

    fn materialize_json(&self, v: &Json, name: &str) -> Result<Option<Json>, Error> {
        Ok(Some(match v {
            Json::String(s) if is_template_text(s) => {
                let rendered = self.scope.wrap(v, name);
                if rendered.is_undefined() {
                    let msg = self
                        .scope
                        .inner_undefined
                        .lock()
                        .ok()
                        .and_then(|g| g.clone())
                        .unwrap_or_else(|| format!("'{name}' is undefined"));
                    return Err(Error::new(ErrorKind::UndefinedError, msg));
                }
                return super::convert::value_to_json(&rendered);
            }
            Json::Object(m) => {
                if let Some(text) = as_unsafe_text(v) {
                    Json::String(text.to_string())
                } else if let Some(ciphertext) = as_vault_text(v) {
                    Json::String(
                        crate::vault::decrypt_value(ciphertext)
                            .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?,
                    )
                } else {
                    self.materialize_map(m)?
                }
            }
            Json::Array(a) => self.materialize_seq(a)?,
            other => other.clone(),
        }))
    }
}

impl Object for JsonNode {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        match self.target {
            Target::Map(_) => ObjectRepr::Map,
            Target::Seq(_) => ObjectRepr::Seq,
        }
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match self.target {
            Target::Map(p) => {
                let name = match key.as_str() {
                    Some(s) => std::borrow::Cow::Borrowed(s),
                    None => std::borrow::Cow::Owned(super::convert::key_to_string(key)),
                };
                let peeked = self
                    .scope
                    .with_node(p, |m| m.get(name.as_ref()).map(|j| self.scope.peek(j)))
                    .flatten()?;
                Some(self.scope.finish(peeked, &name))
            }
            Target::Seq(p) => {
                let idx = key.as_i64()?;
                let peeked = self
                    .scope
                    .with_node(p, |a| {
                        let len = a.len() as i64;
                        let i = if idx < 0 { len + idx } else { idx };
                        if i < 0 || i >= len {
                            None
                        } else {
                            Some(self.scope.peek(&a[i as usize]))
                        }
                    })
                    .flatten()?;
                Some(self.scope.finish(peeked, "item"))
            }
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        match self.target {
            Target::Map(p) => self
                .scope
                .with_node(p, |m| {
                    Enumerator::Values(m.keys().map(|k| Value::from(k.as_str())).collect())
                })
                .unwrap_or(Enumerator::Empty),
            Target::Seq(p) => self
                .scope
                .with_node(p, |a| Enumerator::Seq(a.len()))
                .unwrap_or(Enumerator::Empty),
        }
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        match self.target {
            Target::Map(p) => self.scope.with_node(p, |m| m.len()),
            Target::Seq(p) => self.scope.with_node(p, |a| a.len()),
        }
    }
}

/// The root context of a render: every variable of the scope, looked up lazily.
#[derive(Debug)]
pub(crate) struct RootVars {
    pub(crate) scope: Arc<Scope>,
}

impl Object for RootVars {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    /// A variable whose value is undefined (its template failed) is reported missing, so that
    /// minijinja names it in undefined errors (the attribute-chain retry relies on that).
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.scope
            .lookup(key.as_str()?)
            .filter(|v| !v.is_undefined())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(
            self.scope
                .var_names()
                .into_iter()
                .map(Value::from)
                .collect(),
        )
    }
}

//! The module interface: what every drover module implements, and what it is given to work with.
//!
//! A module receives its arguments as a JSON value (already templated), deserializes them into its
//! own typed parameters (see [`parse_params`]), and follows *query → plan → apply*: find out the
//! current state over the connection, decide what would change, and change it only when not in
//! check mode. Results use Ansible's keys so playbooks can `register` and read them.

use std::path::PathBuf;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::async_job::{AsyncSupport, Detached};
use crate::connection::{ConnectionError, HostConnection, ProbeError};
use crate::params::{ArgError, ModuleParams, ParamsSpec};
use crate::probe::ProbeRequest;
use crate::template::{TemplateError, TemplateFileOptions};
use crate::vars::Vars;

mod registry;
pub use registry::{strsim_distance, ModuleRegistry};

/// What a module returns. Serializes to Ansible's result shape: `changed`, `failed`, `msg`, `diff`
/// and any module-specific keys (`rc`, `stdout`, `stat`, …) at the top level.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ModuleResult {
    /// Whether the module changed (or, in check mode, would change) the host.
    pub changed: bool,
    /// Whether the module failed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub failed: bool,
    /// Human-readable message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg: Option<String>,
    /// Before/after texts for `--diff`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub diff: Vec<Diff>,
    /// Facts to set on the host (`set_fact`, `setup`): merged into the host's variables.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ansible_facts: Option<Vars>,
    /// All other result keys, in order.
    #[serde(flatten)]
    pub data: Map<String, Value>,
}

impl ModuleResult {
    /// An unchanged, successful result.
    pub fn ok() -> Self {
        Self::default()
    }
    /// The answer of a module without check mode under `--check`: skipped, with ansible-core's
    /// message.
    pub fn skipped_in_check_mode(module: &str) -> Self {
        Self::ok().with("skipped", true).with_msg(format!(
            "remote module ({module}) does not support check mode"
        ))
    }
    /// A result reporting `changed`.
    pub fn changed(changed: bool) -> Self {
        Self {
            changed,
            ..Self::default()
        }
    }
    /// A failed result with a message.
    pub fn failed(msg: impl Into<String>) -> Self {
        Self {
            failed: true,
            msg: Some(msg.into()),
            ..Self::default()
        }
    }
    /// Sets the message.
    pub fn with_msg(mut self, msg: impl Into<String>) -> Self {
        self.msg = Some(msg.into());
        self
    }
    /// Adds a result key.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.data.insert(key.to_string(), value.into());
        self
    }
    /// Sets the fact `name` on the host (the result's `ansible_facts`).
    pub fn with_fact(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.ansible_facts
            .get_or_insert_with(Vars::new)
            .insert(name.to_string(), value.into());
        self
    }
    /// Adds a diff entry.
    pub fn with_diff(mut self, diff: Diff) -> Self {
        self.diff.push(diff);
        self
    }
    /// The result as a JSON object (what `register` stores).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// One before/after pair, as Ansible's `diff` result entries.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Diff {
    /// Label of the old state (usually the path).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before_header: Option<String>,
    /// Label of the new state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_header: Option<String>,
    /// Old content or state description.
    pub before: String,
    /// New content or state description.
    pub after: String,
}

/// Errors that stop a module before it can produce a result. The executor turns them into a failed
/// task (or an unreachable host, for connection errors); they are never panics.
#[derive(Debug, thiserror::Error)]
pub enum ModuleError {
    /// Arguments do not match the module's parameters.
    #[error("{module}: {message}")]
    BadArgs { module: String, message: String },
    /// The connection failed: the host is unreachable.
    #[error(transparent)]
    Connection(#[from] ConnectionError),
    /// Rendering a template failed.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// A local (controller-side) file could not be found or read.
    #[error("{0}")]
    Local(String),
}

impl From<ProbeError> for ModuleError {
    fn from(e: ProbeError) -> Self {
        match e {
            ProbeError::Connection(e) => Self::Connection(e),
            ProbeError::Failed(msg) => Self::Local(msg),
        }
    }
}

/// Deserializes module arguments into typed parameters. Unknown keys and type mismatches become
/// [`ModuleError::BadArgs`] naming the key, e.g. `copy: unknown field `dset`, expected one of …`
/// or `copy: force: expected a boolean, got "maybe"`.
pub fn parse_params<P: DeserializeOwned>(module: &str, args: &Value) -> Result<P, ModuleError> {
    let args = if args.is_null() {
        Value::Object(Map::new())
    } else {
        args.clone()
    };
    serde_path_to_error::deserialize(args).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        ModuleError::BadArgs {
            module: module.to_string(),
            message: if path == "." || inner.starts_with("unknown field") {
                inner
            } else {
                format!("{path}: {inner}")
            },
        }
    })
}

impl From<ArgError> for ModuleError {
    fn from(e: ArgError) -> Self {
        Self::BadArgs {
            message: e.message(),
            module: e.module,
        }
    }
}

/// Controller-side services a module may need: templating with the host's variables and finding
/// the files a task refers to (`src:` of `copy` and `template`).
pub trait ControllerContext: Send + Sync {
    /// Renders a template string with the host's variables.
    fn render_str(&self, source: &str) -> Result<String, TemplateError>;
    /// Renders a template file's contents (`template` module), honouring Jinja header overrides.
    fn render_template_file(&self, source: &str, name: &str) -> Result<String, TemplateError>;
    /// Evaluates a Jinja expression (no braces) to a value.
    fn eval_expr(&self, expr: &str) -> Result<Value, TemplateError>;
    /// Evaluates a conditional expression (as in `when`/`that`) to a boolean.
    fn eval_condition(&self, expr: &str) -> Result<bool, TemplateError>;
    /// The host's variables, fully merged (unrendered values).
    fn vars(&self) -> &Vars;
    /// Finds a controller-side file for `src:` arguments: `kind` is `files` or `templates`; relative
    /// names are searched in role and playbook directories as Ansible does.
    fn find_file(&self, kind: &str, name: &str) -> Result<PathBuf, ModuleError>;
    /// The run's verbosity (`-v` count), for `debug`'s `verbosity:` threshold.
    fn verbosity(&self) -> u8 {
        0
    }
    /// Renders a template file for the `template` module: `extra_vars` (`template_path`,
    /// `ansible_managed`, …) are layered over the host's variables, and `options` carries the
    /// module's Jinja settings (a `#jinja2:` header in the file overrides them). The default
    /// ignores both and calls [`ControllerContext::render_template_file`].
    fn render_template_file_with(
        &self,
        source: &str,
        name: &str,
        extra_vars: &Vars,
        options: &TemplateFileOptions,
    ) -> Result<String, TemplateError> {
        let _ = (extra_vars, options);
        self.render_template_file(source, name)
    }
}

/// Everything a module is given for one run on one host.
pub struct ModuleContext<'a> {
    /// Inventory name of the host.
    pub host: &'a str,
    /// Connection to the host with the task's become settings applied.
    pub conn: &'a HostConnection,
    /// `--check`: report what would change without changing anything.
    pub check_mode: bool,
    /// `--diff`: include before/after differences in results.
    pub diff: bool,
    /// Controller-side templating and file lookup.
    pub controller: &'a dyn ControllerContext,
}

/// A drover module. Implementations are registered in a [`ModuleRegistry`].
#[async_trait]
pub trait Module: Send + Sync {
    /// Canonical short name (`copy`).
    fn name(&self) -> &'static str;

    /// Checks arguments before any host is touched. Arguments may still contain unrendered
    /// templates here, so only their shape (known keys, required keys that are absent) is checked.
    /// The default accepts anything.
    fn check_args(&self, _args: &Map<String, Value>) -> Result<(), ArgError> {
        Ok(())
    }

    /// The description of the module's parameters (see [`crate::params`]); `None` for modules
    /// that do not describe them.
    fn params_spec(&self) -> Option<&'static ParamsSpec> {
        None
    }

    /// The controller-side files these (unrendered) arguments name, for the static check that
    /// they exist. The default reads the parameters marked `local_file` in the description.
    fn controller_files(&self, args: &Map<String, Value>) -> Vec<ControllerFile> {
        self.params_spec()
            .map(|spec| spec.controller_files(args))
            .unwrap_or_default()
    }

    /// The variables a run with these (unrendered) arguments defines on the host (beyond
    /// `register`), for the static check of undefined variables.
    fn defined_vars(&self, _args: &Value) -> DefinedVars {
        DefinedVars::Names(Vec::new())
    }

    /// The keys its parameters' description lists that the parameters type rejects (see
    /// [`ModuleParams::keys_unknown_to_type`]); empty for modules without a description.
    fn keys_unknown_to_params(&self) -> Vec<String> {
        Vec::new()
    }

    /// Whether `--check` can predict this module's changes (modules that cannot are skipped in
    /// check mode, as ansible-core does).
    fn supports_check_mode(&self) -> bool {
        true
    }

    /// True for modules that run entirely on the controller (`debug`, `set_fact`, `assert`, `fail`)
    /// and need no connection.
    fn controller_only(&self) -> bool {
        false
    }

    /// What a run with these (rendered) arguments asks [`HostConnection::probe`] for first, so
    /// the executor can read it ahead together with the next tasks' probes in one round trip.
    ///
    /// `Some` also promises that the module changes hosts only through its connection (which
    /// tells the read-ahead cache about every command and upload); `Some(vec![])` suits modules
    /// that touch no host at all (`debug`). `None`, the default, makes the executor discard every
    /// read-ahead result before and after the task runs.
    fn planned_probes(&self, _args: &Value, _diff: bool) -> Option<Vec<ProbeRequest>> {
        None
    }

    /// How the module runs under the `async` keyword (see [`crate::async_job`]). The default
    /// runs it on the controller; controller-only modules are refused.
    fn async_support(&self) -> AsyncSupport {
        if self.controller_only() {
            AsyncSupport::Unsupported
        } else {
            AsyncSupport::Controller
        }
    }

    /// For [`AsyncSupport::Detached`] modules: the remote command an `async` task runs in the
    /// background (or its result, when nothing is to run).
    async fn detached(
        &self,
        _ctx: &ModuleContext<'_>,
        _args: &Value,
    ) -> Result<Detached, ModuleError> {
        Err(ModuleError::Local(format!(
            "{} cannot run detached on the target",
            self.name()
        )))
    }

    /// Runs the module on one host.
    async fn run(&self, ctx: &ModuleContext<'_>, args: &Value)
        -> Result<ModuleResult, ModuleError>;
}

/// A controller-side file an argument names (`copy`'s `src`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControllerFile {
    /// The argument.
    pub key: String,
    /// Its value, as written.
    pub path: String,
    /// The directory kind searched first in roles and next to playbooks (`files`, `templates`,
    /// `vars`).
    pub kind: &'static str,
}

/// What variables a task defines on its host, as far as the static check can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefinedVars {
    /// These names.
    Names(Vec<String>),
    /// The top-level keys of this controller-side variables file (`include_vars`), which the
    /// static check finds with the task's search paths and reads.
    File(ControllerFile),
    /// Names only known at run time (templated keys, a file's contents): the check of
    /// undefined variables stands down for the play.
    Dynamic,
}

/// A module with typed parameters: the one contract every module follows, and the way to use a
/// module directly from Rust, e.g. `Copy.run_with(&ctx, CopyParams { dest, content, .. }).await`
/// (see drover-modules' `tests/typed_api.rs`).
///
/// Implementing it is all a module does: [`Module`] comes with it (the keys are checked against
/// the parameters' own description, the arguments deserialized, then [`TypedModule::run_with`]
/// runs), so there is no list of keys to keep in step with the struct.
#[async_trait]
pub trait TypedModule: Send + Sync {
    /// Canonical short name (`copy`).
    const NAME: &'static str;
    /// True for modules that run entirely on the controller (see [`Module::controller_only`]).
    const CONTROLLER_ONLY: bool = false;
    /// The module's parameters (what a playbook task's arguments deserialize into).
    type Params: ModuleParams;

    /// Checks the parameters' description does not express (value-independent: arguments may
    /// be unrendered templates), after the description's own checks. The default has none.
    fn check_more(&self, _args: &Map<String, Value>) -> Result<(), ArgError> {
        Ok(())
    }

    /// What a run with these (rendered) arguments probes first (see [`Module::planned_probes`]).
    fn probes(&self, _args: &Value, _diff: bool) -> Option<Vec<ProbeRequest>> {
        None
    }

    /// The variables a run defines on the host (see [`Module::defined_vars`]).
    fn defines_vars(&self, _args: &Value) -> DefinedVars {
        DefinedVars::Names(Vec::new())
    }

    /// The controller-side files these (unrendered) arguments name (see
    /// [`Module::controller_files`]). The default reads the parameters marked `local_file`;
    /// modules whose other arguments also decide it (`unarchive`'s `copy: no`) override it.
    fn local_files(&self, args: &Map<String, Value>) -> Vec<ControllerFile> {
        Self::Params::spec().controller_files(args)
    }

    /// Whether `--check` can predict this module's changes (see [`Module::supports_check_mode`]);
    /// without it, the task is skipped under `--check` once its arguments are checked.
    const CHECK_MODE: bool = true;

    /// Turns a task's (rendered) arguments into parameters. The default deserializes them;
    /// modules whose arguments have another shape (free-form text) override it.
    fn params_from(&self, args: &Value) -> Result<Self::Params, ModuleError> {
        parse_params(Self::NAME, args)
    }

    /// How the module runs under the `async` keyword (see [`Module::async_support`]).
    const ASYNC: AsyncSupport = if Self::CONTROLLER_ONLY {
        AsyncSupport::Unsupported
    } else {
        AsyncSupport::Controller
    };

    /// For [`AsyncSupport::Detached`] modules: the remote command to run in the background
    /// (see [`Module::detached`]).
    async fn detached_with(
        &self,
        _ctx: &ModuleContext<'_>,
        _params: Self::Params,
    ) -> Result<Detached, ModuleError> {
        Err(ModuleError::Local(format!(
            "{} cannot run detached on the target",
            Self::NAME
        )))
    }

    /// Runs the module with typed parameters.
    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        params: Self::Params,
    ) -> Result<ModuleResult, ModuleError>;
}

#[async_trait]
impl<T: TypedModule> Module for T {
    fn name(&self) -> &'static str {
        T::NAME
    }

    fn check_args(&self, args: &Map<String, Value>) -> Result<(), ArgError> {
        T::Params::spec().check(T::NAME, args)?;
        self.check_more(args)
    }

    fn params_spec(&self) -> Option<&'static ParamsSpec> {
        Some(T::Params::spec())
    }

    fn keys_unknown_to_params(&self) -> Vec<String> {
        T::Params::keys_unknown_to_type()
    }

    fn controller_only(&self) -> bool {
        T::CONTROLLER_ONLY
    }

    fn defined_vars(&self, args: &Value) -> DefinedVars {
        self.defines_vars(args)
    }

    fn controller_files(&self, args: &Map<String, Value>) -> Vec<ControllerFile> {
        self.local_files(args)
    }

    fn supports_check_mode(&self) -> bool {
        T::CHECK_MODE
    }

    fn planned_probes(&self, args: &Value, diff: bool) -> Option<Vec<ProbeRequest>> {
        self.probes(args, diff)
    }

    fn async_support(&self) -> AsyncSupport {
        T::ASYNC
    }

    async fn detached(
        &self,
        ctx: &ModuleContext<'_>,
        args: &Value,
    ) -> Result<Detached, ModuleError> {
        if let Some(map) = args.as_object() {
            self.check_args(map)?;
        }
        let params = self.params_from(args)?;
        self.detached_with(ctx, params).await
    }

    async fn run(
        &self,
        ctx: &ModuleContext<'_>,
        args: &Value,
    ) -> Result<ModuleResult, ModuleError> {
        if let Some(map) = args.as_object() {
            self.check_args(map)?;
        }
        let params = self.params_from(args)?;
        if ctx.check_mode && !T::CHECK_MODE {
            // As ansible-core: arguments are checked, then a module without check mode is skipped.
            return Ok(ModuleResult::skipped_in_check_mode(T::NAME));
        }
        self.run_with(ctx, params).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_serializes_like_ansible() {
        let r = ModuleResult::changed(true)
            .with("rc", 0)
            .with("stdout", "hi");
        assert_eq!(
            r.to_value(),
            serde_json::json!({"changed": true, "rc": 0, "stdout": "hi"})
        );
    }

    #[test]
    fn bad_params_name_the_key() {
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct P {
            dest: String,
        }
        let err = parse_params::<P>("copy", &serde_json::json!({"dset": "x"})).unwrap_err();
        assert!(err.to_string().contains("unknown field `dset`"), "{err}");
    }
}

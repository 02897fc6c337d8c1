//! One host, connected, to run modules on directly (no playbook): by name with JSON arguments,
//! or typed with a module's params struct.

use std::sync::Arc;

use serde_json::Value;

use crate::connection::HostConnection;
use crate::executor::{ConnectionPool, TaskController};
use crate::module::ModuleError;
use crate::module::{ControllerContext, ModuleContext, ModuleRegistry, ModuleResult, TypedModule};
use crate::template::{Templar, TemplateContext};
use crate::vars::Vars;
use crate::vault::{scope_secrets, VaultSecrets};

use super::SessionError;

/// A host of the session's inventory with its variables and an open connection (become and
/// `environment` from its variables and the session's options applied). Made by
/// [`super::Session::host`]; close it with [`HostTarget::close`].
pub struct HostTarget {
    pub(super) name: String,
    pub(super) vars: Vars,
    pub(super) conn: HostConnection,
    pub(super) templar: Templar,
    pub(super) context: TemplateContext,
    pub(super) verbosity: u8,
    pub(super) check_mode: bool,
    pub(super) diff: bool,
    pub(super) registry: ModuleRegistry,
    pub(super) pool: Arc<ConnectionPool>,
    pub(super) vault: Arc<VaultSecrets>,
}

impl HostTarget {
    /// The host's inventory name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The host's variables (inventory, extra vars and magic variables such as
    /// `inventory_hostname`), unrendered.
    pub fn vars(&self) -> &Vars {
        &self.vars
    }

    /// The connection modules run commands through.
    pub fn connection(&self) -> &HostConnection {
        &self.conn
    }

    /// Controller-side services for a module (templating with the host's variables, finding
    /// `src:` files relative to the working directory).
    pub fn controller(&self) -> impl ControllerContext + '_ {
        TaskController {
            templar: &self.templar,
            vars: &self.vars,
            context: &self.context,
            verbosity: self.verbosity,
        }
    }

    /// The context a module runs with on this host, given a [`HostTarget::controller`].
    pub fn module_context<'a>(
        &'a self,
        controller: &'a dyn ControllerContext,
    ) -> ModuleContext<'a> {
        ModuleContext {
            host: &self.name,
            conn: &self.conn,
            check_mode: self.check_mode,
            diff: self.diff,
            controller,
        }
    }

    /// Runs a module with typed parameters, e.g. `target.run_typed(&Hostname, HostnameParams { .. })`.
    pub async fn run_typed<M: TypedModule>(
        &self,
        module: &M,
        params: M::Params,
    ) -> Result<ModuleResult, ModuleError> {
        let controller = self.controller();
        let ctx = self.module_context(&controller);
        scope_secrets(self.vault.clone(), module.run_with(&ctx, params)).await
    }

    /// Runs the registered module `name` with `args` (a JSON object, as a task's arguments;
    /// templates in it are rendered with the host's variables first).
    pub async fn run(&self, name: &str, args: Value) -> Result<ModuleResult, SessionError> {
        scope_secrets(self.vault.clone(), self.run_module(name, args)).await
    }

    async fn run_module(&self, name: &str, args: Value) -> Result<ModuleResult, SessionError> {
        let Some(module) = self.registry.get(name).cloned() else {
            return Err(SessionError::UnknownModule {
                name: name.to_string(),
                suggestion: self.registry.suggest(name).map(str::to_string),
            });
        };
        let args = self
            .templar
            .render_value_in(&args, &self.vars, Some(&self.context))
            .map_err(|e| SessionError::BadArgs {
                module: name.to_string(),
                message: e.to_string(),
            })?;
        let empty = serde_json::Map::new();
        let map = match &args {
            Value::Object(m) => m,
            Value::Null => &empty,
            _ => {
                return Err(SessionError::BadArgs {
                    module: name.to_string(),
                    message: "arguments must be a mapping".into(),
                })
            }
        };
        module.check_args(map).map_err(|e| SessionError::BadArgs {
            module: name.to_string(),
            message: e.to_string(),
        })?;
        let controller = self.controller();
        Ok(module.run(&self.module_context(&controller), &args).await?)
    }

    /// Closes the connection.
    pub async fn close(self) {
        self.pool.close_all().await;
    }
}

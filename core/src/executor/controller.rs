//! The controller-side services given to modules: templating with the task's variables and finding
//! `src:` files.

use std::path::PathBuf;

use async_trait::async_trait;

use crate::connection::{Connection, ConnectionError, ExecOutput, ExecRequest};
use crate::module::{ControllerContext, ModuleError};
use crate::template::{Templar, TemplateError};
use crate::vars::{Value, Vars};

/// [`ControllerContext`] for one task on one host.
pub struct TaskController<'a> {
    /// The run's templar.
    pub templar: &'a Templar,
    /// The task's variables on this host.
    pub vars: &'a Vars,
    /// Directories searched for relative `src:` names, most specific first.
    pub search_dirs: Vec<PathBuf>,
}

impl ControllerContext for TaskController<'_> {
    fn render_str(&self, source: &str) -> Result<String, TemplateError> {
        self.templar.render_str(source, self.vars)
    }

    fn render_template_file(&self, source: &str, name: &str) -> Result<String, TemplateError> {
        self.templar.render_template_file(source, name, self.vars)
    }

    fn eval_expr(&self, expr: &str) -> Result<Value, TemplateError> {
        self.templar.eval_expr(expr, self.vars)
    }

    fn eval_condition(&self, expr: &str) -> Result<bool, TemplateError> {
        self.templar.eval_condition(expr, self.vars)
    }

    fn vars(&self) -> &Vars {
        self.vars
    }

    fn find_file(&self, kind: &str, name: &str) -> Result<PathBuf, ModuleError> {
        let path = PathBuf::from(name);
        if path.is_absolute() {
            return if path.exists() {
                Ok(path)
            } else {
                Err(ModuleError::Local(format!(
                    "could not find or access '{name}'"
                )))
            };
        }
        let mut tried = Vec::new();
        for dir in &self.search_dirs {
            for candidate in [dir.join(kind).join(name), dir.join(name)] {
                if candidate.exists() {
                    return Ok(candidate);
                }
                tried.push(candidate.display().to_string());
            }
        }
        Err(ModuleError::Local(format!(
            "could not find or access '{name}'; searched: {}",
            tried.join(", ")
        )))
    }
}

/// The connection handed to controller-only modules (`debug`, `set_fact`, …): any use is a bug.
pub struct NoConnection;

#[async_trait]
impl Connection for NoConnection {
    fn transport(&self) -> &'static str {
        "none"
    }
    async fn exec(&self, _req: &ExecRequest) -> Result<ExecOutput, ConnectionError> {
        Err(ConnectionError::Io {
            context: "controller-only module".into(),
            source: std::io::Error::other(
                "this module runs on the controller and has no connection",
            ),
        })
    }
}

//! The controller-side services given to modules: templating with the task's variables and finding
//! `src:` files.

use std::path::PathBuf;

use async_trait::async_trait;

use crate::connection::{Connection, ConnectionError, ExecOutput, ExecRequest};
use crate::module::{ControllerContext, ModuleError};
use crate::template::{Templar, TemplateContext, TemplateError, TemplateFileOptions};
use crate::vars::{Value, Vars};

/// [`ControllerContext`] for one task on one host.
pub struct TaskController<'a> {
    /// The run's templar.
    pub templar: &'a Templar,
    /// The task's variables on this host.
    pub vars: &'a Vars,
    /// Search paths for `src:` names and lookups, and the task's location for errors.
    pub context: &'a TemplateContext,
    /// `-v` level.
    pub verbosity: u8,
}

impl ControllerContext for TaskController<'_> {
    fn render_str(&self, source: &str) -> Result<String, TemplateError> {
        self.templar
            .render_str_in(source, self.vars, Some(self.context))
    }

    fn render_template_file(&self, source: &str, name: &str) -> Result<String, TemplateError> {
        self.render_template_file_with(source, name, &Vars::new(), &TemplateFileOptions::default())
    }

    fn render_template_file_with(
        &self,
        source: &str,
        name: &str,
        extra_vars: &Vars,
        options: &TemplateFileOptions,
    ) -> Result<String, TemplateError> {
        let with_extra;
        let vars = if extra_vars.is_empty() {
            self.vars
        } else {
            let mut v = self.vars.clone();
            crate::vars::merge_into(&mut v, extra_vars);
            with_extra = v;
            &with_extra
        };
        self.templar
            .render_template_file_with(source, name, vars, options, Some(self.context))
    }

    fn eval_expr(&self, expr: &str) -> Result<Value, TemplateError> {
        self.templar
            .eval_expr_in(expr, self.vars, Some(self.context))
    }

    fn eval_condition(&self, expr: &str) -> Result<bool, TemplateError> {
        self.templar
            .eval_condition_in(expr, self.vars, Some(self.context))
    }

    fn verbosity(&self) -> u8 {
        self.verbosity
    }

    fn vars(&self) -> &Vars {
        self.vars
    }

    fn find_file(&self, kind: &str, name: &str) -> Result<PathBuf, ModuleError> {
        let path = crate::template::home_relative(name).unwrap_or_else(|| PathBuf::from(name));
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
        for dir in &self.context.search_paths {
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

//! `raw`: runs a command line on the target as-is, with no processing.

use async_trait::async_trait;
use drover_core::connection::shell_quote;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;

use super::run::split_lines;
use crate::params::de_opt_string;

/// Parameters of `raw`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct RawParams {
    /// The command line (free form).
    #[serde(default, rename = "_raw_params", deserialize_with = "de_opt_string")]
    #[param(required)]
    pub raw_params: Option<String>,
    /// Run the line with this shell (`executable -c LINE`) instead of the login shell's `sh`.
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(kind = "path")]
    pub executable: Option<String>,
}

/// The `raw` module.
pub struct Raw;

#[async_trait]
impl TypedModule for Raw {
    const NAME: &'static str = "raw";
    /// ansible-core's action refuses `async`.
    const ASYNC: drover_core::async_job::AsyncSupport =
        drover_core::async_job::AsyncSupport::Unsupported;
    type Params = RawParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: RawParams,
    ) -> Result<ModuleResult, ModuleError> {
        let line = p
            .raw_params
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| ModuleError::BadArgs {
                module: "raw".into(),
                message: "no command given".into(),
            })?;
        if ctx.check_mode {
            return Ok(ModuleResult::ok().with("skipped", true));
        }
        let cmdline = match &p.executable {
            Some(shell) => format!("{} -c {}", shell_quote(shell), shell_quote(&line)),
            None => line,
        };
        let out = ctx.conn.run(cmdline).await?;
        let stdout = out.stdout_str();
        let stderr = out.stderr_str();
        let mut r = ModuleResult::changed(true)
            .with("rc", out.rc)
            .with("stdout", stdout.clone())
            .with("stderr", stderr.clone())
            .with("stdout_lines", split_lines(&stdout))
            .with("stderr_lines", split_lines(&stderr));
        if out.rc != 0 {
            r.failed = true;
            r.msg = Some("non-zero return code".into());
        }
        Ok(r)
    }
}

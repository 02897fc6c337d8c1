//! `template`: renders a Jinja template on the controller and puts the result on the target.

use std::os::unix::fs::PermissionsExt;

use async_trait::async_trait;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use drover_core::template::TemplateFileOptions;
use serde::Deserialize;
use serde_json::Value;

use super::copy::{dest_probe_requests, resolve_dest};
use super::template_vars::template_vars;
use super::write::{converge_file, Data, FileWrite};
use crate::params::{de_bool, de_opt_bool, de_opt_string, de_string};
use crate::remote::attrs::AttrRequest;
use crate::remote::base_name;
use crate::remote::checksum::sha1_hex;
use crate::remote::file_attrs::FileAttrs;
use crate::remote::mode::Mode;
use crate::remote::probe::ProbeRequest;

/// Parameters of `template`.
#[derive(Debug, Deserialize, ModuleParams)]
pub struct TemplateParams {
    /// Template file on the controller (searched in `templates/`).
    #[serde(deserialize_with = "de_string")]
    #[param(local_file = "templates")]
    pub src: String,
    /// Destination path on the target.
    #[serde(deserialize_with = "de_string")]
    pub dest: String,
    /// Keep a timestamped backup of a replaced file.
    #[serde(default, deserialize_with = "de_bool")]
    pub backup: bool,
    /// Replace a file whose contents differ (default yes).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    pub force: bool,
    /// Validation command (`%s` is the new file's path).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub validate: Option<String>,
    /// Follow a symlink at `dest`.
    #[serde(default, deserialize_with = "de_bool")]
    pub follow: bool,
    /// Line ending of the output: `\n` (default), `\r` or `\r\n`.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub newline_sequence: Option<String>,
    /// Jinja `trim_blocks` (Ansible's default: yes).
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub trim_blocks: Option<bool>,
    /// Jinja `lstrip_blocks`.
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub lstrip_blocks: Option<bool>,
    /// Custom Jinja delimiters.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub block_start_string: Option<String>,
    /// Custom Jinja delimiters.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub block_end_string: Option<String>,
    /// Custom Jinja delimiters.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub variable_start_string: Option<String>,
    /// Custom Jinja delimiters.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub variable_end_string: Option<String>,
    /// Custom Jinja delimiters.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub comment_start_string: Option<String>,
    /// Custom Jinja delimiters.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub comment_end_string: Option<String>,
    /// Encoding of the written file (Python codec names; empty or unset means UTF-8).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub output_encoding: Option<String>,
    /// The common file attributes; `mode: preserve` keeps the template file's mode.
    #[serde(flatten)]
    pub attrs: FileAttrs,
}

fn yes() -> bool {
    true
}

/// The `template` module.
pub struct Template;

fn bad(message: impl Into<String>) -> ModuleError {
    ModuleError::BadArgs {
        module: "template".into(),
        message: message.into(),
    }
}

#[async_trait]
impl TypedModule for Template {
    const NAME: &'static str = "template";
    /// ansible-core's action refuses `async`.
    const ASYNC: drover_core::async_job::AsyncSupport =
        drover_core::async_job::AsyncSupport::Unsupported;
    type Params = TemplateParams;

    fn probes(&self, args: &Value, diff: bool) -> Option<Vec<ProbeRequest>> {
        let p = self.params_from(args).ok()?;
        Some(dest_probe_requests(&p.dest, &base_name(&p.src), diff))
    }

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: TemplateParams,
    ) -> Result<ModuleResult, ModuleError> {
        if let Some(failed) = p.attrs.selinux_failure(ctx).await? {
            return Ok(failed);
        }
        if let Some(v) = &p.validate {
            if !v.contains("%s") {
                return Err(bad(format!("validate must contain %s: {v}")));
            }
        }
        let newline = match p.newline_sequence.as_deref() {
            None | Some("\n") | Some("\\n") => "\n",
            Some("\r") | Some("\\r") => "\r",
            Some("\r\n") | Some("\\r\\n") => "\r\n",
            Some(other) => {
                return Err(bad(format!(
                    "newline_sequence must be one of \\n, \\r, \\r\\n, got {other:?}"
                )))
            }
        };
        let local = ctx.controller.find_file("templates", &p.src)?;
        let source = drover_core::limits::read_text(&local)
            .map_err(|e| ModuleError::Local(e.to_string()))?;
        let defaults = TemplateFileOptions::default();
        let pick = |v: &Option<String>, d: &str| v.clone().unwrap_or_else(|| d.to_string());
        let options = TemplateFileOptions {
            trim_blocks: p.trim_blocks.unwrap_or(defaults.trim_blocks),
            lstrip_blocks: p.lstrip_blocks.unwrap_or(defaults.lstrip_blocks),
            block_start_string: pick(&p.block_start_string, &defaults.block_start_string),
            block_end_string: pick(&p.block_end_string, &defaults.block_end_string),
            variable_start_string: pick(&p.variable_start_string, &defaults.variable_start_string),
            variable_end_string: pick(&p.variable_end_string, &defaults.variable_end_string),
            comment_start_string: pick(&p.comment_start_string, &defaults.comment_start_string),
            comment_end_string: pick(&p.comment_end_string, &defaults.comment_end_string),
            newline_sequence: newline.to_string(),
            ..defaults.clone()
        };
        let extra_vars = template_vars(&local, &p.dest, ctx.controller.vars());
        let rendered = ctx.controller.render_template_file_with(
            &source,
            &local.display().to_string(),
            &extra_vars,
            &options,
        )?;
        let src_mode = std::fs::metadata(&local)
            .map(|m| m.permissions().mode() & 0o7777)
            .ok();
        let encoding = p.output_encoding.as_deref().unwrap_or("");
        let bytes = match super::output_encoding::encode(&rendered, encoding) {
            Ok(b) => b,
            Err(e) => return Ok(ModuleResult::failed(e.to_string())),
        };
        let (dest, stats, create_parent) = resolve_dest(ctx, &p.dest, &base_name(&p.src)).await?;
        let w = FileWrite {
            module: "template",
            dest,
            checksum: sha1_hex(&bytes),
            data: Data::Bytes(bytes),
            attrs: AttrRequest {
                mode: match (&p.attrs.mode, src_mode) {
                    (Some(Mode::Preserve), m) => m.map(Mode::Octal),
                    (m, _) => m.clone(),
                },
                owner: p.attrs.owner.clone(),
                group: p.attrs.group.clone(),
            },
            backup: p.backup,
            force: p.force,
            validate: p.validate.clone(),
            follow: p.follow,
            create_parent,
            diff_header: local.display().to_string(),
            attributes: p.attrs.attributes.clone(),
        };
        let r = converge_file(ctx, &w, &stats).await?;
        Ok(r.with("src", local.display().to_string()))
    }
}

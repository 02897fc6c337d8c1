//! `slurp`: reads a file from the target and returns its contents base64-encoded.

use async_trait::async_trait;
use base64::Engine;
use drover_core::connection::ExecRequest;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;

use crate::params::de_string;
use crate::remote::quote_path;

/// Parameters of `slurp`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct SlurpParams {
    /// The file to read.
    #[serde(alias = "path", deserialize_with = "de_string")]
    pub src: String,
}

/// The `slurp` module.
pub struct Slurp;

/// The shell snippet reading `path`, or reporting why it cannot (`@missing`, `@isdir`,
/// `@unreadable` with exit status 3).
pub(crate) fn read_script(path: &str) -> String {
    let q = quote_path(path);
    format!(
        "p={q}\n[ -e \"$p\" ] || {{ echo '@missing'; exit 3; }}\n\
         [ -d \"$p\" ] && {{ echo '@isdir'; exit 3; }}\n\
         [ -r \"$p\" ] || {{ echo '@unreadable'; exit 3; }}\n\
         exec cat -- \"$p\"\n"
    )
}

/// Explains a failed [`read_script`] run the way ansible-core 2.19 words it.
pub(crate) fn read_failure(path: &str, rc: i32, stdout: &[u8], stderr: &str) -> String {
    let out = String::from_utf8_lossy(stdout);
    if rc == 3 && out.starts_with("@missing") {
        format!("File not found: {path}")
    } else if rc == 3 && out.starts_with("@isdir") {
        format!("Source is a directory and must be a file: {path}")
    } else if rc == 3 && out.starts_with("@unreadable") {
        format!("File is not readable: {path}")
    } else {
        format!("reading {path} failed (rc {rc}): {}", stderr.trim())
    }
}

#[async_trait]
impl TypedModule for Slurp {
    const NAME: &'static str = "slurp";
    type Params = SlurpParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: SlurpParams,
    ) -> Result<ModuleResult, ModuleError> {
        let out = ctx.conn.exec(ExecRequest::new(read_script(&p.src))).await?;
        if out.rc != 0 {
            return Ok(ModuleResult::failed(read_failure(
                &p.src,
                out.rc,
                &out.stdout,
                &out.stderr_str(),
            )));
        }
        let content = base64::engine::general_purpose::STANDARD.encode(&out.stdout);
        Ok(ModuleResult::ok()
            .with("content", content)
            .with("encoding", "base64")
            .with("source", p.src.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_worded_like_ansible() {
        assert_eq!(
            read_failure("/x", 3, b"@missing\n", ""),
            "File not found: /x"
        );
        assert!(read_failure("/x", 1, b"", "boom").contains("boom"));
    }
}

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
/// `@unreadable`, `@other` with exit status 3). The reason is the error opening the file gives,
/// as slurp.py maps `open()`'s errno: a file under a directory the user cannot search is
/// unreadable (EACCES), not missing.
pub(crate) fn read_script(path: &str) -> String {
    let q = quote_path(path);
    format!(
        "p={q}\n[ -r \"$p\" ] && [ ! -d \"$p\" ] && exec cat -- \"$p\"\n\
         [ -d \"$p\" ] && {{ echo '@isdir'; exit 3; }}\n\
         case $(LC_ALL=C cat -- \"$p\" 2>&1 >/dev/null) in\n\
         *'Permission denied'*) echo '@unreadable' ;;\n\
         *'Is a directory'*) echo '@isdir' ;;\n\
         *'No such file'*) echo '@missing' ;;\n\
         *) echo '@other' ;;\n\
         esac\nexit 3\n"
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
    } else if rc == 3 && out.starts_with("@other") {
        // slurp.py's message, without the path (its format string lacks the `f`).
        "Unable to slurp file: {source}".to_string()
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
        assert_eq!(
            read_failure("/x", 3, b"@unreadable\n", ""),
            "File is not readable: /x"
        );
        assert_eq!(
            read_failure("/x/y", 3, b"@other\n", ""),
            "Unable to slurp file: {source}"
        );
    }
}

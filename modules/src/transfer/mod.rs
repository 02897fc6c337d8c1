//! Transfer modules: moving files between controller, targets and web servers (`fetch`, `slurp`,
//! `get_url`, `uri`, `unarchive`, `archive`, `synchronize`), and the small helpers they share.

pub mod archive;
pub mod fetch;
pub mod get_url;
mod get_url_args;
pub(crate) mod http;
pub mod slurp;
pub mod synchronize;
pub mod unarchive;
pub mod uri;
mod uri_body;

use drover_core::module::ModuleError;

/// A `BadArgs` error for `module`.
pub(crate) fn bad_args(module: &str, message: impl Into<String>) -> ModuleError {
    ModuleError::BadArgs {
        module: module.into(),
        message: message.into(),
    }
}

/// Splits a script's output into `@key value` marker lines and other text.
pub(crate) fn marker<'a>(out: &'a str, key: &str) -> Option<&'a str> {
    let prefix = format!("@{key} ");
    out.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .or_else(|| out.lines().any(|l| l == format!("@{key}")).then_some(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_markers() {
        let out = "x\n@status 200\n@nodest\n";
        assert_eq!(marker(out, "status"), Some("200"));
        assert_eq!(marker(out, "nodest"), Some(""));
        assert_eq!(marker(out, "other"), None);
    }
}

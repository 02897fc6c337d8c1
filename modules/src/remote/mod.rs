//! Helpers shared by modules that work on the target: shell quoting of paths, the one-round-trip
//! stat probe, file modes, checksums and ownership commands.

pub mod attrs;
pub mod chattr;
pub mod checksum;
pub mod file_attrs;
pub mod mode;
pub mod path_info;
pub mod probe;
pub mod rewrite;

pub use drover_core::connection::quote_path;

use drover_core::connection::HostConnection;
use drover_core::module::ModuleError;

/// A `type: path` argument as Ansible's module on the target sees it: `$VAR`, `${VAR}` and a
/// leading `~` expanded in the target's environment (Python's `expanduser(expandvars(p))`; unset
/// variables stay as written). Paths with neither are returned without a round trip; when the
/// target shell fails the path is kept as written (the caller then reports it missing).
pub async fn expand_path(conn: &HostConnection, path: &str) -> Result<String, ModuleError> {
    if !needs_expansion(path) {
        return Ok(path.to_string());
    }
    let script = format!(
        "printf '%s' {}",
        crate::commands::command::quote_arg(path, true)
    );
    let out = conn.run_script(script).await?;
    Ok(if out.rc == 0 {
        out.stdout_str()
    } else {
        path.to_string()
    })
}

/// True when `path` has something [`expand_path`] would expand.
pub fn needs_expansion(path: &str) -> bool {
    path.contains('$') || path.starts_with('~')
}

/// Quotes a glob pattern (`creates:`/`removes:`): `*`, `?` and `[...]` stay active, everything
/// else is quoted.
pub fn quote_glob(pattern: &str) -> String {
    let mut out = String::new();
    let mut literal = String::new();
    let flush = |literal: &mut String, out: &mut String| {
        if !literal.is_empty() {
            out.push_str(&quote_path(literal));
            literal.clear();
        }
    };
    for c in pattern.chars() {
        if matches!(c, '*' | '?' | '[' | ']') {
            flush(&mut literal, &mut out);
            out.push(c);
        } else {
            literal.push(c);
        }
    }
    flush(&mut literal, &mut out);
    if out.is_empty() {
        out.push_str("''");
    }
    out
}

/// The directory part of `path` (`/etc` for `/etc/hosts`, `.` for `hosts`).
pub fn parent_dir(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rfind('/') {
        Some(0) => "/".to_string(),
        Some(i) => trimmed[..i].to_string(),
        None => ".".to_string(),
    }
}

/// The last component of `path` (`hosts` for `/etc/hosts/`).
pub fn base_name(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_string()
}

/// Joins a directory and a relative name with exactly one `/`.
pub fn join_path(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_keep_wildcards() {
        assert_eq!(quote_glob("/tmp/a b*.txt"), "'/tmp/a b'*.txt");
        assert_eq!(quote_glob("/etc/passwd"), "/etc/passwd");
    }

    #[test]
    fn path_parts() {
        assert_eq!(parent_dir("/etc/hosts"), "/etc");
        assert_eq!(parent_dir("/hosts"), "/");
        assert_eq!(parent_dir("hosts"), ".");
        assert_eq!(base_name("/a/b/"), "b");
        assert_eq!(join_path("/a/", "b"), "/a/b");
        assert_eq!(join_path("/a", "b"), "/a/b");
    }
}

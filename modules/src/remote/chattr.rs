//! File attributes as ansible-core handles them: `lsattr` flags in `stat` results and the
//! `attributes` option (`chattr`) of the file modules, and the SELinux context options, which
//! drover does not manage: ignored where SELinux is off (as ansible-core ignores them there), a
//! clear failure where it is on.

use drover_core::connection::shell_quote;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult};
use serde_json::{Map, Value};

use super::probe::{probe_one, ProbeRequest};
use super::quote_path;

/// lsattr's flag letters and the names ansible-core reports for them
/// (`ansible.module_utils.common.file.FILE_ATTRIBUTES`).
const FILE_ATTRIBUTES: &[(char, &str)] = &[
    ('A', "noatime"),
    ('a', "append"),
    ('c', "compressed"),
    ('C', "nocow"),
    ('d', "nodump"),
    ('D', "dirsync"),
    ('e', "extents"),
    ('E', "encrypted"),
    ('h', "blocksize"),
    ('i', "immutable"),
    ('I', "indexed"),
    ('j', "journalled"),
    ('N', "inline"),
    ('s', "zero"),
    ('S', "synchronous"),
    ('t', "notail"),
    ('T', "blockroot"),
    ('u', "undelete"),
    ('X', "compressedraw"),
    ('Z', "compresseddirty"),
];

/// The attribute names for lsattr flags (`ie` → `["immutable", "extents"]`), in flag order.
pub fn attribute_names(flags: &str) -> Vec<&'static str> {
    flags
        .chars()
        .filter_map(|c| {
            FILE_ATTRIBUTES
                .iter()
                .find(|(f, _)| *f == c)
                .map(|(_, n)| *n)
        })
        .collect()
}

/// Adds `stat`'s `get_attributes` keys: `version`, `attributes`, `attr_flags` (null, `[]` and
/// `""` when `lsattr -vd` gave nothing, as ansible-core reports them: it asks for the version
/// too, so a file system with flags but no versions reports none).
pub fn add_stat_keys(m: &mut Map<String, Value>, lsattr: Option<&(Option<String>, String)>) {
    let (version, flags) = match lsattr {
        Some((Some(v), f)) => (Value::String(v.clone()), f.as_str()),
        _ => (Value::Null, ""),
    };
    m.insert("version".into(), version);
    m.insert("attributes".into(), attribute_names(flags).into());
    m.insert("attr_flags".into(), flags.into());
}

/// The `chattr` argument for a requested `attributes` value and the current flags, or `None`
/// when nothing changes. As ansible-core's `set_attributes_if_different`: `=` unless the value
/// starts with `+`/`-`; a change when the flags differ from the requested letters (compared as
/// written), and always for `-`.
pub fn chattr_arg(requested: &str, current: &str) -> Option<String> {
    let (op, flags) = match requested.chars().next() {
        Some(c @ ('+' | '-')) => (c, &requested[1..]),
        _ => ('=', requested),
    };
    (!flags.is_empty() && (current != flags || op == '-')).then(|| format!("{op}{flags}"))
}

/// Applies `attributes` to `path` after the module's own work, as ansible-core does last:
/// reports a change (with a diff entry under `--diff`), runs `chattr` unless in check mode, and
/// fails with ansible-core's `chattr failed` when it does not succeed.
pub async fn apply_attributes(
    ctx: &ModuleContext<'_>,
    path: &str,
    requested: &str,
    r: ModuleResult,
) -> Result<ModuleResult, ModuleError> {
    apply_attributes_to(ctx, path, requested, r, true).await
}

/// [`apply_attributes`], where `missing_changes` says whether a path still missing afterwards
/// (check mode) counts as a change; modules that may leave no file (`lineinfile` with
/// `state: absent` on a missing file) pass false: their result already says what happens.
pub async fn apply_attributes_to(
    ctx: &ModuleContext<'_>,
    path: &str,
    requested: &str,
    mut r: ModuleResult,
    missing_changes: bool,
) -> Result<ModuleResult, ModuleError> {
    let req = ProbeRequest {
        follow: true,
        attributes: true,
        ..ProbeRequest::new(path)
    };
    let stat = probe_one(ctx.conn, req).await?;
    let Some(info) = &stat.info else {
        // Only in check mode can the path still be missing: ansible-core reports a change.
        r.changed |= missing_changes;
        return Ok(r);
    };
    let current = info.attributes.as_ref().map(|(_, f)| f.as_str());
    let Some(arg) = chattr_arg(requested, current.unwrap_or("")) else {
        return Ok(r);
    };
    if !ctx.check_mode {
        let out = ctx
            .conn
            .run(format!("chattr {} {}", shell_quote(&arg), quote_path(path)))
            .await?;
        if out.rc == 127 {
            return Ok(r); // no chattr on the host: ansible-core skips the attributes
        }
        if out.rc != 0 || !out.stderr.is_empty() {
            let details = format!(
                "Error while setting attributes: {}{}",
                out.stdout_str(),
                out.stderr_str()
            );
            return Ok(ModuleResult::failed("chattr failed")
                .with("path", path)
                .with("details", details));
        }
    }
    r.changed = true;
    if ctx.diff {
        r = r.with_diff(drover_core::module::Diff {
            before_header: Some(format!("{path} (attributes)")),
            after_header: Some(format!("{path} (attributes)")),
            before: format!("{}\n", current.unwrap_or("")),
            after: format!("{arg}\n"),
        });
    }
    Ok(r)
}

/// The SELinux context options of ansible-core's file arguments.
pub const SELINUX_KEYS: [&str; 4] = ["seuser", "serole", "setype", "selevel"];

/// Fails when an SELinux context option is set and the host has SELinux enabled (drover does not
/// set contexts); where SELinux is off they are ignored, as ansible-core ignores them.
pub async fn check_selinux(
    ctx: &ModuleContext<'_>,
    options: &[(&str, &Option<String>)],
) -> Result<Option<ModuleResult>, ModuleError> {
    let set: Vec<&str> = options
        .iter()
        .filter(|(_, v)| v.is_some())
        .map(|(k, _)| *k)
        .collect();
    if set.is_empty() {
        return Ok(None);
    }
    let enforce = probe_one(ctx.conn, ProbeRequest::new("/sys/fs/selinux/enforce")).await?;
    Ok(enforce.exists().then(|| {
        ModuleResult::failed(format!(
            "SELinux is enabled on this host and drover does not set SELinux contexts: remove {}",
            set.join(", ")
        ))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_have_ansible_core_names() {
        assert_eq!(attribute_names("ie"), vec!["immutable", "extents"]);
        assert_eq!(attribute_names(""), Vec::<&str>::new());
    }

    #[test]
    fn chattr_changes_as_ansible_core_decides() {
        assert_eq!(chattr_arg("i", "e").as_deref(), Some("=i"));
        assert_eq!(chattr_arg("e", "e"), None);
        assert_eq!(chattr_arg("+i", "i"), None);
        assert_eq!(chattr_arg("+i", "e").as_deref(), Some("+i"));
        assert_eq!(chattr_arg("-i", "e").as_deref(), Some("-i"));
        assert_eq!(chattr_arg("", "e"), None);
    }
}

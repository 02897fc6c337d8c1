//! Ownership and permission attributes (`mode`, `owner`, `group`): comparing them with what the
//! probe found and producing the `chown`/`chmod` commands that fix them.

use serde_json::{Map, Value};

use super::mode::{chmod_octal, format_mode, Mode};
use super::probe::StatInfo;

/// The attributes a task asks for; `None` leaves an attribute alone.
#[derive(Debug, Clone, Default)]
pub struct AttrRequest {
    /// Requested mode.
    pub mode: Option<Mode>,
    /// Requested owner (name or numeric id).
    pub owner: Option<String>,
    /// Requested group (name or numeric id).
    pub group: Option<String>,
}

/// Attribute changes needed on one path.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttrPlan {
    /// Mode change: (before, after) permission bits.
    pub mode: Option<(u32, u32)>,
    /// Owner change: (before, after), names or ids as given.
    pub owner: Option<(String, String)>,
    /// Group change: (before, after).
    pub group: Option<(String, String)>,
}

impl AttrPlan {
    /// True when nothing needs changing.
    pub fn is_empty(&self) -> bool {
        self.mode.is_none() && self.owner.is_none() && self.group.is_none()
    }

    /// Shell commands applying the plan to `quoted_path`; `no_deref` changes a symlink itself.
    pub fn commands(&self, quoted_path: &str, no_deref: bool) -> String {
        let mut cmds = Vec::new();
        let h = if no_deref { " -h" } else { "" };
        match (&self.owner, &self.group) {
            (Some((_, o)), Some((_, g))) => cmds.push(format!(
                "chown{h} {} -- {quoted_path}",
                drover_core::connection::shell_quote(&format!("{o}:{g}"))
            )),
            (Some((_, o)), None) => cmds.push(format!(
                "chown{h} {} -- {quoted_path}",
                drover_core::connection::shell_quote(o)
            )),
            (None, Some((_, g))) => cmds.push(format!(
                "chgrp{h} {} -- {quoted_path}",
                drover_core::connection::shell_quote(g)
            )),
            (None, None) => {}
        }
        if let Some((_, m)) = self.mode {
            if !no_deref {
                cmds.push(format!("chmod {} -- {quoted_path}", chmod_octal(m)));
            }
        }
        cmds.join(" && ")
    }

    /// Adds the changed attributes to Ansible-style `before`/`after` diff maps.
    pub fn add_to_diff(&self, before: &mut Map<String, Value>, after: &mut Map<String, Value>) {
        if let Some((b, a)) = self.mode {
            before.insert("mode".into(), format_mode(b).into());
            after.insert("mode".into(), format_mode(a).into());
        }
        if let Some((b, a)) = &self.owner {
            before.insert("owner".into(), b.clone().into());
            after.insert("owner".into(), a.clone().into());
        }
        if let Some((b, a)) = &self.group {
            before.insert("group".into(), b.clone().into());
            after.insert("group".into(), a.clone().into());
        }
    }
}

impl AttrRequest {
    /// True when no attribute is requested.
    pub fn is_empty(&self) -> bool {
        self.mode.is_none() && self.owner.is_none() && self.group.is_none()
    }

    /// Compares the requested attributes with `current`.
    pub fn plan(&self, current: &StatInfo) -> Result<AttrPlan, String> {
        let mut plan = AttrPlan::default();
        if let Some(mode) = &self.mode {
            let is_dir = current.file_type == super::probe::FileType::Directory;
            let want = mode.resolve(current.mode, is_dir)?;
            if want != current.mode {
                plan.mode = Some((current.mode, want));
            }
        }
        if let Some(owner) = &self.owner {
            if !same_principal(owner, &current.owner, current.uid) {
                plan.owner = Some((current.owner.clone(), owner.clone()));
            }
        }
        if let Some(group) = &self.group {
            if !same_principal(group, &current.group, current.gid) {
                plan.group = Some((current.group.clone(), group.clone()));
            }
        }
        Ok(plan)
    }

    /// Attribute changes for a path that does not exist yet (everything requested is "changed").
    pub fn plan_new(&self, is_dir: bool, umask_default: u32) -> Result<AttrPlan, String> {
        let base = if is_dir {
            0o777 & !umask_default
        } else {
            0o666 & !umask_default
        };
        Ok(AttrPlan {
            mode: match &self.mode {
                Some(m) => Some((base, m.resolve(base, is_dir)?)),
                None => None,
            },
            owner: self.owner.clone().map(|o| (String::new(), o)),
            group: self.group.clone().map(|g| (String::new(), g)),
        })
    }
}

/// True when the requested `want` (name or numeric id) names the current owner/group.
fn same_principal(want: &str, name: &str, id: u32) -> bool {
    if want.bytes().all(|b| b.is_ascii_digit()) && !want.is_empty() {
        want.parse::<u32>().ok() == Some(id)
    } else {
        want == name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(mode: u32, owner: &str, uid: u32) -> StatInfo {
        StatInfo {
            mode,
            owner: owner.into(),
            uid,
            group: "root".into(),
            ..StatInfo::default()
        }
    }

    #[test]
    fn plans_only_what_differs() {
        let attrs = AttrRequest {
            mode: Some(Mode::Octal(0o600)),
            owner: Some("0".into()),
            group: Some("root".into()),
        };
        let plan = attrs.plan(&info(0o644, "root", 0)).unwrap();
        assert_eq!(plan.mode, Some((0o644, 0o600)));
        assert!(plan.owner.is_none() && plan.group.is_none());
        assert_eq!(plan.commands("/x", false), "chmod 00600 -- /x");
    }

    #[test]
    fn owner_and_group_in_one_chown() {
        let attrs = AttrRequest {
            owner: Some("nobody".into()),
            group: Some("nogroup".into()),
            ..AttrRequest::default()
        };
        let plan = attrs.plan(&info(0o644, "root", 0)).unwrap();
        assert_eq!(plan.commands("/x", true), "chown -h nobody:nogroup -- /x");
    }

    #[test]
    fn octal_mode_clears_a_directorys_inherited_setgid_bit() {
        // A directory made inside a setgid directory (e.g. /etc/bind) inherits the bit; mode
        // "0755" must remove it, as ansible-core's os.chmod does: GNU chmod keeps it for a
        // four-digit numeric mode on a directory, so the command uses five digits.
        let attrs = AttrRequest {
            mode: Some(Mode::Octal(0o755)),
            ..AttrRequest::default()
        };
        let mut current = info(0o2755, "root", 0);
        current.file_type = super::super::probe::FileType::Directory;
        let plan = attrs.plan(&current).unwrap();
        assert_eq!(plan.mode, Some((0o2755, 0o755)));
        assert_eq!(plan.commands("/d", false), "chmod 00755 -- /d");
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        let chmod = |m: &str, p: &std::path::Path| {
            assert!(std::process::Command::new("chmod")
                .arg(m)
                .arg(p)
                .status()
                .unwrap()
                .success())
        };
        chmod("2755", &sub);
        chmod(&super::super::mode::chmod_octal(0o755), &sub);
        use std::os::unix::fs::PermissionsExt;
        let bits = std::fs::metadata(&sub).unwrap().permissions().mode() & 0o7777;
        assert_eq!(bits, 0o755, "{bits:o}");
    }
}

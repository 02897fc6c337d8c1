//! The extra variables Ansible's `template` action defines while rendering: `template_path`,
//! `template_fullpath`, `template_destpath`, `template_host`, `template_uid`,
//! `template_run_date` and `ansible_managed`.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use drover_core::utc::format_utc;
use drover_core::vars::Vars;
use serde_json::Value;

/// Ansible's default `ansible_managed` text.
pub const DEFAULT_MANAGED: &str = "Ansible managed";

/// Builds the template variables for rendering `template` (a controller path) to `dest`.
/// `ansible_managed` is only set when the host's variables do not define it.
pub fn template_vars(template: &Path, dest: &str, host_vars: &Vars) -> Vars {
    let mut v = Vars::new();
    let full = std::fs::canonicalize(template).unwrap_or_else(|_| template.to_path_buf());
    v.insert(
        "template_path".into(),
        template.display().to_string().into(),
    );
    v.insert(
        "template_fullpath".into(),
        full.display().to_string().into(),
    );
    v.insert("template_destpath".into(), dest.into());
    v.insert("template_host".into(), controller_hostname().into());
    let uid = std::fs::metadata(template).map(|m| m.uid()).unwrap_or(0);
    v.insert(
        "template_uid".into(),
        user_name(uid).unwrap_or_else(|| uid.to_string()).into(),
    );
    v.insert("template_run_date".into(), utc_now_text().into());
    if !host_vars.contains_key("ansible_managed") {
        v.insert(
            "ansible_managed".into(),
            Value::String(DEFAULT_MANAGED.into()),
        );
    }
    v
}

fn controller_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

/// The name of user `uid` from `/etc/passwd`.
fn user_name(uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut f = line.split(':');
        let name = f.next()?;
        let id: u32 = f.nth(1)?.parse().ok()?;
        (id == uid).then(|| name.to_string())
    })
}

/// The current time as `YYYY-MM-DD HH:MM:SS` (UTC).
fn utc_now_text() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format_utc(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_formatting() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00");
        assert_eq!(format_utc(1_577_979_045), "2020-01-02 15:30:45");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00:00");
    }

    #[test]
    fn managed_respects_host_vars() {
        let mut host = Vars::new();
        let v = template_vars(Path::new("/etc/hostname"), "/x", &host);
        assert_eq!(v["ansible_managed"], DEFAULT_MANAGED);
        assert_eq!(v["template_destpath"], "/x");
        host.insert("ansible_managed".into(), "mine".into());
        assert!(
            !template_vars(Path::new("/etc/hostname"), "/x", &host).contains_key("ansible_managed")
        );
    }
}

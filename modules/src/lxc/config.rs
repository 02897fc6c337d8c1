//! `container_config`: the `key = value` lines a container's config file must have, applied
//! idempotently.
//!
//! A key LXC reads once (`lxc.cgroup2.memory.max`, `lxc.start.auto`, `lxc.net.0.link`, …)
//! owns one line: an edited value replaces that line in place, and later duplicates of the key
//! are removed (LXC would use the last one, which is how community.general's appended
//! duplicates go wrong). A key LXC takes many times (see [`is_multi_valued`]) gets the line
//! added after the key's last line when that exact value is missing; other values stay.
//! Comments, blank lines and other keys are kept byte for byte.

/// One requested `key = value` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigEntry {
    /// The key, trimmed.
    pub key: String,
    /// The value, trimmed, inner whitespace runs kept.
    pub value: String,
}

impl ConfigEntry {
    /// The line written to the file.
    pub fn line(&self) -> String {
        format!("{} = {}", self.key, self.value)
    }
}

/// Parses the `container_config` items; an item without `=` or with an empty key is an error
/// naming it.
pub fn parse_entries(items: &[String]) -> Result<Vec<ConfigEntry>, String> {
    items
        .iter()
        .map(|item| {
            let (key, value) = item.split_once('=').ok_or_else(|| {
                format!("container_config: {item:?} is not a `key = value` line (no `=`)")
            })?;
            let key = key.trim();
            if key.is_empty() || key.contains(char::is_whitespace) {
                return Err(format!(
                    "container_config: {item:?} has no valid key before `=`"
                ));
            }
            Ok(ConfigEntry {
                key: key.to_string(),
                value: value.trim().to_string(),
            })
        })
        .collect()
}

/// Keys LXC accepts more than once, each occurrence adding a value.
pub fn is_multi_valued(key: &str) -> bool {
    const EXACT: &[&str] = &[
        "lxc.mount.entry",
        "lxc.cap.drop",
        "lxc.cap.keep",
        "lxc.include",
        "lxc.environment",
        "lxc.idmap",
        "lxc.apparmor.raw",
        "lxc.cgroup.devices.allow",
        "lxc.cgroup.devices.deny",
        "lxc.cgroup2.devices.allow",
        "lxc.cgroup2.devices.deny",
        "lxc.group",
        "lxc.seccomp.notify.cookie",
    ];
    if EXACT.contains(&key) || key.starts_with("lxc.hook.") {
        return true;
    }
    // lxc.net.N.ipv4.address / lxc.net.N.ipv6.address
    let mut parts = key.split('.');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next()),
        (Some("lxc"), Some("net"), Some(n), Some("ipv4" | "ipv6"), Some("address"), None)
            if n.chars().all(|c| c.is_ascii_digit())
    )
}

/// The key and normalized value of a config line, or `None` for comments, blanks and lines
/// without `=`.
fn line_key_value(line: &str) -> Option<(&str, String)> {
    let trimmed = line.trim_start();
    if trimmed.starts_with('#') {
        return None;
    }
    let (key, value) = trimmed.split_once('=')?;
    let key = key.trim();
    if key.is_empty() {
        return None;
    }
    Some((key, value.split_whitespace().collect::<Vec<_>>().join(" ")))
}

/// The config text with the entries applied; equal to `current` when nothing changes.
pub fn apply_entries(current: &str, entries: &[ConfigEntry]) -> String {
    let mut lines: Vec<String> = current.lines().map(str::to_string).collect();
    for entry in entries {
        let want = entry.value.split_whitespace().collect::<Vec<_>>().join(" ");
        let positions: Vec<(usize, String)> = lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| {
                line_key_value(l)
                    .filter(|(k, _)| *k == entry.key)
                    .map(|(_, v)| (i, v))
            })
            .collect();
        if is_multi_valued(&entry.key) {
            if positions.iter().any(|(_, v)| *v == want) {
                continue;
            }
            match positions.last() {
                Some((i, _)) => lines.insert(i + 1, entry.line()),
                None => lines.push(entry.line()),
            }
            continue;
        }
        match positions.split_first() {
            None => lines.push(entry.line()),
            Some(((first, value), rest)) => {
                if *value != want || !rest.is_empty() {
                    lines[*first] = entry.line();
                    for (i, _) in rest.iter().rev() {
                        lines.remove(*i);
                    }
                }
            }
        }
    }
    if lines.is_empty() {
        return String::new();
    }
    let mut text = lines.join("\n");
    text.push('\n');
    if text == format!("{current}\n") && !current.ends_with('\n') {
        // No edit: keep the file exactly as it was (no final newline added).
        return current.to_string();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(items: &[&str]) -> Vec<ConfigEntry> {
        parse_entries(&items.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    const BASE: &str = "# comment\nlxc.uts.name = web\nlxc.mount.entry = /a a none bind 0 0\n\nlxc.start.auto = 0\n";

    #[test]
    fn edited_key_replaces_its_line_instead_of_appending_a_duplicate() {
        let out = apply_entries(BASE, &entries(&["lxc.start.auto=1"]));
        assert_eq!(
            out,
            "# comment\nlxc.uts.name = web\nlxc.mount.entry = /a a none bind 0 0\n\nlxc.start.auto = 1\n"
        );
        assert_eq!(out.matches("lxc.start.auto").count(), 1);
        // Applying again changes nothing.
        assert_eq!(apply_entries(&out, &entries(&["lxc.start.auto = 1"])), out);
    }

    #[test]
    fn same_value_with_other_spacing_is_no_change() {
        assert_eq!(
            apply_entries(
                BASE,
                &entries(&["lxc.mount.entry=/a  a none bind 0 0", "lxc.uts.name= web"])
            ),
            BASE
        );
    }

    #[test]
    fn new_key_is_appended_and_multi_valued_keys_add_lines() {
        let out = apply_entries(
            BASE,
            &entries(&[
                "lxc.mount.entry = /b b none bind 0 0",
                "lxc.cgroup2.memory.max = 64M",
            ]),
        );
        assert_eq!(
            out,
            "# comment\nlxc.uts.name = web\nlxc.mount.entry = /a a none bind 0 0\nlxc.mount.entry = /b b none bind 0 0\n\nlxc.start.auto = 0\nlxc.cgroup2.memory.max = 64M\n"
        );
    }

    #[test]
    fn duplicates_of_a_single_valued_key_collapse_to_one() {
        let cur = "lxc.start.auto = 0\nlxc.start.auto = 1\n";
        assert_eq!(
            apply_entries(cur, &entries(&["lxc.start.auto = 1"])),
            "lxc.start.auto = 1\n"
        );
    }

    #[test]
    fn comments_mentioning_the_key_are_not_edited() {
        let cur = "#lxc.apparmor.profile = unconfined\n";
        assert_eq!(
            apply_entries(cur, &entries(&["lxc.apparmor.profile = unconfined"])),
            "#lxc.apparmor.profile = unconfined\nlxc.apparmor.profile = unconfined\n"
        );
    }

    #[test]
    fn bad_lines_are_refused() {
        let err = parse_entries(&["lxc.start.auto".to_string()]).unwrap_err();
        assert!(err.contains("no `=`"), "{err}");
        assert!(parse_entries(&[" = 1".to_string()]).is_err());
    }

    #[test]
    fn multi_valued_keys() {
        assert!(is_multi_valued("lxc.net.0.ipv4.address"));
        assert!(is_multi_valued("lxc.hook.pre-start"));
        assert!(!is_multi_valued("lxc.net.0.ipv4.gateway"));
        assert!(!is_multi_valued("lxc.net.0.link"));
    }
}

//! The file facts ansible-core's `AnsibleModule.exit_json` adds to a result that has a `path`
//! (`add_path_info`): `uid`, `gid`, `owner`, `group`, `mode`, `state` (`file`, `directory`,
//! `link`, `hard`) and `size`, read with `stat` on the target.

use drover_core::connection::{quote_path, HostConnection};
use drover_core::module::{ModuleError, ModuleResult};
use serde_json::Value;

/// The script printing `uid gid owner group mode(octal) kind nlink size` of `path` (unfollowed),
/// then the number of links of what it points to; nothing if it does not exist.
fn script(path: &str) -> String {
    let q = quote_path(path);
    format!(
        "[ -e {q} ] || [ -L {q} ] || exit 0; stat -c '%u %g %U %G %a %F %s' {q} && stat -L -c '%h %F' {q}"
    )
}

/// Parses [`script`]'s output into result keys, in ansible-core's order.
fn parse(out: &str) -> Vec<(&'static str, Value)> {
    let mut lines = out.lines();
    let (Some(first), Some(second)) = (lines.next(), lines.next()) else {
        return Vec::new();
    };
    let f: Vec<&str> = first.split(' ').collect();
    let (Some(uid), Some(gid)) = (
        f.first().and_then(|v| v.parse::<u64>().ok()),
        f.get(1).and_then(|v| v.parse::<u64>().ok()),
    ) else {
        return Vec::new();
    };
    let name = |i: usize, id: u64| match f.get(i) {
        Some(n) if *n != "UNKNOWN" => n.to_string(),
        _ => id.to_string(),
    };
    let mode = f
        .get(4)
        .and_then(|m| u32::from_str_radix(m, 8).ok())
        .unwrap_or(0);
    let kind = f[5..f.len().saturating_sub(1).max(5)].join(" ");
    let size: u64 = f.last().and_then(|s| s.parse().ok()).unwrap_or(0);
    let (links, target_kind) = second.split_once(' ').unwrap_or((second, ""));
    let state = if kind == "symbolic link" {
        "link"
    } else if target_kind == "directory" {
        "directory"
    } else if links.parse::<u64>().unwrap_or(1) > 1 {
        "hard"
    } else {
        "file"
    };
    vec![
        ("uid", Value::from(uid)),
        ("gid", Value::from(gid)),
        ("owner", Value::from(name(2, uid))),
        ("group", Value::from(name(3, gid))),
        ("mode", Value::from(format!("0{mode:03o}"))),
        ("state", Value::from(state)),
        ("size", Value::from(size)),
    ]
}

/// Adds the path facts of `path` to `result`, as `exit_json` does (nothing if it is missing).
pub async fn add_path_info(
    conn: &HostConnection,
    path: &str,
    result: &mut ModuleResult,
) -> Result<(), ModuleError> {
    let out = conn.run(script(path)).await?;
    for (k, v) in parse(&out.stdout_str()) {
        result.data.insert(k.to_string(), v);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_stat_output() {
        let keys = parse("0 0 root root 644 regular file 93\n1 regular file\n");
        assert_eq!(keys[4], ("mode", Value::from("0644")));
        assert_eq!(keys[5], ("state", Value::from("file")));
        assert_eq!(keys[6], ("size", Value::from(93)));
        let keys =
            parse("1000 1000 UNKNOWN UNKNOWN 600 regular empty file 0\n2 regular empty file\n");
        assert_eq!(keys[2], ("owner", Value::from("1000")));
        assert_eq!(keys[5], ("state", Value::from("hard")));
        assert!(parse("").is_empty());
    }
}

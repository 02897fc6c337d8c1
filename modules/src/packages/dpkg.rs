//! Shared dpkg/apt helpers: the environment and options every apt-get call gets, the one-round-trip
//! package state query (`dpkg-query` + `apt-cache policy`), and parsing of their output.

use std::collections::BTreeMap;

use drover_core::connection::shell_quote;

/// Environment Ansible's apt module sets for every apt/dpkg call (non-interactive, C locale).
pub const APT_ENV: &str = "DEBIAN_FRONTEND=noninteractive DEBIAN_PRIORITY=critical LANG=C LC_ALL=C LC_MESSAGES=C LC_CTYPE=C";

/// The default `dpkg_options` of Ansible's apt module.
pub const DEFAULT_DPKG_OPTIONS: &str = "force-confdef,force-confold";

/// Marker apt-get prints when a transaction changes nothing.
pub const APT_GET_ZERO: &str = "\n0 upgraded, 0 newly installed";

/// `-o "Dpkg::Options::=--X"` for each comma-separated dpkg option.
pub fn expand_dpkg_options(options: &str) -> String {
    options
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|o| format!("-o \"Dpkg::Options::=--{o}\""))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The dpkg state of one package (`dpkg-query -W`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DpkgState {
    /// `db:Status-Abbrev`, e.g. `ii`, `rc`.
    pub status: String,
    /// The installed (or last installed) version.
    pub version: String,
}

impl DpkgState {
    /// Fully installed (`ii`): apt's `CURSTATE_INSTALLED`.
    pub fn installed(&self) -> bool {
        self.status.get(1..2) == Some("i")
    }
    /// Files remain on the host (installed, or removed with config files left): a purge changes it.
    pub fn has_files(&self) -> bool {
        matches!(
            self.status.get(1..2),
            Some("i" | "c" | "U" | "F" | "W" | "t" | "H")
        )
    }
}

/// What `apt-cache policy` says about one package.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// Installed version, if any.
    pub installed: Option<String>,
    /// Candidate version, if any.
    pub candidate: Option<String>,
    /// Versions in the version table with their priority, in apt's order (highest first).
    pub versions: Vec<(String, i32)>,
}

/// Everything known about the requested packages after one query round trip.
#[derive(Debug, Clone, Default)]
pub struct PackageQuery {
    /// dpkg state by requested name.
    pub dpkg: BTreeMap<String, DpkgState>,
    /// apt policy by package name as apt prints it.
    pub policy: BTreeMap<String, Policy>,
}

impl PackageQuery {
    /// The policy of `name` (arch-qualified names fall back to the bare name).
    pub fn policy(&self, name: &str) -> Option<&Policy> {
        self.policy.get(name).or_else(|| {
            name.split_once(':')
                .and_then(|(bare, _)| self.policy.get(bare))
        })
    }
}

/// Marker lines of the query script.
pub const DPKG_MARK: &str = "@@drover-dpkg ";
/// Start of `apt-cache policy` output in the query script.
pub const POLICY_MARK: &str = "@@drover-policy";

/// Shell script printing the dpkg state of each name and `apt-cache policy` for all of them.
pub fn query_script(names: &[String]) -> String {
    if names.is_empty() {
        return String::new();
    }
    let quoted: Vec<String> = names.iter().map(|n| shell_quote(n)).collect();
    format!(
        "for n in {list}; do printf '{DPKG_MARK}%s\\n' \"$n\"; dpkg-query -W -f='${{db:Status-Abbrev}}\\t${{Version}}\\n' -- \"$n\" 2>/dev/null | head -n 1; done\n\
         echo '{POLICY_MARK}'\napt-cache policy {list} 2>/dev/null\n",
        list = quoted.join(" ")
    )
}

/// Parses the output of [`query_script`] (from the dpkg marker on).
pub fn parse_query(out: &str) -> PackageQuery {
    let mut q = PackageQuery::default();
    let (dpkg_part, policy_part) = match out.find(POLICY_MARK) {
        Some(i) => (&out[..i], &out[i + POLICY_MARK.len()..]),
        None => (out, ""),
    };
    let mut current: Option<String> = None;
    for line in dpkg_part.lines() {
        if let Some(name) = line.strip_prefix(DPKG_MARK) {
            current = Some(name.to_string());
            continue;
        }
        if let (Some(name), Some((status, version))) = (&current, line.split_once('\t')) {
            q.dpkg.insert(
                name.clone(),
                DpkgState {
                    status: status.trim().to_string(),
                    version: version.trim().to_string(),
                },
            );
        }
    }
    q.policy = parse_policy(policy_part);
    q
}

fn none_to_option(v: &str) -> Option<String> {
    let v = v.trim();
    (v != "(none)" && !v.is_empty()).then(|| v.to_string())
}

/// Parses `apt-cache policy NAME...` output (C locale).
pub fn parse_policy(out: &str) -> BTreeMap<String, Policy> {
    let mut all = BTreeMap::new();
    let mut name: Option<String> = None;
    let mut policy = Policy::default();
    let mut in_table = false;
    for line in out.lines() {
        if !line.starts_with(' ') && line.ends_with(':') && !line.is_empty() {
            if let Some(n) = name.take() {
                all.insert(n, std::mem::take(&mut policy));
            }
            name = Some(line.trim_end_matches(':').to_string());
            in_table = false;
            continue;
        }
        let trimmed = line.trim();
        if let Some(v) = trimmed.strip_prefix("Installed:") {
            policy.installed = none_to_option(v);
        } else if let Some(v) = trimmed.strip_prefix("Candidate:") {
            policy.candidate = none_to_option(v);
        } else if trimmed == "Version table:" {
            in_table = true;
        } else if in_table {
            // Version lines are indented 5 (or " *** "), source lines 8.
            let indent = line.len() - line.trim_start_matches([' ', '*']).len();
            if indent <= 5 {
                let mut parts = trimmed.trim_start_matches("*** ").split_whitespace();
                if let (Some(v), Some(p)) = (parts.next(), parts.next()) {
                    policy
                        .versions
                        .push((v.to_string(), p.parse().unwrap_or(0)));
                }
            }
        }
    }
    if let Some(n) = name {
        all.insert(n, policy);
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = "drover-demo:
  Installed: 1.0
  Candidate: 2.0
  Version table:
     2.0 500
        500 http://10.77.0.1:8000 ./ Packages
 *** 1.0 500
        500 http://10.77.0.1:8000 ./ Packages
        100 /var/lib/dpkg/status
hello:
  Installed: (none)
  Candidate: 2.10-3
  Version table:
     2.10-3 500
        500 http://example/debian bookworm/main amd64 Packages
";

    #[test]
    fn policy_output_is_parsed() {
        let p = parse_policy(POLICY);
        let demo = &p["drover-demo"];
        assert_eq!(demo.installed.as_deref(), Some("1.0"));
        assert_eq!(demo.candidate.as_deref(), Some("2.0"));
        assert_eq!(
            demo.versions,
            vec![("2.0".to_string(), 500), ("1.0".to_string(), 500)]
        );
        assert_eq!(p["hello"].installed, None);
        assert_eq!(p["hello"].candidate.as_deref(), Some("2.10-3"));
    }

    #[test]
    fn query_output_is_parsed() {
        let out = format!(
            "{DPKG_MARK}drover-demo\nii \t1.0\n{DPKG_MARK}nope\n{DPKG_MARK}old\nrc \t0.5\n{POLICY_MARK}\n{POLICY}"
        );
        let q = parse_query(&out);
        assert!(q.dpkg["drover-demo"].installed());
        assert!(!q.dpkg.contains_key("nope"));
        assert!(!q.dpkg["old"].installed());
        assert!(q.dpkg["old"].has_files());
        assert_eq!(
            q.policy("hello:amd64")
                .and_then(|p| p.candidate.clone())
                .as_deref(),
            Some("2.10-3")
        );
    }

    #[test]
    fn dpkg_options_expand() {
        assert_eq!(
            expand_dpkg_options(DEFAULT_DPKG_OPTIONS),
            "-o \"Dpkg::Options::=--force-confdef\" -o \"Dpkg::Options::=--force-confold\""
        );
    }
}

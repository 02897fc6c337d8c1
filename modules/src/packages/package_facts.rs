//! `package_facts`: the fact `packages` — every installed package as `{name: [{name, version,
//! arch, category, origin, source}]}` — as ansible-core's module gives it through python-apt,
//! read here with `dpkg-query` and `apt-cache policy` (no Python on the target). A package of a
//! foreign architecture is keyed `name:arch`, as python-apt's cache names it; `origin` is the
//! `Origin` of the first source apt lists for the installed version (`""` when only dpkg's status
//! file has it). Only the apt manager exists on the hosts drover manages; other managers are
//! reported unusable, as ansible-core does on a Debian host.

use std::collections::HashMap;

use async_trait::async_trait;
use drover_core::module::{DefinedVars, ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::{ModuleParams, ParamChoices};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::params::de_string_list;

/// The package managers ansible-core's module knows (and its aliases), lower-cased.
const KNOWN_MANAGERS: &[&str] = &[
    "apk",
    "apt",
    "pacman",
    "pkg",
    "pkg_info",
    "portage",
    "rpm",
    "openbsd_pkg",
];

/// `strategy` of `package_facts`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ParamChoices)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Stop at the first manager that lists packages.
    #[default]
    First,
    /// Merge every usable manager's packages.
    All,
}

/// Parameters of `package_facts`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct PackageFactsParams {
    /// Package managers to ask (`auto` picks what the host has).
    #[serde(default = "auto", deserialize_with = "de_string_list")]
    #[param(default = "[\"auto\"]")]
    pub manager: Vec<String>,
    /// Whether to stop at the first manager that lists packages (with apt the only usable one,
    /// both give the same).
    #[serde(default)]
    pub strategy: Strategy,
}

fn auto() -> Vec<String> {
    vec!["auto".into()]
}

/// The `package_facts` module.
pub struct PackageFacts;

/// One shell round trip: the native architecture, dpkg's package list (read once), apt's sources
/// with their release lines, and the version tables of the installed packages.
const QUERY: &str = r#"export LC_ALL=C
command -v dpkg-query >/dev/null 2>&1 || { echo '@nodpkg'; exit 0; }
echo "@arch $(dpkg --print-architecture)"
echo '@packages'
list=$(dpkg-query -W -f='${db:Status-Abbrev}\t${binary:Package}\t${Package}\t${Version}\t${Architecture}\t${Section}\n')
printf '%s\n' "$list"
command -v apt-cache >/dev/null 2>&1 || exit 0
echo '@sources'
apt-cache policy 2>/dev/null
echo '@versions'
printf '%s\n' "$list" | awk -F '\t' 'substr($1,2,1) != "n" && substr($1,2,1) != "c" {print $2}' | xargs -r apt-cache policy 2>/dev/null
"#;

/// Splits the query's output into its marked sections.
fn section<'a>(out: &'a str, name: &str) -> &'a str {
    let start = format!("@{name}\n");
    let Some(i) = out.find(&start) else {
        return "";
    };
    let rest = &out[i + start.len()..];
    let end = rest.find("\n@").map_or(rest.len(), |j| j + 1);
    &rest[..end]
}

/// `source line -> Origin` from `apt-cache policy`'s "Package files" list.
fn origins_by_source(sources: &str) -> HashMap<String, String> {
    let mut map = HashMap::new();
    let mut current: Option<String> = None;
    for line in sources.lines() {
        let trimmed = line.trim_start();
        if let Some(release) = trimmed.strip_prefix("release ") {
            if let Some(src) = current.take() {
                let origin = release
                    .split(',')
                    .find_map(|kv| kv.strip_prefix("o="))
                    .unwrap_or("");
                map.insert(src, origin.to_string());
            }
        } else if let Some((prio, src)) = trimmed.split_once(' ') {
            if prio.parse::<i64>().is_ok() && line.starts_with(' ') {
                current = Some(src.to_string());
            }
        }
    }
    map
}

/// `package -> first source of its installed version` from `apt-cache policy PKG…`.
fn installed_sources(versions: &str) -> HashMap<String, String> {
    let mut map = HashMap::new();
    let (mut package, mut in_installed) = (String::new(), false);
    for line in versions.lines() {
        if !line.starts_with(' ') {
            if let Some(name) = line.strip_suffix(':') {
                package = name.to_string();
                in_installed = false;
            }
            continue;
        }
        let trimmed = line.trim_start();
        if trimmed.starts_with("*** ") {
            in_installed = true;
        } else if line.starts_with("     ") && !line.starts_with("        ") {
            // A version line of another version (" 1.0 500" under "Version table:").
            in_installed = false;
        } else if in_installed && line.starts_with("        ") {
            if let Some((_, src)) = trimmed.split_once(' ') {
                map.entry(package.clone())
                    .or_insert_with(|| src.to_string());
            }
        }
    }
    map
}

/// Builds the `packages` fact from the query's output.
fn packages_fact(out: &str) -> Map<String, Value> {
    let native = out
        .lines()
        .find_map(|l| l.strip_prefix("@arch "))
        .unwrap_or("")
        .trim();
    let origins = origins_by_source(section(out, "sources"));
    let sources = installed_sources(section(out, "versions"));
    let mut packages = Map::new();
    for line in section(out, "packages").lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let [status, binary, name, version, arch, category] = f[..] else {
            continue;
        };
        // Installed in apt's sense: dpkg has a current version (not "not-installed" or
        // "config-files").
        if matches!(status.get(1..2), Some("n" | "c") | None) {
            continue;
        }
        let key = if arch == native || arch == "all" {
            name.to_string()
        } else {
            format!("{name}:{arch}")
        };
        let origin = sources
            .get(binary)
            .or_else(|| sources.get(&key))
            .and_then(|src| origins.get(src))
            .cloned()
            .unwrap_or_default();
        let entry = json!({
            "name": key,
            "version": version,
            "arch": arch,
            "category": category,
            "origin": origin,
            "source": "apt",
        });
        match packages.get_mut(&key) {
            Some(Value::Array(list)) => list.push(entry),
            _ => {
                packages.insert(key, Value::Array(vec![entry]));
            }
        }
    }
    packages
}

#[async_trait]
impl TypedModule for PackageFacts {
    const NAME: &'static str = "package_facts";
    type Params = PackageFactsParams;

    fn defines_vars(&self, _args: &Value) -> DefinedVars {
        DefinedVars::Names(vec!["packages".into()])
    }

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: PackageFactsParams,
    ) -> Result<ModuleResult, ModuleError> {
        let requested: Vec<String> = p.manager.iter().map(|m| m.to_lowercase()).collect();
        let auto = requested.iter().any(|m| m == "auto");
        let mut managers: Vec<String> =
            requested.iter().filter(|m| *m != "auto").cloned().collect();
        if auto {
            managers.extend(KNOWN_MANAGERS.iter().map(|m| m.to_string()));
        }
        let unsupported: Vec<&str> = managers
            .iter()
            .filter(|m| !KNOWN_MANAGERS.contains(&m.as_str()))
            .map(String::as_str)
            .collect();
        if !unsupported.is_empty() {
            return Ok(ModuleResult::failed(if auto {
                "Could not auto detect a usable package manager, check warnings for details."
                    .to_string()
            } else {
                format!(
                    "Unsupported package managers requested: {}",
                    unsupported.join(", ")
                )
            }));
        }
        let mut warnings = Vec::new();
        let mut packages = Map::new();
        if managers.iter().any(|m| m == "apt") {
            let out = ctx.conn.run(QUERY).await?.stdout_str();
            if out.contains("@nodpkg") {
                if requested.iter().any(|m| m == "apt") {
                    warnings.push(
                        "Requested package manager apt was not usable by this module: dpkg-query is not installed"
                            .to_string(),
                    );
                }
            } else {
                packages = packages_fact(&out);
                if packages.is_empty() {
                    warnings.push("Found \"apt\" but no associated packages".to_string());
                }
            }
        }
        for m in managers.iter().filter(|m| *m != "apt") {
            if requested.contains(m) {
                warnings.push(format!(
                    "Requested package manager {m} was not usable by this module: drover reads only dpkg's database"
                ));
            }
        }
        let mut r = if packages.is_empty() {
            // The list as Python prints it, as in ansible-core's message.
            let list: Vec<String> = managers.iter().map(|m| format!("'{m}'")).collect();
            ModuleResult::failed(format!(
                "Could not detect a supported package manager from the following list: [{}], \
                 or the required Python library is not installed. Check warnings for details.",
                list.join(", ")
            ))
        } else {
            ModuleResult::ok().with_fact("packages", Value::Object(packages))
        };
        if !warnings.is_empty() {
            r = r.with("warnings", warnings);
        }
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUT: &str = "@arch amd64\n@packages\n\
ii \tdpkg\tdpkg\t1.21.22\tamd64\tadmin\n\
ii \tlibc6:i386\tlibc6\t2.36-9\ti386\tlibs\n\
rc \told\told\t1.0\tamd64\tmisc\n\
ii \tdrv-a\tdrv-a\t1.0\tall\t\n\
@sources\nPackage files:\n 100 /var/lib/dpkg/status\n     release a=now\n \
500 http://deb.debian.org/debian bookworm/main amd64 Packages\n     \
release v=12.7,o=Debian,a=stable,n=bookworm,l=Debian,c=main,b=amd64\n     origin deb.debian.org\n\
Pinned packages:\n@versions\n\
dpkg:\n  Installed: 1.21.22\n  Candidate: 1.21.22\n  Version table:\n *** 1.21.22 500\n        \
500 http://deb.debian.org/debian bookworm/main amd64 Packages\n        100 /var/lib/dpkg/status\n\
drv-a:\n  Installed: 1.0\n  Candidate: 1.0\n  Version table:\n     2.0 500\n        \
500 http://deb.debian.org/debian bookworm/main amd64 Packages\n *** 1.0 100\n        100 /var/lib/dpkg/status\n";

    #[test]
    fn packages_are_keyed_as_python_apt_names_them() {
        let p = packages_fact(OUT);
        assert_eq!(
            p["dpkg"],
            json!([{"name": "dpkg", "version": "1.21.22", "arch": "amd64", "category": "admin", "origin": "Debian", "source": "apt"}])
        );
        assert_eq!(p["libc6:i386"][0]["arch"], "i386");
        assert_eq!(p["drv-a"][0]["origin"], "");
        assert!(!p.contains_key("old"));
    }
}

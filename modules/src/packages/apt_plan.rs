//! Planning for `apt`: which of the requested packages an `apt-get install`/`remove` needs, decided
//! from the dpkg state and apt policy (see [`super::dpkg::PackageQuery`]) as Ansible's apt module
//! decides it with python-apt.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::dpkg::PackageQuery;
use super::version::{compare_versions, glob_match};

/// How a package spec constrains the version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionCmp {
    /// `name=1.2*`: the version matches the glob.
    Equal,
    /// `name>=1.2`: at least this version.
    AtLeast,
}

/// A package spec `name`, `name=version` or `name>=version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageSpec {
    /// The spec as written.
    pub spec: String,
    /// Package name (may carry `:arch`).
    pub name: String,
    /// Version constraint.
    pub version: Option<(VersionCmp, String)>,
}

/// Splits `name>=1.0` / `name=1.0*` / `name` (at the first `>=` or `=`).
pub fn split_spec(spec: &str) -> PackageSpec {
    let eq = spec.find('=');
    let ge = spec.find(">=");
    let (name, version) = match (ge, eq) {
        (Some(g), Some(e)) if g + 1 == e => (
            &spec[..g],
            Some((VersionCmp::AtLeast, spec[g + 2..].to_string())),
        ),
        (_, Some(e)) => (
            &spec[..e],
            Some((VersionCmp::Equal, spec[e + 1..].to_string())),
        ),
        _ => (spec, None),
    };
    PackageSpec {
        spec: spec.to_string(),
        name: name.to_string(),
        version,
    }
}

/// The outcome of planning an install.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstallPlan {
    /// Arguments for `apt-get install` (`name=version`), unquoted.
    pub to_install: Vec<String>,
    /// Names to mark as manually installed afterwards.
    pub names: Vec<String>,
}

/// Why planning failed: the message Ansible gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError(pub String);

/// Install options that change the plan.
#[derive(Debug, Clone, Copy, Default)]
pub struct InstallMode {
    /// `state: latest`: upgrade installed packages to the candidate.
    pub upgrade: bool,
    /// `only_upgrade`: skip packages that are not installed.
    pub only_upgrade: bool,
    /// `default_release` is set: the policy's candidates already honour it, and (as in ansible-core,
    /// whose release pin comes first and so outranks its version pin) a `name=version` spec only
    /// matches that candidate.
    pub release_pinned: bool,
}

/// The version apt would pick for `spec`: for `=` the highest available version matching the glob
/// (a version pin outranks every other pin) — or, with a release pin, the candidate if it matches —
/// otherwise the policy candidate.
fn best_match(
    spec: &PackageSpec,
    name: &str,
    q: &PackageQuery,
    release_pinned: bool,
) -> Option<String> {
    let policy = q.policy(name)?;
    match &spec.version {
        Some((VersionCmp::Equal, pattern)) if release_pinned => {
            policy.candidate.clone().filter(|c| glob_match(pattern, c))
        }
        Some((VersionCmp::Equal, pattern)) => policy
            .versions
            .iter()
            .map(|(v, _)| v)
            .filter(|v| glob_match(pattern, v))
            .max_by(|a, b| compare_versions(a, b))
            .cloned(),
        _ => policy.candidate.clone(),
    }
}

/// A package apt knows nothing about (no versions, no candidate, not installed): virtual or unknown.
pub fn is_unknown(name: &str, q: &PackageQuery) -> bool {
    let installed = q.dpkg.get(name).is_some_and(|d| d.installed());
    !installed
        && q.policy(name)
            .is_none_or(|p| p.candidate.is_none() && p.versions.is_empty())
}

/// Virtual package names (no versions of their own) mapped to the packages whose candidate version
/// provides them, as python-apt's `Cache.get_providing_packages` lists them.
pub type Providers = BTreeMap<String, Vec<String>>;

/// Plans `apt-get install` for `specs`. A virtual name (see [`Providers`]) counts as installed when
/// exactly one package provides it and that package is installed (its versions then decide, as
/// ansible-core's `package_status` does); with several providers, or none installed, apt decides how
/// to satisfy it.
pub fn plan_install(
    specs: &[PackageSpec],
    q: &PackageQuery,
    mode: InstallMode,
    providers: &Providers,
) -> Result<InstallPlan, PlanError> {
    let mut plan = InstallPlan::default();
    for spec in specs {
        plan.names.push(spec.name.clone());
        let status = if is_unknown(&spec.name, q) {
            let Some(found) = providers.get(&spec.name).filter(|p| !p.is_empty()) else {
                return Err(PlanError(format!(
                    "No package matching '{}' is available",
                    spec.name
                )));
            };
            let single = match found.as_slice() {
                [one] => Some(one),
                _ => None,
            };
            match single.filter(|p| q.dpkg.get(*p).is_some_and(|d| d.installed())) {
                Some(provider) => status_of(spec, provider, q, mode.release_pinned),
                None => Status {
                    installed: false,
                    version_ok: false,
                    installable: Installable::AptDecides,
                },
            }
        } else {
            status_of(spec, &spec.name, q, mode.release_pinned)
        };
        if !status.installed && mode.only_upgrade {
            continue;
        }
        if !status.version_ok && status.installable == Installable::No {
            return Err(PlanError(format!(
                "no available installation candidate for {}",
                spec.spec
            )));
        }
        let pinned = |v: &str| format!("{}={v}", spec.name);
        match status.installable {
            Installable::No => {}
            installable if !status.installed || mode.upgrade || !status.version_ok => {
                plan.to_install.push(match (installable, &spec.version) {
                    (Installable::Version(v), _) => pinned(&v),
                    (_, Some((_, v))) => pinned(v),
                    (_, None) => spec.name.clone(),
                });
            }
            _ if matches!(spec.version, Some((VersionCmp::Equal, _))) => {
                // Ansible's legacy behaviour: a wildcard matching both the installed and a newer
                // version installs the wildcard spec.
                plan.to_install.push(spec.spec.clone());
            }
            _ => {}
        }
    }
    Ok(plan)
}

/// What can be installed for a spec (ansible-core's `version_installable`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Installable {
    /// Nothing newer matches.
    No,
    /// This version.
    Version(String),
    /// A virtual package: apt picks the provider.
    AptDecides,
}

/// A spec's state on the host (ansible-core's `package_status`).
struct Status {
    installed: bool,
    version_ok: bool,
    installable: Installable,
}

/// The status of `spec`'s version constraint against package `name` (the spec's own package, or the
/// single installed provider of a virtual one).
fn status_of(spec: &PackageSpec, name: &str, q: &PackageQuery, release_pinned: bool) -> Status {
    let best = best_match(spec, name, q, release_pinned);
    let (installed, version_ok, installable) = match q.dpkg.get(name).filter(|d| d.installed()) {
        Some(d) => {
            let cur = d.version.as_str();
            let newer = best.filter(|b| b != cur);
            match &spec.version {
                Some((VersionCmp::Equal, pattern)) => (
                    true,
                    glob_match(pattern, cur),
                    newer.filter(|b| glob_match(pattern, b)),
                ),
                Some((VersionCmp::AtLeast, min)) => (
                    true,
                    compare_versions(cur, min) != Ordering::Less,
                    newer.filter(|b| compare_versions(b, min) != Ordering::Less),
                ),
                None => (true, true, newer),
            }
        }
        None => (false, false, best),
    };
    Status {
        installed,
        version_ok,
        installable: installable.map_or(Installable::No, Installable::Version),
    }
}

/// Plans `apt-get remove`: the specs of packages that are installed in a matching version (or, with
/// `purge`, have files left).
pub fn plan_remove(specs: &[PackageSpec], q: &PackageQuery, purge: bool) -> Vec<String> {
    specs
        .iter()
        .filter(|spec| {
            let Some(d) = q.dpkg.get(&spec.name) else {
                return false;
            };
            let version_ok = d.installed()
                && match &spec.version {
                    Some((VersionCmp::Equal, pattern)) => glob_match(pattern, &d.version),
                    Some((VersionCmp::AtLeast, min)) => {
                        compare_versions(&d.version, min) != Ordering::Less
                    }
                    None => true,
                };
            version_ok || (purge && d.has_files())
        })
        .map(|spec| spec.spec.clone())
        .collect()
}

/// The lines of apt-get output between "Reading state information..." and the summary line:
/// Ansible's `diff.prepared`.
pub fn prepared_diff(output: &str) -> String {
    let lines: Vec<&str> = output.lines().collect();
    let start = lines
        .iter()
        .position(|l| *l == "Resolving dependencies...")
        .or_else(|| {
            lines
                .iter()
                .position(|l| *l == "Reading state information...")
        })
        .map_or(0, |i| i + 1);
    let end = lines
        .iter()
        .position(|l| is_summary_line(l))
        .map_or(lines.len(), |i| i + 1);
    if start >= end {
        return String::new();
    }
    lines[start..end].join("\n")
}

/// `N upgraded, …` or `N packages upgraded, …`.
fn is_summary_line(line: &str) -> bool {
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0
        && (line[digits..].starts_with(" upgraded")
            || line[digits..].starts_with(" packages upgraded"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packages::dpkg::{DpkgState, Policy};

    fn query(installed: Option<&str>, versions: &[&str], candidate: Option<&str>) -> PackageQuery {
        let mut q = PackageQuery::default();
        if let Some(v) = installed {
            q.dpkg.insert(
                "demo".into(),
                DpkgState {
                    status: "ii".into(),
                    version: v.into(),
                },
            );
        }
        q.policy.insert(
            "demo".into(),
            Policy {
                installed: installed.map(Into::into),
                candidate: candidate.map(Into::into),
                versions: versions.iter().map(|v| (v.to_string(), 500)).collect(),
            },
        );
        q
    }

    fn install(spec: &str, q: &PackageQuery, upgrade: bool) -> Result<Vec<String>, PlanError> {
        plan_install(
            &[split_spec(spec)],
            q,
            InstallMode {
                upgrade,
                only_upgrade: false,
                release_pinned: false,
            },
            &Providers::new(),
        )
        .map(|p| p.to_install)
    }

    #[test]
    fn specs_split_like_ansible() {
        assert_eq!(split_spec("demo").version, None);
        let s = split_spec("demo=1.0*");
        assert_eq!(s.name, "demo");
        assert_eq!(s.version, Some((VersionCmp::Equal, "1.0*".into())));
        let s = split_spec("demo>=2");
        assert_eq!(s.name, "demo");
        assert_eq!(s.version, Some((VersionCmp::AtLeast, "2".into())));
    }

    #[test]
    fn present_installs_missing_candidate_only() {
        let q = query(None, &["2.0", "1.0"], Some("2.0"));
        assert_eq!(install("demo", &q, false).unwrap(), vec!["demo=2.0"]);
        let q = query(Some("1.0"), &["2.0", "1.0"], Some("2.0"));
        assert!(install("demo", &q, false).unwrap().is_empty());
        assert_eq!(install("demo", &q, true).unwrap(), vec!["demo=2.0"]);
        let q = query(Some("2.0"), &["2.0", "1.0"], Some("2.0"));
        assert!(install("demo", &q, true).unwrap().is_empty());
    }

    #[test]
    fn pins_pick_the_highest_matching_version() {
        let q = query(None, &["2.0", "1.0.2", "1.0.1"], Some("2.0"));
        assert_eq!(install("demo=1.0*", &q, false).unwrap(), vec!["demo=1.0.2"]);
        let q = query(Some("2.0"), &["2.0", "1.0.2"], Some("2.0"));
        assert_eq!(install("demo=1.0*", &q, false).unwrap(), vec!["demo=1.0.2"]);
        let q = query(Some("1.0.2"), &["2.0", "1.0.2"], Some("2.0"));
        assert!(install("demo=1.0*", &q, false).unwrap().is_empty());
        assert_eq!(
            install("demo=9*", &q, false).unwrap_err().0,
            "no available installation candidate for demo=9*"
        );
        let q = query(Some("1.0"), &["2.0", "1.0"], Some("2.0"));
        assert_eq!(install("demo>=2", &q, false).unwrap(), vec!["demo=2.0"]);
        assert!(install("demo>=1", &q, false).unwrap().is_empty());
    }

    /// With `default_release`, ansible-core's release pin outranks its version pin: `name=version`
    /// only matches the release's candidate.
    #[test]
    fn a_release_pin_limits_version_specs_to_the_candidate() {
        let q = query(Some("2.0"), &["2.0", "1.0"], Some("2.0"));
        let mode = InstallMode {
            release_pinned: true,
            ..InstallMode::default()
        };
        let plan = |spec: &str| plan_install(&[split_spec(spec)], &q, mode, &Providers::new());
        assert_eq!(
            plan("demo=1.0").unwrap_err().0,
            "no available installation candidate for demo=1.0"
        );
        assert!(plan("demo=2*").unwrap().to_install.is_empty());
        assert_eq!(install("demo=1.0", &q, false).unwrap(), vec!["demo=1.0"]);
    }

    #[test]
    fn unknown_packages_fail_unless_virtual() {
        let q = PackageQuery::default();
        assert_eq!(
            install("nope", &q, false).unwrap_err().0,
            "No package matching 'nope' is available"
        );
        let providers = Providers::from([("mta".to_string(), vec!["exim4".to_string()])]);
        let plan = plan_install(&[split_spec("mta")], &q, InstallMode::default(), &providers);
        assert_eq!(plan.unwrap().to_install, vec!["mta"]);
    }

    /// ansible-core's `package_status`: a virtual name with one provider takes that provider's state
    /// (so a second run changes nothing); with several providers apt is always asked.
    #[test]
    fn virtual_packages_with_one_installed_provider_are_installed() {
        let mut q = query(Some("1.0"), &["2.0", "1.0"], Some("2.0"));
        let one = Providers::from([("virt".to_string(), vec!["demo".to_string()])]);
        let plan = |q: &PackageQuery, spec: &str, providers: &Providers, upgrade: bool| {
            let mode = InstallMode {
                upgrade,
                only_upgrade: false,
                release_pinned: false,
            };
            plan_install(&[split_spec(spec)], q, mode, providers).map(|p| p.to_install)
        };
        assert!(plan(&q, "virt", &one, false).unwrap().is_empty());
        // state: latest asks for the provider's newer version under the virtual name, as ansible-core does.
        assert_eq!(plan(&q, "virt", &one, true).unwrap(), vec!["virt=2.0"]);
        assert_eq!(plan(&q, "virt=2*", &one, false).unwrap(), vec!["virt=2.0"]);
        let two = Providers::from([(
            "virt".to_string(),
            vec!["demo".to_string(), "other".to_string()],
        )]);
        assert_eq!(plan(&q, "virt", &two, false).unwrap(), vec!["virt"]);
        assert_eq!(plan(&q, "virt=1*", &two, false).unwrap(), vec!["virt=1*"]);
        q.dpkg.clear();
        assert_eq!(plan(&q, "virt", &one, false).unwrap(), vec!["virt"]);
    }

    #[test]
    fn remove_only_what_is_there() {
        let q = query(Some("1.0"), &["1.0"], Some("1.0"));
        assert_eq!(plan_remove(&[split_spec("demo")], &q, false), vec!["demo"]);
        assert!(plan_remove(&[split_spec("demo=2*")], &q, false).is_empty());
        assert!(plan_remove(&[split_spec("other")], &q, true).is_empty());
        let mut q = PackageQuery::default();
        q.dpkg.insert(
            "demo".into(),
            DpkgState {
                status: "rc".into(),
                version: "1.0".into(),
            },
        );
        assert!(plan_remove(&[split_spec("demo")], &q, false).is_empty());
        assert_eq!(plan_remove(&[split_spec("demo")], &q, true), vec!["demo"]);
    }

    #[test]
    fn prepared_diff_cuts_apt_output() {
        let out = "Reading package lists...\nBuilding dependency tree...\nReading state information...\nThe following NEW packages will be installed:\n  demo\n0 upgraded, 1 newly installed, 0 to remove and 0 not upgraded.\nInst demo (2.0 local)\n";
        assert_eq!(
            prepared_diff(out),
            "The following NEW packages will be installed:\n  demo\n0 upgraded, 1 newly installed, 0 to remove and 0 not upgraded."
        );
    }
}

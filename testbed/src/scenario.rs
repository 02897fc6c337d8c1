//! Scenarios: what to test and how, read from a role directory, a playbook or a
//! `drover-test.yml` scenario file (format in docs/TESTING.md).

use std::path::{Path, PathBuf};

use drover_core::vars::{Value, Vars};
use drover_core::yaml::{parse_file, Node, NodeValue};

use crate::driver::DriverKind;
use crate::error::ScenarioError;

/// The file name of a scenario file inside a role directory.
pub const SCENARIO_FILE: &str = "drover-test.yml";

/// The base images a scenario can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Image {
    /// Debian 12 (bookworm) with systemd: the default and, for now, the only one.
    Debian12,
}

/// One host of a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostSpec {
    /// Inventory name, also the host's hostname.
    pub name: String,
    /// Inventory groups it is in (besides `all`).
    pub groups: Vec<String>,
}

/// A playbook step of a scenario (prepare, converge or verify).
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// A playbook file, run as it is.
    Playbook(PathBuf),
    /// A task file, run as the tasks of a play on `hosts: all`.
    Tasks(PathBuf),
    /// Tasks written in the scenario file, run as a play on `hosts: all`.
    InlineTasks(Value),
    /// A role directory, applied by a play on `hosts: all`.
    Role(PathBuf),
}

/// One scenario: hosts to create and the playbooks to run on them.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Its name (unique in a run; part of the container names).
    pub name: String,
    /// The file or directory it came from.
    pub source: PathBuf,
    /// The base image of its hosts.
    pub image: Image,
    /// The driver its hosts are made with (`driver:`; `drover test --driver` overrides it, LXC
    /// when neither says).
    pub driver: Option<DriverKind>,
    /// Its hosts.
    pub hosts: Vec<HostSpec>,
    /// Extra variables for every playbook (`-e`).
    pub vars: Vars,
    /// Run once before converge.
    pub prepare: Option<Step>,
    /// What is tested: run twice, the second run must change nothing.
    pub converge: Step,
    /// Checks run after converge.
    pub verify: Option<Step>,
    /// A reason not to run this scenario (it is reported as skipped).
    pub skip: Option<String>,
}

/// Reads `target` (a role directory, a playbook or a scenario file) into scenarios.
/// A role directory with a `drover-test.yml` is read from that file.
pub fn load_target(target: &Path) -> Result<Vec<Scenario>, ScenarioError> {
    if !target.exists() {
        return Err(ScenarioError::NotFound(target.to_path_buf()));
    }
    let target = std::fs::canonicalize(target).unwrap_or_else(|_| target.to_path_buf());
    if target.is_dir() {
        let file = target.join(SCENARIO_FILE);
        if file.is_file() {
            return load_scenario_file(&file);
        }
        if target.join("tasks/main.yml").is_file() || target.join("tasks/main.yaml").is_file() {
            return Ok(vec![role_scenario(&target)]);
        }
        return Err(ScenarioError::UnknownTarget(target));
    }
    let root = parse_file(&target)?;
    if root.get("scenarios").is_some() || is_named(&target, SCENARIO_FILE) {
        return scenarios_from(&root, &target);
    }
    if looks_like_playbook(&root) {
        return Ok(vec![playbook_scenario(&target, &root)]);
    }
    Err(ScenarioError::UnknownTarget(target))
}

/// Reads a scenario file.
pub fn load_scenario_file(path: &Path) -> Result<Vec<Scenario>, ScenarioError> {
    let root = parse_file(path)?;
    scenarios_from(&root, path)
}

fn is_named(path: &Path, name: &str) -> bool {
    path.file_name().is_some_and(|n| n == name)
}

/// The scenario of a role directory: one host, the role applied to `hosts: all`, verified by
/// `tests/verify.yml` when the role has one.
fn role_scenario(dir: &Path) -> Scenario {
    let verify = ["tests/verify.yml", "tests/verify.yaml"]
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.is_file())
        .map(|p| step_from_file(&p));
    Scenario {
        name: file_stem(dir),
        source: dir.to_path_buf(),
        image: Image::Debian12,
        driver: None,
        hosts: vec![HostSpec {
            name: "instance".into(),
            groups: Vec::new(),
        }],
        vars: Vars::new(),
        prepare: None,
        converge: Step::Role(dir.to_path_buf()),
        verify,
        skip: None,
    }
}

/// The scenario of a playbook: one host, in every group the plays name.
fn playbook_scenario(path: &Path, root: &Node) -> Scenario {
    let mut groups: Vec<String> = Vec::new();
    for play in root.as_seq().unwrap_or_default() {
        let Some(hosts) = play.get("hosts").and_then(Node::as_str) else {
            continue;
        };
        for pattern in hosts.split([',', ':']) {
            let g = pattern.trim();
            let plain = !g.is_empty()
                && g.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if plain && g != "all" && g != "localhost" && !groups.iter().any(|x| x == g) {
                groups.push(g.to_string());
            }
        }
    }
    Scenario {
        name: file_stem(path),
        source: path.to_path_buf(),
        image: Image::Debian12,
        driver: None,
        hosts: vec![HostSpec {
            name: "instance".into(),
            groups,
        }],
        vars: Vars::new(),
        prepare: None,
        converge: Step::Playbook(path.to_path_buf()),
        verify: None,
        skip: None,
    }
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scenario".into())
}

/// A playbook is a list of plays: mappings with `hosts` or `import_playbook`.
fn looks_like_playbook(root: &Node) -> bool {
    root.as_seq().is_some_and(|items| {
        !items.is_empty()
            && items
                .iter()
                .all(|i| i.get("hosts").is_some() || i.get("import_playbook").is_some())
    })
}

/// A file step: a playbook if it holds plays, otherwise a task file.
fn step_from_file(path: &Path) -> Step {
    match parse_file(path) {
        Ok(root) if looks_like_playbook(&root) => Step::Playbook(path.to_path_buf()),
        _ => Step::Tasks(path.to_path_buf()),
    }
}

fn invalid(node: &Node, message: impl Into<String>) -> ScenarioError {
    ScenarioError::Invalid {
        location: node.loc.clone(),
        message: message.into(),
    }
}

fn scenarios_from(root: &Node, path: &Path) -> Result<Vec<Scenario>, ScenarioError> {
    let list = match (&root.value, root.get("scenarios")) {
        (NodeValue::Seq(items), _) => items.as_slice(),
        (NodeValue::Map(entries), Some(s)) => {
            if let Some((k, _)) = entries.iter().find(|(k, _)| k.key_string() != "scenarios") {
                return Err(invalid(
                    k,
                    format!(
                        "unknown key '{}' (the file has `scenarios:`)",
                        k.key_string()
                    ),
                ));
            }
            s.as_seq().ok_or_else(|| {
                invalid(s, format!("`scenarios` must be a list, not {}", s.kind()))
            })?
        }
        _ => {
            return Err(invalid(
                root,
                "a scenario file is a mapping with `scenarios:` (a list of scenarios)",
            ))
        }
    };
    if list.is_empty() {
        return Err(invalid(root, "no scenarios in the file"));
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut out: Vec<Scenario> = Vec::new();
    for item in list {
        let scenario = parse_scenario(item, path, dir)?;
        if out.iter().any(|s| s.name == scenario.name) {
            return Err(ScenarioError::DuplicateName {
                location: item.loc.clone(),
                name: scenario.name,
            });
        }
        out.push(scenario);
    }
    Ok(out)
}

const KEYS: &[&str] = &[
    "name", "image", "driver", "hosts", "groups", "vars", "prepare", "converge", "role", "verify",
    "skip",
];

fn parse_scenario(node: &Node, path: &Path, dir: &Path) -> Result<Scenario, ScenarioError> {
    let entries = node.as_map().ok_or_else(|| {
        invalid(
            node,
            format!("a scenario must be a mapping, not {}", node.kind()),
        )
    })?;
    for (k, _) in entries {
        let key = k.key_string();
        if !KEYS.contains(&key.as_str()) {
            return Err(invalid(
                k,
                format!("unknown scenario key '{key}' (known: {})", KEYS.join(", ")),
            ));
        }
    }
    let name = match node.get("name") {
        Some(n) => n
            .as_str()
            .filter(|s| valid_name(s))
            .ok_or_else(|| invalid(n, "`name` must be letters, digits, '-' or '_' (at most 40)"))?
            .to_string(),
        None => return Err(invalid(node, "a scenario needs a `name`")),
    };
    let image = match node.get("image") {
        None => Image::Debian12,
        Some(n) => match n.as_str() {
            Some("debian-12" | "debian12" | "bookworm") => Image::Debian12,
            _ => return Err(invalid(n, "unknown `image` (known: debian-12)")),
        },
    };
    let driver = match node.get("driver") {
        None => None,
        Some(n) => match n.as_str() {
            Some("lxc") => Some(DriverKind::Lxc),
            Some("docker") => Some(DriverKind::Docker),
            _ => return Err(invalid(n, "unknown `driver` (known: lxc, docker)")),
        },
    };
    let mut hosts = parse_hosts(node.get("hosts"), node)?;
    if let Some(groups) = node.get("groups") {
        let entries = groups
            .as_map()
            .ok_or_else(|| invalid(groups, "`groups` maps group names to lists of hosts"))?;
        for (g, members) in entries {
            let group = g.key_string();
            if !valid_name(&group) || group == "all" {
                return Err(invalid(g, format!("'{group}' is not a usable group name")));
            }
            let members = members
                .as_seq()
                .ok_or_else(|| invalid(members, "a group's members are a list of host names"))?;
            for m in members {
                let host = m.as_str().unwrap_or_default();
                let h = hosts.iter_mut().find(|h| h.name == host).ok_or_else(|| {
                    invalid(m, format!("'{host}' is not one of the scenario's hosts"))
                })?;
                h.groups.push(group.clone());
            }
        }
    }
    let vars = match node.get("vars") {
        None => Vars::new(),
        Some(v) => match v.to_value() {
            Value::Object(map) => map,
            _ => return Err(invalid(v, "`vars` must be a mapping")),
        },
    };
    let prepare = node
        .get("prepare")
        .map(|n| parse_step(n, dir))
        .transpose()?;
    let verify = node.get("verify").map(|n| parse_step(n, dir)).transpose()?;
    let converge = match (node.get("converge"), node.get("role")) {
        (Some(c), None) => parse_step(c, dir)?,
        (None, Some(r)) => {
            let role = resolve(r, dir)?;
            if !role.join("tasks").is_dir() {
                return Err(invalid(
                    r,
                    format!("{}: not a role directory", role.display()),
                ));
            }
            Step::Role(role)
        }
        (Some(c), Some(_)) => return Err(invalid(c, "give `converge` or `role`, not both")),
        (None, None) => return Err(invalid(node, "a scenario needs `converge` or `role`")),
    };
    let skip = match node.get("skip") {
        None => None,
        Some(n) => Some(
            n.as_str()
                .filter(|s| !s.trim().is_empty())
                .ok_or_else(|| invalid(n, "`skip` is the reason the scenario is not run"))?
                .to_string(),
        ),
    };
    Ok(Scenario {
        name,
        source: path.to_path_buf(),
        image,
        driver,
        hosts,
        vars,
        prepare,
        converge,
        verify,
        skip,
    })
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn parse_hosts(node: Option<&Node>, scenario: &Node) -> Result<Vec<HostSpec>, ScenarioError> {
    let named = |name: String| HostSpec {
        name,
        groups: Vec::new(),
    };
    match node.map(|n| (n, &n.value)) {
        None => Ok(vec![named("instance".into())]),
        Some((n, NodeValue::Int(count))) => {
            if !(1..=20).contains(count) {
                return Err(invalid(
                    n,
                    "`hosts` is a count from 1 to 20 or a list of names",
                ));
            }
            Ok((1..=*count).map(|i| named(format!("host{i}"))).collect())
        }
        Some((n, NodeValue::Seq(items))) => {
            let mut hosts: Vec<HostSpec> = Vec::new();
            for i in items {
                let name = i.as_str().filter(|s| is_hostname(s)).ok_or_else(|| {
                    invalid(
                        i,
                        "a host name is lowercase letters, digits and '-' (at most 30)",
                    )
                })?;
                if hosts.iter().any(|h| h.name == name) {
                    return Err(invalid(i, format!("host '{name}' is listed twice")));
                }
                hosts.push(named(name.to_string()));
            }
            if hosts.is_empty() || hosts.len() > 20 {
                return Err(invalid(n, "a scenario has 1 to 20 hosts"));
            }
            Ok(hosts)
        }
        Some((n, _)) => Err(invalid(n, "`hosts` is a count or a list of names")),
    }
    .map_err(|e| match e {
        ScenarioError::Invalid { location, message } if location.line == 0 => {
            invalid(scenario, message)
        }
        other => other,
    })
}

fn is_hostname(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 30
        && !s.starts_with('-')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// `file.yml` (a playbook or a task file, relative to the scenario file) or a list of tasks.
fn parse_step(node: &Node, dir: &Path) -> Result<Step, ScenarioError> {
    match &node.value {
        NodeValue::Str(_) => {
            let path = resolve(node, dir)?;
            if !path.is_file() {
                return Err(invalid(node, format!("{}: no such file", path.display())));
            }
            Ok(step_from_file(&path))
        }
        NodeValue::Seq(_) => Ok(Step::InlineTasks(node.to_value())),
        _ => Err(invalid(
            node,
            format!(
                "expected a file name or a list of tasks, not {}",
                node.kind()
            ),
        )),
    }
}

fn resolve(node: &Node, dir: &Path) -> Result<PathBuf, ScenarioError> {
    let s = node
        .as_str()
        .ok_or_else(|| invalid(node, format!("expected a path, not {}", node.kind())))?;
    let p = dir.join(s);
    Ok(std::fs::canonicalize(&p).unwrap_or(p))
}

#[cfg(test)]
#[path = "scenario_tests.rs"]
mod tests;

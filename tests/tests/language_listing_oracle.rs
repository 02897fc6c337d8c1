//! Listing differential test: `--list-tasks`, `--list-tags` and `--list-hosts` of every playbook
//! in the repository and of generated shapes (`listing_shapes`) must be byte for byte what
//! ansible-playbook (the oracle from `tests/oracle/ansible.sh`, run live) prints. No host is
//! contacted: listing needs no connection.
//!
//! Each mode (a set of listing options) runs once per suite: one ansible-playbook process lists
//! every playbook of the suite at once, the modes in parallel threads. Only what ansible-core
//! prints in a random order is normalised: the play header's tags and the `--list-hosts` host
//! lines (both come from Python sets).

mod listing_shapes;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use drover_integration::{
    drover_command, oracle_ansible_playbook, oracle_collections_path, repo_root,
};

/// Listing options compared for the generated shapes.
const SHAPE_MODES: &[&[&str]] = &[
    &["--list-tasks"],
    &["--list-tags"],
    &["--list-hosts"],
    &["--list-tasks", "--list-tags", "--list-hosts"],
    &["--list-tasks", "--tags", "alpha"],
    &["--list-tasks", "--skip-tags", "beta"],
    &["--list-tasks", "--list-tags", "--tags", "never,gamma"],
    &["--list-tasks", "--tags", "tagged"],
    &["--list-tasks", "--tags", "untagged", "--skip-tags", "alpha"],
    &["--list-tags", "--skip-tags", "always"],
    &["--list-tasks", "--skip-tags", "all"],
    &[
        "--list-hosts",
        "--list-tasks",
        "-e",
        "target=db",
        "-e",
        "title=Extra",
        "-e",
        "extra_tag=from_extra",
        "--limit",
        "web1,db1,lone",
    ],
];

/// Listing options compared for the repository's playbooks.
const REPO_MODES: &[&[&str]] = &[
    &["--list-tasks"],
    &["--list-tags"],
    &["--list-hosts"],
    &[
        "--list-tasks",
        "--list-tags",
        "--list-hosts",
        "--skip-tags",
        "always",
    ],
];

/// A set of playbooks listed together: where to run, the inventory, the roles path.
struct Suite {
    dir: PathBuf,
    inventory: String,
    roles_path: PathBuf,
    playbooks: Vec<String>,
}

impl Suite {
    fn command(&self, program: Command, mode: &[&str], playbooks: &[String]) -> Output {
        let mut c = program;
        c.current_dir(&self.dir)
            .env("ANSIBLE_ROLES_PATH", &self.roles_path)
            // Repository playbooks use community.general modules.
            .env("ANSIBLE_COLLECTIONS_PATH", oracle_collections_path())
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_FORCE_COLOR", "0")
            .env("DROVER_NO_PROGRESS", "1")
            .args(["-i", &self.inventory])
            .args(mode)
            .args(playbooks);
        c.output().expect("run a listing")
    }

    fn ansible(&self, mode: &[&str], playbooks: &[String]) -> Output {
        self.command(Command::new(oracle_ansible_playbook()), mode, playbooks)
    }

    fn drover(&self, mode: &[&str]) -> Output {
        let mut c = drover_command();
        c.arg("play");
        self.command(c, mode, &self.playbooks)
    }
}

/// ansible-playbook's output with its random orders made canonical: play-header tags sorted,
/// each `hosts (N):` run of host lines sorted.
fn normalize(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut hosts: Vec<String> = Vec::new();
    let mut in_hosts = false;
    for line in text.lines() {
        if in_hosts && line.starts_with("      ") {
            hosts.push(line.to_string());
            continue;
        }
        if in_hosts {
            hosts.sort();
            out.append(&mut hosts);
            in_hosts = false;
        }
        if line.starts_with("    hosts (") && line.ends_with("):") {
            in_hosts = true;
        }
        out.push(normalize_header(line));
    }
    hosts.sort();
    out.append(&mut hosts);
    out.join("\n")
}

fn normalize_header(line: &str) -> String {
    if !line.starts_with("  play #") {
        return line.to_string();
    }
    let Some((head, tags)) = line.rsplit_once("\tTAGS: [") else {
        return line.to_string();
    };
    let Some(tags) = tags.strip_suffix(']') else {
        return line.to_string();
    };
    let mut tags: Vec<&str> = tags.split(',').filter(|t| !t.is_empty()).collect();
    tags.sort();
    format!("{head}\tTAGS: [{}]", tags.join(","))
}

/// Splits a listing into its playbooks' sections (`playbook: NAME` → text).
fn sections(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("playbook: ") {
            out.push((name.to_string(), String::new()));
        } else if let Some((_, body)) = out.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    out
}

/// Compares drover with the oracle for every mode of `suite`; returns the differences found.
fn compare_suite(suite: &Suite, modes: &[&[&str]]) -> Vec<String> {
    let oracle: Vec<Output> = std::thread::scope(|scope| {
        let handles: Vec<_> = modes
            .iter()
            .map(|mode| scope.spawn(move || suite.ansible(mode, &suite.playbooks)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("oracle thread"))
            .collect()
    });
    let mut problems = Vec::new();
    for (mode, expected) in modes.iter().zip(oracle) {
        if !expected.status.success() {
            // Name the playbooks the oracle rejects (a shape it cannot list is a bug of the
            // test); once, for the first mode that fails, in parallel.
            if problems.iter().any(|p: &String| p.contains("cannot list")) {
                continue;
            }
            let failing: Vec<String> = std::thread::scope(|scope| {
                let handles: Vec<_> = suite
                    .playbooks
                    .chunks(suite.playbooks.len().div_ceil(4))
                    .map(|chunk| {
                        scope.spawn(move || {
                            chunk
                                .iter()
                                .filter_map(|pb| {
                                    let alone = suite.ansible(mode, std::slice::from_ref(pb));
                                    (!alone.status.success()).then(|| {
                                        format!("{pb}:\n{}", String::from_utf8_lossy(&alone.stderr))
                                    })
                                })
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().expect("oracle thread"))
                    .collect()
            });
            problems.push(format!(
                "{mode:?}: ansible-playbook cannot list:\n{}",
                failing.join("\n")
            ));
            continue;
        }
        let actual = suite.drover(mode);
        if !actual.status.success() {
            problems.push(format!(
                "{mode:?}: drover failed ({:?}):\n{}",
                actual.status.code(),
                String::from_utf8_lossy(&actual.stderr)
            ));
            continue;
        }
        let expected = String::from_utf8_lossy(&expected.stdout).into_owned();
        let actual = String::from_utf8_lossy(&actual.stdout).into_owned();
        // Byte for byte, trailing newlines included (only set orders are normalised).
        let (e, a) = (normalize(&expected), normalize(&actual));
        if e == a && expected.ends_with('\n') == actual.ends_with('\n') {
            continue;
        }
        let (es, as_) = (sections(&e), sections(&a));
        let mut named = false;
        for (i, (name, body)) in es.iter().enumerate() {
            let theirs = as_.get(i).filter(|(n, _)| n == name).map(|(_, b)| b);
            if theirs != Some(body) {
                named = true;
                problems.push(format!(
                    "{mode:?} {name}:\n--- ansible-playbook\n{body}--- drover\n{}",
                    theirs.map(String::as_str).unwrap_or("(missing)\n")
                ));
            }
        }
        if !named {
            problems.push(format!(
                "{mode:?}:\n--- ansible-playbook\n{expected:?}\n--- drover\n{actual:?}"
            ));
        }
    }
    problems
}

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// True if `text` is a playbook (a list of plays or playbook imports), not a tasks file.
fn is_playbook(text: &str) -> bool {
    text.lines().any(|l| {
        l.starts_with("- hosts:")
            || l.starts_with("  hosts:")
            || l.starts_with("- import_playbook:")
            || l.starts_with("- ansible.builtin.import_playbook:")
    })
}

/// Modules only drover has: ansible-playbook refuses playbooks that use them.
const DROVER_ONLY_MODULES: &[&str] = &["docker_container_commit:"];

/// Every playbook under `playbooks/` (role, task and variable files skipped), relative to the root.
fn repo_playbooks() -> Vec<String> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if p.is_dir() {
                if !matches!(
                    name,
                    "roles" | "tasks" | "vars" | "group_vars" | "host_vars" | "templates" | "files"
                ) {
                    walk(&p, root, out);
                }
            } else if name.ends_with(".yml") || name.ends_with(".yaml") {
                let text = std::fs::read_to_string(&p).unwrap_or_default();
                // A playbook using drover's own modules (`docker_container_commit` in the
                // container release flow) is one ansible-playbook cannot load at all.
                let drover_only = DROVER_ONLY_MODULES.iter().any(|m| text.contains(m));
                if is_playbook(&text) && !drover_only {
                    let rel = p.strip_prefix(root).expect("under the root");
                    out.push(rel.display().to_string());
                }
            }
        }
    }
    let root = repo_root();
    let mut out = Vec::new();
    walk(&root.join("playbooks"), &root, &mut out);
    out
}

/// Every generated shape lists exactly as ansible-playbook lists it, in every mode.
#[test]
fn generated_shapes_list_as_ansible_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    // DROVER_LISTING_SHAPES_DIR keeps the shapes somewhere to look at them.
    let kept = std::env::var_os("DROVER_LISTING_SHAPES_DIR").map(PathBuf::from);
    let root = kept.as_deref().unwrap_or(dir.path());
    let shapes = listing_shapes::all();
    assert!(shapes.len() >= 40, "only {} shapes", shapes.len());
    for shape in &shapes {
        for (rel, text) in &shape.files {
            write(root, &format!("{}/{rel}", shape.name), text);
        }
    }
    write(root, "inventory.ini", listing_shapes::INVENTORY);
    for (rel, text) in listing_shapes::SHARED_ROLES {
        write(root, rel, text);
    }
    let suite = Suite {
        dir: root.to_path_buf(),
        inventory: "inventory.ini".into(),
        roles_path: root.join("shared_roles"),
        playbooks: shapes
            .iter()
            .map(|s| format!("{}/pb.yml", s.name))
            .collect(),
    };
    let problems = compare_suite(&suite, SHAPE_MODES);
    assert!(
        problems.is_empty(),
        "{} listing(s) differ from ansible-playbook:\n\n{}",
        problems.len(),
        problems.join("\n\n")
    );
}

/// Every playbook of the repository lists exactly as ansible-playbook lists it.
#[test]
fn repository_playbooks_list_as_ansible_does() {
    let playbooks = repo_playbooks();
    assert!(playbooks.len() >= 10, "found only {playbooks:?}");
    let root = repo_root();
    let suite = Suite {
        roles_path: root.join("playbooks/features/roles"),
        inventory: "playbooks/features/inventory.ini".into(),
        dir: root,
        playbooks,
    };
    let problems = compare_suite(&suite, REPO_MODES);
    assert!(
        problems.is_empty(),
        "{} listing(s) differ from ansible-playbook:\n\n{}",
        problems.len(),
        problems.join("\n\n")
    );
}

/// The normalisation sorts only what ansible-core prints from Python sets.
#[test]
fn normalisation_touches_only_set_orders() {
    let text = "\nplaybook: p.yml\n\n  play #1 (web): web\tTAGS: [b,a]\n    pattern: ['web']\n    hosts (2):\n      w2\n      w1\n    tasks:\n      z\tTAGS: [b, a]\n      y\tTAGS: []\n";
    assert_eq!(
        normalize(text),
        "\nplaybook: p.yml\n\n  play #1 (web): web\tTAGS: [a,b]\n    pattern: ['web']\n    hosts (2):\n      w1\n      w2\n    tasks:\n      z\tTAGS: [b, a]\n      y\tTAGS: []"
    );
}

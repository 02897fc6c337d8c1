//! The project's checkout, and ansible-core as a test oracle (`tests/oracle/ansible.sh` installs a
//! pinned ansible-core into a cached throwaway venv and prints the path of `ansible-playbook`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The workspace root (the checkout).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives in the workspace")
        .to_path_buf()
}

/// Path of the oracle's `ansible-playbook` (installed on first use; panics if that fails).
/// Its siblings (`ansible-vault`, `ansible-inventory`) are in the same directory.
pub fn oracle_ansible_playbook() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let out = Command::new("bash")
            .arg(repo_root().join("tests/oracle/ansible.sh"))
            .output()
            .expect("run tests/oracle/ansible.sh");
        assert!(out.status.success(), "oracle setup failed: {out:?}");
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    })
}

/// The directory holding the oracle's collections (community.general, ansible.posix, from the
/// pinned `ansible` package; `tests/oracle/collections.sh` unpacks them on first use), to give
/// ansible-core as `ANSIBLE_COLLECTIONS_PATH`.
pub fn oracle_collections_path() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let out = Command::new("bash")
            .arg(repo_root().join("tests/oracle/collections.sh"))
            .output()
            .expect("run tests/oracle/collections.sh");
        assert!(out.status.success(), "collections setup failed: {out:?}");
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    })
}

/// The same playbook run by ansible-core on one fresh host and by drover on another, both named
/// `target` in their inventories (so `inventory_hostname` matches). The oracle's host gets python3
/// (Ansible needs it; drover's host has none). Each run returns its standard output.
pub struct OracleComparison<'a> {
    hosts: &'a crate::TestHosts,
    ansible_index: usize,
    drover_index: usize,
    ansible_inventory: PathBuf,
    drover_inventory: PathBuf,
    ansible_home: PathBuf,
}

impl<'a> OracleComparison<'a> {
    /// Uses host `ansible_index` for ansible-playbook and `drover_index` for drover (both as root);
    /// installs python3 on the former.
    pub fn new(hosts: &'a crate::TestHosts, ansible_index: usize, drover_index: usize) -> Self {
        oracle_ansible_playbook();
        hosts.ssh_ok(
            ansible_index,
            "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 >/dev/null",
        );
        let dir = hosts.dir();
        let comparison = Self {
            hosts,
            ansible_index,
            drover_index,
            ansible_inventory: dir.join(format!("ansible-{ansible_index}.ini")),
            drover_inventory: dir.join(format!("drover-{drover_index}.ini")),
            ansible_home: dir.join("ansible-home"),
        };
        comparison.write_inventory(ansible_index, &comparison.ansible_inventory);
        comparison.write_inventory(drover_index, &comparison.drover_inventory);
        std::fs::create_dir_all(&comparison.ansible_home).expect("ansible home");
        std::fs::write(comparison.ansible_home.join("ansible.cfg"), "[defaults]\n")
            .expect("ansible.cfg");
        comparison
    }

    fn write_inventory(&self, index: usize, path: &Path) {
        let text = self.hosts.inventory_text("web", crate::ROOT_USER);
        let vars = text
            .lines()
            .nth(index + 1)
            .and_then(|l| l.split_once(' '))
            .map(|(_, vars)| vars.to_string())
            .expect("inventory line with host vars");
        std::fs::write(path, format!("[web]\ntarget {vars}\n")).expect("write inventory");
    }

    /// Replaces the oracle's `ansible.cfg` (by default an empty `[defaults]` section), e.g. to
    /// give it a `collections_path`.
    pub fn set_ansible_config(&self, text: &str) {
        std::fs::write(self.ansible_home.join("ansible.cfg"), text).expect("ansible.cfg");
    }

    /// The oracle's host index.
    pub fn ansible_host(&self) -> usize {
        self.ansible_index
    }

    /// drover's host index.
    pub fn drover_host(&self) -> usize {
        self.drover_index
    }

    /// Runs ansible-playbook; panics with its output unless it exits 0.
    pub fn run_ansible(&self, book: &Path, extra: &[&str]) -> String {
        let out = Command::new(oracle_ansible_playbook())
            .arg(book)
            .arg("-i")
            .arg(&self.ansible_inventory)
            .args(extra)
            .env("ANSIBLE_CONFIG", self.ansible_home.join("ansible.cfg"))
            .env("HOME", &self.ansible_home)
            .env("ANSIBLE_PYTHON_INTERPRETER", "/usr/bin/python3")
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
            .output()
            .expect("run ansible-playbook");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "ansible-playbook failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// Runs `book` with both tools once per round (a name and its flags, each followed by
    /// `extra`) and asserts, round by round: the same per-task results (at least `min_tasks` of
    /// them, or the oracle's output was not understood), the same debug messages, and the same
    /// `state` of both hosts — which a round run with `--check` must leave as it was. The hosts
    /// must start in the same state.
    pub fn assert_same_rounds(
        &self,
        book: &Path,
        extra: &[&str],
        rounds: &[(&str, &[&str])],
        min_tasks: usize,
        state: impl Fn(usize) -> String,
    ) {
        let (a, d) = (self.ansible_index, self.drover_index);
        let initial = state(a);
        assert_eq!(state(d), initial, "the fresh hosts differ");
        for (round, flags) in rounds {
            let args: Vec<&str> = flags.iter().chain(extra).copied().collect();
            let ansible = self.run_ansible(book, &args);
            let drover = self.run_drover(book, &args);
            let expected = target_task_results(&ansible);
            assert!(
                expected.len() >= min_tasks,
                "{round}: oracle output not understood:\n{ansible}"
            );
            assert_eq!(
                target_task_results(&drover),
                expected,
                "{round}: per-task results differ\n--- drover:\n{drover}\n--- ansible:\n{ansible}"
            );
            assert_eq!(
                debug_messages(&drover),
                debug_messages(&ansible),
                "{round}: registered values differ\n--- drover:\n{drover}\n--- ansible:\n{ansible}"
            );
            let after = state(a);
            assert_eq!(state(d), after, "{round}: host state differs");
            if flags.contains(&"--check") {
                assert_eq!(after, initial, "{round}: check mode changed the host");
            }
        }
    }

    /// Runs drover; panics with its output unless it exits 0.
    pub fn run_drover(&self, book: &Path, extra: &[&str]) -> String {
        let mut args = vec![
            "play".to_string(),
            book.display().to_string(),
            "-i".into(),
            self.drover_inventory.display().to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let out = crate::run_drover(args);
        assert_eq!(
            out.code,
            Some(0),
            "drover failed:\n{}\n{}",
            out.stdout,
            out.stderr
        );
        out.stdout
    }
}

/// The `"msg": ...` lines of debug results in ansible-playbook-style output, in order (one line
/// each: a list value shows only its opening line).
pub fn debug_messages(output: &str) -> Vec<String> {
    output
        .lines()
        .filter(|l| l.trim_start().starts_with("\"msg\":"))
        .map(|l| l.trim().to_string())
        .collect()
}

/// `(task, status line)` pairs for host `target`, from ansible-playbook-style output: the status
/// word and any loop item, without result payloads.
pub fn target_task_results(output: &str) -> Vec<(String, String)> {
    let mut task = String::new();
    let mut out = Vec::new();
    for line in output.lines() {
        if let Some(rest) = line
            .strip_prefix("TASK [")
            .or_else(|| line.strip_prefix("RUNNING HANDLER ["))
        {
            task = rest.split("] ").next().unwrap_or(rest).to_string();
        } else if line.contains("[target]") {
            let status = line.split(" => {").next().unwrap_or(line).to_string();
            out.push((task.clone(), status));
        }
    }
    out
}

/// The `changed=` count of host `target` in a PLAY RECAP.
pub fn target_changed(output: &str) -> u32 {
    output
        .lines()
        .find(|l| l.starts_with("target "))
        .and_then(|l| {
            l.split_whitespace()
                .find_map(|w| w.strip_prefix("changed="))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or_else(|| panic!("no recap for target:\n{output}"))
}

/// Runs `book` on the controller (`-c local -i localhost,`, plus `extra`) with ansible-playbook —
/// the oracle venv's Python as the interpreter, the oracle collections — or, unless `ansible`,
/// with drover. Panics with the output unless it exits 0; returns stdout.
pub fn run_local_book(book: &Path, extra: &[&str], ansible: bool) -> String {
    let local = ["-c", "local", "-i", "localhost,"];
    if !ansible {
        let book = book.to_str().expect("utf-8 path");
        let mut args = vec!["play", book];
        args.extend(local);
        args.extend(extra);
        let out = crate::run_drover(args);
        out.assert_success();
        return out.stdout;
    }
    let python = oracle_ansible_playbook().with_file_name("python");
    let out = Command::new(oracle_ansible_playbook())
        .arg(book)
        .args(local)
        .args(extra)
        .arg("-e")
        .arg(format!("ansible_python_interpreter={}", python.display()))
        .env("ANSIBLE_COLLECTIONS_PATH", oracle_collections_path())
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
        .output()
        .expect("run ansible-playbook");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "ansible-playbook failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

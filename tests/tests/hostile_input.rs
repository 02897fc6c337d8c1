//! Hostile input (issue 19): inputs that used to crash drover, hang it or eat the machine now
//! end with a clear error naming the file and line. Every child runs under a memory limit
//! (`ulimit -v`) and a generous wall-clock guard; a crash (exit 101/134/137, a signal) fails.
//! Local runs use `-c local` with `debug`/`include_*` tasks only: nothing on the machine changes.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use drover_integration::drover_bin;

/// A child that runs longer than this is killed and the test fails (a hang, not a slow run).
const GUARD: Duration = Duration::from_secs(120);
/// Address-space limit for the child, in KiB (4 GiB): runaway allocation aborts instead of
/// swapping the machine, and the abort fails the test.
const MEMORY_KIB: u64 = 4 * 1024 * 1024;

struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Outcome {
    fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Runs drover in `dir` with `args` (and `env`), under the memory limit and the time guard.
fn drover_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Outcome {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -v {MEMORY_KIB}; exec \"$0\" \"$@\""))
        .arg(drover_bin())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("ANSIBLE_CONFIG", dir.join("none.cfg"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn drover");
    let start = Instant::now();
    // Read the pipes on threads so a chatty child cannot block on a full pipe.
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut s).ok();
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut err, &mut s).ok();
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > GUARD {
            child.kill().ok();
            child.wait().ok();
            panic!("drover {args:?} still running after {GUARD:?}: it hangs");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let outcome = Outcome {
        code: status.code(),
        stdout: String::from_utf8_lossy(&t_out.join().unwrap_or_default()).into_owned(),
        stderr: String::from_utf8_lossy(&t_err.join().unwrap_or_default()).into_owned(),
    };
    assert!(
        matches!(outcome.code, Some(c) if c != 101 && c != 134 && c != 137 && c < 128),
        "drover {args:?} crashed ({status}):\n{}",
        outcome.all()
    );
    outcome
}

fn write(dir: &Path, name: &str, body: impl AsRef<[u8]>) {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(path, body).expect("write");
}

/// `drover play --syntax-check` (or another mode) of `book` against `localhost,`.
fn check(dir: &Path, mode: &str, book: &str) -> Outcome {
    drover_in(dir, &["play", mode, "-i", "localhost,", book], &[])
}

/// The output with the renderer's line wrapping undone (`│` gutters, runs of spaces).
fn unwrapped(text: &str) -> String {
    text.replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn assert_error(o: &Outcome, code: i32, wants: &[&str]) {
    let all = unwrapped(&o.all());
    assert_eq!(o.code, Some(code), "{all}");
    for w in wants {
        assert!(all.contains(w), "expected {w:?} in:\n{all}");
    }
    for leak in [
        "budget breached",
        "from_str",
        "DuplicateKeyPolicy",
        "weak recursion",
        "panicked",
        "<unknown>",
    ] {
        assert!(!all.contains(leak), "leaked {leak:?}:\n{all}");
    }
}

#[test]
fn a_syntax_error_past_column_65535_is_reported_not_a_panic() {
    let dir = tempfile::tempdir().expect("dir");
    let pad = " ".repeat(70_000);
    write(
        dir.path(),
        "wide.yml",
        format!("- hosts: all\n  tasks: [{pad}{{name: x]\n"),
    );
    write(
        dir.path(),
        "key.yml",
        format!(
            "- hosts: all\n  {}: 1\n  tasks: []\n",
            "k".repeat(1_000_000)
        ),
    );
    let o = check(dir.path(), "--syntax-check", "wide.yml");
    assert_error(&o, 1, &["wide.yml:2:70011", "closed by ']'"]);
    let o = check(dir.path(), "--syntax-check", "key.yml");
    assert_error(
        &o,
        1,
        &["key.yml:2:3", "expected ':' after this mapping key"],
    );
}

#[test]
fn import_playbook_cycles_are_errors_naming_the_chain() {
    let dir = tempfile::tempdir().expect("dir");
    write(dir.path(), "self.yml", "- import_playbook: self.yml\n");
    write(dir.path(), "a.yml", "- import_playbook: b.yml\n");
    write(
        dir.path(),
        "b.yml",
        "- hosts: all\n  tasks: []\n- import_playbook: a.yml\n",
    );
    for mode in ["--syntax-check", "--list-tasks"] {
        let o = check(dir.path(), mode, "self.yml");
        assert_error(
            &o,
            1,
            &[
                "self.yml:1:20",
                "import_playbook cycle",
                "self.yml → self.yml (import_playbook at self.yml:1:20) again",
            ],
        );
        let o = check(dir.path(), mode, "a.yml");
        assert_error(
            &o,
            1,
            &[
                "b.yml:3:20",
                "import_playbook cycle",
                "b.yml (import_playbook at a.yml:1:20)",
            ],
        );
    }
}

#[test]
fn static_import_and_role_cycles_are_errors() {
    let dir = tempfile::tempdir().expect("dir");
    write(
        dir.path(),
        "roles/selfie/tasks/main.yml",
        "- import_role: name=selfie\n",
    );
    write(dir.path(), "roles/a/meta/main.yml", "dependencies: [b]\n");
    write(dir.path(), "roles/a/tasks/main.yml", "- debug: msg=a\n");
    write(dir.path(), "roles/b/meta/main.yml", "dependencies: [a]\n");
    write(dir.path(), "roles/b/tasks/main.yml", "- debug: msg=b\n");
    write(
        dir.path(),
        "t.yml",
        "- debug: msg=t\n- import_tasks: t.yml\n",
    );
    let play = |body: &str| format!("- hosts: all\n  gather_facts: false\n{body}");
    write(dir.path(), "selfie.yml", play("  roles: [selfie]\n"));
    write(dir.path(), "deps.yml", play("  roles: [a]\n"));
    write(
        dir.path(),
        "tasks.yml",
        play("  tasks:\n    - import_tasks: t.yml\n"),
    );
    for mode in ["--syntax-check", "--list-tasks"] {
        let o = check(dir.path(), mode, "selfie.yml");
        assert_error(
            &o,
            1,
            &[
                "roles/selfie/tasks/main.yml:1:3",
                "import_role cycle",
                "role 'selfie'",
            ],
        );
        let o = check(dir.path(), mode, "deps.yml");
        assert_error(&o, 1, &["role dependency cycle", "role 'a'", "role 'b'"]);
        let o = check(dir.path(), mode, "tasks.yml");
        assert_error(&o, 1, &["t.yml:2:3", "import_tasks cycle"]);
    }
}

#[test]
fn import_bombs_stop_at_the_task_budget() {
    let dir = tempfile::tempdir().expect("dir");
    // Eight levels of files that each import the next ten times: 10^8 tasks, no cycle.
    for level in 0..8 {
        let body: String = (0..10)
            .map(|_| format!("- import_tasks: l{}.yml\n", level + 1))
            .collect();
        write(dir.path(), &format!("l{level}.yml"), body);
    }
    write(dir.path(), "l8.yml", "- debug: msg=leaf\n");
    write(
        dir.path(),
        "bomb.yml",
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - import_tasks: l0.yml\n",
    );
    // A lower budget than the default keeps the debug-build test short.
    let o = drover_in(
        dir.path(),
        &["play", "--syntax-check", "-i", "localhost,", "bomb.yml"],
        &[("DROVER_MAX_LOADED_TASKS", "20000")],
    );
    assert_error(
        &o,
        1,
        &[
            "more than 20000 tasks",
            "DROVER_MAX_LOADED_TASKS",
            ".yml:1:1",
        ],
    );
}

#[test]
fn include_tasks_recursion_stops_at_the_depth_limit() {
    let dir = tempfile::tempdir().expect("dir");
    write(
        dir.path(),
        "rec.yml",
        "- debug: msg=again\n- include_tasks: rec.yml\n",
    );
    write(
        dir.path(),
        "run.yml",
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - include_tasks: rec.yml\n",
    );
    let o = drover_in(
        dir.path(),
        &["play", "-c", "local", "-i", "localhost,", "run.yml"],
        &[],
    );
    assert_error(
        &o,
        2,
        &[
            "rec.yml:2:3",
            "nest deeper than 64 levels",
            "DROVER_MAX_INCLUDE_DEPTH",
        ],
    );
    // The limit is a setting.
    let o = drover_in(
        dir.path(),
        &["play", "-c", "local", "-i", "localhost,", "run.yml"],
        &[("DROVER_MAX_INCLUDE_DEPTH", "5")],
    );
    assert_error(&o, 2, &["nest deeper than 5 levels"]);
    assert_eq!(
        o.stdout.matches("\"msg\": \"again\"").count(),
        5,
        "{}",
        o.stdout
    );
    // Blocks nested as deep as YAML allows inside each recursive file: the run's stack holds
    // the deepest nesting the limits allow.
    let mut nested = String::new();
    for level in 0..30 {
        nested.push_str(&format!("{}- block:\n", "    ".repeat(level)));
    }
    nested.push_str(&format!("{}- include_tasks: deep.yml\n", "    ".repeat(30)));
    write(dir.path(), "deep.yml", nested);
    write(
        dir.path(),
        "deeprun.yml",
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - include_tasks: deep.yml\n",
    );
    let o = drover_in(
        dir.path(),
        &["play", "-c", "local", "-i", "localhost,", "deeprun.yml"],
        &[("DROVER_MAX_INCLUDE_DEPTH", "1000")],
    );
    assert_error(&o, 2, &["deep.yml:31:", "nest deeper than 128 levels"]);
}

#[test]
fn device_files_and_oversized_files_are_refused() {
    let dir = tempfile::tempdir().expect("dir");
    write(
        dir.path(),
        "zero.yml",
        "- hosts: localhost\n  gather_facts: false\n  vars_files:\n    - /dev/zero\n  tasks: []\n",
    );
    let o = check(dir.path(), "--syntax-check", "zero.yml");
    assert_error(&o, 1, &["zero.yml:4:7", "/dev/zero", "not a regular file"]);
    write(
        dir.path(),
        "incl.yml",
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - include_vars: /dev/zero\n",
    );
    let o = drover_in(
        dir.path(),
        &["play", "-c", "local", "-i", "localhost,", "incl.yml"],
        &[],
    );
    assert_error(&o, 2, &["/dev/zero", "not a regular file"]);
    write(
        dir.path(),
        "big.yml",
        format!("x: '{}'\n", "y".repeat(4096)),
    );
    write(
        dir.path(),
        "bigvars.yml",
        "- hosts: localhost\n  gather_facts: false\n  vars_files: [big.yml]\n  tasks: []\n",
    );
    let o = drover_in(
        dir.path(),
        &["play", "--syntax-check", "-i", "localhost,", "bigvars.yml"],
        &[("DROVER_MAX_FILE_SIZE", "1k")],
    );
    assert_error(
        &o,
        1,
        &["big.yml", "larger than 1024 bytes", "DROVER_MAX_FILE_SIZE"],
    );
}

#[test]
fn huge_host_ranges_are_refused_with_the_limit() {
    let dir = tempfile::tempdir().expect("dir");
    write(dir.path(), "hosts.ini", "[web]\nweb[1:100000000000]\n");
    write(
        dir.path(),
        "hosts.yml",
        "all:\n  hosts:\n    web[1:1000]x[1:1000]:\n",
    );
    write(
        dir.path(),
        "site.yml",
        "- hosts: web\n  gather_facts: false\n  tasks: []\n",
    );
    let o = drover_in(
        dir.path(),
        &["play", "--list-hosts", "-i", "hosts.ini", "site.yml"],
        &[],
    );
    assert!(o.code.is_some(), "{}", o.all());
    assert!(unwrapped(&o.all()).contains("hosts.ini:2"), "{}", o.all());
    assert!(
        unwrapped(&o.all()).contains("100000000000 hosts, more than the limit of 100000"),
        "{}",
        o.all()
    );
    let o = drover_in(
        dir.path(),
        &["play", "--list-hosts", "-i", "hosts.yml", "site.yml"],
        &[],
    );
    assert!(
        unwrapped(&o.all()).contains("1000000 hosts, more than the limit"),
        "{}",
        o.all()
    );
}

#[test]
fn vault_password_file_with_a_bare_name_is_a_path() {
    let dir = tempfile::tempdir().expect("dir");
    write(
        dir.path(),
        "pass.sh",
        "#!/bin/sh\ntouch ran-the-script\necho secret\n",
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.path().join("pass.sh");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    write(
        dir.path(),
        "site.yml",
        "- hosts: localhost\n  gather_facts: false\n  tasks: []\n",
    );
    let o = drover_in(
        dir.path(),
        &[
            "play",
            "--syntax-check",
            "-i",
            "localhost,",
            "--vault-password-file",
            "pass.sh",
            "site.yml",
        ],
        &[],
    );
    assert_eq!(o.code, Some(0), "{}", o.all());
    assert!(
        dir.path().join("ran-the-script").exists(),
        "the script did not run: {}",
        o.all()
    );
}

#[test]
fn vars_files_problems_are_reported_at_their_place() {
    let dir = tempfile::tempdir().expect("dir");
    write(dir.path(), "broken.yml", "a: 1\n  b: [\n");
    let play = |file: &str| {
        format!(
            "- hosts: localhost\n  gather_facts: false\n  vars_files:\n    - {file}\n  tasks: []\n"
        )
    };
    write(dir.path(), "uses_broken.yml", play("broken.yml"));
    write(dir.path(), "uses_missing.yml", play("missing.yml"));
    let o = check(dir.path(), "--syntax-check", "uses_broken.yml");
    assert_error(&o, 1, &["broken.yml:2:"]);
    let o = check(dir.path(), "--syntax-check", "uses_missing.yml");
    assert_error(
        &o,
        1,
        &[
            "uses_missing.yml:4:7",
            "could not find the file 'missing.yml'",
        ],
    );
}

#[test]
fn yaml_errors_are_in_the_users_words() {
    let dir = tempfile::tempdir().expect("dir");
    let cases: [(&str, String, &str); 6] = [
        (
            "deep.yml",
            format!(
                "- hosts: all\n  vars:\n    a: {}{}\n",
                "[".repeat(100),
                "]".repeat(100)
            ),
            "nesting deeper than 64 levels",
        ),
        (
            "multi.yml",
            "- hosts: all\n  tasks: []\n---\n- hosts: all\n".into(),
            "holds one YAML document",
        ),
        (
            "dup.yml",
            "- hosts: all\n  hosts: x\n  tasks: []\n".into(),
            "the key `hosts` appears twice",
        ),
        (
            "alias.yml",
            "- hosts: all\n  vars:\n    a: &x [*x]\n".into(),
            "recursive reference",
        ),
        (
            "int.yml",
            "- hosts: all\n  vars: {a: !!int x}\n".into(),
            "not an integer",
        ),
        (
            "bomb.yml",
            format!(
                "a: &a [x,x,x,x,x,x,x,x,x]\n{}",
                (1..12)
                    .map(|i| format!(
                        "a{i}: &a{i} [*a{},*a{0},*a{0},*a{0},*a{0},*a{0},*a{0},*a{0},*a{0}]\n",
                        if i == 1 {
                            "a".into()
                        } else {
                            format!("a{}", i - 1)
                        }
                    ))
                    .collect::<String>()
            ),
            "bomb.yml:",
        ),
    ];
    for (name, body, want) in &cases {
        write(dir.path(), name, body);
        let o = check(dir.path(), "--syntax-check", name);
        assert_error(&o, 1, &[want, &format!("{name}:")]);
    }
    write(
        dir.path(),
        "utf.yml",
        b"- hosts: all\n  vars: {a: \"b\xff\"}\n",
    );
    let o = check(dir.path(), "--syntax-check", "utf.yml");
    assert_error(
        &o,
        1,
        &[
            "utf.yml:2:1",
            "not UTF-8 text",
            "offset 27",
            "save the file as UTF-8",
        ],
    );
    assert!(
        !o.all().contains("indentation"),
        "unrelated hint: {}",
        o.all()
    );
}

#[test]
fn extra_vars_and_filters_give_clear_errors() {
    let dir = tempfile::tempdir().expect("dir");
    write(
        dir.path(),
        "site.yml",
        "- hosts: localhost\n  gather_facts: false\n  tasks: []\n",
    );
    for (arg, want) in [
        ("@", "needs a file name"),
        ("=b", "name before '=' is empty"),
        ("@/dev/zero", "not a regular file"),
    ] {
        let o = drover_in(
            dir.path(),
            &[
                "play",
                "--syntax-check",
                "-i",
                "localhost,",
                "-e",
                arg,
                "site.yml",
            ],
            &[],
        );
        assert!(o.code != Some(0), "-e {arg} accepted: {}", o.all());
        assert!(unwrapped(&o.all()).contains(want), "-e {arg}: {}", o.all());
    }
    write(
        dir.path(),
        "math.yml",
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - debug: msg=\"{{ 'inf' | float | int }}\"\n",
    );
    let o = drover_in(
        dir.path(),
        &["play", "-c", "local", "-i", "localhost,", "math.yml"],
        &[],
    );
    assert_error(&o, 2, &["infinite number"]);
}

//! The language transcript (issue 12's check): `playbooks/tests/transcript/site.yml` and its roles
//! (defaults, vars, handlers, meta dependencies with parameters, `include_tasks`, `loop`,
//! `with_items`, `with_dict`, `loop_control.label`, `block`/`rescue`/`always`, handlers notified
//! across roles and chained through `listen`, `meta: flush_handlers` and `end_play`, `when`,
//! `register`, `changed_when`/`failed_when`, `debug msg`/`var` (an undefined one included), about
//! 30 Jinja filters, a rescued and an ignored failure, skipped tasks and items, `set_fact` in a
//! loop, a templated play name, a `vars_files` list of alternatives) run by ansible-core on one
//! fresh host and by drover on another, both with the default output. Their standard output must
//! be identical byte for byte, after removing only what must differ: timestamps and durations of
//! command results, and what `KNOWN_DIFFERENCES` lists.

use std::path::PathBuf;

use drover_integration::{repo_root, OracleComparison, TestHosts};

/// Lines drover prints and ansible-core does not, each a documented, deliberate difference.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    (
        "task time: ",
        "drover shows each task's elapsed time after its results (README: Using it)",
    ),
    (
        "total time: ",
        "drover shows the run's elapsed time after the recap (README: Using it)",
    ),
];

/// Result keys whose values are times of the run (command results).
const TIME_KEYS: &[&str] = &["delta", "start", "end"];

/// The transcript without what must differ: known extra lines, and the values of `TIME_KEYS`.
fn normalize(output: &str) -> String {
    let mut out = String::new();
    for line in output.lines() {
        if KNOWN_DIFFERENCES.iter().any(|(p, _)| line.starts_with(p)) {
            continue;
        }
        let mut line = line.to_string();
        for key in TIME_KEYS {
            let pattern = format!("\"{key}\": \"");
            let mut from = 0;
            while let Some(pos) = line[from..].find(&pattern) {
                let value_start = from + pos + pattern.len();
                let Some(len) = line[value_start..].find('"') else {
                    break;
                };
                line.replace_range(value_start..value_start + len, "<time>");
                from = value_start + "<time>".len();
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// With `DROVER_ORACLE_DUMP=<dir>` set, writes both transcripts there (for diffing by hand).
fn dump(ansible: &str, drover: &str) {
    if let Some(dir) = std::env::var_os("DROVER_ORACLE_DUMP") {
        let dir = PathBuf::from(dir);
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join("transcript-ansible.txt"), ansible);
        let _ = std::fs::write(dir.join("transcript-drover.txt"), drover);
    }
}

/// The first line where `a` and `b` differ, with a few lines of context from both.
fn first_difference(a: &str, b: &str) -> String {
    let (al, bl): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let at = al
        .iter()
        .zip(&bl)
        .position(|(x, y)| x != y)
        .unwrap_or(al.len().min(bl.len()));
    let from = at.saturating_sub(3);
    let show = |l: &[&str]| l[from.min(l.len())..(at + 4).min(l.len())].join("\n");
    format!(
        "first difference at line {}\n--- ansible-core:\n{}\n--- drover:\n{}",
        at + 1,
        show(&al),
        show(&bl)
    )
}

#[test]
fn language_transcript_matches_ansible_core() {
    let hosts = TestHosts::start(2);
    let oracle = OracleComparison::new(&hosts, 0, 1);
    let book = repo_root().join("playbooks/tests/transcript/site.yml");
    let (ansible, drover) = std::thread::scope(|s| {
        let ansible = s.spawn(|| oracle.run_ansible(&book, &[]));
        let drover = oracle.run_drover(&book, &[]);
        match ansible.join() {
            Ok(ansible) => (ansible, drover),
            Err(_) => panic!("ansible-playbook failed (its output is above); drover's:\n{drover}"),
        }
    });
    dump(&ansible, &drover);
    // The transcript holds what it is meant to exercise, so that a misread run cannot pass.
    for expected in [
        "PLAY [Transcript SHOP on staging]",
        "[ERROR]: Task failed: Module failed: non-zero return code",
        "Origin: ",
        "...ignoring",
        "RUNNING HANDLER [tr_base : Report base reload]",
        "skipping: [target] => (item=old) ",
        "changed: [target] => (item={'key': 'timeout', 'value': 30})",
        "<< error 1 - 'not_defined_anywhere' is undefined >>",
        "rescued=1    ignored=1",
    ] {
        assert!(
            ansible.contains(expected),
            "the oracle's transcript lacks {expected:?}:\n{ansible}"
        );
    }
    let (expected, actual) = (normalize(&ansible), normalize(&drover));
    assert!(
        expected == actual,
        "transcripts differ: {}\n\n=== ansible-core:\n{ansible}\n=== drover:\n{drover}",
        first_difference(&expected, &actual)
    );
    // Every known difference is still one: drover prints those lines.
    for (prefix, reason) in KNOWN_DIFFERENCES {
        assert!(
            drover.lines().any(|l| l.starts_with(prefix)),
            "no longer a difference, remove it from KNOWN_DIFFERENCES: {prefix:?} ({reason})"
        );
    }
}

#[test]
fn normalization_keeps_everything_else() {
    let text = "ok: [t]\ntask time: 0.01s\nfatal: [t]: FAILED! => {\"delta\": \"0:00:00.1\", \"end\": \"2026\", \"rc\": 1}\n";
    assert_eq!(
        normalize(text),
        "ok: [t]\nfatal: [t]: FAILED! => {\"delta\": \"<time>\", \"end\": \"<time>\", \"rc\": 1}\n"
    );
}

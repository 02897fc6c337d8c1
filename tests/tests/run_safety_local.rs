//! Run-level safety on the controller (`-c local`, no test hosts, no root needed): the
//! shipped preflight checks stop a run before any change, and regressions of the bugs found
//! while building the upgrade runbook (issue 17) — `any_errors_fatal` and a failed `serial`
//! batch stop the later plays too, vault-encrypted `vars_files` pass the static checks, and a
//! `no_log` task's failure message is not printed in the `[ERROR]` line.

use std::path::Path;

use drover_integration::{repo_root, run_drover, DroverOutput};

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("write {name}: {e}"));
}

fn play(dir: &Path, hosts: &str, extra: &[&str]) -> DroverOutput {
    let mut args = vec!["play", "-c", "local", "-i", hosts];
    args.extend_from_slice(extra);
    let out = run_drover(
        args.iter()
            .map(|a| a.replace("@DIR@", &dir.display().to_string())),
    );
    eprintln!("{}\n{}", out.stdout, out.stderr);
    out
}

#[test]
fn any_errors_fatal_and_a_failed_serial_batch_stop_later_plays() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "fatal.yml",
        "- hosts: all\n  gather_facts: false\n  any_errors_fatal: true\n  tasks:\n    \
         - fail: {msg: boom}\n      when: inventory_hostname == 'a'\n\
         - hosts: all\n  gather_facts: false\n  tasks:\n    - debug: {msg: LATER_PLAY_RAN}\n",
    );
    let out = play(dir.path(), "a,b,", &["@DIR@/fatal.yml"]);
    assert_eq!(out.code, Some(2));
    assert!(!out.stdout.contains("LATER_PLAY_RAN"), "{}", out.stdout);
    // A failure a `rescue` handles does not stop the run.
    write(
        dir.path(),
        "rescued.yml",
        "- hosts: all\n  gather_facts: false\n  any_errors_fatal: true\n  tasks:\n    \
         - block:\n        - fail: {msg: boom}\n          when: inventory_hostname == 'a'\n      \
         rescue:\n        - debug: {msg: rescued}\n\
         - hosts: all\n  gather_facts: false\n  tasks:\n    - debug: {msg: LATER_PLAY_RAN}\n",
    );
    let out = play(dir.path(), "a,b,", &["@DIR@/rescued.yml"]);
    assert!(out.stdout.contains("LATER_PLAY_RAN"), "{}", out.stdout);
    write(
        dir.path(),
        "serial.yml",
        "- hosts: all\n  gather_facts: false\n  serial: 1\n  tasks:\n    \
         - fail: {msg: boom}\n      when: inventory_hostname == 'a'\n\
         - hosts: all\n  gather_facts: false\n  tasks:\n    - debug: {msg: LATER_PLAY_RAN}\n",
    );
    let out = play(dir.path(), "a,b,", &["@DIR@/serial.yml"]);
    assert_eq!(out.code, Some(2));
    assert!(!out.stdout.contains("LATER_PLAY_RAN"), "{}", out.stdout);
    // `b`'s batch never started.
    assert!(!out.stdout.contains("[b]"), "{}", out.stdout);
}

#[test]
fn vault_encrypted_vars_files_pass_the_static_checks_and_no_log_errors_are_censored() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "vpass", "pw-for-tests\n");
    write(dir.path(), "secrets.yml", "db_password: VaultSecret-4711\n");
    let enc = run_drover([
        "vault",
        "encrypt",
        "--vault-password-file",
        &dir.path().join("vpass").display().to_string(),
        &dir.path().join("secrets.yml").display().to_string(),
    ]);
    enc.assert_success();
    write(
        dir.path(),
        "site.yml",
        "- hosts: all\n  gather_facts: false\n  vars_files: [secrets.yml]\n  tasks:\n    \
         - debug: {msg: \"length {{ db_password | length }}\"}\n    \
         - name: a failure whose message holds the secret\n      \
         fail: {msg: \"login refused for {{ db_password }}\"}\n      no_log: true\n",
    );
    let out = play(
        dir.path(),
        "a,",
        &[
            "@DIR@/site.yml",
            "--vault-password-file",
            "@DIR@/vpass",
            "-vvvv",
        ],
    );
    assert_eq!(out.code, Some(2), "the run must reach the failing task");
    assert!(out.stdout.contains("length 16"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("[ERROR]: Task failed: Action failed: the output has been hidden"),
        "{}",
        out.stdout
    );
    for text in [&out.stdout, &out.stderr] {
        assert!(
            !text.contains("VaultSecret-4711"),
            "secret printed:\n{text}"
        );
    }
}

#[test]
fn shipped_preflight_checks_stop_the_run_before_any_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let checks = repo_root().join("playbooks/preflight");
    write(
        dir.path(),
        "checks.yml",
        &format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    \
             - import_tasks: {0}/backup-recent.yml\n      vars:\n        \
             preflight_backup_glob: \"@DIR@/backups/nightly-{{{{ inventory_hostname }}}}-*.tgz\"\n        \
             preflight_backup_max_age_hours: 2\n    \
             - import_tasks: {0}/no-process.yml\n      vars:\n        \
             preflight_process_pattern: 'no-such-process-[x]yz'\n    \
             - import_tasks: {0}/no-tmux-sessions.yml\n      vars:\n        \
             preflight_tmux_users: [no-such-user-here]\n",
            checks.display()
        )
        .replace("@DIR@", &dir.path().display().to_string()),
    );
    write(
        dir.path(),
        "site.yml",
        "- hosts: all\n  gather_facts: false\n  tasks:\n    \
         - copy: {content: \"changed\\n\", dest: \"@DIR@/changed-{{ inventory_hostname }}\"}\n"
            .replace("@DIR@", &dir.path().display().to_string())
            .as_str(),
    );
    std::fs::create_dir(dir.path().join("backups")).expect("mkdir");
    write(dir.path(), "backups/nightly-a-1.tgz", "");
    // `b` has no backup: nothing may change on `a` either.
    let out = play(
        dir.path(),
        "a,b,",
        &["--preflight", "@DIR@/checks.yml", "@DIR@/site.yml"],
    );
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr
            .contains("preflight failed: 1 check(s) did not pass")
            && out
                .stderr
                .contains("  b: preflight: the newest backup matching")
            && out.stderr.contains("no file matches"),
        "{}",
        out.stderr
    );
    assert!(!dir.path().join("changed-a").exists());
    assert!(!dir.path().join("changed-b").exists());
    write(dir.path(), "backups/nightly-b-1.tgz", "");
    let out = play(
        dir.path(),
        "a,b,",
        &["--preflight", "@DIR@/checks.yml", "@DIR@/site.yml"],
    );
    out.assert_success();
    assert!(dir.path().join("changed-a").exists() && dir.path().join("changed-b").exists());
}

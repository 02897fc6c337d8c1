//! Real Ansible modules drover does not implement (from any collection in the `ansible` package,
//! by short or fully-qualified name) load with a warning, are skipped like any task when their
//! `when` is false, and fail only when they run, with a message naming the module.

use drover_integration::drover_command;

const NAMES: &[&str] = &[
    "community.general.opkg",
    "opkg",
    "community.postgresql.postgresql_membership",
    "ansible.windows.win_updates",
    "win_updates",
    "community.general.homebrew",
    "ansible.posix.mount",
    "mount",
];

#[test]
fn unimplemented_modules_warn_at_load_and_fail_only_when_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut yaml = String::from("- hosts: all\n  gather_facts: false\n  tasks:\n");
    for (i, name) in NAMES.iter().enumerate() {
        yaml.push_str(&format!(
            "    - name: guarded {i}\n      {name}:\n        name: x\n      when: false\n"
        ));
        yaml.push_str(&format!(
            "    - name: runs {i}\n      {name}:\n        name: x\n      register: r{i}\n      ignore_errors: true\n"
        ));
        yaml.push_str(&format!(
            "    - assert:\n        that:\n          - r{i} is failed\n          - \"'{name}' in r{i}.msg\"\n          - \"'not implemented by drover' in r{i}.msg\"\n"
        ));
    }
    std::fs::write(dir.path().join("site.yml"), &yaml).expect("playbook");
    let out = drover_command()
        .current_dir(dir.path())
        .args(["play", "site.yml", "-i", "localhost,", "-c", "local"])
        .output()
        .expect("run drover");
    let err = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{err}");
    for name in NAMES {
        assert!(
            err.contains(&format!(
                "the module '{name}' is not implemented by drover yet"
            )),
            "no load warning for {name}: {err}"
        );
    }
    // The asserts and the ignored failures count as ok, as in ansible-playbook.
    let n = NAMES.len();
    assert!(
        stdout.contains(&format!("ok={} ", 2 * n))
            && stdout.contains(&format!("skipped={n} "))
            && stdout.contains(&format!("ignored={n}")),
        "{stdout}"
    );
    // A name ansible-core does not know either is still an error before anything runs.
    std::fs::write(
        dir.path().join("typo.yml"),
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - community.general.opkgg:\n        name: x\n      when: false\n",
    )
    .expect("playbook");
    let out = drover_command()
        .current_dir(dir.path())
        .args(["play", "typo.yml", "-i", "localhost,", "-c", "local"])
        .output()
        .expect("run drover");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("couldn't resolve module/action 'community.general.opkgg'"),
        "{err}"
    );
}

/// Collection modules drover implements are dispatched under every name ansible-core resolves:
/// no "not implemented" warning, and a task guarded by `when` is simply skipped.
#[test]
fn implemented_collection_modules_are_not_reported() {
    let dir = tempfile::tempdir().expect("temp dir");
    let names = [
        "community.general.timezone",
        "timezone",
        "community.general.locale_gen",
        "locale_gen",
        "ansible.builtin.debconf",
        "debconf",
        "ansible.builtin.known_hosts",
        "known_hosts",
        "community.general.pam_limits",
        "pam_limits",
        "community.general.lxc_container",
        "lxc_container",
    ];
    let mut yaml = String::from("- hosts: all\n  gather_facts: false\n  tasks:\n");
    for name in names {
        yaml.push_str(&format!(
            "    - {name}:\n        name: x\n      when: false\n"
        ));
    }
    std::fs::write(dir.path().join("site.yml"), &yaml).expect("playbook");
    let out = drover_command()
        .current_dir(dir.path())
        .args(["play", "site.yml", "-i", "localhost,", "-c", "local"])
        .output()
        .expect("run drover");
    let err = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{err}");
    assert!(!err.contains("not implemented"), "{err}");
    assert!(
        stdout.contains(&format!("skipped={} ", names.len())),
        "{stdout}"
    );
}

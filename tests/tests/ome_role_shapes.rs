//! The constructs of the public OME Galaxy roles (`playbooks/tests/ome-shapes/`: namespaced
//! role names, meta dependencies with `when`/`vars`/`become` and one role applied twice with
//! different variables, `import_tasks`/`include_tasks` per OS family, `with_subelements`,
//! `with_items` over a nested list, `become_user` on a block, `environment` from a folded
//! scalar, a YAML line continuation inside a URL, `command: |`, `is regex`/`is version` tests,
//! FQCN filters, Jinja2 string-literal concatenation, `ansible_facts.get(...)`, a templated
//! `when` string, `meta: flush_handlers`, a `listen` handler) run on localhost by drover and by
//! ansible-core: both must pass the playbook's own assert on what the roles recorded (its
//! listings are compared by `language_listing_oracle.rs`, which lists every playbook under
//! `playbooks/`). No test hosts (`-c local`, files under /tmp/ome-shapes).

use std::process::Command;

use drover_integration::{drover_command, oracle_ansible_playbook, repo_root};

#[test]
fn ome_role_shapes_run_as_in_ansible_core() {
    let book = repo_root().join("playbooks/tests/ome-shapes/site.yml");
    let drover = drover_command()
        .args(["play", "-i", "localhost,"])
        .arg(&book)
        .env("DROVER_NO_PROGRESS", "1")
        .output()
        .expect("run drover");
    let stdout = String::from_utf8_lossy(&drover.stdout);
    assert_eq!(drover.status.code(), Some(0), "drover:\n{stdout}");
    assert!(
        stdout.contains("ok=") && stdout.contains("failed=0"),
        "{stdout}"
    );

    let ansible_playbook = oracle_ansible_playbook();
    let home = tempfile::tempdir().expect("tempdir");
    std::fs::write(home.path().join("ansible.cfg"), "[defaults]\n").expect("ansible.cfg");
    let python = ansible_playbook.with_file_name("python");
    let oracle = Command::new(ansible_playbook)
        .args(["-i", "localhost,"])
        .arg(&book)
        .arg("-e")
        .arg(format!("ansible_python_interpreter={}", python.display()))
        .env("HOME", home.path())
        .env("ANSIBLE_CONFIG", home.path().join("ansible.cfg"))
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_DEPRECATION_WARNINGS", "false")
        .output()
        .expect("run ansible-playbook");
    assert!(
        oracle.status.success(),
        "ansible-core fails its own playbook:\n{}",
        String::from_utf8_lossy(&oracle.stdout)
    );
}

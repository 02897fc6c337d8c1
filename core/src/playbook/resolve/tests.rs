//! Unit tests of role and import resolution.

use super::*;
use crate::playbook::load_playbook_with;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn roles_dependencies_and_imports_resolve() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        &d.join("roles/a/tasks/main.yml"),
        "- debug: msg=a\n- import_tasks: more.yml\n",
    );
    write(
        &d.join("roles/a/tasks/more.yml"),
        "- name: more\n  debug: msg=m\n",
    );
    write(&d.join("roles/a/defaults/main.yml"), "x: 1\n");
    write(
        &d.join("roles/a/handlers/main.yml"),
        "- name: h\n  debug: msg=h\n",
    );
    write(&d.join("elsewhere/ns.b/tasks/main.yml"), "- debug: msg=b\n");
    write(
        &d.join("elsewhere/ns.b/meta/main.yml"),
        "dependencies: [a]\n",
    );
    write(
        &d.join("site.yml"),
        "- hosts: all\n  roles:\n    - ns.b\n    - a\n  tasks:\n    - import_role: {name: a, tasks_from: more}\n",
    );
    let pb = load_playbook_with(&d.join("site.yml"), &[d.join("elsewhere")]).unwrap();
    let play = &pb.plays[0];
    // ns.b runs its dependency a first; the second `- a` is a duplicate and runs nothing.
    let TaskKind::Block { block, .. } = &play.roles[0].kind else {
        panic!("role not resolved")
    };
    assert!(matches!(&block[0].kind, TaskKind::Block { block, .. } if block.len() == 2));
    assert_eq!(block[1].role.as_ref().unwrap().name, "ns.b");
    assert!(matches!(&play.roles[1].kind, TaskKind::Block { block, .. } if block.is_empty()));
    assert_eq!(play.role_defaults.get("x"), Some(&Value::from(1)));
    assert_eq!(play.handlers.len(), 1);
    let TaskKind::Block { block, .. } = &play.tasks[0].kind else {
        panic!("import_role not resolved")
    };
    assert_eq!(
        block[0].with_role_prefix(block[0].display_name()),
        "a : more"
    );
}

#[test]
fn a_tagged_role_and_its_untagged_dependency_are_different_instances() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(&d.join("roles/base/tasks/main.yml"), "- debug: msg=base\n");
    write(&d.join("roles/app/tasks/main.yml"), "- debug: msg=app\n");
    write(&d.join("roles/app/meta/main.yml"), "dependencies: [base]\n");
    write(&d.join("roles/web/tasks/main.yml"), "- debug: msg=web\n");
    write(
        &d.join("roles/web/meta/main.yml"),
        "dependencies:\n  - role: base\n    tags: [base]\n",
    );
    write(
        &d.join("site.yml"),
        "- hosts: all\n  roles:\n    - role: base\n      tags: [base]\n    - app\n    - web\n",
    );
    let pb = load_playbook_with(&d.join("site.yml"), &[]).unwrap();
    let sizes: Vec<usize> = pb.plays[0]
        .roles
        .iter()
        .map(|t| match &t.kind {
            TaskKind::Block { block, .. } => block.len(),
            _ => usize::MAX,
        })
        .collect();
    // base (tagged); app = untagged base dependency (runs again) + app; web = the tagged
    // base dependency (same instance as the first: not again) + web.
    assert_eq!(sizes, vec![1, 2, 1]);
}

#[test]
fn missing_role_names_the_search_path() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("site.yml"),
        "- hosts: all\n  roles: [nope]\n",
    );
    let e = load_playbook_with(&dir.path().join("site.yml"), &[]).unwrap_err();
    assert_eq!(e.location.line, 2);
    assert!(e.message.contains("'nope' was not found"));
    assert!(e.hint.unwrap().contains("roles_path"));
}

//! Reading targets and scenario files (no hosts needed).

use std::path::Path;

use super::*;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&path, text).expect("write");
    path
}

fn error(text: &str) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "drover-test.yml", text);
    match load_target(&file) {
        Ok(s) => panic!("accepted: {s:?}"),
        Err(e) => e.to_string().replace(
            &format!("{}", dir.path().canonicalize().expect("dir").display()),
            "DIR",
        ),
    }
}

#[test]
fn role_directory_with_and_without_verify() {
    let dir = tempfile::tempdir().expect("tempdir");
    let role = dir.path().join("web");
    write(&role, "tasks/main.yml", "- debug: msg=hi\n");
    let s = load_target(&role).expect("role");
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].name, "web");
    assert_eq!(s[0].hosts[0].name, "instance");
    assert!(matches!(&s[0].converge, Step::Role(p) if p.ends_with("web")));
    assert!(s[0].verify.is_none());
    write(&role, "tests/verify.yml", "- stat: path=/etc\n");
    let s = load_target(&role).expect("role");
    assert!(matches!(&s[0].verify, Some(Step::Tasks(_))));
    write(&role, "tests/verify.yml", "- hosts: all\n  tasks: []\n");
    let s = load_target(&role).expect("role");
    assert!(matches!(&s[0].verify, Some(Step::Playbook(_))));
}

#[test]
fn playbook_host_joins_the_groups_its_plays_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pb = write(
        dir.path(),
        "site.yml",
        "- hosts: web:db\n  tasks: []\n- hosts: all\n  tasks: []\n- hosts: \"{{ x }}\"\n  tasks: []\n",
    );
    let s = load_target(&pb).expect("playbook");
    assert_eq!(s[0].name, "site");
    assert_eq!(s[0].hosts[0].groups, ["web", "db"]);
}

#[test]
fn scenario_file_with_hosts_groups_vars_and_steps() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "converge.yml", "- hosts: all\n  tasks: []\n");
    write(dir.path(), "role/tasks/main.yml", "- debug: msg=hi\n");
    let file = write(
        dir.path(),
        "drover-test.yml",
        "scenarios:\n  - name: a\n    hosts: [web1, db1]\n    groups: {web: [web1], db: [db1, web1]}\n    \
         vars: {x: 1}\n    prepare:\n      - debug: msg=p\n    converge: converge.yml\n  \
         - name: b\n    hosts: 3\n    role: role\n  - name: c\n    role: role\n    skip: not today\n",
    );
    let s = load_target(&file).expect("scenarios");
    assert_eq!(s.len(), 3);
    assert_eq!(s[0].hosts[0].groups, ["web", "db"]);
    assert_eq!(s[0].hosts[1].groups, ["db"]);
    assert_eq!(s[0].vars.get("x"), Some(&Value::from(1)));
    assert!(matches!(s[0].prepare, Some(Step::InlineTasks(_))));
    assert!(matches!(s[0].converge, Step::Playbook(_)));
    let names: Vec<&str> = s[1].hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["host1", "host2", "host3"]);
    assert!(matches!(&s[1].converge, Step::Role(p) if p.ends_with("role")));
    assert_eq!(s[2].skip.as_deref(), Some("not today"));
}

#[test]
fn mistakes_name_file_and_line() {
    assert_eq!(
        error("scenarios:\n  - name: a\n    converge: []\n    hostz: 2\n"),
        "DIR/drover-test.yml:4:5: unknown scenario key 'hostz' (known: name, image, driver, hosts, groups, \
         vars, prepare, converge, role, verify, skip)"
    );
    assert_eq!(
        error("scenarios:\n  - name: a\n    converge: []\n    hosts: [a]\n    groups: {g: [b]}\n"),
        "DIR/drover-test.yml:5:18: 'b' is not one of the scenario's hosts"
    );
    assert_eq!(
        error("scenarios:\n  - name: a\n    converge: []\n    hosts: 0\n"),
        "DIR/drover-test.yml:4:12: `hosts` is a count from 1 to 20 or a list of names"
    );
    assert_eq!(
        error("scenarios:\n  - name: a\n"),
        "DIR/drover-test.yml:2:5: a scenario needs `converge` or `role`"
    );
    assert_eq!(
        error("scenarios:\n  - name: a\n    converge: []\n  - name: a\n    converge: []\n"),
        "DIR/drover-test.yml:4:5: scenario name 'a' is used twice"
    );
    assert_eq!(
        error("scenarios:\n  - name: a\n    converge: missing.yml\n"),
        "DIR/drover-test.yml:3:15: DIR/missing.yml: no such file"
    );
    assert_eq!(
        error("scenarios:\n  - name: a\n    image: centos\n    converge: []\n"),
        "DIR/drover-test.yml:3:12: unknown `image` (known: debian-12)"
    );
    assert_eq!(
        error("scenarios:\n  - name: a\n    driver: podman\n    converge: []\n"),
        "DIR/drover-test.yml:3:13: unknown `driver` (known: lxc, docker)"
    );
}

#[test]
fn driver_key_picks_the_driver() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(
        dir.path(),
        "drover-test.yml",
        "scenarios:\n  - name: d\n    driver: docker\n    converge: []\n  - name: l\n    \
         driver: lxc\n    converge: []\n  - name: n\n    converge: []\n",
    );
    let drivers: Vec<_> = load_target(&file)
        .expect("valid")
        .iter()
        .map(|s| s.driver)
        .collect();
    assert_eq!(
        drivers,
        [Some(DriverKind::Docker), Some(DriverKind::Lxc), None]
    );
}

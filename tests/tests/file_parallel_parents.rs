//! `file: state=directory` for many hosts at once on one machine (tasks delegated to the same LXC
//! host, or local hosts): every host's task creates the same missing parents. One of them wins each
//! mkdir; the others must take the existing directory as success, as Ansible's file module does
//! (it ignores EEXIST), instead of failing with "File exists".

use drover_integration::run_drover;

#[test]
fn parallel_hosts_create_the_same_missing_parents() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("book.yml");
    std::fs::write(
        &book,
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - file:\n        path: \"{{ base }}/a/b/c/d/{{ inventory_hostname }}\"\n        state: directory\n",
    )
    .unwrap();
    let inventory = dir.path().join("hosts");
    let hosts: String = (1..=12)
        .map(|i| format!("h{i} ansible_connection=local\n"))
        .collect();
    std::fs::write(&inventory, hosts).unwrap();
    // The race is likely, not certain, in one run: several rounds (it failed 5 out of 5 before).
    for round in 0..5 {
        let base = dir.path().join(format!("t{round}"));
        let out = run_drover([
            "play".to_string(),
            book.display().to_string(),
            "-i".into(),
            inventory.display().to_string(),
            "-e".into(),
            format!("base={}", base.display()),
            "-f".into(),
            "12".into(),
        ]);
        out.assert_success();
        assert_eq!(out.changed(), 12, "{}", out.stdout);
        for i in 1..=12 {
            assert!(base.join(format!("a/b/c/d/h{i}")).is_dir());
        }
    }
}

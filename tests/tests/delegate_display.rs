//! A templated `delegate_to` is shown rendered (`host -> target`), as ansible-core shows it, with
//! and without a loop — not as the `{{ expression }}` the task was written with.

use drover_integration::run_drover;

#[test]
fn templated_delegate_to_is_shown_rendered() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("book.yml");
    std::fs::write(
        &book,
        "- hosts: h1,h2\n  gather_facts: false\n  vars:\n    target: h3\n  tasks:\n    \
         - command: \"true\"\n      delegate_to: \"{{ target }}\"\n    \
         - command: \"echo {{ item }}\"\n      delegate_to: \"{{ target }}\"\n      loop: [a]\n",
    )
    .unwrap();
    let inventory = dir.path().join("hosts");
    std::fs::write(
        &inventory,
        "h1 ansible_connection=local\nh2 ansible_connection=local\nh3 ansible_connection=local\n",
    )
    .unwrap();
    let out = run_drover([
        "play".to_string(),
        book.display().to_string(),
        "-i".into(),
        inventory.display().to_string(),
    ]);
    out.assert_success();
    for line in [
        "changed: [h1 -> h3]\n",
        "changed: [h2 -> h3]\n",
        "changed: [h1 -> h3] => (item=a)\n",
        "changed: [h2 -> h3] => (item=a)\n",
    ] {
        assert!(out.stdout.contains(line), "no {line:?} in\n{}", out.stdout);
    }
    assert!(!out.stdout.contains("{{"), "{}", out.stdout);
}

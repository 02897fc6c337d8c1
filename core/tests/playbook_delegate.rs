//! `delegate_to` set on a block or a static import reaches the tasks inside.

use drover_core::playbook::{load_playbook, Task, TaskKind};

fn children(t: &Task) -> &[Task] {
    match &t.kind {
        TaskKind::Block { block, .. } => block,
        _ => panic!("not a block: {:?}", t.kind),
    }
}

#[test]
fn blocks_and_imports_pass_delegate_to_down() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("inner.yml"),
        "- debug: msg=a\n- debug: msg=b\n  delegate_to: other\n",
    )
    .unwrap();
    std::fs::write(
        d.join("site.yml"),
        "- hosts: all\n  tasks:\n    - block:\n        - debug: msg=x\n        - block:\n            - debug: msg=y\n      always:\n        - debug: msg=z\n      delegate_to: localhost\n    - import_tasks: inner.yml\n      delegate_to: h2\n    - debug: msg=plain\n",
    )
    .unwrap();
    let pb = load_playbook(&d.join("site.yml")).unwrap();
    let tasks = &pb.plays[0].tasks;
    let block = children(&tasks[0]);
    assert_eq!(block[0].delegate_to.as_deref(), Some("localhost"));
    assert_eq!(
        children(&block[1])[0].delegate_to.as_deref(),
        Some("localhost")
    );
    let TaskKind::Block { always, .. } = &tasks[0].kind else {
        unreachable!()
    };
    assert_eq!(always[0].delegate_to.as_deref(), Some("localhost"));
    let imported = children(&tasks[1]);
    assert_eq!(imported[0].delegate_to.as_deref(), Some("h2"));
    // A task's own delegate_to wins over its parent's.
    assert_eq!(imported[1].delegate_to.as_deref(), Some("other"));
    assert_eq!(tasks[2].delegate_to, None);
}

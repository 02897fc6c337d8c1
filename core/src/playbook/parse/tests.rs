//! Unit tests of playbook parsing.

use super::*;
use crate::playbook::model::{Task, TaskKind};
use crate::yaml;
use serde_json::json;

fn task(src: &str) -> Result<Task, PlaybookError> {
    parse_task(&yaml::parse_str(src, "t.yml").unwrap())
}

#[test]
fn module_with_free_form_and_args() {
    let t = task("name: x\ncommand: echo hi\nargs:\n  chdir: /tmp\nwhen: a\n").unwrap();
    match t.kind {
        TaskKind::Module { module, args } => {
            assert_eq!(module, "command");
            assert_eq!(args, json!({"_raw_params": "echo hi", "chdir": "/tmp"}));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(t.when, vec![json!("a")]);
}

#[test]
fn user_in_a_task_is_the_module_and_delegate_facts_parses() {
    let t = task("user: {name: alice}\ndelegate_to: h2\ndelegate_facts: yes\n").unwrap();
    assert!(t.delegate_facts);
    assert!(t.keywords.remote_user.is_none());
    match t.kind {
        TaskKind::Module { module, args } => {
            assert_eq!(module, "user");
            assert_eq!(args, json!({"name": "alice"}));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn misspelt_keyword_is_reported_with_position() {
    let e = task("name: x\ncopy: {dest: /a}\nwhne: b\n").unwrap_err();
    assert_eq!((e.location.line, e.location.col), (3, 1));
    assert_eq!(
        e.hint.as_deref(),
        Some("is 'whne' a misspelt task keyword? did you mean 'when'?")
    );
}

#[test]
fn blocks_and_meta() {
    let t = task("block:\n  - debug: msg=a\nrescue:\n  - meta: flush_handlers\n").unwrap();
    match t.kind {
        TaskKind::Block { block, rescue, .. } => {
            assert_eq!(block.len(), 1);
            assert!(matches!(&rescue[0].kind, TaskKind::Meta(m) if m == "flush_handlers"));
        }
        other => panic!("{other:?}"),
    }
    for src in [
        "ansible.builtin.meta: flush_handlers\n",
        "ansible.legacy.meta: flush_handlers\n",
        "meta: end_play\n",
    ] {
        let t = task(src).unwrap();
        let expected = src.split(": ").nth(1).unwrap().trim();
        assert!(
            matches!(&t.kind, TaskKind::Meta(m) if m == expected),
            "{src}: {:?}",
            t.kind
        );
    }
}

#[test]
fn import_playbook_gives_its_plays_vars_tags_and_when() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("sub.yml"),
        "- hosts: all\n  tags: own\n  vars: {who: play, keep: 1}\n  tasks:\n    - debug: msg=1\n      when: b\n",
    )
    .unwrap();
    std::fs::write(
        d.join("site.yml"),
        "- import_playbook: sub.yml\n  tags: [imp, own]\n  vars: {who: import}\n  when: a\n",
    )
    .unwrap();
    let pb = load_playbook(&d.join("site.yml")).unwrap();
    let play = &pb.plays[0];
    assert_eq!(play.keywords.tags, vec!["own", "imp"]);
    assert_eq!(play.keywords.vars["who"], json!("import"));
    assert_eq!(play.keywords.vars["keep"], json!(1));
    assert_eq!(play.tasks[0].keywords.when, vec![json!("a")]);
    assert_eq!(play.tasks[0].when, vec![json!("b")]);
}

#[test]
fn play_requires_hosts() {
    let n = yaml::parse_str("- name: p\n  tasks: []\n", "p.yml").unwrap();
    let e = parse_play(&n.as_seq().unwrap()[0]).unwrap_err();
    assert!(e.message.contains("no 'hosts'"));
}

#[test]
fn unknown_play_keyword_suggests() {
    let n = yaml::parse_str("- hosts: all\n  taks: []\n", "p.yml").unwrap();
    let e = parse_play(&n.as_seq().unwrap()[0]).unwrap_err();
    assert_eq!(e.location.line, 2);
    assert_eq!(e.hint.as_deref(), Some("did you mean 'tasks'?"));
}

use super::*;
use crate::module::{Module, ModuleContext, ModuleError, ModuleResult};
use crate::params::ArgError;
use crate::playbook::load_playbook_with;
use std::path::Path;
use std::sync::Arc;

/// A module that accepts only `path`.
struct PathOnly;

#[async_trait::async_trait]
impl Module for PathOnly {
    fn name(&self) -> &'static str {
        "file"
    }
    fn check_args(&self, args: &serde_json::Map<String, Value>) -> Result<(), ArgError> {
        match args.keys().find(|k| *k != "path") {
            Some(k) => Err(ArgError {
                module: "file".into(),
                key: Some(k.clone()),
                kind: crate::params::ArgErrorKind::Unsupported {
                    suggestion: None,
                    supported: vec!["path".into()],
                },
            }),
            None => Ok(()),
        }
    }
    async fn run(
        &self,
        _ctx: &ModuleContext<'_>,
        _args: &Value,
    ) -> Result<ModuleResult, ModuleError> {
        Ok(ModuleResult::ok())
    }
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

/// (errors, warnings) as `line:col` of each, for the playbook `tasks` (indented list items).
fn check(
    files: &[(&str, &str)],
    tasks: &str,
    options: &CheckOptions,
) -> (Vec<String>, Vec<String>) {
    let dir = tempfile::tempdir().expect("tempdir");
    for (rel, text) in files {
        write(dir.path(), rel, text);
    }
    write(
        dir.path(),
        "site.yml",
        &format!("- hosts: all\n  gather_facts: false\n  tasks:\n{tasks}"),
    );
    let pb = load_playbook_with(&dir.path().join("site.yml"), &[]).expect("load");
    let mut registry = ModuleRegistry::new();
    registry.register(Arc::new(PathOnly));
    let report = check_playbook_with(&pb, &registry, options);
    let lines = |v: &[PlaybookError]| {
        v.iter()
            .map(|e| {
                let loc = e.location.to_string();
                loc.rsplit('/').next().unwrap_or(&loc).to_string()
            })
            .collect()
    };
    (lines(&report.errors), lines(&report.warnings))
}

#[test]
fn an_unguarded_task_stops_the_run_at_its_argument() {
    let (errors, warnings) = check(
        &[],
        "    - file: {path: /x, foo: 1}\n",
        &CheckOptions::default(),
    );
    assert_eq!(errors, vec!["site.yml:4:24"]);
    assert!(warnings.is_empty());
}

#[test]
fn guarded_tasks_only_warn_unless_strict() {
    let tasks = r#"    - file: {path: /x, foo: 1}
      when: false
    - file: {path: /x, foo: 1}
      ignore_errors: true
    - file: {path: /x, foo: 1}
      failed_when: false
    - file: {path: /x, foo: 1}
      loop: "{{ things }}"
    - block:
        - file: {path: /x, foo: 1}
      rescue:
        - file: {path: /x, foo: 1}
    - block:
        - file: {path: /x, foo: 1}
      when: ansible_os_family == 'RedHat'
    - include_tasks: inc.yml
      when: false
"#;
    let files = [("inc.yml", "- file: {path: /x, foo: 1}\n")];
    let (errors, warnings) = check(&files, tasks, &CheckOptions::default());
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(warnings.len(), 8, "{warnings:?}");
    let strict = CheckOptions {
        strict: true,
        ..CheckOptions::default()
    };
    let (errors, warnings) = check(&files, tasks, &strict);
    assert_eq!(errors.len(), 8, "{errors:?}");
    assert!(warnings.is_empty());
}

#[test]
fn blocks_without_rescue_always_sections_and_plain_includes_still_stop() {
    let tasks = r#"    - block:
        - file: {path: /x, foo: 1}
      always:
        - file: {path: /x, bar: 1}
    - include_tasks: inc.yml
    - file: {path: /x, baz: 1}
      loop: [1, 2]
"#;
    let files = [("inc.yml", "- file: {path: /x, foo: 1}\n")];
    let (errors, warnings) = check(&files, tasks, &CheckOptions::default());
    assert_eq!(errors.len(), 4, "{errors:?}");
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn tasks_left_out_by_tags_only_warn() {
    let tasks = r#"    - file: {path: /x, foo: 1}
      tags: [other]
    - file: {path: /x, foo: 1}
      tags: [wanted]
"#;
    let options = CheckOptions {
        tags: vec!["wanted".into()],
        ..CheckOptions::default()
    };
    let (errors, warnings) = check(&[], tasks, &options);
    assert_eq!(errors, vec!["site.yml:6:24"]);
    assert_eq!(warnings, vec!["site.yml:4:24"]);
}

#[test]
fn conditions_on_roles_and_imports_guard_their_tasks() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "roles/r/tasks/main.yml",
        "- file: {path: /x, foo: 1}\n",
    );
    write(
        dir.path(),
        "roles/s/tasks/main.yml",
        "- file: {path: /x, bar: 1}\n",
    );
    write(dir.path(), "imp.yml", "- file: {path: /x, baz: 1}\n");
    write(
        dir.path(),
        "site.yml",
        "- hosts: all\n  roles:\n    - {role: r, when: false}\n    - s\n  tasks:\n    - import_tasks: imp.yml\n      when: false\n    - include_role: {name: r}\n      ignore_errors: true\n",
    );
    let pb = load_playbook_with(&dir.path().join("site.yml"), &[]).expect("load");
    let mut registry = ModuleRegistry::new();
    registry.register(Arc::new(PathOnly));
    let report = check_playbook_with(&pb, &registry, &CheckOptions::default());
    let messages =
        |v: &[PlaybookError]| -> Vec<String> { v.iter().map(|e| e.message.clone()).collect() };
    let errors = messages(&report.errors);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("`bar`"), "{errors:?}");
    let warnings = messages(&report.warnings);
    assert!(warnings.iter().any(|w| w.contains("`foo`")), "{warnings:?}");
    assert!(warnings.iter().any(|w| w.contains("`baz`")), "{warnings:?}");
}

#[test]
fn end_role_is_refused_outside_a_role_and_in_handlers() {
    // ansible-core 2.19 refuses both when it loads the play (playbook/helpers.py).
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "roles/r/tasks/main.yml",
        "- meta: end_role\n- include_tasks: more.yml\n",
    );
    write(dir.path(), "roles/r/tasks/more.yml", "- meta: end_role\n");
    write(
        dir.path(),
        "roles/r/handlers/main.yml",
        "- name: h\n  meta: end_role\n",
    );
    write(dir.path(), "inc.yml", "- block:\n    - meta: end_role\n");
    write(
        dir.path(),
        "site.yml",
        "- hosts: all\n  roles:\n    - r\n  tasks:\n    - meta: end_role\n    - include_tasks: inc.yml\n",
    );
    let pb = load_playbook_with(&dir.path().join("site.yml"), &[]).expect("load");
    let report = check_playbook_with(&pb, &ModuleRegistry::new(), &CheckOptions::default());
    let errors: Vec<String> = report
        .errors
        .iter()
        .map(|e| {
            let loc = e.location.to_string();
            let loc = loc.rsplit('/').next().unwrap_or(&loc).to_string();
            format!("{loc} {}", e.message)
        })
        .collect();
    assert_eq!(
        errors,
        vec![
            "site.yml:5:7 Cannot execute 'end_role' from outside of a role",
            "inc.yml:2:7 Cannot execute 'end_role' from outside of a role",
            "main.yml:1:3 Cannot execute 'end_role' from a handler",
        ],
        "the role's own end_role tasks (main.yml, more.yml) pass"
    );
    assert!(end_role_outside_role(&pb.plays[0].roles).is_none());
    assert!(end_role_outside_role(&pb.plays[0].tasks).is_some());
}

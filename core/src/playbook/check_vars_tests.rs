use super::*;
use crate::module::{Module, ModuleContext, ModuleError, ModuleResult};
use crate::playbook::load_playbook_with;

/// A module that only says which variables it defines: stand-ins for drover-modules' `set_fact`
/// and `include_vars` (core cannot use that crate), answering as those do for these tests.
struct Definer(&'static str, fn(&Value) -> DefinedVars);

#[async_trait::async_trait]
impl Module for Definer {
    fn name(&self) -> &'static str {
        self.0
    }
    fn defined_vars(&self, args: &Value) -> DefinedVars {
        (self.1)(args)
    }
    async fn run(&self, _: &ModuleContext<'_>, _: &Value) -> Result<ModuleResult, ModuleError> {
        Ok(ModuleResult::ok())
    }
}

fn registry() -> ModuleRegistry {
    let mut r = ModuleRegistry::new();
    r.register(std::sync::Arc::new(Definer(
        "set_fact",
        |args| match args.as_object() {
            Some(m)
                if !m
                    .keys()
                    .any(|k| Templar::is_template(k) || k == "_raw_params") =>
            {
                DefinedVars::Names(m.keys().cloned().collect())
            }
            _ => DefinedVars::Dynamic,
        },
    )));
    r.register(std::sync::Arc::new(Definer(
        "include_vars",
        |args| match args.get("_raw_params").and_then(Value::as_str) {
            Some(path) if !Templar::is_template(path) => DefinedVars::File(ControllerFile {
                key: "_raw_params".into(),
                path: path.into(),
                kind: "vars",
            }),
            _ => DefinedVars::Dynamic,
        },
    )));
    r
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// `file:line:col: message` of each error for the playbook `yaml` (plus files) with `external`
/// names defined outside.
fn check(files: &[(&str, &str)], yaml: &str, external: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        write(dir.path(), rel, text);
    }
    write(dir.path(), "site.yml", yaml);
    let pb = load_playbook_with(&dir.path().join("site.yml"), &[]).unwrap();
    let external: BTreeSet<String> = external.iter().map(|s| s.to_string()).collect();
    check_variables(&pb, &registry(), &external)
        .iter()
        .map(|e| {
            let loc = e.location.to_string();
            let short = loc.rsplit('/').next().unwrap_or(&loc).to_string();
            format!(
                "{short}: {} ({})",
                e.message,
                e.hint.clone().unwrap_or_default()
            )
        })
        .collect()
}

#[test]
fn a_typo_is_reported_at_its_argument_with_a_suggestion() {
    let errs = check(
        &[],
        "- hosts: all\n  vars:\n    app_port: 80\n  tasks:\n    - debug:\n        msg: \"port {{ app_prot }}\"\n",
        &[],
    );
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].starts_with(
            "site.yml:6:9: 'app_prot' is not defined anywhere (did you mean 'app_port'?"
        ),
        "{errs:?}"
    );
    assert!(errs[0].contains("pass -e app_prot=..."), "{errs:?}");
}

#[test]
fn every_definition_source_counts() {
    let errs = check(
        &[
            ("roles/r/defaults/main.yml", "role_default: 1\n"),
            ("roles/r/vars/main.yml", "role_var: 1\n"),
            (
                "roles/r/tasks/main.yml",
                "- debug: msg=\"{{ role_default }} {{ role_var }} {{ param }} {{ role_path }}\"\n",
            ),
            ("roles/inc/defaults/main.yml", "inc_default: 1\n"),
            (
                "roles/inc/tasks/main.yml",
                "- debug: msg=\"{{ inc_default }}\"\n",
            ),
            ("vars/extra.yml", "from_vars_file: 1\n"),
            ("vars/inc.yml", "from_include_vars: 1\n"),
            (
                "inc.yml",
                "- debug: msg=\"{{ item }} {{ ansible_distribution }}\"\n",
            ),
        ],
        r#"- hosts: all
  vars_files: [vars/extra.yml]
  vars_prompt:
    - name: prompted
      prompt: x
  vars:
    play_var: 1
  roles:
    - role: r
      param: 2
  tasks:
    - include_vars: vars/inc.yml
    - set_fact:
        fact_one: 1
    - command: echo {{ from_vars_file }} {{ prompted }} {{ play_var }} {{ fact_one }}
      register: out
    - debug: msg="{{ out.stdout }} {{ from_include_vars }} {{ inventory_var }} {{ extra }}"
    - debug: msg="{{ groups['all'] | length }} {{ hostvars[inventory_hostname] }} {{ lookup('env', 'HOME') }} {{ omit }}"
    - debug: msg="{{ thing }} {{ idx }}"
      loop: "{{ [1, 2] }}"
      loop_control:
        loop_var: thing
        index_var: idx
    - block:
        - debug: msg="{{ block_var }}"
      vars:
        block_var: 1
    - debug: msg="{{ task_var }} {% for x in [1] %}{{ x }}{% endfor %}"
      vars:
        task_var: 1
    - include_role:
        name: inc
    - include_tasks: inc.yml
      loop: [1]
"#,
        &["inventory_var", "extra"],
    );
    assert!(errs.is_empty(), "{errs:?}");
}

#[test]
fn guarded_and_conditional_uses_are_not_reported() {
    let errs = check(
        &[],
        r#"- hosts: all
  tasks:
    - debug: msg="{{ a | default('x') }} {{ b | d(1) }}"
    - debug: msg="{{ c if c is defined else 1 }}"
    - debug: msg="{{ e }}"
      when: e is defined
    - debug: msg="{{ f }}"
      when: ansible_os_family == 'RedHat'
    - debug: msg="{{ g }}"
      ignore_errors: true
    - block:
        - debug: msg="{{ h }}"
      rescue:
        - debug: msg="{{ i }}"
    - debug:
        var: not_a_template
    - debug: msg="{{ j }}"
      loop: "{{ maybe | default([]) }}"
    - debug: msg="{{ '{{' }} not a var {{ '}}' }} {% raw %}{{ k }}{% endraw %}"
    - debug:
        msg: !unsafe "{{ l }}"
  handlers:
    - name: h
      debug: msg="{{ m }}"
"#,
        &[],
    );
    assert!(errs.is_empty(), "{errs:?}");
}

#[test]
fn when_and_loop_are_checked() {
    let errs = check(
        &[],
        "- hosts: all\n  tasks:\n    - debug: msg=hi\n      when: enabled_flag\n    - debug: msg=hi\n      loop: \"{{ packages_list }}\"\n",
        &[],
    );
    assert_eq!(
        errs.iter()
            .map(|e| e.split(" (").next().unwrap())
            .collect::<Vec<_>>(),
        vec![
            "site.yml:3:7: 'enabled_flag' is not defined anywhere",
            "site.yml:5:7: 'packages_list' is not defined anywhere",
        ]
    );
}

#[test]
fn dynamic_sources_turn_the_check_off() {
    for task in [
        "- include_vars: \"{{ ansible_os_family }}.yml\"",
        "- include_vars:\n        dir: vars",
        "- set_fact: \"{{ dyn }}\"",
        "- include_tasks: \"{{ name }}.yml\"",
        "- include_role:\n        name: \"{{ role }}\"",
        "- set_stats:\n        data:\n          a: 1",
        "- some.collection.thing_facts:",
        "- meta: refresh_inventory",
    ] {
        let yaml =
            format!("- hosts: all\n  tasks:\n    {task}\n    - debug: msg=\"{{{{ nowhere }}}}\"\n");
        let errs = check(&[("vars/x.yml", "a: 1\n")], &yaml, &["dyn", "name", "role"]);
        assert!(errs.is_empty(), "{task}: {errs:?}");
    }
    // A templated vars_files hides only its own play's names.
    let errs = check(
        &[],
        "- hosts: all\n  vars_files: [\"{{ env }}.yml\"]\n  tasks:\n    - debug: msg=\"{{ from_file }}\"\n- hosts: all\n  tasks:\n    - debug: msg=\"{{ other }}\"\n",
        &["env"],
    );
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].contains("'other'"), "{errs:?}");
}

#[test]
fn external_names_come_from_inventory_extra_vars_and_vars_dirs() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "group_vars/web.yml", "web_port: 80\n");
    write(dir.path(), "host_vars/h1/main.yml", "h1_only: 1\n");
    let inv =
        Inventory::from_ini_str("h2 inv_var=1\n[db]\nh2\n[db:vars]\ndb_var=2\n", "hosts").unwrap();
    let mut extra = Vars::new();
    extra.insert("extra_one".into(), Value::from(1));
    let names = external_variable_names(&inv, &extra, &[dir.path().to_path_buf()]).unwrap();
    for n in ["web_port", "h1_only", "inv_var", "db_var", "extra_one"] {
        assert!(names.contains(n), "{n} missing from {names:?}");
    }
    write(dir.path(), "group_vars/broken.yml", "a: [\n");
    assert!(external_variable_names(&inv, &extra, &[dir.path().to_path_buf()]).is_none());
}

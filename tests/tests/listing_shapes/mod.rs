//! Generated playbook shapes for the listing differential test: every construct that changes
//! what `--list-tasks`/`--list-tags`/`--list-hosts` print, alone and combined. Nothing here is
//! ansible-playbook output: the test runs the oracle on these shapes live.

/// One playbook directory: `pb.yml` plus whatever it reads (roles, imported files).
pub struct Shape {
    /// Directory name (also the playbook's path prefix in the output).
    pub name: String,
    /// Files relative to the directory.
    pub files: Vec<(String, String)>,
}

fn shape(name: impl Into<String>, files: &[(&str, String)]) -> Shape {
    Shape {
        name: name.into(),
        files: files
            .iter()
            .map(|(p, t)| (p.to_string(), t.clone()))
            .collect(),
    }
}

/// `tags: [..]` for a YAML item at `indent`, or nothing.
fn tags_line(indent: usize, tags: &str) -> String {
    if tags.is_empty() {
        String::new()
    } else {
        format!("{}tags: {tags}\n", " ".repeat(indent))
    }
}

/// Tags set at one level of nesting at a time: play, `roles:` entry, role dependency,
/// `import_tasks`, `import_role`, block, task, `include_tasks`, `include_role`.
fn tag_levels() -> Vec<Shape> {
    let levels = [
        "play", "entry", "dep", "import", "irole", "block", "task", "include", "inrole",
    ];
    let variants = ["[alpha]", "[beta, never]", "[always]", "\"alpha,gamma\""];
    let mut out = Vec::new();
    for level in levels {
        for (vi, tags) in variants.iter().enumerate() {
            let t = |l: &str, indent: usize| {
                if l == level {
                    tags_line(indent, tags)
                } else {
                    String::new()
                }
            };
            let pb = format!(
                "- hosts: web\n  name: tags at {level}\n{}  roles:\n    - role: outer\n{}  tasks:\n    - import_tasks: imported.yml\n{}    - import_role:\n        name: inner\n{}    - block:\n        - name: in block\n          debug: msg=b\n        - debug: msg=unnamed\n{}    - name: plain\n      debug: msg=p\n{}    - include_tasks: missing.yml\n{}    - include_role:\n        name: missing_role\n{}",
                t("play", 2),
                t("entry", 6),
                t("import", 6),
                t("irole", 6),
                t("block", 6),
                t("task", 6),
                t("include", 6),
                t("inrole", 6),
            );
            let meta = format!("dependencies:\n  - role: inner\n{}", t("dep", 4));
            out.push(shape(
                format!("tags_{level}_{vi}"),
                &[
                    ("pb.yml", pb),
                    ("roles/outer/meta/main.yml", meta),
                    (
                        "roles/outer/tasks/main.yml",
                        "- name: outer named\n  debug: msg=o\n- command: echo outer\n  tags: [beta]\n".into(),
                    ),
                    (
                        "roles/inner/tasks/main.yml",
                        "- name: inner named\n  debug: msg=i\n- ansible.builtin.debug: msg=i\n".into(),
                    ),
                    (
                        "imported.yml",
                        "- name: imported named\n  debug: msg=x\n- set_fact: x=1\n  tags: gamma\n".into(),
                    ),
                ],
            ));
        }
    }
    out
}

/// The ways a task can be written, named and unnamed.
const FORMS: &[&str] = &[
    "debug: msg=x",
    "ansible.builtin.debug: msg=x",
    "action: debug msg=x",
    "local_action: command echo hi",
    "ansible.builtin.command: echo hi",
    "shell: echo hi",
    "meta: noop",
    "ansible.builtin.meta: flush_handlers",
    "include_tasks: nothere.yml",
    "ansible.builtin.include_tasks: \"{{ 'nothere' }}.yml\"",
    "include_role: name=nothere",
    "ansible.builtin.include_role:\n    name: nothere\n    tasks_from: other",
    "set_fact: a=1",
    "include_vars: nothere.yml",
    "copy: bogus_argument=1 src=/nonexistent dest=/tmp/x",
    "file: path=/tmp/x state=definitely_not_a_state",
    "debug: msg={{ item }}\n  loop: [1, 2]",
];

/// Every task form, unnamed and named, in one task list at `indent` 0.
fn task_forms(named: bool) -> String {
    let mut s = String::new();
    for (i, f) in FORMS.iter().enumerate() {
        if named {
            s.push_str(&format!("- name: form {i} {{{{ untemplated }}}}\n  {f}\n"));
        } else {
            s.push_str(&format!("- {f}\n"));
        }
    }
    s
}

/// The forms a handler may take (ansible-core rejects `include_role` handlers).
fn handler_forms() -> String {
    let mut s = String::new();
    for (i, f) in FORMS.iter().enumerate() {
        if !f.contains("include_role") {
            s.push_str(&format!("- name: handler {i}\n  {f}\n"));
        }
    }
    s
}

fn indent(text: &str, n: usize) -> String {
    text.lines()
        .map(|l| format!("{}{l}\n", " ".repeat(n)))
        .collect()
}

/// Unnamed and named tasks in each context: play sections, a role, a block in a role, a file a
/// role imports, a dependency, a handler (not listed).
fn task_contexts() -> Vec<Shape> {
    let mut out = Vec::new();
    for named in [false, true] {
        let forms = task_forms(named);
        let n = if named { "named" } else { "unnamed" };
        out.push(shape(
            format!("forms_play_{n}"),
            &[(
                "pb.yml",
                format!(
                    "- hosts: db\n  pre_tasks:\n{}  tasks:\n{}  post_tasks:\n{}  handlers:\n{}",
                    indent(&forms, 4),
                    indent(&forms, 4),
                    indent(&forms, 4),
                    indent(&handler_forms(), 4)
                ),
            )],
        ));
        out.push(shape(
            format!("forms_role_{n}"),
            &[
                ("pb.yml", "- hosts: db\n  roles: [r]\n".into()),
                ("roles/r/tasks/main.yml", forms.clone()),
                ("roles/r/handlers/main.yml", handler_forms()),
            ],
        ));
        out.push(shape(
            format!("forms_role_block_{n}"),
            &[
                (
                    "pb.yml",
                    "- hosts: db\n  tasks:\n    - import_role: name=r\n".into(),
                ),
                (
                    "roles/r/tasks/main.yml",
                    format!(
                        "- block:\n{}  rescue:\n{}  always:\n{}",
                        indent(&forms, 4),
                        indent(&forms, 4),
                        indent(&forms, 4)
                    ),
                ),
            ],
        ));
        out.push(shape(
            format!("forms_role_import_{n}"),
            &[
                ("pb.yml", "- hosts: db\n  roles:\n    - role: r\n".into()),
                (
                    "roles/r/tasks/main.yml",
                    "- import_tasks: sub/more.yml\n".into(),
                ),
                ("roles/r/tasks/sub/more.yml", forms.clone()),
            ],
        ));
        out.push(shape(
            format!("forms_dependency_{n}"),
            &[
                ("pb.yml", "- hosts: db\n  roles: [top]\n".into()),
                ("roles/top/meta/main.yml", "dependencies: [dep]\n".into()),
                ("roles/dep/tasks/main.yml", forms.clone()),
            ],
        ));
    }
    out
}

/// Play names and `hosts` in the forms that change the header and the host list.
fn plays() -> Vec<Shape> {
    let cases: &[(&str, &str)] = &[
        ("hosts_list", "- hosts: [web, db]\n"),
        ("hosts_list_patterns", "- hosts: [\"web:!web2\", db1]\n  name: listed\n"),
        ("hosts_colon", "- hosts: web:db\n"),
        ("hosts_comma", "- hosts: web,db\n"),
        ("hosts_comma_space", "- hosts: \"web, db\"\n"),
        ("hosts_exclude", "- hosts: all:!db\n"),
        ("hosts_intersect", "- hosts: app:&web\n"),
        ("hosts_nomatch", "- hosts: nosuchgroup\n"),
        ("hosts_single_host", "- hosts: web2\n"),
        ("hosts_regex", "- hosts: ~web[12]\n"),
        ("hosts_extra_var", "- hosts: \"{{ target | default('web') }}\"\n"),
        ("hosts_play_var", "- hosts: \"{{ where }}\"\n  vars:\n    where: db\n"),
        ("hosts_groups_list", "- hosts: \"{{ groups['web'] }}\"\n  name: from groups\n"),
        (
            "name_templated",
            "- hosts: web\n  name: \"Deploy {{ title | default('nothing') }} to {{ env_name }} ({{ 2 * 3 }})\"\n  vars:\n    env_name: prod\n",
        ),
        (
            "name_vars_files",
            "- hosts: web\n  name: \"{{ from_file }} and {{ chained }}\"\n  vars_files: [vars/main.yml]\n  vars:\n    chained: \"{{ from_file }}-chained\"\n",
        ),
        (
            "name_prompt_default",
            "- hosts: web\n  name: \"prompted {{ answer }}\"\n  vars_prompt:\n    - name: answer\n      prompt: what\n      default: fallback\n      private: false\n",
        ),
        (
            "name_role_default",
            "- hosts: web\n  name: \"role says {{ role_default_value }}\"\n  roles: [withdefaults]\n",
        ),
        (
            "name_magic",
            "- hosts: web\n  name: \"{{ playbook_dir | basename }} {{ groups.db | length }} {{ groups['app'] | join(',') }}\"\n",
        ),
        ("name_number", "- hosts: web\n  name: 42\n"),
        (
            "several_plays",
            "- hosts: web\n  tags: [zeta, alpha, mid]\n  tasks:\n    - debug: msg=1\n- hosts: db\n  name: second\n  tags: solo\n  tasks: []\n- hosts: all\n  gather_facts: false\n  force_handlers: true\n  handlers:\n    - name: h\n      debug: msg=h\n",
        ),
        ("empty_play", "- hosts: web\n"),
    ];
    cases
        .iter()
        .map(|(name, play)| {
            let mut pb = play.to_string();
            if !pb.contains("tasks:") && !pb.contains("roles:") && !pb.contains("handlers") {
                pb.push_str("  tasks:\n    - name: only task\n      debug: msg=1\n");
            }
            shape(
                format!("play_{name}"),
                &[
                    ("pb.yml", pb),
                    ("vars/main.yml", "from_file: filevalue\n".into()),
                    (
                        "roles/withdefaults/defaults/main.yml",
                        "role_default_value: rdv\n".into(),
                    ),
                    (
                        "roles/withdefaults/tasks/main.yml",
                        "- name: role task\n  debug: msg=r\n".into(),
                    ),
                ],
            )
        })
        .collect()
}

/// Roles, imports and includes combined: nesting, duplicates, `tasks_from`, search paths.
fn structures() -> Vec<Shape> {
    let role = |name: &str| {
        (
            format!("roles/{name}/tasks/main.yml"),
            format!("- name: {name} main\n  debug: msg={name}\n- debug: msg=unnamed-{name}\n"),
        )
    };
    let mut out = Vec::new();
    let mut push = |name: &str, files: Vec<(String, String)>| {
        out.push(Shape {
            name: format!("struct_{name}"),
            files,
        })
    };
    let s = |a: &str, b: &str| (a.to_string(), b.to_string());
    push(
        "nested_imports",
        vec![
            s("pb.yml", "- hosts: web\n  tasks:\n    - import_tasks: a/one.yml\n      tags: [l1]\n    - name: after\n      debug: msg=1\n"),
            s("a/one.yml", "- name: one\n  debug: msg=1\n- import_tasks: b/two.yml\n  tags: l2\n  when: false\n"),
            s("a/b/two.yml", "- name: two\n  debug: msg=2\n- block:\n    - import_tasks: three.yml\n      tags: [l3]\n  tags: [blk]\n"),
            s("a/b/three.yml", "- name: three\n  debug: msg=3\n  tags: [l4, never]\n- name: three b\n  debug: msg=3\n"),
        ],
    );
    push(
        "tasks_from",
        vec![
            s("pb.yml", "- hosts: web\n  tasks:\n    - import_role:\n        name: r\n        tasks_from: extra\n      tags: [imp]\n    - include_role:\n        name: r\n        tasks_from: extra\n    - name: named include\n      include_role:\n        name: r\n        tasks_from: missing_file\n    - import_role:\n        name: r\n"),
            role("r"),
            s("roles/r/tasks/extra.yml", "- name: extra task\n  debug: msg=e\n- import_tasks: main.yml\n"),
            s("roles/r/meta/main.yml", "dependencies:\n  - role: d\n    vars: {x: 1}\n"),
            role("d"),
        ],
    );
    push(
        "duplicates",
        vec![
            s("pb.yml", "- hosts: web\n  roles:\n    - a\n    - b\n    - a\n    - role: a\n      tags: again\n    - role: dup\n    - role: dup\n  tasks:\n    - import_role: name=a\n    - import_role: name=common\n"),
            role("a"),
            role("b"),
            role("common"),
            s("roles/a/meta/main.yml", "dependencies: [common]\n"),
            s("roles/b/meta/main.yml", "dependencies:\n  - common\n  - role: common\n    tags: [tagged_dep]\n"),
            role("dup"),
            s("roles/dup/meta/main.yml", "allow_duplicates: true\n"),
        ],
    );
    push(
        "deep_dependencies",
        vec![
            s(
                "pb.yml",
                "- hosts: db\n  roles:\n    - role: top\n      tags: [t0]\n",
            ),
            role("top"),
            role("mid"),
            role("leaf"),
            s(
                "roles/top/meta/main.yml",
                "dependencies:\n  - role: mid\n    tags: [t1]\n",
            ),
            s(
                "roles/mid/meta/main.yml",
                "dependencies:\n  - role: leaf\n    tags: [t2]\n    when: false\n",
            ),
        ],
    );
    push(
        "roles_path_and_paths",
        vec![
            s("pb.yml", "- hosts: web\n  roles:\n    - shared_role\n    - role: ./local/pathrole\n  tasks:\n    - import_role:\n        name: shared_role\n"),
            s("local/pathrole/tasks/main.yml", "- name: path role task\n  debug: msg=1\n- debug: msg=2\n"),
        ],
    );
    push(
        "import_playbook",
        vec![
            s("pb.yml", "- hosts: web\n  name: first\n  tasks:\n    - debug: msg=1\n- import_playbook: sub/other.yml\n  tags: [imp, alpha]\n  vars:\n    who: importer\n- ansible.builtin.import_playbook: sub/other.yml\n  when: false\n- hosts: db\n  tasks:\n    - name: last\n      debug: msg=1\n"),
            s("sub/other.yml", "- hosts: all\n  name: imported {{ 1 + 1 }} for {{ who | default('nobody') }}\n  tags: own\n  roles: [subrole]\n  tasks:\n    - import_tasks: t.yml\n"),
            s("sub/t.yml", "- name: imported tasks file\n  debug: msg=1\n"),
            s("sub/roles/subrole/tasks/main.yml", "- name: subrole task\n  debug: msg=1\n"),
        ],
    );
    push(
        "handlers_and_sections",
        vec![
            s("pb.yml", "- hosts: web\n  force_handlers: true\n  pre_tasks:\n    - name: pre\n      command: echo\n      notify: h\n  roles: [withhandlers]\n  tasks:\n    - meta: flush_handlers\n  post_tasks:\n    - name: post\n      debug: msg=p\n      changed_when: true\n      notify: topic\n  handlers:\n    - name: h\n      debug: msg=h\n    - name: h2\n      debug: msg=h2\n      listen: topic\n"),
            role("withhandlers"),
            s("roles/withhandlers/handlers/main.yml", "- name: role handler\n  debug: msg=1\n"),
        ],
    );
    push(
        "when_everywhere",
        vec![
            s("pb.yml", "- hosts: web\n  roles:\n    - role: a\n      when: false\n  tasks:\n    - import_tasks: f.yml\n      when: never_defined is defined\n    - import_role: name=a\n      when: false\n    - block:\n        - name: in false block\n          debug: msg=1\n      when: false\n"),
            role("a"),
            s("f.yml", "- name: from f\n  debug: msg=1\n"),
        ],
    );
    push(
        "blocks_nested",
        vec![
            s("pb.yml", "- hosts: web\n  tasks:\n    - name: outer block\n      block:\n        - name: b1\n          debug: msg=1\n        - block:\n            - name: b2\n              debug: msg=1\n              tags: [inner]\n          rescue:\n            - name: r2\n              debug: msg=1\n          always:\n            - block:\n                - name: a3\n                  debug: msg=1\n          tags: [mid]\n      rescue:\n        - name: r1\n          debug: msg=1\n      always:\n        - name: a1\n          debug: msg=1\n      tags: [outer]\n"),
        ],
    );
    push(
        "templated_tags",
        vec![
            s("pb.yml", "- hosts: web\n  vars:\n    tag_name: fromvar\n    tag_list: [l1, l2]\n  roles:\n    - role: r\n      tags: \"{{ tag_name }}\"\n  tasks:\n    - name: t\n      debug: msg=1\n      tags: [\"{{ tag_list }}\", plain]\n    - name: u\n      debug: msg=1\n      tags: \"{{ extra_tag | default('dflt') }}\"\n"),
            role("r"),
        ],
    );
    push(
        "include_apply",
        vec![
            s("pb.yml", "- hosts: web\n  tasks:\n    - include_tasks:\n        file: later.yml\n        apply:\n          tags: [applied]\n      tags: [always]\n    - include_role:\n        name: r\n        apply:\n          tags: [applied]\n      tags: [alpha]\n    - name: \"named {{ 'include' }}\"\n      include_tasks: \"{{ 'later' }}.yml\"\n"),
            s("later.yml", "- name: never listed\n  debug: msg=1\n"),
            role("r"),
        ],
    );
    push(
        "role_task_names",
        vec![
            s("pb.yml", "- hosts: web\n  roles: [r]\n"),
            s("roles/r/tasks/main.yml", "- name: \"{{ role_name }} says {{ x | default('hi') }}\"\n  debug: msg=1\n- name: ''\n  debug: msg=empty-name\n- include_role: name=other\n- name: include other\n  include_role: name=other\n- import_role: name=other\n"),
            role("other"),
        ],
    );
    push(
        "role_vars_in_name",
        vec![
            s("pb.yml", "- hosts: \"{{ role_hosts }}\"\n  name: \"{{ role_var }} / {{ overridden }}\"\n  vars:\n    overridden: play\n  roles: [r]\n"),
            role("r"),
            s("roles/r/vars/main.yml", "role_var: from-role-vars\noverridden: role\n"),
            s("roles/r/defaults/main.yml", "role_hosts: db\n"),
        ],
    );
    push(
        "argument_specs",
        vec![
            s("pb.yml", "- hosts: web\n  roles:\n    - spec\n    - role: spec\n      tags: [again]\n    - inmain\n    - usesdep\n  tasks:\n    - import_role:\n        name: spec\n        tasks_from: other\n    - import_role:\n        name: spec\n        tasks_from: nospec\n    - import_role:\n        name: spec\n        rolespec_validate: false\n    - include_role:\n        name: spec\n"),
            s("roles/spec/meta/argument_specs.yml", "---\nargument_specs:\n  main:\n    short_description: The main entry point\n    options:\n      spec_x:\n        type: str\n        default: a\n  other:\n    options:\n      spec_y: {type: int}\n"),
            s("roles/spec/tasks/main.yml", "- name: spec main\n  debug: msg=1\n"),
            s("roles/spec/tasks/other.yml", "- name: spec other\n  debug: msg=1\n"),
            s("roles/spec/tasks/nospec.yml", "- name: spec nospec\n  debug: msg=1\n"),
            s("roles/inmain/meta/main.yml", "galaxy_info:\n  author: someone\nargument_specs:\n  main:\n    options: {}\n    short_description: from meta main\ndependencies: []\n"),
            s("roles/inmain/tasks/main.yml", "- debug: msg=inmain\n"),
            s("roles/usesdep/meta/main.yml", "dependencies:\n  - role: spec\n    vars:\n      spec_x: b\n"),
            s("roles/usesdep/tasks/main.yaml", "---\n# a comment\n- name: usesdep task (yaml extension)\n  debug: msg=1\n"),
        ],
    );
    push(
        "odd_files",
        vec![
            s("pb.yml", "---\n# comment\n- name: \"Unicode — play ✓\"\n  hosts: web\n  roles:\n    - empty_tasks\n    - only_handlers\n    - ns.galaxy_style\n  tasks:\n    - name: \"  spaced name  \"\n      debug: msg=1\n    - name: \"ünïcödé task\"\n      debug: msg=1\n"),
            s("roles/empty_tasks/tasks/main.yml", "---\n# nothing here\n"),
            s("roles/only_handlers/handlers/main.yml", "- name: h\n  debug: msg=1\n"),
            s("roles/ns.galaxy_style/tasks/main.yml", "- name: galaxy style\n  debug: msg=1\n"),
        ],
    );
    push(
        "os_dispatch_role",
        vec![
            s("pb.yml", "- name: Configure servers\n  hosts: all\n  become: true\n  vars_files: [vars/main.yml]\n  pre_tasks:\n    - name: Update apt cache.\n      ansible.builtin.apt: update_cache=true cache_valid_time=600\n      when: ansible_os_family == 'Debian'\n  roles:\n    - role: webserver\n      tags: [web]\n      vars:\n        port: 8080\n  post_tasks:\n    - name: Check the service\n      ansible.builtin.uri:\n        url: http://localhost:{{ port | default(80) }}\n      delegate_to: localhost\n      run_once: true\n"),
            s("vars/main.yml", "site: example\n"),
            s("roles/webserver/defaults/main.yml", "webserver_packages: [nginx]\n"),
            s("roles/webserver/vars/Debian.yml", "svc: nginx\n"),
            s("roles/webserver/tasks/main.yml", "---\n- name: Include OS-specific variables.\n  include_vars: \"{{ item }}\"\n  with_first_found:\n    - \"{{ ansible_os_family }}.yml\"\n    - default.yml\n\n- include_tasks: \"setup-{{ ansible_os_family }}.yml\"\n\n- import_tasks: configure.yml\n  tags: [config]\n\n- name: Ensure the service runs.\n  ansible.builtin.service:\n    name: \"{{ svc }}\"\n    state: started\n    enabled: true\n\n- meta: flush_handlers\n"),
            s("roles/webserver/tasks/configure.yml", "- name: Write the configuration.\n  ansible.builtin.template:\n    src: site.conf.j2\n    dest: /etc/nginx/conf.d/site.conf\n    mode: '0644'\n  notify: restart webserver\n\n- block:\n    - name: Validate\n      ansible.builtin.command: nginx -t\n      changed_when: false\n  rescue:\n    - ansible.builtin.fail:\n        msg: invalid\n  become: true\n"),
            s("roles/webserver/handlers/main.yml", "- name: restart webserver\n  ansible.builtin.service: name={{ svc }} state=restarted\n"),
        ],
    );
    out
}

/// Every generated shape.
pub fn all() -> Vec<Shape> {
    let mut out = tag_levels();
    out.extend(task_contexts());
    out.extend(plays());
    out.extend(structures());
    out
}

/// The inventory every shape is listed against.
pub const INVENTORY: &str = "[web]\nweb1\nweb2\n\n[db]\ndb1\n\n[app:children]\nweb\n\n[other]\nlone ansible_host=127.0.0.1\n";

/// Roles found through `ANSIBLE_ROLES_PATH` (relative to the shapes' root).
pub const SHARED_ROLES: &[(&str, &str)] = &[(
    "shared_roles/shared_role/tasks/main.yml",
    "- name: from the roles path\n  debug: msg=1\n- ansible.builtin.debug: msg=2\n",
)];

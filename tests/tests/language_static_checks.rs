//! Static checks before any connection: a literal controller-side file (`copy`/`template`/
//! `unarchive` `src`, `script`, `include_vars`, `vars_files`) that exists nowhere stops the run
//! with exit 1 and file:line:col, before any host is contacted; the content we ship passes the
//! checks. Free-form and `k=v` argument text that ansible-core cannot split (an unbalanced quote
//! or Jinja block) is refused at load time by both, for the same inputs.

use std::path::PathBuf;

use drover_integration::{drover_command, oracle_ansible_playbook, repo_root};

#[test]
fn missing_source_file_fails_before_connecting() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("files")).expect("files dir");
    std::fs::write(dir.path().join("files/motd"), "hello\n").expect("file");
    let yaml = "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: present\n      copy:\n        src: motd\n        dest: /tmp/motd\n    - name: typo\n      template:\n        src: nginx.conf.j2\n        dest: /etc/nginx/nginx.conf\n";
    std::fs::write(dir.path().join("site.yml"), yaml).expect("playbook");
    // The check runs first: no connection is attempted (and a failure would only reach loopback).
    let out = drover_command()
        .current_dir(dir.path())
        .args(["play", "site.yml", "-i", "127.0.0.1,", "-T", "1"])
        .output()
        .expect("run drover");
    let err = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{err}");
    assert!(
        err.contains("could not find the file 'nginx.conf.j2'"),
        "{err}"
    );
    assert!(err.contains("site.yml:10:9"), "{err}");
    assert!(
        err.contains("templates/nginx.conf.j2"),
        "hint lists the search path: {err}"
    );
    assert!(!err.contains("'motd'"), "{err}");
    assert!(!stdout.contains("PLAY ["), "no play started: {stdout}");
}

#[test]
fn missing_unarchive_source_fails_before_connecting() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Only the last archive is a controller file: `remote_src: true` and `copy: no` (its
    // deprecated inverse) name archives on the host, which no controller check can see.
    let yaml = "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: on the host\n      unarchive:\n        src: remote.tgz\n        dest: /opt\n        remote_src: true\n    - name: old spelling\n      unarchive:\n        src: legacy.tgz\n        dest: /opt\n        copy: no\n    - name: typo\n      unarchive:\n        src: app-1.0.tgz\n        dest: /opt\n";
    std::fs::write(dir.path().join("site.yml"), yaml).expect("playbook");
    let out = drover_command()
        .current_dir(dir.path())
        .args(["play", "site.yml", "-i", "127.0.0.1,", "-T", "1"])
        .output()
        .expect("run drover");
    let err = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{err}");
    assert!(
        err.contains("could not find the file 'app-1.0.tgz'"),
        "{err}"
    );
    assert!(err.contains("site.yml:16:9"), "{err}");
    assert!(
        err.contains("files/app-1.0.tgz"),
        "hint lists the search path: {err}"
    );
    assert!(
        !err.contains("remote.tgz"),
        "remote_src skips the check: {err}"
    );
    assert!(
        !err.contains("legacy.tgz"),
        "copy: no skips the check: {err}"
    );
    assert!(!stdout.contains("PLAY ["), "no play started: {stdout}");
}

#[test]
fn undefined_variable_fails_before_connecting() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("group_vars")).expect("group_vars");
    std::fs::write(dir.path().join("group_vars/all.yml"), "app_port: 8080\n").expect("vars");
    let yaml = "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: guarded\n      debug:\n        msg: \"{{ maybe | default('x') }} {{ app_port }}\"\n    - name: typo\n      copy:\n        content: \"port={{ app_prot }} {{ from_cli }}\"\n        dest: /tmp/port\n";
    std::fs::write(dir.path().join("site.yml"), yaml).expect("playbook");
    let run = |extra: &[&str]| {
        drover_command()
            .current_dir(dir.path())
            .args(["play", "site.yml", "-i", "127.0.0.1,", "-T", "1"])
            .args(extra)
            .output()
            .expect("run drover")
    };
    let out = run(&["-e", "from_cli=1"]);
    let err = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{err}");
    assert!(err.contains("'app_prot' is not defined anywhere"), "{err}");
    assert!(err.contains("site.yml:9:9"), "{err}");
    assert!(err.contains("did you mean 'app_port'?"), "{err}");
    assert!(
        !err.contains("'maybe'") && !err.contains("'from_cli'"),
        "{err}"
    );
    assert!(!stdout.contains("PLAY ["), "no play started: {stdout}");
    // Without -e, the variable only the command line defines is reported too.
    let out = run(&["--syntax-check"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("'from_cli' is not defined anywhere"), "{err}");
}

/// Copies `from` into `to` recursively.
fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

#[test]
fn a_typo_in_a_role_of_the_realistic_playbook_is_found() {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_tree(&repo_root().join("playbooks"), dir.path());
    let tasks = dir.path().join("roles/nginx/tasks/main.yml");
    let text = std::fs::read_to_string(&tasks).expect("role tasks");
    // nginx_site_dir comes from vars/<os_family>.yml, loaded with a templated include_vars.
    assert!(text.contains("{{ nginx_site_dir }}"), "{text}");
    std::fs::write(
        &tasks,
        text.replacen("{{ nginx_site_dir }}", "{{ nginx_site_dirr }}", 1),
    )
    .expect("write");
    let out = drover_command()
        .current_dir(dir.path())
        .args([
            "play",
            "ome-prerequisites.yml",
            "--syntax-check",
            "-i",
            "localhost,",
        ])
        .output()
        .expect("run drover");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("roles/nginx/tasks/main.yml:20:5"), "{err}");
    assert!(err.contains("'nginx_site_dirr' is not defined"), "{err}");
    assert!(err.contains("did you mean 'nginx_site_dir'?"), "{err}");
}

#[test]
fn shipped_playbooks_pass_the_static_checks() {
    let root = repo_root().join("playbooks");
    let mut books: Vec<PathBuf> = Vec::new();
    for dir in [root.clone(), root.join("features"), root.join("tests")] {
        for entry in std::fs::read_dir(&dir).expect("playbooks dir").flatten() {
            let p = entry.path();
            if p.extension().is_some_and(|e| e == "yml") {
                books.push(p);
            }
        }
    }
    assert!(books.len() >= 10, "{books:?}");
    for book in books {
        // Playbooks that document the extra vars their test passes get them here too, and those
        // shipped with an inventory are checked with it.
        let release_inventory = repo_root().join("inventories/container-release");
        let rhaptos_inventory = repo_root().join("inventories/rhaptos");
        let (inventory, extra): (&str, &[&str]) = match book.file_name().and_then(|n| n.to_str()) {
            Some("deploy.yml") => (
                "localhost,",
                &[
                    "-e",
                    "http_base=http://127.0.0.1:9 http_host=127.0.0.1 http_port=9 fetch_dir=/tmp",
                ],
            ),
            Some("container-release.yml") => (
                release_inventory.to_str().expect("utf-8 path"),
                &["-e", "release_tag=2026-12-07"],
            ),
            Some("rhaptos-lan.yml" | "rhaptos-destroy.yml") => {
                (rhaptos_inventory.to_str().expect("utf-8 path"), &[])
            }
            _ => ("localhost,", &[]),
        };
        let out = drover_command()
            .current_dir(book.parent().expect("dir"))
            .env("ANSIBLE_ROLES_PATH", root.join("features/roles"))
            .args(["play", "--syntax-check", "-i", inventory])
            .args(extra)
            .arg(&book)
            .output()
            .expect("run drover");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            book.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Argument text ansible-core refuses when it loads the play ("failed at splitting arguments")
/// is refused by drover before any host is touched, naming the task's line and what to write
/// instead; text it accepts (quotes inside `{{ }}`, escaped quotes, `cmd:`) passes in both.
#[test]
fn unsplittable_arguments_are_refused_as_ansible_refuses_them() {
    let cases: &[(&str, bool)] = &[
        ("shell: echo it's here", false),
        ("command: echo \"a", false),
        ("shell: echo {{ x", false),
        ("shell: echo ${#arr[@]}", false),
        ("raw: echo it's", false),
        ("debug: msg=\"a", false),
        ("action: shell echo it's", false),
        ("set_fact: a=\"b", false),
        ("shell: echo {{ \"it's\" }}", true),
        ("shell: echo it\\'s", true),
        ("shell: \"echo 'balanced' ok\"", true),
        ("shell: {cmd: \"echo it's here\"}", true),
    ];
    let dir = tempfile::tempdir().expect("temp dir");
    let books: Vec<PathBuf> = cases
        .iter()
        .enumerate()
        .map(|(i, (task, _))| {
            let book = dir.path().join(format!("case{i}.yml"));
            let yaml = format!(
                "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: first\n      debug: msg=hi\n    - {task}\n"
            );
            std::fs::write(&book, yaml).expect("playbook");
            book
        })
        .collect();
    let ansible = oracle_ansible_playbook();
    let oracle: Vec<bool> = std::thread::scope(|scope| {
        let handles: Vec<_> = books
            .iter()
            .map(|book| {
                scope.spawn(move || {
                    std::process::Command::new(ansible)
                        .args(["--syntax-check", "-i", "localhost,"])
                        .arg(book)
                        .output()
                        .expect("run ansible-playbook")
                        .status
                        .success()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("oracle thread"))
            .collect()
    });
    for (i, ((task, accepted), ansible_ok)) in cases.iter().zip(oracle).enumerate() {
        assert_eq!(ansible_ok, *accepted, "the oracle on {task:?}");
        // A real run: the refusal comes before any task (and any connection).
        let out = drover_command()
            .current_dir(dir.path())
            .args([
                "play",
                &format!("case{i}.yml"),
                "-i",
                "127.0.0.1,",
                "-T",
                "1",
            ])
            .args(if *accepted {
                &["--syntax-check"][..]
            } else {
                &[][..]
            })
            .output()
            .expect("run drover");
        let err = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        if *accepted {
            assert_eq!(out.status.code(), Some(0), "{task:?}: {err}");
            continue;
        }
        assert_eq!(out.status.code(), Some(1), "{task:?}: {stdout}\n{err}");
        // The report is wrapped to the terminal's width: compare its words.
        let words: Vec<&str> = err.split_whitespace().filter(|w| *w != "│").collect();
        let flat = words.join(" ");
        assert!(
            flat.contains(
                "failed at splitting arguments, either an unbalanced jinja2 block or quotes"
            ),
            "{task:?}: {err}"
        );
        assert!(err.contains(&format!("case{i}.yml:6:")), "{task:?}: {err}");
        assert!(flat.contains("balance its quotes"), "{task:?}: {err}");
        assert!(
            !stdout.contains("PLAY ["),
            "{task:?}: no play started: {stdout}"
        );
    }
}

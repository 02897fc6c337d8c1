//! `drover galaxy install` from a local bare git repository (a tag and a branch), a tarball, a
//! directory, and collections from git (with `#subdir`) and a tarball; a second run skips
//! everything, `--force` reinstalls, a Galaxy name fails before anything is installed; the
//! installed roles and collection roles run in `drover play`. `drover galaxy init` makes a role
//! that passes `--syntax-check`, converges on localhost (local connection), is idempotent and
//! passes its own `tests/verify.yml`; and a full `drover test` of it on a throwaway LXC host (root,
//! the tests' testbed under the harness cache). Otherwise no hosts; git and tar on the controller.

use std::path::Path;
use std::process::Command;

use drover_integration::{cache_dir, drover_command, require_root_and_setup, DroverOutput};

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> DroverOutput {
    let out = drover_command()
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env_remove("ANSIBLE_CONFIG")
        .env_remove("ANSIBLE_ROLES_PATH")
        .env_remove("ANSIBLE_COLLECTIONS_PATH")
        .envs(env.iter().copied())
        .output()
        .expect("drover runs");
    DroverOutput {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn sh(dir: &Path, script: &str) {
    let out = Command::new("sh")
        .arg("-ec")
        .arg(script)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
        .output()
        .expect("sh runs");
    assert!(out.status.success(), "{script}: {out:?}");
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

fn role(dir: &Path, word: &str) {
    write(&dir.join("defaults/main.yml"), &format!("word: {word}\n"));
    write(
        &dir.join("tasks/main.yml"),
        "- debug:\n    msg: \"{{ role_name }} says {{ word }}\"\n",
    );
    write(
        &dir.join("meta/main.yml"),
        "galaxy_info: {}\ndependencies: []\n",
    );
}

/// A bare repository `greet.git` (tag v1 says one, main says two, branch dev says three),
/// `collrepo.git` with a collection in `coll/`, `plain.tar.gz` and `plain/` roles, and
/// `acme-util.tar.gz` (a collection tarball).
fn sources(d: &Path) {
    role(&d.join("work"), "one");
    sh(
        d,
        "cd work && git init -q -b main && git add -A && git commit -qm one && git tag v1 \
         && sed -i s/one/two/ defaults/main.yml && git commit -qam two \
         && git checkout -qb dev && sed -i s/two/three/ defaults/main.yml && git commit -qam three \
         && git checkout -q main && cd .. && git clone -q --bare work greet.git",
    );
    write(
        &d.join("cwork/coll/galaxy.yml"),
        "namespace: acme\nname: web\nversion: 1.0.0\n",
    );
    role(&d.join("cwork/coll/roles/site"), "collection");
    write(&d.join("cwork/README.md"), "not the collection\n");
    sh(
        d,
        "cd cwork && git init -q -b main && git add -A && git commit -qm c && git tag 1.0.0 \
         && cd .. && git clone -q --bare cwork collrepo.git",
    );
    role(&d.join("plain"), "plain");
    sh(d, "tar -czf plain.tar.gz plain");
    write(
        &d.join("util/MANIFEST.json"),
        r#"{"collection_info": {"namespace": "acme", "name": "util", "version": "2.0.0"}}"#,
    );
    role(&d.join("util/roles/tool"), "util");
    sh(d, "tar -czf acme-util.tar.gz -C util .");
}

const REQUIREMENTS: &str = "\
roles:
  - src: git+file://DIR/greet.git
    version: v1
    name: greet_v1
  - src: ./greet.git
    scm: git
    version: dev
    name: greet_dev
  - src: git+file://DIR/greet.git,main,greet_main
  - src: ./plain.tar.gz
    name: from_tar
  - src: ./plain
    name: from_dir
collections:
  - name: git+file://DIR/collrepo.git#/coll
    version: 1.0.0
  - name: ./acme-util.tar.gz
    type: file
";

#[test]
fn install_from_git_tarballs_and_directories_then_skip_then_force() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    sources(d);
    let req = d.join("requirements.yml");
    write(&req, &REQUIREMENTS.replace("DIR", &d.display().to_string()));
    let args = [
        "galaxy",
        "install",
        "-r",
        "requirements.yml",
        "-p",
        "installed/roles",
        "--collections-path",
        "installed/colls",
    ];
    let first = run(d, &args, &[]);
    first.assert_success();
    for name in [
        "greet_v1",
        "greet_dev",
        "greet_main",
        "from_tar",
        "from_dir",
    ] {
        assert!(
            first.stdout.contains(&format!("- {name} ")),
            "{name}: {}",
            first.stdout
        );
    }
    let word = |role: &str| {
        std::fs::read_to_string(
            d.join("installed/roles")
                .join(role)
                .join("defaults/main.yml"),
        )
        .unwrap_or_else(|e| panic!("{role}: {e}"))
    };
    assert_eq!(word("greet_v1"), "word: one\n");
    assert_eq!(word("greet_dev"), "word: three\n");
    assert_eq!(word("greet_main"), "word: two\n");
    assert_eq!(word("from_tar"), "word: plain\n");
    assert!(!d.join("installed/roles/greet_v1/.git").exists());
    let info =
        std::fs::read_to_string(d.join("installed/roles/greet_v1/meta/.galaxy_install_info"))
            .expect("install info");
    assert!(info.contains("version: v1"), "{info}");
    let colls = d.join("installed/colls/ansible_collections/acme");
    assert!(colls.join("web/roles/site/tasks/main.yml").is_file());
    assert!(
        !colls.join("web/README.md").exists(),
        "the #/coll subdirectory only"
    );
    assert!(colls.join("util/roles/tool/tasks/main.yml").is_file());
    let leftovers: Vec<_> = std::fs::read_dir(d.join("installed/roles"))
        .expect("roles dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    let second = run(d, &args, &[]);
    second.assert_success();
    assert_eq!(
        second.stdout.matches("already installed, skipping").count(),
        7,
        "{}",
        second.stdout
    );
    assert!(
        !second.stdout.contains("was installed successfully"),
        "{}",
        second.stdout
    );

    let mut forced = args.to_vec();
    forced.push("--force");
    let third = run(d, &forced, &[]);
    third.assert_success();
    assert_eq!(
        third.stdout.matches("was installed successfully").count(),
        7,
        "{}",
        third.stdout
    );

    // The installed roles and the collections' roles run.
    write(
        &d.join("site.yml"),
        "- hosts: localhost\n  gather_facts: false\n  roles: [greet_v1, greet_dev, acme.web.site, acme.util.tool]\n",
    );
    // Installed into the default roles and collections paths, they are found without settings.
    let default_install = run(d, &["galaxy", "install", "-r", "requirements.yml"], &[]);
    default_install.assert_success();
    assert!(d.join(".ansible/roles/greet_v1").is_dir());
    assert!(d
        .join(".ansible/collections/ansible_collections/acme/web")
        .is_dir());
    let play = run(d, &["play", "site.yml"], &[]);
    play.assert_success();
    for msg in [
        "greet_v1 says one",
        "greet_dev says three",
        "site says collection",
        "tool says util",
    ] {
        assert!(play.stdout.contains(msg), "{msg}: {}", play.stdout);
    }
}

#[test]
fn galaxy_names_and_bad_versions_fail_clearly() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    sources(d);
    write(
        &d.join("req.yml"),
        "roles:\n  - src: ./plain\n    name: ok_role\n  - name: geerlingguy.nginx\ncollections:\n  - community.general\n",
    );
    let out = run(d, &["galaxy", "install", "-r", "req.yml", "-p", "r"], &[]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stderr.contains("geerlingguy.nginx"), "{}", out.stderr);
    assert!(out.stderr.contains("community.general"), "{}", out.stderr);
    assert!(out.stderr.contains("Galaxy"), "{}", out.stderr);
    assert!(out.stderr.contains("req.yml:4:5"), "{}", out.stderr);
    assert!(!d.join("r").exists(), "nothing is installed");

    let spec = format!("git+file://{}/greet.git,nosuchtag,x", d.display());
    let out = run(d, &["galaxy", "install", &spec, "-p", "r"], &[]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stderr.contains("nosuchtag"), "{}", out.stderr);
    assert!(!d.join("r/x").exists());
}

#[test]
fn init_scaffolds_a_role_that_converges_and_verifies() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    let out = run(
        d,
        &["galaxy", "init", "my_app", "--init-path", "roles"],
        &[],
    );
    out.assert_success();
    let role = d.join("roles/my_app");
    for f in [
        "README.md",
        "defaults/main.yml",
        "meta/main.yml",
        "tasks/main.yml",
        "handlers/main.yml",
        "tests/test.yml",
        "tests/inventory",
        "tests/verify.yml",
        "drover-test.yml",
    ] {
        assert!(role.join(f).is_file(), "{f}");
    }
    let again = run(
        d,
        &["galaxy", "init", "my_app", "--init-path", "roles"],
        &[],
    );
    assert_eq!(again.code, Some(1), "an existing role is not overwritten");

    let roles = d.join("roles").display().to_string();
    let env = [("ANSIBLE_ROLES_PATH", roles.as_str())];
    let syntax = run(
        &role,
        &[
            "play",
            "tests/test.yml",
            "-i",
            "tests/inventory",
            "--syntax-check",
        ],
        &env,
    );
    syntax.assert_success();

    // What `drover test` does, on localhost: converge, converge again, verify.
    let target = d.join("out/my_app.conf").display().to_string();
    std::fs::create_dir_all(d.join("out")).expect("mkdir");
    write(
        &d.join("converge.yml"),
        "- hosts: all\n  roles: [my_app]\n\n- hosts: all\n  tasks:\n    - import_tasks: roles/my_app/tests/verify.yml\n",
    );
    let vars = format!("my_app_path={target}");
    let args = [
        "play",
        "converge.yml",
        "-i",
        "roles/my_app/tests/inventory",
        "-e",
        vars.as_str(),
    ];
    let first = run(d, &args, &env);
    first.assert_success();
    assert_eq!(first.changed(), 1, "{}", first.stdout);
    assert_eq!(
        std::fs::read_to_string(&target).expect("written"),
        "managed by my_app\n"
    );
    let second = run(d, &args, &env);
    second.assert_success();
    assert_eq!(second.changed(), 0, "{}", second.stdout);
}

#[test]
fn init_role_passes_drover_test() {
    require_root_and_setup();
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    run(d, &["galaxy", "init", "scaffolded"], &[]).assert_success();
    let testbed = cache_dir().join("testbed").display().to_string();
    let out = run(
        d,
        &["test", "scaffolded", "--output", "json"],
        &[("DROVER_TESTBED_DIR", testbed.as_str())],
    );
    out.assert_success();
    let report: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON result");
    let scenario = &report["scenarios"][0];
    assert_eq!(scenario["name"], "default", "{report:#}");
    assert_eq!(scenario["status"], "ok", "{report:#}");
    let phases: Vec<&str> = scenario["phases"]
        .as_array()
        .expect("phases")
        .iter()
        .filter(|p| p["status"] == "ok")
        .filter_map(|p| p["phase"].as_str())
        .collect();
    for phase in ["converge", "idempotence", "verify"] {
        assert!(phases.contains(&phase), "{phase}: {report:#}");
    }
}

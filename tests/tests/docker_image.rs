//! The image and registry modules against a private engine and its local registry, with
//! `connection: local` (the target is the controller): build (args, labels, idempotence,
//! `force_source`), tag and push (a second push changes nothing), pull back from the registry,
//! archive and load, removal, image info, login/logout; check mode touches nothing; bad input
//! fails naming the task.

use std::path::Path;

use drover_integration::{run_drover, DroverOutput, TestDockerEngine, TEST_IMAGE};

/// Runs `tasks` (YAML list items indented by four spaces) against the engine.
fn play(engine: &TestDockerEngine, dir: &Path, tasks: &str, extra: &[&str]) -> DroverOutput {
    let book = dir.join("book.yml");
    let yaml = format!(
        "- hosts: all\n  gather_facts: false\n  environment:\n    DOCKER_HOST: \"{}\"\n  tasks:\n{tasks}",
        engine.docker_host()
    );
    std::fs::write(&book, yaml).expect("playbook");
    let mut args = vec![
        book.to_str().expect("utf-8 path"),
        "-i",
        "localhost,",
        "-c",
        "local",
    ];
    args.extend_from_slice(extra);
    let mut full = vec!["play"];
    full.extend(args);
    run_drover(full)
}

fn image_exists(engine: &TestDockerEngine, name: &str) -> bool {
    engine.docker(&["image", "inspect", name]).status.success()
}

fn assert_changed(out: &DroverOutput, n: u32) {
    out.assert_success();
    assert_eq!(out.changed(), n, "{}\n{}", out.stdout, out.stderr);
}

#[test]
fn build_is_idempotent_forced_and_removed() {
    let engine = TestDockerEngine::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let ctx = dir.path().join("ctx");
    std::fs::create_dir(&ctx).expect("context dir");
    std::fs::write(
        ctx.join("Dockerfile"),
        format!("FROM {TEST_IMAGE}\nARG GREETING=none\nRUN echo \"$GREETING\" > /greeting\n"),
    )
    .expect("Dockerfile");
    let build = format!(
        "    - name: build the app
      docker_image:
        name: drover/app
        tag: v1
        source: build
        build:
          path: {}
          args: {{GREETING: hello}}
          labels: {{team: ops}}
      register: b
    - assert:
        that:
          - ansible_check_mode or b.image.Config.Labels.team == 'ops'
          - b.actions | length == (1 if b.changed else 0)
",
        ctx.display()
    );
    // Check mode predicts the build and builds nothing.
    assert_changed(&play(&engine, dir.path(), &build, &["--check"]), 1);
    assert!(!image_exists(&engine, "drover/app:v1"));
    assert_changed(&play(&engine, dir.path(), &build, &[]), 1);
    let greeting = engine.docker_ok(&["run", "--rm", "drover/app:v1", "cat", "/greeting"]);
    assert_eq!(greeting, "hello");
    let first_id = engine.docker_ok(&["image", "inspect", "-f", "{{.Id}}", "drover/app:v1"]);
    // The image exists: no rebuild, as community.docker (even if the context changed).
    assert_changed(&play(&engine, dir.path(), &build, &[]), 0);
    assert_changed(&play(&engine, dir.path(), &build, &["--check"]), 0);
    // force_source rebuilds; a changed Dockerfile gives a new image.
    std::fs::write(
        ctx.join("Dockerfile"),
        format!("FROM {TEST_IMAGE}\nARG GREETING=none\nRUN echo \"$GREETING!\" > /greeting\n"),
    )
    .expect("Dockerfile");
    let forced = build.replace("source: build", "source: build\n        force_source: true")
        + "    - assert: {that: [\"'Successfully built' in b.stdout\"]}\n";
    assert_changed(&play(&engine, dir.path(), &forced, &[]), 1);
    let second_id = engine.docker_ok(&["image", "inspect", "-f", "{{.Id}}", "drover/app:v1"]);
    assert_ne!(first_id, second_id);

    // Removal: check mode keeps the image, then it goes, then nothing to do.
    let absent = "    - docker_image: {name: 'drover/app:v1', state: absent}\n";
    assert_changed(&play(&engine, dir.path(), absent, &["--check"]), 1);
    assert!(image_exists(&engine, "drover/app:v1"));
    assert_changed(&play(&engine, dir.path(), absent, &[]), 1);
    assert!(!image_exists(&engine, "drover/app:v1"));
    assert_changed(&play(&engine, dir.path(), absent, &[]), 0);

    // Bad input fails naming the task.
    for (task, needle) in [
        (
            "    - name: no source\n      docker_image: {name: x}\n",
            "source",
        ),
        (
            "    - name: no source\n      docker_image: {name: x, source: local, colour: red}\n",
            "colour",
        ),
        (
            "    - name: no source\n      docker_image: {name: x, source: build, build: {path: /nonexistent}}\n",
            "/nonexistent",
        ),
        (
            "    - name: no source\n      docker_image: {name: 'missing/image:1', source: local}\n",
            "Cannot find the image missing/image:1",
        ),
        (
            "    - name: no source\n      docker_image: {name: x, source: fetch}\n",
            "fetch",
        ),
    ] {
        let out = play(&engine, dir.path(), task, &[]);
        assert!(!out.success(), "{}", out.stdout);
        let text = format!("{}{}", out.stdout, out.stderr);
        assert!(text.contains("no source") && text.contains(needle), "{needle}: {text}");
    }
}

#[test]
fn tag_push_pull_archive_load_and_info() {
    let engine = TestDockerEngine::start();
    let registry = engine.registry();
    let dir = tempfile::tempdir().expect("temp dir");
    let remote = format!("{registry}/drover/base");
    // Tag and push with docker_image: check mode predicts, a second push changes nothing.
    let push = format!(
        "    - docker_image:
        name: {TEST_IMAGE}
        repository: {remote}:1.0
        push: true
        source: local
      register: p
"
    );
    assert_changed(&play(&engine, dir.path(), &push, &["--check"]), 1);
    assert!(!image_exists(&engine, &format!("{remote}:1.0")));
    assert_changed(&play(&engine, dir.path(), &push, &[]), 1);
    assert_changed(&play(&engine, dir.path(), &push, &[]), 0);
    assert_changed(&play(&engine, dir.path(), &push, &["--check"]), 0);
    // docker_image_push agrees; a new tag of the same image is pushed once.
    let push2 = format!(
        "    - docker_image_tag: {{name: '{remote}:1.0', repository: ['{remote}:1.1']}}
    - docker_image_push: {{name: '{remote}', tag: '1.1'}}
"
    );
    let tag_only = push2.lines().next().unwrap_or_default().to_string() + "\n";
    assert_changed(&play(&engine, dir.path(), &tag_only, &["--check"]), 1);
    assert!(!image_exists(&engine, &format!("{remote}:1.1")));
    assert_changed(&play(&engine, dir.path(), &push2, &[]), 2);
    assert_changed(&play(&engine, dir.path(), &push2, &["--check"]), 0);
    assert_changed(&play(&engine, dir.path(), &push2, &[]), 0);
    // Pull back after removing the local copies.
    let remove = format!(
        "    - docker_image_remove: {{name: '{remote}:1.0'}}\n    - docker_image_remove: {{name: '{remote}', tag: '1.1'}}\n"
    );
    assert_changed(&play(&engine, dir.path(), &remove, &["--check"]), 2);
    assert!(image_exists(&engine, &format!("{remote}:1.0")));
    assert_changed(&play(&engine, dir.path(), &remove, &[]), 2);
    assert!(!image_exists(&engine, &format!("{remote}:1.0")));
    assert_changed(&play(&engine, dir.path(), &remove, &[]), 0);
    let pull = format!(
        "    - docker_image_pull: {{name: '{remote}:1.0', pull: not_present}}
      register: r
    - assert: {{that: [\"ansible_check_mode or r.image.Id is defined\"]}}
"
    );
    assert_changed(&play(&engine, dir.path(), &pull, &["--check"]), 1);
    assert!(!image_exists(&engine, &format!("{remote}:1.0")));
    assert_changed(&play(&engine, dir.path(), &pull, &[]), 1);
    assert!(image_exists(&engine, &format!("{remote}:1.0")));
    assert_changed(&play(&engine, dir.path(), &pull, &[]), 0);
    // `always` pulls again, but the image is the same: no change (predicted in check mode).
    let always = pull.replace("not_present", "always");
    assert_changed(&play(&engine, dir.path(), &always, &[]), 0);
    assert_changed(&play(&engine, dir.path(), &always, &["--check"]), 0);

    // Archive, then load back.
    let tar = dir.path().join("base.tar");
    let archive = format!(
        "    - docker_image: {{name: '{remote}:1.0', source: local, archive_path: '{}'}}\n",
        tar.display()
    );
    assert_changed(&play(&engine, dir.path(), &archive, &["--check"]), 1);
    assert!(!tar.exists());
    assert_changed(&play(&engine, dir.path(), &archive, &[]), 1);
    assert!(tar.exists());
    assert_changed(&play(&engine, dir.path(), &archive, &[]), 0);
    engine.docker_ok(&["image", "rm", &format!("{remote}:1.0")]);
    let load = format!(
        "    - docker_image: {{name: '{remote}:1.0', source: load, load_path: '{}'}}\n",
        tar.display()
    );
    assert_changed(&play(&engine, dir.path(), &load, &["--check"]), 1);
    assert!(!image_exists(&engine, &format!("{remote}:1.0")));
    assert_changed(&play(&engine, dir.path(), &load, &[]), 1);
    assert!(image_exists(&engine, &format!("{remote}:1.0")));
    assert_changed(&play(&engine, dir.path(), &load, &[]), 0);
    // Forced load and pull of the image already there: same ID, no change, predicted.
    let reload = load.replace("source: load,", "source: load, force_source: true,");
    assert_changed(&play(&engine, dir.path(), &reload, &["--check"]), 0);
    assert_changed(&play(&engine, dir.path(), &reload, &[]), 0);
    let repull =
        format!("    - docker_image: {{name: '{remote}:1.0', source: pull, force_source: true}}\n");
    assert_changed(&play(&engine, dir.path(), &repull, &["--check"]), 0);
    assert_changed(&play(&engine, dir.path(), &repull, &[]), 0);
    let wrong = format!(
        "    - name: wrong name\n      docker_image: {{name: 'other:1', source: load, load_path: '{}', force_source: true}}\n",
        tar.display()
    );
    let out = play(&engine, dir.path(), &wrong, &[]);
    assert!(
        !out.success() && out.stdout.contains("did not contain image 'other:1'"),
        "{}",
        out.stdout
    );

    // Image info: present and missing names.
    let info = format!(
        "    - docker_image_info: {{name: ['{remote}:1.0', 'missing/nothing']}}
      register: i
    - assert:
        that:
          - i.images | length == 1
          - i.images[0].RepoTags is defined
          - i is not changed
"
    );
    assert_changed(&play(&engine, dir.path(), &info, &[]), 0);

    // Bad input to the single-purpose modules fails naming the task.
    let id = format!("sha256:{}", "a".repeat(64));
    for (task, needle) in [
        (
            "docker_image_tag: {name: 'missing/x:1', repository: [a/b]}".to_string(),
            "Cannot find image missing/x:1".to_string(),
        ),
        (
            format!("docker_image_push: {{name: '{id}'}}"),
            "Cannot push an image by ID".into(),
        ),
        (
            "docker_image_push: {name: 'missing/x:1'}".into(),
            "Cannot find image missing/x:1".into(),
        ),
        (
            "docker_image_pull: {name: x, tag: 'bad tag'}".into(),
            "not a valid docker tag".into(),
        ),
        (
            "docker_image_pull: {name: x, pull: sometimes}".into(),
            "sometimes".into(),
        ),
        (
            "docker_image_remove: {name: x, tag: 'bad tag'}".into(),
            "not a valid docker tag".into(),
        ),
        (
            "docker_image_info: {name: x, filters: {}}".into(),
            "filters".into(),
        ),
    ] {
        let out = play(
            &engine,
            dir.path(),
            &format!("    - name: bad input\n      {task}\n"),
            &[],
        );
        let text = format!("{}{}", out.stdout, out.stderr);
        assert!(!out.success(), "{task}: {text}");
        assert!(
            text.contains("bad input") && text.contains(&needle),
            "{needle}: {text}"
        );
    }
}

/// A registry of our own with htpasswd authentication (user `bob`), stopped on drop.
struct AuthRegistry {
    child: std::process::Child,
    address: String,
}

impl AuthRegistry {
    fn start(dir: &Path, password: &str) -> AuthRegistry {
        let hash = std::process::Command::new("python3")
            .args([
                "-W",
                "ignore",
                "-c",
                "import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))",
                password,
            ])
            .output()
            .expect("python3 for a bcrypt hash");
        let hash = String::from_utf8_lossy(&hash.stdout).trim().to_string();
        assert!(hash.starts_with("$2"), "no bcrypt hash: {hash}");
        std::fs::write(dir.join("htpasswd"), format!("bob:{hash}\n")).expect("htpasswd");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let address = format!("127.0.0.1:{port}");
        let config = dir.join("registry.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {address}\nauth:\n  htpasswd:\n    realm: drover\n    path: {}\n",
                dir.join("registry-data").display(),
                dir.join("htpasswd").display()
            ),
        )
        .expect("registry config");
        let child = std::process::Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("docker-registry");
        for _ in 0..100 {
            if std::net::TcpStream::connect(&address).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        AuthRegistry { child, address }
    }
}

impl Drop for AuthRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn login_and_logout_keep_the_password_private() {
    let engine = TestDockerEngine::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let secret = "s3cr3t-pass-word";
    let auth = AuthRegistry::start(dir.path(), secret);
    let registry = auth.address.clone();
    let config = dir.path().join("dockercfg").join("config.json");
    let login = |password: &str, state: &str, extra: &str| {
        format!(
            "    - name: log in
      docker_login:
        registry_url: {registry}
        username: bob
        password: {password}
        config_path: {}
        state: {state}{extra}
      register: l
    - debug: var=l
",
            config.display()
        )
    };
    let out = play(
        &engine,
        dir.path(),
        &login(secret, "present", ""),
        &["--check"],
    );
    assert_changed(&out, 1);
    assert!(!config.exists());
    let out = play(&engine, dir.path(), &login(secret, "present", ""), &["-v"]);
    assert_changed(&out, 1);
    assert!(!out.stdout.contains(secret) && !out.stderr.contains(secret));
    let stored = std::fs::read_to_string(&config).expect("config.json written");
    assert!(stored.contains(&registry), "{stored}");
    assert_changed(
        &play(&engine, dir.path(), &login(secret, "present", ""), &[]),
        0,
    );
    assert_changed(
        &play(
            &engine,
            dir.path(),
            &login(secret, "present", ""),
            &["--check"],
        ),
        0,
    );
    // reauthorize logs in again.
    let again = login(secret, "present", "\n        reauthorize: true");
    assert_changed(&play(&engine, dir.path(), &again, &[]), 1);
    // A wrong password: the registry refuses, the task fails naming itself, no password shown,
    // and the stored credentials stay.
    let wrong = "wrong-pass-word";
    let out = play(&engine, dir.path(), &login(wrong, "present", ""), &["-v"]);
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(!out.success(), "{text}");
    assert!(
        text.contains("log in")
            && text.contains(&format!("Logging into {registry} for user bob failed"))
            && text.contains("401"),
        "{text}"
    );
    assert!(!text.contains(wrong) && !text.contains(secret), "{text}");
    assert_changed(
        &play(&engine, dir.path(), &login(secret, "present", ""), &[]),
        0,
    );
    // Logout: check mode keeps the credentials.
    assert_changed(
        &play(&engine, dir.path(), &login("x", "absent", ""), &["--check"]),
        1,
    );
    assert!(std::fs::read_to_string(&config)
        .unwrap()
        .contains(&registry));
    assert_changed(
        &play(&engine, dir.path(), &login("x", "absent", ""), &[]),
        1,
    );
    assert!(!std::fs::read_to_string(&config)
        .unwrap()
        .contains(&registry));
    assert_changed(
        &play(&engine, dir.path(), &login("x", "absent", ""), &[]),
        0,
    );
    // Logged out, a push to that registry fails with community.docker's hint.
    let name = format!("{registry}/drover/private:1");
    engine.docker_ok(&["tag", TEST_IMAGE, &name]);
    let push = format!("    - name: push it\n      docker_image_push: {{name: '{name}'}}\n");
    let out = play(&engine, dir.path(), &push, &[]);
    assert!(
        !out.success() && out.stdout.contains("push it") && out.stdout.contains("Try logging into"),
        "{}",
        out.stdout
    );
    // A registry that does not answer: a clear failure naming the task.
    let bad = login(secret, "present", "").replace(&registry, "127.0.0.1:1");
    let out = play(&engine, dir.path(), &bad, &[]);
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(!out.success(), "{text}");
    assert!(
        text.contains("log in") && text.contains("Logging into 127.0.0.1:1 for user bob failed"),
        "{text}"
    );
    assert!(!text.contains(secret), "{text}");
    // A config file the CLI cannot use.
    let odd = login(secret, "present", "").replace("config.json", "creds.json");
    let out = play(&engine, dir.path(), &odd, &[]);
    assert!(
        !out.success() && out.stdout.contains("config.json"),
        "{}",
        out.stdout
    );
}

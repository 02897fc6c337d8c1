//! `docker_container_commit` (drover's own) against a private engine: a commit happens when the
//! container's state is not yet in the image, not again when it is, again after a file changes;
//! pushing to the local registry happens once; check mode touches nothing; bad input fails
//! naming the task. Prints the fingerprint's cost (`--nocapture` shows it).

use std::path::Path;
use std::time::Instant;

use drover_integration::{run_drover, DroverOutput, TestDockerEngine, TEST_IMAGE};

fn play(engine: &TestDockerEngine, dir: &Path, tasks: &str, extra: &[&str]) -> DroverOutput {
    let book = dir.join("book.yml");
    let yaml = format!(
        "- hosts: all\n  gather_facts: false\n  environment:\n    DOCKER_HOST: \"{}\"\n  tasks:\n{tasks}",
        engine.docker_host()
    );
    std::fs::write(&book, yaml).expect("playbook");
    let mut args = vec![
        "play",
        book.to_str().expect("utf-8 path"),
        "-i",
        "localhost,",
        "-c",
        "local",
    ];
    args.extend_from_slice(extra);
    run_drover(args)
}

fn assert_changed(out: &DroverOutput, n: u32) {
    out.assert_success();
    assert_eq!(out.changed(), n, "{}\n{}", out.stdout, out.stderr);
}

fn image_id(engine: &TestDockerEngine, name: &str) -> Option<String> {
    let out = engine.docker(&["image", "inspect", "-f", "{{.Id}}", name]);
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[test]
fn commit_is_idempotent_follows_changes_and_pushes_once() {
    let engine = TestDockerEngine::start();
    let registry = engine.registry();
    let dir = tempfile::tempdir().expect("temp dir");
    engine.docker_ok(&[
        "run", "-d", "--name", "app", TEST_IMAGE, "sleep", "infinity",
    ]);
    engine.docker_ok(&[
        "exec",
        "app",
        "sh",
        "-c",
        "mkdir -p /srv/app && echo v1 > /srv/app/version",
    ]);
    let repo = format!("{registry}/drover/app-snapshot");
    let commit = |push: bool| {
        format!(
            "    - name: snapshot the app
      docker_container_commit:
        container: app
        repository: {repo}
        tag: snap
        message: nightly snapshot
        author: ops
        changes:
          - 'CMD [\"cat\", \"/srv/app/version\"]'
          - 'ENV STAGE=test'
        push: {push}
      register: c
    - debug: var=c.fingerprint
    - assert:
        that:
          - c.fingerprint is match('sha256:[0-9a-f]{{64}}$')
          - c.pushed == {push_expect}
",
            push_expect = if push { "c.changed" } else { "false" }
        )
    };
    let image = format!("{repo}:snap");
    assert_changed(&play(&engine, dir.path(), &commit(false), &["--check"]), 1);
    assert_eq!(image_id(&engine, &image), None);
    let started = Instant::now();
    assert_changed(&play(&engine, dir.path(), &commit(false), &[]), 1);
    eprintln!("commit run (fingerprint + commit): {:?}", started.elapsed());
    let first = image_id(&engine, &image).expect("committed image");
    let out = engine.docker_ok(&["run", "--rm", &image]);
    assert_eq!(out, "v1");
    let labels = engine.docker_ok(&["image", "inspect", "-f", "{{json .Config.Labels}}", &image]);
    assert!(
        labels.contains("drover.commit.fingerprint") && labels.contains("drover.commit.container"),
        "{labels}"
    );
    assert_eq!(
        engine.docker_ok(&["image", "inspect", "-f", "{{.Comment}} {{.Author}}", &image]),
        "nightly snapshot ops"
    );
    // Unchanged container: nothing to commit (and the check run agrees).
    let started = Instant::now();
    assert_changed(&play(&engine, dir.path(), &commit(false), &[]), 0);
    eprintln!(
        "idempotent run (fingerprint only, 2 changed paths): {:?}",
        started.elapsed()
    );
    assert_changed(&play(&engine, dir.path(), &commit(false), &["--check"]), 0);
    assert_eq!(image_id(&engine, &image).as_deref(), Some(first.as_str()));
    // A file changes (same size, new content): a new commit.
    engine.docker_ok(&["exec", "app", "sh", "-c", "echo v2 > /srv/app/version"]);
    assert_changed(&play(&engine, dir.path(), &commit(false), &["--check"]), 1);
    assert_eq!(image_id(&engine, &image).as_deref(), Some(first.as_str()));
    assert_changed(&play(&engine, dir.path(), &commit(false), &[]), 1);
    let second = image_id(&engine, &image).expect("committed image");
    assert_ne!(first, second);
    assert_eq!(engine.docker_ok(&["run", "--rm", &image]), "v2");
    assert_changed(&play(&engine, dir.path(), &commit(false), &[]), 0);
    // Another option value (the message) is another image.
    let other = commit(false).replace("nightly snapshot", "weekly snapshot");
    assert_changed(&play(&engine, dir.path(), &other, &[]), 1);
    assert_changed(&play(&engine, dir.path(), &other, &[]), 0);
    // Push: once, then nothing; check mode predicts both.
    let push = commit(true).replace("nightly snapshot", "weekly snapshot");
    assert_changed(&play(&engine, dir.path(), &push, &["--check"]), 1);
    assert_changed(&play(&engine, dir.path(), &push, &[]), 1);
    assert_changed(&play(&engine, dir.path(), &push, &[]), 0);
    assert_changed(&play(&engine, dir.path(), &push, &["--check"]), 0);
    let pushed = engine.docker_ok(&["image", "inspect", "-f", "{{json .RepoDigests}}", &image]);
    assert!(pushed.contains(&repo), "{pushed}");
    // Many changed files: the whole filesystem is hashed instead, still idempotent.
    engine.docker_ok(&[
        "exec", "app", "sh", "-c", "for i in $(seq 1 60); do echo $i > /srv/app/f$i; done; touch /etc/motd.d 2>/dev/null; echo x >> /etc/issue",
    ]);
    assert_changed(&play(&engine, dir.path(), &commit(false), &[]), 1);
    let started = Instant::now();
    assert_changed(&play(&engine, dir.path(), &commit(false), &[]), 0);
    eprintln!(
        "idempotent run (fingerprint by docker export): {:?}",
        started.elapsed()
    );

    // Bad input names the task.
    for (task, needle) in [
        (
            "    - name: snapshot the app\n      docker_container_commit: {container: nothere, repository: x/y}\n",
            "Cannot find container nothere",
        ),
        (
            "    - name: snapshot the app\n      docker_container_commit: {container: app}\n",
            "repository",
        ),
        (
            "    - name: snapshot the app\n      docker_container_commit: {container: app, repository: 'x/y:1'}\n",
            "without tag",
        ),
        (
            "    - name: snapshot the app\n      docker_container_commit: {container: app, repository: x, pause: maybe}\n",
            "pause",
        ),
    ] {
        let out = play(&engine, dir.path(), task, &[]);
        let text = format!("{}{}", out.stdout, out.stderr);
        assert!(!out.success(), "{text}");
        assert!(text.contains("snapshot the app") && text.contains(needle), "{needle}: {text}");
    }
}

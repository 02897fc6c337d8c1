//! `docker_container_exec`, `docker_container_info` and `docker_prune` against a private engine.

mod netvol_common;

use drover_integration::{TestDockerEngine, TEST_IMAGE};
use netvol_common::{inspect, play, play_ok, sleeper};

#[test]
fn exec_runs_commands_and_reports_their_output() {
    let engine = TestDockerEngine::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    sleeper(&engine, "box");
    let tasks = r#"
    - docker_container_exec:
        docker_host: DH
        container: box
        command: /bin/sh -c 'echo "$GREETING from $(pwd) as $(id -un)"; echo oops >&2'
        chdir: /tmp
        user: nobody
        env:
          GREETING: hello
      register: a
    - community.docker.docker_container_exec:
        docker_host: DH
        container: box
        argv: [/bin/sh, -c, "exit 3"]
      register: b
    - docker_container_exec:
        docker_host: DH
        container: box
        argv: [/bin/sh, -c, "echo late >&2; exit 124"]
      register: h
    - docker_container_exec:
        docker_host: DH
        container: box
        argv: [cat]
        stdin: some input
      register: c
    - docker_container_exec:
        docker_host: DH
        container: box
        argv: [printf, 'x\n\n']
        strip_empty_ends: false
      register: e
    - docker_container_exec:
        docker_host: DH
        container: box
        command: sleep 30
        detach: true
      register: f
    - docker_container_exec:
        docker_host: DH
        container: box
        argv: [tty]
        tty: true
      register: g
    - docker_container_info:
        docker_host: DH
        name: box
      register: i
    - docker_container_info:
        docker_host: DH
        name: nobox
      register: m
    - assert:
        that:
          - a is changed
          - a.stdout == 'hello from /tmp as nobody'
          - a.stderr == 'oops'
          - a.rc == 0
          - b.rc == 3 and b is not failed
          - h.rc == 124 and h.stderr == 'late'
          - c.stdout == 'some input'
          - e.stdout == 'x\n\n'
          - f.exec_id | length == 64
          - f.stdout is not defined
          - "'/dev/pts/' in g.stdout"
          - i.exists and i.container.Name == '/box' and i.container.State.Running
          - i is not changed
          - not m.exists and m.container is none
"#;
    assert_eq!(play_ok(&engine, d, tasks, &[]), 7);
    let procs = engine.docker_ok(&["top", "box"]);
    assert!(procs.contains("sleep 30"), "{procs}");

    // Check mode (community.docker has none) predicts the apply: changed, and nothing runs.
    let touch = "    - docker_container_exec:\n        docker_host: DH\n        container: box\n        command: touch /tmp/marker\n";
    assert_eq!(play_ok(&engine, d, touch, &["--check"]), 1);
    assert!(!engine
        .docker(&["exec", "box", "test", "-e", "/tmp/marker"])
        .status
        .success());

    // A missing container and an env value that is not a string fail, naming the task.
    for (task, words) in [
        (
            "    - name: into the void\n      docker_container_exec:\n        docker_host: DH\n        container: nobox\n        command: 'true'\n",
            "Could not find container \"nobox\"",
        ),
        (
            "    - name: ambiguous env\n      docker_container_exec:\n        docker_host: DH\n        container: box\n        command: 'true'\n        env:\n          A: true\n",
            "Non-string value found for env option",
        ),
        (
            "    - name: too slow\n      docker_container_exec:\n        docker_host: DH\n        container: box\n        command: sleep 10\n        timeout: 2\n",
            "timed out after 2 s",
        ),
        (
            "    - name: both forms\n      docker_container_exec:\n        docker_host: DH\n        container: box\n        command: 'true'\n        argv: ['true']\n",
            "argv",
        ),
    ] {
        let out = play(&engine, d, task, &[]);
        assert!(!out.success(), "{task}: {}", out.stdout);
        let text = format!("{}{}", out.stdout, out.stderr);
        let name = task.split("name: ").nth(1).unwrap().lines().next().unwrap();
        assert!(text.contains(words), "{words}: {text}");
        assert!(text.contains(name) || text.contains("book.yml:"), "{name}: {text}");
    }
}

#[test]
fn prune_removes_only_what_the_filters_select() {
    let engine = TestDockerEngine::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (name, label) in [("gone", "prune=yes"), ("kept", "prune=no")] {
        engine.docker_ok(&[
            "create", "--name", name, "--label", label, TEST_IMAGE, "true",
        ]);
        engine.docker_ok(&[
            "network",
            "create",
            "--label",
            label,
            &format!("net-{name}"),
        ]);
        engine.docker_ok(&["volume", "create", "--label", label, &format!("vol-{name}")]);
    }
    // The test engine speaks API 1.41, whose volume prune takes named volumes too (1.42+ needs
    // the `all: true` filter for them).
    let tasks = r#"
    - docker_prune:
        docker_host: DH
        containers: true
        containers_filters:
          label: prune=yes
        networks: true
        networks_filters:
          label: [prune=yes]
        volumes: true
        volumes_filters:
          label: prune=yes
        images: true
      register: p
    - assert:
        that:
          - p.containers | length == 1
          - p.networks == ['net-gone']
          - p.volumes == ['vol-gone']
          - p.images == []
          - p.images_space_reclaimed == 0
          - p.containers_space_reclaimed is number
"#;
    // Check mode (community.docker has none) predicts the apply with the same lists, removing
    // nothing.
    assert_eq!(play_ok(&engine, d, tasks, &["--check"]), 1);
    let prune_only = tasks.split("    - assert").next().unwrap();
    assert!(inspect(&engine, "container", "gone").is_some());
    assert!(inspect(&engine, "network", "net-gone").is_some());
    assert!(inspect(&engine, "volume", "vol-gone").is_some());
    assert_eq!(play_ok(&engine, d, tasks, &[]), 1);
    assert!(inspect(&engine, "container", "gone").is_none());
    assert!(inspect(&engine, "network", "net-gone").is_none());
    assert!(inspect(&engine, "volume", "vol-gone").is_none());
    assert!(inspect(&engine, "container", "kept").is_some());
    assert!(inspect(&engine, "network", "net-kept").is_some());
    assert!(inspect(&engine, "volume", "vol-kept").is_some());
    assert!(inspect(&engine, "image", TEST_IMAGE).is_some());
    // Nothing left to remove: unchanged.
    assert_eq!(play_ok(&engine, d, prune_only, &[]), 0);

    // Every image (dangling: false) with a label none has, and the build cache: nothing goes.
    let others = r#"
    - docker_prune:
        docker_host: DH
        images: true
        images_filters:
          dangling: false
          label: [nobody=here]
        builder_cache: true
        builder_cache_all: true
        builder_cache_keep_storage: 1G
      register: o
    - assert:
        that:
          - o.images == [] and o.images_space_reclaimed == 0
          - o.builder_cache_space_reclaimed == 0
          - o is not changed
"#;
    assert_eq!(play_ok(&engine, d, others, &[]), 0);
    assert!(inspect(&engine, "image", TEST_IMAGE).is_some());

    // A dangling image (an untagged commit) goes with the default filter.
    let dangling = engine.docker_ok(&["commit", "kept"]);
    let images = r#"
    - docker_prune:
        docker_host: DH
        images: true
      register: o
    - assert:
        that:
          - o is changed
          - o.images | selectattr('Deleted', 'defined') | list | length >= 1
"#;
    assert_eq!(play_ok(&engine, d, images, &[]), 1);
    assert!(inspect(&engine, "image", &dangling).is_none());
    assert!(inspect(&engine, "image", TEST_IMAGE).is_some());

    let bad = "    - name: bad keep\n      docker_prune:\n        docker_host: DH\n        builder_cache: true\n        builder_cache_keep_storage: lots\n";
    let out = play(&engine, d, bad, &[]);
    assert!(!out.success());
    assert!(
        out.stdout.contains("builder_cache_keep_storage") && out.stdout.contains("bad keep"),
        "{}",
        out.stdout
    );
}

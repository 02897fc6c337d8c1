//! `docker_container_copy_into` against a private engine: content and path copies into a running
//! and a stopped container, mode/owner, idempotence, check mode, `force: false`, `--diff`, bad input.

mod netvol_common;

use drover_integration::{TestDockerEngine, TEST_IMAGE};
use netvol_common::{play, play_ok, sleeper};

fn tasks(text: &str, src: &str) -> String {
    format!(
        r#"
    - name: content into running
      docker_container_copy_into:
        docker_host: DH
        container: run
        content: "{text}\n"
        container_path: /etc/drover.conf
        mode: "0644"
        mode_parse: modern
      register: a
    - name: path into running
      community.docker.docker_container_copy_into:
        docker_host: DH
        container: run
        path: {src}
        container_path: /tmp//sub/../src.txt
        owner_id: 1000
        group_id: 1001
      register: b
    - name: content into stopped
      docker_container_copy_into:
        docker_host: DH
        container: stopped
        content: "{text}\n"
        container_path: /root/x.txt
        owner_id: 0
        group_id: 0
        mode: 0600
    - name: path into stopped
      docker_container_copy_into:
        docker_host: DH
        container: stopped
        path: {src}
        container_path: /tmp/p.txt
        owner_id: 33
        group_id: 33
        mode: "4755"
        mode_parse: octal_string_only
    - name: keep an existing file
      docker_container_copy_into:
        docker_host: DH
        container: run
        content: "replaced"
        container_path: /etc/debian_version
        mode: 420
        force: false
      register: k
    - assert:
        that:
          - b.container_path == '/tmp/src.txt'
          - k is not changed
"#
    )
}

#[test]
fn copies_converge_and_check_mode_predicts() {
    let engine = TestDockerEngine::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    sleeper(&engine, "run");
    engine.docker_ok(&[
        "create", "--name", "stopped", TEST_IMAGE, "sleep", "infinity",
    ]);
    let src = d.join("src.txt");
    std::fs::write(&src, "from the host\n").unwrap();
    std::fs::set_permissions(&src, std::os::unix::fs::PermissionsExt::from_mode(0o640)).unwrap();
    let book = tasks("v1", src.to_str().unwrap());
    let debian_version = engine.container_file("run", "/etc/debian_version").unwrap();

    let t0 = std::time::Instant::now();
    assert_eq!(play_ok(&engine, d, &book, &["--check"]), 4);
    eprintln!("check run: {:?}", t0.elapsed());
    assert!(engine.container_file("run", "/etc/drover.conf").is_none());
    assert!(engine.container_file("stopped", "/root/x.txt").is_none());
    assert!(engine.container_file("stopped", "/tmp/p.txt").is_none());

    let t0 = std::time::Instant::now();
    assert_eq!(play_ok(&engine, d, &book, &[]), 4);
    eprintln!("apply run: {:?}", t0.elapsed());
    let file = |c: &str, p: &str| {
        engine
            .container_file(c, p)
            .unwrap_or_else(|| panic!("{c}:{p}"))
    };
    assert_eq!(
        file("run", "/etc/drover.conf"),
        ("-rw-r--r-- 0/0".into(), "v1\n".into())
    );
    assert_eq!(
        file("run", "/tmp/src.txt"),
        ("-rw-r----- 1000/1001".into(), "from the host\n".into())
    );
    assert_eq!(
        file("stopped", "/root/x.txt"),
        ("-rw------- 0/0".into(), "v1\n".into())
    );
    assert_eq!(
        file("stopped", "/tmp/p.txt"),
        ("-rwsr-xr-x 33/33".into(), "from the host\n".into())
    );
    assert_eq!(file("run", "/etc/debian_version"), debian_version);

    let t0 = std::time::Instant::now();
    assert_eq!(play_ok(&engine, d, &book, &[]), 0, "second run");
    eprintln!("idempotent run: {:?}", t0.elapsed());
    assert_eq!(play_ok(&engine, d, &book, &["--check"]), 0);

    // A content change: check predicts the two content tasks, apply writes them, --diff shows it.
    let book2 = tasks("v2", src.to_str().unwrap());
    assert_eq!(play_ok(&engine, d, &book2, &["--check"]), 2);
    assert_eq!(file("run", "/etc/drover.conf").1, "v1\n");
    let out = play(&engine, d, &book2, &["--diff"]);
    out.assert_success();
    assert_eq!(out.changed(), 2);
    assert!(
        out.stdout.contains("-v1") && out.stdout.contains("+v2"),
        "{}",
        out.stdout
    );
    assert_eq!(file("run", "/etc/drover.conf").1, "v2\n");
    assert_eq!(file("stopped", "/root/x.txt").1, "v2\n");

    // Mode/owner drift in the container is repaired; the source's mode is the default.
    engine.docker_ok(&["exec", "run", "chmod", "0666", "/tmp/src.txt"]);
    assert_eq!(play_ok(&engine, d, &book2, &[]), 1);
    assert_eq!(file("run", "/tmp/src.txt").0, "-rw-r----- 1000/1001");

    // The container user's IDs are the default owner, a relative path is made absolute (as
    // community.docker does), `force: true` always writes.
    let forced = r#"
    - docker_container_copy_into:
        docker_host: DH
        container: run
        content: "x"
        container_path: tmp/rel.txt
        mode: 0644
        force: true
"#;
    assert_eq!(play_ok(&engine, d, forced, &[]), 1);
    assert_eq!(play_ok(&engine, d, forced, &[]), 1);

    // `local_follow: false` copies a symbolic link as a link (community.docker 5 fails on
    // Python 3 there, so this has no oracle); a second run compares the link targets.
    std::os::unix::fs::symlink("/etc/hostname", d.join("link")).unwrap();
    let link = format!(
        r#"
    - docker_container_copy_into:
        docker_host: DH
        container: stopped
        path: {}
        local_follow: false
        container_path: /tmp/link
        owner_id: 0
        group_id: 0
"#,
        d.join("link").display()
    );
    assert_eq!(play_ok(&engine, d, &link, &[]), 1);
    assert_eq!(play_ok(&engine, d, &link, &[]), 0);
    let out = engine.docker(&["cp", "stopped:/tmp/link", "-"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("/etc/hostname"));
    assert_eq!(
        file("run", "/tmp/rel.txt"),
        ("-rw-r--r-- 0/0".into(), "x".into())
    );
}

#[test]
fn bad_input_fails_naming_the_task() {
    let engine = TestDockerEngine::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    sleeper(&engine, "run");
    engine.docker_ok(&["create", "--name", "stopped", TEST_IMAGE]);
    for (name, body, words) in [
        ("missing container", "container: nobox\n        content: x\n        mode: 420\n        container_path: /x", "Could not find container \"nobox\""),
        ("missing path", "container: run\n        path: /nonexistent/file\n        container_path: /x", "Cannot find local file /nonexistent/file"),
        ("content without mode", "container: run\n        content: x\n        container_path: /x", "mode"),
        ("stopped without ids", "container: stopped\n        content: x\n        mode: 420\n        container_path: /x", "owner_id"),
        ("missing directory", "container: run\n        content: x\n        mode: 420\n        container_path: /no/such/dir/x", "/no/such/dir"),
        ("bad mode", "container: run\n        content: x\n        mode: rwx\n        container_path: /x", "Error while parsing 'mode'"),
        ("bad b64", "container: run\n        content: '%%%'\n        content_is_b64: true\n        mode: 420\n        container_path: /x", "Base64"),
    ] {
        let task = format!(
            "    - name: {name}\n      docker_container_copy_into:\n        docker_host: DH\n        {body}\n"
        );
        let out = play(&engine, d, &task, &[]);
        assert!(!out.success(), "{name}: {}", out.stdout);
        let text = format!("{}{}", out.stdout, out.stderr);
        assert!(text.contains(&format!("TASK [{name}]")) && text.contains("failed"), "{name}: {text}");
        assert!(text.contains(words), "{name}: {words}: {text}");
    }
    assert!(engine.container_file("run", "/x").is_none());

    // A paused container: no `id` to run, but given IDs the copy works (the engine's archive
    // calls do not need the processes).
    sleeper(&engine, "frozen");
    engine.docker_ok(&["pause", "frozen"]);
    let task = "    - name: paused without ids\n      docker_container_copy_into:\n        docker_host: DH\n        container: frozen\n        content: x\n        mode: 420\n        container_path: /x\n";
    let out = play(&engine, d, task, &[]);
    assert!(
        !out.success() && out.stdout.contains("paused"),
        "{}",
        out.stdout
    );
    let with_ids = task.replace(
        "mode: 420",
        "mode: 420\n        owner_id: 0\n        group_id: 0",
    );
    let out = play(&engine, d, &with_ids, &[]);
    out.assert_success();
    assert_eq!(out.changed(), 1);
    assert_eq!(engine.container_file("frozen", "/x").unwrap().1, "x");
}

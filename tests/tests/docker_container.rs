//! `docker_container` against a private engine: converge, idempotence, check mode, option changes
//! (recreate or in-place update, checked with `docker inspect`), image-provided defaults, state
//! transitions, networks, and bad input.

mod docker_container_common;

use docker_container_common::{changed, exists, inspect, play, port, result};
use drover_integration::{TestDockerEngine, TEST_IMAGE};

#[test]
fn converge_idempotence_check_mode_and_option_changes() {
    let engine = TestDockerEngine::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (p1, p2) = (port(&engine, 1), port(&engine, 2));
    let task = |env: &str, mem: &str, ports: &str, extra: &str| {
        format!(
            "name: web\nimage: {TEST_IMAGE}\ncommand: sleep infinity\ninit: true\n\
             env: {{A: \"{env}\"}}\nlabels: {{tier: front}}\nrestart_policy: unless-stopped\n\
             memory: {mem}\npublished_ports: {ports}\nvolumes: [\"{d}:/data:ro\", /anon]\n\
             capabilities: [NET_ADMIN]\nworking_dir: /tmp\nhostname: webhost\n{extra}",
            d = d.display()
        )
    };
    let ports2 = format!("[\"{p1}:80\", \"127.0.0.1:{p2}:90/udp\"]");
    let base = task("1", "64M", &ports2, "");

    // Check mode on nothing: predicts the creation, creates nothing.
    play(&engine, d, &base, &["--check"]).assert_success();
    assert!(changed(d));
    assert!(!exists(&engine, "web"), "check mode created the container");

    play(&engine, d, &base, &[]).assert_success();
    assert!(changed(d));
    let c = inspect(&engine, "web");
    let id = c["Id"].as_str().unwrap().to_string();
    assert_eq!(c["State"]["Running"], true);
    assert_eq!(result(d)["container"]["Id"], c["Id"]);
    assert_eq!(c["HostConfig"]["RestartPolicy"]["Name"], "unless-stopped");
    assert_eq!(c["HostConfig"]["Memory"], 64 << 20);
    assert_eq!(c["Config"]["Hostname"], "webhost");
    assert_eq!(c["Config"]["WorkingDir"], "/tmp");
    assert_eq!(c["Config"]["Labels"]["tier"], "front");
    assert!(c["Config"]["Env"]
        .as_array()
        .unwrap()
        .contains(&"A=1".into()));
    assert_eq!(c["Config"]["Cmd"], serde_json::json!(["sleep", "infinity"]));
    assert_eq!(
        c["HostConfig"]["PortBindings"]["80/tcp"][0]["HostPort"],
        p1.to_string()
    );
    assert_eq!(
        c["HostConfig"]["PortBindings"]["90/udp"][0]["HostIp"],
        "127.0.0.1"
    );
    assert!(c["Config"]["Volumes"]["/anon"].is_object());

    // Same again: nothing to do, in apply and in check mode.
    play(&engine, d, &base, &[]).assert_success();
    assert!(!changed(d), "second run changed: {}", result(d));
    play(&engine, d, &base, &["--check", "--diff"]).assert_success();
    assert!(!changed(d));

    // A limit changes in place (same container), check mode first.
    let more_mem = task("1", "128M", &ports2, "");
    play(&engine, d, &more_mem, &["--check", "--diff"]).assert_success();
    assert!(changed(d));
    assert_eq!(result(d)["diff"]["after"]["memory"], 128 << 20);
    assert_eq!(result(d)["diff"]["before"]["memory"], 64 << 20);
    assert_eq!(inspect(&engine, "web")["HostConfig"]["Memory"], 64 << 20);
    play(&engine, d, &more_mem, &[]).assert_success();
    assert!(changed(d));
    let c = inspect(&engine, "web");
    assert_eq!(
        c["Id"],
        id.as_str(),
        "memory change recreated the container"
    );
    assert_eq!(c["HostConfig"]["Memory"], 128 << 20);
    play(&engine, d, &more_mem, &[]).assert_success();
    assert!(!changed(d));

    // The restart policy too.
    let always = more_mem.replace("unless-stopped", "always");
    play(&engine, d, &always, &[]).assert_success();
    let c = inspect(&engine, "web");
    assert_eq!(c["Id"], id.as_str());
    assert_eq!(c["HostConfig"]["RestartPolicy"]["Name"], "always");

    // Env changes recreate; the diff names the option.
    let env2 = task("2", "128M", &ports2, "").replace("unless-stopped", "always");
    play(&engine, d, &env2, &["--diff"]).assert_success();
    assert!(changed(d));
    assert_eq!(
        result(d)["diff"]["before"]["env"],
        serde_json::json!(["A=1"])
    );
    let c = inspect(&engine, "web");
    assert_ne!(c["Id"], id.as_str(), "env change did not recreate");
    assert!(c["Config"]["Env"]
        .as_array()
        .unwrap()
        .contains(&"A=2".into()));
    assert_eq!(c["State"]["Running"], true);
    let id2 = c["Id"].as_str().unwrap().to_string();

    // Removing a published port recreates (on purpose unlike community.docker, which allows more
    // present by default); `comparisons: {published_ports: allow_more_present}` keeps it.
    let one_port = format!("[\"{p1}:80\"]");
    let lenient = task(
        "2",
        "128M",
        &one_port,
        "comparisons: {published_ports: allow_more_present}\n",
    )
    .replace("unless-stopped", "always");
    play(&engine, d, &lenient, &[]).assert_success();
    assert!(!changed(d));
    assert_eq!(inspect(&engine, "web")["Id"], id2.as_str());
    let strict = task("2", "128M", &one_port, "").replace("unless-stopped", "always");
    play(&engine, d, &strict, &["--check"]).assert_success();
    assert!(changed(d));
    assert_eq!(inspect(&engine, "web")["Id"], id2.as_str());
    play(&engine, d, &strict, &[]).assert_success();
    assert!(changed(d));
    let c = inspect(&engine, "web");
    assert_ne!(c["Id"], id2.as_str());
    assert!(c["HostConfig"]["PortBindings"].get("90/udp").is_none());
    play(&engine, d, &strict, &[]).assert_success();
    assert!(!changed(d));

    // recreate: true always recreates.
    let id3 = c["Id"].as_str().unwrap().to_string();
    play(&engine, d, &format!("{strict}recreate: true\n"), &[]).assert_success();
    assert!(changed(d));
    assert_ne!(inspect(&engine, "web")["Id"], id3.as_str());
}

#[test]
fn image_defaults_are_no_difference() {
    let engine = TestDockerEngine::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let ctx = d.join("ctx");
    std::fs::create_dir(&ctx).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        format!(
            "FROM {TEST_IMAGE}\nENV FROM_IMAGE=yes PATH=/usr/local/bin:/usr/bin:/bin\n\
             LABEL vendor=drover\nEXPOSE 7000\nVOLUME /cache\nWORKDIR /srv\n\
             CMD [\"sleep\", \"infinity\"]\n"
        ),
    )
    .unwrap();
    engine.docker_ok(&[
        "build",
        "-q",
        "-t",
        "local/defaults:1",
        ctx.to_str().unwrap(),
    ]);
    let env_file = d.join("app.env");
    std::fs::write(&env_file, "# comment\nFILE_VAR=from-file\nB=overridden\n").unwrap();
    let task = format!(
        "name: app\nimage: local/defaults:1\ninit: true\nenv: {{B: mine}}\n\
         env_file: {}\nlabels: {{own: label}}\nexposed_ports: [\"8000\"]\nvolumes: [/extra]\n\
         command: []\n",
        env_file.display()
    );
    play(&engine, d, &task, &[]).assert_success();
    assert!(changed(d));
    let c = inspect(&engine, "app");
    let env = c["Config"]["Env"].as_array().unwrap().clone();
    assert!(env.contains(&"FROM_IMAGE=yes".into()), "{env:?}");
    assert!(env.contains(&"FILE_VAR=from-file".into()), "{env:?}");
    assert!(env.contains(&"B=mine".into()), "{env:?}");
    assert_eq!(c["Config"]["Labels"]["vendor"], "drover");
    assert_eq!(c["Config"]["Cmd"], serde_json::json!(["sleep", "infinity"]));
    // Image env, labels, exposed ports, volumes, command and working dir are not differences.
    play(&engine, d, &task, &["--diff"]).assert_success();
    assert!(!changed(d), "{}", result(d));
    play(&engine, d, &task, &["--check"]).assert_success();
    assert!(!changed(d));
    // Asking for the image's own value explicitly is no difference either.
    let explicit = format!("{task}working_dir: /srv\n");
    play(&engine, d, &explicit, &[]).assert_success();
    assert!(!changed(d));
    // Strict label comparison: the image's labels are part of the desired labels.
    let strict = format!("{task}comparisons: {{labels: strict}}\n");
    play(&engine, d, &strict, &[]).assert_success();
    assert!(!changed(d), "{}", result(d));
    // The same name now tagging another image recreates the container from it.
    let id = inspect(&engine, "app")["Id"].clone();
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM local/defaults:1\nLABEL release=2\n",
    )
    .unwrap();
    engine.docker_ok(&[
        "build",
        "-q",
        "-t",
        "local/defaults:1",
        ctx.to_str().unwrap(),
    ]);
    play(&engine, d, &task, &["--diff"]).assert_success();
    assert!(changed(d));
    assert!(
        result(d)["diff"]["after"]["image"].is_string(),
        "{}",
        result(d)
    );
    let c = inspect(&engine, "app");
    assert_ne!(c["Id"], id);
    assert_eq!(c["Config"]["Labels"]["release"], "2");
    play(&engine, d, &task, &[]).assert_success();
    assert!(!changed(d));
}

#[test]
fn state_transitions_health_run_once_and_absent() {
    let engine = TestDockerEngine::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let task = |state: &str, extra: &str| {
        format!(
            "name: svc\nimage: {TEST_IMAGE}\ncommand: sleep infinity\ninit: true\n\
             state: {state}\nhealthcheck: {{test: \"test -e /tmp\", interval: 1s, retries: 3}}\n{extra}"
        )
    };
    let running = |e: &TestDockerEngine| inspect(e, "svc")["State"]["Running"].as_bool().unwrap();

    play(&engine, d, &task("present", ""), &[]).assert_success();
    assert!(changed(d));
    assert!(!running(&engine), "present started the container");
    play(&engine, d, &task("healthy", ""), &[]).assert_success();
    assert!(changed(d));
    assert_eq!(
        result(d)["container"]["State"]["Health"]["Status"],
        "healthy"
    );
    assert!(running(&engine));
    play(&engine, d, &task("started", ""), &[]).assert_success();
    assert!(!changed(d));
    let id = inspect(&engine, "svc")["Id"].clone();

    play(&engine, d, &task("stopped", ""), &["--check"]).assert_success();
    assert!(changed(d));
    assert!(running(&engine), "check mode stopped it");
    play(&engine, d, &task("stopped", ""), &[]).assert_success();
    assert!(changed(d));
    assert!(!running(&engine));
    assert_eq!(result(d)["container"]["State"]["Running"], false);
    play(&engine, d, &task("stopped", ""), &[]).assert_success();
    assert!(!changed(d));
    play(&engine, d, &task("started", ""), &[]).assert_success();
    assert!(changed(d));
    assert!(running(&engine));
    assert_eq!(inspect(&engine, "svc")["Id"], id, "start recreated it");

    // restart: true restarts a running container.
    let before = inspect(&engine, "svc")["State"]["StartedAt"].clone();
    play(&engine, d, &task("started", "restart: true\n"), &[]).assert_success();
    assert!(changed(d));
    assert_ne!(inspect(&engine, "svc")["State"]["StartedAt"], before);

    // force_kill stops with a signal.
    play(
        &engine,
        d,
        &task("stopped", "force_kill: true\nkill_signal: SIGKILL\n"),
        &[],
    )
    .assert_success();
    assert!(!running(&engine));

    // absent: check mode leaves it, apply removes it, again is unchanged.
    play(&engine, d, &task("absent", ""), &["--check"]).assert_success();
    assert!(changed(d));
    assert!(exists(&engine, "svc"));
    play(&engine, d, &task("absent", ""), &[]).assert_success();
    assert!(changed(d));
    assert!(!exists(&engine, "svc"));
    assert_eq!(result(d)["container"], serde_json::json!({}));
    play(&engine, d, &task("absent", ""), &[]).assert_success();
    assert!(!changed(d));

    // detach: false waits: status and output; a failing command fails the task.
    let once = format!(
        "name: once\nimage: {TEST_IMAGE}\ndetach: false\ncleanup: true\n\
         command: [sh, -c, \"echo hello; exit 0\"]\n"
    );
    play(&engine, d, &once, &[]).assert_success();
    let r = result(d);
    assert_eq!(r["status"], 0);
    assert!(
        r["container"]["Output"].as_str().unwrap().contains("hello"),
        "{r}"
    );
    assert!(!exists(&engine, "once"), "cleanup left the container");
    let failing = once.replace("exit 0", "exit 3");
    let out = play(&engine, d, &failing, &[]);
    assert!(!out.success());
    assert!(out.stdout.contains("the container task"), "{}", out.stdout);
    assert!(out.stdout.contains("hello"), "{}", out.stdout);
}

#[test]
fn networks_connect_disconnect_and_purge() {
    let engine = TestDockerEngine::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // A subnet of this engine's own (engines share the host's routing table).
    let subnet = format!("10.231.{}.0/24", engine.slot());
    let ip = format!("10.231.{}.10", engine.slot());
    engine.docker_ok(&["network", "create", "--subnet", &subnet, "front"]);
    engine.docker_ok(&["network", "create", "back"]);
    let task = |nets: &str, extra: &str| {
        format!(
            "name: net1\nimage: {TEST_IMAGE}\ncommand: sleep infinity\ninit: true\n\
             networks:\n{nets}{extra}"
        )
    };
    let front = format!("  - {{name: front, aliases: [web], ipv4_address: {ip}}}\n");
    let front = front.as_str();
    play(&engine, d, &task(front, ""), &[]).assert_success();
    assert!(changed(d));
    let c = inspect(&engine, "net1");
    assert_eq!(c["HostConfig"]["NetworkMode"], "front");
    let f = &c["NetworkSettings"]["Networks"]["front"];
    assert_eq!(f["IPAMConfig"]["IPv4Address"], ip.as_str());
    assert!(f["Aliases"].as_array().unwrap().contains(&"web".into()));
    assert!(c["NetworkSettings"]["Networks"].get("bridge").is_none());
    play(&engine, d, &task(front, ""), &[]).assert_success();
    assert!(!changed(d), "{}", result(d));
    let id = c["Id"].clone();

    // Another network is joined without recreating.
    let both = format!("{front}  - name: back\n");
    play(&engine, d, &task(&both, ""), &["--check"]).assert_success();
    assert!(changed(d));
    assert!(inspect(&engine, "net1")["NetworkSettings"]["Networks"]
        .get("back")
        .is_none());
    play(&engine, d, &task(&both, ""), &[]).assert_success();
    assert!(changed(d));
    let c = inspect(&engine, "net1");
    assert_eq!(c["Id"], id);
    assert!(c["NetworkSettings"]["Networks"].get("back").is_some());
    play(&engine, d, &task(&both, ""), &[]).assert_success();
    assert!(!changed(d));

    // Dropping it from the list leaves it connected only with `allow_more_present`
    // (community.docker's default); by default the container leaves the network.
    let lenient = task(front, "comparisons: {networks: allow_more_present}\n");
    play(&engine, d, &lenient, &[]).assert_success();
    assert!(!changed(d));
    let strict = task(front, "");
    play(&engine, d, &strict, &["--check"]).assert_success();
    assert!(changed(d));
    play(&engine, d, &strict, &[]).assert_success();
    assert!(changed(d));
    let c = inspect(&engine, "net1");
    assert_eq!(c["Id"], id);
    assert!(c["NetworkSettings"]["Networks"].get("back").is_none());
    play(&engine, d, &strict, &[]).assert_success();
    assert!(!changed(d));
}

#[test]
fn bad_input_fails_naming_the_task() {
    let engine = TestDockerEngine::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    for (task, needle) in [
        (
            "name: bad1\nimage: local/no-such-image:1\npull: never\n".to_string(),
            "Cannot find image",
        ),
        (
            "name: bad2\nimage: 127.0.0.1:1/no-such-image:1\n".to_string(),
            "docker pull",
        ),
        (
            format!("name: bad3\nimage: {TEST_IMAGE}\npublished_ports: [\"99999:80\"]\n"),
            "99999",
        ),
        (
            format!("name: bad4\nimage: {TEST_IMAGE}\nno_such_option: 1\n"),
            "no_such_option",
        ),
        (
            format!("name: bad5\nimage: {TEST_IMAGE}\ncomparisons: {{env: sometimes}}\n"),
            "sometimes",
        ),
        (
            format!("name: bad6\nimage: {TEST_IMAGE}\nenv: {{N: 1}}\n"),
            "Non-string value",
        ),
    ] {
        let out = play(&engine, d, &task, &[]);
        assert!(!out.success(), "{task} succeeded");
        let text = format!("{}{}", out.stdout, out.stderr);
        // An unknown option is refused before anything runs, pointing at the task's line.
        let named = text.contains("the container task")
            || (text.contains("docker_container: unsupported parameter")
                && text.contains("book.yml:9"));
        assert!(named, "{task}: {text}");
        assert!(text.contains(needle), "{task}: no '{needle}' in {text}");
    }
    let names = engine.docker_ok(&["ps", "-aq"]);
    assert!(names.is_empty(), "a failing task left containers: {names}");
}

//! The private Docker engine harness itself: an engine starts on its own socket with the test
//! image, runs a container with a published port on loopback, serves a local registry, caches a
//! built image across engines, and leaves nothing behind (files, bridge, FORWARD policy).

use std::path::Path;
use std::process::Command;

use drover_integration::{TestDockerEngine, TEST_IMAGE};

fn forward_policy() -> String {
    let out = Command::new("nft")
        .args(["list", "chain", "ip", "filter", "FORWARD"])
        .output()
        .expect("nft");
    let text = String::from_utf8_lossy(&out.stdout);
    text.split("policy ")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .unwrap_or("none")
        .to_string()
}

#[test]
fn engine_runs_containers_registry_and_cleans_up() {
    let before = forward_policy();
    let engine = TestDockerEngine::start();
    let socket = engine.socket().to_path_buf();
    let bridge = format!("drvdk{}", engine.slot());
    let id = engine.docker_ok(&[
        "run",
        "-d",
        "-p",
        "127.0.0.1::80",
        TEST_IMAGE,
        "sleep",
        "infinity",
    ]);
    let port = engine.docker_ok(&["port", &id, "80/tcp"]);
    assert!(port.starts_with("127.0.0.1:"), "{port}");
    let registry = engine.registry();
    let pushed = format!("{registry}/harness/debian:1");
    engine.docker_ok(&["tag", TEST_IMAGE, &pushed]);
    engine.docker_ok(&["push", "-q", &pushed]);
    engine.docker_ok(&["rmi", &pushed]);
    engine.docker_ok(&["pull", "-q", &pushed]);
    let image = engine.cached_image(
        "drover-test/labelled:1",
        &format!("FROM {TEST_IMAGE}\nLABEL drover.test=cached\n"),
    );
    let label = engine.docker_ok(&[
        "image",
        "inspect",
        "-f",
        "{{index .Config.Labels \"drover.test\"}}",
        &image,
    ]);
    assert_eq!(label, "cached");
    drop(engine);
    assert!(!socket.exists(), "the engine's files were left behind");
    assert!(!Path::new(&format!("/sys/class/net/{bridge}")).exists());
    assert_eq!(forward_policy(), before, "the FORWARD policy changed");
}

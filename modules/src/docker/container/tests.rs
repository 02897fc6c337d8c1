//! Unit tests of the desired container (items, flags, comparisons) without an engine.

use serde_json::{json, Value};

use super::compare::{matches, Comparisons, Kind, Mode};
use super::desired::{build, Item};
use super::params::ContainerParams;

fn params(v: Value) -> ContainerParams {
    let mut v = v;
    v["name"] = json!("c");
    serde_json::from_value(v).expect("params")
}

fn item<'a>(items: &'a [Item], name: &str) -> &'a Item {
    items
        .iter()
        .find(|i| i.name == name)
        .unwrap_or_else(|| panic!("no item {name}"))
}

#[test]
fn env_merges_image_env_file_and_task() {
    let p = params(json!({"env": {"A": "task", "B": "b"}, "env_file": "/x"}));
    let image = json!({"Config": {"Env": ["PATH=/bin", "A=image"]}});
    let items = build(&p, Some(&image), Some("# c\nA=file\nF=f\n")).unwrap();
    let env = item(&items, "env");
    assert_eq!(env.expected, json!(["PATH=/bin", "F=f", "A=task", "B=b"]));
    // Only the task's own variables become flags.
    assert_eq!(
        env.flags,
        ["--env", "F=f", "--env", "A=task", "--env", "B=b"]
    );
    let container = json!({"Config": {"Env": ["PATH=/bin", "A=task", "B=b", "F=f", "HOME=/"]}});
    assert!(matches(
        &env.expected,
        &(env.actual)(&container),
        Mode::AllowMore,
        Kind::Set
    ));
    let bad = params(json!({"env": {"N": 1}}));
    assert!(build(&bad, None, None).unwrap_err().contains("Non-string"));
}

#[test]
fn ports_and_flags() {
    let p = params(
        json!({"published_ports": ["8080:80", "127.0.0.1::53/udp"], "exposed_ports": ["9000"]}),
    );
    let image = json!({"Config": {"ExposedPorts": {"7000/tcp": {}}}});
    let items = build(&p, Some(&image), None).unwrap();
    assert_eq!(
        item(&items, "published_ports").flags,
        [
            "--publish",
            "127.0.0.1::53/udp",
            "--publish",
            "0.0.0.0:8080:80/tcp"
        ]
    );
    assert_eq!(
        item(&items, "exposed_ports").expected,
        json!(["53/udp", "7000/tcp", "80/tcp", "9000/tcp"])
    );
    let all = params(json!({"published_ports": ["all"]}));
    let items = build(&all, None, None).unwrap();
    assert_eq!(item(&items, "publish_all_ports").expected, json!(true));
}

#[test]
fn what_the_cli_cannot_express_fails_clearly() {
    let ep = params(json!({"entrypoint": ["/bin/sh", "-c"]}));
    assert!(build(&ep, None, None).unwrap_err().contains("entrypoint"));
    let hc = params(json!({"healthcheck": {"test": ["CMD", "true"]}}));
    assert!(build(&hc, None, None).unwrap_err().contains("healthcheck"));
    let dr = params(json!({"device_requests": [{"count": 1}]}));
    assert!(build(&dr, None, None)
        .unwrap_err()
        .contains("device_requests"));
    let retries = params(json!({"restart_retries": 3}));
    assert!(build(&retries, None, None)
        .unwrap_err()
        .contains("restart_policy"));
    let always = params(json!({"restart_policy": "always", "restart_retries": 3}));
    assert!(build(&always, None, None)
        .unwrap_err()
        .contains("retry count"));
}

#[test]
fn limits_are_updatable_and_sizes_are_bytes() {
    let p = params(
        json!({"memory": "1g", "memory_swap": "unlimited", "restart_policy": "always", "cpus": 1.5, "hostname": "h"}),
    );
    let items = build(&p, None, None).unwrap();
    assert_eq!(item(&items, "memory").expected, json!(1i64 << 30));
    assert_eq!(
        item(&items, "memory").update.as_deref(),
        Some(&["--memory=1073741824".to_string()][..])
    );
    assert_eq!(item(&items, "memory_swap").expected, json!(-1));
    assert!(item(&items, "restart_policy").update.is_some());
    assert!(item(&items, "cpus").update.is_none());
    assert_eq!(item(&items, "cpus").expected, json!(1_500_000_000i64));
    assert!(item(&items, "hostname").update.is_none());
}

#[test]
fn comparisons_follow_community_docker_but_for_ports_and_networks() {
    let p = params(json!({"comparisons": {"*": "ignore", "env": "strict", "ports": "strict"}}));
    let c = Comparisons::parse(&p).ok().unwrap();
    assert_eq!(c.mode("env", Kind::Set).ok(), Some(Mode::Strict));
    assert_eq!(
        c.mode("published_ports", Kind::Dict).ok(),
        Some(Mode::Strict)
    );
    assert_eq!(c.mode("labels", Kind::Dict).ok(), Some(Mode::Ignore));
    // The wildcard leaves networks alone when the task names none (their default applies).
    assert_eq!(c.mode("networks", Kind::SetDict).ok(), Some(Mode::Strict));
    let d = Comparisons::parse(&params(json!({}))).ok().unwrap();
    // On purpose unlike community.docker: removed ports and networks are differences.
    assert_eq!(
        d.mode("published_ports", Kind::Dict).ok(),
        Some(Mode::Strict)
    );
    assert_eq!(d.mode("networks", Kind::SetDict).ok(), Some(Mode::Strict));
    assert_eq!(d.mode("stop_timeout", Kind::Value).ok(), Some(Mode::Ignore));
    assert_eq!(d.mode("labels", Kind::Dict).ok(), Some(Mode::AllowMore));
    assert_eq!(d.mode("hostname", Kind::Value).ok(), Some(Mode::Strict));
    for bad in [
        json!({"*": "allow_more_present"}),
        json!({"nope": "strict"}),
        json!({"env": "x"}),
    ] {
        assert!(Comparisons::parse(&params(json!({"comparisons": bad}))).is_err());
    }
    let value_more = params(json!({"comparisons": {"hostname": "allow_more_present"}}));
    let c = Comparisons::parse(&value_more).ok().unwrap();
    assert!(c.mode("hostname", Kind::Value).is_err());
}

#[test]
fn pull_values_and_image_references() {
    use super::flow::{image_ref, pull_mode};
    for (v, want) in [
        (json!(true), "always"),
        (json!(false), "missing"),
        (json!("yes"), "always"),
        (json!("never"), "never"),
        (json!("missing"), "missing"),
        (Value::Null, "missing"),
    ] {
        let p = params(json!({"pull": v}));
        assert_eq!(pull_mode(&p).ok(), Some(want), "{v}");
    }
    assert!(pull_mode(&params(json!({"pull": "sometimes"}))).is_err());
    assert_eq!(image_ref("debian"), "debian:latest");
    assert_eq!(image_ref("reg:5000/debian"), "reg:5000/debian:latest");
    assert_eq!(image_ref("reg:5000/debian:12"), "reg:5000/debian:12");
    assert_eq!(image_ref("debian@sha256:ab"), "debian@sha256:ab");
}

//! `known_hosts` against real files through the local connection (ssh-keygen on this machine),
//! and the argument checks of `timezone`, `locale_gen`, `debconf` and `known_hosts` (which
//! change the system otherwise: they are compared with ansible-core on real hosts in
//! `tests/tests/oracle_role_modules.rs`).

mod common;

use common::Env;
use serde_json::json;

const KEY_A: &str =
    "example.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
const KEY_B: &str =
    "example.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBw8tl5mWUyq/A1vGXnTRpLJBlb7PF+cxJCiGUYxCZCU";
const OTHER: &str = "other.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKpyPw3HZ1G1DV1BWX8+hnfsyNlJSdZ/8IP5RPCcQ3ry";

#[tokio::test]
async fn known_hosts_converges_replaces_and_removes() {
    let env = Env::new();
    let path = env.target("known_hosts");
    let args = |key: &str| json!({"name": "example.org", "key": key, "path": path});

    // Check mode predicts the change and writes nothing; only changed and diff, as ansible-core.
    let r = env
        .run("known_hosts", args(KEY_A), true, true)
        .await
        .unwrap();
    assert!(r.changed && !r.failed);
    assert!(!std::path::Path::new(&path).exists());
    assert_eq!(r.data["diff"]["before_header"], "/dev/null");
    assert!(r.data.get("path").is_none());

    let r = env.ok("known_hosts", args(KEY_A)).await;
    assert!(r.changed);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        format!("{KEY_A}\n")
    );
    assert_eq!(
        (&r.data["state"], &r.data["mode"]),
        (&json!("file"), &json!("0644"))
    );
    assert_eq!(r.data["key"], KEY_A);

    let r = env.ok("known_hosts", args(KEY_A)).await;
    assert!(!r.changed, "a re-run changes nothing");

    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let mut with_other = std::fs::read_to_string(&path).unwrap();
    with_other.insert_str(0, &format!("{OTHER}\n"));
    std::fs::write(&path, &with_other).unwrap();
    let r = env.ok("known_hosts", args(KEY_B)).await;
    assert!(r.changed);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        format!("{OTHER}\n{KEY_B}\n"),
        "the key of the same type is replaced in place of its line"
    );
    assert_eq!(r.data["mode"], "0600", "the file keeps its mode");

    let hashed = json!({"name": "Hashed.Example", "key": KEY_A.replace("example.org", "hashed.example"), "path": path, "hash_host": true});
    assert!(env.ok("known_hosts", hashed.clone()).await.changed);
    assert!(
        !env.ok("known_hosts", hashed).await.changed,
        "hashed lines are found again"
    );
    assert!(std::fs::read_to_string(&path).unwrap().contains("|1|"));

    let gone = json!({"name": "example.org", "path": path, "state": "absent"});
    assert!(env.ok("known_hosts", gone.clone()).await.changed);
    assert!(!env.ok("known_hosts", gone).await.changed);
    assert!(!std::fs::read_to_string(&path)
        .unwrap()
        .contains("example.org "));
}

#[tokio::test]
async fn known_hosts_fails_as_ansible_core_does() {
    let env = Env::new();
    let path = env.target("kh");
    let r = env
        .run(
            "known_hosts",
            json!({"name": "wrong.example", "key": KEY_A, "path": path}),
            false,
            false,
        )
        .await
        .unwrap();
    assert!(r.failed);
    assert_eq!(
        r.msg.as_deref(),
        Some("Host parameter does not match hashed host field in supplied key")
    );
    let r = env
        .run(
            "known_hosts",
            json!({"name": "example.org", "path": path}),
            false,
            false,
        )
        .await
        .unwrap();
    assert_eq!(
        r.msg.as_deref(),
        Some("No key specified when adding a host")
    );
    let r = env
        .run(
            "known_hosts",
            json!({"name": "a,b", "key": KEY_A, "path": path}),
            false,
            false,
        )
        .await
        .unwrap();
    assert!(r
        .msg
        .unwrap_or_default()
        .starts_with("Comma separated list of names"));
}

#[tokio::test]
async fn bad_arguments_name_the_key() {
    let env = Env::new();
    env.assert_rejects(
        "timezone",
        json!({"nmae": "UTC"}),
        &["`nmae`", "did you mean `name`"],
    )
    .await;
    env.assert_rejects("timezone", json!({}), &["one of `hwclock`, `name`"])
        .await;
    env.assert_rejects(
        "community.general.timezone",
        json!({"hwclock": "utc"}),
        &["unknown variant"],
    )
    .await;
    env.assert_rejects("locale_gen", json!({"state": "present"}), &["`name`"])
        .await;
    env.assert_rejects(
        "locale_gen",
        json!({"name": "x", "state": "gone"}),
        &["unknown variant"],
    )
    .await;
    env.assert_rejects(
        "debconf",
        json!({"name": "x", "vtype": "bool"}),
        &["unknown variant `bool`"],
    )
    .await;
    env.assert_rejects(
        "known_hosts",
        json!({"name": "x", "keys": "y"}),
        &["`keys`", "did you mean `key`"],
    )
    .await;
}

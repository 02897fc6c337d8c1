//! Modules must use as few round trips as possible: one to find out, one to change.

mod common;

use common::Env;
use serde_json::json;

#[tokio::test]
async fn commands_take_one_round_trip() {
    let env = Env::new();
    let (_, n) = env.ok_counted("command", json!({"cmd": "true"})).await;
    assert_eq!(n, 1);
    let marker = env.target("m");
    let args =
        json!({"cmd": format!("touch {marker}"), "creates": marker, "chdir": env.target("")});
    let (r, n) = env.ok_counted("command", args.clone()).await;
    assert!(r.changed);
    assert_eq!(n, 1, "creates is checked in the same round trip");
    let (r, n) = env.ok_counted("command", args).await;
    assert!(!r.changed);
    assert_eq!(n, 1);
    let (r, n) = env
        .ok_counted(
            "shell",
            json!({"cmd": "exit 0", "removes": env.target("none")}),
        )
        .await;
    assert!(!r.changed);
    assert_eq!(n, 1);
    let (_, n) = env.ok_counted("debug", json!({"msg": "x"})).await;
    assert_eq!(n, 0);
}

#[tokio::test]
async fn file_modules_query_once_and_change_once() {
    let env = Env::new();
    let dir = env.target("d/e");
    let args = json!({"path": dir, "state": "directory", "mode": "0700", "owner": "nobody"});
    let (_, n) = env.ok_counted("file", args.clone()).await;
    assert_eq!(n, 2);
    let (r, n) = env.ok_counted("file", args).await;
    assert!(!r.changed);
    assert_eq!(n, 1);

    let dest = env.target("c");
    let args = json!({"content": "hello\n", "dest": dest, "mode": "0600", "owner": "nobody", "backup": true});
    let (_, n) = env.ok_counted("copy", args.clone()).await;
    assert_eq!(n, 2);
    let (r, n) = env.ok_counted("copy", args).await;
    assert!(!r.changed);
    assert_eq!(n, 1);
    let (_, n) = env
        .ok_counted(
            "copy",
            json!({"content": "changed\n", "dest": dest, "backup": true}),
        )
        .await;
    assert_eq!(n, 2);

    env.controller_file("templates", "t.j2", "x");
    let (_, n) = env
        .ok_counted("template", json!({"src": "t.j2", "dest": env.target("")}))
        .await;
    assert_eq!(n, 2, "dest directory resolution shares the probe");

    let (_, n) = env.ok_counted("stat", json!({"path": dest})).await;
    assert_eq!(n, 1);
}

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

/// What each module declares it probes first ([`Module::planned_probes`]) is exactly what its run
/// asks for: read ahead, an unchanged run takes no round trip at all.
#[tokio::test]
async fn read_ahead_probes_are_what_the_run_asks_for() {
    let env = Env::new();
    env.controller_file("templates", "t.j2", "hello {{ 1 + 1 }}\n");
    let dir = env.target("d");
    let cases = [
        (
            "file",
            json!({"path": dir, "state": "directory", "mode": "0755"}),
        ),
        (
            "copy",
            json!({"content": "x\n", "dest": env.target("d/c"), "mode": "0644"}),
        ),
        (
            "template",
            json!({"src": "t.j2", "dest": env.target("d/t")}),
        ),
        (
            "template",
            json!({"src": "t.j2", "dest": format!("{dir}/")}),
        ),
        (
            "file",
            json!({"path": env.target("d/touched"), "state": "touch",
                   "modification_time": "preserve", "access_time": "preserve"}),
        ),
        (
            "command",
            json!({"cmd": "touch made", "creates": env.target("d/c")}),
        ),
        (
            "shell",
            json!({"cmd": "exit 1", "removes": env.target("d/none")}),
        ),
        ("stat", json!({"path": env.target("d/c")})),
    ];
    for (module, args) in cases {
        env.ok(module, args.clone()).await;
        let (r, n) = env.ok_read_ahead(module, args.clone()).await;
        assert!(!r.changed, "{module} {args}: {:?}", r.to_value());
        assert_eq!(n, 0, "{module} {args} probed again after the read-ahead");
    }
}

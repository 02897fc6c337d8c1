//! `file` against real files in a temporary directory.

mod common;

use std::path::Path;

use common::{lookup_id, mode_of, owner_of, Env};
use drover_core::module::ModuleResult;
use serde_json::{json, Value};

/// The `diff` result key `file` returns in diff mode (`before` and `after` maps).
fn file_diff(r: &ModuleResult) -> Value {
    r.to_value()["diff"].clone()
}

#[tokio::test]
async fn directory_converges_with_parents_and_mode() {
    let env = Env::new();
    let path = env.target("a/b/c");
    let args = json!({"path": path, "state": "directory", "mode": "0750"});
    // check mode: reports a change, touches nothing
    let r = env.run("file", args.clone(), true, true).await.unwrap();
    assert!(r.changed && !r.failed);
    assert!(!Path::new(&env.target("a")).exists());
    assert_eq!(
        file_diff(&r)["after"]["state"],
        "directory",
        "{:?}",
        r.to_value()
    );
    let r = env.run("file", args.clone(), false, true).await.unwrap();
    assert!(r.changed && !r.failed, "{:?}", r.to_value());
    let v = r.to_value();
    assert_eq!(v["mode"], "0750");
    assert_eq!(v["state"], "directory");
    assert_eq!(v["path"], path);
    assert_eq!(v["owner"], "root");
    assert_eq!(v["uid"], 0);
    assert_eq!(
        file_diff(&r)["before"],
        json!({"mode": "0755", "path": path, "state": "absent"})
    );
    assert_eq!(mode_of(&path), 0o750);
    assert_eq!(
        mode_of(&env.target("a")),
        0o750,
        "created parents get the mode too"
    );
    let again = env.ok("file", args).await;
    assert!(!again.changed);
    assert!(again.diff.is_empty());
    assert_eq!(
        file_diff(&again),
        Value::Null,
        "no diff key outside diff mode"
    );
}

#[tokio::test]
async fn file_state_changes_attributes_only() {
    let env = Env::new();
    let path = env.target("f");
    let r = env
        .run("file", json!({"path": path, "state": "file"}), false, false)
        .await
        .unwrap();
    assert!(r.failed);
    assert_eq!(
        r.msg.as_deref(),
        Some(format!("file ({path}) is absent, cannot continue").as_str())
    );
    assert!(!Path::new(&path).exists());

    std::fs::write(&path, "x").unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let args = json!({"dest": path, "mode": "u+x,g-r", "owner": "nobody", "group": "nogroup"});
    let r = env.run("file", args.clone(), true, true).await.unwrap();
    assert!(r.changed);
    assert_eq!(mode_of(&path), 0o644, "check mode changed nothing");
    assert_eq!(owner_of(&path), (0, 0));
    let r = env.run("file", args.clone(), false, true).await.unwrap();
    assert!(r.changed, "{:?}", r.to_value());
    assert_eq!(mode_of(&path), 0o704);
    assert_eq!(
        owner_of(&path),
        (lookup_id("passwd", "nobody"), lookup_id("group", "nogroup"))
    );
    let v = r.to_value();
    assert_eq!(v["mode"], "0704");
    assert_eq!(v["owner"], "nobody");
    assert_eq!(v["group"], "nogroup");
    assert_eq!(v["size"], 1);
    let d = file_diff(&r);
    assert_eq!(d["before"]["mode"], "0644");
    assert_eq!(d["after"]["mode"], "0704");
    assert_eq!(d["after"]["owner"], "nobody");
    assert!(!env.ok("file", args).await.changed);
    // numeric ids and int modes (YAML 0600 → 384)
    let r = env
        .ok(
            "file",
            json!({"path": path, "owner": 0, "group": "0", "mode": 384}),
        )
        .await;
    assert!(r.changed);
    assert_eq!(owner_of(&path), (0, 0));
    assert_eq!(mode_of(&path), 0o600);
}

#[tokio::test]
async fn touch_creates_then_always_changes() {
    let env = Env::new();
    let path = env.target("t");
    let r = env
        .run("file", json!({"path": path, "state": "touch"}), true, false)
        .await
        .unwrap();
    assert!(r.changed);
    assert!(!Path::new(&path).exists());
    let r = env
        .ok(
            "file",
            json!({"path": path, "state": "touch", "mode": "u=rw,g=r,o="}),
        )
        .await;
    assert!(r.changed);
    assert_eq!(r.to_value()["dest"], path);
    assert_eq!(r.to_value()["state"], "file");
    assert_eq!(mode_of(&path), 0o640);
    let r = env
        .ok("file", json!({"path": path, "state": "touch"}))
        .await;
    assert!(r.changed, "touch always updates times");
    let r = env
        .ok("file", json!({"path": path, "state": "touch", "modification_time": "preserve", "access_time": "preserve"}))
        .await;
    assert!(!r.changed);
    let r = env.ok("file", json!({"path": path, "state": "touch", "modification_time": "202001021530.45", "access_time": "preserve"})).await;
    assert!(r.changed);
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    let secs = mtime
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // 2020-01-02 15:30:45 in the local time zone: within a day of the UTC value
    assert!((secs as i64 - 1_577_979_045).abs() < 86_400, "{secs}");
}

#[tokio::test]
async fn symlinks_and_hard_links() {
    let env = Env::new();
    let target = env.target("data");
    std::fs::write(&target, "d").unwrap();
    let link = env.target("ln");
    let args = json!({"path": link, "src": "data", "state": "link"});
    let r = env.run("file", args.clone(), true, true).await.unwrap();
    assert!(r.changed);
    assert!(std::fs::symlink_metadata(&link).is_err());
    let r = env.run("file", args.clone(), false, true).await.unwrap();
    assert!(r.changed && !r.failed, "{:?}", r.to_value());
    assert_eq!(std::fs::read_link(&link).unwrap().to_str(), Some("data"));
    let v = r.to_value();
    assert_eq!(v["dest"], link);
    assert_eq!(v["src"], "data");
    assert_eq!(v["state"], "link");
    assert_eq!(file_diff(&r)["after"]["state"], "link");
    assert!(!env.ok("file", args).await.changed);
    // retarget
    std::fs::write(env.target("other"), "o").unwrap();
    let r = env
        .ok(
            "file",
            json!({"path": link, "src": "other", "state": "link"}),
        )
        .await;
    assert!(r.changed);
    assert_eq!(std::fs::read_link(&link).unwrap().to_str(), Some("other"));
    // missing src needs force
    let r = env
        .run(
            "file",
            json!({"path": env.target("dangling"), "src": "missing", "state": "link"}),
            false,
            false,
        )
        .await
        .unwrap();
    assert!(
        r.failed
            && r.msg
                .as_deref()
                .unwrap()
                .contains("src file does not exist"),
        "{:?}",
        r.to_value()
    );
    let r = env.ok("file", json!({"path": env.target("dangling"), "src": "missing", "state": "link", "force": true})).await;
    assert!(r.changed);
    // a regular file is not replaced without force
    let plain = env.target("plain");
    std::fs::write(&plain, "p").unwrap();
    let r = env
        .run(
            "file",
            json!({"path": plain, "src": "data", "state": "link"}),
            false,
            false,
        )
        .await
        .unwrap();
    assert!(
        r.failed
            && r.msg
                .as_deref()
                .unwrap()
                .contains("refusing to convert from file to symlink")
    );
    let r = env
        .ok(
            "file",
            json!({"path": plain, "src": "data", "state": "link", "force": "yes"}),
        )
        .await;
    assert!(r.changed);
    assert!(std::fs::symlink_metadata(&plain)
        .unwrap()
        .file_type()
        .is_symlink());
    // attributes go to the link target by default (follow), to the link itself with follow=no
    let r = env
        .ok("file", json!({"path": link, "src": "other", "state": "link", "owner": "nobody", "mode": "0600"}))
        .await;
    assert!(r.changed);
    assert_eq!(
        owner_of(&env.target("other")).0,
        lookup_id("passwd", "nobody")
    );
    assert_eq!(mode_of(&env.target("other")), 0o600);
    assert_eq!(owner_of(&link).0, 0);
    assert_eq!(
        r.to_value()["mode"],
        "0777",
        "the result describes the link"
    );
    assert!(!env
        .ok("file", json!({"path": link, "src": "other", "state": "link", "owner": "nobody", "mode": "0600"}))
        .await
        .changed);
    let args =
        json!({"path": link, "src": "other", "state": "link", "owner": "nobody", "follow": false});
    let r = env.ok("file", args.clone()).await;
    assert!(r.changed);
    assert_eq!(owner_of(&link).0, lookup_id("passwd", "nobody"));
    assert!(!env.ok("file", args).await.changed);

    // hard link
    let hard = env.target("hard");
    let args = json!({"path": hard, "src": target, "state": "hard"});
    let r = env.ok("file", args.clone()).await;
    assert!(r.changed);
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        std::fs::metadata(&hard).unwrap().ino(),
        std::fs::metadata(&target).unwrap().ino()
    );
    assert!(!env.ok("file", args).await.changed);
}

#[tokio::test]
async fn absent_removes_trees() {
    let env = Env::new();
    let dir = env.target("tree");
    std::fs::create_dir_all(format!("{dir}/x/y")).unwrap();
    std::fs::write(format!("{dir}/x/y/f"), "f").unwrap();
    let args = json!({"path": dir, "state": "absent"});
    let r = env.run("file", args.clone(), true, true).await.unwrap();
    assert!(r.changed);
    assert!(Path::new(&dir).exists());
    assert_eq!(file_diff(&r)["before"]["state"], "directory");
    let r = env.ok("file", args.clone()).await;
    assert!(r.changed);
    assert_eq!(r.to_value()["state"], "absent");
    assert!(!Path::new(&dir).exists());
    assert!(!env.ok("file", args).await.changed);
}

#[tokio::test]
async fn recurse_sets_attributes_below() {
    let env = Env::new();
    let dir = env.target("r");
    std::fs::create_dir_all(format!("{dir}/sub")).unwrap();
    std::fs::write(format!("{dir}/sub/f"), "f").unwrap();
    std::fs::set_permissions(
        format!("{dir}/sub/f"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let args = json!({"path": dir, "state": "directory", "recurse": true, "mode": "u=rwX,g=rX,o=", "owner": "nobody"});
    let r = env.run("file", args.clone(), true, false).await.unwrap();
    assert!(r.changed);
    assert_eq!(mode_of(&format!("{dir}/sub/f")), 0o600);
    let r = env.ok("file", args.clone()).await;
    assert!(r.changed);
    assert_eq!(mode_of(&format!("{dir}/sub/f")), 0o640);
    assert_eq!(mode_of(&format!("{dir}/sub")), 0o750);
    assert_eq!(
        owner_of(&format!("{dir}/sub/f")).0,
        lookup_id("passwd", "nobody")
    );
    assert!(!env.ok("file", args).await.changed);
}

#[tokio::test]
async fn bad_input_is_reported() {
    let env = Env::new();
    env.assert_rejects(
        "file",
        json!({"path": "/x", "stat": "absent"}),
        &["`stat`", "did you mean `state`"],
    )
    .await;
    env.assert_rejects(
        "file",
        json!({"state": "absent"}),
        &["missing required parameter"],
    )
    .await;
    env.assert_rejects(
        "file",
        json!({"path": "/x", "state": "gone"}),
        &["unknown variant `gone`"],
    )
    .await;
    env.assert_rejects(
        "file",
        json!({"path": "/x", "mode": "rwx"}),
        &["invalid mode"],
    )
    .await;
    env.assert_rejects(
        "file",
        json!({"path": "/x", "recurse": "sometimes"}),
        &["boolean"],
    )
    .await;
    let r = env
        .run(
            "file",
            json!({"path": env.target("o"), "state": "touch", "owner": "no-such-user-xyz"}),
            false,
            false,
        )
        .await
        .unwrap();
    assert!(
        r.failed && r.msg.as_deref().unwrap().contains("no-such-user-xyz"),
        "{:?}",
        r.to_value()
    );
}

#[tokio::test]
async fn paths_with_spaces_and_quotes() {
    let env = Env::new();
    let path = env.target("it's a dir");
    let r = env
        .ok("file", json!({"path": path, "state": "directory"}))
        .await;
    assert!(r.changed);
    assert!(Path::new(&path).is_dir());
    assert!(
        !env.ok("file", json!({"path": path, "state": "directory"}))
            .await
            .changed
    );
}

#[tokio::test]
async fn type_conflicts_fail_like_ansible() {
    let env = Env::new();
    let dir = env.target("dir");
    std::fs::create_dir(&dir).unwrap();
    let f = env.target("f");
    std::fs::write(&f, "x\n").unwrap();
    let r = env
        .run("file", json!({"path": dir, "state": "file"}), false, false)
        .await
        .unwrap();
    assert_eq!(
        r.msg.as_deref(),
        Some(format!("file ({dir}) is directory, cannot continue").as_str())
    );
    assert_eq!(r.data["state"], "directory");
    let r = env
        .run(
            "file",
            json!({"path": f, "state": "directory"}),
            false,
            false,
        )
        .await
        .unwrap();
    assert_eq!(
        r.msg.as_deref(),
        Some(format!("{f} already exists as a file").as_str())
    );
    assert_eq!(r.data["mode"], "0644");
    let r = env
        .run(
            "file",
            json!({"path": dir, "state": "link", "src": f}),
            false,
            false,
        )
        .await
        .unwrap();
    assert_eq!(
        r.msg.as_deref(),
        Some(format!("refusing to convert from directory to symlink for {dir}").as_str())
    );
    let r = env
        .run(
            "file",
            json!({"path": env.target("h"), "state": "hard", "src": env.target("nope")}),
            false,
            false,
        )
        .await
        .unwrap();
    assert_eq!(r.msg.as_deref(), Some("src does not exist"));
    // a failed result, with the path, as ansible-core's fail_json gives it
    let r = env
        .run("file", json!({"path": f, "src": "/x"}), false, false)
        .await
        .unwrap();
    assert!(r.failed);
    assert_eq!(
        r.msg.as_deref(),
        Some("src option requires state to be 'link' or 'hard'")
    );
    assert_eq!(r.data["path"], f.as_str());
    // an empty directory may be replaced by a link with force
    let r = env
        .ok(
            "file",
            json!({"path": dir, "state": "link", "src": f, "force": true}),
        )
        .await;
    assert!(r.changed);
    assert!(std::fs::symlink_metadata(&dir)
        .unwrap()
        .file_type()
        .is_symlink());
}

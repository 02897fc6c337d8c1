//! `file` decisions that follow ansible-core 2.19's module step by step (links, times, touch,
//! absent's diff, recursion through links, check-mode lookups), against real files.

mod common;

use std::os::unix::fs::{symlink, MetadataExt};
use std::path::Path;

use common::{mode_of, Env};
use serde_json::json;

#[tokio::test]
async fn symlinks_without_src_and_refusals() {
    let env = Env::new();
    let target = env.target("t");
    std::fs::write(&target, "x").unwrap();
    std::fs::set_permissions(&target, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let link = env.target("l");
    symlink(&target, &link).unwrap();
    // an existing link, no src, follow=no: the link itself; its target keeps its mode
    let r = env
        .ok(
            "file",
            json!({"path": link, "state": "link", "mode": "0600", "follow": false}),
        )
        .await;
    assert!(!r.changed, "{:?}", r.to_value());
    assert_eq!(mode_of(&target), 0o644);
    // a new link needs a source
    let r = env
        .run(
            "file",
            json!({"path": env.target("new"), "state": "link"}),
            false,
            false,
        )
        .await
        .unwrap();
    assert!(r.failed);
    assert_eq!(
        r.msg.as_deref(),
        Some("src is required for creating new symlinks")
    );
    // a missing source, without force
    let r = env
        .run(
            "file",
            json!({"path": env.target("l2"), "state": "link", "src": "/nonexistent"}),
            false,
            false,
        )
        .await
        .unwrap();
    assert_eq!(
        r.msg.as_deref(),
        Some(
            "src file does not exist, use 'force=yes' if you really want to create the link: \
             /nonexistent"
        )
    );
    // a directory with entries is never replaced, even with force
    let dir = env.target("d");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(format!("{dir}/inner"), "").unwrap();
    let r = env
        .run(
            "file",
            json!({"path": dir, "state": "link", "src": target, "force": true}),
            false,
            false,
        )
        .await
        .unwrap();
    assert_eq!(
        r.msg,
        Some(format!(
            "the directory {dir} is not empty, refusing to convert it"
        ))
    );
    assert!(Path::new(&dir).is_dir());
}

#[tokio::test]
async fn hard_links_as_ansible_core() {
    let env = Env::new();
    let src = env.target("src.txt");
    std::fs::write(&src, "x").unwrap();
    let r = env
        .run(
            "file",
            json!({"path": env.target("h"), "state": "hard"}),
            false,
            false,
        )
        .await
        .unwrap();
    assert_eq!(
        r.msg.as_deref(),
        Some("src is required for creating new hardlinks")
    );
    // a directory as path: the link goes inside it, named after the source
    let dir = env.target("sub");
    std::fs::create_dir(&dir).unwrap();
    let r = env
        .ok("file", json!({"path": dir, "state": "hard", "src": src}))
        .await;
    assert!(r.changed);
    let inside = format!("{dir}/src.txt");
    assert_eq!(
        std::fs::metadata(&inside).unwrap().ino(),
        std::fs::metadata(&src).unwrap().ino()
    );
    // an existing plain file is replaced only with force
    let other = env.target("other");
    std::fs::write(&other, "y").unwrap();
    let r = env
        .run(
            "file",
            json!({"path": other, "state": "hard", "src": src}),
            false,
            false,
        )
        .await
        .unwrap();
    assert_eq!(
        r.msg.as_deref(),
        Some("Cannot link, file exists at destination")
    );
    assert_eq!(r.data["src"], src.as_str());
}

#[tokio::test]
async fn explicit_times_in_place_are_no_change() {
    let env = Env::new();
    let f = env.target("f");
    std::fs::write(&f, "x").unwrap();
    let args = json!({"path": f, "modification_time": "202202081414.00"});
    let first = env.ok("file", args.clone()).await;
    assert!(first.changed);
    let second = env.run("file", args, false, true).await.unwrap();
    assert!(!second.changed, "{:?}", second.to_value());
    assert_eq!(second.to_value()["diff"]["after"], json!({"path": f}));
}

#[tokio::test]
async fn touch_removes_the_file_it_could_not_finish() {
    let env = Env::new();
    let f = env.target("new.txt");
    let r = env
        .run(
            "file",
            json!({"path": f, "state": "touch", "owner": "no-such-user-drover"}),
            false,
            false,
        )
        .await
        .unwrap();
    assert!(r.failed);
    assert!(!Path::new(&f).exists());
    // in check mode an absent file is only reported as changed
    let r = env
        .run("file", json!({"path": f, "state": "touch"}), true, false)
        .await
        .unwrap();
    assert!(r.changed);
    assert_eq!(r.data.get("state"), None);
}

#[tokio::test]
async fn absent_directory_diff_lists_its_content() {
    let env = Env::new();
    let top = env.target("top");
    std::fs::create_dir_all(format!("{top}/sub")).unwrap();
    std::fs::write(format!("{top}/sub/a"), "").unwrap();
    let r = env
        .run("file", json!({"path": top, "state": "absent"}), true, true)
        .await
        .unwrap();
    let content = &r.to_value()["diff"]["before"]["path_content"];
    assert_eq!(content["directories"], json!([format!("{top}/sub")]));
    assert_eq!(content["files"], json!([format!("{top}/sub/a")]));
    assert!(Path::new(&top).exists());
}

#[tokio::test]
async fn recurse_follows_links_only_when_asked() {
    let env = Env::new();
    let top = env.target("top");
    let outside = env.target("outside");
    std::fs::create_dir_all(&top).unwrap();
    std::fs::write(&outside, "").unwrap();
    std::fs::set_permissions(
        &outside,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    symlink(&outside, format!("{top}/link")).unwrap();
    let args = |follow| json!({"path": top, "recurse": true, "mode": "a-x", "follow": follow});
    env.ok("file", args(false)).await;
    assert_eq!(mode_of(&outside), 0o700);
    env.ok("file", args(true)).await;
    assert_eq!(mode_of(&outside), 0o600);
}

#[tokio::test]
async fn check_mode_warns_about_unknown_owners() {
    let env = Env::new();
    let f = env.target("f");
    std::fs::write(&f, "").unwrap();
    let r = env
        .run(
            "file",
            json!({"path": f, "state": "touch", "owner": "no-such-user-drover"}),
            true,
            false,
        )
        .await
        .unwrap();
    let v = r.to_value();
    assert_eq!(v["failed"], true);
    assert_eq!(
        v["msg"],
        "chown failed: failed to look up user no-such-user-drover"
    );
    assert_eq!(
        v["warnings"][0],
        "failed to look up user no-such-user-drover. Create user up to this point in real play"
    );
    let r = env
        .run("file", json!({"path": f, "group": "987654"}), true, false)
        .await
        .unwrap();
    assert!(!r.failed, "an id is used as is");
    assert_eq!(
        r.to_value()["warnings"][0],
        "failed to look up group with gid 987654. Create group up to this point in real play"
    );
}

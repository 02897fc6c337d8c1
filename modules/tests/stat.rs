//! `stat` against real files.

mod common;

use common::Env;
use serde_json::json;

#[tokio::test]
async fn stat_reports_file_facts() {
    let env = Env::new();
    let path = env.target("s");
    std::fs::write(&path, "new\n").unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o640)).unwrap();
    let r = env.ok("stat", json!({"path": path})).await;
    assert!(!r.changed);
    let s = &r.data["stat"];
    assert_eq!(s["exists"], true);
    assert_eq!(s["path"], path);
    assert_eq!(s["mode"], "0640");
    assert_eq!(s["isreg"], true);
    assert_eq!(s["isdir"], false);
    assert_eq!(s["islnk"], false);
    assert_eq!(s["size"], 4);
    assert_eq!(s["uid"], 0);
    assert_eq!(s["pw_name"], "root");
    assert_eq!(s["gr_name"], "root");
    assert_eq!(s["checksum"], "389cc6b7ae5a659383eab5dfc253764eccf84732");
    assert_eq!(s["rusr"], true);
    assert_eq!(s["wgrp"], false);
    assert_eq!(s["readable"], true);
    assert_eq!(s["writeable"], true);
    assert_eq!(s["executable"], false);
    assert_eq!(s["nlink"], 1);
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(s["inode"], meta.ino());
    assert_eq!(s["dev"], meta.dev());
    assert!((s["mtime"].as_f64().unwrap() - meta.mtime() as f64).abs() < 1.0);
    if s.get("mimetype").is_some() {
        assert_eq!(s["mimetype"], "text/plain");
    }
    let r = env
        .ok(
            "stat",
            json!({"path": path, "get_checksum": false, "checksum_algorithm": "sha256"}),
        )
        .await;
    assert!(r.data["stat"].get("checksum").is_none());
    let r = env
        .ok(
            "stat",
            json!({"path": path, "checksum_algorithm": "sha256", "get_mime": "no"}),
        )
        .await;
    assert_eq!(
        r.data["stat"]["checksum"],
        "7aa7a5359173d05b63cfd682e3c38487f3cb4f7f1d60659fe59fab1505977d4c"
    );
}

#[tokio::test]
async fn stat_missing_dirs_and_links() {
    let env = Env::new();
    let r = env.ok("stat", json!({"path": env.target("nope")})).await;
    assert_eq!(
        r.to_value(),
        json!({"changed": false, "stat": {"exists": false}})
    );
    let dir = env.target("");
    let r = env.ok("stat", json!({"path": dir})).await;
    assert_eq!(r.data["stat"]["isdir"], true);
    assert!(r.data["stat"].get("checksum").is_none());
    let file = env.target("f");
    std::fs::write(&file, "x").unwrap();
    let link = env.target("l");
    std::os::unix::fs::symlink("f", &link).unwrap();
    let r = env.ok("stat", json!({"path": link})).await;
    assert_eq!(r.data["stat"]["islnk"], true);
    assert_eq!(r.data["stat"]["lnk_target"], "f");
    assert_eq!(r.data["stat"]["lnk_source"], file);
    let r = env.ok("stat", json!({"path": link, "follow": true})).await;
    assert_eq!(r.data["stat"]["islnk"], false);
    assert_eq!(r.data["stat"]["isreg"], true);
    assert_eq!(r.data["stat"]["size"], 1);
    env.assert_rejects(
        "stat",
        json!({"path": link, "follw": true}),
        &["`follw`", "follow"],
    )
    .await;
    env.assert_rejects(
        "stat",
        json!({"path": link, "checksum_algorithm": "crc"}),
        &["crc"],
    )
    .await;
    env.assert_rejects("stat", json!({}), &["missing required parameter"])
        .await;
}

#[tokio::test]
async fn tilde_paths_expand_on_the_target() {
    let env = Env::new();
    let r = env.ok("stat", json!({"path": "~"})).await;
    assert_eq!(r.data["stat"]["isdir"], true, "{:?}", r.to_value());
    assert_eq!(r.data["stat"]["path"], "~");
}

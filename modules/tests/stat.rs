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

/// On a file system with attributes and version numbers (this machine's temp dir, when it is
/// ext4; skipped elsewhere), `file` sets flags with chattr as ansible-core decides and `stat`
/// reports lsattr's `version`, `attributes` and `attr_flags`.
#[tokio::test]
async fn file_attributes_and_stat_get_attributes() {
    let env = Env::new();
    let path = env.target("attrs.txt");
    std::fs::create_dir_all(std::path::Path::new(&path).parent().unwrap()).unwrap();
    std::fs::write(&path, "x\n").unwrap();
    let lsattr = std::process::Command::new("lsattr")
        .args(["-vd", &path])
        .output();
    if !lsattr.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: lsattr -vd does not work on {path}");
        return;
    }
    let r = env
        .ok("file", json!({"path": path, "attributes": "+d"}))
        .await;
    assert!(r.changed);
    let st = env.ok("stat", json!({"path": path})).await.to_value();
    let flags = st["stat"]["attr_flags"].as_str().unwrap().to_string();
    assert!(flags.contains('d'), "{st}");
    assert!(st["stat"]["attributes"]
        .as_array()
        .unwrap()
        .contains(&json!("nodump")));
    assert!(st["stat"]["version"].is_string(), "{st}");
    // The exact flags there are: unchanged; a `-` always runs chattr (ansible-core's rule).
    let r = env
        .ok("file", json!({"path": path, "attributes": flags}))
        .await;
    assert!(!r.changed, "{:?}", r.to_value());
    let r = env.ok("file", json!({"path": path, "attr": "-d"})).await;
    assert!(r.changed);
    let st = env.ok("stat", json!({"path": path})).await.to_value();
    assert!(
        !st["stat"]["attr_flags"].as_str().unwrap().contains('d'),
        "{st}"
    );
    // Check mode reports the change and leaves the file alone.
    let r = env
        .run(
            "file",
            json!({"path": path, "attributes": "+d"}),
            true,
            false,
        )
        .await
        .unwrap();
    assert!(r.changed && !r.failed);
    let st = env
        .ok("stat", json!({"path": path, "get_attributes": false}))
        .await
        .to_value();
    assert!(st["stat"].get("attr_flags").is_none(), "{st}");
    let out = std::process::Command::new("lsattr")
        .args(["-d", &path])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout)
        .split(' ')
        .next()
        .unwrap()
        .contains('d'));
}

/// `copy` and `template` set `attributes` once the file is in place (skipped where the temp dir
/// has no attributes).
#[tokio::test]
async fn copy_and_template_set_attributes() {
    let env = Env::new();
    let dest = env.target("copied.txt");
    std::fs::create_dir_all(std::path::Path::new(&dest).parent().unwrap()).unwrap();
    std::fs::write(&dest, "old\n").unwrap();
    let lsattr = |path: &str| {
        std::process::Command::new("lsattr")
            .args(["-d", path])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .split(' ')
                    .next()
                    .unwrap_or("")
                    .to_string()
            })
    };
    if lsattr(&dest).is_none() {
        eprintln!("skipped: lsattr does not work on {dest}");
        return;
    }
    let args = json!({"dest": dest, "content": "new\n", "attributes": "+d"});
    let r = env.ok("copy", args.clone()).await;
    assert!(r.changed);
    assert!(lsattr(&dest).unwrap().contains('d'));
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "new\n");
    // Same contents, flags already there: `+d` changes nothing... unless other flags are set
    // (ansible-core compares the letters as written), e.g. ext4's `e`.
    let flags = lsattr(&dest).unwrap().replace('-', "");
    let r = env
        .ok(
            "copy",
            json!({"dest": dest, "content": "new\n", "attributes": flags}),
        )
        .await;
    assert!(!r.changed, "{:?}", r.to_value());
    env.controller_file("templates", "t.j2", "hello\n");
    let tdest = env.target("templated.txt");
    let r = env
        .ok(
            "template",
            json!({"src": "t.j2", "dest": tdest, "attr": "+d"}),
        )
        .await;
    assert!(r.changed);
    assert!(lsattr(&tdest).unwrap().contains('d'));
    // SELinux options are ignored where SELinux is off.
    if !std::path::Path::new("/sys/fs/selinux/enforce").exists() {
        env.ok(
            "copy",
            json!({"dest": dest, "content": "new\n", "setype": "etc_t"}),
        )
        .await;
    }
}

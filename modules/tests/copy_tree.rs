//! `copy` of a controller-side directory with symlinks, `local_follow` on and off.

mod common;

use std::os::unix::fs::symlink;
use std::path::Path;

use common::{mode_of, Env};
use serde_json::json;

fn link_target(p: &str) -> String {
    std::fs::read_link(p).unwrap().display().to_string()
}

#[tokio::test]
async fn tree_symlinks_are_recreated_or_followed() {
    let env = Env::new();
    let a = env.controller_file("files", "tree/a.txt", "a");
    let top = a.parent().unwrap().to_path_buf();
    env.controller_file("files", "tree/sub/b.txt", "b");
    std::fs::create_dir_all(top.join("empty")).unwrap();
    symlink("../a.txt", top.join("sub/to_a")).unwrap();
    symlink("missing", top.join("sub/broken")).unwrap();
    symlink("..", top.join("sub/loop")).unwrap();
    symlink("../sub", top.join("empty/to_sub")).unwrap();

    // local_follow=no: every symlink stays a symlink, directories get directory_mode.
    let dest = env.target("nofollow");
    std::fs::create_dir_all(&dest).unwrap();
    let args =
        json!({"src": "tree", "dest": dest, "local_follow": false, "directory_mode": "0700"});
    let r = env.ok("copy", args.clone()).await;
    assert!(r.changed, "{:?}", r.to_value());
    assert_eq!(r.to_value()["dest"], format!("{dest}/"));
    assert_eq!(link_target(&format!("{dest}/tree/sub/to_a")), "../a.txt");
    assert_eq!(link_target(&format!("{dest}/tree/sub/broken")), "missing");
    assert_eq!(link_target(&format!("{dest}/tree/sub/loop")), "..");
    assert_eq!(link_target(&format!("{dest}/tree/empty/to_sub")), "../sub");
    for d in ["tree", "tree/sub", "tree/empty"] {
        assert_eq!(mode_of(&format!("{dest}/{d}")), 0o700, "{d}");
    }
    assert!(!env.ok("copy", args).await.changed);

    // local_follow=yes (the default): links to files and to directories elsewhere in the tree
    // are copied as what they point to; a loop back into the tree and a dangling link stay links.
    let dest = env.target("follow");
    let args = json!({"src": "tree/", "dest": dest});
    let r = env.ok("copy", args.clone()).await;
    assert!(r.changed);
    let to_a = format!("{dest}/sub/to_a");
    assert!(!Path::new(&to_a).is_symlink());
    assert_eq!(std::fs::read_to_string(&to_a).unwrap(), "a");
    let to_sub = format!("{dest}/empty/to_sub");
    assert!(!Path::new(&to_sub).is_symlink() && Path::new(&to_sub).is_dir());
    assert_eq!(
        std::fs::read_to_string(format!("{to_sub}/b.txt")).unwrap(),
        "b"
    );
    assert_eq!(link_target(&format!("{dest}/sub/loop")), "..");
    assert_eq!(link_target(&format!("{dest}/sub/broken")), "missing");
    assert!(!env.ok("copy", args).await.changed);
}

#[tokio::test]
async fn directory_mode_applies_to_existing_directories() {
    let env = Env::new();
    env.controller_file("files", "d/sub/f", "f");
    let dest = env.target("out");
    std::fs::create_dir_all(format!("{dest}/sub")).unwrap();
    std::fs::set_permissions(
        format!("{dest}/sub"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let args = json!({"src": "d/", "dest": dest, "directory_mode": "0750"});
    assert!(env.ok("copy", args.clone()).await.changed);
    assert_eq!(mode_of(&format!("{dest}/sub")), 0o750);
    assert!(!env.ok("copy", args).await.changed);
}

#[tokio::test]
async fn remote_src_tree_keeps_symlinks_unless_local_follow() {
    let env = Env::new();
    let src = env.target("rsrc");
    std::fs::create_dir_all(format!("{src}/sub")).unwrap();
    std::fs::write(format!("{src}/sub/f"), "f").unwrap();
    symlink(format!("{src}/sub/f"), format!("{src}/link_f")).unwrap();
    // Unset local_follow (and `no`) recreate the symlink, as shutil.copytree(symlinks=True).
    let kept = env.target("kept");
    let args = json!({"src": format!("{src}/"), "dest": kept, "remote_src": true});
    assert!(env.ok("copy", args.clone()).await.changed);
    assert_eq!(
        link_target(&format!("{kept}/link_f")),
        format!("{src}/sub/f")
    );
    assert!(!env.ok("copy", args).await.changed);
    // local_follow=yes copies what the symlink points to.
    let followed = env.target("followed");
    let args = json!({"src": format!("{src}/"), "dest": followed, "remote_src": true, "local_follow": true});
    assert!(env.ok("copy", args.clone()).await.changed);
    let f = format!("{followed}/link_f");
    assert!(!Path::new(&f).is_symlink());
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "f");
    assert!(!env.ok("copy", args).await.changed);
}

#[tokio::test]
async fn remote_src_that_is_not_a_file_fails() {
    let env = Env::new();
    let dest = env.target("whocares");
    let r = env
        .run(
            "copy",
            json!({"src": "/dev/null", "dest": dest, "remote_src": true}),
            false,
            false,
        )
        .await
        .unwrap();
    assert!(r.failed);
    assert_eq!(
        r.msg.as_deref(),
        Some("Cannot copy invalid source '/dev/null': not a file")
    );
    assert!(!Path::new(&dest).exists());
}

#[tokio::test]
async fn vault_encrypted_sources_fail_without_a_password() {
    let env = Env::new();
    let secret = drover_core::vault::VaultSecret::new("default", "pw");
    let text = drover_core::vault::encrypt(b"secret\n", &secret);
    let file = env.controller_file("files", "vault/vault-file", &text);
    let dest = env.target("out");
    for src in ["vault/vault-file", "vault"] {
        let r = env
            .run("copy", json!({"src": src, "dest": dest}), false, false)
            .await
            .unwrap();
        assert!(r.failed, "{src}");
        let want = format!(
            "A vault password or secret must be specified to decrypt {}",
            file.display()
        );
        assert_eq!(r.msg.as_deref(), Some(want.as_str()), "{src}");
    }
    // decrypt=no copies the encrypted text as it is.
    let args = json!({"src": "vault/vault-file", "dest": dest, "decrypt": false});
    assert!(env.ok("copy", args).await.changed);
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), text);
}

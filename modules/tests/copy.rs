//! `copy` and `template` against real files.

mod common;

use std::path::Path;

use common::{lookup_id, mode_of, owner_of, Env};
use serde_json::json;

fn read(p: &str) -> String {
    std::fs::read_to_string(p).unwrap()
}

#[tokio::test]
async fn content_converges_with_backup_and_diff() {
    let env = Env::new();
    let dest = env.target("c");
    std::fs::write(&dest, "old\n").unwrap();
    let args = json!({"content": "new\n", "dest": dest, "backup": "yes", "mode": "0640"});
    // check mode + diff: nothing written, diff has the contents
    let r = env.run("copy", args.clone(), true, true).await.unwrap();
    assert!(r.changed && !r.failed, "{:?}", r.to_value());
    assert_eq!(read(&dest), "old\n");
    assert_eq!(r.diff[0].before, "old\n");
    assert_eq!(r.diff[0].after, "new\n");
    assert_eq!(r.diff[0].before_header.as_deref(), Some(dest.as_str()));
    assert_eq!(r.diff[0].after_header.as_deref(), Some(dest.as_str()));
    let r = env.run("copy", args.clone(), false, true).await.unwrap();
    assert!(r.changed && !r.failed, "{:?}", r.to_value());
    assert_eq!(read(&dest), "new\n");
    assert_eq!(mode_of(&dest), 0o640);
    let v = r.to_value();
    assert_eq!(v["checksum"], "389cc6b7ae5a659383eab5dfc253764eccf84732");
    assert_eq!(v["md5sum"], "9cd599a3523898e6a12e13ec787da50a");
    assert_eq!(v["mode"], "0640");
    assert_eq!(v["size"], 4);
    assert_eq!(v["dest"], dest);
    assert_eq!(v["state"], "file");
    let backup = v["backup_file"].as_str().unwrap();
    let re = regex::Regex::new(r"^.*/c\.\d+\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d~$").unwrap();
    assert!(re.is_match(backup), "{backup}");
    assert_eq!(read(backup), "old\n");
    // second run: unchanged, no diff, no new backup
    let r = env.run("copy", args, false, true).await.unwrap();
    assert!(!r.changed && r.diff.is_empty(), "{:?}", r.to_value());
    let backups = std::fs::read_dir(env.target("")).unwrap().count();
    assert_eq!(backups, 2);
    // no temporary files left behind
    assert!(std::fs::read_dir(env.target("")).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .contains("drover-tmp")));
}

#[tokio::test]
async fn attributes_only_change_and_ownership() {
    let env = Env::new();
    let dest = env.target("a");
    let args = json!({"content": "x", "dest": dest});
    assert!(env.ok("copy", args).await.changed);
    assert_eq!(mode_of(&dest), 0o644);
    let args = json!({"content": "x", "dest": dest, "owner": "nobody", "group": "nogroup", "mode": "u=rw,go="});
    let r = env.run("copy", args.clone(), false, true).await.unwrap();
    assert!(r.changed);
    assert!(
        r.diff[0].after.contains("\"owner\": \"nobody\""),
        "{:?}",
        r.diff
    );
    assert_eq!(
        owner_of(&dest),
        (lookup_id("passwd", "nobody"), lookup_id("group", "nogroup"))
    );
    assert_eq!(mode_of(&dest), 0o600);
    assert!(!env.ok("copy", args).await.changed);
    // replacing the contents keeps the existing owner and mode
    let r = env.ok("copy", json!({"content": "y", "dest": dest})).await;
    assert!(r.changed);
    assert_eq!(owner_of(&dest).0, lookup_id("passwd", "nobody"));
    assert_eq!(mode_of(&dest), 0o600);
}

#[tokio::test]
async fn src_file_into_directory_and_trailing_slash() {
    let env = Env::new();
    env.controller_file("files", "hello.txt", "hi\n");
    let dir = env.target("d");
    std::fs::create_dir(&dir).unwrap();
    let r = env
        .ok("copy", json!({"src": "hello.txt", "dest": dir}))
        .await;
    assert!(r.changed);
    assert_eq!(read(&format!("{dir}/hello.txt")), "hi\n");
    assert!(r.to_value()["src"]
        .as_str()
        .unwrap()
        .ends_with("files/hello.txt"));
    assert!(
        !env.ok("copy", json!({"src": "hello.txt", "dest": dir}))
            .await
            .changed
    );
    // trailing slash creates the directory
    let newdir = env.target("new/sub/");
    let r = env
        .ok("copy", json!({"src": "hello.txt", "dest": newdir}))
        .await;
    assert!(r.changed);
    assert_eq!(read(&format!("{newdir}hello.txt")), "hi\n");
    // missing parent without trailing slash fails clearly
    let r = env
        .run(
            "copy",
            json!({"src": "hello.txt", "dest": env.target("missing/x")}),
            false,
            false,
        )
        .await
        .unwrap();
    assert!(r.failed);
    assert!(r.msg.unwrap().contains("Destination directory"));
    // content into a dir-like dest fails like Ansible
    let r = env
        .run(
            "copy",
            json!({"content": "x", "dest": newdir}),
            false,
            false,
        )
        .await
        .unwrap();
    assert_eq!(
        r.msg.as_deref(),
        Some("can not use content with a dir as dest")
    );
    let r = env
        .run("copy", json!({"content": "x", "dest": dir}), false, false)
        .await
        .unwrap();
    assert_eq!(
        r.msg.as_deref(),
        Some("can not use content with a dir as dest")
    );
    // missing src
    env.assert_rejects(
        "copy",
        json!({"src": "nope.txt", "dest": dir}),
        &["nope.txt"],
    )
    .await;
}

#[tokio::test]
async fn directory_src_with_and_without_trailing_slash() {
    let env = Env::new();
    env.controller_file("files", "tree/a.txt", "a");
    env.controller_file("files", "tree/sub/b.txt", "b");
    let dest = env.target("out");
    let args = json!({"src": "tree", "dest": dest, "directory_mode": "0700", "mode": "0600"});
    let r = env.run("copy", args.clone(), true, false).await.unwrap();
    assert!(r.changed);
    assert!(!Path::new(&dest).exists());
    let r = env.ok("copy", args.clone()).await;
    assert!(r.changed);
    assert_eq!(read(&format!("{dest}/tree/a.txt")), "a");
    assert_eq!(read(&format!("{dest}/tree/sub/b.txt")), "b");
    assert_eq!(mode_of(&format!("{dest}/tree/sub")), 0o700);
    assert_eq!(mode_of(&format!("{dest}/tree/sub/b.txt")), 0o600);
    assert!(!env.ok("copy", args).await.changed);
    // with a trailing slash the contents go straight into dest
    let dest2 = env.target("flat");
    let r = env.ok("copy", json!({"src": "tree/", "dest": dest2})).await;
    assert!(r.changed);
    assert_eq!(read(&format!("{dest2}/a.txt")), "a");
    assert_eq!(read(&format!("{dest2}/sub/b.txt")), "b");
    // a changed file is detected
    env.controller_file("files", "tree/a.txt", "A");
    let r = env
        .run("copy", json!({"src": "tree/", "dest": dest2}), false, true)
        .await
        .unwrap();
    assert!(r.changed);
    assert_eq!(r.diff.len(), 1);
    assert_eq!(r.diff[0].after, "A");
    assert_eq!(read(&format!("{dest2}/a.txt")), "A");
}

#[tokio::test]
async fn force_no_validate_and_remote_src() {
    let env = Env::new();
    let dest = env.target("f");
    std::fs::write(&dest, "keep").unwrap();
    let r = env
        .ok(
            "copy",
            json!({"content": "other", "dest": dest, "force": "no"}),
        )
        .await;
    assert!(!r.changed);
    assert_eq!(read(&dest), "keep");
    // validation failure leaves the file alone
    let r = env
        .run(
            "copy",
            json!({"content": "bad", "dest": dest, "validate": "grep -q good %s"}),
            false,
            false,
        )
        .await
        .unwrap();
    assert!(r.failed);
    assert_eq!(r.msg.as_deref(), Some("failed to validate"));
    assert!(std::fs::read_dir(env.target("")).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .contains("drover-tmp")));
    assert_eq!(read(&dest), "keep");
    let r = env
        .ok(
            "copy",
            json!({"content": "good", "dest": dest, "validate": "grep -q good %s"}),
        )
        .await;
    assert!(r.changed);
    assert_eq!(read(&dest), "good");
    env.assert_rejects(
        "copy",
        json!({"content": "x", "dest": dest, "validate": "true"}),
        &["validate must contain %s"],
    )
    .await;
    // An empty src is no source (ansible-core's action plugin checks `not source`).
    env.assert_rejects(
        "copy",
        json!({"src": "", "dest": dest}),
        &["src (or content) is required"],
    )
    .await;
    // remote_src
    let copy = env.target("g");
    let r = env
        .ok(
            "copy",
            json!({"src": dest, "dest": copy, "remote_src": true, "mode": "preserve"}),
        )
        .await;
    assert!(r.changed);
    assert_eq!(read(&copy), "good");
    assert!(
        !env.ok(
            "copy",
            json!({"src": dest, "dest": copy, "remote_src": true})
        )
        .await
        .changed
    );
}

#[tokio::test]
async fn binary_content_round_trips() {
    let env = Env::new();
    let data: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
    let name = "blob.bin";
    let p = env.controller.files_dir.join("files").join(name);
    std::fs::write(&p, &data).unwrap();
    let dest = env.target("blob");
    let r = env
        .run("copy", json!({"src": name, "dest": dest}), false, true)
        .await
        .unwrap();
    assert!(r.changed && !r.failed, "{:?}", r.to_value());
    assert_eq!(std::fs::read(&dest).unwrap(), data);
    assert!(
        !env.ok("copy", json!({"src": name, "dest": dest}))
            .await
            .changed
    );
}

#[tokio::test]
async fn bad_input_names_the_key() {
    let env = Env::new();
    env.assert_rejects(
        "copy",
        json!({"content": "x", "dset": "/tmp/x"}),
        &["`dset`"],
    )
    .await;
    env.assert_rejects("copy", json!({"content": "x"}), &["`dest`"])
        .await;
    env.assert_rejects("copy", json!({"dest": "/tmp/x"}), &["`src`", "`content`"])
        .await;
    env.assert_rejects(
        "copy",
        json!({"content": "x", "dest": "/tmp/x", "backup": "often"}),
        &["boolean"],
    )
    .await;
    env.assert_rejects(
        "copy",
        json!({"content": "x", "dest": "/tmp/x", "mode": [1]}),
        &["mode"],
    )
    .await;
}

#[tokio::test]
async fn template_renders_with_host_vars() {
    let mut env = Env::new();
    env.controller.vars.insert("name".into(), json!("world"));
    env.controller_file("templates", "greet.j2", "hello {{ name }}\nline2");
    let dest = env.target("greet");
    let args = json!({"src": "greet.j2", "dest": dest, "mode": "0600", "owner": "nobody"});
    let r = env.run("template", args.clone(), true, true).await.unwrap();
    assert!(r.changed);
    assert!(!Path::new(&dest).exists());
    assert_eq!(r.diff[0].after, "hello world\nline2");
    assert_eq!(r.diff[0].before, "");
    assert_eq!(r.diff[0].before_header, None);
    let r = env.ok("template", args.clone()).await;
    assert!(r.changed);
    assert_eq!(read(&dest), "hello world\nline2");
    assert_eq!(mode_of(&dest), 0o600);
    assert_eq!(owner_of(&dest).0, lookup_id("passwd", "nobody"));
    assert!(!env.ok("template", args.clone()).await.changed);
    env.controller.vars.insert("name".into(), json!("drover"));
    let r = env
        .run("template", args.clone(), false, true)
        .await
        .unwrap();
    assert!(r.changed);
    assert_eq!(r.diff[0].before, "hello world\nline2");
    assert_eq!(read(&dest), "hello drover\nline2");
    // newline_sequence
    let r = env
        .ok(
            "template",
            json!({"src": "greet.j2", "dest": dest, "newline_sequence": "\r\n"}),
        )
        .await;
    assert!(r.changed);
    assert_eq!(read(&dest), "hello drover\r\nline2");
    // errors
    env.assert_rejects(
        "template",
        json!({"src": "missing.j2", "dest": dest}),
        &["missing.j2"],
    )
    .await;
    env.controller_file("templates", "bad.j2", "{{ undefined_var_xyz }}");
    env.assert_rejects(
        "template",
        json!({"src": "bad.j2", "dest": dest}),
        &["undefined"],
    )
    .await;
    env.assert_rejects("template", json!({"src": "greet.j2"}), &["`dest`"])
        .await;
    env.assert_rejects(
        "template",
        json!({"src": "greet.j2", "dest": dest, "trim": true}),
        &["`trim`"],
    )
    .await;
}

/// Ansible renders templates with `keep_trailing_newline`; this depends on the templar
/// (`render_template_file`), which the stub in core does not do yet.
#[tokio::test]
async fn template_keeps_trailing_newline() {
    let env = Env::new();
    env.controller_file("templates", "nl.j2", "x\n");
    let dest = env.target("nl");
    env.ok("template", json!({"src": "nl.j2", "dest": dest}))
        .await;
    assert_eq!(read(&dest), "x\n");
}

#[tokio::test]
async fn follow_writes_through_a_dest_symlink() {
    let env = Env::new();
    let real = env.target("real");
    std::fs::write(&real, "old").unwrap();
    let link = env.target("link");
    std::os::unix::fs::symlink("real", &link).unwrap();
    let r = env
        .ok(
            "copy",
            json!({"content": "new", "dest": link, "follow": true}),
        )
        .await;
    assert!(r.changed);
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(read(&real), "new");
    // without follow the link is replaced by a file
    let r = env
        .ok("copy", json!({"content": "newer", "dest": link}))
        .await;
    assert!(r.changed);
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_file());
    assert_eq!(read(&real), "new");
}

#[tokio::test]
async fn template_defines_ansible_template_vars() {
    let env = Env::new();
    env.controller_file(
        "templates",
        "managed.j2",
        "# {{ ansible_managed }} -> {{ template_destpath }} from {{ template_path | length > 0 }}",
    );
    let dest = env.target("managed");
    let r = env
        .ok("template", json!({"src": "managed.j2", "dest": dest}))
        .await;
    assert!(r.changed);
    assert_eq!(
        read(&dest),
        format!("# Ansible managed -> {dest} from True")
    );
}

#[tokio::test]
async fn remote_src_directory_tree() {
    let env = Env::new();
    let src = env.target("srcdir");
    std::fs::create_dir_all(format!("{src}/sub dir")).unwrap();
    std::fs::write(format!("{src}/a"), "a").unwrap();
    std::fs::write(format!("{src}/sub dir/b"), "b").unwrap();
    let dest = env.target("mirror");
    let args = json!({"src": src, "dest": dest, "remote_src": true, "directory_mode": "0700"});
    let r = env.run("copy", args.clone(), true, false).await.unwrap();
    assert!(r.changed);
    assert!(!Path::new(&dest).exists());
    let r = env.ok("copy", args.clone()).await;
    assert!(r.changed);
    assert_eq!(read(&format!("{dest}/srcdir/sub dir/b")), "b");
    assert_eq!(mode_of(&format!("{dest}/srcdir/sub dir")), 0o700);
    assert!(!env.ok("copy", args.clone()).await.changed);
    std::fs::write(format!("{src}/a"), "A").unwrap();
    let r = env
        .ok(
            "copy",
            json!({"src": format!("{src}/"), "dest": dest, "remote_src": true}),
        )
        .await;
    assert!(r.changed);
    assert_eq!(read(&format!("{dest}/a")), "A");
    assert_eq!(read(&format!("{dest}/sub dir/b")), "b");
}

#[tokio::test]
async fn remote_src_expands_variables_and_tilde_on_the_target() {
    let env = Env::new();
    let src = env.target("from-env");
    std::fs::write(&src, "expanded").unwrap();
    let dir = Path::new(&src).parent().unwrap().display().to_string();
    // Set once for this test binary; the name is unique to this test.
    std::env::set_var("DROVER_COPY_TEST_DIR", &dir);
    let dest = env.target("to");
    let r = env
        .ok(
            "copy",
            json!({"src": "$DROVER_COPY_TEST_DIR/from-env", "dest": dest, "remote_src": true}),
        )
        .await;
    assert!(r.changed);
    assert_eq!(read(&dest), "expanded");
    assert_eq!(r.data["src"], json!(src));
    // An unset variable stays as written (Python's expandvars), so the source is missing.
    let r = env
        .run(
            "copy",
            json!({"src": "${DROVER_COPY_UNSET}/x", "dest": dest, "remote_src": true}),
            false,
            false,
        )
        .await
        .unwrap();
    assert!(r.failed);
    assert_eq!(
        r.msg.as_deref(),
        Some("Source ${DROVER_COPY_UNSET}/x not found")
    );
}

#[tokio::test]
async fn template_output_encoding_reencodes_the_text() {
    let env = Env::new();
    env.controller_file("templates", "enc.j2", "caf\u{e9} \u{20ac}\n");
    for (enc, want) in [
        ("", "caf\u{e9} \u{20ac}\n".as_bytes().to_vec()),
        ("windows-1252", b"caf\xe9 \x80\n".to_vec()),
    ] {
        let dest = env.target(&format!("enc-{enc}"));
        env.ok(
            "template",
            json!({"src": "enc.j2", "dest": dest, "output_encoding": enc}),
        )
        .await;
        assert_eq!(std::fs::read(&dest).unwrap(), want, "{enc}");
    }
    let r = env
        .run(
            "template",
            json!({"src": "enc.j2", "dest": env.target("enc-x"), "output_encoding": "ascii"}),
            false,
            false,
        )
        .await
        .unwrap();
    assert!(r.failed);
}

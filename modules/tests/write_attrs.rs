//! Replacing a file keeps what ansible-core's `atomic_move` keeps of the old one (owner, mode,
//! ACLs and extended attributes, via `shutil.copystat`): `copy`, `template` and the text modules
//! write a temporary sibling and rename it over the old file, so these must be copied first.

mod common;

use std::ffi::CString;
use std::os::raw::{c_char, c_int, c_void};

use common::{mode_of, Env};
use serde_json::json;

extern "C" {
    fn setxattr(
        path: *const c_char,
        name: *const c_char,
        value: *const c_void,
        size: usize,
        flags: c_int,
    ) -> c_int;
    fn getxattr(path: *const c_char, name: *const c_char, value: *mut c_void, size: usize)
        -> isize;
}

/// Sets a `user.` extended attribute; false when the filesystem does not support them.
fn set_xattr(path: &str, name: &str, value: &[u8]) -> bool {
    let (p, n) = (CString::new(path).unwrap(), CString::new(name).unwrap());
    // SAFETY: valid NUL-terminated strings and a buffer of the given length.
    unsafe {
        setxattr(
            p.as_ptr(),
            n.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        ) == 0
    }
}

fn get_xattr(path: &str, name: &str) -> Option<Vec<u8>> {
    let (p, n) = (CString::new(path).unwrap(), CString::new(name).unwrap());
    let mut buf = vec![0u8; 256];
    // SAFETY: valid NUL-terminated strings and a writable buffer of the given length.
    let len = unsafe { getxattr(p.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    (len >= 0).then(|| {
        buf.truncate(len as usize);
        buf
    })
}

#[tokio::test]
async fn replacing_contents_keeps_extended_attributes_and_mode() {
    let env = Env::new();
    let copied = env.target("copied");
    let edited = env.target("edited");
    std::fs::write(&copied, "old\n").unwrap();
    std::fs::write(&edited, "TEST\n").unwrap();
    for p in [&copied, &edited] {
        std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(0o604)).unwrap();
        if !set_xattr(p, "user.drover", b"kept") {
            eprintln!("skipped: no user extended attributes on this filesystem");
            return;
        }
    }
    let r = env
        .ok("copy", json!({"content": "new\n", "dest": copied}))
        .await;
    assert!(r.changed, "{:?}", r.to_value());
    let r = env
        .ok(
            "lineinfile",
            json!({"path": edited, "regexp": "TEST", "line": "UPDATE"}),
        )
        .await;
    assert!(r.changed, "{:?}", r.to_value());
    assert_eq!(std::fs::read_to_string(&copied).unwrap(), "new\n");
    assert_eq!(std::fs::read_to_string(&edited).unwrap(), "UPDATE\n");
    for p in [&copied, &edited] {
        assert_eq!(
            get_xattr(p, "user.drover").as_deref(),
            Some(&b"kept"[..]),
            "{p}"
        );
        assert_eq!(mode_of(p), 0o604, "{p}");
    }
}

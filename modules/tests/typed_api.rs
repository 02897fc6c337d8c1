//! Modules used directly from Rust with typed parameters (no YAML, no executor).

mod common;

use common::Env;
use drover_core::module::TypedModule;
use drover_modules::files::copy::{Copy, CopyParams};
use drover_modules::files::stat::{Stat, StatParams};
use drover_modules::remote::file_attrs::FileAttrs;
use drover_modules::remote::mode::Mode;

#[tokio::test]
async fn copy_and_stat_with_typed_params() {
    let env = Env::new();
    let dest = env.target("motd");
    let params = || CopyParams {
        src: None,
        content: Some("hello from Rust\n".into()),
        dest: dest.clone(),
        attrs: FileAttrs {
            mode: Some(Mode::Octal(0o640)),
            ..FileAttrs::default()
        },
        backup: false,
        force: true,
        remote_src: false,
        validate: None,
        directory_mode: None,
        follow: false,
        local_follow: None,
        checksum: None,
        decrypt: false,
        original_basename: None,
    };
    let first = Copy
        .run_with(&env.ctx(false, false), params())
        .await
        .unwrap();
    assert!(first.changed);
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "hello from Rust\n");
    let second = Copy
        .run_with(&env.ctx(false, false), params())
        .await
        .unwrap();
    assert!(!second.changed);

    let stat = Stat
        .run_with(
            &env.ctx(false, false),
            StatParams {
                path: dest.clone(),
                follow: false,
                get_checksum: true,
                checksum_algorithm: Default::default(),
                get_mime: false,
                get_attributes: false,
            },
        )
        .await
        .unwrap();
    assert_eq!(stat.data["stat"]["mode"], "0640");
    assert_eq!(stat.data["stat"]["size"], 16);
}

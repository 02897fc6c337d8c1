//! Lookups that need no files: env, vars, pipe, lines, items, dict, password, wantlist/query.

use serde_json::json;

use super::{r, rv};
use crate::template::Templar;

#[test]
fn env_vars_pipe_lines() {
    let home = std::env::var("HOME").unwrap_or_default();
    assert_eq!(r("{{ lookup('env', 'HOME') }}"), home);
    assert_eq!(r("{{ lookup('env', 'DROVER_SURELY_UNSET_VAR') }}"), "");
    assert_eq!(rv("{{ lookup('vars', 'a') }}"), json!(42));
    assert_eq!(rv("{{ lookup('vars', 'nope', default=1) }}"), json!(1));
    assert_eq!(
        r("{{ lookup('pipe', 'echo hi; echo there') }}"),
        "hi\nthere"
    );
    assert_eq!(
        rv("{{ query('lines', 'printf \"a\\nb\\n\"') }}"),
        json!(["a", "b"])
    );
    assert_eq!(
        rv("{{ lookup('items', [1, 2], wantlist=True) }}"),
        json!([1, 2])
    );
    assert_eq!(
        rv("{{ q('dict', {'a': 1}) }}"),
        json!([{"key": "a", "value": 1}])
    );
    assert_eq!(
        r("{{ lookup('env', 'HOME', 'HOME') }}"),
        format!("{home},{home}")
    );
    assert!(super::err("{{ lookup('nonesuch', 'x') }}").contains("nonesuch"));
    assert_eq!(
        rv("{{ lookup('pipe', 'exit 3', errors='ignore') }}"),
        json!(null)
    );
}

#[test]
fn password_lookup_generates_and_stores() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("creds/pw.txt");
    let src = format!(
        "{{{{ lookup('password', '{} length=12 chars=digits') }}}}",
        path.display()
    );
    let t = Templar::new();
    let first = t.render_str(&src, &super::vars()).unwrap();
    assert_eq!(first.len(), 12);
    assert!(first.chars().all(|c| c.is_ascii_digit()), "{first}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        format!("{first}\n")
    );
    let second = t.render_str(&src, &super::vars()).unwrap();
    assert_eq!(first, second, "stored password is reused");
    let throwaway = t
        .render_str("{{ lookup('password', '/dev/null') }}", &super::vars())
        .unwrap();
    assert_eq!(throwaway.len(), 20);
}

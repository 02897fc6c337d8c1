//! Jinja tests (`is defined`, `is changed`, `is version`, ...), checked against ansible-core 2.19.

use serde_json::json;

use super::rv;
use crate::template::Templar;
use crate::vars::Value;

#[test]
fn type_tests() {
    assert_eq!(rv("{{ [1 is number, 1 is integer, 1.5 is float, 'a' is string, true is boolean, {} is mapping, [] is sequence, 'a' is iterable, none is none] }}"), json!([true, true, true, true, true, true, true, true, true]));
    assert_eq!(
        rv("{{ [1 is string, 1.5 is integer, 1 is boolean, [] is mapping] }}"),
        json!([false, false, false, false])
    );
}

#[test]
fn result_tests() {
    let mut v = super::vars();
    v.insert(
        "res".into(),
        json!({"changed": true, "failed": false, "rc": 0}),
    );
    v.insert("sk".into(), json!({"skipped": true, "changed": false}));
    let t = Templar::new();
    let e = |s: &str| t.eval_expr(s, &v).unwrap();
    assert_eq!(e("[res is changed, res is failed, res is success, res is succeeded, res is skipped, sk is skipped, sk is changed]"), json!([true, false, true, true, false, true, false]));
}

#[test]
fn version_tests() {
    assert_eq!(rv("{{ '1.2.3' is version('1.10', '<') }}"), json!(true));
    assert_eq!(
        rv("{{ '1.2.3' is version_compare('1.2.3', '==') }}"),
        json!(true)
    );
    assert_eq!(
        rv("{{ '1.0' is version('1.0.0', 'eq', strict=True) }}"),
        json!(true)
    );
    assert_eq!(
        rv("{{ '1.0.0-beta' is version('1.0.0', '<', version_type='semver') }}"),
        json!(true)
    );
    assert_eq!(rv("{{ '2.10' is version('2.9', 'gt') }}"), json!(true));
}

#[test]
fn regex_and_membership_tests() {
    assert_eq!(rv("{{ ['abc' is match('a'), 'abc' is match('b'), 'abc' is search('b'), 'abc' is regex('^a.c$'), 'ABC' is search('b', ignorecase=true)] }}"), json!([true, false, true, true, true]));
    assert_eq!(rv("{{ [[1, 2] is contains(1), 1 is in([1]), [1] is subset([1, 2]), [1, 2] is superset([2]), 'b' in 'abc'] }}"), json!([true, true, true, true, true]));
    assert_eq!(rv("{{ [[0, 1] is any, [0, 1] is all, 'yes' is truthy, '' is falsy, 'no' is truthy(convert_bool=true)] }}"), json!([true, false, true, true, false]));
}

#[test]
fn path_tests() {
    assert_eq!(rv("{{ ['/' is directory, '/' is exists, '/nonexistent-x' is exists, '/etc/hostname' is file, '/a' is abs, 'a' is abs] }}"), json!([true, true, false, std::path::Path::new("/etc/hostname").is_file(), true, false]));
    let _ = Value::Null;
}

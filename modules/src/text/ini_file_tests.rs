//! Unit tests of `ini_file`.

use super::*;
use serde_json::json;
use serde_json::Value;

fn run(v: Value, content: &str) -> (String, &'static str) {
    let mut v = v;
    v["path"] = json!("/f");
    let p: IniFileParams = serde_json::from_value(v).unwrap();
    let e = apply(&p, content);
    (e.content, e.msg)
}

const INI: &str = "# top\n[main]\nuser = root\n# port = 80\n\n[other]\nx=1\n";

#[test]
fn sets_changes_and_keeps_idempotent() {
    let v = json!({"section": "main", "option": "user", "value": "app"});
    let (out, msg) = run(v.clone(), INI);
    assert_eq!(
        out,
        "# top\n[main]\nuser = app\n# port = 80\n\n[other]\nx=1\n"
    );
    assert_eq!(msg, "option changed");
    assert_eq!(run(v, &out), (out.clone(), "OK"));
}

#[test]
fn activates_commented_options_and_adds_new_ones() {
    let v = json!({"section": "main", "option": "port", "value": "8080"});
    assert_eq!(
        run(v, INI).0,
        "# top\n[main]\nuser = root\nport = 8080\n\n[other]\nx=1\n"
    );
    let v = json!({"section": "main", "option": "group", "value": "g", "no_extra_spaces": true});
    assert_eq!(
        run(v, INI),
        (
            // After the last active line: trailing comments stay below (community.general).
            "# top\n[main]\nuser = root\ngroup=g\n# port = 80\n\n[other]\nx=1\n".into(),
            "option added"
        )
    );
}

#[test]
fn new_sections_and_removal() {
    let v = json!({"section": "new", "option": "a", "value": "1"});
    assert_eq!(
        run(v, "x = 1"),
        ("x = 1\n[new]\na = 1\n".into(), "section and option added")
    );
    let v = json!({"section": "main", "state": "absent"});
    assert_eq!(
        run(v, INI),
        ("# top\n[other]\nx=1\n".into(), "section removed")
    );
    let v = json!({"section": "other", "option": "x", "state": "absent"});
    assert_eq!(
        run(v, INI).0,
        "# top\n[main]\nuser = root\n# port = 80\n\n[other]\n"
    );
    let v = json!({"option": "g", "value": "1"});
    assert_eq!(run(v, "[s]\nx=1\n").0, "g = 1\n[s]\nx=1\n");
}

#[test]
fn multiple_values() {
    let v = json!({"section": "s", "option": "srv", "values": ["a", "b"]});
    let (out, _) = run(v.clone(), "[s]\nsrv = a\nsrv = c\nsrv = d\n");
    assert_eq!(out, "[s]\nsrv = a\nsrv = b\n");
    assert_eq!(run(v, &out).1, "OK");
}

/// Cases run through community.general 11.4.2's ini_file (the full `ansible` 12.3.0 package, by
/// hand; CI does not install it): initial file ("" for a missing one), parameters, the
/// resulting file and message.
const COMMUNITY_GENERAL_CASES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "new_section",
        "[a]\nx = 1\n",
        r#"{"section": "b", "option": "y", "value": "2"}"#,
        "[a]\nx = 1\n[b]\ny = 2\n",
        "section and option added",
    ),
    (
        "change_option",
        "[a]\nx = 1\n",
        r#"{"section": "a", "option": "x", "value": "5"}"#,
        "[a]\nx = 5\n",
        "option changed",
    ),
    (
        "same_option",
        "[a]\nx = 1\n",
        r#"{"section": "a", "option": "x", "value": "1"}"#,
        "[a]\nx = 1\n",
        "OK",
    ),
    (
        "remove_option",
        "[a]\nx = 1\ny = 2\n",
        r#"{"section": "a", "option": "x", "state": "absent"}"#,
        "[a]\ny = 2\n",
        "option changed",
    ),
    (
        "remove_section",
        "[a]\nx = 1\n[b]\ny = 2\n",
        r#"{"section": "a", "state": "absent"}"#,
        "[b]\ny = 2\n",
        "section removed",
    ),
    (
        "no_extra_spaces",
        "[a]\n",
        r#"{"section": "a", "option": "k", "value": "v", "no_extra_spaces": true}"#,
        "[a]\nk=v\n",
        "option added",
    ),
    (
        "allow_no_value",
        "[a]\n",
        r#"{"section": "a", "option": "flag", "allow_no_value": true}"#,
        "[a]\nflag\n",
        "option added",
    ),
    (
        "values_list",
        "[a]\nv = 1\nv = 9\n",
        r#"{"section": "a", "option": "v", "values": ["1", "2"], "state": "present"}"#,
        "[a]\nv = 1\nv = 2\n",
        "option changed",
    ),
    (
        "values_exclusive_false",
        "[a]\nv = 1\nv = 9\n",
        r#"{"section": "a", "option": "v", "values": ["2"], "exclusive": false}"#,
        "[a]\nv = 1\nv = 9\nv = 2\n",
        "option added",
    ),
    (
        "values_absent",
        "[a]\nv = 1\nv = 2\nv = 3\n",
        r#"{"section": "a", "option": "v", "values": ["2"], "state": "absent", "exclusive": false}"#,
        "[a]\nv = 1\nv = 3\n",
        "option changed",
    ),
    (
        "create_missing",
        "",
        r#"{"section": "a", "option": "x", "value": "1"}"#,
        "\n[a]\nx = 1\n",
        "section and option added",
    ),
    (
        "comments_kept",
        "# top\n[a]\n; note\nx = 1 ; inline\n",
        r#"{"section": "a", "option": "x", "value": "2"}"#,
        "# top\n[a]\n; note\nx = 2\n",
        "option changed",
    ),
    (
        "duplicate_options",
        "[a]\nx = 1\nx = 2\n",
        r#"{"section": "a", "option": "x", "value": "3"}"#,
        "[a]\nx = 3\n",
        "option changed",
    ),
    (
        "ignore_spaces",
        "[a]\nx=1\n",
        r#"{"section": "a", "option": "x", "value": "1", "ignore_spaces": true}"#,
        "[a]\nx=1\n",
        "OK",
    ),
    (
        "no_ignore_spaces",
        "[a]\nx=1\n",
        r#"{"section": "a", "option": "x", "value": "1"}"#,
        "[a]\nx = 1\n",
        "option changed",
    ),
    (
        "modify_inactive",
        "[a]\n# x = 1\n",
        r#"{"section": "a", "option": "x", "value": "2", "modify_inactive_option": true}"#,
        "[a]\nx = 2\n",
        "option changed",
    ),
    (
        "no_modify_inactive",
        "[a]\n# x = 1\n",
        r#"{"section": "a", "option": "x", "value": "2", "modify_inactive_option": false}"#,
        "[a]\nx = 2\n# x = 1\n",
        "option added",
    ),
    (
        "global_section",
        "x = 1\n[a]\ny = 2\n",
        r#"{"section": null, "option": "x", "value": "3"}"#,
        "x = 3\n[a]\ny = 2\n",
        "option changed",
    ),
    (
        "no_trailing_newline",
        "[a]\nx = 1",
        r#"{"section": "b", "option": "y", "value": "2"}"#,
        "[a]\nx = 1\n[b]\ny = 2\n",
        "section and option added",
    ),
    (
        "empty_file_new",
        "",
        r#"{"section": "a", "option": "x", "value": "1"}"#,
        "\n[a]\nx = 1\n",
        "section and option added",
    ),
    (
        "remove_missing_section",
        "[a]\nx = 1\n",
        r#"{"section": "z", "state": "absent"}"#,
        "[a]\nx = 1\n",
        "OK",
    ),
    (
        "option_absent_all_values",
        "[a]\nv = 1\nv = 2\n",
        r#"{"section": "a", "option": "v", "state": "absent"}"#,
        "[a]\n",
        "option changed",
    ),
];

#[test]
fn matches_community_general() {
    for (name, before, params, after, msg) in COMMUNITY_GENERAL_CASES {
        let v: Value = serde_json::from_str(params).unwrap();
        assert_eq!(run(v, before), (after.to_string(), *msg), "case {name}");
    }
}

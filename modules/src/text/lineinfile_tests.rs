//! Unit tests of `lineinfile`.

use super::*;
use serde_json::json;
use serde_json::Value;

fn params(v: Value) -> LineinfileParams {
    serde_json::from_value(v).unwrap()
}

fn present(v: Value, content: &str) -> (String, String) {
    let e = PresentEdit::new(&params(v))
        .unwrap()
        .apply(content.as_bytes());
    (String::from_utf8(e.content).unwrap(), e.msg)
}

#[test]
fn empty_patterns_are_warned_about_as_in_ansible_core() {
    let w = |v: Value| empty_pattern_warning(&params(v));
    let re = w(json!({"path": "/f", "regexp": "", "line": "x"})).unwrap();
    assert_eq!(
        re,
        "The regular expression is an empty string, which will match every line in the file. \
         This may have unintended consequences, such as replacing the last line in the file \
         rather than appending. If this is desired, use '^' to match every line in the file \
         and avoid this warning."
    );
    let ss = w(json!({"path": "/f", "search_string": "", "line": "x"})).unwrap();
    assert_eq!(
        ss,
        "The search string is an empty string, which will match every line in the file. \
         This may have unintended consequences, such as replacing the last line in the file \
         rather than appending."
    );
    assert_eq!(w(json!({"path": "/f", "regexp": "^", "line": "x"})), None);
    assert_eq!(w(json!({"path": "/f", "line": "x"})), None);
}

#[test]
fn adds_at_end_and_is_idempotent() {
    let p = json!({"path": "/f", "line": "c=3"});
    assert_eq!(
        present(p.clone(), "a\nb"),
        ("a\nb\nc=3\n".into(), "line added".into())
    );
    assert_eq!(
        present(p.clone(), "a\nc=3\nb\n"),
        ("a\nc=3\nb\n".into(), "".into())
    );
    assert_eq!(present(p, ""), ("c=3\n".into(), "line added".into()));
}

#[test]
fn regexp_replaces_last_match_or_first_with_firstmatch() {
    let p = json!({"path": "/f", "regexp": "^port=", "line": "port=22"});
    assert_eq!(
        present(p, "port=1\nx\nport=2\n"),
        ("port=1\nx\nport=22\n".into(), "line replaced".into())
    );
    let p = json!({"path": "/f", "regexp": "^port=", "line": "port=22", "firstmatch": true});
    assert_eq!(present(p, "port=1\nport=2\n").0, "port=22\nport=2\n");
}

#[test]
fn regexp_without_match_inserts_after_pattern() {
    let p = json!({"path": "/f", "regexp": "^b=", "line": "b=2", "insertafter": "^\\[s\\]"});
    assert_eq!(
        present(p, "[s]\na=1\n[t]\n"),
        ("[s]\nb=2\na=1\n[t]\n".into(), "line added".into())
    );
}

#[test]
fn insertbefore_and_bof() {
    let p = json!({"path": "/f", "line": "new", "insertbefore": "^x"});
    assert_eq!(present(p, "a\nx\nx\n").0, "a\nx\nnew\nx\n");
    let p = json!({"path": "/f", "line": "new", "insertbefore": "^x", "firstmatch": true});
    assert_eq!(present(p, "a\nx\nx\n").0, "a\nnew\nx\nx\n");
    let p = json!({"path": "/f", "line": "new", "insertbefore": "BOF"});
    assert_eq!(present(p, "a\n").0, "new\na\n");
    let p = json!({"path": "/f", "line": "new", "insertafter": "BOF"});
    assert_eq!(present(p, "a\n").0, "new\na\n");
    // An unmatched insertbefore pattern appends.
    let p = json!({"path": "/f", "line": "new", "insertbefore": "^zz"});
    assert_eq!(present(p, "a\n").0, "a\nnew\n");
}

#[test]
fn insertafter_does_not_duplicate_the_next_line() {
    let p = json!({"path": "/f", "line": "b", "insertafter": "^a"});
    assert_eq!(present(p.clone(), "a\nb\n"), ("a\nb\n".into(), "".into()));
    // ansible-core 2.19 gives exactly this (no newline added after the last line).
    assert_eq!(present(p, "a").0, "ab\n");
}

/// Cases whose expected results come from ansible-core 2.19 run on the same input.
#[test]
fn matches_ansible_core_outputs() {
    let cases = [
        (
            json!({"line": "b", "insertafter": "^a"}),
            "a\nb",
            "a\nb\n",
            "line replaced",
        ),
        (
            json!({"line": "c", "insertbefore": "^b"}),
            "a\nb",
            "a\nc\nb",
            "line added",
        ),
        (
            json!({"line": "z"}),
            "x\r\ny\r\n",
            "x\r\ny\r\nz\n",
            "line added",
        ),
        (
            json!({"regexp": "^k=(\\d+)(.*)$", "line": "k=\\g<1>0\\2", "backrefs": true}),
            "k=1 # c\n",
            "k=10 # c\n",
            "line replaced",
        ),
        (
            json!({"regexp": "^\\s*listen\\s+80;\\s*$", "line": "  listen 8080;"}),
            "server {\n  listen 80;\n}\n",
            "server {\n  listen 8080;\n}\n",
            "line replaced",
        ),
        (
            json!({"line": "b", "insertafter": "EOF", "regexp": "^nomatch"}),
            "a\n",
            "a\nb\n",
            "line added",
        ),
        (
            json!({"line": "b", "insertbefore": "BOF"}),
            "",
            "b\n",
            "line added",
        ),
        (
            json!({"regexp": "^#?b", "line": "b", "insertafter": "^zz"}),
            "a\n#b\n",
            "a\nb\n",
            "line replaced",
        ),
    ];
    for (mut args, input, output, msg) in cases {
        args["path"] = json!("/f");
        assert_eq!(
            present(args.clone(), input),
            (output.to_string(), msg.to_string()),
            "{args}"
        );
    }
}

#[test]
fn backrefs_expand_or_do_nothing() {
    let p = json!({"path": "/f", "regexp": "^(\\w+)=(.*)$", "line": "\\1 = \\2", "backrefs": true});
    assert_eq!(
        present(p.clone(), "a=1\n"),
        ("a = 1\n".into(), "line replaced".into())
    );
    assert_eq!(
        present(p, "nothing here\n"),
        ("nothing here\n".into(), "".into())
    );
}

#[test]
fn search_string_is_literal() {
    let p = json!({"path": "/f", "search_string": "a.b(", "line": "x"});
    assert_eq!(present(p.clone(), "a.b(1)\naxb(\n").0, "x\naxb(\n");
}

#[test]
fn missing_final_newline_gets_one_when_replacing() {
    let p = json!({"path": "/f", "line": "b"});
    assert_eq!(
        present(p, "a\nb"),
        ("a\nb\n".into(), "line replaced".into())
    );
}

#[test]
fn absent_counts_removed_lines() {
    let re = compile("^#", false, false).unwrap();
    let e = apply_absent(b"#a\nb\n#c\n", Some(&re), None, None);
    assert_eq!(e.content, b"b\n");
    assert_eq!(e.msg, "2 line(s) removed");
    let e = apply_absent(b"a\nb\n", None, None, Some(b"b"));
    assert_eq!((e.content.as_slice(), e.found), (&b"a\n"[..], 1));
    let e = apply_absent(b"a\n", None, Some(b"zz"), None);
    assert!(!e.changed && e.msg.is_empty());
}

#[test]
fn bad_parameters_are_reported() {
    let p = params(json!({"path": "/f", "regexp": "x", "backrefs": true}));
    assert_eq!(
        PresentEdit::new(&p).unwrap_err(),
        "line is required with state=present"
    );
    let p = params(json!({"path": "/f", "line": "x", "backrefs": true, "search_string": "y"}));
    assert!(PresentEdit::new(&p)
        .unwrap_err()
        .contains("regexp is required"));
}

//! Template files (`template` module): whitespace rules, `#jinja2:` header, newline handling,
//! includes and lookups. Expected bytes were produced by ansible-core 2.19's template module.

use std::path::PathBuf;

use serde_json::json;

use crate::template::{Templar, TemplateContext, TemplateFileOptions};
use crate::vars::{Value, Vars};

fn xvars() -> Vars {
    match json!({"x": "X", "c": 42}) {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

const LOOP: &str = "line1\n{% for i in [1,2] %}\n  item {{ i }}\n  {% if i == 2 %}\n  two\n  {% endif %}\n{% endfor %}\nend {{ x }}\n";

#[test]
fn ansible_defaults_trim_blocks_and_keep_trailing_newline() {
    let out = Templar::new()
        .render_template_file(LOOP, "t1.j2", &xvars())
        .unwrap();
    assert_eq!(out, "line1\n  item 1\n    item 2\n    two\n  end X\n");
    let out = Templar::new()
        .render_template_file("no newline {{ x }}", "t3.j2", &xvars())
        .unwrap();
    assert_eq!(out, "no newline X");
}

#[test]
fn trailing_newlines_of_the_source_are_restored() {
    let t = Templar::new();
    let vars = match json!({"v": "a\n\n"}) {
        Value::Object(m) => m,
        _ => unreachable!(),
    };
    let render = |src: &str| t.render_template_file(src, "t.j2", &vars).unwrap();
    // trim_blocks eats the newline after the last tag; ansible-core appends it back
    assert_eq!(render("x {% if true %}y{% endif %}\n"), "x y\n");
    assert_eq!(
        render("{% for i in [1] %}\n  x\n  {% endfor %}\n"),
        "  x\n  \n"
    );
    // the output already ends with more newlines than the source: nothing added
    assert_eq!(render("{{ v }}\n"), "a\n\n");
    assert_eq!(
        render("#jinja2: keep_trailing_newline: True\nx {% if true %}y{% endif %}\n\n"),
        "x y\n\n"
    );
    let opts = TemplateFileOptions {
        newline_sequence: "\r\n".into(),
        ..Default::default()
    };
    let out = t
        .render_template_file_with(
            "{% for i in [1] %}\n  x\n  {% endfor %}\n",
            "t.j2",
            &vars,
            &opts,
            None,
        )
        .unwrap();
    assert_eq!(out, "  x\r\n  \r\n");
}

#[test]
fn jinja2_header_overrides_options() {
    let src = format!(
        "#jinja2: trim_blocks: False, lstrip_blocks: True\n{}\n",
        LOOP.replace(" {{ x }}", "")
    );
    let out = Templar::new()
        .render_template_file(&src, "t2.j2", &xvars())
        .unwrap();
    assert_eq!(out, "line1\n\n  item 1\n\n\n  item 2\n\n  two\n\n\nend\n\n");
}

#[test]
fn jinja2_header_line_statements_and_errors() {
    let t = Templar::new();
    let src = "#jinja2: line_statement_prefix:\":\"\n: if true\nfoo\n: endif\n";
    assert_eq!(
        t.render_template_file(src, "l.j2", &xvars()).unwrap(),
        "foo\n"
    );
    let e = t
        .render_template_file("#jinja2: lstrip_blocks=True\n", "s.j2", &xvars())
        .unwrap_err();
    assert!(e.to_string().contains("Missing key-value separator"), "{e}");
}

#[test]
fn crlf_templates_render_with_newline_sequence() {
    let t = Templar::new();
    let out = t
        .render_template_file("a\r\nb {{ x }}\r\n", "t4.j2", &xvars())
        .unwrap();
    assert_eq!(out, "a\nb X\n");
    let opts = TemplateFileOptions {
        newline_sequence: "\r\n".into(),
        ..Default::default()
    };
    let out = t
        .render_template_file_with("a\nb {{ x }}\n", "t5.j2", &xvars(), &opts, None)
        .unwrap();
    assert_eq!(out, "a\r\nb X\r\n");
}

#[test]
fn custom_delimiters() {
    let opts = TemplateFileOptions {
        variable_start_string: "[[".into(),
        variable_end_string: "]]".into(),
        ..Default::default()
    };
    let out = Templar::new()
        .render_template_file_with(
            "{{ keep }} [[ x ]] [[ '%s!' % c ]]\n",
            "t.j2",
            &xvars(),
            &opts,
            None,
        )
        .unwrap();
    assert_eq!(out, "{{ keep }} X 42!\n");
}

#[test]
fn errors_name_the_file_and_line() {
    let e = Templar::new()
        .render_template_file("ok\n{{ nope }}\n", "roles/x/templates/a.j2", &xvars())
        .unwrap_err();
    assert!(e.message.contains("'nope' is undefined"), "{}", e.message);
    assert!(e.message.contains("a.j2, line 2"), "{}", e.message);
}

#[test]
fn includes_and_file_lookups_use_search_paths() {
    let dir = tempfile::tempdir().unwrap();
    let base: PathBuf = dir.path().to_path_buf();
    std::fs::create_dir_all(base.join("templates")).unwrap();
    std::fs::create_dir_all(base.join("files")).unwrap();
    std::fs::write(base.join("templates/inc.j2"), "inc {{ x }}").unwrap();
    std::fs::write(base.join("templates/look.j2"), "looked {{ c }}\n").unwrap();
    std::fs::write(base.join("files/data.txt"), "data\n\n").unwrap();
    let ctx = TemplateContext::with_search_paths(vec![base.clone()]);
    let t = Templar::new();
    let out = t
        .render_template_file_with(
            "[{% include 'inc.j2' %}]\n",
            "m.j2",
            &xvars(),
            &TemplateFileOptions::default(),
            Some(&ctx),
        )
        .unwrap();
    assert_eq!(out, "[inc X]\n");
    assert_eq!(
        t.render_str_in("{{ lookup('file', 'data.txt') }}", &xvars(), Some(&ctx))
            .unwrap(),
        "data"
    );
    assert_eq!(
        t.render_str_in("{{ lookup('template', 'look.j2') }}", &xvars(), Some(&ctx))
            .unwrap(),
        "looked 42\n"
    );
    let found = t
        .render_str_in(
            "{{ lookup('first_found', ['nope.txt', 'data.txt']) }}",
            &xvars(),
            Some(&ctx),
        )
        .unwrap();
    assert!(found.ends_with("/files/data.txt"), "{found}");
    let globbed = t
        .render_value_in(
            &json!("{{ query('fileglob', '*.txt') }}"),
            &xvars(),
            Some(&ctx),
        )
        .unwrap();
    assert_eq!(globbed.as_array().map(Vec::len), Some(1), "{globbed}");
    let e = t
        .render_str_in("{{ lookup('file', 'absent.txt') }}", &xvars(), Some(&ctx))
        .unwrap_err();
    assert!(e.message.contains("absent.txt"), "{}", e.message);
    assert_eq!(
        t.render_str_in(
            "{{ lookup('file', 'absent.txt', errors='ignore') }}",
            &xvars(),
            Some(&ctx)
        )
        .unwrap(),
        ""
    );
}

#[test]
fn file_and_unvault_lookups_decrypt_vault_files() {
    use crate::vault::{encrypt, install_secrets, VaultSecret, VaultSecrets, DEFAULT_LABEL};
    let secret = VaultSecret::new(DEFAULT_LABEL, "lookup-test");
    let mut secrets = VaultSecrets::new();
    secrets.push(secret.clone());
    install_secrets(secrets);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token.txt");
    std::fs::write(&path, encrypt(b"s3cret\n", &secret)).unwrap();
    let t = Templar::new();
    let file = t
        .render_str(
            &format!("[{{{{ lookup('file', '{}') }}}}]", path.display()),
            &xvars(),
        )
        .unwrap();
    assert_eq!(file, "[s3cret]");
    let unvault = t
        .render_str(
            &format!("[{{{{ lookup('unvault', '{}') }}}}]", path.display()),
            &xvars(),
        )
        .unwrap();
    assert_eq!(unvault, "[s3cret\n]");
}

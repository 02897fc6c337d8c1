//! Public templating API as the executor and modules use it.

use drover_core::template::{Templar, TemplateContext, TemplateErrorKind, TemplateFileOptions};
use drover_core::vars::{unsafe_text, Value, Vars};
use serde_json::json;

fn vars() -> Vars {
    match json!({
        "pkg": "nginx",
        "ports": [80, 443],
        "cfg": {"name": "{{ pkg }}", "debug": false},
        "maybe": "{{ undefined_thing }}",
    }) {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

#[test]
fn module_args_render_with_native_types_and_omit() {
    let t = Templar::new();
    let mut v = vars();
    v.insert("raw".into(), unsafe_text("{{ not templated }}"));
    let args = json!({
        "name": "{{ pkg }}",
        "ports": "{{ ports }}",
        "first": "{{ ports[0] }}",
        "label": "port-{{ ports | join('-') }}",
        "owner": "{{ maybe | default(omit) }}",
        "cfg": "{{ cfg }}",
        "raw": "{{ raw }}",
    });
    let out = t.render_value(&args, &v).unwrap();
    assert_eq!(
        out,
        json!({
            "name": "nginx",
            "ports": [80, 443],
            "first": 80,
            "label": "port-80-443",
            "cfg": {"name": "nginx", "debug": false},
            "raw": "{{ not templated }}",
        })
    );
}

#[test]
fn conditions_and_errors() {
    let t = Templar::new();
    let v = vars();
    assert!(t
        .eval_condition("ports | length == 2 and pkg == 'nginx'", &v)
        .unwrap());
    let ctx = TemplateContext {
        location: Some("site.yml:4:7".into()),
        ..Default::default()
    };
    let e = t
        .eval_condition_in("missing_var", &v, Some(&ctx))
        .unwrap_err();
    assert_eq!(e.kind, TemplateErrorKind::Undefined);
    assert_eq!(e.location.as_deref(), Some("site.yml:4:7"));
    assert!(e.to_string().starts_with("site.yml:4:7: "), "{e}");
    assert!(e.to_string().contains("'missing_var' is undefined"), "{e}");
}

#[test]
fn template_file_with_options() {
    let t = Templar::new();
    let opts = TemplateFileOptions {
        lstrip_blocks: true,
        ..Default::default()
    };
    let src = "{% for p in ports %}\n    {% if p > 100 %}\nlisten {{ p }};\n    {% endif %}\n{% endfor %}\n";
    let out = t
        .render_template_file_with(src, "nginx.conf.j2", &vars(), &opts, None)
        .unwrap();
    assert_eq!(out, "listen 443;\n");
}

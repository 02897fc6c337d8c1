//! Core rendering semantics: strict undefined, native types, omit, lazy variables, unsafe,
//! conditionals, `%` formatting.

use serde_json::json;

use super::{err, r, rv, vars};
use crate::template::{Templar, TemplateErrorKind, TemplateOptions};
use crate::vars::{unsafe_text, Value};

#[test]
fn undefined_variable_is_an_error_naming_it() {
    assert!(
        err("{{ missing }}").contains("'missing' is undefined"),
        "{}",
        err("{{ missing }}")
    );
    assert!(err("{% if missing %}x{% endif %}").contains("'missing' is undefined"));
    let e = Templar::new()
        .render_str("{{ missing }}", &vars())
        .unwrap_err();
    assert_eq!(e.kind, TemplateErrorKind::Undefined);
    assert!(
        e.message.contains("{{ missing }}"),
        "message quotes the template: {}",
        e.message
    );
}

#[test]
fn default_and_defined_handle_undefined() {
    assert_eq!(r("{{ missing | default('z') }}"), "z");
    assert_eq!(r("{{ missing | d('z') }}"), "z");
    assert_eq!(r("{{ bad | default('z') }}"), "z");
    assert_eq!(rv("{{ bad is defined }}"), json!(false));
    assert_eq!(rv("{{ bad is undefined }}"), json!(true));
    assert_eq!(rv("{{ missing is defined }}"), json!(false));
    assert_eq!(r("{{ 'x' | default('y') }} {{ '' | default('y') }} {{ '' | default('y', true) }} {{ none | d('y') }}"), "x  y ");
}

#[test]
fn inline_if_without_else_renders_empty_inside_text_but_cannot_be_stored_alone() {
    // Jinja2 gives a silent undefined for a false `x if cond` without `else`: '' inside text
    // (ansible-core 2.19 renders "[]"), an error when it is the whole value.
    assert_eq!(r("[{{ 'a' if false }}]"), "[]");
    assert_eq!(r("{{ 'a' if true }}-{{ 'b' if false }}"), "a-");
    let alone = Templar::new().render_value(&Value::String("{{ 'a' if false }}".into()), &vars());
    assert!(alone.is_err_and(|e| e.message.contains("undefined")));
    // A missing variable inside text is still an error.
    assert!(err("[{{ missing if true }}]").contains("'missing' is undefined"));
}

#[test]
fn nested_undefined_reports_inner_variable() {
    let e = err("{{ bad }}");
    assert!(e.contains("'missing' is undefined"), "{e}");
}

#[test]
fn native_types_for_single_expressions() {
    assert_eq!(rv("{{ [1,2] }}"), json!([1, 2]));
    assert_eq!(rv("{{ true }}"), json!(true));
    assert_eq!(rv("{{ none }}"), json!(null));
    assert_eq!(rv("{{ 1 }}"), json!(1));
    assert_eq!(rv("{{ 1.0 }}"), json!(1.0));
    assert_eq!(rv("{{ {'a': 1} }}"), json!({"a": 1}));
    assert_eq!(rv("{{ '1' }}"), json!("1"));
    assert_eq!(rv("{{ '[1,2]' }}"), json!("[1,2]"));
    assert_eq!(rv("{{ 1 }}\n"), json!(1));
    assert_eq!(rv("{{ 1 }}{# c #}"), json!(1));
    assert_eq!(rv("{% if true %}{{ [1] }}{% endif %}"), json!([1]));
    assert_eq!(rv("{{ 1 }}{{ none }}"), json!(1));
    assert_eq!(rv("{{ 3 / 2 }}"), json!(1.5));
    assert_eq!(rv("{{ 7 // 2 }}"), json!(3));
    assert_eq!(rv("{{ (1,2) }}"), json!([1, 2]));
    assert_eq!(rv("{{ d.keys() | list }}"), json!(["x", "y"]));
}

#[test]
fn macros_of_one_expression_return_its_native_value() {
    let m = "{% macro m() %}{{ {'foo': 'bar'} }}{% endmacro %}";
    assert_eq!(rv(&format!("{m}{{{{ m() }}}}")), json!({"foo": "bar"}));
    let nested = "{% macro n() %}{{ m() }}{% endmacro %}";
    assert_eq!(
        rv(&format!("{m}{nested}{{{{ n() }}}}")),
        json!({"foo": "bar"})
    );
    assert_eq!(
        rv("{% macro t() %}a{{ [1] }}{% endmacro %}{{ t() }}"),
        json!("a[1]")
    );
    assert_eq!(
        rv(&format!("{m}{{{{ m() }}}} {{{{ m() }}}}")),
        json!("{'foo': 'bar'} {'foo': 'bar'}")
    );
    assert_eq!(rv("{{ [1] }}{{ [1] | string }}"), json!("[1][1]"));
}

#[test]
fn mixed_text_renders_python_style() {
    assert_eq!(rv(" {{ 1 }} "), json!(" 1 "));
    assert_eq!(rv("{{ '1' }}{{ '2' }}"), json!("12"));
    assert_eq!(rv("{{ 1 }}{{ 2 }}"), json!("12"));
    assert_eq!(r("x{{ [1,\"a\"] }}"), "x[1, 'a']");
    assert_eq!(r("a{{ true }}{{ none }}"), "aTrue");
    assert_eq!(
        r("x{{ {'a': none, 'b': true, 'c': 1.5} }}"),
        "x{'a': None, 'b': True, 'c': 1.5}"
    );
    assert_eq!(r("x{{ 0.1 + 0.2 }}"), "x0.30000000000000004");
    assert_eq!(r("x{{ 1e20 }}"), "x1e+20");
    assert_eq!(r("x{{ 1.0 }}"), "x1.0");
    assert_eq!(r("x{{ d }}"), "x{'x': 1, 'y': 42}");
}

#[test]
fn lazy_variables_render_recursively() {
    assert_eq!(rv("{{ a }}"), json!(42));
    assert_eq!(rv("{{ d }}"), json!({"x": 1, "y": 42}));
    assert_eq!(rv("{{ d.y + 1 }}"), json!(43));
    assert_eq!(rv("{{ vars['a'] }}"), json!(42));
    let e = Templar::new()
        .render_str("{{ loop1 }}", &vars())
        .unwrap_err();
    assert!(
        e.message.contains("recursive loop detected in template"),
        "{}",
        e.message
    );
}

#[test]
fn omit_drops_map_entries_and_list_items() {
    let t = Templar::new();
    let v = json!({"a": "{{ omit }}", "b": "x{{ omit }}", "c": ["{{ omit }}", 1], "{{ 'k' }}": "{{ c }}"});
    assert_eq!(
        t.render_value(&v, &vars()).unwrap(),
        json!({"b": "x", "c": [1], "k": 42})
    );
    let e = t.render_value(&json!("{{ omit }}"), &vars()).unwrap_err();
    assert_eq!(e.kind, TemplateErrorKind::Omitted);
    assert_eq!(rv("{{ missing | default(omit) }}x"), json!("x"));
    assert_eq!(rv("{{ {'k': omit, 'j': 1} }}"), json!({"j": 1}));
    assert_eq!(rv("{{ [omit, 2] }}"), json!([2]));
}

#[test]
fn unsafe_values_are_never_templated() {
    let mut v = vars();
    v.insert("u".into(), unsafe_text("{{ c }}"));
    let t = Templar::new();
    assert_eq!(t.render_str("{{ u }}", &v).unwrap(), "{{ c }}");
    assert_eq!(
        t.render_value(&unsafe_text("{{ c }}"), &v).unwrap(),
        json!("{{ c }}")
    );
    assert_eq!(
        t.render_value(&json!({"k": unsafe_text("{{ x }}")}), &v)
            .unwrap(),
        json!({"k": "{{ x }}"})
    );
    assert_eq!(t.eval_expr("u ~ '!'", &v).unwrap(), json!("{{ c }}!"));
}

#[test]
fn eval_expr_returns_native_values() {
    let t = Templar::new();
    assert_eq!(
        t.eval_expr("lst | sort", &vars()).unwrap(),
        json!([1, 2, 3])
    );
    assert_eq!(t.eval_expr("c > 40", &vars()).unwrap(), json!(true));
    assert_eq!(
        t.eval_expr("users | map(attribute='name') | list", &vars())
            .unwrap(),
        json!(["bob", "al"])
    );
    assert_eq!(t.eval_expr("none", &vars()).unwrap(), json!(null));
}

#[test]
fn conditionals_follow_ansible_2_19() {
    let t = Templar::new();
    let v = vars();
    assert!(t.eval_condition("c == 42", &v).unwrap());
    assert!(!t.eval_condition("c != 42", &v).unwrap());
    assert!(t.eval_condition("bad is undefined", &v).unwrap());
    assert!(t.eval_condition("{{ c == 42 }}", &v).unwrap());
    let e = t.eval_condition("missing", &v).unwrap_err();
    assert!(
        e.message.contains("'missing' is undefined"),
        "{}",
        e.message
    );
    let e = t.eval_condition("s", &v).unwrap_err();
    assert_eq!(e.kind, TemplateErrorKind::BrokenConditional);
    assert!(e.message.contains("value of type 'str'"), "{}", e.message);
    let e = t.eval_condition("{{ sy }}", &v).unwrap_err();
    assert!(e.message.contains("'yes' is undefined"), "{}", e.message);
    let lenient = Templar::with_options(TemplateOptions {
        allow_broken_conditionals: true,
        ..Default::default()
    });
    assert!(lenient.eval_condition("lst", &v).unwrap());
    assert!(!lenient.eval_condition("0", &v).unwrap());
}

#[test]
fn percent_formatting() {
    assert_eq!(r("{{ '%s-%d' % ('a', 3) }}"), "a-3");
    assert_eq!(r("{{ '%s' % c }}"), "42");
    assert_eq!(r("{{ '%05.2f' % 3.14159 }}"), "03.14");
    assert_eq!(r("{{ '%-4s|' % 'ab' }}"), "ab  |");
    assert_eq!(
        r("{{ '%x %o %e' % (255, 8, 12345.678) }}"),
        "ff 10 1.234568e+04"
    );
    assert_eq!(r("{{ '%(n)s=%(v)d' % {'n': 'a', 'v': 2} }}"), "a=2");
    assert_eq!(r("{{ '%s' % [1, 'a'] }}"), "[1, 'a']");
    assert_eq!(r("{{ '%g %g' % (0.0001, 1e20) }}"), "0.0001 1e+20");
    assert_eq!(r("{{ '100%%' % () }}"), "100%");
    assert_eq!(r("{{ c % 5 }}"), "2");
    assert_eq!(r("{% set x = '%03d' % c %}{{ x }}"), "042");
}

#[test]
fn python_methods_work() {
    assert_eq!(r("{{ d.get('x') }} {{ d.get('z', 'no') }}"), "1 no");
    assert_eq!(rv("{{ d.items() | list }}"), json!([["x", 1], ["y", 42]]));
    assert_eq!(rv("{{ 'a b'.split() }}"), json!(["a", "b"]));
    assert_eq!(
        r("{{ 'abc'.startswith('a') }} {{ 'abc'.endswith('bc') }} {{ ' x '.strip() }}"),
        "True True x"
    );
    assert_eq!(
        r("{{ '{} {}'.format(1, 'x') }} {{ 'ab'.upper() }} {{ 'aXa'.replace('a', 'b') }}"),
        "1 x AB bXb"
    );
    assert_eq!(r("{{ lst.index(1) }}"), "1");
}

#[test]
fn mixed_render_value_is_recursive_over_lists_and_keys() {
    let t = Templar::new();
    let v = json!(["{{ c }}", {"n": "{{ lst }}"}, 3, null, "plain"]);
    assert_eq!(
        t.render_value(&v, &vars()).unwrap(),
        json!([42, {"n": [3, 1, 2]}, 3, null, "plain"])
    );
}

#[test]
fn compiled_templates_are_cached_and_cache_is_bounded() {
    let t = Templar::with_options(TemplateOptions {
        cache_limit: 16,
        ..Default::default()
    });
    for i in 0..100 {
        assert_eq!(
            t.render_str(&format!("{{{{ {i} + c }}}}"), &vars())
                .unwrap(),
            (i + 42).to_string()
        );
    }
    assert_eq!(t.render_str("{{ c }}", &vars()).unwrap(), "42");
}

#[test]
fn non_templates_are_returned_unchanged() {
    let t = Templar::new();
    assert_eq!(t.render_str("plain text", &vars()).unwrap(), "plain text");
    assert_eq!(
        t.render_value(&json!("a } b"), &vars()).unwrap(),
        json!("a } b")
    );
    assert!(Templar::is_template("{{ x }}"));
    assert!(Templar::is_template("{% if %}"));
    assert!(!Templar::is_template("{ x }"));
}

#[test]
fn syntax_errors_are_reported_with_template_text() {
    let e = Templar::new().render_str("{{ 1 + }}", &vars()).unwrap_err();
    assert_eq!(e.kind, TemplateErrorKind::Syntax);
    assert!(e.message.contains("{{ 1 + }}"), "{}", e.message);
    let e = Templar::new()
        .render_str("{{ 1 | nope }}", &vars())
        .unwrap_err();
    assert!(
        e.message.contains("no filter named 'nope'"),
        "{}",
        e.message
    );
}

#[test]
fn value_is_not_copied_between_renders() {
    // the same Templar renders different variable sets independently
    let t = Templar::new();
    let mut v1 = vars();
    v1.insert("c".into(), json!(1));
    assert_eq!(t.render_str("{{ a }}", &v1).unwrap(), "1");
    assert_eq!(t.render_str("{{ a }}", &vars()).unwrap(), "42");
    let _ = Value::Null;
}

#[test]
fn undefined_carries_along_attribute_and_item_lookups() {
    // ansible-core 2.19: an attribute or item of an undefined value is undefined, so only
    // using it fails, naming the first undefined variable.
    assert_eq!(r("{{ nope.x | default(1) }}"), "1");
    assert_eq!(r("{{ nope['x'] | default('d') }}"), "d");
    assert_eq!(r("{{ (nope.x.y) | default('d') }}"), "d");
    assert_eq!(r("{{ d.missing.y | default('d') }}"), "d");
    assert_eq!(r("{{ bad.x | default('d') }}"), "d");
    for src in [
        "{{ d['missing']['y'] | default('d') }}",
        "{{ d['missing'].y | default('d') }}",
        "{{ users[5].name | default('d') }}",
        "{{ users[0].nope.x | default('d') }}",
        "{{ nope.x|d('d') }}",
        "{{ nope . x | default('d') }}",
        "{{ users.5.name | default('d') }}",
        "{{ users.0.nope.x | default('d') }}",
    ] {
        assert_eq!(r(src), "d", "{src}");
    }
    assert_eq!(rv("{{ d.nope.x is defined }}"), json!(false));
    assert_eq!(rv("{{ nope.x is defined }}"), json!(false));
    assert_eq!(rv("{{ nope.x is undefined }}"), json!(true));
    assert_eq!(rv("{{ nope[0].x is not defined }}"), json!(true));
    assert_eq!(rv("{{ users.5.name is not defined }}"), json!(true));
    assert!(Templar::new()
        .eval_condition("nope.x is not defined", &vars())
        .unwrap());
    for used in [
        "{{ nope.x }}",
        "{{ nope.x + 1 }}",
        "{{ nope.x | int }}",
        "{% for i in nope.x %}{% endfor %}",
        "{{ nope.x | mandatory }}",
        "{{ nope.x or 'a' }}",
        "{% if nope.x %}a{% endif %}",
        "{{ nope.x | default(1) }}{{ nope.x | upper }}",
        "{{ nope.x ~ 'a' }}",
    ] {
        let e = err(used);
        assert!(e.contains("'nope' is undefined"), "{used}: {e}");
    }
    let e = err("{{ bad.x }}");
    assert!(e.contains("'missing' is undefined"), "{e}");
}

#[test]
fn multibyte_text_inside_a_tag_is_an_error_not_a_panic() {
    // Found by the fuzz harness: the region scanner sliced inside a multi-byte character.
    let e = err("{% for x in [1] %}\n{%\u{fffd}endfor %}\n");
    assert!(!e.is_empty());
}

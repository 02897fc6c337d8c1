//! String-literal escapes as ansible-core 2.19 treats them (issue 12): literals inside `{{ }}` of
//! inline templates keep their text; statements, bare expressions, conditionals and template
//! files decode Python escapes.

use serde_json::json;

use super::{r, rv, vars};
use crate::template::Templar;

#[test]
fn expression_literals_keep_backslashes() {
    // what `"{{ ... '\\1.\\2' }}"` in a double-quoted YAML scalar reaches the templar as
    assert_eq!(
        r(r"{{ 'a1b22' | regex_replace('a(\d)b(\d+)', '\1.\2') }}"),
        "1.22"
    );
    assert_eq!(rv(r"{{ 'x\ny' | length }}"), json!(4));
    assert_eq!(r(r"{{ 'it\'s' }}"), r"it\'s");
    // a lazily rendered variable is an inline template too
    let mut v = vars();
    v.insert(
        "re".into(),
        json!(r"{{ 'k=v' | regex_replace('(\w)=(\w)', '\2=\1') }}"),
    );
    assert_eq!(Templar::new().render_str("{{ re }}", &v).unwrap(), "v=k");
}

#[test]
fn statements_expressions_and_files_decode_python_escapes() {
    assert_eq!(r(r"{% set z = 'x\ny' %}{{ z | length }}"), "3");
    assert_eq!(r(r"{% set z = '\x41\101\u00e9' %}{{ z }}"), "AAé");
    let t = Templar::new();
    assert_eq!(t.eval_expr(r"'x\ny' | length", &vars()).unwrap(), json!(3));
    assert!(t
        .eval_condition(r"'x\ny' is search('\n')", &vars())
        .unwrap());
    assert!(t.eval_condition(r"'\1' == '\x01'", &vars()).unwrap());
    let file = t
        .render_template_file(r"{{ 'a\tb' }}", "t.j2", &vars())
        .unwrap();
    assert_eq!(file, "a\tb");
    assert!(t.render_str(r"{% set z = '\x4' %}", &vars()).is_err());
}

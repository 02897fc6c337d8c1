//! Filter outputs, checked against ansible-core 2.19.

use serde_json::json;

use super::{err, r, rv};

#[test]
fn json_filters() {
    assert_eq!(
        r("{{ {'b': 1, 'a': [1, 'x', none, true]} | to_json }}"),
        r#"{"b": 1, "a": [1, "x", null, true]}"#
    );
    assert_eq!(
        r("{{ {'b': 1, 'a': [1, 'x', none, true]} | to_nice_json }}"),
        "{\n    \"a\": [\n        1,\n        \"x\",\n        null,\n        true\n    ],\n    \"b\": 1\n}"
    );
    assert_eq!(
        r("{{ {'b': 1, 'a': {'c': [], 'd': {}}} | to_nice_json(indent=2) }}"),
        "{\n  \"a\": {\n    \"c\": [],\n    \"d\": {}\n  },\n  \"b\": 1\n}"
    );
    assert_eq!(
        r("{{ {'b': 1, 'a': 2} | to_json(sort_keys=true) }}"),
        r#"{"a": 2, "b": 1}"#
    );
    assert_eq!(r("{{ 'é' | to_json }}"), r#""\u00e9""#);
    assert_eq!(r("{{ 1.5 | to_json }}"), "1.5");
    assert_eq!(rv("{{ '{\"a\": 1.0}' | from_json }}"), json!({"a": 1.0}));
}

#[test]
fn yaml_filters() {
    assert_eq!(
        r("{{ {'b': 1, 'a': [1, 'x', none, true], 'c': {}} | to_yaml }}"),
        "a: [1, x, null, true]\nb: 1\nc: {}\n"
    );
    assert_eq!(
        r("{{ {'b': 1, 'a': [1, 'x', none, true], 'c': {'z': 'yes', 'e': ''}} | to_nice_yaml }}"),
        "a:\n- 1\n- x\n- null\n- true\nb: 1\nc:\n    e: ''\n    z: 'yes'\n"
    );
    assert_eq!(r("{{ ['a', 'b'] | to_nice_yaml }}"), "- a\n- b\n");
    assert_eq!(r("{{ 'x' | to_yaml }}"), "x\n");
    assert_eq!(
        r("{{ [{'a': 1, 'b': [1, 2]}, [1, [2]], 'x'] | to_nice_yaml }}"),
        "-   a: 1\n    b:\n    - 1\n    - 2\n-   - 1\n    -   - 2\n- x\n"
    );
    assert_eq!(
        r("{{ [{'a': 1, 'b': [1, 2]}, [1, [2]], 'x'] | to_yaml }}"),
        "- a: 1\n  b: [1, 2]\n- - 1\n  - [2]\n- x\n"
    );
    assert_eq!(
        r("{{ {'s': 'a\nb', 'u': 'a: b', 'v': '- x', 'w': '1.0', 'x': '0644', 'y': 'null', 'z': 'é', 'k': ' lead', 'm': 'x #y', 'n': '@x', 'o': 'a,b', 'p': '[x]', 'r': '~', 'e': 'y', 'f': 'N', '1': 2, 'g': '=', 'h': '2001-12-14'} | to_nice_yaml }}"),
        "'1': 2\ne: y\nf: N\ng: '='\nh: '2001-12-14'\nk: ' lead'\nm: 'x #y'\nn: '@x'\no: a,b\np: '[x]'\nr: '~'\ns: 'a\n\n    b'\nu: 'a: b'\nv: '- x'\nw: '1.0'\nx: '0644'\ny: 'null'\nz: é\n"
    );
    assert_eq!(
        r("{{ {'l': 'word ' * 30} | to_nice_yaml }}"),
        "l: 'word word word word word word word word word word word word word word word word\n    word word word word word word word word word word word word word word '\n"
    );
    assert_eq!(
        r("{{ {'a': 1.0, 'b': 1e20, 'c': 0.1} | to_nice_yaml }}"),
        "a: 1.0\nb: 1.0e+20\nc: 0.1\n"
    );
    assert_eq!(
        r("{{ {'a': [1,2]} | to_nice_yaml(indent=2) }}"),
        "a:\n- 1\n- 2\n"
    );
    assert_eq!(
        rv("{{ 'a: 1\nb: [1, 2]' | from_yaml }}"),
        json!({"a": 1, "b": [1, 2]})
    );
    assert_eq!(
        rv("{{ '---\na: 1\n---\nb: 2' | from_yaml_all }}"),
        json!([{"a": 1}, {"b": 2}])
    );
}

#[test]
fn type_filters() {
    assert_eq!(rv("{{ 'yes' | bool }}"), json!(true));
    assert_eq!(rv("{{ 'off' | bool }}"), json!(false));
    assert_eq!(rv("{{ 'foo' | bool }}"), json!(false));
    assert_eq!(rv("{{ 2 | bool }}"), json!(false));
    assert_eq!(rv("{{ none | bool }}"), json!(false));
    assert_eq!(
        r("{{ 'y' | bool }} {{ 't' | bool }} {{ 1.0 | bool }}"),
        "False False True"
    );
    assert_eq!(rv("{{ '3.7' | int }}"), json!(3));
    assert_eq!(rv("{{ 'abc' | int }}"), json!(0));
    assert_eq!(rv("{{ '0x1F' | int(base=16) }}"), json!(31));
    assert!(err("{{ 'inf' | float | int }}").contains("infinite"));
    assert!(err("{{ 'inf' | int }}").contains("infinite"));
    assert_eq!(rv("{{ 'nan' | float | int }}"), json!(0));
    assert_eq!(rv("{{ 0 | round(-99999) }}"), json!(0.0));
    assert_eq!(rv("{{ 1.5 | round(400) }}"), json!(1.5));
    assert!(err("{{ 0 | round(-99999, 'ceil') }}").contains("out of range"));
    assert_eq!(rv("{{ '12' | float }}"), json!(12.0));
    assert_eq!(rv("{{ 5 | string }}"), json!("5"));
    assert_eq!(rv("{{ true | string }}"), json!("True"));
    assert_eq!(
        r("{{ 'x' | type_debug }} {{ 1 | type_debug }} {{ {} | type_debug }} {{ [] | type_debug }} {{ none | type_debug }} {{ true | type_debug }} {{ 1.5 | type_debug }}"),
        "str int dict list NoneType bool float"
    );
    assert_eq!(rv("{{ true | ternary('y', 'n') }}"), json!("y"));
    assert_eq!(rv("{{ none | ternary('y', 'n', 'z') }}"), json!("z"));
    assert_eq!(rv("{{ 'a' | mandatory }}"), json!("a"));
    assert!(super::err("{{ missing | mandatory }}").contains("Mandatory variable"));
}

#[test]
fn math_filters() {
    assert_eq!(r("{{ 1024 | human_readable }}"), "1.00 KB");
    assert_eq!(r("{{ 1048576 | human_readable(isbits=True) }}"), "1.00 Mb");
    assert_eq!(r("{{ 12345678 | human_readable(unit='M') }}"), "11.77 MB");
    assert_eq!(rv("{{ '1.5 KB' | human_to_bytes }}"), json!(1536));
    assert_eq!(
        rv("{{ '10Mb' | human_to_bytes(isbits=True) }}"),
        json!(10485760)
    );
    assert_eq!(
        r("{{ 100 | log }} {{ 100 | log(10) }} {{ 2 | pow(10) }} {{ 27 | root(3) }} {{ 16 | root }}"),
        "4.605170185988092 2.0 1024.0 3.0 4.0"
    );
    assert_eq!(r("{{ 2.5 | round }} {{ 3.14159 | round(2) }} {{ 2.5 | round(0, 'floor') }} {{ -3 | abs }}"), "2.0 3.14 2.0 3");
    assert_eq!(
        r("{{ [3, 1, 2] | min }} {{ [3, 1, 2] | max }} {{ [3, 1, 2] | sum }}"),
        "1 3 6"
    );
    assert_eq!(
        rv("{{ users | max(attribute='age') }}"),
        json!({"name": "al", "age": 5})
    );
}

#[test]
fn hash_and_encoding_filters() {
    assert_eq!(
        r("{{ 'hello' | hash('sha1') }}"),
        "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"
    );
    assert_eq!(
        r("{{ 'hello' | hash('md5') }}"),
        "5d41402abc4b2a76b9719d911017c592"
    );
    assert_eq!(
        r("{{ 'hello' | checksum }}"),
        "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"
    );
    assert_eq!(r("{{ 'hello' | b64encode }}"), "aGVsbG8=");
    assert_eq!(r("{{ 'aGVsbG8=' | b64decode }}"), "hello");
    assert_eq!(
        r("{{ 'secret' | password_hash('sha512', 'mysalt') }}"),
        "$6$rounds=656000$mysalt$cDA0t8lm/qt.LT6DzpoHxJ.NwTpx.WTkOPwhseSva8pRixDSH2./ffedCjAMbTX1Uo1QNT7jJPJ6FIzU2i59K/"
    );
    assert_eq!(
        r("{{ 'secret' | password_hash('sha256', 'mysalt') }}"),
        "$5$rounds=535000$mysalt$GnEktJhWXRuwViyPsEWK9s63HYW1GqXFqU5SdKDqol6"
    );
    assert_eq!(
        r("{{ 'secret' | password_hash('sha512', 'mysalt', rounds=10000) }}"),
        "$6$rounds=10000$mysalt$9XTP7570fxVN/uTspSrH6kRPdR4KKGzGz7.TmJjDYGrKSwZuavW/3YaLur8JX6WP75Czcxa.megIO0lKreY0R."
    );
    assert_eq!(
        r("{{ 'secret' | password_hash('md5', 'mysalt') }}"),
        "$1$mysalt$n/EfEiV74OYgBdqhKQzSW/"
    );
    let random_salt = r("{{ 'secret' | password_hash('sha512') }}");
    assert!(
        random_salt.starts_with("$6$rounds=656000$") && random_salt.len() > 100,
        "{random_salt}"
    );
}

#[test]
fn path_filters() {
    assert_eq!(r("{{ '/a/b/c.txt' | basename }}"), "c.txt");
    assert_eq!(r("{{ '/a/b/c.txt' | dirname }}"), "/a/b");
    assert_eq!(
        rv("{{ '/a/b/c.tar.gz' | splitext }}"),
        json!(["/a/b/c.tar", ".gz"])
    );
    assert_eq!(r("{{ ['/a', 'b', 'c'] | path_join }}"), "/a/b/c");
    assert_eq!(r("{{ 'a b' | quote }}"), "'a b'");
    assert_eq!(r("{{ 'abc' | quote }}"), "abc");
    assert_eq!(r("{{ '' | quote }}"), "''");
    assert_eq!(r("{{ \"it's\" | quote }}"), "'it'\"'\"'s'");
}

#[test]
fn list_filters() {
    assert_eq!(
        rv("{{ [1, [2, [3, [4]]]] | flatten }}"),
        json!([1, 2, 3, 4])
    );
    assert_eq!(
        rv("{{ [1, [2, [3, [4]]]] | flatten(levels=1) }}"),
        json!([1, 2, [3, [4]]])
    );
    assert_eq!(rv("{{ [1, 2, 2, 3] | unique }}"), json!([1, 2, 3]));
    assert_eq!(rv("{{ [1, 2] | union([2, 3]) }}"), json!([1, 2, 3]));
    assert_eq!(rv("{{ [1, 2] | intersect([2, 3]) }}"), json!([2]));
    assert_eq!(rv("{{ [1, 2] | difference([2, 3]) }}"), json!([1]));
    assert_eq!(
        rv("{{ [1, 2] | symmetric_difference([2, 3]) }}"),
        json!([1, 3])
    );
    assert_eq!(
        rv("{{ [1, 2] | zip(['a', 'b']) }}"),
        json!([[1, "a"], [2, "b"]])
    );
    assert_eq!(
        rv("{{ [1, 2, 3] | zip_longest(['a'], fillvalue='-') }}"),
        json!([[1, "a"], [2, "-"], [3, "-"]])
    );
    assert_eq!(
        rv("{{ [1, 2, 3] | product(['a', 'b']) | list }}"),
        json!([[1, "a"], [1, "b"], [2, "a"], [2, "b"], [3, "a"], [3, "b"]])
    );
    assert_eq!(
        rv("{{ [1, 2, 3] | permutations(2) | list }}"),
        json!([[1, 2], [1, 3], [2, 1], [2, 3], [3, 1], [3, 2]])
    );
    assert_eq!(
        rv("{{ [1, 2, 3] | combinations(2) | list }}"),
        json!([[1, 2], [1, 3], [2, 3]])
    );
    assert_eq!(
        rv("{{ [1,2,3,4,5] | batch(2) | list }}"),
        json!([[1, 2], [3, 4], [5]])
    );
    assert_eq!(
        rv("{{ [1,2,3,4,5] | slice(2) | list }}"),
        json!([[1, 2, 3], [4, 5]])
    );
    assert_eq!(
        rv("{{ [{'n': 2}, {'n': 1}] | sort(attribute='n') }}"),
        json!([{"n": 1}, {"n": 2}])
    );
    assert_eq!(
        rv("{{ ['a', 'b'] | map('upper') | list }}"),
        json!(["A", "B"])
    );
    assert_eq!(rv("{{ lst | map('string') }}"), json!(["3", "1", "2"]));
    assert_eq!(
        rv("{{ users | map(attribute='name') | list }}"),
        json!(["bob", "al"])
    );
    assert_eq!(
        rv("{{ users | selectattr('age', '>', 3) | list }}"),
        json!([{"name": "al", "age": 5}])
    );
    assert_eq!(
        rv("{{ users | rejectattr('age', 'gt', 3) | map(attribute='name') | list }}"),
        json!(["bob"])
    );
    assert_eq!(rv("{{ [1, 2, 3] | select('odd') | list }}"), json!([1, 3]));
    assert_eq!(rv("{{ [0, 1, '', 'a'] | select | list }}"), json!([1, "a"]));
    assert_eq!(
        rv("{{ ['a', 'b'] | map('extract', {'a': 1, 'b': 2}) | list }}"),
        json!([1, 2])
    );
    assert_eq!(rv("{{ 'a' | extract({'a': {'b': 5}}, 'b') }}"), json!(5));
    assert_eq!(r("{{ ['x', 1] | join(',') }}"), "x,1");
    assert_eq!(rv("{{ 'a,b' | split(',') }}"), json!(["a", "b"]));
    assert_eq!(
        r("{{ [1,2] | length }} {{ 'abc' | count }} {{ lst | first }} {{ lst | last }}"),
        "2 3 3 2"
    );
    assert_eq!(
        rv("{{ [{'n': 'a', 'l': [1, 2]}, {'n': 'b', 'l': [3]}] | subelements('l') }}"),
        json!([[{"n": "a", "l": [1, 2]}, 1], [{"n": "a", "l": [1, 2]}, 2], [{"n": "b", "l": [3]}, 3]])
    );
    let shuffled = rv("{{ lst | shuffle }}");
    let mut sorted: Vec<i64> = shuffled
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    sorted.sort();
    assert_eq!(sorted, vec![1, 2, 3]);
    let picked = rv("{{ lst | random }}");
    assert!([json!(1), json!(2), json!(3)].contains(&picked));
    let n = rv("{{ 10 | random(start=5, step=5) }}");
    assert_eq!(n, json!(5));
}

#[test]
fn dict_filters() {
    assert_eq!(
        rv("{{ {'a': 1, 'b': 2} | dict2items }}"),
        json!([{"key": "a", "value": 1}, {"key": "b", "value": 2}])
    );
    assert_eq!(
        rv("{{ [{'key': 'a', 'value': 1}] | items2dict }}"),
        json!({"a": 1})
    );
    assert_eq!(
        rv("{{ {'a': {'x': 1, 'l': [1]}, 'b': 2} | combine({'a': {'y': 2, 'l': [2]}}, recursive=True) }}"),
        json!({"a": {"x": 1, "l": [2], "y": 2}, "b": 2})
    );
    assert_eq!(
        rv("{{ {'a': {'x': 1, 'l': [1]}} | combine({'a': {'l': [2]}}, recursive=True, list_merge='append') }}"),
        json!({"a": {"x": 1, "l": [1, 2]}})
    );
    assert_eq!(
        rv("{{ {'a': 1} | combine({'a': 2}, {'b': 3}) }}"),
        json!({"a": 2, "b": 3})
    );
    assert_eq!(
        rv("{{ d | combine({'z': 0}) }}"),
        json!({"x": 1, "y": 42, "z": 0})
    );
    assert_eq!(rv("{{ dict(a=1) }}"), json!({"a": 1}));
}

#[test]
fn regex_filters() {
    assert_eq!(r("{{ 'abcabc' | regex_replace('b', 'X') }}"), "aXcaXc");
    assert_eq!(
        r("{{ 'ABC' | regex_replace('b', 'X', ignorecase=True) }}"),
        "AXC"
    );
    assert_eq!(
        r(r"{{ 'hello world' | regex_replace('(\w+) (\w+)', '\2 \1') }}"),
        "world hello"
    );
    assert_eq!(r("{{ 'foo123bar' | regex_search('[0-9]+') }}"), "123");
    assert_eq!(
        rv(r"{{ 'foo123bar' | regex_search('(o+)([0-9]+)', '\2', '\1') }}"),
        json!(["123", "oo"])
    );
    assert_eq!(rv("{{ 'foobar' | regex_search('z') }}"), json!(null));
    assert_eq!(
        rv("{{ 'a1b22' | regex_findall('[0-9]+') }}"),
        json!(["1", "22"])
    );
    assert_eq!(r("{{ 'a.b*c' | regex_escape }}"), "a\\.b\\*c");
}

#[test]
fn string_filters() {
    assert_eq!(r("{{ 'a\nb' | comment }}"), "#\n# a\n# b\n#");
    assert_eq!(r("{{ 'a\nb' | indent(2) }}"), "a\n  b");
    assert_eq!(rv("{{ 'a b  c' | wordcount }}"), json!(3));
    assert_eq!(r("{{ {'a': 'x y', 'b': '&'} | urlencode }}"), "a=x+y&b=%26");
    assert_eq!(r("{{ 'a b&c' | urlencode }}"), "a%20b%26c");
    assert_eq!(
        r("{{ 'hello world' | title }} {{ 'hELLO' | capitalize }}"),
        "Hello World Hello"
    );
    assert_eq!(r("{{ 'AbC' | lower }} {{ 'abc' | upper }} {{ ' x ' | trim }} {{ 'aXa' | replace('a', 'b') }}"), "abc ABC x bXb");
}

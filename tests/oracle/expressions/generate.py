#!/usr/bin/env python3
"""Generates the expression differential test: a playbook of template expressions and the values
ansible-core gives for them.

Run:  bash tests/oracle/expressions/regenerate.sh   (installs/uses the pinned oracle venv)

Writes, next to this script (all generated: never edit them by hand):
  expressions.yml   one debug task per case (task name = case id), run on localhost
  templates/*.j2    the template-file cases (read with the `template` lookup)
  expected.json     per case: its id, context, YAML style, source, and ansible-core's status and
                    value; plus the ansible-core version that produced it

The Rust test tests/tests/template_expressions.rs runs drover on expressions.yml and compares every
case with expected.json (status, and value with its JSON type).

Contexts of a case:
  msg       debug: msg: <template>          (task arguments; ansible-core's escape_backslashes)
  vars      play var holding <template>, read with debug: var=<name>  (lazy variable templating)
  var       debug: var: <expression>        (a bare expression: Jinja2 literal decoding)
  when      debug: msg: ran  + when: <expression>   (a conditional)
  template  debug: msg: "{{ lookup('template', '<id>.j2') }}" with <template> as the file body
Styles: how the YAML scalar is written — plain, single ('…'), double ("…"), literal (|-) — so that
the YAML parser yields exactly the source; `yaml` cases give the scalar text verbatim instead.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
CASES = []


def add(context, source, style="double", group="misc"):
    CASES.append({"context": context, "source": source, "style": style, "group": group})


def msg(source, group, styles=("double",)):
    for s in styles:
        add("msg", source, s, group)


def e(expr, group):
    """An expression shown with debug msg: "{{ expr }}"."""
    add("msg", "{{ " + expr + " }}", "double", group)


def exprs(group, *items):
    for x in items:
        e(x, group)


def cross(group, values, ops):
    """Every op (a format string with {v}) applied to every value."""
    for op in ops:
        for v in values:
            e(op.format(v=v), group)


# --- 1. string-literal escapes (issue 12 item 6) ------------------------------------------------
ESCAPE_TEMPLATES = [
    r"{{ 'a1b22' | regex_replace('a(\d)b(\d+)', '\1.\2') }}",
    r'{{ "a1b22" | regex_replace("a(\d)b(\d+)", "\1.\2") }}',
    r"{{ 'a1b22' | regex_replace('a(\\d)b(\\d+)', '\\1.\\2') }}",
    r"{{ 'hello world' | regex_replace('(\w+) (\w+)', '\g<2> \g<1>') }}",
    r"{{ 'x\ny' }}",
    r'{{ "x\ty" }}',
    r"{{ 'x\\y' }}",
    r"{{ 'it\'s' }}",
    r'{{ "say \"hi\"" }}',
    r"{{ 'x\x41y' }}",
    r"{{ '\u00e9t\u00e9' }}",
    r"{{ '\101' }}",
    r"{{ 'C:\new\table' }}",
    r"{{ 'a\/b' }}",
    r"{{ 'a\qb' }}",
    r"{{ 'x\ny' | length }}",
    r"{{ 'a\nb' == 'a' ~ '\n' ~ 'b' }}",
    r"{{ 'a.b.c' | regex_replace('\.', '-') }}",
    r"{{ 'a b' | regex_search('\s') }}",
    r"{{ 'k=v' | regex_search('(\w)=(\w)', '\2', '\1') }}",
    r"{{ 'a1b2' | regex_findall('\d') }}",
    r"{{ 'a\nb' .split('\n') }}",
    r"{% set z = 'x\ny' %}{{ z }}",
    r"{% set z = '\1' %}{{ z | length }}",
    r"{% set z = 'a\tb' %}{{ z == 'a' ~ '\t' ~ 'b' }}",
    r"pre \1 {{ 'x' }} post \n",
    r"{{ '\\' }}",
    r"{{ 'q\'q' | length }}",
    r"{{ ['\d+', '\n'] }}",
    r"{{ {'k\n': '\t'} }}",
    r"{{ 'éa\é' }}",
]
for src in ESCAPE_TEMPLATES:
    for style in ("double", "single", "plain", "literal"):
        add("msg", src, style, "escapes")
    add("vars", src, "double", "escapes")
    add("vars", src, "single", "escapes")
    add("template", src, "file", "escapes")
ESCAPE_EXPRESSIONS = [
    r"'a1b22' | regex_replace('a(\d)b(\d+)', '\1.\2')",
    r"'a1b22' | regex_replace('a(\\d)b(\\d+)', '\\1.\\2')",
    r"'x\ny'",
    r"'x\\y'",
    r"'it\'s'",
    r"'x\x41y'",
    r"'C:\new' | length",
    r"'a\qb'",
]
for src in ESCAPE_EXPRESSIONS:
    add("var", src, "plain", "escapes")
    add("var", src, "double", "escapes")
    add("when", src + " is string", "plain", "escapes")
for cond in [
    r"'x\ny' is search('\n')",
    r"'x\ny' | length == 3",
    r"'a1' is match('a\d')",
    r"'a.b' is search('\.')",
    r"'\1' == '\x01'",
]:
    for style in ("plain", "double", "single"):
        add("when", cond, style, "escapes")
# YAML escapes given verbatim (the scalar text is written as is)
YAML_TEXTS = r"""
"{{ \"x\" ~ \"\x41\" }}"
"{{ 'a' }}\t{{ 'b' }}"
'{{ ''it''''s'' }}'
"{{ 'a1b22' | regex_replace('a(\\d)b(\\d+)', '\\1.\\2') }}"
"{{ 'a1b22' | regex_replace('a(\\\\d)b(\\\\d+)', '\\\\1.\\\\2') }}"
"{{ '\\x41' }}\x41"
"{{ '\u00e9' }}"
'{{ ''\1'' | length }}'
x {{ 'a1b22' | regex_replace('a(\d)b(\d+)', '\1.\2') }} and more
""".strip().split("\n") + [
    "|\n          {{ 'x\\ny' }}\n          line2",
    ">-\n          {{ 'a' }}\n          {{ 'b' }}",
]
for text in YAML_TEXTS:
    add("msg", text, "yaml", "escapes")

# --- 2. conversions ----------------------------------------------------------------------------
VALUES = ["0", "1", "-3", "2.5", "-0.5", "1e3", "''", "'abc'", "'42'", "' 7 '", "'3.7'", "'0x1A'",
          "'yes'", "'no'", "'true'", "'False'", "'on'", "'off'", "'1'", "'0'", "True", "False",
          "None", "[]", "[1, 2]", "{}", "{'a': 1}", "'1e3'", "'-4'", "'y'"]
cross("conversions", VALUES, [
    "{v} | int", "{v} | float", "{v} | bool", "{v} | string", "{v} | to_json", "{v} | type_debug",
    "{v} | length", "{v} | list", "{v} is string", "{v} is number", "{v} is integer",
    "{v} is float", "{v} is boolean", "{v} is mapping", "{v} is sequence", "{v} is iterable",
    "{v} is none", "{v} is truthy", "{v} is falsy", "{v} | int(default=9)",
    "{v} | ternary('T', 'F')", "{v} | default('D')", "{v} | default('D', true)",
    "{v} | from_json if {v} is string else 'n/a'", "{v} | to_yaml", "{v} | to_nice_json",
])
exprs("conversions",
      "'12' | int(base=16)", "'0b101' | int(base=0)", "'z' | int(base=36)", "3.99 | int",
      "-3.99 | int", "'3.99' | int", "'abc' | float(1.5)", "'inf' | float | string",
      "'1_000' | int", "True | int", "False + 1", "None | string", "[1] | string",
      "{'a': [1, 'b']} | string", "1.0 | string", "0.1 + 0.2", "1e20 | int", "10 / 4",
      "10 // 4", "2 ** 10", "2 ** -1", "7 % 3", "-7 % 3", "-7 // 2", "1 / 3", "3.0",
      "100000000000000000000", "1.5e300 * 1.5e300 > 0", "(0.1 + 0.2) | round(2)",
      "2.675 | round(2)", "2.5 | round", "3.5 | round", "2.5 | round(0, 'floor')",
      "2.1 | round(0, 'ceil')", "1234.5678 | round(-2)", "-2.5 | round", "7 | float",
      "'7' | float | int", "[1, '2', 3.0] | map('int') | list", "'5' + '5'", "5 + 5.0",
      "'a' * 3", "[1] * 3", "[1, 2] + [3]", "'x' ~ 1 ~ none ~ true", "1 ~ 2.0")

# --- 3. arithmetic, comparisons, literals, operators --------------------------------------------
exprs("operators",
      "1 + 2 * 3", "(1 + 2) * 3", "-(3)", "+3", "not true", "not 0", "not ''", "not []",
      "1 < 2 < 3", "3 > 2 > 1", "1 == 1.0", "'1' == 1", "[1, 2] == [1, 2]", "(1, 2) == [1, 2]",
      "{'a': 1} == {'a': 1}", "'abc' < 'abd'", "[1, 2] < [1, 3]", "1 != 2", "none == none",
      "true and 'x'", "false or 'y'", "0 or ''", "'a' and 'b'", "none or 0", "1 if true else 2",
      "1 if false", "'b' in 'abc'", "2 in [1, 2]", "'a' in {'a': 1}", "3 not in [1, 2]",
      "'x' not in 'abc'", "[1, 2, 3][1]", "[1, 2, 3][-1]", "[1, 2, 3][1:]", "[1, 2, 3][::-1]",
      "'hello'[1:3]", "'hello'[-1]", "'hello'[::2]", "{'a': {'b': 2}}.a.b", "{'a': {'b': 2}}['a']['b']",
      "{'a': 1}.get('b', 5)", "(1, 2)", "(1,)", "()", "[]", "{}", "[1, [2, [3]]]",
      "{'x': [1, {'y': none}]}", "{1: 'a'}", "{'a': 1, 'a': 2}", "range(3) | list",
      "range(1, 10, 3) | list", "range(5) | sum", "lipsum is defined", "dict(a=1, b='x')",
      "namespace(a=1).a", "true is true", "1 is eq 1", "2 is gt 1", "2 is ge 3", "1 is lt 2",
      "1 is le 1", "1 is ne 2", "3 is odd", "4 is even", "9 is divisibleby 3",
      "'ABC' is upper", "'abc' is lower", "none is sameas none", "lookup is callable",
      "1 is in [1]", "'a' is in 'cat'", "true is true", "false is false", "1 is true",
      "[] is sequence", "'' is iterable", "{} is mapping", "1 is number", "1.5 is float",
      "1 is integer", "true is integer", "true is boolean", "1 is boolean", "none is none",
      "undefined_x is undefined", "undefined_x is defined", "undefined_x.y is undefined",
      "'x' is string", "b is defined", "(1, 2) | list", "[3, 1, 2] | sort | first",
      "[1, 2, 3] | length > 2", "{'a': 1} | length", "'héllo' | length", "'%d items' % 3",
      "'%s and %s' % ('a', 'b')", "'%05.1f' % 3.14159", "'%-5s|' % 'ab'", "'%x' % 255",
      "'%r' % 'a'", "'%s' % [1, 2]", "'%(a)s-%(b)d' % {'a': 'x', 'b': 2}", "'%%' % ()",
      "'%d%%' % 50", "'%i' % 3.9", "'%e' % 1234.5", "'%o' % 8", "'%c' % 65", "'%s' % none",
      "'%5.2s|' % 'abc'", "'%+d' % 5", "'%s' % (1,)", "'%d' % 'x'", "'%s %s' % ('a',)")

# --- 4. undefined, default, omit, mandatory -----------------------------------------------------
exprs("undefined",
      "nope", "nope | default('d')", "nope | d('d')", "nope | default", "nope.x | default(1)",
      "nope | default(none)", "'' | default('d')", "'' | default('d', true)",
      "none | default('d')", "none | default('d', true)", "false | default('d', true)",
      "0 | d(5, true)", "nope is defined", "nope is undefined", "nope | mandatory",
      "1 | mandatory", "nope | mandatory('custom msg')", "omit", "omit is string",
      "nope | default(omit)", "[1, omit] | length", "{'a': omit}", "a_dict.missing",
      "a_dict.missing | default('m')", "a_dict['missing'] | default('m')", "a_list[10]",
      "a_list[10] | default('m')", "a_dict.a", "a_dict.get('missing')",
      "a_dict.get('missing', 'g')", "(nope or 'x')", "nope ~ 'x'", "nope.attr",
      "a_str.nope", "a_str.nope | default('s')", "none.attr", "lazy_undef | default('lazy')",
      "lazy_undef is defined", "lazy_ok", "lazy_chain", "lazy_list | sum", "lazy_dict.k",
      "undefined_x | default(a_list) | first", "hostvars['localhost'] is defined",
      "inventory_hostname", "groups['all']", "'localhost' in groups.all",
      "ansible_check_mode", "playbook_dir | basename", "ansible_play_hosts",
      "omit | type_debug", "nope | default(omit) | type_debug")
for src in ["{{ omit }}", "x{{ omit }}", "{{ nope }}", "{{ nope | default(omit) }}",
            "{{ none }}", "{{ '' }}", "{{ None }}", "a{{ none }}b", "{{ [] }}", "{{ 1 }} ",
            " {{ 1 }}", "{{ 1 }}{{ 2 }}", "{{ true }}", "{{ 'a' }}{{ none }}"]:
    msg(src, "undefined", ("double",))
    add("vars", src, "double", "undefined")

# --- 5. Python methods on strings, lists, dicts -------------------------------------------------
STRS = ["'Hello World'", "'  padded  '", "'a,b,,c'", "'abc'", "''", "'MiXeD cAsE'", "'x-y-z'",
        "'line1\\nline2'", "'42'", "'ünï'"]
cross("methods", STRS, [
    "{v}.upper()", "{v}.lower()", "{v}.title()", "{v}.capitalize()", "{v}.swapcase()",
    "{v}.strip()", "{v}.lstrip()", "{v}.rstrip()", "{v}.split()", "{v}.split(',')",
    "{v}.split('-', 1)", "{v}.rsplit('-', 1)", "{v}.startswith('a')", "{v}.endswith('c')",
    "{v}.replace('a', 'A')", "{v}.find('b')", "{v}.count('a')", "{v}.isdigit()",
    "{v}.isalpha()", "{v}.isupper()", "{v}.islower()", "{v}.isspace()", "{v}.zfill(5)",
    "{v}.center(15, '*')", "{v}.ljust(12, '.')", "{v}.rjust(12)", "{v}.splitlines()",
    "{v}.partition('-')", "{v}.strip('a')", "{v}.index('a')",
    "{v}.join(['1', '2'])", "{v}.format(1)", "{v}.casefold()", "{v}.isalnum()",
    "{v}.rfind('a')", "{v}.removeprefix('a')", "{v}.removesuffix('c')", "{v}.istitle()",
])
exprs("methods",
      "'abc'.encode('utf-8') | string", "'{} and {}'.format('a', 'b')", "'{0}{1}{0}'.format('a', 'b')",
      "'{x}-{y}'.format(x=1, y=2)", "'{:>5}'.format('ab')", "'{:05.2f}'.format(3.14159)",
      "'{:,}'.format(1234567)", "'{!r}'.format('a')", "'{0[0]}'.format([9])",
      "'{a[k]}'.format(a={'k': 'v'})", "'{:x}'.format(255)", "'{:b}'.format(5)",
      "'{:^7}'.format('mid')", "'{:+d}'.format(3)", "'{:.1%}'.format(0.25)",
      "[3, 1, 2].index(1)", "[1, 1, 2].count(1)", "[1, 2].copy()", "[1, 2, 3].pop()",
      "a_list.index('b')", "a_list | length", "{'a': 1, 'b': 2}.items() | list",
      "{'a': 1, 'b': 2}.keys() | list", "{'a': 1, 'b': 2}.values() | list",
      "{'a': 1}.get('a')", "{'a': 1}.get('z')", "{'a': 1}.copy()", "a_dict.items() | list",
      "a_dict.keys() | sort", "a_dict | dict2items", "{'a': 1}.update({'b': 2})",
      "[1, 2].append(3)", "'x'.join('abc')", "', '.join(['a', 'b'])",
      "'abc'.startswith(('x', 'a'))", "'abc'.endswith(('x', 'y'))",
      "{'b': 1, 'a': 2} | dictsort", "{'a': 1}.setdefault('a', 2)",
      "{'a': 1}.pop('a')", "[1, 2, 3] | reverse | list", "[[1, 2], [3]] | sum(start=[])",
      "'a b c'.split(' ', maxsplit=1)", "'AbC'.lower().upper()", "' x '.strip().upper()",
      "'a=1'.split('=')[1] | int", "a_str.upper()", "a_str[0]", "a_dict.a + 1")

# --- 6. filters (ansible-core and Jinja2 builtins) ----------------------------------------------
exprs("filters-jinja",
      "-3 | abs", "-2.5 | abs", "[1, 2, 3, 4, 5] | batch(2) | list", "[1, 2, 3] | batch(2, 'x') | list",
      "'hello' | capitalize", "'hI tHere' | capitalize", "'abc' | center(9)", "[1, 2] | count",
      "'abc' | count", "{'b': 1, 'a': 2} | dictsort", "{'b': 1, 'a': 2} | dictsort(by='value')",
      "{'b': 1, 'A': 2} | dictsort(true)", "'<a&b>' | escape", "'<a>' | e", "[1, 2] | first",
      "'abc' | first", "[] | first", "'1.5' | float", "'x' | float", "a_list | groupby('x') | list",
      "[{'k': 1, 'v': 'a'}, {'k': 2, 'v': 'b'}, {'k': 1, 'v': 'c'}] | groupby('k') | list",
      "'a\\nb' | indent(2)", "'a\\nb' | indent(2, true)", "'a\\nb' | indent(width=3, first=true)",
      "[1, 2, 3] | join('-')", "[1, 2, 3] | join", "[{'n': 'a'}, {'n': 'b'}] | join(',', attribute='n')",
      "[1, 2, 3] | last", "'abc' | last", "'abc' | length", "[1, 2] | length", "'Ab' | lower",
      "[{'n': 1}, {'n': 2}] | map(attribute='n') | list", "['a', 'b'] | map('upper') | list",
      "[[1], [2, 3]] | map('length') | list", "['1', '2'] | map('int') | sum",
      "[{'n': 1}, {}] | map(attribute='n', default=0) | list", "[3, 1, 2] | max", "[3, 1, 2] | min",
      "['b', 'A', 'c'] | max", "['b', 'A', 'c'] | max(case_sensitive=true)",
      "[{'a': 1}, {'a': 3}] | max(attribute='a')", "{'a': 1} | pprint", "[1, 2] | pprint",
      "[1, 2, 3, 4] | reject('odd') | list", "[1, 2, 3, 4] | select('odd') | list",
      "[1, none, 2] | select | list", "[1, 2, 3] | select('gt', 1) | list",
      "['a', 'bb'] | select('match', 'b') | list", "[1, 2, 3] | select('in', [2, 3]) | list",
      "[{'a': 1}, {'a': 0}, {}] | selectattr('a') | list",
      "[{'a': 1}, {'a': 0}] | rejectattr('a') | list",
      "[{'a': 1}, {'a': 2}] | selectattr('a', 'equalto', 2) | list",
      "[{'a': 1}, {'a': 2}] | selectattr('a', '==', 2) | list",
      "[{'a': 1}, {'b': 2}] | selectattr('a', 'defined') | list",
      "'aXbX' | replace('X', '-')", "'aXbX' | replace('X', '-', 1)", "[1, 2] | reverse | list",
      "'abc' | reverse", "3.14159 | round(2)", "'<b>' | safe", "[1, 2, 3, 4, 5] | slice(2) | list",
      "[3, 1, 2] | sort", "[3, 1, 2] | sort(reverse=true)", "['b', 'A', 'c'] | sort",
      "['b', 'A', 'c'] | sort(case_sensitive=true)", "[{'a': 2}, {'a': 1}] | sort(attribute='a')",
      "[{'a': 2, 'b': 1}, {'a': 1, 'b': 2}] | sort(attribute='b,a')", "1 | string",
      "'<p>a</p> b' | striptags", "[1, 2, 3] | sum", "[{'n': 1}, {'n': 2}] | sum(attribute='n')",
      "[1.5, 2] | sum", "'hello world' | title", "\"it's\" | title", "'  x  ' | trim",
      "'xxaxx' | trim('x')", "'a long sentence here' | truncate(9)",
      "'a long sentence here' | truncate(9, true, '..', 0)", "[1, 2, 1] | unique | list",
      "['a', 'A'] | unique | list", "['a', 'A'] | unique(case_sensitive=true) | list",
      "'ab' | upper", "'a b/c' | urlencode", "{'a': 'b c'} | urlencode", "'one two three' | wordcount",
      "'a b c d e f' | wordwrap(5)", "{'class': 'x', 'id': 1} | xmlattr", "'%s-%s' | format('a', 1)",
      "'{}' | format(1)", "1000000 | filesizeformat", "1000000 | filesizeformat(true)",
      "{'a': 1} | items | list", "{'a': 1} | list", "'abc' | list", "[1, 2] | tojson",
      "{'a': '<'} | tojson", "[1, 2] | random in [1, 2]", "'x' | attr('upper')",
      "a_dict | attr('a')", "[1, 2, 3] | map('string') | join", "[1, 2] | first | type_debug",
      "'12345' | truncate(3, true, '', 0)", "'a' | center(5) | length", "[0, 1, 2] | select | list",
      "[['a', 1], ['b', 2]] | items2dict(key_name=0, value_name=1)", "'Ab Cd' | swapcase")
exprs("filters-ansible",
      "'hello' | b64encode", "'aGVsbG8=' | b64decode", "'héllo' | b64encode",
      "'/a/b/c.txt' | basename", "'/a/b/c.txt' | dirname", "'/a/b/' | basename", "'c.tar.gz' | splitext",
      "'/a/b.txt' | splitext | first", "['a', 'b', 'c.txt'] | path_join", "['/a', '/b'] | path_join",
      "'~/x' | expanduser | regex_search('^/')", "'$HOME/x' | expandvars | regex_search('^/')",
      "'/a/b/../c' | realpath", "'/a/b/c' | relpath('/a')", "'/a//b/./c' | normpath",
      "['/a/b', '/a/c'] | commonpath", "'yes' | bool", "'no' | bool", "'1' | bool", "'off' | bool",
      "'foo' | bool", "none | bool", "2 | bool", "'abc' | checksum", "'abc' | sha1", "'abc' | md5",
      "'abc' | hash('sha256')", "'abc' | hash('md5')", "'abc' | hash('sha512') | length",
      "{'a': 1} | combine({'b': 2})", "{'a': {'x': 1}} | combine({'a': {'y': 2}})",
      "{'a': {'x': 1}} | combine({'a': {'y': 2}}, recursive=true)",
      "{'a': [1]} | combine({'a': [2]}, list_merge='append')",
      "{'a': [1, 2]} | combine({'a': [2, 3]}, list_merge='append_rp')",
      "{'a': [1]} | combine({'a': [2]}, list_merge='prepend')",
      "[{'a': 1}, {'b': 2}, {'a': 3}] | combine", "{'a': 1} | combine({'a': none})",
      "'a\\nb' | comment", "'x' | comment('c')", "'x' | comment(decoration='; ')",
      "'a' | comment('erlang')", "'x' | comment('c', prefix='/*', postfix='*/')",
      "{'a': 1, 'b': 2} | dict2items", "{'a': 1} | dict2items(key_name='k', value_name='v')",
      "[{'key': 'a', 'value': 1}] | items2dict", "[{'k': 'a', 'v': 1}] | items2dict(key_name='k', value_name='v')",
      "[1, 2, 3] | difference([2])", "[1, 2, 2] | intersect([2, 3])", "[1, 2] | union([2, 3])",
      "[1, 2] | symmetric_difference([2, 3])", "[1, 2, 2, 3] | unique", "[1, [2, [3, [4]]]] | flatten",
      "[1, [2, [3, [4]]]] | flatten(levels=1)", "[1, [none, [3]]] | flatten",
      "[1, [none, [3]]] | flatten(skip_nulls=false)", "['a', 'b'] | map('extract', {'a': 1, 'b': 2}) | list",
      "0 | extract(['x', 'y'])", "'k' | extract({'k': {'j': 5}}, 'j')", "'{\"a\": [1, 2]}' | from_json",
      "'[1, 2' | from_json", "'a: 1\\nb: [x, yes, 0644]' | from_yaml", "'- 1\\n- 2' | from_yaml",
      "'a: 1\\n---\\nb: 2' | from_yaml_all | list", "'x' | from_yaml", "'{bad' | from_yaml",
      "'1.0' | from_yaml", "'no' | from_yaml", "'null' | from_yaml", "'' | from_yaml",
      "1024 | human_readable", "1048576 | human_readable", "1500 | human_readable(isbits=true)",
      "10 | human_readable", "2000000 | human_readable(unit='K')", "'1K' | human_to_bytes",
      "'1.5 MB' | human_to_bytes", "'10 Mb' | human_to_bytes(isbits=true)", "'2G' | human_to_bytes",
      "'x' | human_to_bytes", "100 | log | round(3)", "100 | log(10)", "8 | log(2)", "2 | pow(8)",
      "27 | root(3)", "16 | root", "[1, 2, 3] | permutations | list | length",
      "[1, 2, 3] | permutations(2) | list", "[1, 2, 3] | combinations(2) | list",
      "[1, 2] | product(['a', 'b']) | list", "[1, 2] | zip(['a', 'b']) | list",
      "[1, 2, 3] | zip_longest(['a'], fillvalue='-') | list", "[1, 2] | zip(['a']) | list",
      "'a b' | quote", "\"it's\" | quote", "'' | quote", "'a.b*c' | regex_escape",
      "'^a$' | regex_escape(re_type='posix_basic')", "'abc' | regex_replace('b')",
      "'aaa' | regex_replace('a', 'b', count=2)", "'ABC' | regex_replace('b', 'x', ignorecase=true)",
      "'a\\nb' | regex_replace('^', '> ', multiline=true)", "'abc' | regex_search('z')",
      "'abc' | regex_search('B', ignorecase=true)", "'key: val' | regex_search('(?P<k>\\\\w+): (?P<v>\\\\w+)', '\\\\g<v>')",
      "'a1b2' | regex_findall('[a-z]\\\\d')", "'a1b2' | regex_findall('([a-z])(\\\\d)')",
      "'a(b' | regex_search('(')", "'foo' | regex_search('(?<=f)o+')", "'abab' | regex_findall('(?:ab)')",
      "[[1, [2, 3]], [4, [5]]] | subelements(1) | list",
      "[{'n': 'a', 'l': [1, 2]}] | subelements('l') | list",
      "[{'n': 'a'}] | subelements('l', skip_missing=true) | list", "true | ternary('y', 'n')",
      "none | ternary('y', 'n', 'z')", "false | ternary('y', 'n')", "'x' | type_debug",
      "1 | type_debug", "1.0 | type_debug", "[1] | type_debug", "{'a': 1} | type_debug",
      "none | type_debug", "true | type_debug", "(1, 2) | type_debug", "'x' | to_uuid",
      "'x' | to_uuid(namespace='11111111-2222-3333-4444-555555555555')", "'a%20b' | urldecode",
      "'http://u:p@h:8/p?q=1#f' | urlsplit", "'http://h:8/p' | urlsplit('port')",
      "'http://h/p' | urlsplit('hostname')", "{'a': [1, 2]} | to_json", "{'a': 1} | to_json(indent=2)",
      "{'b': 1, 'a': 2} | to_json(sort_keys=true)", "'é' | to_json", "'é' | to_json(ensure_ascii=false)",
      "{'a': [1, 2]} | to_nice_json", "{'a': [1, 2]} | to_nice_json(indent=2)", "{'a': 1} | to_yaml",
      "{'a': [1, {'b': 'c'}]} | to_nice_yaml", "['x', 'yes', '1.0', '', none] | to_yaml",
      "{'a': 'long ' * 20} | to_yaml", "'multi\\nline' | to_yaml", "'multi\\nline' | to_nice_yaml",
      "{'k': 'v: x'} | to_yaml", "{'z': 1, 'a': 2} | to_nice_yaml", "{'z': 1, 'a': 2} | to_yaml",
      "{'a': 1} | to_yaml(default_flow_style=false)", "'C:\\\\x' | win_basename",
      "'C:\\\\x\\\\y' | win_dirname", "'C:\\\\x' | win_splitdrive", "'foo bar' | split",
      "'a,b' | split(',')", "'a' | password_hash('sha512', 'saltsalt')",
      "'a' | password_hash('md5', 'salt')", "'2024-01-02' | to_datetime('%Y-%m-%d') | string",
      "('2024-01-02' | to_datetime('%Y-%m-%d')).year", "'%Y' | strftime(0)",
      "[1, 2, 3] | shuffle | sort", "[1, 2, 3] | random(seed='x') in [1, 2, 3]",
      "'x' | mandatory", "[1, 2] | min", "[[1, 2], [3]] | map('max') | list", "5 | random(seed=1) < 5",
      "'abc' | vault('pw') is string", "['a', 'b'] | map('regex_replace', '$', '!') | list",
      "['a1', 'b2'] | map('regex_search', '\\\\d') | list", "'a-b' | split('-') | last",
      "{'a': 1} | dict2items | items2dict", "[1, 2] | map('pow', 2) | list",
      "[1, 2] | map('ternary', 'y', 'n') | list", "'abc' | sha1 | length",
      "'x' | b64encode | b64decode", "'%s' | format([1])", "a_list | map('upper') | list",
      "a_dict | dict2items | map(attribute='key') | list", "a_dict | combine({'b': 3}) | to_json")
exprs("filters-json-query-ipaddr",  # community filters drover does not have: both must fail
      "{'a': 1} | json_query('a')", "'10.0.0.1' | ipaddr", "'10.0.0.0/8' | ipv4",
      "'x' | no_such_filter")

# --- 7. tests ------------------------------------------------------------------------------------
TEST_VALUES = ["1", "'abc'", "''", "none", "[1]", "{'a': 1}", "true", "1.5", "'1.2.3'",
               "{'changed': true, 'failed': false}", "{'failed': true}", "{'skipped': true}",
               "{'unreachable': true}", "{'rc': 0}", "{'finished': 1}", "{'started': 0}"]
cross("tests", TEST_VALUES, [
    "{v} is changed", "{v} is failed", "{v} is succeeded", "{v} is success", "{v} is skipped",
    "{v} is unreachable", "{v} is reachable", "{v} is finished", "{v} is started",
    "{v} is change", "{v} is failure", "{v} is skip", "{v} is successful",
    "{v} is abs", "{v} is nan", "{v} is string", "{v} is mapping", "{v} is truthy",
    "{v} is falsy", "{v} is sequence", "{v} is iterable", "{v} is number",
])
exprs("tests",
      "'1.2.3' is version('1.2', '>')", "'1.2.3' is version('1.2.3', 'eq')",
      "'1.2' is version('1.10', 'lt')", "'1.2.3' is version_compare('1.3', '<')",
      "'1.0a' is version('1.0', '>', strict=true)", "'2.0.0-rc1' is version('2.0.0', '<', version_type='semver')",
      "'1.2' is version('1.2.0', '==', version_type='loose')", "'1:1.0' is version('1.9', '>', version_type='pep440')",
      "'1.2' is version('1.3')", "'x' is version('1', 'bogus')", "'abc' is match('ab')",
      "'abc' is match('bc')", "'abc' is search('bc')", "'abc' is regex('B', ignorecase=true)",
      "'a\\nb' is match('^b', multiline=true)", "'abc' is contains('b')", "[1, 2] is contains(2)",
      "[1, 2] is subset([1, 2, 3])", "[1, 2, 3] is superset([3])", "[1] is superset([1, 2])",
      "[true, true] is all", "[true, false] is any", "[] is all", "[] is any",
      "'/' is directory", "'/' is exists", "'/etc/hostname' is file", "'/nonexistent' is exists",
      "'/' is link", "'/' is mount", "'/proc' is mount", "'/etc' is same_file('/etc/')",
      "'/' is abs", "'a/b' is abs", "nan_value is nan", "omit is omit", "1 is omit",
      "'http://x.org' is url", "'urn:isbn:0451' is urn", "'mailto:x@y' is uri", "'x' is uri",
      "{'failed': false} is failed", "{} is changed", "'x' is vault_encrypted",
      "{'msg': 'x'} is timedout", "1 is callable", "'a' is escaped", "1 is filter",
      "'upper' is filter", "'defined' is test", "'x' is lower", "'X' is upper",
      "'1.0a1' is version('1.0', '<', version_type='pep440')",
      "'1.0.post1' is version('1.0', '>', version_type='pep440')",
      "'1!0.1' is version('2.0', '>', version_type='pep440')",
      "'1.0.dev1' is version('1.0a1', '<', version_type='pep440')",
      "'2.0' is version('2.0.0', '==', version_type='pep440')",
      "'1.0rc1' is version('1.0c1', '==', version_type='pep440')",
      "'1.0-1' is version('1.0.post1', '==', version_type='pep440')")

# --- 8. lookups ----------------------------------------------------------------------------------
exprs("lookups",
      "lookup('env', 'DROVER_EXPR_ENV')", "lookup('env', 'DROVER_EXPR_UNSET')",
      "lookup('env', 'DROVER_EXPR_UNSET', default='dflt')", "lookup('env', 'DROVER_EXPR_ENV', 'DROVER_EXPR_ENV')",
      "query('env', 'DROVER_EXPR_ENV')", "lookup('file', 'data.txt')", "lookup('file', 'data.txt', rstrip=false)",
      "lookup('file', 'missing.txt')", "lookup('file', 'missing.txt', errors='ignore')",
      "query('file', 'data.txt', 'data.txt')", "lookup('file', 'data.txt', 'data.txt')",
      "lookup('file', 'lines.txt').splitlines()", "lookup('lines', 'cat files/lines.txt')",
      "query('lines', 'cat files/lines.txt')", "lookup('pipe', 'echo hi')", "lookup('pipe', 'printf \"a\\nb\\n\"')",
      "lookup('pipe', 'exit 3')", "lookup('template', 'plain.j2')", "lookup('template', 'vars.j2')",
      "lookup('template', 'missing.j2')", "lookup('vars', 'a_str')", "lookup('vars', 'nope')",
      "lookup('vars', 'nope', default='dv')", "query('vars', 'a_str', 'a_list')",
      "lookup('items', [1, 2])", "query('items', [1, [2]])", "lookup('list', [1, 2])",
      "query('indexed_items', ['a', 'b'])", "query('dict', {'a': 1})", "lookup('dict', {'a': 1, 'b': 2})",
      "lookup('first_found', ['missing.txt', 'data.txt']) | basename",
      "lookup('first_found', ['missing.txt'], errors='ignore')",
      "lookup('fileglob', 'files/*.txt') | split(',') | map('basename') | sort",
      "query('fileglob', 'files/nomatch*')", "lookup('nosuchlookup', 'x')",
      "lookup('env', 'DROVER_EXPR_ENV', wantlist=true)", "q('env', 'DROVER_EXPR_ENV') | first",
      "lookup('file', 'data.txt') | length", "lookup('ansible.builtin.env', 'DROVER_EXPR_ENV')",
      "lookup('unvault', 'data.txt')", "lookup('file', 'data.txt', lstrip=true)")

# --- 9. whole templates (text around expressions, statements) -----------------------------------
TEMPLATES = [
    "{% for i in range(3) %}{{ i }},{% endfor %}", "{% if true %}yes{% else %}no{% endif %}",
    "{% set x = [1, 2] %}{{ x | sum }}", "{% for k, v in {'a': 1}.items() %}{{ k }}={{ v }}{% endfor %}",
    "{{ 1 }} and {{ 2 }}", "{{ [1, 2] }} text", "{%- if true -%} trimmed {%- endif -%}",
    "{% raw %}{{ not templated }}{% endraw %}", "{# comment #}after", "{{ '{{' }}",
    "{% for x in [] %}a{% else %}empty{% endfor %}", "{{ loop_undefined }}",
    "{% for i in [1, 2] %}{{ loop.index }}/{{ loop.length }}{{ ',' if not loop.last }}{% endfor %}",
    "{% set ns = namespace(n=0) %}{% for i in [1, 2, 3] %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}",
    "{% macro m(a) %}<{{ a }}>{% endmacro %}{{ m(1) }}", "{{ 'a' }}\n{{ 'b' }}\n",
    "{% if nope is defined %}d{% endif %}x", "{% if nope %}d{% endif %}",
    "{{ a_list | join(', ') }}", "{{ a_dict.a }}-{{ a_dict['a'] }}", "{% filter upper %}up{% endfilter %}",
    "{{ '%s=%s' % ('a', 1) }}", "{% for i in range(2) %}\n  {{ i }}\n{% endfor %}",
    "{{ 1 }}{{ 'a' }}", "{{ none }}{{ 1 }}", "{{ true }} ", "{{ 1 + 1 }}\n",
    "{% set d = {'a': 1} %}{{ d.a }}", "{{ [1, 2] | to_json }}", "{{ '{' }}1}",
    "{% break %}", "{% for i in [1, 2, 3] %}{% if i == 2 %}{% break %}{% endif %}{{ i }}{% endfor %}",
    "{% for i in [1, 2, 3] %}{% if i == 2 %}{% continue %}{% endif %}{{ i }}{% endfor %}",
    "{{ 'a' if nope is defined else 'b' }}", "{{ omit if false else 'v' }}",
]
for t in TEMPLATES:
    add("msg", t, "double", "templates")
    add("template", t, "file", "templates")
for t in TEMPLATES[:12]:
    add("vars", t, "double", "templates")

# --- 10. conditionals ----------------------------------------------------------------------------
for c in ["true", "false", "1 == 1", "a_list | length > 1", "nope is defined", "nope is undefined",
          "a_str == 'text'", "a_dict.a == 1", "'b' in a_list", "nope", "1", "'yes'", "''", "a_list",
          "{{ true }}", "{{ cond_expr }}", "a_bool", "not a_bool", "a_bool and nope", "a_bool or nope",
          "nope | default(false)", "a_dict.missing is defined", "a_str is search('ex')",
          "(a_list | length) is divisibleby 3", "1 in [1] and 'x' not in 'y'", "omit",
          "none", "nope.x is defined", "lazy_undef is defined", "a_int > 3", "a_int is even"]:
    add("when", c, "plain" if not c.startswith("{") else "double", "conditionals")


# --- playbook writing ----------------------------------------------------------------------------
def yaml_double(text):
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20:
            out.append("\\x%02x" % ord(ch))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def scalar(text, style, indent):
    """The YAML text of a scalar in `style` that parses back to `text`, or None if impossible."""
    if style == "double":
        out = yaml_double(text)
    elif style == "single":
        if "\n" in text or "\t" in text:
            return None
        out = "'" + text.replace("'", "''") + "'"
    elif style == "plain":
        if "\n" in text or text != text.strip():
            return None
        out = text
    elif style == "literal":
        if text != text.strip() or "\t" in text:
            return None
        pad = " " * (indent + 2)
        out = "|-\n" + "\n".join(pad + line for line in text.split("\n"))
    elif style == "yaml":
        return text
    else:
        raise ValueError(style)
    try:
        if yaml.safe_load("k: " + out) != {"k": text}:
            return None
    except yaml.YAMLError:
        return None
    return out


def build():
    seen = set()
    cases = []
    for c in CASES:
        key = (c["context"], c["style"], c["source"])
        if key in seen:
            continue
        seen.add(key)
        cases.append(dict(c))
    counters = {}
    play_vars = {
        "a_str": "'text'", "a_int": "5", "a_bool": "true", "a_list": "['a', 'b', 'c']",
        "a_dict": "{'a': 1, 'b': 'x'}", "nan_value": "\"{{ 'nan' | float }}\"",
        "lazy_undef": "\"{{ nope_inner }}\"", "lazy_ok": "\"{{ a_int + 1 }}\"",
        "lazy_chain": "\"{{ lazy_ok * 2 }}\"", "lazy_list": "\"{{ [a_int, 1] }}\"",
        "lazy_dict": "{k: \"{{ a_str }}\"}", "cond_expr": "'a_int == 5'", "b": "2",
    }
    tasks = []
    templates = {}
    kept = []
    for c in cases:
        n = counters.get(c["group"], 0) + 1
        counters[c["group"]] = n
        cid = "%s-%03d" % (c["group"], n)
        c["id"] = cid
        if c["context"] == "msg":
            s = scalar(c["source"], c["style"], 8)
            if s is None:
                continue
            tasks.append("    - name: %s\n      debug:\n        msg: %s\n" % (cid, s))
        elif c["context"] == "vars":
            s = scalar(c["source"], c["style"], 4)
            if s is None:
                continue
            var = "v_" + cid.replace("-", "_")
            play_vars[var] = s
            tasks.append("    - name: %s\n      debug:\n        var: %s\n" % (cid, var))
        elif c["context"] == "var":
            s = scalar(c["source"], c["style"], 8)
            if s is None:
                continue
            tasks.append("    - name: %s\n      debug:\n        var: %s\n" % (cid, s))
        elif c["context"] == "when":
            s = scalar(c["source"], c["style"], 6)
            if s is None:
                continue
            tasks.append("    - name: %s\n      debug:\n        msg: ran\n      when: %s\n" % (cid, s))
        elif c["context"] == "template":
            name = cid + ".j2"
            templates[name] = c["source"]
            tasks.append("    - name: %s\n      debug:\n        msg: \"{{ lookup('template', '%s') }}\"\n"
                         % (cid, name))
        kept.append(c)
    lines = ["# GENERATED by tests/oracle/expressions/generate.py: do not edit.",
             "- hosts: localhost", "  gather_facts: false", "  vars:"]
    for k, v in play_vars.items():
        lines.append("    %s: %s" % (k, v))
    lines.append("  tasks:")
    # ignore_errors on each task (not on the play): a failing case must not end the run.
    tasks = [t + "      ignore_errors: true\n" for t in tasks]
    return kept, "\n".join(lines) + "\n" + "".join(tasks), templates


def main():
    ansible_playbook = Path(sys.argv[1])
    cases, playbook, templates = build()
    (HERE / "expressions.yml").write_text(playbook)
    tdir = HERE / "templates"
    tdir.mkdir(exist_ok=True)
    for old in tdir.glob("*.j2"):
        if old.name not in templates and old.name not in ("plain.j2", "vars.j2"):
            old.unlink()
    for name, body in templates.items():
        (tdir / name).write_text(body)
    env = dict(os.environ)
    env.update({
        "ANSIBLE_CALLBACK_PLUGINS": str(HERE / "callback_plugins"),
        "ANSIBLE_STDOUT_CALLBACK": "expressions_oracle",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_DEPRECATION_WARNINGS": "0",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        "DROVER_EXPR_ENV": "env-value",
    })
    env.pop("DROVER_EXPR_UNSET", None)
    run = subprocess.run([str(ansible_playbook), "-c", "local", "-i", "localhost,", "expressions.yml"],
                         cwd=HERE, env=env, capture_output=True, text=True)
    results = {}
    for line in run.stdout.splitlines():
        if line.startswith("{"):
            r = json.loads(line)
            results[r["id"]] = r
    version = subprocess.run([str(ansible_playbook), "--version"], capture_output=True,
                             text=True).stdout.splitlines()[0]
    out = []
    for c in cases:
        r = results.get(c["id"])
        if r is None:
            sys.exit("no oracle result for %s (%s)\nstderr:\n%s" % (c["id"], c["source"], run.stderr[-3000:]))
        entry = {"id": c["id"], "context": c["context"], "style": c["style"], "source": c["source"],
                 "status": r["status"]}
        if "value" in r:
            entry["value"] = r["value"]
        else:
            entry["oracle_msg"] = r.get("msg", "")
        out.append(entry)
    doc = {"generated_by": "tests/oracle/expressions/generate.py (do not edit)",
           "oracle": version, "cases": out}
    (HERE / "expected.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    print("%d cases, oracle %s" % (len(out), version))


if __name__ == "__main__":
    main()


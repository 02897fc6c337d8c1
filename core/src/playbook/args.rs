//! Ansible's free-form `key=value` argument strings (`copy: src=a dest=/tmp/b mode=0644`).

use crate::vars::{Map, Value};

/// Splits an argument string as ansible-core's `split_args` does: on spaces and newlines, keeping
/// quoted parts and `{{ }}`/`{% %}`/`{# #}` blocks whole. The whitespace between pieces is kept on
/// them (a piece ends with the newline that ended its line, extra spaces are appended to the piece
/// before them), so [`join_args`] gives the original text back; a lone `\` ends a line as a
/// continuation. Quotes are kept in the pieces; see [`unquote`].
///
/// Like ansible-core, text that leaves a quote or a Jinja block open is refused (`echo it's`,
/// `echo "a`, `echo {{ x`, `echo ${#a[@]}`); a quote after a backslash does not count.
pub fn split_args(s: &str) -> Result<Vec<String>, UnbalancedArgs> {
    let mut params: Vec<String> = Vec::new();
    let mut quote: Option<char> = None;
    let (mut print, mut block, mut comment) = (0usize, 0usize, 0usize);
    let lines: Vec<&str> = s.split('\n').collect();
    for (line_index, line) in lines.iter().enumerate() {
        let mut continuation = false;
        for (idx, token) in line.split(' ').enumerate() {
            if token.is_empty() && idx != 0 {
                push_onto_last(&mut params, " ");
                continue;
            }
            if token == "\\" && quote.is_none() {
                continuation = true;
                continue;
            }
            let was_inside = quote.is_some();
            quote = quote_state(token, quote);
            let inside = quote.is_some();
            let in_jinja = print > 0 || block > 0 || comment > 0;
            let mut appended = false;
            if inside && !was_inside && !in_jinja {
                params.push(token.to_string());
                appended = true;
            } else if in_jinja || inside || was_inside {
                push_onto_last(&mut params, if idx > 0 { " " } else { "" });
                push_onto_last(&mut params, token);
                appended = true;
            }
            for (depth, open, close) in [
                (&mut print, "{{", "}}"),
                (&mut block, "{%", "%}"),
                (&mut comment, "{#", "#}"),
            ] {
                let before = *depth;
                *depth = jinja_depth(token, before, open, close);
                if *depth != before && !appended {
                    params.push(token.to_string());
                    appended = true;
                }
            }
            let in_jinja = print > 0 || block > 0 || comment > 0;
            if !in_jinja && !inside && !appended && !token.is_empty() {
                params.push(token.to_string());
            }
        }
        if line_index + 1 < lines.len() && !continuation {
            push_onto_last(&mut params, "\n");
        }
    }
    if quote.is_some() || print > 0 || block > 0 || comment > 0 {
        return Err(UnbalancedArgs {
            args: s.to_string(),
        });
    }
    Ok(params)
}

/// Argument text that leaves a quote or a `{{ }}`/`{% %}`/`{# #}` block open (ansible-core's
/// `split_args` error, with its wording).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("failed at splitting arguments, either an unbalanced jinja2 block or quotes: {args}")]
pub struct UnbalancedArgs {
    /// The whole argument text, as written.
    pub args: String,
}

/// Appends `text` to the last piece (starting one if there is none).
fn push_onto_last(params: &mut Vec<String>, text: &str) {
    match params.last_mut() {
        Some(last) => last.push_str(text),
        None => params.push(text.to_string()),
    }
}

/// The quote a token leaves open, given the one open before it (ansible-core's
/// `_get_quote_state`: a quote after a backslash does not count).
fn quote_state(token: &str, mut quote: Option<char>) -> Option<char> {
    let mut prev = None;
    for c in token.chars() {
        if (c == '"' || c == '\'') && prev != Some('\\') {
            match quote {
                Some(q) if q == c => quote = None,
                Some(_) => {}
                None => quote = Some(c),
            }
        }
        prev = Some(c);
    }
    quote
}

/// The Jinja nesting depth after a token (ansible-core's `_count_jinja2_blocks`).
fn jinja_depth(token: &str, depth: usize, open: &str, close: &str) -> usize {
    let opened = token.matches(open).count();
    let closed = token.matches(close).count();
    (depth + opened).saturating_sub(closed)
}

/// Joins pieces from [`split_args`] back into the original text (ansible-core's `join_args`):
/// a space between pieces, none after a piece that ends a line.
pub fn join_args<S: AsRef<str>>(pieces: &[S]) -> String {
    let mut out = String::new();
    for piece in pieces {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push(' ');
        }
        out.push_str(piece.as_ref());
    }
    out
}

/// Removes one level of matching surrounding quotes.
pub fn unquote(s: &str) -> String {
    let b = s.as_bytes();
    if b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0] {
        let inner = &s[1..s.len() - 1];
        if b[0] == b'"' {
            return inner.replace("\\\"", "\"");
        }
        return inner.to_string();
    }
    s.to_string()
}

/// Modules whose free-form text is a command line rather than `k=v` pairs.
pub const RAW_PARAM_MODULES: &[&str] = &[
    "command",
    "shell",
    "raw",
    "script",
    "win_command",
    "win_shell",
    "include_tasks",
    "import_tasks",
    "include_vars",
    "import_playbook",
    "include",
    "meta",
    "group_by",
    "set_fact",
    "add_host",
];

/// `k=v` keys that `command`-like modules take out of their free-form text.
const COMMAND_KEYS: &[&str] = &[
    "chdir",
    "creates",
    "removes",
    "executable",
    "warn",
    "stdin",
    "stdin_add_newline",
    "strip_empty_ends",
];

/// Decodes the backslash escapes Ansible decodes in `k=v` arguments: `\\`, `\'`, `\"`,
/// `\a \b \f \n \r \t \v`, `\xHH`, `\uHHHH` and `\UHHHHHHHH`; anything else stays as written
/// (so `regexp=^\s+` keeps its backslash).
pub fn decode_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 1..];
        let hex = |n: usize| {
            tail.get(1..=n)
                .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .and_then(char::from_u32)
        };
        let (decoded, used) = match tail.chars().next() {
            Some(c @ ('\\' | '\'' | '"')) => (Some(c), 1),
            Some('a') => (Some('\u{7}'), 1),
            Some('b') => (Some('\u{8}'), 1),
            Some('f') => (Some('\u{c}'), 1),
            Some('n') => (Some('\n'), 1),
            Some('r') => (Some('\r'), 1),
            Some('t') => (Some('\t'), 1),
            Some('v') => (Some('\u{b}'), 1),
            Some('x') => (hex(2), 3),
            Some('u') => (hex(4), 5),
            Some('U') => (hex(8), 9),
            _ => (None, 0),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &tail[used..];
            }
            None => {
                out.push('\\');
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Parses a module's free-form argument string into an argument map. For command-like modules
/// the text (minus their own `k=v` options) goes into `_raw_params`, as in Ansible. Text with
/// unbalanced quotes or Jinja blocks is refused, as ansible-core refuses it (see [`split_args`]).
pub fn parse_kv(module: &str, s: &str) -> Result<Map<String, Value>, UnbalancedArgs> {
    let short = module.rsplit('.').next().unwrap_or(module);
    let raw_module = RAW_PARAM_MODULES.contains(&short);
    let mut args = Map::new();
    let mut raw: Vec<String> = Vec::new();
    for piece in split_args(s)? {
        // As Ansible: escapes are decoded in `k=v` values; free-form text keeps them.
        let decoded = decode_escapes(&piece);
        // `set_fact` keys may be templates (`{{ 'x' + item }}={{ item }}`): as Ansible's
        // parse_kv, everything before the first `=` is the key there.
        let kv = decoded.split_once('=').filter(|(k, _)| {
            !k.is_empty()
                && (short == "set_fact" || k.chars().all(|c| c.is_alphanumeric() || c == '_'))
        });
        let takes_kv = |k: &str| match short {
            "command" | "shell" | "script" => COMMAND_KEYS.contains(&k),
            "set_fact" => true,
            // `include_tasks: file=x.yml`, as ansible-core parses it (its tasks-include actions
            // take `k=v` pairs; a bare name is the file).
            "include_tasks" | "import_tasks" | "include" => k == "file",
            _ => !raw_module,
        };
        match kv {
            Some((k, v)) if takes_kv(k.trim()) => {
                args.insert(k.trim().to_string(), Value::String(unquote(v.trim())));
            }
            _ => raw.push(piece),
        }
    }
    if !raw.is_empty() {
        // Command text is kept as written (quotes, newlines and spacing included) for the shell.
        args.insert("_raw_params".into(), Value::String(join_args(&raw)));
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// [`parse_kv`] of text that must split.
    fn kv(module: &str, s: &str) -> Map<String, Value> {
        parse_kv(module, s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn splits_respecting_quotes_and_jinja() {
        assert_eq!(
            split_args(r#"src=a dest="/tmp/x y" msg={{ a | default('b c') }}"#).unwrap(),
            vec![
                "src=a",
                r#"dest="/tmp/x y""#,
                "msg={{ a | default('b c') }}"
            ]
        );
    }

    #[test]
    fn parses_key_values() {
        assert_eq!(
            Value::Object(kv("copy", "src=a dest='/tmp/x y' mode=0644")),
            json!({"src": "a", "dest": "/tmp/x y", "mode": "0644"})
        );
    }

    #[test]
    fn set_fact_keys_may_be_templates() {
        assert_eq!(
            Value::Object(parse_kv("set_fact", "{{ 'x' + item }}={{ item }} b=2").unwrap()),
            json!({"{{ 'x' + item }}": "{{ item }}", "b": "2"})
        );
    }

    #[test]
    fn values_decode_escapes_as_ansible_does() {
        // Expected values from ansible-core 2.19's parse_kv.
        assert_eq!(
            Value::Object(kv("copy", r#"content="orig\n" dest=/x"#)),
            json!({"content": "orig\n", "dest": "/x"})
        );
        assert_eq!(
            Value::Object(kv("lineinfile", r"line=x\x41\u00e9 regexp=^\s+\d")),
            json!({"line": "xA\u{e9}", "regexp": r"^\s+\d"})
        );
        assert_eq!(
            Value::Object(kv("debug", r"msg=a\tb\\c")),
            json!({"msg": "a\tb\\c"})
        );
        assert_eq!(
            Value::Object(kv("debug", r#"msg="it\x27s""#)),
            json!({"msg": "it's"})
        );
        assert_eq!(
            Value::Object(kv("command", r"echo a\nb creates=/x\ty")),
            json!({"creates": "/x\ty", "_raw_params": r"echo a\nb"})
        );
    }

    #[test]
    fn free_form_text_keeps_its_lines() {
        // Expected values from ansible-core 2.19's parse_kv(…, check_raw=True).
        for text in [
            "cat <<EOF\nOne\n  Two\n    Three\nEOF\n",
            "echo \"test\"\n",
            "echo a\n\nb\n",
        ] {
            assert_eq!(
                Value::Object(kv("shell", text)),
                json!({"_raw_params": text})
            );
        }
        assert_eq!(
            Value::Object(kv("command", "echo a chdir=/tmp b")),
            json!({"_raw_params": "echo a b", "chdir": "/tmp"})
        );
    }

    #[test]
    fn task_includes_take_a_file_key() {
        for action in ["include_tasks", "ansible.builtin.import_tasks", "include"] {
            assert_eq!(
                Value::Object(kv(action, "file=more.yml")),
                json!({"file": "more.yml"}),
                "{action}"
            );
            assert_eq!(
                Value::Object(kv(action, "more.yml")),
                json!({"_raw_params": "more.yml"}),
                "{action}"
            );
        }
    }

    #[test]
    fn command_keeps_free_form_text() {
        assert_eq!(
            Value::Object(kv(
                "ansible.builtin.command",
                "echo 'a  b' chdir=/tmp creates=/x"
            )),
            json!({"chdir": "/tmp", "creates": "/x", "_raw_params": "echo 'a  b'"})
        );
        assert_eq!(
            Value::Object(kv("shell", "echo x=1 > /tmp/f")),
            json!({"_raw_params": "echo x=1 > /tmp/f"})
        );
    }

    #[test]
    fn free_form_text_keeps_newlines_and_spacing() {
        // Expected values from ansible-core 2.19's parse_kv (check_raw for command/shell).
        let script = "n=$(cat /x || echo 0)\nn=$((n + 1))\necho \"$n\" > /x\necho \"$n\"\n";
        assert_eq!(
            Value::Object(kv("shell", script)),
            json!({"_raw_params": script})
        );
        assert_eq!(
            Value::Object(kv("shell", "echo a  b   c chdir=/tmp")),
            json!({"chdir": "/tmp", "_raw_params": "echo a  b   c"})
        );
        let looped = "for i in 1 2; do\n  echo \"$i\"\ndone";
        assert_eq!(
            Value::Object(kv("shell", looped)),
            json!({"_raw_params": looped})
        );
        assert_eq!(
            Value::Object(kv("command", "ls \\\n  -l creates=/x")),
            json!({"creates": "/x", "_raw_params": "ls  -l"})
        );
        assert_eq!(
            Value::Object(kv("copy", "src=a  dest=/b\nmode=0644")),
            json!({"src": "a", "dest": "/b", "mode": "0644"})
        );
        let quoted = "echo '{{ x }}\n  y' >  /f";
        assert_eq!(
            Value::Object(kv("shell", quoted)),
            json!({"_raw_params": quoted})
        );
    }

    #[test]
    fn unbalanced_quotes_and_jinja_blocks_are_refused_as_ansible_does() {
        // Each verdict is ansible-core 2.19's split_args.
        for text in [
            "echo it's here",
            r#"echo "a"#,
            "echo {{ x",
            "echo ${#arr[@]}",
            "echo # it's",
            "echo '{{ x'",
            r#"echo "{{""#,
            r#"msg="a"#,
            "echo }} {{",
            r#"echo "a" 'b"#,
            r"echo 'a\'",
            "cat <<EOF\ndon't\nEOF\n",
        ] {
            let err = split_args(text).expect_err(text);
            assert_eq!(
                err.to_string(),
                format!(
                    "failed at splitting arguments, either an unbalanced jinja2 block or quotes: {text}"
                )
            );
            assert!(parse_kv("shell", text).is_err(), "{text}");
            assert!(parse_kv("debug", text).is_err(), "{text}");
        }
    }

    #[test]
    fn balanced_or_escaped_quotes_split() {
        // Expected pieces from ansible-core 2.19's split_args.
        let cases: &[(&str, &[&str])] = &[
            (r#"echo {{ "it's" }}"#, &["echo", r#"{{ "it's" }}"#]),
            (r"echo it\'s", &["echo", r"it\'s"]),
            (r#"echo \"a"#, &["echo", r#"\"a"#]),
            ("echo {# c #} it", &["echo", "{# c #}", "it"]),
            ("echo a'b'c", &["echo", "a'b'c"]),
            ("echo 'a\nb'", &["echo", "'a\nb'"]),
            ("echo {% if x %}", &["echo", "{% if x %}"]),
            (r"echo a\\'b", &["echo", r"a\\'b"]),
            (r#"echo "it's""#, &["echo", r#""it's""#]),
            (r#"x='a"b'"#, &[r#"x='a"b'"#]),
            ("", &[]),
        ];
        for (text, pieces) in cases {
            let expected: Vec<String> = pieces.iter().map(|p| p.to_string()).collect();
            assert_eq!(split_args(text), Ok(expected), "{text}");
        }
    }
}

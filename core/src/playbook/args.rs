//! Ansible's free-form `key=value` argument strings (`copy: src=a dest=/tmp/b mode=0644`).

use crate::vars::{Map, Value};

/// Splits an argument string on whitespace, keeping quoted parts and `{{ }}`/`{% %}` blocks whole.
/// Quotes are kept in the pieces; see [`unquote`].
pub fn split_args(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut depth = 0usize;
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if quote.is_none() && depth == 0 && c.is_whitespace() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            i += 1;
            continue;
        }
        match (c, next) {
            ('{', Some('{' | '%' | '#')) => {
                depth += 1;
                cur.push(c);
                cur.push(chars[i + 1]);
                i += 2;
                continue;
            }
            ('}' | '%' | '#', Some('}')) if depth > 0 => {
                depth -= 1;
                cur.push(c);
                cur.push('}');
                i += 2;
                continue;
            }
            ('\\', Some(n)) if quote.is_some() => {
                cur.push(c);
                cur.push(n);
                i += 2;
                continue;
            }
            ('"' | '\'', _) if depth == 0 => match quote {
                Some(q) if q == c => quote = None,
                None => quote = Some(c),
                _ => {}
            },
            _ => {}
        }
        cur.push(c);
        i += 1;
    }
    if !cur.is_empty() {
        out.push(cur);
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
/// the text (minus their own `k=v` options) goes into `_raw_params`, as in Ansible.
pub fn parse_kv(module: &str, s: &str) -> Map<String, Value> {
    let short = module.rsplit('.').next().unwrap_or(module);
    let raw_module = RAW_PARAM_MODULES.contains(&short);
    let mut args = Map::new();
    let mut raw: Vec<String> = Vec::new();
    let mut took_option = false;
    for piece in split_args(s) {
        // As Ansible: escapes are decoded in `k=v` values; free-form text keeps them.
        let decoded = decode_escapes(&piece);
        let kv = decoded
            .split_once('=')
            .filter(|(k, _)| !k.is_empty() && k.chars().all(|c| c.is_alphanumeric() || c == '_'));
        let takes_kv = |k: &str| match short {
            "command" | "shell" | "script" => COMMAND_KEYS.contains(&k),
            "set_fact" => true,
            // `include_tasks: file=x.yml`, as ansible-core parses it (its tasks-include actions
            // take `k=v` pairs; a bare name is the file).
            "include_tasks" | "import_tasks" | "include" => k == "file",
            _ => !raw_module,
        };
        match kv {
            Some((k, v)) if takes_kv(k) => {
                args.insert(k.to_string(), Value::String(unquote(v)));
                took_option = true;
            }
            _ => raw.push(piece),
        }
    }
    if !raw.is_empty() {
        // Command text is kept as written (quotes included) for the shell to interpret. With
        // no `k=v` option taken out it is the text itself, line breaks and spacing included
        // (a `shell: |` block with a here-document), as ansible-core keeps it.
        let text = if took_option {
            raw.join(" ")
        } else {
            s.to_string()
        };
        args.insert("_raw_params".into(), Value::String(text));
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn splits_respecting_quotes_and_jinja() {
        assert_eq!(
            split_args(r#"src=a dest="/tmp/x y" msg={{ a | default('b c') }}"#),
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
            Value::Object(parse_kv("copy", "src=a dest='/tmp/x y' mode=0644")),
            json!({"src": "a", "dest": "/tmp/x y", "mode": "0644"})
        );
    }

    #[test]
    fn values_decode_escapes_as_ansible_does() {
        // Expected values from ansible-core 2.19's parse_kv.
        assert_eq!(
            Value::Object(parse_kv("copy", r#"content="orig\n" dest=/x"#)),
            json!({"content": "orig\n", "dest": "/x"})
        );
        assert_eq!(
            Value::Object(parse_kv("lineinfile", r"line=x\x41\u00e9 regexp=^\s+\d")),
            json!({"line": "xA\u{e9}", "regexp": r"^\s+\d"})
        );
        assert_eq!(
            Value::Object(parse_kv("debug", r"msg=a\tb\\c")),
            json!({"msg": "a\tb\\c"})
        );
        assert_eq!(
            Value::Object(parse_kv("debug", r#"msg="it\x27s""#)),
            json!({"msg": "it's"})
        );
        assert_eq!(
            Value::Object(parse_kv("command", r"echo a\nb creates=/x\ty")),
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
                Value::Object(parse_kv("shell", text)),
                json!({"_raw_params": text})
            );
        }
        assert_eq!(
            Value::Object(parse_kv("command", "echo a chdir=/tmp b")),
            json!({"_raw_params": "echo a b", "chdir": "/tmp"})
        );
    }

    #[test]
    fn task_includes_take_a_file_key() {
        for action in ["include_tasks", "ansible.builtin.import_tasks", "include"] {
            assert_eq!(
                Value::Object(parse_kv(action, "file=more.yml")),
                json!({"file": "more.yml"}),
                "{action}"
            );
            assert_eq!(
                Value::Object(parse_kv(action, "more.yml")),
                json!({"_raw_params": "more.yml"}),
                "{action}"
            );
        }
    }

    #[test]
    fn command_keeps_free_form_text() {
        assert_eq!(
            Value::Object(parse_kv(
                "ansible.builtin.command",
                "echo 'a  b' chdir=/tmp creates=/x"
            )),
            json!({"chdir": "/tmp", "creates": "/x", "_raw_params": "echo 'a  b'"})
        );
        assert_eq!(
            Value::Object(parse_kv("shell", "echo x=1 > /tmp/f")),
            json!({"_raw_params": "echo x=1 > /tmp/f"})
        );
    }
}

//! INI inventory values: Ansible passes every `key=value` value through Python's
//! `ast.literal_eval` and keeps the raw text when that fails. This module evaluates the same
//! literal forms: integers (`12`, `-3`, `0x1f`, `0o17`, `0b11`, `1_000`), floats (`1.5`, `1e3`),
//! quoted strings with escapes and `r`/`u`/`b` prefixes (adjacent strings are joined),
//! `True`/`False`/`None`, lists, tuples and sets (as lists) and dicts, with a trailing `# comment`
//! allowed. Anything else (`yes`, `FALSE`, `a b`, `x # y`) stays a string.

use crate::vars::{Map, Value};

/// Ansible's INI value conversion: the Python literal `text` stands for, else `text` itself.
pub fn parse_value(text: &str) -> Value {
    let src = text.trim_start_matches([' ', '\t']);
    let mut p = Parser {
        chars: src.chars().collect(),
        pos: 0,
    };
    match p.value() {
        Some(v) if p.at_end() => v,
        _ => Value::String(text.to_string()),
    }
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_space(&mut self) {
        while let Some(c) = self.peek() {
            if c == ' ' || c == '\t' {
                self.pos += 1;
            } else if c == '#' {
                self.pos = self.chars.len();
            } else {
                break;
            }
        }
    }

    fn at_end(&mut self) -> bool {
        self.skip_space();
        self.pos == self.chars.len()
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_space();
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Option<Value> {
        self.skip_space();
        let c = self.peek()?;
        match c {
            '[' => {
                self.pos += 1;
                Some(Value::Array(self.items(']')?))
            }
            '(' => self.tuple(),
            '{' => self.dict_or_set(),
            '\'' | '"' => self.strings(),
            '-' | '+' => {
                self.pos += 1;
                self.skip_space();
                // Python allows one sign directly before a number literal only.
                if !self.peek().is_some_and(|c| c.is_ascii_digit() || c == '.') {
                    return None;
                }
                let v = self.number()?;
                let n = v.as_number()?.clone();
                if c == '+' {
                    return Some(Value::Number(n));
                }
                if let Some(i) = n.as_i64() {
                    Some(Value::from(i.checked_neg()?))
                } else {
                    serde_json::Number::from_f64(-n.as_f64()?).map(Value::Number)
                }
            }
            c if c.is_ascii_digit() || c == '.' => self.number(),
            c if c.is_alphabetic() || c == '_' => {
                let start = self.pos;
                while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    self.pos += 1;
                }
                let word: String = self.chars[start..self.pos].iter().collect();
                match word.as_str() {
                    "True" => Some(Value::Bool(true)),
                    "False" => Some(Value::Bool(false)),
                    "None" => Some(Value::Null),
                    w if is_string_prefix(w) && matches!(self.peek(), Some('\'' | '"')) => {
                        self.pos = start;
                        self.strings()
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// Comma-separated values up to `close` (trailing comma allowed).
    fn items(&mut self, close: char) -> Option<Vec<Value>> {
        let mut out = Vec::new();
        loop {
            if self.eat(close) {
                return Some(out);
            }
            out.push(self.value()?);
            if !self.eat(',') {
                return self.eat(close).then_some(out);
            }
        }
    }

    fn tuple(&mut self) -> Option<Value> {
        self.pos += 1;
        if self.eat(')') {
            return Some(Value::Array(vec![]));
        }
        let first = self.value()?;
        if self.eat(')') {
            return Some(first); // parenthesised expression, not a tuple
        }
        if !self.eat(',') {
            return None;
        }
        let mut rest = self.items(')')?;
        rest.insert(0, first);
        Some(Value::Array(rest))
    }

    fn dict_or_set(&mut self) -> Option<Value> {
        self.pos += 1;
        let mut map = Map::new();
        if self.eat('}') {
            return Some(Value::Object(map));
        }
        let first = self.value()?;
        if !self.eat(':') {
            // A set: Ansible would keep a Python set; JSON has only lists.
            let mut items = vec![first];
            if self.eat(',') {
                items.extend(self.items('}')?);
            } else if !self.eat('}') {
                return None;
            }
            return Some(Value::Array(items));
        }
        let mut key = first;
        loop {
            let v = self.value()?;
            map.insert(key_text(&key)?, v);
            if !self.eat(',') {
                return self.eat('}').then_some(Value::Object(map));
            }
            if self.eat('}') {
                return Some(Value::Object(map));
            }
            key = self.value()?;
            if !self.eat(':') {
                return None;
            }
        }
    }

    fn number(&mut self) -> Option<Value> {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            || (self.peek().is_some_and(|c| c == '+' || c == '-')
                && matches!(self.chars.get(self.pos.wrapping_sub(1)), Some('e' | 'E'))
                && !self.chars[start..self.pos]
                    .iter()
                    .any(|c| matches!(c, 'x' | 'X')))
        {
            self.pos += 1;
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        parse_number(&text)
    }

    /// One or more adjacent string literals, joined.
    fn strings(&mut self) -> Option<Value> {
        let mut out = String::new();
        let mut any = false;
        loop {
            self.skip_space();
            let start = self.pos;
            let mut raw = false;
            while let Some(c) = self.peek().filter(|c| c.is_ascii_alphabetic()) {
                raw |= c == 'r' || c == 'R';
                self.pos += 1;
            }
            let prefix: String = self.chars[start..self.pos].iter().collect();
            if !prefix.is_empty() && !is_string_prefix(&prefix) {
                return None;
            }
            match self.peek() {
                Some(q @ ('\'' | '"')) => {
                    out.push_str(&self.string_body(q, raw)?);
                    any = true;
                }
                _ => {
                    self.pos = start;
                    return any.then_some(Value::String(out));
                }
            }
        }
    }

    fn string_body(&mut self, quote: char, raw: bool) -> Option<String> {
        let triple = self.chars.get(self.pos + 1) == Some(&quote)
            && self.chars.get(self.pos + 2) == Some(&quote);
        self.pos += if triple { 3 } else { 1 };
        let mut out = String::new();
        loop {
            let c = self.peek()?;
            if c == quote {
                if !triple {
                    self.pos += 1;
                    return Some(out);
                }
                if self.chars.get(self.pos + 1) == Some(&quote)
                    && self.chars.get(self.pos + 2) == Some(&quote)
                {
                    self.pos += 3;
                    return Some(out);
                }
            }
            self.pos += 1;
            if c == '\\' {
                let e = self.peek()?;
                self.pos += 1;
                if raw {
                    out.push('\\');
                    out.push(e);
                    continue;
                }
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    '0' => out.push('\0'),
                    'a' => out.push('\x07'),
                    'b' => out.push('\x08'),
                    'f' => out.push('\x0c'),
                    'v' => out.push('\x0b'),
                    '\\' | '\'' | '"' => out.push(e),
                    'x' => out.push(self.hex_escape(2)?),
                    'u' => out.push(self.hex_escape(4)?),
                    'U' => out.push(self.hex_escape(8)?),
                    other => {
                        out.push('\\');
                        out.push(other);
                    }
                }
            } else {
                out.push(c);
            }
        }
    }

    fn hex_escape(&mut self, len: usize) -> Option<char> {
        let digits: String = self.chars.get(self.pos..self.pos + len)?.iter().collect();
        self.pos += len;
        char::from_u32(u32::from_str_radix(&digits, 16).ok()?)
    }
}

fn is_string_prefix(w: &str) -> bool {
    matches!(
        w.to_ascii_lowercase().as_str(),
        "r" | "u" | "b" | "br" | "rb"
    )
}

/// A dict key as Ansible would print it (`str()` of the Python value).
fn key_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(true) => Some("True".into()),
        Value::Bool(false) => Some("False".into()),
        Value::Null => Some("None".into()),
        _ => None,
    }
}

fn parse_number(text: &str) -> Option<Value> {
    if text.contains("__") || text.ends_with('_') || text.starts_with('_') {
        return None;
    }
    let clean = text.replace('_', "");
    let lower = clean.to_ascii_lowercase();
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(digits) = lower.strip_prefix(prefix) {
            return i64::from_str_radix(digits, radix).ok().map(Value::from);
        }
    }
    if lower.bytes().all(|b| b.is_ascii_digit()) {
        // Python 3 rejects leading zeros in non-zero decimals (`007`).
        if lower.len() > 1 && lower.starts_with('0') && lower.bytes().any(|b| b != b'0') {
            return None;
        }
        return match lower.parse::<i64>() {
            Ok(i) => Some(Value::from(i)),
            Err(_) => lower.parse::<u64>().ok().map(Value::from),
        };
    }
    let float_chars = lower
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'+' | b'-'));
    if !float_chars || !lower.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    let f: f64 = lower.parse().ok()?;
    serde_json::Number::from_f64(f).map(Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn literals() {
        let cases = [
            ("1", json!(1)),
            ("-3", json!(-3)),
            ("0x10", json!(16)),
            ("0o17", json!(15)),
            ("1_000", json!(1000)),
            ("1.5", json!(1.5)),
            ("1e3", json!(1000.0)),
            ("True", json!(true)),
            ("False", json!(false)),
            ("None", json!(null)),
            ("'q'", json!("q")),
            ("\"a b\"", json!("a b")),
            ("'a' \"b\"", json!("ab")),
            ("'tab\\there'", json!("tab\there")),
            ("r'\\d+'", json!("\\d+")),
            ("[1, 'two', [3]]", json!([1, "two", [3]])),
            ("(1, 2)", json!([1, 2])),
            ("(1,)", json!([1])),
            ("(5)", json!(5)),
            (
                "{'a': 1, 'b': [True, None]}",
                json!({"a": 1, "b": [true, null]}),
            ),
            ("{1: 'x',}", json!({"1": "x"})),
            ("{1, 2}", json!([1, 2])),
            ("1 # trailing comment", json!(1)),
            ("  7", json!(7)),
            ("+5", json!(5)),
            ("- 2", json!(-2)),
            ("1.", json!(1.0)),
            (".5", json!(0.5)),
            ("[]", json!([])),
            ("()", json!([])),
            ("{}", json!({})),
        ];
        for (text, want) in cases {
            assert_eq!(parse_value(text), want, "{text}");
        }
    }

    #[test]
    fn non_literals_stay_text() {
        for text in [
            "yes",
            "FALSE",
            "true",
            "hello world",
            "x # y",
            "007",
            "1.2.3",
            "[1, 2",
            "'open",
            "",
            "a=b",
            "10.0.3.11",
            "1_",
            "{'a' 1}",
            "f'x'",
            "1 2",
        ] {
            assert_eq!(parse_value(text), json!(text), "{text}");
        }
    }
}

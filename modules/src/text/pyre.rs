//! Python `re` compatibility for the regular expressions and replacement templates that playbooks
//! pass to `lineinfile`, `blockinfile` and `replace`.
//!
//! Patterns are translated to Rust's `regex` syntax where the two differ in ways real playbooks
//! hit: a `{` that is not a repetition (`server {`) is a literal in Python, `\Z` is Rust's `\z`,
//! `{,n}` means `{0,n}`, and `[`/`&&`/`--`/`~~` inside a class are literals in Python. Lookaround
//! (`(?=…)`, `(?!…)`, `(?<=…)`, `(?<!…)`) and backreferences inside a pattern (`\1`, `(?P=name)`)
//! are not supported and give a clear error.
//!
//! Replacement templates follow `re.sub`/`Match.expand`: `\1`…`\99`, `\g<1>`, `\g<name>`, the
//! escapes `\n \t \r \f \v \a \b \\`, and an unmatched group expands to nothing.

use regex::bytes::{Captures, Regex, RegexBuilder};

/// Compiles a Python-syntax pattern; `multiline` and `dotall` set `re.MULTILINE`/`re.DOTALL`.
pub fn compile(pattern: &str, multiline: bool, dotall: bool) -> Result<Regex, String> {
    let translated = translate(pattern)?;
    RegexBuilder::new(&translated)
        .multi_line(multiline)
        .dot_matches_new_line(dotall)
        .build()
        .map_err(|e| format!("invalid regular expression '{pattern}': {e}"))
}

fn unsupported(pattern: &str, what: &str) -> String {
    format!("unsupported regular expression '{pattern}': {what} is not supported by drover's regex engine")
}

/// True when `chars[i..]` starts a valid Python repetition `{m}`, `{m,}`, `{,n}` or `{m,n}`;
/// returns the index after the closing brace and the Rust spelling.
fn repetition_at(chars: &[char], i: usize) -> Option<(usize, String)> {
    let close = chars[i..].iter().position(|c| *c == '}')? + i;
    let body: String = chars[i + 1..close].iter().collect();
    let (lo, hi) = match body.split_once(',') {
        Some((lo, hi)) => (lo, Some(hi)),
        None => (body.as_str(), None),
    };
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if !digits(lo) || !hi.is_none_or(digits) {
        return None;
    }
    match hi {
        None if lo.is_empty() => None,
        None => Some((close + 1, format!("{{{lo}}}"))),
        Some(hi) => {
            let lo = if lo.is_empty() { "0" } else { lo };
            Some((close + 1, format!("{{{lo},{hi}}}")))
        }
    }
}

/// Translates Python `re` syntax into Rust `regex` syntax.
pub fn translate(pattern: &str) -> Result<String, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut in_class = false;
    let mut class_start = 0;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            let Some(&next) = chars.get(i + 1) else {
                return Err(format!(
                    "invalid regular expression '{pattern}': bad escape (end of pattern)"
                ));
            };
            match next {
                'Z' if !in_class => out.push_str("\\z"),
                '1'..='9' if !in_class => {
                    return Err(unsupported(pattern, "a backreference"));
                }
                _ => {
                    out.push('\\');
                    out.push(next);
                }
            }
            i += 2;
            continue;
        }
        if in_class {
            match c {
                ']' if i > class_start => {
                    in_class = false;
                    out.push(']');
                }
                '[' | '&' | '~' => {
                    out.push('\\');
                    out.push(c);
                }
                '-' if chars.get(i + 1) == Some(&'-') => out.push_str("\\-"),
                _ => out.push(c),
            }
            i += 1;
            continue;
        }
        match c {
            '[' => {
                in_class = true;
                out.push('[');
                i += 1;
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                // A `]` right after `[` or `[^` is a literal in both syntaxes; escape it for Rust.
                if chars.get(i) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
                class_start = i;
                continue;
            }
            '{' => match repetition_at(&chars, i) {
                Some((end, rep)) => {
                    out.push_str(&rep);
                    i = end;
                    continue;
                }
                None => out.push_str("\\{"),
            },
            '}' => out.push_str("\\}"),
            '(' if chars.get(i + 1) == Some(&'?') => {
                let rest: String = chars[i + 2..].iter().take(3).collect();
                if rest.starts_with('=')
                    || rest.starts_with('!')
                    || rest.starts_with("<=")
                    || rest.starts_with("<!")
                {
                    return Err(unsupported(pattern, "lookaround"));
                }
                if rest.starts_with("P=") {
                    return Err(unsupported(pattern, "a backreference"));
                }
                out.push('(');
            }
            _ => out.push(c),
        }
        i += 1;
    }
    Ok(out)
}

/// Searches one line read with Python's `readlines()` (its `\n` kept). Python's `$` also matches
/// just before a final newline, so the line is searched without it first, then as a whole (for
/// patterns that match the newline itself).
pub fn search_line<'h>(re: &Regex, line: &'h [u8]) -> Option<Captures<'h>> {
    if let Some(stripped) = line.strip_suffix(b"\n") {
        if let Some(c) = re.captures(stripped) {
            return Some(c);
        }
    }
    re.captures(line)
}

/// One piece of a parsed replacement template.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Literal(Vec<u8>),
    Group(usize),
    Named(String),
}

/// A parsed Python replacement template (`\1`, `\g<name>`, escapes).
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pieces: Vec<Piece>,
}

impl Template {
    /// Parses `template`, checking group references against `re` as Python does.
    pub fn parse(template: &str, re: &Regex) -> Result<Self, String> {
        let b = template.as_bytes();
        let mut pieces = Vec::new();
        let mut lit = Vec::new();
        let mut i = 0;
        let group_count = re.captures_len();
        let check_num = |n: usize| {
            if n >= group_count {
                Err(format!("invalid group reference {n} in '{template}'"))
            } else {
                Ok(n)
            }
        };
        while i < b.len() {
            if b[i] != b'\\' || i + 1 >= b.len() {
                lit.push(b[i]);
                i += 1;
                continue;
            }
            let next = b[i + 1];
            let mut group = None;
            match next {
                b'g' => {
                    let rest = &template[i + 2..];
                    let Some(close) = rest.strip_prefix('<').and_then(|r| r.find('>')) else {
                        return Err(format!("missing group name in '{template}'"));
                    };
                    let name = &rest[1..=close];
                    i += 2 + close + 2;
                    group = Some(match name.parse::<usize>() {
                        Ok(n) => Piece::Group(check_num(n)?),
                        Err(_) => {
                            if !re.capture_names().flatten().any(|n| n == name) {
                                return Err(format!("unknown group name '{name}' in '{template}'"));
                            }
                            Piece::Named(name.to_string())
                        }
                    });
                }
                b'1'..=b'9' => {
                    let mut n = usize::from(next - b'0');
                    i += 2;
                    if let Some(d) = b.get(i).filter(|d| d.is_ascii_digit()) {
                        n = n * 10 + usize::from(d - b'0');
                        i += 1;
                    }
                    group = Some(Piece::Group(check_num(n)?));
                }
                b'0' => {
                    // Octal escape: up to three octal digits.
                    let mut v: u32 = 0;
                    let mut j = i + 1;
                    while j < b.len() && j < i + 4 && (b'0'..=b'7').contains(&b[j]) {
                        v = v * 8 + u32::from(b[j] - b'0');
                        j += 1;
                    }
                    lit.push((v & 0xff) as u8);
                    i = j;
                }
                b'n' | b't' | b'r' | b'f' | b'v' | b'a' | b'b' | b'\\' => {
                    lit.push(match next {
                        b'n' => b'\n',
                        b't' => b'\t',
                        b'r' => b'\r',
                        b'f' => 0x0c,
                        b'v' => 0x0b,
                        b'a' => 0x07,
                        b'b' => 0x08,
                        _ => b'\\',
                    });
                    i += 2;
                }
                c if c.is_ascii_alphabetic() => {
                    return Err(format!("bad escape \\{} in '{template}'", c as char));
                }
                _ => {
                    lit.push(b'\\');
                    i += 1;
                }
            }
            if let Some(g) = group {
                if !lit.is_empty() {
                    pieces.push(Piece::Literal(std::mem::take(&mut lit)));
                }
                pieces.push(g);
            }
        }
        if !lit.is_empty() {
            pieces.push(Piece::Literal(lit));
        }
        Ok(Self { pieces })
    }

    /// The template with groups filled from `caps` (an unmatched group gives nothing).
    pub fn expand(&self, caps: &Captures<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        for p in &self.pieces {
            match p {
                Piece::Literal(l) => out.extend_from_slice(l),
                Piece::Group(n) => {
                    if let Some(m) = caps.get(*n) {
                        out.extend_from_slice(m.as_bytes());
                    }
                }
                Piece::Named(n) => {
                    if let Some(m) = caps.name(n) {
                        out.extend_from_slice(m.as_bytes());
                    }
                }
            }
        }
        out
    }
}

/// `re.subn(pattern, template, text)`: every non-overlapping match replaced; returns the new text
/// and the number of replacements. Like Python 3.7+, an empty match right after a previous match
/// is replaced too.
pub fn subn(re: &Regex, template: &Template, text: &[u8]) -> (Vec<u8>, usize) {
    let mut out = Vec::with_capacity(text.len());
    let mut last = 0;
    let mut count = 0;
    let mut pos = 0;
    while pos <= text.len() {
        let Some(caps) = re.captures_at(text, pos) else {
            break;
        };
        let Some(m) = caps.get(0) else { break };
        out.extend_from_slice(&text[last..m.start()]);
        out.extend_from_slice(&template.expand(&caps));
        last = m.end();
        count += 1;
        pos = if m.is_empty() {
            // Step over one character (or byte) so the search moves on.
            if m.end() < text.len() {
                out.push(text[m.end()]);
                last = m.end() + 1;
            }
            m.end() + 1
        } else {
            m.end()
        };
    }
    if last < text.len() {
        out.extend_from_slice(&text[last..]);
    }
    (out, count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translates_python_only_syntax() {
        assert_eq!(translate(r"server {").unwrap(), r"server \{");
        assert_eq!(translate(r"a{2}b{,3}c{1,}").unwrap(), r"a{2}b{0,3}c{1,}");
        assert_eq!(translate(r"end\Z").unwrap(), r"end\z");
        assert_eq!(translate(r"[[]x[a&&b]").unwrap(), r"[\[]x[a\&\&b]");
        assert_eq!(translate(r"[]a]").unwrap(), r"[\]a]");
        assert!(translate(r"^(?!#)foo").unwrap_err().contains("lookaround"));
        assert!(translate(r"(a)\1").unwrap_err().contains("backreference"));
        assert!(compile(r"^\s*listen\s+80;\s*$", false, false).is_ok());
        assert!(compile(r"\/etc\/", false, false).is_ok());
    }

    #[test]
    fn dollar_matches_before_the_final_newline() {
        let re = compile(r"^(.*)=(.*)$", false, false).unwrap();
        let caps = search_line(&re, b"key=value\n").unwrap();
        assert_eq!(&caps[2], b"value");
        let nl = compile(r"o\n", false, false).unwrap();
        assert!(search_line(&nl, b"foo\n").is_some());
    }

    #[test]
    fn templates_expand_like_python() {
        let re = compile(r"^(?P<k>\w+)=(\w+)?", false, false).unwrap();
        let caps = re.captures(b"key=").unwrap();
        let t = Template::parse(r"\g<k>:\2|\1\t\\x\.", &re).unwrap();
        assert_eq!(t.expand(&caps), b"key:|key\t\\x\\.");
        assert!(Template::parse(r"\3", &re).is_err());
        assert!(Template::parse(r"\q", &re).is_err());
        assert!(Template::parse(r"\g<nope>", &re).is_err());
        let re = compile(r"(\d)", false, false).unwrap();
        let t = Template::parse(r"\10", &re).unwrap_err();
        assert!(t.contains("invalid group reference 10"));
    }

    #[test]
    fn subn_counts_and_replaces() {
        let re = compile(r"^(\w+) = (\w+)$", true, false).unwrap();
        let t = Template::parse(r"\1=\2", &re).unwrap();
        let (out, n) = subn(&re, &t, b"a = 1\nb = 2\nc\n");
        assert_eq!(out, b"a=1\nb=2\nc\n");
        assert_eq!(n, 2);
        let re = compile(r"x*", false, false).unwrap();
        let t = Template::parse("-", &re).unwrap();
        assert_eq!(subn(&re, &t, b"abxd").0, b"-a-b--d-");
    }
}

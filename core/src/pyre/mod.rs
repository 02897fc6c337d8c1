//! Python `re` compatibility for the regular expressions playbooks pass to modules
//! (`lineinfile`, `blockinfile`, `replace`, `wait_for`) and to the `regex_*` filters and tests.
//!
//! Patterns are translated to Rust syntax where the two differ in ways real playbooks hit: a `{`
//! that is not a repetition (`server {`) is a literal in Python, `\Z` is Rust's `\z`, `{,n}`
//! means `{0,n}`, and `[`/`&&`/`--`/`~~` inside a class are literals in Python.
//!
//! A pattern compiles with the linear-time `regex` crate when it can; patterns with lookaround
//! (`(?=…)`, `(?!…)`, `(?<=…)`, `(?<!…)`) or backreferences (`\1`, `(?P=name)`) fall back to
//! `fancy-regex`, a backtracking engine. The backtracking engine works on UTF-8 text only: such a
//! pattern finds no match in text that is not UTF-8.
//!
//! Replacement templates ([`Template`]) follow `re.sub`/`Match.expand`: `\1`…`\99`, `\g<1>`,
//! `\g<name>`, the escapes `\n \t \r \f \v \a \b \\`, and an unmatched group expands to nothing.

mod engine;
mod template;

pub use engine::{PyCaptures, PyMatch, PyRegex};
pub use template::{search_line, subn, subn_limited, Template};

/// Compiles a Python-syntax pattern; `multiline` and `dotall` set `re.MULTILINE`/`re.DOTALL`.
pub fn compile(pattern: &str, multiline: bool, dotall: bool) -> Result<PyRegex, String> {
    PyRegex::new(pattern, multiline, dotall, false)
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

/// A Python pattern rewritten in Rust syntax, and whether it needs the backtracking engine
/// (lookaround or backreferences).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translated {
    /// The pattern in `regex`/`fancy-regex` syntax.
    pub pattern: String,
    /// True when the pattern uses lookaround or backreferences.
    pub needs_backtracking: bool,
}

/// Translates Python `re` syntax into Rust `regex` syntax.
pub fn translate(pattern: &str) -> Result<Translated, String> {
    let mut needs_backtracking = false;
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
                    needs_backtracking = true;
                    out.push('\\');
                    out.push(next);
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
                    || rest.starts_with("P=")
                {
                    needs_backtracking = true;
                }
                out.push('(');
            }
            _ => out.push(c),
        }
        i += 1;
    }
    Ok(Translated {
        pattern: out,
        needs_backtracking,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translates_python_only_syntax() {
        let t = |p: &str| translate(p).unwrap().pattern;
        assert_eq!(t(r"server {"), r"server \{");
        assert_eq!(t(r"a{2}b{,3}c{1,}"), r"a{2}b{0,3}c{1,}");
        assert_eq!(t(r"end\Z"), r"end\z");
        assert_eq!(t(r"[[]x[a&&b]"), r"[\[]x[a\&\&b]");
        assert_eq!(t(r"[]a]"), r"[\]a]");
        let fancy = |p: &str| translate(p).unwrap().needs_backtracking;
        assert!(fancy(r"^(?!#)foo") && fancy(r"(?<=a)b") && fancy(r"(a)\1"));
        assert!(fancy(r"(?P<x>a)(?P=x)"));
        assert!(!fancy(r"^(?P<x>a)[\1]") && !fancy(r"(?:a)(?i:b)"));
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

    #[test]
    fn lookaround_substitutes_like_python() {
        // re.subn(r'(?<=port=)\d+', '8080', 'port=80 sport=81 port=82') in Python 3.
        let re = compile(r"(?<=\bport=)\d+", false, false).unwrap();
        let t = Template::parse("8080", &re).unwrap();
        let (out, n) = subn(&re, &t, b"port=80 sport=81 port=82");
        assert_eq!(
            (out.as_slice(), n),
            (&b"port=8080 sport=81 port=8080"[..], 2)
        );
        // Group references still work on the backtracking engine.
        let re = compile(r"^(?!#)(\w+)=(\w+)$", true, false).unwrap();
        let t = Template::parse(r"\g<1> = \2", &re).unwrap();
        let (out, n) = subn(&re, &t, b"a=1\n#b=2\nc=3\n");
        assert_eq!((out.as_slice(), n), (&b"a = 1\n#b=2\nc = 3\n"[..], 2));
        let line = search_line(&re, b"#x=1\n");
        assert!(line.is_none());
    }
}

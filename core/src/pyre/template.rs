//! Replacement templates and substitution with Python's `re.sub` semantics.

use super::{PyCaptures, PyRegex};

/// Searches one line read with Python's `readlines()` (its `\n` kept). Python's `$` also matches
/// just before a final newline, so the line is searched without it first, then as a whole (for
/// patterns that match the newline itself).
pub fn search_line<'h>(re: &PyRegex, line: &'h [u8]) -> Option<PyCaptures<'h>> {
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
    pub fn parse(template: &str, re: &PyRegex) -> Result<Self, String> {
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
    pub fn expand(&self, caps: &PyCaptures<'_>) -> Vec<u8> {
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
pub fn subn(re: &PyRegex, template: &Template, text: &[u8]) -> (Vec<u8>, usize) {
    subn_limited(re, template, text, 0)
}

/// [`subn`] replacing at most `limit` matches (`0` = all), as `re.subn(..., count=limit)`.
pub fn subn_limited(
    re: &PyRegex,
    template: &Template,
    text: &[u8],
    limit: usize,
) -> (Vec<u8>, usize) {
    let mut out = Vec::with_capacity(text.len());
    let mut last = 0;
    let mut count = 0;
    let mut pos = 0;
    while pos <= text.len() && (limit == 0 || count < limit) {
        let Some(caps) = re.captures_at(text, pos) else {
            break;
        };
        let Some(m) = caps.get(0) else { break };
        out.extend_from_slice(&text[last..m.start()]);
        out.extend_from_slice(&template.expand(&caps));
        last = m.end();
        count += 1;
        pos = if m.is_empty() {
            // Step over one character so the search moves on.
            let step = char_len_at(text, m.end());
            if m.end() < text.len() {
                out.extend_from_slice(&text[m.end()..m.end() + step]);
                last = m.end() + step;
            }
            m.end() + step.max(1)
        } else {
            m.end()
        };
    }
    if last < text.len() {
        out.extend_from_slice(&text[last..]);
    }
    (out, count)
}

/// Length of the UTF-8 character starting at `text[i]` (1 for ASCII, invalid bytes and the end).
fn char_len_at(text: &[u8], i: usize) -> usize {
    let len = match text.get(i) {
        Some(b) if *b >= 0xF0 => 4,
        Some(b) if *b >= 0xE0 => 3,
        Some(b) if *b >= 0xC0 => 2,
        _ => 1,
    };
    if i + len <= text.len() && std::str::from_utf8(&text[i..i + len]).is_ok() {
        len
    } else {
        1
    }
}

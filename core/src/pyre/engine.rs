//! One compiled pattern over two engines: `regex` (linear time) when the pattern allows it,
//! `fancy-regex` (backtracking) for lookaround and backreferences.

use std::ops::Index;
use std::sync::Arc;

use super::translate;

/// A compiled Python-syntax regular expression.
#[derive(Debug, Clone)]
pub struct PyRegex {
    engine: Engine,
    names: Arc<[Option<String>]>,
}

#[derive(Debug, Clone)]
enum Engine {
    Linear(regex::bytes::Regex),
    Backtracking(Box<fancy_regex::Regex>),
}

/// One match: its byte span in the haystack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PyMatch<'h> {
    haystack: &'h [u8],
    start: usize,
    end: usize,
}

impl<'h> PyMatch<'h> {
    /// Byte offset where the match starts.
    pub fn start(&self) -> usize {
        self.start
    }
    /// Byte offset just after the match.
    pub fn end(&self) -> usize {
        self.end
    }
    /// True for an empty match.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
    /// The matched bytes.
    pub fn as_bytes(&self) -> &'h [u8] {
        &self.haystack[self.start..self.end]
    }
}

/// The groups of one match (group 0 is the whole match).
#[derive(Debug, Clone)]
pub struct PyCaptures<'h> {
    haystack: &'h [u8],
    spans: Vec<Option<(usize, usize)>>,
    names: Arc<[Option<String>]>,
}

impl<'h> PyCaptures<'h> {
    /// Group `i`, if it took part in the match.
    pub fn get(&self, i: usize) -> Option<PyMatch<'h>> {
        let (start, end) = (*self.spans.get(i)?)?;
        Some(PyMatch {
            haystack: self.haystack,
            start,
            end,
        })
    }
    /// The named group `name`, if it exists and took part in the match.
    pub fn name(&self, name: &str) -> Option<PyMatch<'h>> {
        let i = self.names.iter().position(|n| n.as_deref() == Some(name))?;
        self.get(i)
    }
    /// Number of groups, including group 0.
    pub fn len(&self) -> usize {
        self.spans.len()
    }
    /// Always false: group 0 is always present.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
}

impl Index<usize> for PyCaptures<'_> {
    type Output = [u8];
    fn index(&self, i: usize) -> &[u8] {
        self.get(i).map_or(&[][..], |m| m.as_bytes())
    }
}

impl PyRegex {
    /// Compiles `pattern` (Python syntax) with the given `re` flags.
    pub fn new(
        pattern: &str,
        multiline: bool,
        dotall: bool,
        ignorecase: bool,
    ) -> Result<Self, String> {
        let translated = translate(pattern)?;
        let invalid =
            |e: &dyn std::fmt::Display| format!("invalid regular expression '{pattern}': {e}");
        let linear = if translated.needs_backtracking {
            None
        } else {
            Some(
                regex::bytes::RegexBuilder::new(&translated.pattern)
                    .multi_line(multiline)
                    .dot_matches_new_line(dotall)
                    .case_insensitive(ignorecase)
                    .build(),
            )
        };
        let engine = match linear {
            Some(Ok(re)) => Engine::Linear(re),
            // Anything the linear engine rejects (or cannot do) gets one try with the
            // backtracking engine, which also knows atomic groups and possessive repetition.
            other => {
                let flags: String = [(multiline, 'm'), (dotall, 's'), (ignorecase, 'i')]
                    .iter()
                    .filter(|(on, _)| *on)
                    .map(|(_, f)| *f)
                    .collect();
                let full = if flags.is_empty() {
                    translated.pattern.clone()
                } else {
                    format!("(?{flags}){}", translated.pattern)
                };
                match (fancy_regex::Regex::new(&full), other) {
                    (Ok(re), _) => Engine::Backtracking(Box::new(re)),
                    (Err(_), Some(Err(linear_error))) => return Err(invalid(&linear_error)),
                    (Err(e), _) => return Err(invalid(&e)),
                }
            }
        };
        let names: Vec<Option<String>> = match &engine {
            Engine::Linear(re) => re.capture_names().map(|n| n.map(String::from)).collect(),
            Engine::Backtracking(re) => re.capture_names().map(|n| n.map(String::from)).collect(),
        };
        Ok(Self {
            engine,
            names: names.into(),
        })
    }

    /// True when the pattern runs on the backtracking engine.
    pub fn is_backtracking(&self) -> bool {
        matches!(self.engine, Engine::Backtracking(_))
    }

    /// Number of groups, including group 0.
    pub fn captures_len(&self) -> usize {
        self.names.len()
    }

    /// Group names in group order (`None` for unnamed groups and group 0).
    pub fn capture_names(&self) -> impl Iterator<Item = Option<&str>> {
        self.names.iter().map(|n| n.as_deref())
    }

    /// The first match's groups.
    pub fn captures<'h>(&self, haystack: &'h [u8]) -> Option<PyCaptures<'h>> {
        self.captures_at(haystack, 0)
    }

    /// The groups of the first match starting at or after byte `pos` (anchors and lookbehind
    /// still see the text before `pos`).
    pub fn captures_at<'h>(&self, haystack: &'h [u8], pos: usize) -> Option<PyCaptures<'h>> {
        let spans: Vec<Option<(usize, usize)>> = match &self.engine {
            Engine::Linear(re) => {
                let caps = re.captures_at(haystack, pos)?;
                (0..caps.len())
                    .map(|i| caps.get(i).map(|m| (m.start(), m.end())))
                    .collect()
            }
            Engine::Backtracking(re) => {
                let text = std::str::from_utf8(haystack).ok()?;
                if !text.is_char_boundary(pos.min(text.len())) {
                    return None;
                }
                // A runtime error (backtrack limit exceeded) counts as no match.
                let caps = re.captures_from_pos(text, pos).ok()??;
                (0..caps.len())
                    .map(|i| caps.get(i).map(|m| (m.start(), m.end())))
                    .collect()
            }
        };
        Some(PyCaptures {
            haystack,
            spans,
            names: self.names.clone(),
        })
    }

    /// The first match.
    pub fn find<'h>(&self, haystack: &'h [u8]) -> Option<PyMatch<'h>> {
        self.captures(haystack)?.get(0)
    }

    /// True when the pattern matches anywhere in `haystack`.
    pub fn is_match(&self, haystack: &[u8]) -> bool {
        match &self.engine {
            Engine::Linear(re) => re.is_match(haystack),
            Engine::Backtracking(_) => self.captures(haystack).is_some(),
        }
    }

    /// Every non-overlapping match, as Python's `re.finditer` (an empty match right after a
    /// previous one counts).
    pub fn captures_all<'h>(&self, haystack: &'h [u8]) -> Vec<PyCaptures<'h>> {
        let mut out = Vec::new();
        let mut pos = 0;
        while pos <= haystack.len() {
            let Some(caps) = self.captures_at(haystack, pos) else {
                break;
            };
            let Some(m) = caps.get(0) else { break };
            pos = if m.is_empty() {
                let rest = haystack.get(m.end()..).unwrap_or_default();
                let step = std::str::from_utf8(rest)
                    .ok()
                    .and_then(|s| s.chars().next())
                    .map_or(1, char::len_utf8);
                m.end() + step
            } else {
                m.end()
            };
            out.push(caps);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_patterns_use_the_linear_engine() {
        let re = PyRegex::new(r"^(?P<k>\w+)=(\d+)$", false, false, false).unwrap();
        assert!(!re.is_backtracking());
        let caps = re.captures(b"port=80").unwrap();
        assert_eq!(&caps[2], b"80");
        assert_eq!(caps.name("k").unwrap().as_bytes(), b"port");
        assert_eq!(
            re.capture_names().collect::<Vec<_>>(),
            [None, Some("k"), None]
        );
    }

    #[test]
    fn lookaround_and_backreferences_use_the_backtracking_engine() {
        let re = PyRegex::new(r"^(?!#)\s*listen(?=\s)", false, false, false).unwrap();
        assert!(re.is_backtracking());
        assert!(re.is_match(b"  listen 80;"));
        assert!(!re.is_match(b"#listen 80;"));
        assert!(!re.is_match(b"listener"));
        let re = PyRegex::new(r"(?<=user=)\w+", false, false, false).unwrap();
        assert_eq!(re.find(b"a user=bob").unwrap().as_bytes(), b"bob");
        let re = PyRegex::new(r"(?<!no)pe", false, false, false).unwrap();
        assert_eq!(re.find(b"nope pe").unwrap().start(), 5);
        let re = PyRegex::new(r"(\w+) \1", false, false, false).unwrap();
        assert_eq!(
            re.find(b"say hello hello").unwrap().as_bytes(),
            b"hello hello"
        );
        let re = PyRegex::new(r"(?P<w>\w+)-(?P=w)", false, false, false).unwrap();
        assert_eq!(re.find(b"ab-ab").unwrap().as_bytes(), b"ab-ab");
        // Flags reach the backtracking engine too.
        let re = PyRegex::new(r"^b(?=x)", true, false, true).unwrap();
        assert!(re.is_match(b"a\nBx"));
        // Not UTF-8: no match rather than a crash.
        assert!(!PyRegex::new(r"a(?=b)", false, false, false)
            .unwrap()
            .is_match(b"\xffab"));
    }

    #[test]
    fn bad_patterns_name_the_pattern() {
        let e = PyRegex::new(r"(unclosed", false, false, false).unwrap_err();
        assert!(e.contains("'(unclosed'"), "{e}");
        let e = PyRegex::new(r"a(?=b", false, false, false).unwrap_err();
        assert!(e.contains("invalid regular expression 'a(?=b'"), "{e}");
    }

    #[test]
    fn captures_all_steps_over_empty_matches() {
        let re = PyRegex::new(r"x*", false, false, false).unwrap();
        let all: Vec<_> = re
            .captures_all("aé".as_bytes())
            .iter()
            .map(|c| c.get(0).unwrap().start())
            .collect();
        assert_eq!(all, [0, 1, 3]);
    }
}

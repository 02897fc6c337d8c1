//! Host patterns (`hosts:` of a play, `ansible PATTERN`) and limits (`-l`), as in Ansible's
//! "Patterns: targeting hosts and groups".
//!
//! - A pattern containing `,` is split on commas only; otherwise it is one pattern if it is a
//!   valid address (`host:22`, an IPv6 address, `web[1:3]`) and else split on `:` (ranges and
//!   `[..]` subscripts stay whole).
//! - Each part is a name, an `fnmatch` glob (`web*`, `db?.example.com`, `[ab]*`), or a regex
//!   after `~` (matched at the start of the name, like Python's `re.match`). It selects the hosts
//!   of every matching group (with their descendants), plus matching hosts when no group matched
//!   or the part is a regex or contains `.`, `?`, `*` or `[`.
//! - `&part` intersects, `!part` excludes. Plain parts are applied first, then intersections,
//!   then exclusions, whatever their order in the text; with only `&`/`!` parts, `all` is implied.
//! - A subscript picks by position: `web[0]`, `web[-1]`, `web[1:3]` (inclusive), `web[2:]`.
//!   Out-of-range picks select nothing.
//! - `localhost`, `127.0.0.1` and `::1` select the implicit localhost when the inventory has no
//!   such host (`all` never includes it).
//!
//! Results are in inventory order (Ansible's), without duplicates.

use std::collections::HashSet;
use std::path::Path;

use regex::Regex;

use super::{Inventory, InventoryError, LOCALHOST_NAMES};

/// Key under which every name of the implicit localhost is deduplicated.
const IMPLICIT_KEY: &str = "\0implicit-localhost";

/// A `--limit`: patterns, with each `@file` replaced by the file's lines (one pattern per
/// non-empty line, as in a `.retry` file).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limit {
    patterns: Vec<String>,
}

impl Limit {
    /// Parses a `-l` value such as `web*:!web03`, `db1,db2` or `@failed.retry`.
    pub fn parse(text: &str) -> Result<Limit, InventoryError> {
        let mut patterns = Vec::new();
        for part in split_patterns(text) {
            let Some(file) = part.strip_prefix('@') else {
                patterns.push(part);
                continue;
            };
            let path = Path::new(file);
            if path.is_dir() {
                return Err(InventoryError::Read {
                    path: file.to_string(),
                    message: "a limit starting with '@' must name a file, not a directory".into(),
                });
            }
            let body = crate::limits::read_text(path).map_err(|e| InventoryError::Read {
                path: file.to_string(),
                message: format!("cannot read limit file: {}", e.reason()),
            })?;
            patterns.extend(
                body.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(String::from),
            );
        }
        Ok(Limit { patterns })
    }

    /// The limit's patterns.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }
}

/// Splits a host pattern into its parts like Ansible's `split_host_pattern`.
pub fn split_patterns(pattern: &str) -> Vec<String> {
    let parts: Vec<String> = if pattern.contains(',') {
        pattern.split(',').map(String::from).collect()
    } else if super::address::parse_address(pattern.trim(), true).is_some() {
        vec![pattern.to_string()]
    } else {
        split_on_colons(pattern)
    };
    parts
        .into_iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// Words of non-space, non-`:` characters, where a `[...]` stays whole.
fn split_on_colons(pattern: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '[' => {
                let rest: String = chars.clone().collect();
                if let Some(end) = rest.find(']') {
                    cur.push('[');
                    cur.push_str(&rest[..=end]);
                    for _ in rest[..=end].chars() {
                        chars.next();
                    }
                } else if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c if c == ':' || c == ']' || c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Plain parts first, then `&` parts, then `!` parts; `all` if there is no plain part.
fn order_patterns(parts: &[String]) -> Vec<String> {
    let plain: Vec<String> = parts
        .iter()
        .filter(|p| !p.starts_with(['&', '!']))
        .cloned()
        .collect();
    let and = parts.iter().filter(|p| p.starts_with('&')).cloned();
    let not = parts.iter().filter(|p| p.starts_with('!')).cloned();
    let plain = if plain.is_empty() {
        vec!["all".to_string()]
    } else {
        plain
    };
    plain.into_iter().chain(and).chain(not).collect()
}

/// A `[n]` or `[a:b]` subscript on a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Subscript {
    Index(i64),
    Slice(usize, Option<usize>),
}

/// Splits `web[1:3]` into `web` and its subscript (regexes have none).
fn split_subscript(part: &str) -> (&str, Option<Subscript>) {
    if part.starts_with('~') || !part.ends_with(']') {
        return (part, None);
    }
    let Some(open) = part.rfind('[') else {
        return (part, None);
    };
    let (base, body) = (&part[..open], &part[open + 1..part.len() - 1]);
    if base.is_empty() {
        return (part, None);
    }
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let single = body.strip_prefix('-').unwrap_or(body);
    if digits(single) {
        return match body.parse() {
            Ok(i) => (base, Some(Subscript::Index(i))),
            Err(_) => (base, Some(Subscript::Slice(usize::MAX, Some(0)))),
        };
    }
    let Some((start, end)) = body.split_once([':', '-']) else {
        return (part, None);
    };
    if !digits(start) || !(end.is_empty() || digits(end)) {
        return (part, None);
    }
    let start = start.parse().unwrap_or(usize::MAX);
    let end = if end.is_empty() {
        None
    } else {
        Some(end.parse().unwrap_or(usize::MAX))
    };
    (base, Some(Subscript::Slice(start, end)))
}

fn apply_subscript(hosts: Vec<String>, sub: Option<Subscript>) -> Vec<String> {
    let len = hosts.len();
    match sub {
        None => hosts,
        Some(Subscript::Index(i)) => {
            let idx = if i < 0 { len as i64 + i } else { i };
            usize::try_from(idx)
                .ok()
                .and_then(|i| hosts.get(i).cloned())
                .into_iter()
                .collect()
        }
        // Ansible quirk kept: `[n:0]` is the single host `n`.
        Some(Subscript::Slice(start, Some(0))) => hosts.get(start).cloned().into_iter().collect(),
        Some(Subscript::Slice(start, end)) => {
            let end = end.map_or(len, |e| e.saturating_add(1).min(len));
            if start >= end {
                return Vec::new();
            }
            hosts[start..end].to_vec()
        }
    }
}

/// Compiles a glob (Python `fnmatch.translate`) or `~regex` into an anchored regex.
fn compile_matcher(part: &str) -> Result<Regex, InventoryError> {
    let source = match part.strip_prefix('~') {
        Some(re) => format!("^(?:{re})"),
        None => format!("^(?s:{})$", glob_to_regex(part)),
    };
    Regex::new(&source).map_err(|e| InventoryError::Pattern {
        pattern: part.to_string(),
        message: format!("invalid regular expression: {e}"),
    })
}

fn glob_to_regex(glob: &str) -> String {
    let chars: Vec<char> = glob.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            '[' => {
                let mut j = i;
                if chars.get(j) == Some(&'!') {
                    j += 1;
                }
                if chars.get(j) == Some(&']') {
                    j += 1;
                }
                while j < chars.len() && chars[j] != ']' {
                    j += 1;
                }
                if j >= chars.len() {
                    out.push_str("\\[");
                    continue;
                }
                let mut body: String = chars[i..j].iter().collect();
                i = j + 1;
                let negate = body.starts_with('!');
                if negate {
                    body.remove(0);
                }
                let escaped: String = body
                    .chars()
                    .map(|c| match c {
                        '\\' | '[' | ']' | '^' | '&' | '~' => format!("\\{c}"),
                        c => c.to_string(),
                    })
                    .collect();
                out.push('[');
                if negate {
                    out.push('^');
                }
                out.push_str(&escaped);
                out.push(']');
            }
            c => out.push_str(&regex::escape(&c.to_string())),
        }
    }
    out
}

impl Inventory {
    /// Hosts matching `pattern`, in inventory order. `localhost` (and `127.0.0.1`, `::1`) match
    /// the implicit localhost when the inventory does not define them. A pattern that matches
    /// nothing gives an empty list (see [`Inventory::unmatched_patterns`] to warn).
    pub fn select(&self, pattern: &str) -> Result<Vec<String>, InventoryError> {
        self.evaluate(&split_patterns(pattern))
    }

    /// Hosts matching any of several patterns (a play's `hosts:` list).
    pub fn select_patterns(&self, patterns: &[String]) -> Result<Vec<String>, InventoryError> {
        let parts: Vec<String> = patterns.iter().flat_map(|p| split_patterns(p)).collect();
        self.evaluate(&parts)
    }

    /// Hosts matching `pattern` and, if given, `limit` (Ansible's `--limit` subset).
    pub fn select_limited(
        &self,
        pattern: &str,
        limit: Option<&Limit>,
    ) -> Result<Vec<String>, InventoryError> {
        let hosts = self.select(pattern)?;
        match limit {
            Some(l) => self.apply_limit(&hosts, l),
            None => Ok(hosts),
        }
    }

    /// The hosts of `hosts` that `limit` selects, keeping their order.
    pub fn apply_limit(
        &self,
        hosts: &[String],
        limit: &Limit,
    ) -> Result<Vec<String>, InventoryError> {
        let allowed: HashSet<String> = self
            .evaluate(&limit.patterns)?
            .iter()
            .map(|h| self.dedup_key(h).to_string())
            .collect();
        Ok(hosts
            .iter()
            .filter(|h| allowed.contains(self.dedup_key(h)))
            .cloned()
            .collect())
    }

    /// The parts of `pattern` that match no group and no host (Ansible warns "Could not match
    /// supplied host pattern, ignoring: …" for each).
    pub fn unmatched_patterns(&self, pattern: &str) -> Result<Vec<String>, InventoryError> {
        let mut out = Vec::new();
        for part in split_patterns(pattern) {
            let bare = part.trim_start_matches(['&', '!']);
            let (expr, _) = split_subscript(bare);
            if expr != "all" && self.enumerate(expr)?.is_empty() && !self.has_host(bare) {
                out.push(part);
            }
        }
        Ok(out)
    }

    fn dedup_key<'a>(&self, host: &'a str) -> &'a str {
        if self.is_implicit_localhost(host) {
            IMPLICIT_KEY
        } else {
            host
        }
    }

    /// Ansible's `_evaluate_patterns` over already split parts.
    fn evaluate(&self, parts: &[String]) -> Result<Vec<String>, InventoryError> {
        let mut hosts: Vec<String> = Vec::new();
        let mut keys: HashSet<String> = HashSet::new();
        for part in order_patterns(parts) {
            if self.has_host(&part) {
                if keys.insert(part.clone()) {
                    hosts.push(part);
                }
                continue;
            }
            let matched = self.match_one(&part)?;
            let matched_keys: HashSet<&str> = matched.iter().map(|h| self.dedup_key(h)).collect();
            if part.starts_with('!') {
                hosts.retain(|h| !matched_keys.contains(self.dedup_key(h)));
            } else if part.starts_with('&') {
                hosts.retain(|h| matched_keys.contains(self.dedup_key(h)));
            } else {
                for h in matched {
                    if keys.insert(self.dedup_key(&h).to_string()) {
                        hosts.push(h);
                    }
                }
            }
            keys = hosts
                .iter()
                .map(|h| self.dedup_key(h).to_string())
                .collect();
        }
        Ok(hosts)
    }

    /// Hosts of one part (without its `&`/`!`), subscript applied.
    fn match_one(&self, part: &str) -> Result<Vec<String>, InventoryError> {
        let bare = part.trim_start_matches(['&', '!']);
        if bare.is_empty() {
            return Err(InventoryError::Pattern {
                pattern: part.to_string(),
                message: "nothing after '&' or '!'".into(),
            });
        }
        let (expr, sub) = split_subscript(bare);
        let mut seen = HashSet::new();
        let hosts: Vec<String> = self
            .enumerate(expr)?
            .into_iter()
            .filter(|h| seen.insert(h.clone()))
            .collect();
        Ok(apply_subscript(hosts, sub))
    }

    /// Ansible's `_enumerate_matches`: hosts of matching groups, then matching hosts, then the
    /// implicit localhost.
    fn enumerate(&self, expr: &str) -> Result<Vec<String>, InventoryError> {
        let matcher = compile_matcher(expr)?;
        let mut results = Vec::new();
        let mut any_group = false;
        for name in self.groups.keys() {
            if matcher.is_match(name) {
                any_group = true;
                results.extend(self.group_hosts(name));
            }
        }
        let wild = expr.starts_with('~') || expr.contains(['.', '?', '*', '[']);
        if !any_group || wild {
            results.extend(self.hosts.keys().filter(|h| matcher.is_match(h)).cloned());
        }
        if results.is_empty() && LOCALHOST_NAMES.contains(&expr) {
            if let Some(h) = self.resolve(expr) {
                results.push(h);
            }
        }
        Ok(results)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitting() {
        assert_eq!(split_patterns("web:&prod:!web3"), ["web", "&prod", "!web3"]);
        assert_eq!(split_patterns("a, b ,,c"), ["a", "b", "c"]);
        assert_eq!(split_patterns("a,b:c"), ["a", "b:c"]);
        assert_eq!(split_patterns("web[0:2]:db"), ["web[0:2]", "db"]);
        assert_eq!(split_patterns("web[1]:db[-1]"), ["web[1]", "db[-1]"]);
        assert_eq!(split_patterns("web[1:3]"), ["web[1:3]"]);
        assert_eq!(split_patterns("host:22"), ["host:22"]);
        assert_eq!(split_patterns("fe80::1"), ["fe80::1"]);
        assert_eq!(split_patterns("~web\\d+:db*"), ["~web\\d+", "db*"]);
    }

    #[test]
    fn ordering() {
        let parts: Vec<String> = ["!a", "&b", "c", "!d", "e"].map(String::from).into();
        assert_eq!(order_patterns(&parts), ["c", "e", "&b", "!a", "!d"]);
        let only_not: Vec<String> = vec!["!x".into()];
        assert_eq!(order_patterns(&only_not), ["all", "!x"]);
    }

    #[test]
    fn subscripts() {
        assert_eq!(
            split_subscript("web[0]"),
            ("web", Some(Subscript::Index(0)))
        );
        assert_eq!(
            split_subscript("web[-1]"),
            ("web", Some(Subscript::Index(-1)))
        );
        assert_eq!(
            split_subscript("web[1:3]"),
            ("web", Some(Subscript::Slice(1, Some(3))))
        );
        assert_eq!(
            split_subscript("web[2:]"),
            ("web", Some(Subscript::Slice(2, None)))
        );
        assert_eq!(split_subscript("~web[0]"), ("~web[0]", None));
        assert_eq!(split_subscript("web[ab]"), ("web[ab]", None));
        let hosts: Vec<String> = ["a", "b", "c", "d"].map(String::from).into();
        let pick = |s| apply_subscript(hosts.clone(), split_subscript(s).1);
        assert_eq!(pick("g[1:2]"), ["b", "c"]);
        assert_eq!(pick("g[2:]"), ["c", "d"]);
        assert_eq!(pick("g[-1]"), ["d"]);
        assert_eq!(pick("g[0]"), ["a"]);
        assert_eq!(pick("g[9]"), Vec::<String>::new());
        assert_eq!(pick("g[-9]"), Vec::<String>::new());
        assert_eq!(pick("g[3:9]"), ["d"]);
        assert_eq!(pick("g[1:0]"), ["b"]);
    }

    #[test]
    fn globs() {
        let m = |g: &str, s: &str| compile_matcher(g).unwrap().is_match(s);
        assert!(m("web*", "web01"));
        assert!(!m("web*", "xweb"));
        assert!(m("db?.ex.com", "db1.ex.com"));
        assert!(!m("db?.ex.com", "db1xexxcom"));
        assert!(m("[ab]*", "beta"));
        assert!(!m("[!ab]*", "beta"));
        assert!(m("x[", "x["));
        assert!(
            m("~web\\d", "web1.example"),
            "regex matches at the start only"
        );
        assert!(!m("~\\d", "web1"));
        assert!(compile_matcher("~(unclosed").is_err());
    }
}

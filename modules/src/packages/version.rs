//! Debian version comparison (`dpkg --compare-versions`) and the shell-style globs Ansible's apt
//! module uses for version pins (`name=1.2*`).

use std::cmp::Ordering;

/// A Debian version split into epoch, upstream version and revision.
struct DebVersion<'a> {
    epoch: u64,
    upstream: &'a str,
    revision: &'a str,
}

fn split_version(v: &str) -> DebVersion<'_> {
    let v = v.trim();
    let (epoch, rest) = match v.split_once(':') {
        Some((e, r)) if e.bytes().all(|b| b.is_ascii_digit()) && !e.is_empty() => {
            (e.parse().unwrap_or(0), r)
        }
        _ => (0, v),
    };
    let (upstream, revision) = match rest.rfind('-') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    DebVersion {
        epoch,
        upstream,
        revision,
    }
}

/// Sort weight of one non-digit character: `~` before everything (even the end), letters before
/// other characters.
fn char_order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(b'~') => -1,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

/// Compares one version part (upstream or revision) with dpkg's algorithm.
fn compare_part(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        // Non-digit prefix.
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let ca = a.get(i).copied().filter(|c| !c.is_ascii_digit());
            let cb = b.get(j).copied().filter(|c| !c.is_ascii_digit());
            let (oa, ob) = (char_order(ca), char_order(cb));
            if oa != ob {
                return oa.cmp(&ob);
            }
            if ca.is_some() {
                i += 1;
            }
            if cb.is_some() {
                j += 1;
            }
        }
        // Digit run.
        while i < a.len() && a[i] == b'0' {
            i += 1;
        }
        while j < b.len() && b[j] == b'0' {
            j += 1;
        }
        let si = i;
        while i < a.len() && a[i].is_ascii_digit() {
            i += 1;
        }
        let sj = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        let (da, db) = (&a[si..i], &b[sj..j]);
        let ord = da.len().cmp(&db.len()).then_with(|| da.cmp(db));
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// Compares two Debian versions as `dpkg --compare-versions` does.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let (va, vb) = (split_version(a), split_version(b));
    va.epoch
        .cmp(&vb.epoch)
        .then_with(|| compare_part(va.upstream, vb.upstream))
        .then_with(|| compare_part(va.revision, vb.revision))
}

/// Shell-style glob match (`*`, `?`, `[...]`), as Python's `fnmatch.fnmatch` on POSIX.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    glob_from(&p, &t)
}

fn glob_from(p: &[char], t: &[char]) -> bool {
    match p.first() {
        None => t.is_empty(),
        Some('*') => (0..=t.len()).any(|k| glob_from(&p[1..], &t[k..])),
        Some('?') => !t.is_empty() && glob_from(&p[1..], &t[1..]),
        Some('[') => match (class_match(&p[1..], t.first().copied()), t.first()) {
            (Some((true, used)), Some(_)) => glob_from(&p[1 + used..], &t[1..]),
            (None, Some(c)) if *c == '[' => glob_from(&p[1..], &t[1..]),
            _ => false,
        },
        Some(c) => t.first() == Some(c) && glob_from(&p[1..], &t[1..]),
    }
}

/// Matches a `[...]` class (the slice starts after `[`): whether `c` matches and how many pattern
/// characters the class used (including the closing `]`). `None` if the class is not closed.
fn class_match(p: &[char], c: Option<char>) -> Option<(bool, usize)> {
    let mut i = 0;
    let negate = matches!(p.first(), Some('!'));
    if negate {
        i += 1;
    }
    let start = i;
    let mut matched = false;
    while i < p.len() {
        if p[i] == ']' && i > start {
            return Some((matched != negate, i + 1));
        }
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            if let Some(c) = c {
                matched |= p[i] <= c && c <= p[i + 2];
            }
            i += 3;
        } else {
            matched |= Some(p[i]) == c;
            i += 1;
        }
    }
    None
}

/// True if `s` contains glob metacharacters.
pub fn has_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_version_order() {
        let lt = |a, b| assert_eq!(compare_versions(a, b), Ordering::Less, "{a} < {b}");
        lt("1.0", "2.0");
        lt("1.0~rc1", "1.0");
        lt("1.0", "1.0-1");
        lt("1.0-1", "1.0-2");
        lt("1.9", "1.10");
        lt("2.0", "1:0.1");
        lt("1.0a", "1.0+b");
        lt("1.0", "1.0a");
        lt("1.2.3-1", "1.2.3-1+deb12u1");
        assert_eq!(compare_versions("1.01", "1.1"), Ordering::Equal);
        assert_eq!(compare_versions("0:1.0", "1.0"), Ordering::Equal);
    }

    #[test]
    fn globs() {
        assert!(glob_match("1.2*", "1.2.3-1"));
        assert!(!glob_match("1.2*", "1.3"));
        assert!(glob_match("1.?", "1.5"));
        assert!(glob_match("lib[abc]x", "libbx"));
        assert!(!glob_match("lib[!abc]x", "libbx"));
        assert!(glob_match("2.0", "2.0"));
        assert!(has_glob("python3-*"));
    }
}

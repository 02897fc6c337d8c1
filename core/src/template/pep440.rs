//! PEP 440 versions for the `version` test's `version_type='pep440'` (what Python's
//! `packaging.version.Version` accepts and how it orders them; local labels are ignored).

use std::cmp::Ordering;
use std::sync::OnceLock;

use regex::Regex;

/// A parsed version's sort key: epoch, release (trailing zeros dropped), pre-release,
/// post-release and dev-release, with Python's ordering of missing parts.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    epoch: u64,
    release: Vec<u64>,
    /// `(-1, 0)` sorts a dev-only release before its pre-releases; `(3, 0)` is "no pre".
    pre: (i8, u64),
    /// `-1` when there is no post-release.
    post: i64,
    /// `u64::MAX` when there is no dev-release.
    dev: u64,
}

fn pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?ix)^\s*v?
            (?:(?P<epoch>[0-9]+)!)?
            (?P<release>[0-9]+(?:\.[0-9]+)*)
            (?:[-_.]?(?P<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?P<pre_n>[0-9]+)?)?
            (?P<post>(?:-(?P<post_n1>[0-9]+))|(?:[-_.]?(?:post|rev|r)[-_.]?(?P<post_n2>[0-9]+)?))?
            (?:[-_.]?(?P<dev>dev)[-_.]?(?P<dev_n>[0-9]+)?)?
            (?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?
            \s*$",
        )
        .unwrap_or_else(|_| unreachable!("static pattern"))
    })
}

fn key(v: &str) -> Result<Key, String> {
    let c = pattern()
        .captures(v)
        .ok_or_else(|| format!("Version comparison failed: Invalid version: '{v}'"))?;
    let num = |name: &str| -> u64 {
        c.name(name)
            .and_then(|m| m.as_str().parse().ok())
            .unwrap_or(0)
    };
    let mut release: Vec<u64> = c["release"]
        .split('.')
        .map(|p| p.parse().unwrap_or(u64::MAX))
        .collect();
    while release.len() > 1 && release.last() == Some(&0) {
        release.pop();
    }
    let has_post = c.name("post").is_some();
    let post = if has_post {
        i64::try_from(num("post_n1").max(num("post_n2"))).unwrap_or(i64::MAX)
    } else {
        -1
    };
    let dev = if c.name("dev").is_some() {
        num("dev_n")
    } else {
        u64::MAX
    };
    let pre = match c.name("pre_l").map(|m| m.as_str().to_ascii_lowercase()) {
        Some(l) => {
            let phase = match l.as_str() {
                "a" | "alpha" => 0,
                "b" | "beta" => 1,
                _ => 2,
            };
            (phase, num("pre_n"))
        }
        None if !has_post && c.name("dev").is_some() => (-1, 0),
        None => (3, 0),
    };
    Ok(Key {
        epoch: num("epoch"),
        release,
        pre,
        post,
        dev,
    })
}

/// Orders two PEP 440 versions; an invalid one is an error, as in ansible-core.
pub(crate) fn cmp(a: &str, b: &str) -> Result<Ordering, String> {
    Ok(key(a)?.cmp(&key(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_like_packaging() {
        let sorted = [
            "1.0.dev1",
            "1.0a1",
            "1.0a2.dev1",
            "1.0a2",
            "1.0b1",
            "1.0rc1",
            "1.0",
            "1.0.post1",
            "1.1",
            "1!0.5",
        ];
        for w in sorted.windows(2) {
            assert_eq!(cmp(w[0], w[1]), Ok(Ordering::Less), "{} < {}", w[0], w[1]);
        }
        assert_eq!(cmp("1.0", "1.0.0"), Ok(Ordering::Equal));
        assert!(cmp("1:1.0", "1.0").is_err());
    }
}

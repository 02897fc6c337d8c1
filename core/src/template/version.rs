//! Version comparison for the `version`/`version_compare` test (loose, strict and semver).

use std::cmp::Ordering;

/// One component of a loose version: a number or a run of letters.
#[derive(Debug, PartialEq, Eq)]
enum Part {
    Num(u64),
    Alpha(String),
}

impl PartialOrd for Part {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Part {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Part::Num(a), Part::Num(b)) => a.cmp(b),
            (Part::Alpha(a), Part::Alpha(b)) => a.cmp(b),
            (Part::Num(_), Part::Alpha(_)) => Ordering::Greater,
            (Part::Alpha(_), Part::Num(_)) => Ordering::Less,
        }
    }
}

fn loose_parts(v: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut chars = v.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_ascii_digit() {
            let mut s = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                s.push(d);
                chars.next();
            }
            parts.push(Part::Num(s.parse().unwrap_or(u64::MAX)));
        } else if c.is_alphabetic() {
            let mut s = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_alphabetic()) {
                s.push(d);
                chars.next();
            }
            parts.push(Part::Alpha(s));
        } else {
            chars.next();
        }
    }
    parts
}

type Strict = (u64, u64, u64, Option<(char, u64)>);

fn strict_parse(v: &str) -> Result<Strict, String> {
    let invalid = || format!("invalid version number '{v}'");
    let (nums, pre) = match v.find(['a', 'b']) {
        Some(i) => (&v[..i], Some(&v[i..])),
        None => (v, None),
    };
    let fields: Vec<&str> = nums.split('.').collect();
    if !(2..=3).contains(&fields.len()) {
        return Err(invalid());
    }
    let mut n = [0u64; 3];
    for (i, f) in fields.iter().enumerate() {
        if f.is_empty() || !f.chars().all(|c| c.is_ascii_digit()) {
            return Err(invalid());
        }
        n[i] = f.parse().map_err(|_| invalid())?;
    }
    let pre = match pre {
        None => None,
        Some(p) => {
            let letter = p.chars().next().ok_or_else(invalid)?;
            let num = &p[1..];
            if num.is_empty() || !num.chars().all(|c| c.is_ascii_digit()) {
                return Err(invalid());
            }
            Some((letter, num.parse().map_err(|_| invalid())?))
        }
    };
    Ok((n[0], n[1], n[2], pre))
}

fn strict_cmp(a: &str, b: &str) -> Result<Ordering, String> {
    let (a, b) = (strict_parse(a)?, strict_parse(b)?);
    let base = (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2));
    if base != Ordering::Equal {
        return Ok(base);
    }
    Ok(match (a.3, b.3) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => x.cmp(&y),
    })
}

fn semver_cmp(a: &str, b: &str) -> Result<Ordering, String> {
    fn parse(v: &str) -> Result<(Vec<u64>, Option<Vec<String>>), String> {
        let v = v.trim_start_matches('v');
        let v = v.split('+').next().unwrap_or(v);
        let (core, pre) = match v.split_once('-') {
            Some((c, p)) => (c, Some(p.split('.').map(str::to_string).collect())),
            None => (v, None),
        };
        let nums: Result<Vec<u64>, _> = core.split('.').map(str::parse).collect();
        let nums = nums.map_err(|_| format!("invalid semantic version '{v}'"))?;
        if nums.len() != 3 {
            return Err(format!("invalid semantic version '{v}'"));
        }
        Ok((nums, pre))
    }
    let (an, ap) = parse(a)?;
    let (bn, bp) = parse(b)?;
    let base = an.cmp(&bn);
    if base != Ordering::Equal {
        return Ok(base);
    }
    Ok(match (ap, bp) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => {
            for (p, q) in x.iter().zip(y.iter()) {
                let o = match (p.parse::<u64>(), q.parse::<u64>()) {
                    (Ok(m), Ok(n)) => m.cmp(&n),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    _ => p.cmp(q),
                };
                if o != Ordering::Equal {
                    return Ok(o);
                }
            }
            x.len().cmp(&y.len())
        }
    })
}

/// Compares two versions with an operator (`<`, `lt`, `==`, `eq`, `>=`, `ge`, `!=`, `ne`, ...)
/// using `version_type` `loose` (default), `strict`, `semver`/`semantic`.
pub(crate) fn compare(
    a: &str,
    b: &str,
    op: &str,
    strict: bool,
    version_type: Option<&str>,
) -> Result<bool, String> {
    let kind = version_type.unwrap_or(if strict { "strict" } else { "loose" });
    let ord = match kind {
        "loose" => loose_parts(a).cmp(&loose_parts(b)),
        "strict" => strict_cmp(a, b)?,
        "semver" | "semantic" => semver_cmp(a, b)?,
        "pep440" => super::pep440::cmp(a, b)?,
        other => {
            return Err(format!(
                "version_type must be one of loose, strict, semver, semantic, pep440; got '{other}'"
            ))
        }
    };
    Ok(match op {
        "<" | "lt" => ord == Ordering::Less,
        "<=" | "le" => ord != Ordering::Greater,
        ">" | "gt" => ord == Ordering::Greater,
        ">=" | "ge" => ord != Ordering::Less,
        "==" | "=" | "eq" => ord == Ordering::Equal,
        "!=" | "<>" | "ne" => ord != Ordering::Equal,
        other => return Err(format!("invalid operator '{other}' for version comparison")),
    })
}

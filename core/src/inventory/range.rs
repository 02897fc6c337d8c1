//! Host ranges: `web[01:10].example.com`, `db-[a:f]`, `node[1:10:2]`, several ranges in one name.
//!
//! Follows Ansible's `expand_hostname_range`: the first `[begin:end(:step)]` is expanded and the
//! result expanded again until no range is left; a begin with a leading zero pads every number to
//! its width (begin and end must then have the same width); single letters range over
//! `a..z` then `A..Z`; an empty begin means 0. Unlike Ansible, an empty range (`[5:1]`) is an
//! error rather than silently producing no hosts.

const LETTERS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// True if `name` contains a range to expand (Ansible: any `[`).
pub fn has_range(name: &str) -> bool {
    name.contains('[')
}

/// Expands every `[begin:end(:step)]` range in `name` into the host names it stands for.
/// A name without ranges expands to itself. A name that stands for more hosts than
/// [`crate::limits::max_host_range`] is refused before anything is expanded.
pub fn expand(name: &str) -> Result<Vec<String>, String> {
    let limit = crate::limits::max_host_range();
    let total = count(name)?;
    if total > limit {
        return Err(format!(
            "the host range '{name}' stands for {total} hosts, more than the limit of {limit} \
             (set {} to raise it)",
            crate::limits::MAX_HOST_RANGE_ENV
        ));
    }
    expand_all(name)
}

/// How many host names `name` stands for (the product of its ranges' sizes), without
/// expanding it; saturates at `u64::MAX`.
pub fn count(name: &str) -> Result<u64, String> {
    let mut total: u64 = 1;
    let mut rest = name;
    while let Some(open) = rest.find('[') {
        let close = rest[open..]
            .find(']')
            .map(|i| open + i)
            .ok_or_else(|| format!("host range in '{name}' has no closing ']'"))?;
        let spec = &rest[open + 1..close];
        let n =
            spec_len(spec).map_err(|m| format!("bad host range '[{spec}]' in '{name}': {m}"))?;
        total = total.saturating_mul(n);
        rest = &rest[close + 1..];
    }
    Ok(total)
}

/// The number of items of one range body, checked as [`expand_spec`] checks it.
fn spec_len(spec: &str) -> Result<u64, String> {
    let bounds: Vec<&str> = spec.split(':').collect();
    if bounds.len() != 2 && bounds.len() != 3 {
        return Err("a range must be begin:end or begin:end:step".into());
    }
    let begin = if bounds[0].is_empty() { "0" } else { bounds[0] };
    let step: u64 = match bounds.get(2) {
        None => 1,
        Some(s) => s
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("the step '{s}' must be a positive integer"))?,
    };
    let (b, e) = match (letter_index(begin), letter_index(bounds[1])) {
        (Some(b), Some(e)) => (b as u64, e as u64),
        _ => match (begin.parse::<u64>(), bounds[1].parse::<u64>()) {
            (Ok(b), Ok(e)) => (b, e),
            // Bad bounds: let the expansion report them in full.
            _ => return Ok(1),
        },
    };
    Ok(e.saturating_sub(b) / step + 1)
}

fn expand_all(name: &str) -> Result<Vec<String>, String> {
    let Some(open) = name.find('[') else {
        return Ok(vec![name.to_string()]);
    };
    let close = name[open..]
        .find(']')
        .map(|i| open + i)
        .ok_or_else(|| format!("host range in '{name}' has no closing ']'"))?;
    let head = &name[..open];
    let spec = &name[open + 1..close];
    let tail = &name[close + 1..];
    let mut out = Vec::new();
    for item in
        expand_spec(spec).map_err(|m| format!("bad host range '[{spec}]' in '{name}': {m}"))?
    {
        let host = format!("{head}{item}{tail}");
        if has_range(&host) {
            out.extend(expand_all(&host)?);
        } else {
            out.push(host);
        }
    }
    Ok(out)
}

/// The items of one range body (`01:10`, `a:f`, `1:10:2`).
fn expand_spec(spec: &str) -> Result<Vec<String>, String> {
    let bounds: Vec<&str> = spec.split(':').collect();
    if bounds.len() != 2 && bounds.len() != 3 {
        return Err("a range must be begin:end or begin:end:step".into());
    }
    let begin = if bounds[0].is_empty() { "0" } else { bounds[0] };
    let end = bounds[1];
    if end.is_empty() {
        return Err("a range must give its end value".into());
    }
    let step: usize = match bounds.get(2) {
        None => 1,
        Some(s) => s
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("the step '{s}' must be a positive integer"))?,
    };
    let width = if begin.len() > 1 && begin.starts_with('0') {
        if begin.len() != end.len() {
            return Err(
                "a zero-padded range needs begin and end of the same width (e.g. [01:10])".into(),
            );
        }
        Some(begin.len())
    } else {
        None
    };
    let fill = |s: String| match width {
        Some(w) => format!("{s:0>w$}"),
        None => s,
    };
    if let (Some(b), Some(e)) = (letter_index(begin), letter_index(end)) {
        if b > e {
            return Err("the begin letter comes after the end letter".into());
        }
        return Ok(LETTERS[b..=e]
            .chars()
            .step_by(step)
            .map(|c| fill(c.to_string()))
            .collect());
    }
    let b: u64 = begin
        .parse()
        .map_err(|_| format!("'{begin}' is neither a number nor a single letter"))?;
    let e: u64 = end
        .parse()
        .map_err(|_| format!("'{end}' is neither a number nor a single letter"))?;
    if b > e {
        return Err("the begin value is greater than the end value".into());
    }
    Ok((b..=e).step_by(step).map(|n| fill(n.to_string())).collect())
}

fn letter_index(s: &str) -> Option<usize> {
    let mut chars = s.chars();
    let c = chars.next()?;
    if chars.next().is_some() {
        return None;
    }
    LETTERS.find(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(s: &str) -> Vec<String> {
        expand(s).unwrap()
    }

    #[test]
    fn numeric_with_padding() {
        assert_eq!(
            names("web[01:03].example.com"),
            [
                "web01.example.com",
                "web02.example.com",
                "web03.example.com"
            ]
        );
        assert_eq!(names("h[8:10]"), ["h8", "h9", "h10"]);
        assert_eq!(names("h[:2]"), ["h0", "h1", "h2"]);
    }

    #[test]
    fn stride_letters_and_multiple_ranges() {
        assert_eq!(names("n[1:10:3]"), ["n1", "n4", "n7", "n10"]);
        assert_eq!(names("db-[a:c]"), ["db-a", "db-b", "db-c"]);
        assert_eq!(names("x[y:B]"), ["xy", "xz", "xA", "xB"]);
        assert_eq!(names("r[1:2]c[a:b]"), ["r1ca", "r1cb", "r2ca", "r2cb"]);
        assert_eq!(names("10.0.3.[1:3:2]"), ["10.0.3.1", "10.0.3.3"]);
        assert_eq!(names("plain"), ["plain"]);
    }

    #[test]
    fn bad_ranges_are_errors() {
        for bad in [
            "h[1:]",
            "h[1]",
            "h[1:2:3:4]",
            "h[01:100]",
            "h[5:1]",
            "h[c:a]",
            "h[1:x]",
            "h[1:3:0]",
            "h[1:3",
        ] {
            assert!(expand(bad).is_err(), "{bad} should fail");
        }
        let e = expand("web[01:100]").unwrap_err();
        assert!(e.contains("web[01:100]") && e.contains("same width"), "{e}");
    }

    #[test]
    fn absurd_ranges_are_refused_before_expanding() {
        assert_eq!(count("r[1:10]c[a:e]").unwrap(), 50);
        assert_eq!(count("n[1:10:3]").unwrap(), 4);
        let e = expand("web[1:1000000000000]").unwrap_err();
        assert!(
            e.contains("1000000000000 hosts") && e.contains("DROVER_MAX_HOST_RANGE"),
            "{e}"
        );
        let e = expand("a[1:100000]b[1:100000]").unwrap_err();
        assert!(e.contains("more than the limit"), "{e}");
    }
}

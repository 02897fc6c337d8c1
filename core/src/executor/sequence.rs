//! The `sequence` lookup (`with_sequence`, `lookup('sequence', …)`): ansible-core's option
//! handling, checks, messages and its count arithmetic (`end = start + count * stride - 1`).

use crate::vars::Value;

/// The options of one term.
struct Options {
    start: i64,
    end: Option<i64>,
    stride: i64,
    count: Option<i64>,
    format: String,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            start: 1,
            end: None,
            stride: 1,
            count: None,
            format: "%d".into(),
        }
    }
}

/// A number as the lookup takes it: decimal, `0x…` hexadecimal or `0o…`/`0…` octal.
fn parse_num(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let n = if let Some(h) = body.strip_prefix("0x") {
        i64::from_str_radix(h, 16)
    } else if let Some(o) = body
        .strip_prefix("0o")
        .or_else(|| body.strip_prefix('0').filter(|r| !r.is_empty()))
    {
        i64::from_str_radix(o, 8)
    } else {
        body.parse()
    }
    .map_err(|_| format!("'{s}' is not a number"))?;
    Ok(if neg { -n } else { n })
}

impl Options {
    fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        // ansible-core's option type check (config manager's wording).
        let num = || {
            parse_num(value).map_err(|_| {
                format!("Config '{key}' for 'sequence' lookup plugin from 'direct' has an invalid value.")
            })
        };
        match key {
            "start" => self.start = num()?,
            "end" => self.end = Some(num()?),
            "stride" => self.stride = num()?,
            "count" => self.count = Some(num()?),
            "format" => self.format = value.to_string(),
            _ => {
                return Err(format!(
                    "unrecognized arguments to with_sequence: ['{key}']"
                ))
            }
        }
        Ok(())
    }

    /// The shortcut form `[start-]end[/stride][:format]`; false when `term` is not one.
    fn shortcut(&mut self, term: &str) -> Result<bool, String> {
        let (range, format) = match term.split_once(':') {
            Some((r, f)) if !f.is_empty() => (r, Some(f)),
            Some(_) => return Ok(false),
            None => (term, None),
        };
        // ansible-core's NUM, `0?x?[0-9a-f]+` ignoring case, for start, end and stride alike
        // (so `1-4/C` is the shortcut form with an invalid stride).
        let number =
            |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit() || b == b'x');
        let (range, stride) = match range.split_once('/') {
            Some((r, s)) if number(s) => (r, Some(s)),
            Some(_) => return Ok(false),
            None => (range, None),
        };
        let (start, end) = match range.split_once('-') {
            Some((a, b)) => (Some(a), b),
            None => (None, range),
        };
        if !number(end) || start.is_some_and(|s| !number(s)) {
            return Ok(false);
        }
        if let Some(s) = start {
            self.set("start", s)?;
        }
        self.set("end", end)?;
        if let Some(s) = stride {
            self.set("stride", s)?;
        }
        if let Some(f) = format {
            self.set("format", f)?;
        }
        Ok(true)
    }
}

/// The items of one term (`start=1 end=5 stride=1 format=%d`, `count=3`, `1-5`,
/// `0x1-0xf/2:host%02x`), with `defaults` (the lookup's keyword arguments) applied first.
pub(crate) fn sequence(term: &str, defaults: &[(String, String)]) -> Result<Vec<Value>, String> {
    let mut o = Options::default();
    for (k, v) in defaults {
        o.set(k, v)?;
    }
    if !o.shortcut(term)? {
        for piece in crate::playbook::args::split_args(term).map_err(|e| e.to_string())? {
            let piece = piece.trim();
            if piece.is_empty() {
                continue;
            }
            let (k, v) = piece.split_once('=').unwrap_or((piece, ""));
            o.set(k.trim(), &crate::playbook::args::unquote(v.trim()))?;
        }
    }
    let end = match (o.end, o.count) {
        (None, None) => return Err("must specify count or end in with_sequence".into()),
        (Some(_), Some(_)) => {
            return Err("can't specify both count and end in with_sequence".into())
        }
        (None, Some(0)) => return Ok(Vec::new()),
        (None, Some(c)) => o.start + c * o.stride - 1,
        (Some(e), None) => e,
    };
    if o.stride > 0 && end < o.start {
        return Err("to count backwards make stride negative".into());
    }
    if o.stride < 0 && end > o.start {
        return Err("to count forward don't make stride negative".into());
    }
    if o.stride == 0 {
        return Ok(Vec::new());
    }
    if o.format.matches('%').count() != 1 {
        return Err(format!("bad formatting string: {}", o.format));
    }
    // Python's range(start, end ± 1, stride).
    let mut out = Vec::new();
    let mut i = o.start;
    while (o.stride > 0 && i <= end) || (o.stride < 0 && i >= end) {
        out.push(Value::String(format_printf(&o.format, i)));
        i += o.stride;
        if out.len() > 1_000_000 {
            return Err("with_sequence: too many items".into());
        }
    }
    Ok(out)
}

/// Formats one integer with a printf-style `%d`/`%02d`/`%x`/`%o` directive.
fn format_printf(fmt: &str, n: i64) -> String {
    let Some(pos) = fmt.find('%') else {
        return fmt.to_string();
    };
    let rest = &fmt[pos + 1..];
    let spec_len = rest
        .find(|c: char| c.is_ascii_alphabetic())
        .map(|i| i + 1)
        .unwrap_or(rest.len());
    let spec = &rest[..spec_len];
    let (flags, conv) = spec.split_at(spec.len().saturating_sub(1));
    let zero = flags.starts_with('0');
    let width: usize = flags.trim_start_matches('0').parse().unwrap_or(0);
    let body = match conv {
        "x" => format!("{n:x}"),
        "X" => format!("{n:X}"),
        "o" => format!("{n:o}"),
        _ => n.to_string(),
    };
    let padded = if body.len() < width {
        let pad = if zero { "0" } else { " " }.repeat(width - body.len());
        format!("{pad}{body}")
    } else {
        body
    };
    format!("{}{}{}", &fmt[..pos], padded, &rest[spec_len..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn seq(term: &str, kw: &[(&str, &str)]) -> Result<Vec<Value>, String> {
        let kw: Vec<(String, String)> = kw
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        sequence(term, &kw)
    }

    #[test]
    fn sequences() {
        assert_eq!(
            seq("start=1 end=3", &[]).unwrap(),
            vec![json!("1"), json!("2"), json!("3")]
        );
        assert_eq!(
            seq("start=0 count=3 stride=2 format=h%02d", &[]).unwrap(),
            vec![json!("h00"), json!("h02"), json!("h04")]
        );
        assert_eq!(
            seq("4-6", &[]).unwrap(),
            vec![json!("4"), json!("5"), json!("6")]
        );
        assert_eq!(seq("2/2", &[]).unwrap(), vec![json!("1")]);
    }

    #[test]
    fn keyword_defaults_and_ansible_arithmetic() {
        // Expected values from ansible-core 2.19's lookup_sequence target.
        let strs = |v: Vec<Value>| {
            v.iter()
                .map(|x| x.as_str().unwrap_or("").to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            strs(seq("", &[("count", "5"), ("start", "10")]).unwrap()),
            ["10", "11", "12", "13", "14"]
        );
        assert_eq!(
            strs(seq("count=5 start=0", &[("stride", "-1")]).unwrap()).len(),
            7
        );
        assert!(seq("count=5 start=0", &[("stride", "0")])
            .unwrap()
            .is_empty());
        assert_eq!(strs(seq("count=5", &[("start", "20")]).unwrap())[0], "20");
    }

    #[test]
    fn errors_as_ansible_words_them() {
        assert!(seq("start=1 end=4 count=2", &[])
            .unwrap_err()
            .contains("can't specify both"));
        assert!(seq("start=4 end=1 stride=2", &[])
            .unwrap_err()
            .contains("make stride negative"));
        assert!(seq("start=1 end=4 stride=-2", &[])
            .unwrap_err()
            .contains("don't make stride"));
        assert_eq!(
            seq("start=1 end=4 format=d", &[]).unwrap_err(),
            "bad formatting string: d"
        );
        assert!(seq("", &[])
            .unwrap_err()
            .contains("must specify count or end"));
    }
}

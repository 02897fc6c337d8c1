//! Python's printf-style `%` formatting (`'%-5s|%05.2f' % (a, b)`, `'%(name)s' % d`).

use minijinja::value::{Value, ValueKind};
use minijinja::{Error, ErrorKind};

use super::convert::{py_float, py_repr, py_str};

fn type_error(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

#[derive(Default)]
struct Spec {
    left: bool,
    zero: bool,
    plus: bool,
    space: bool,
    alt: bool,
    width: Option<usize>,
    precision: Option<usize>,
}

/// Formats `fmt % args` the way Python does. A tuple supplies positional arguments; a map
/// supplies `%(key)s` arguments; anything else is the single argument.
pub(crate) fn percent_format(fmt: &str, args: &Value) -> Result<String, Error> {
    let positional: Vec<Value> = if args.is_tuple() {
        args.try_iter()?.collect()
    } else {
        vec![args.clone()]
    };
    let mapping = (args.kind() == ValueKind::Map).then_some(args);
    let mut next_arg = 0usize;
    let mut take = |what: &str| -> Result<Value, Error> {
        let v = positional.get(next_arg).cloned().ok_or_else(|| {
            type_error(format!("not enough arguments for format string ({what})"))
        })?;
        next_arg += 1;
        Ok(v)
    };
    let chars: Vec<char> = fmt.chars().collect();
    let mut out = String::with_capacity(fmt.len() + 16);
    let mut i = 0;
    let mut used_mapping = false;
    while i < chars.len() {
        let c = chars[i];
        if c != '%' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        let mut keyed: Option<Value> = None;
        if chars.get(i) == Some(&'(') {
            let mut depth = 1;
            let start = i + 1;
            i += 1;
            while i < chars.len() && depth > 0 {
                match chars[i] {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                i += 1;
            }
            let key: String = chars[start..i.saturating_sub(1)].iter().collect();
            let map = mapping.ok_or_else(|| type_error("format requires a mapping"))?;
            used_mapping = true;
            let v = map.get_item(&Value::from(key.as_str()))?;
            if v.is_undefined() {
                return Err(type_error(format!("KeyError: '{key}'")));
            }
            keyed = Some(v);
        }
        let mut spec = Spec::default();
        while let Some(&f) = chars.get(i) {
            match f {
                '-' => spec.left = true,
                '0' => spec.zero = true,
                '+' => spec.plus = true,
                ' ' => spec.space = true,
                '#' => spec.alt = true,
                _ => break,
            }
            i += 1;
        }
        if chars.get(i) == Some(&'*') {
            i += 1;
            let w = take("width")?;
            let w = w.as_i64().ok_or_else(|| type_error("* wants int"))?;
            if w < 0 {
                spec.left = true;
            }
            spec.width = Some(w.unsigned_abs() as usize);
        } else {
            let start = i;
            while chars.get(i).is_some_and(|c| c.is_ascii_digit()) {
                i += 1;
            }
            if i > start {
                spec.width = chars[start..i].iter().collect::<String>().parse().ok();
            }
        }
        if chars.get(i) == Some(&'.') {
            i += 1;
            if chars.get(i) == Some(&'*') {
                i += 1;
                let p = take("precision")?;
                spec.precision = Some(p.as_i64().unwrap_or(0).max(0) as usize);
            } else {
                let start = i;
                while chars.get(i).is_some_and(|c| c.is_ascii_digit()) {
                    i += 1;
                }
                spec.precision = Some(
                    chars[start..i]
                        .iter()
                        .collect::<String>()
                        .parse()
                        .unwrap_or(0),
                );
            }
        }
        while chars.get(i).is_some_and(|c| matches!(c, 'h' | 'l' | 'L')) {
            i += 1;
        }
        let Some(&conv) = chars.get(i) else {
            return Err(type_error("incomplete format"));
        };
        i += 1;
        if conv == '%' {
            out.push('%');
            continue;
        }
        let arg = match keyed {
            Some(v) => v,
            None if mapping.is_some() && !args.is_tuple() => {
                used_mapping = true;
                args.clone()
            }
            None => take("positional")?,
        };
        out.push_str(&format_one(conv, &spec, &arg)?);
    }
    // Python: unused tuple items, or an unused single argument that is not a container
    // (`'{}' % 1`), are an error; an unused mapping or list is not.
    let unused_scalar = !args.is_tuple()
        && matches!(
            args.kind(),
            ValueKind::Number | ValueKind::Bool | ValueKind::None | ValueKind::String
        );
    if !used_mapping && next_arg < positional.len() && (args.is_tuple() || unused_scalar) {
        return Err(type_error(
            "not all arguments converted during string formatting",
        ));
    }
    Ok(out)
}

fn pad(body: String, spec: &Spec, numeric: bool) -> String {
    let width = spec.width.unwrap_or(0);
    let len = body.chars().count();
    if len >= width {
        return body;
    }
    let fill = width - len;
    if spec.left {
        format!("{body}{}", " ".repeat(fill))
    } else if spec.zero && numeric {
        let (sign, digits) = match body.chars().next() {
            Some(c @ ('-' | '+' | ' ')) => (c.to_string(), body[1..].to_string()),
            _ => (String::new(), body.clone()),
        };
        let (prefix, rest) =
            if digits.starts_with("0x") || digits.starts_with("0X") || digits.starts_with("0o") {
                (digits[..2].to_string(), digits[2..].to_string())
            } else {
                (String::new(), digits)
            };
        format!("{sign}{prefix}{}{rest}", "0".repeat(fill))
    } else {
        format!("{}{body}", " ".repeat(fill))
    }
}

fn sign_prefix(negative: bool, spec: &Spec) -> &'static str {
    if negative {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    }
}

fn as_int(arg: &Value, conv: char) -> Result<i128, Error> {
    match arg.kind() {
        ValueKind::Bool => Ok(arg.is_true() as i128),
        ValueKind::Number if arg.is_integer() => i128::try_from(arg.clone()),
        ValueKind::Number => Ok(f64::try_from(arg.clone())?.trunc() as i128),
        _ => Err(type_error(format!(
            "%{conv} format: a real number is required, not {}",
            super::convert::py_type_name(arg)
        ))),
    }
}

fn as_float(arg: &Value, conv: char) -> Result<f64, Error> {
    match arg.kind() {
        ValueKind::Bool => Ok(arg.is_true() as i64 as f64),
        ValueKind::Number => f64::try_from(arg.clone()),
        _ => Err(type_error(format!(
            "%{conv} format: a real number is required, not {}",
            super::convert::py_type_name(arg)
        ))),
    }
}

fn format_one(conv: char, spec: &Spec, arg: &Value) -> Result<String, Error> {
    Ok(match conv {
        's' | 'r' | 'a' => {
            let mut s = if conv == 's' {
                if arg.kind() == ValueKind::Number && !arg.is_integer() {
                    py_float(f64::try_from(arg.clone())?)
                } else {
                    py_str(arg)
                }
            } else {
                py_repr(arg)
            };
            if let Some(p) = spec.precision {
                s = s.chars().take(p).collect();
            }
            pad(s, spec, false)
        }
        'd' | 'i' | 'u' => {
            let n = as_int(arg, conv)?;
            let mut digits = n.unsigned_abs().to_string();
            if let Some(p) = spec.precision {
                while digits.len() < p {
                    digits.insert(0, '0');
                }
            }
            pad(format!("{}{digits}", sign_prefix(n < 0, spec)), spec, true)
        }
        'o' | 'x' | 'X' => {
            let n = as_int(arg, conv)?;
            let abs = n.unsigned_abs();
            let (digits, prefix) = match conv {
                'o' => (format!("{abs:o}"), "0o"),
                'x' => (format!("{abs:x}"), "0x"),
                _ => (format!("{abs:X}"), "0X"),
            };
            let prefix = if spec.alt { prefix } else { "" };
            pad(
                format!("{}{prefix}{digits}", sign_prefix(n < 0, spec)),
                spec,
                true,
            )
        }
        'e' | 'E' | 'f' | 'F' | 'g' | 'G' => {
            let f = as_float(arg, conv)?;
            let body = format_float(f.abs(), conv, spec.precision.unwrap_or(6), spec.alt);
            let negative = f.is_sign_negative() && !f.is_nan();
            pad(
                format!("{}{body}", sign_prefix(negative, spec)),
                spec,
                f.is_finite(),
            )
        }
        'c' => {
            let s = match arg.kind() {
                ValueKind::Number => char::from_u32(as_int(arg, conv)? as u32)
                    .map(String::from)
                    .ok_or_else(|| type_error("%c arg not in range"))?,
                ValueKind::String if arg.as_str().is_some_and(|s| s.chars().count() == 1) => {
                    arg.as_str().unwrap_or_default().to_string()
                }
                _ => return Err(type_error("%c requires int or char")),
            };
            pad(s, spec, false)
        }
        other => {
            return Err(type_error(format!(
                "unsupported format character '{other}'"
            )))
        }
    })
}

/// Formats a non-negative float with `%e`/`%f`/`%g` rules.
pub(crate) fn format_float(f: f64, conv: char, precision: usize, alt: bool) -> String {
    if f.is_nan() {
        return if conv.is_ascii_uppercase() {
            "NAN"
        } else {
            "nan"
        }
        .into();
    }
    if f.is_infinite() {
        return if conv.is_ascii_uppercase() {
            "INF"
        } else {
            "inf"
        }
        .into();
    }
    match conv {
        'f' | 'F' => {
            let s = format!("{f:.precision$}");
            if alt && precision == 0 {
                format!("{s}.")
            } else {
                s
            }
        }
        'e' | 'E' => {
            let s = exp_form(f, precision);
            if conv == 'E' {
                s.to_uppercase()
            } else {
                s
            }
        }
        _ => {
            let p = if precision == 0 { 1 } else { precision };
            let exp = if f == 0.0 {
                0
            } else {
                // exponent after rounding to p significant digits
                let s = format!("{:.*e}", p - 1, f);
                s.split_once('e')
                    .and_then(|(_, e)| e.parse::<i32>().ok())
                    .unwrap_or(0)
            };
            let mut s = if exp < -4 || exp >= p as i32 {
                exp_form(f, p - 1)
            } else {
                format!("{:.*}", (p as i32 - 1 - exp).max(0) as usize, f)
            };
            if !alt {
                s = strip_zeros(&s);
            }
            if conv == 'G' {
                s.to_uppercase()
            } else {
                s
            }
        }
    }
}

fn exp_form(f: f64, precision: usize) -> String {
    let s = format!("{f:.precision$e}");
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    let e: i32 = e.parse().unwrap_or(0);
    format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
}

fn strip_zeros(s: &str) -> String {
    let (mantissa, exp) = match s.find('e') {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    };
    let mantissa = if mantissa.contains('.') {
        mantissa.trim_end_matches('0').trim_end_matches('.')
    } else {
        mantissa
    };
    format!("{mantissa}{exp}")
}

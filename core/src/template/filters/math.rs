//! Math filters: log, pow, root, round, abs, human_readable, human_to_bytes, min, max, sum.

use minijinja::value::{Kwargs, Value, ValueKind};
use minijinja::{Environment, Error};

use super::{fail, items};

fn num(v: &Value, filter: &str) -> Result<f64, Error> {
    match v.kind() {
        ValueKind::Number | ValueKind::Bool => f64::try_from(v.clone()),
        ValueKind::String => v.as_str().unwrap_or_default().trim().parse().map_err(|_| {
            fail(format!(
                "{filter}: '{}' is not a number",
                v.as_str().unwrap_or_default()
            ))
        }),
        _ => Err(fail(format!("{filter}: expected a number"))),
    }
}

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter(
        "log",
        |v: Value, base: Option<f64>| -> Result<Value, Error> {
            let x = num(&v, "log")?;
            Ok(Value::from(match base {
                Some(b) => x.ln() / b.ln(),
                None => x.ln(),
            }))
        },
    );
    env.add_filter("pow", |v: Value, y: Value| -> Result<Value, Error> {
        Ok(Value::from(num(&v, "pow")?.powf(num(&y, "pow")?)))
    });
    env.add_filter(
        "root",
        |v: Value, base: Option<f64>| -> Result<Value, Error> {
            let x = num(&v, "root")?;
            Ok(Value::from(match base {
                None | Some(2.0) => x.sqrt(),
                Some(b) => x.powf(1.0 / b),
            }))
        },
    );
    env.add_filter("round", round);
    env.add_filter("human_readable", human_readable);
    env.add_filter("human_to_bytes", human_to_bytes);
    env.add_filter(
        "min",
        |state: &minijinja::State, v: Value, kwargs: Kwargs| min_max(state, v, kwargs, true),
    );
    env.add_filter(
        "max",
        |state: &minijinja::State, v: Value, kwargs: Kwargs| min_max(state, v, kwargs, false),
    );
    env.add_filter("sum", |v: Value, kwargs: Kwargs| -> Result<Value, Error> {
        let attribute: Option<String> = kwargs.get("attribute")?;
        let start: Option<Value> = kwargs.get("start")?;
        kwargs.assert_all_used()?;
        let mut acc = start.unwrap_or(Value::from(0));
        for item in items(&v, "sum")? {
            let x = match &attribute {
                Some(a) => item.get_path_or_attr(a)?,
                None => item,
            };
            acc = add(&acc, &x)?;
        }
        Ok(acc)
    });
}

trait PathAttr {
    fn get_path_or_attr(&self, path: &str) -> Result<Value, Error>;
}

impl PathAttr for Value {
    fn get_path_or_attr(&self, path: &str) -> Result<Value, Error> {
        let mut v = self.clone();
        for part in path.split('.') {
            v = match part.parse::<i64>() {
                Ok(i) => v.get_item(&Value::from(i))?,
                Err(_) => v.get_attr(part)?,
            };
        }
        Ok(v)
    }
}

fn add(a: &Value, b: &Value) -> Result<Value, Error> {
    if a.is_integer() && b.is_integer() {
        if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
            return Ok(Value::from(x + y));
        }
    }
    if a.kind() == ValueKind::Seq && b.kind() == ValueKind::Seq {
        let mut out: Vec<Value> = a.try_iter()?.collect();
        out.extend(b.try_iter()?);
        return Ok(Value::from(out));
    }
    Ok(Value::from(num(a, "sum")? + num(b, "sum")?))
}

fn min_max(state: &minijinja::State, v: Value, kwargs: Kwargs, min: bool) -> Result<Value, Error> {
    let attribute: Option<String> = kwargs.get("attribute")?;
    let _: Option<bool> = kwargs.get("case_sensitive")?;
    kwargs.assert_all_used()?;
    let _ = state;
    let list = items(&v, if min { "min" } else { "max" })?;
    let key = |x: &Value| -> Value {
        match &attribute {
            Some(a) => x.get_path_or_attr(a).unwrap_or_default(),
            None => x.clone(),
        }
    };
    let mut best: Option<Value> = None;
    for item in list {
        best = Some(match best {
            None => item,
            Some(b) => {
                let ord = key(&item).partial_cmp(&key(&b));
                let better = match ord {
                    Some(std::cmp::Ordering::Less) => min,
                    Some(std::cmp::Ordering::Greater) => !min,
                    _ => false,
                };
                if better {
                    item
                } else {
                    b
                }
            }
        });
    }
    Ok(best.unwrap_or(Value::UNDEFINED))
}

/// Jinja2's `round(precision=0, method='common')` (Python's round-half-even for `common`).
fn round(v: Value, precision: Option<i32>, method: Option<String>) -> Result<Value, Error> {
    let x = num(&v, "round")?;
    let p = precision.unwrap_or(0);
    let factor = 10f64.powi(p);
    let scaled = x * factor;
    let method = method.as_deref().unwrap_or("common");
    if method == "common" && x.is_finite() {
        // Python's round(x, n): very negative n rounds everything to zero, very large n keeps x.
        if factor == 0.0 {
            return Ok(Value::from(0.0 * x.signum()));
        }
        if p > 17 {
            return Ok(Value::from(x));
        }
    }
    if (method == "floor" || method == "ceil") && (factor == 0.0 || !factor.is_finite()) {
        return Err(fail(format!("round: the precision {p} is out of range")));
    }
    let r = match method {
        "common" if (0..=17).contains(&p) && x.is_finite() => {
            // Python's round(x, n) rounds the exact binary value half-to-even; so does Rust's
            // decimal formatting.
            let digits = usize::try_from(p).unwrap_or(0);
            return Ok(Value::from(
                format!("{x:.digits$}").parse::<f64>().unwrap_or(x),
            ));
        }
        "common" => {
            // Python's round() is round-half-even on the exact binary value
            let r = scaled.round();
            if (scaled - scaled.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
                r - scaled.signum()
            } else {
                r
            }
        }
        "floor" => scaled.floor(),
        "ceil" => scaled.ceil(),
        other => {
            return Err(fail(format!(
                "round: method must be common, ceil or floor, not '{other}'"
            )))
        }
    };
    let out = r / factor;
    if out.is_nan() && !x.is_nan() {
        return Err(fail(format!("round: the precision {p} is out of range")));
    }
    Ok(Value::from(out))
}

const PREFIXES: [(&str, u32); 8] = [
    ("Y", 8),
    ("Z", 7),
    ("E", 6),
    ("P", 5),
    ("T", 4),
    ("G", 3),
    ("M", 2),
    ("K", 1),
];

/// `human_readable(isbits=False, unit=None)`: `1.00 KB`, `1.00 Mb`.
fn human_readable(
    v: Value,
    isbits: Option<bool>,
    unit: Option<String>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let isbits = match isbits {
        Some(b) => b,
        None => kwargs.get::<Option<bool>>("isbits")?.unwrap_or(false),
    };
    let unit = match unit {
        Some(u) => Some(u),
        None => kwargs.get::<Option<String>>("unit")?,
    };
    kwargs.assert_all_used()?;
    let size = num(&v, "human_readable")?;
    let suffix = if isbits { "b" } else { "B" };
    let pick = PREFIXES.iter().find(|(p, limit)| match &unit {
        Some(u) => u.starts_with(p),
        None => size >= 1024f64.powi(*limit as i32),
    });
    Ok(Value::from(match pick {
        Some((p, limit)) => format!("{:.2} {p}{suffix}", size / 1024f64.powi(*limit as i32)),
        None => format!("{size:.2} {}", if isbits { "bits" } else { "Bytes" }),
    }))
}

/// `human_to_bytes(default_unit=None, isbits=False)`: `'1.5 KB'` → 1536.
fn human_to_bytes(v: Value, default_unit: Option<String>, kwargs: Kwargs) -> Result<Value, Error> {
    let isbits: bool = kwargs.get::<Option<bool>>("isbits")?.unwrap_or(false);
    let default_unit = match default_unit {
        Some(u) => Some(u),
        None => kwargs.get::<Option<String>>("default_unit")?,
    };
    kwargs.assert_all_used()?;
    let s = super::text(&v);
    let re = regex::Regex::new(r"^\s*(\d*\.?\d*)\s*([A-Za-z]+)?\s*$").expect("static regex");
    let caps = re.captures(&s).ok_or_else(|| {
        fail(format!(
            "human_to_bytes() can't interpret following string: {s}"
        ))
    })?;
    let number: f64 = caps[1].parse().map_err(|_| {
        fail(format!(
            "human_to_bytes() can't interpret following number: {}",
            &caps[1]
        ))
    })?;
    let unit = caps
        .get(2)
        .map(|m| m.as_str().to_string())
        .or(default_unit)
        .unwrap_or_else(|| "B".into());
    let first = unit.chars().next().unwrap_or('B').to_ascii_uppercase();
    let power = match first {
        'B' => 0,
        _ => PREFIXES
            .iter()
            .find(|(p, _)| p.starts_with(first))
            .map(|(_, l)| *l as i32)
            .ok_or_else(|| {
                fail(format!(
                    "human_to_bytes() failed to convert {s}: unknown unit"
                ))
            })?,
    };
    let unit_tail = &unit[1..];
    if power > 0 {
        let expected = if isbits { "b" } else { "B" };
        if !(unit_tail.is_empty() || unit_tail == expected || (unit.len() == 1)) {
            return Err(fail(format!(
                "human_to_bytes() failed to convert {s}. Value is not a valid string ({})",
                if isbits {
                    "expected bits"
                } else {
                    "expected bytes"
                }
            )));
        }
    }
    Ok(Value::from((number * 1024f64.powi(power)).round() as i64))
}

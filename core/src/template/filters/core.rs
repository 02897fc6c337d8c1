//! Type and control filters: default, bool, int, float, string, list, mandatory, ternary,
//! type_debug.

use minijinja::value::{Kwargs, Rest, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind};

use crate::template::convert::{py_str, py_type_name};
use crate::template::lazy::Omit;

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("default", default);
    env.add_filter("d", default);
    env.add_filter("bool", to_bool);
    env.add_filter("int", to_int);
    env.add_filter("float", to_float);
    env.add_filter("string", |v: Value| Value::from(py_str(&v)));
    env.add_filter("mandatory", mandatory);
    env.add_filter("ternary", ternary);
    env.add_filter("type_debug", |v: Value| Value::from(py_type_name(&v)));
    env.add_filter("__pyformat", |fmt: &str, args: Value| {
        crate::template::pyformat::percent_format(fmt, &args).map(Value::from)
    });
}

/// `default(default_value='', boolean=False)`: the default when undefined (or falsy with
/// `boolean`). A `none` default is kept as None.
fn default(value: Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let other = match args.first() {
        Some(v) => Some(v.clone()),
        None => kwargs.get::<Option<Value>>("default_value")?,
    };
    let boolean = match args.get(1) {
        Some(b) => b.is_true(),
        None => kwargs.get::<Option<bool>>("boolean")?.unwrap_or(false),
    };
    kwargs.assert_all_used()?;
    let replace = value.is_undefined() || (boolean && !value.is_true());
    Ok(if replace {
        other.unwrap_or_else(|| Value::from(""))
    } else {
        value
    })
}

/// Ansible's `bool`: booleans as-is; `yes/on/1/true` (any case) and the number 1 are true.
pub(crate) fn ansible_bool(v: &Value) -> bool {
    match v.kind() {
        ValueKind::Bool => v.is_true(),
        ValueKind::String => matches!(
            v.as_str()
                .unwrap_or_default()
                .trim()
                .to_lowercase()
                .as_str(),
            "yes" | "on" | "1" | "true"
        ),
        ValueKind::Number => v.as_i64() == Some(1) || f64::try_from(v.clone()).ok() == Some(1.0),
        _ => false,
    }
}

fn to_bool(v: Value) -> Value {
    Value::from(ansible_bool(&v))
}

/// Jinja2's `int(default=0, base=10)`: numbers truncated, strings parsed (with `0x`/`0o`/`0b`
/// prefixes for the matching base), anything unparsable gives the default.
fn to_int(v: Value, default: Option<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let default = match default {
        Some(d) => d,
        None => kwargs
            .get::<Option<Value>>("default")?
            .unwrap_or(Value::from(0)),
    };
    let base: Option<u32> = kwargs.get("base")?;
    kwargs.assert_all_used()?;
    let base = base.unwrap_or(10);
    Ok(match v.kind() {
        ValueKind::Bool => Value::from(v.is_true() as i64),
        ValueKind::Number if v.is_integer() => v,
        ValueKind::Number => {
            let f = f64::try_from(v)?;
            if f.is_infinite() {
                return Err(infinite_to_int());
            }
            if f.is_finite() {
                Value::from(f.trunc() as i64)
            } else {
                default
            }
        }
        ValueKind::String => {
            let s = v.as_str().unwrap_or_default().trim().replace('_', "");
            parse_int(&s, base)
                .map(Value::from)
                .or_else(|| {
                    (base == 10)
                        .then(|| s.parse::<f64>().ok())
                        .flatten()
                        .filter(|f| !f.is_nan())
                        .map(|f| {
                            if f.is_infinite() {
                                Value::from(f)
                            } else {
                                Value::from(f.trunc() as i64)
                            }
                        })
                })
                .unwrap_or(default)
        }
        _ => default,
    })
    .and_then(|out| match f64::try_from(out.clone()) {
        // `'inf'|int`: Python's int(float('inf')) raises, so does Ansible.
        Ok(f) if f.is_infinite() && !out.is_integer() => Err(infinite_to_int()),
        _ => Ok(out),
    })
}

fn infinite_to_int() -> Error {
    Error::new(
        minijinja::ErrorKind::InvalidOperation,
        "int: cannot convert an infinite number to an integer",
    )
}

fn parse_int(s: &str, base: u32) -> Option<i64> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let lower = digits.to_ascii_lowercase();
    // Python's int(s, 0): the base comes from the prefix; other bases must be 2..=36.
    let base = match base {
        0 => match lower.get(..2) {
            Some("0x") => 16,
            Some("0o") => 8,
            Some("0b") => 2,
            _ if lower.len() > 1 && lower.starts_with('0') => return None,
            _ => 10,
        },
        2..=36 => base,
        _ => return None,
    };
    let digits = match base {
        16 => lower.strip_prefix("0x").unwrap_or(&lower),
        8 => lower.strip_prefix("0o").unwrap_or(&lower),
        2 => lower.strip_prefix("0b").unwrap_or(&lower),
        _ => &lower,
    };
    let n = i64::from_str_radix(digits, base).ok()?;
    Some(if neg { -n } else { n })
}

/// Jinja2's `float(default=0.0)`.
fn to_float(v: Value, default: Option<Value>) -> Result<Value, Error> {
    let default = default.unwrap_or(Value::from(0.0));
    Ok(match v.kind() {
        ValueKind::Bool => Value::from(v.is_true() as i64 as f64),
        ValueKind::Number => Value::from(f64::try_from(v)?),
        ValueKind::String => {
            let s = v.as_str().unwrap_or_default().trim().to_lowercase();
            match s.as_str() {
                "inf" | "+inf" | "infinity" => Value::from(f64::INFINITY),
                "-inf" | "-infinity" => Value::from(f64::NEG_INFINITY),
                "nan" => Value::from(f64::NAN),
                _ => s
                    .replace('_', "")
                    .parse::<f64>()
                    .map(Value::from)
                    .unwrap_or(default),
            }
        }
        _ => default,
    })
}

fn mandatory(v: Value, msg: Option<String>) -> Result<Value, Error> {
    if v.is_undefined() {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            msg.unwrap_or_else(|| "Mandatory variable has not been overridden".into()),
        ));
    }
    Ok(v)
}

/// `ternary(true_val, false_val, none_val=None)`.
fn ternary(v: Value, yes: Value, no: Value, none: Option<Value>) -> Value {
    if v.is_none() {
        if let Some(n) = none {
            return n;
        }
    }
    if v.is_true() && v.downcast_object_ref::<Omit>().is_none() {
        yes
    } else {
        no
    }
}

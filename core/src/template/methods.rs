//! Python methods on values (`d.get('k')`, `s.startswith('x')`, `l.index(3)`): minijinja-contrib's
//! pycompat layer plus a few methods Ansible content uses that it lacks.

use minijinja::value::{Value, ValueKind};
use minijinja::{Error, ErrorKind, State};

use super::convert::py_str;

/// Resolves `value.method(args)` for methods minijinja does not know natively.
pub(crate) fn unknown_method(
    state: &mut State,
    value: &Value,
    method: &str,
    args: &[Value],
) -> Result<Value, Error> {
    let handled = match value.kind() {
        ValueKind::String => {
            super::pymethods::str_method(value.as_str().unwrap_or_default(), method, args)
        }
        ValueKind::Seq => super::pymethods::list_method(value, method, args),
        ValueKind::Map => super::pymethods::dict_method(value, method, args),
        _ => None,
    };
    if let Some(result) = handled {
        return result;
    }
    match (value.kind(), method) {
        (ValueKind::Seq, "index") => {
            let needle = args
                .first()
                .ok_or_else(|| Error::new(ErrorKind::MissingArgument, "index() needs a value"))?;
            for (i, item) in value.try_iter()?.enumerate() {
                if &item == needle {
                    return Ok(Value::from(i));
                }
            }
            Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("{} is not in list", py_str(needle)),
            ))
        }
        (ValueKind::Seq, "count") => {
            let needle = args.first().cloned().unwrap_or_default();
            Ok(Value::from(
                value.try_iter()?.filter(|i| *i == needle).count(),
            ))
        }
        (ValueKind::Map, "copy") | (ValueKind::Seq, "copy") => Ok(value.clone()),
        (ValueKind::String, "startswith" | "endswith")
            if args.first().is_some_and(|a| a.kind() == ValueKind::Seq) =>
        {
            let s = value.as_str().unwrap_or_default();
            let any = args[0].try_iter()?.any(|p| {
                let p = p.as_str().unwrap_or_default().to_string();
                if method == "startswith" {
                    s.starts_with(&p)
                } else {
                    s.ends_with(&p)
                }
            });
            Ok(Value::from(any))
        }
        (ValueKind::String, "splitlines") => Ok(Value::from(
            value
                .as_str()
                .unwrap_or_default()
                .lines()
                .map(Value::from)
                .collect::<Vec<_>>(),
        )),
        (ValueKind::String, "zfill") => {
            let s = value.as_str().unwrap_or_default();
            let width = args.first().and_then(|w| w.as_usize()).unwrap_or(0);
            let len = s.chars().count();
            if len >= width {
                return Ok(value.clone());
            }
            let (sign, rest) = match s.chars().next() {
                Some(c @ ('-' | '+')) => (c.to_string(), &s[1..]),
                _ => (String::new(), s),
            };
            Ok(Value::from(format!(
                "{sign}{}{rest}",
                "0".repeat(width - len)
            )))
        }
        _ => minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args),
    }
}

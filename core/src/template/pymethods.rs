//! Python `str`, `list` and `dict` methods that minijinja-contrib's pycompat layer lacks or
//! implements differently from Python (`'a,b'.title()`, `s.rsplit('-', 1)`, `s.center(9)`,
//! `d.setdefault(k)`, …). Values are immutable here: mutating methods (`append`, `update`)
//! return what Python returns (None, or the popped item) without changing the value.

use minijinja::value::{from_args, Kwargs, Value, ValueKind};
use minijinja::{Error, ErrorKind};

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// Python's "cased" characters (those with an upper or lower case).
fn cased(c: char) -> bool {
    c.is_lowercase() || c.is_uppercase()
}

/// `str.title()`: a cased character after an uncased one is upper-cased, others lower-cased.
pub(crate) fn py_title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_cased = false;
    for c in s.chars() {
        if prev_cased {
            out.extend(c.to_lowercase());
        } else {
            out.extend(c.to_uppercase());
        }
        prev_cased = cased(c);
    }
    out
}

fn istitle(s: &str) -> bool {
    let (mut prev_cased, mut any) = (false, false);
    for c in s.chars() {
        if c.is_uppercase() {
            if prev_cased {
                return false;
            }
            prev_cased = true;
            any = true;
        } else if c.is_lowercase() {
            if !prev_cased {
                return false;
            }
            prev_cased = true;
            any = true;
        } else {
            prev_cased = false;
        }
    }
    any
}

/// `(width, fillchar=' ')` of center/ljust/rjust.
fn pad_args(args: &[Value]) -> Result<(usize, char), Error> {
    let (width, fill): (i64, Option<String>) = from_args(args)?;
    let fill = match fill {
        None => ' ',
        Some(f) => {
            let mut it = f.chars();
            match (it.next(), it.next()) {
                (Some(c), None) => c,
                _ => {
                    return Err(invalid(
                        "The fill character must be exactly one character long",
                    ))
                }
            }
        }
    };
    Ok((usize::try_from(width).unwrap_or(0), fill))
}

/// `str.split`/`str.rsplit` arguments: `(sep=None, maxsplit=-1)`, positional or keyword.
fn split_args(args: &[Value]) -> Result<(Option<String>, i64), Error> {
    let (sep, maxsplit, kwargs): (Option<Value>, Option<i64>, Kwargs) = from_args(args)?;
    let sep = match kwargs.get::<Option<Value>>("sep")?.or(sep) {
        Some(v) if v.is_none() => None,
        Some(v) => Some(
            v.as_str()
                .ok_or_else(|| invalid("must be str or None"))?
                .to_string(),
        ),
        None => None,
    };
    let maxsplit = kwargs
        .get::<Option<i64>>("maxsplit")?
        .or(maxsplit)
        .unwrap_or(-1);
    kwargs.assert_all_used()?;
    if sep.as_deref() == Some("") {
        return Err(invalid("empty separator"));
    }
    Ok((sep, maxsplit))
}

fn py_split(s: &str, sep: Option<&str>, maxsplit: i64, from_right: bool) -> Vec<String> {
    let limit = usize::try_from(maxsplit).ok();
    match sep {
        Some(sep) => match (limit, from_right) {
            (None, _) => s.split(sep).map(String::from).collect(),
            (Some(n), false) => s.splitn(n + 1, sep).map(String::from).collect(),
            (Some(n), true) => {
                let mut v: Vec<String> = s.rsplitn(n + 1, sep).map(String::from).collect();
                v.reverse();
                v
            }
        },
        None => {
            let words: Vec<&str> = s.split_whitespace().collect();
            match limit {
                Some(n) if words.len() > n + 1 => {
                    if from_right {
                        // Keep the leftmost part intact (with its inner whitespace).
                        let mut out: Vec<String> = Vec::new();
                        let mut rest = s.trim_end();
                        for _ in 0..n {
                            match rest.rfind(char::is_whitespace) {
                                Some(i) => {
                                    out.push(rest[i..].trim_start().to_string());
                                    rest = rest[..i].trim_end();
                                }
                                None => break,
                            }
                        }
                        out.push(rest.to_string());
                        out.reverse();
                        out
                    } else {
                        let mut out: Vec<String> = Vec::new();
                        let mut rest = s.trim_start();
                        for _ in 0..n {
                            match rest.find(char::is_whitespace) {
                                Some(i) => {
                                    out.push(rest[..i].to_string());
                                    rest = rest[i..].trim_start();
                                }
                                None => break,
                            }
                        }
                        out.push(rest.to_string());
                        out
                    }
                }
                _ => words.into_iter().map(String::from).collect(),
            }
        }
    }
}

/// Python string methods; `None` when `method` is not one handled here.
pub(crate) fn str_method(s: &str, method: &str, args: &[Value]) -> Option<Result<Value, Error>> {
    let len = s.chars().count();
    let padded = |left: usize, right: usize, fill: char| -> String {
        let mut out = String::new();
        out.extend(std::iter::repeat_n(fill, left));
        out.push_str(s);
        out.extend(std::iter::repeat_n(fill, right));
        out
    };
    let one_str = |args: &[Value]| -> Result<String, Error> {
        let (a,): (String,) = from_args(args)?;
        Ok(a)
    };
    Some(match method {
        "title" => Ok(Value::from(py_title(s))),
        "istitle" => Ok(Value::from(istitle(s))),
        "swapcase" => Ok(Value::from(
            s.chars()
                .flat_map(|c| -> Vec<char> {
                    if c.is_lowercase() {
                        c.to_uppercase().collect()
                    } else if c.is_uppercase() {
                        c.to_lowercase().collect()
                    } else {
                        vec![c]
                    }
                })
                .collect::<String>(),
        )),
        "casefold" => Ok(Value::from(s.to_lowercase())),
        "split" | "rsplit" => split_args(args)
            .map(|(sep, n)| Value::from(py_split(s, sep.as_deref(), n, method == "rsplit"))),
        "center" | "ljust" | "rjust" => pad_args(args).map(|(width, fill)| {
            let marg = width.saturating_sub(len);
            Value::from(match method {
                "center" => {
                    let left = marg / 2 + (marg & width & 1);
                    padded(left, marg - left, fill)
                }
                "ljust" => padded(0, marg, fill),
                _ => padded(marg, 0, fill),
            })
        }),
        "partition" | "rpartition" => one_str(args).and_then(|sep| {
            if sep.is_empty() {
                return Err(invalid("empty separator"));
            }
            let found = if method == "partition" {
                s.find(&sep)
            } else {
                s.rfind(&sep)
            };
            let parts = match found {
                Some(i) => [&s[..i], sep.as_str(), &s[i + sep.len()..]],
                None if method == "partition" => [s, "", ""],
                None => ["", "", s],
            };
            Ok(Value::from(
                parts.iter().map(|p| Value::from(*p)).collect::<Vec<_>>(),
            ))
        }),
        "index" | "rindex" => one_str(args).and_then(|sub| {
            let found = if method == "index" {
                s.find(&sub)
            } else {
                s.rfind(&sub)
            };
            found
                .map(|i| Value::from(s[..i].chars().count()))
                .ok_or_else(|| invalid("substring not found"))
        }),
        "removeprefix" => {
            one_str(args).map(|p| Value::from(s.strip_prefix(p.as_str()).unwrap_or(s)))
        }
        "removesuffix" => {
            one_str(args).map(|p| Value::from(s.strip_suffix(p.as_str()).unwrap_or(s)))
        }
        _ => return None,
    })
}

/// Python list methods (without mutation); `None` when not handled here.
pub(crate) fn list_method(
    list: &Value,
    method: &str,
    args: &[Value],
) -> Option<Result<Value, Error>> {
    Some(match method {
        "append" | "extend" | "insert" | "remove" | "sort" | "reverse" | "clear" => {
            Ok(Value::from(()))
        }
        "pop" => (|| {
            let (idx,): (Option<i64>,) = from_args(args)?;
            let items: Vec<Value> = list.try_iter()?.collect();
            let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
            let i = idx.unwrap_or(-1);
            let i = if i < 0 { len + i } else { i };
            usize::try_from(i)
                .ok()
                .and_then(|i| items.get(i).cloned())
                .ok_or_else(|| invalid("pop index out of range"))
        })(),
        _ => return None,
    })
}

/// Python dict methods (without mutation); `None` when not handled here.
pub(crate) fn dict_method(
    dict: &Value,
    method: &str,
    args: &[Value],
) -> Option<Result<Value, Error>> {
    if dict.kind() != ValueKind::Map {
        return None;
    }
    Some(match method {
        "update" | "clear" => Ok(Value::from(())),
        "setdefault" | "pop" => (|| {
            let (key, default): (Value, Option<Value>) = from_args(args)?;
            let v = dict.get_item(&key).ok().filter(|v| !v.is_undefined());
            match (v, default) {
                (Some(v), _) => Ok(v),
                (None, Some(d)) => Ok(d),
                (None, None) if method == "setdefault" => Ok(Value::from(())),
                (None, None) => Err(invalid(format!("KeyError: {key}"))),
            }
        })(),
        _ => return None,
    })
}

//! Ansible's Jinja tests (`x is defined`, `result is changed`, `v is version('1.2', '>=')`).

use std::path::Path;

use minijinja::value::{Kwargs, Value, ValueKind};
use minijinja::{Environment, Error};

use super::filters::{fail, text};

/// Registers Ansible's tests (overriding minijinja builtins where Ansible differs).
pub(crate) fn register(env: &mut Environment<'static>) {
    env.add_test("defined", |v: Value| !v.is_undefined());
    env.add_test("undefined", |v: Value| v.is_undefined());
    env.add_test("none", |v: Value| v.is_none());
    env.add_test("changed", |v: Value| -> Result<bool, Error> {
        result_flag(&v, "changed")
    });
    env.add_test("change", |v: Value| -> Result<bool, Error> {
        result_flag(&v, "changed")
    });
    env.add_test("failed", |v: Value| -> Result<bool, Error> {
        result_flag(&v, "failed")
    });
    env.add_test("failure", |v: Value| -> Result<bool, Error> {
        result_flag(&v, "failed")
    });
    for name in ["success", "succeeded", "successful"] {
        env.add_test(name, |v: Value| -> Result<bool, Error> {
            Ok(!result_flag(&v, "failed")?)
        });
    }
    env.add_test("skipped", |v: Value| -> Result<bool, Error> {
        result_flag(&v, "skipped")
    });
    env.add_test("skip", |v: Value| -> Result<bool, Error> {
        result_flag(&v, "skipped")
    });
    env.add_test("finished", |v: Value| -> Result<bool, Error> {
        expect_dict(&v, "finished")?;
        let f = v.get_attr("finished")?;
        Ok(f.is_undefined() || f.as_i64() == Some(1) || f.is_true())
    });
    env.add_test("started", |v: Value| -> Result<bool, Error> {
        expect_dict(&v, "started")?;
        let f = v.get_attr("started")?;
        Ok(f.is_undefined() || f.as_i64() == Some(1) || f.is_true())
    });
    env.add_test("unreachable", |v: Value| -> Result<bool, Error> {
        result_flag(&v, "unreachable")
    });
    env.add_test("reachable", |v: Value| -> Result<bool, Error> {
        Ok(!result_flag(&v, "unreachable")?)
    });
    env.add_test("version", version_test);
    env.add_test("version_compare", version_test);
    env.add_filter("version_compare", version_test);
    env.add_test("match", |v: Value, pattern: String, kwargs: Kwargs| {
        regex_test(&v, &pattern, kwargs, true)
    });
    env.add_test("search", |v: Value, pattern: String, kwargs: Kwargs| {
        regex_test(&v, &pattern, kwargs, false)
    });
    env.add_test("regex", |v: Value, pattern: String, kwargs: Kwargs| {
        let match_type: Option<String> = kwargs.get("match_type")?;
        regex_test(&v, &pattern, kwargs, match_type.as_deref() == Some("match"))
    });
    env.add_test(
        "contains",
        |seq: Value, item: Value| -> Result<bool, Error> { contains(&seq, &item) },
    );
    env.add_test("in", |item: Value, seq: Value| -> Result<bool, Error> {
        contains(&seq, &item)
    });
    env.add_test("subset", |a: Value, b: Value| -> Result<bool, Error> {
        let b: Vec<Value> = b.try_iter()?.collect();
        Ok(a.try_iter()?.all(|x| b.contains(&x)))
    });
    env.add_test("superset", |a: Value, b: Value| -> Result<bool, Error> {
        let a: Vec<Value> = a.try_iter()?.collect();
        Ok(b.try_iter()?.all(|x| a.contains(&x)))
    });
    env.add_test("string", |v: Value| v.kind() == ValueKind::String);
    // Python's bool is a Number, as Jinja2's `number` test sees it.
    env.add_test("number", |v: Value| {
        matches!(v.kind(), ValueKind::Number | ValueKind::Bool)
    });
    // Functions and macros (`lookup is callable`).
    env.add_test("callable", |v: Value| v.kind() == ValueKind::Plain);
    env.add_test("integer", |v: Value| {
        v.kind() == ValueKind::Number && v.is_integer()
    });
    env.add_test("float", |v: Value| {
        v.kind() == ValueKind::Number && !v.is_integer()
    });
    env.add_test("boolean", |v: Value| v.kind() == ValueKind::Bool);
    env.add_test("mapping", |v: Value| v.kind() == ValueKind::Map);
    env.add_test("sequence", |v: Value| {
        matches!(
            v.kind(),
            ValueKind::Seq | ValueKind::String | ValueKind::Map | ValueKind::Iterable
        )
    });
    env.add_test("iterable", |v: Value| {
        matches!(
            v.kind(),
            ValueKind::Seq | ValueKind::String | ValueKind::Map | ValueKind::Iterable
        )
    });
    env.add_test(
        "truthy",
        |v: Value, kwargs: Kwargs| -> Result<bool, Error> {
            let convert: bool = kwargs.get::<Option<bool>>("convert_bool")?.unwrap_or(false);
            kwargs.assert_all_used()?;
            Ok(truthy(&v, convert))
        },
    );
    env.add_test("falsy", |v: Value, kwargs: Kwargs| -> Result<bool, Error> {
        let convert: bool = kwargs.get::<Option<bool>>("convert_bool")?.unwrap_or(false);
        kwargs.assert_all_used()?;
        Ok(!truthy(&v, convert))
    });
    env.add_test("file", |v: Value| Path::new(&text(&v)).is_file());
    env.add_test("directory", |v: Value| Path::new(&text(&v)).is_dir());
    env.add_test("link", |v: Value| Path::new(&text(&v)).is_symlink());
    env.add_test("exists", |v: Value| {
        let p = super::filters::expanduser_path(&text(&v));
        Path::new(&p).exists() || Path::new(&p).is_symlink()
    });
    env.add_test("abs", |v: Value| -> Result<bool, Error> {
        // os.path.isabs: strings only
        v.as_str()
            .map(|s| s.starts_with('/'))
            .ok_or_else(|| fail("expected str, bytes or os.PathLike object"))
    });
    // urlparse accepts any string; a URL also has a host (or is a file: URL).
    env.add_test("uri", |v: Value, schemes: Option<Vec<String>>| {
        v.as_str()
            .is_some_and(|s| schemes.is_none_or(|sc| sc.iter().any(|x| *x == url_scheme(s))))
    });
    env.add_test("urn", |v: Value| {
        v.as_str().is_some_and(|s| url_scheme(s) == "urn")
    });
    env.add_test("url", |v: Value, schemes: Option<Vec<String>>| {
        v.as_str().is_some_and(|s| {
            let scheme = url_scheme(s);
            schemes.is_none_or(|sc| sc.contains(&scheme))
                && (scheme == "file" || s[scheme.len()..].trim_start_matches(':').starts_with("//"))
        })
    });
    env.add_test("timedout", |v: Value| -> Result<bool, Error> {
        expect_dict(&v, "timedout")?;
        let t = v.get_attr("timedout")?;
        Ok(t.is_true() && t.get_attr("period").is_ok_and(|p| p.is_true()))
    });
    env.add_test("vault_encrypted", |v: Value| {
        v.as_str()
            .is_some_and(|s| s.trim_start().starts_with("$ANSIBLE_VAULT;"))
    });
    env.add_test("same_file", |a: Value, b: Value| {
        match (
            std::fs::canonicalize(text(&a)),
            std::fs::canonicalize(text(&b)),
        ) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        }
    });
    env.add_test("mount", |v: Value| is_mount(&text(&v)));
    env.add_test("any", |v: Value| -> Result<bool, Error> {
        Ok(v.try_iter()?.any(|x| x.is_true()))
    });
    env.add_test("all", |v: Value| -> Result<bool, Error> {
        Ok(v.try_iter()?.all(|x| x.is_true()))
    });
    env.add_test("nan", |v: Value| f64::try_from(v).is_ok_and(|f| f.is_nan()));
}

/// The scheme of a URL as `urlparse` reads it (lower-cased), or "".
fn url_scheme(s: &str) -> String {
    match s.split_once(':') {
        Some((scheme, _))
            if scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            scheme.to_ascii_lowercase()
        }
        _ => String::new(),
    }
}

/// The error ansible-core's result tests raise for a value that is not a dict.
fn expect_dict(v: &Value, test: &str) -> Result<(), Error> {
    if v.kind() == ValueKind::Map {
        Ok(())
    } else {
        Err(fail(format!("The '{test}' test expects a dictionary")))
    }
}

/// Reads a task result flag (`changed`, `failed`, `skipped`); the input must be a result dict.
fn result_flag(v: &Value, key: &str) -> Result<bool, Error> {
    if v.kind() != ValueKind::Map {
        return Err(fail(format!(
            "The '{key}' test expects a dictionary (a registered task result)"
        )));
    }
    let f = v.get_attr(key)?;
    if key == "failed" && f.is_undefined() {
        // a result with rc != 0 but no failed key is not a failure in Ansible either
        return Ok(false);
    }
    Ok(!f.is_undefined() && super::filters::ansible_bool_value(&f))
}

fn version_test(v: Value, other: Value, op: Option<String>, kwargs: Kwargs) -> Result<bool, Error> {
    let strict: bool = kwargs.get::<Option<bool>>("strict")?.unwrap_or(false);
    let version_type: Option<String> = kwargs.get("version_type")?;
    let op = match op {
        Some(o) => o,
        None => kwargs
            .get::<Option<String>>("operator")?
            .unwrap_or_else(|| "eq".into()),
    };
    kwargs.assert_all_used()?;
    super::version::compare(
        &text(&v),
        &text(&other),
        &op,
        strict,
        version_type.as_deref(),
    )
    .map_err(fail)
}

fn regex_test(v: &Value, pattern: &str, kwargs: Kwargs, anchored: bool) -> Result<bool, Error> {
    let ic: bool = kwargs.get::<Option<bool>>("ignorecase")?.unwrap_or(false);
    let ml: bool = kwargs.get::<Option<bool>>("multiline")?.unwrap_or(false);
    kwargs.assert_all_used()?;
    let pattern = if anchored {
        format!("^(?:{pattern})")
    } else {
        pattern.to_string()
    };
    let re = super::filters::compile_regex(&pattern, ic, ml)?;
    Ok(re.is_match(text(v).as_bytes()))
}

fn contains(seq: &Value, item: &Value) -> Result<bool, Error> {
    if let (Some(s), Some(i)) = (seq.as_str(), item.as_str()) {
        return Ok(s.contains(i));
    }
    Ok(seq.try_iter()?.any(|x| &x == item))
}

/// Ansible's `truthy`: Python truthiness, optionally reading `yes`/`no` strings as booleans.
fn truthy(v: &Value, convert_bool: bool) -> bool {
    if convert_bool {
        if let Some(s) = v.as_str() {
            let l = s.to_lowercase();
            if ["yes", "on", "1", "true", "y", "t"].contains(&l.as_str()) {
                return true;
            }
            if ["no", "off", "0", "false", "n", "f"].contains(&l.as_str()) {
                return false;
            }
        }
    }
    v.is_true()
}

fn is_mount(p: &str) -> bool {
    std::fs::read_to_string("/proc/self/mounts")
        .map(|m| m.lines().any(|l| l.split_whitespace().nth(1) == Some(p)))
        .unwrap_or(false)
}

//! Ansible's filters, grouped by theme. Each submodule registers its filters on an environment.

mod collections;
mod core;
mod dicts;
mod encoding;
mod jinja_text;
mod math;
mod pathnames;
mod paths;
mod regex;
mod serialize;
mod strings;
mod urls;
pub(crate) mod yaml_emit;

use minijinja::value::Value;
use minijinja::{Environment, Error, ErrorKind};

/// Registers every filter (overriding minijinja builtins where Ansible differs).
pub(crate) fn register(env: &mut Environment<'static>) {
    core::register(env);
    strings::register(env);
    jinja_text::register(env);
    urls::register(env);
    collections::register(env);
    dicts::register(env);
    regex::register(env);
    serialize::register(env);
    encoding::register(env);
    paths::register(env);
    pathnames::register(env);
    math::register(env);
}

/// An "invalid operation" error with a message.
pub(crate) fn fail(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// The items of an iterable value (list, tuple, map keys, generator), or an error naming
/// the filter.
pub(crate) fn items(v: &Value, filter: &str) -> Result<Vec<Value>, Error> {
    if v.is_undefined() {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            format!("{filter}: the input is undefined"),
        ));
    }
    if v.as_str().is_some() {
        return Err(fail(format!("{filter}: expected a list, got a string")));
    }
    v.try_iter().map(|it| it.collect()).map_err(|_| {
        fail(format!(
            "{filter}: expected a list, got {}",
            super::convert::py_type_name(v)
        ))
    })
}

/// The text of a string value, or Python's `str()` of anything else.
pub(crate) fn text(v: &Value) -> String {
    super::convert::py_str(v)
}

pub(crate) use self::core::ansible_bool as ansible_bool_value;
pub(crate) use self::paths::expanduser as expanduser_path;
pub(crate) use self::paths::fileglob as fileglob_values;
pub(crate) use self::paths::home_relative;
pub(crate) use self::regex::compile as compile_regex;

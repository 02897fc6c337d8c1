//! SQL quoting for the PostgreSQL modules: identifiers (dotted names too), literals, JSON values
//! as literals, and community.postgresql's `trust_input: false` check. Re-exported by
//! [`super::common`].

use serde_json::Value;

use super::common::PgError;

/// Quotes one identifier part: `a"b` → `"a""b"`; an already double-quoted part is kept.
pub fn quote_ident_part(part: &str) -> String {
    if part.len() >= 2 && part.starts_with('"') && part.ends_with('"') {
        let inner = &part[1..part.len() - 1];
        if !inner.replace("\"\"", "").contains('"') {
            return part.to_string();
        }
    }
    format!("\"{}\"", part.replace('"', "\"\""))
}

/// Quotes a possibly dotted identifier (`schema.table` → `"schema"."table"`); dots inside
/// double-quoted parts do not split.
pub fn quote_ident(name: &str) -> String {
    split_dotted(name)
        .iter()
        .map(|p| quote_ident_part(p))
        .collect::<Vec<_>>()
        .join(".")
}

/// Splits `a."b.c".d` into `a`, `"b.c"`, `d`.
pub fn split_dotted(name: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in name.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            '.' if !quoted => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    parts.push(cur);
    parts
}

/// Quotes a string literal as PostgreSQL's `quote_literal` does (`E'…'` when it holds a
/// backslash), safe whatever `standard_conforming_strings` says.
pub fn quote_literal(value: &str) -> String {
    let body = value.replace('\'', "''");
    if value.contains('\\') {
        format!("E'{}'", body.replace('\\', "\\\\"))
    } else {
        format!("'{body}'")
    }
}

/// A JSON value as an SQL literal: null → `NULL`, booleans and numbers bare, strings quoted,
/// anything else as its quoted JSON text.
pub fn value_literal(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::Bool(b) => if *b { "TRUE" } else { "FALSE" }.into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => quote_literal(s),
        other => quote_literal(&other.to_string()),
    }
}

/// community.postgresql's `check_input` for `trust_input: false`: fails when a value looks like
/// an injection attempt (`;`, `--`, `/*`, `*/` outside quotes is enough to refuse).
pub fn check_input(values: &[(&str, Option<&str>)]) -> Result<(), PgError> {
    let bad: Vec<&str> = values
        .iter()
        .filter_map(|(key, v)| {
            let v = (*v)?;
            [";", "--", "/*", "*/"]
                .iter()
                .any(|m| v.contains(m))
                .then_some(*key)
        })
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(PgError::failed(format!(
            "Passed input '{}' is potentially dangerous",
            bad.join(", ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn identifiers_and_literals_are_quoted() {
        assert_eq!(quote_ident("public.t"), "\"public\".\"t\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_ident("\"x.y\".z"), "\"x.y\".\"z\"");
        assert_eq!(quote_ident_part("my.db"), "\"my.db\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal("a\\b"), "E'a\\\\b'");
        assert_eq!(value_literal(&json!(3)), "3");
        assert_eq!(value_literal(&Value::Null), "NULL");
    }

    #[test]
    fn untrusted_input_is_checked() {
        assert!(check_input(&[("session_role", Some("x; DROP"))]).is_err());
        assert!(check_input(&[("session_role", Some("app"))]).is_ok());
    }
}

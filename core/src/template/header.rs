//! The `#jinja2:` first-line override of template files
//! (`#jinja2: trim_blocks: False, lstrip_blocks: True`), parsed and checked as ansible-core
//! 2.19 does: comma-separated `key: value` pairs whose values are Python literals, with the same
//! error messages for a missing newline, an empty pair, a missing `:` and an unknown key.

use super::TemplateFileOptions;

const HEADER: &str = "#jinja2:";

/// The options a header may set.
const KEYS: &[&str] = &[
    "trim_blocks",
    "lstrip_blocks",
    "keep_trailing_newline",
    "newline_sequence",
    "block_start_string",
    "block_end_string",
    "variable_start_string",
    "variable_end_string",
    "comment_start_string",
    "comment_end_string",
    "line_statement_prefix",
    "line_comment_prefix",
];

/// Applies a `#jinja2:` header to `options` and returns the template body without it.
pub(crate) fn apply_header<'a>(
    source: &'a str,
    options: &TemplateFileOptions,
) -> Result<(TemplateFileOptions, &'a str), String> {
    let mut opts = options.clone();
    let Some(rest) = source.strip_prefix(HEADER) else {
        return Ok((opts, source));
    };
    let Some(eol) = rest.find('\n') else {
        return Err(format!("Missing newline after '{HEADER}' override."));
    };
    let (line, body) = (&rest[..eol], &rest[eol + 1..]);
    for pair in line.split(',') {
        if pair.trim().is_empty() {
            return Err(format!("Empty '{HEADER}' override pair not allowed."));
        }
        let (key, value) = pair.split_once(':').ok_or_else(|| {
            format!(
                "Missing key-value separator `:` in '{HEADER}' override pair {}.",
                py_repr(pair)
            )
        })?;
        let key = key.trim();
        if !KEYS.contains(&key) {
            return Err(format!("Invalid '{HEADER}' override key {}.", py_repr(key)));
        }
        let value = Literal::parse(value.trim())
            .ok_or_else(|| format!("Invalid {key} value {}: not a literal.", value.trim()))?;
        match key {
            "trim_blocks" => opts.trim_blocks = value.bool(key)?,
            "lstrip_blocks" => opts.lstrip_blocks = value.bool(key)?,
            "keep_trailing_newline" => opts.keep_trailing_newline = value.bool(key)?,
            "newline_sequence" => {
                let s = value.str(key)?;
                if !matches!(s.as_str(), "\n" | "\r\n" | "\r") {
                    return Err(format!(
                        "newline_sequence must be one of '\\n', '\\r\\n', '\\r', not {}.",
                        py_repr(&s)
                    ));
                }
                opts.newline_sequence = s;
            }
            "block_start_string" => opts.block_start_string = value.str(key)?,
            "block_end_string" => opts.block_end_string = value.str(key)?,
            "variable_start_string" => opts.variable_start_string = value.str(key)?,
            "variable_end_string" => opts.variable_end_string = value.str(key)?,
            "comment_start_string" => opts.comment_start_string = value.str(key)?,
            "comment_end_string" => opts.comment_end_string = value.str(key)?,
            "line_statement_prefix" => opts.line_statement_prefix = value.opt_str(key)?,
            "line_comment_prefix" => opts.line_comment_prefix = value.opt_str(key)?,
            _ => return Err(format!("Invalid '{HEADER}' override key {}.", py_repr(key))),
        }
    }
    let starts = [
        &opts.block_start_string,
        &opts.variable_start_string,
        &opts.comment_start_string,
    ];
    if starts[0] == starts[1] || starts[1] == starts[2] || starts[0] == starts[2] {
        return Err("Block, variable and comment start strings must be different.".into());
    }
    Ok((opts, body))
}

/// Python's `repr` of a string (single quotes unless the text holds one and no double quote).
fn py_repr(s: &str) -> String {
    let q = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::from(q);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(q);
    out
}

/// A Python literal of an override value (what `ast.literal_eval` accepts that can be valid).
#[derive(Debug, PartialEq)]
enum Literal {
    Bool(bool),
    None,
    Str(String),
    Other(String),
}

impl Literal {
    /// Parses `True`, `False`, `None`, a quoted string or a number; `None` for anything else.
    fn parse(text: &str) -> Option<Self> {
        match text {
            "True" => return Some(Self::Bool(true)),
            "False" => return Some(Self::Bool(false)),
            "None" => return Some(Self::None),
            _ => {}
        }
        if let Some(s) = parse_str(text) {
            return Some(Self::Str(s));
        }
        text.parse::<f64>()
            .is_ok()
            .then(|| Self::Other(text.to_string()))
    }

    fn describe(&self) -> String {
        match self {
            Self::Bool(b) => if *b { "True" } else { "False" }.into(),
            Self::None => "None".into(),
            Self::Str(s) => py_repr(s),
            Self::Other(t) => t.clone(),
        }
    }

    fn bool(&self, key: &str) -> Result<bool, String> {
        match self {
            Self::Bool(b) => Ok(*b),
            other => Err(format!("{key} must be a bool, not {}.", other.describe())),
        }
    }

    fn str(&self, key: &str) -> Result<String, String> {
        match self {
            Self::Str(s) => Ok(s.clone()),
            other => Err(format!("{key} must be a str, not {}.", other.describe())),
        }
    }

    fn opt_str(&self, key: &str) -> Result<Option<String>, String> {
        match self {
            Self::None => Ok(None),
            other => other.str(key).map(Some),
        }
    }
}

/// Parses a Python string literal (`'\r\n'`, `"<<"`, `":"`).
fn parse_str(value: &str) -> Option<String> {
    let quote = value.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let inner = value.strip_prefix(quote)?.strip_suffix(quote)?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == quote {
            return None; // the literal ends before the value does
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some(other @ ('\\' | '\'' | '"')) => out.push(other),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(src: &str) -> Result<(TemplateFileOptions, &str), String> {
        apply_header(src, &TemplateFileOptions::default())
    }

    #[test]
    fn pairs_set_options() {
        let (o, body) =
            apply("#jinja2: trim_blocks: False, variable_start_string: '[%'\nbody\n").unwrap();
        assert!(!o.trim_blocks);
        assert_eq!(o.variable_start_string, "[%");
        assert_eq!(body, "body\n");
        let (o, _) = apply("#jinja2: line_statement_prefix:\":\"\n").unwrap();
        assert_eq!(o.line_statement_prefix.as_deref(), Some(":"));
        let (o, _) = apply("#jinja2: newline_sequence: '\\r\\n'\n").unwrap();
        assert_eq!(o.newline_sequence, "\r\n");
    }

    #[test]
    fn errors_name_the_problem() {
        let e = apply("#jinja2: lstrip_blocks=True\n").unwrap_err();
        assert_eq!(
            e,
            "Missing key-value separator `:` in '#jinja2:' override pair ' lstrip_blocks=True'."
        );
        assert!(apply("#jinja2: trim_blocks: False")
            .unwrap_err()
            .starts_with("Missing newline"));
        assert!(apply("#jinja2: trim_blocks: False,\n")
            .unwrap_err()
            .starts_with("Empty"));
        assert_eq!(
            apply("#jinja2: nope: 1\n").unwrap_err(),
            "Invalid '#jinja2:' override key 'nope'."
        );
        assert!(apply("#jinja2: trim_blocks: 'yes'\n")
            .unwrap_err()
            .contains("must be a bool"));
        assert!(apply("#jinja2: variable_start_string: '{%'\n")
            .unwrap_err()
            .contains("must be different"));
    }
}

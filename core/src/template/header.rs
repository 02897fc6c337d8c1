//! The `#jinja2:` first-line override of template files
//! (`#jinja2: trim_blocks: False, lstrip_blocks: True`).

use super::TemplateFileOptions;

const HEADER: &str = "#jinja2:";

/// Applies a `#jinja2:` header to `options` and returns the template body without it.
pub(crate) fn apply_header<'a>(
    source: &'a str,
    options: &TemplateFileOptions,
) -> Result<(TemplateFileOptions, &'a str), String> {
    let mut opts = options.clone();
    let Some(rest) = source.strip_prefix(HEADER) else {
        return Ok((opts, source));
    };
    let (line, body) = match rest.find('\n') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    for pair in line.split(',') {
        if pair.trim().is_empty() {
            continue;
        }
        let (key, value) = pair
            .split_once(':')
            .ok_or_else(|| format!("failed to parse jinja2 override '{}'", pair.trim()))?;
        let key = key.trim();
        let value = value.trim();
        match key {
            "trim_blocks" => opts.trim_blocks = parse_bool(key, value)?,
            "lstrip_blocks" => opts.lstrip_blocks = parse_bool(key, value)?,
            "keep_trailing_newline" => opts.keep_trailing_newline = parse_bool(key, value)?,
            "newline_sequence" => opts.newline_sequence = parse_str(key, value)?,
            "block_start_string" => opts.block_start_string = parse_str(key, value)?,
            "block_end_string" => opts.block_end_string = parse_str(key, value)?,
            "variable_start_string" => opts.variable_start_string = parse_str(key, value)?,
            "variable_end_string" => opts.variable_end_string = parse_str(key, value)?,
            "comment_start_string" => opts.comment_start_string = parse_str(key, value)?,
            "comment_end_string" => opts.comment_end_string = parse_str(key, value)?,
            other => return Err(format!("unsupported jinja2 override '{other}'")),
        }
    }
    Ok((opts, body))
}

fn parse_bool(key: &str, value: &str) -> Result<bool, String> {
    match value {
        "True" | "true" => Ok(true),
        "False" | "false" => Ok(false),
        _ => Err(format!(
            "jinja2 override {key}: expected True or False, got '{value}'"
        )),
    }
}

/// Parses a Python string literal (`'\r\n'`, `"<<"`).
fn parse_str(key: &str, value: &str) -> Result<String, String> {
    let quote = value.chars().next().filter(|c| *c == '\'' || *c == '"');
    let inner = quote
        .and_then(|q| value.strip_prefix(q)?.strip_suffix(q))
        .ok_or_else(|| format!("jinja2 override {key}: expected a quoted string, got '{value}'"))?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    Ok(out)
}

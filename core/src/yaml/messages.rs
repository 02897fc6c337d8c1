//! YAML parser errors in the user's words: what is wrong with their file and what to do, never
//! the parser library's API names or debug structures.

/// The message and hint for a parser error text (the position is reported separately).
pub(super) fn user_message(raw: &str) -> (String, &'static str) {
    const SYNTAX: &str = "check the indentation and quoting around this position";
    if let Some(rest) = raw.strip_prefix("budget breached: ") {
        return budget(rest);
    }
    if raw.starts_with("multiple YAML documents") {
        return (
            "this file holds one YAML document, but a second one starts here".into(),
            "remove the '---' line, or move the second document to a file of its own",
        );
    }
    if let Some(rest) = raw.strip_prefix("duplicate mapping key: ") {
        let key = rest
            .split(", set DuplicateKeyPolicy")
            .next()
            .unwrap_or(rest);
        return (
            format!("the key `{key}` appears twice in this mapping"),
            "remove or rename one of the two entries",
        );
    }
    if raw.contains("simple key expected ':'") {
        return (
            "expected ':' after this mapping key".into(),
            "a key must end with ':' on the same line, within 1024 characters of its start",
        );
    }
    if raw.contains("recursive references") {
        return (
            "an alias refers to the anchor that contains it (a recursive reference)".into(),
            "an alias (*name) can only repeat an anchor (&name) defined completely before it",
        );
    }
    for (what, kind) in [
        ("u64", "an integer"),
        ("i64", "an integer"),
        ("u128", "an integer"),
        ("i128", "an integer"),
        ("f64", "a number"),
        ("f32", "a number"),
        ("bool", "a boolean"),
    ] {
        if raw == format!("invalid {what}") || raw.starts_with(&format!("invalid {what} ")) {
            return (
                format!("this value is not {kind}, or is too large for one"),
                "quote the value to keep it as text, or fix its explicit tag (!!int, !!float, !!bool)",
            );
        }
    }
    let cleaned = raw
        .split("; use from_str")
        .next()
        .unwrap_or(raw)
        .split(", set ")
        .next()
        .unwrap_or(raw);
    (format!("YAML syntax error: {cleaned}"), SYNTAX)
}

/// `Depth { depth: 65 }` and the other budget limits.
fn budget(rest: &str) -> (String, &'static str) {
    let name = rest.split([' ', '{']).next().unwrap_or(rest);
    let number: Option<usize> = rest
        .split(|c: char| !c.is_ascii_digit())
        .find(|s| !s.is_empty())
        .and_then(|s| s.parse().ok());
    let n = number.unwrap_or(0);
    match name {
        "Depth" => (
            format!("nesting deeper than {} levels", n.saturating_sub(1).max(1)),
            "flatten the data: lists and mappings may nest at most this deep",
        ),
        "Aliases" | "AliasAnchorRatio" => (
            "too many aliases (*name): the expanded document would be enormous".into(),
            "use fewer aliases; repeated references to large anchors multiply the data",
        ),
        "Documents" => (
            "too many YAML documents in one file".into(),
            "a playbook, inventory or vars file holds one document",
        ),
        _ => (
            format!(
                "the document is too large or complex to load (limit on {})",
                name.to_lowercase()
            ),
            "split the data into smaller files",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::user_message;

    #[test]
    fn no_library_words_leak() {
        for (raw, want) in [
            ("budget breached: Depth { depth: 65 }", "nesting deeper than 64 levels"),
            ("multiple YAML documents detected; use from_str_multiple or from_str_multiple_with_options", "one YAML document"),
            ("duplicate mapping key: hosts, set DuplicateKeyPolicy in Options if acceptable", "the key `hosts` appears twice"),
            ("recursive references require weak recursion types", "recursive reference"),
            ("invalid u64", "not an integer"),
            ("budget breached: Nodes { nodes: 250001 }", "too large or complex"),
        ] {
            let (m, hint) = user_message(raw);
            assert!(m.contains(want), "{raw} -> {m}");
            for leak in ["budget", "Depth {", "from_str", "DuplicateKeyPolicy", "Options", "weak", "u64"] {
                assert!(!m.contains(leak) && !hint.contains(leak), "{raw} -> {m} / {hint}");
            }
        }
    }
}

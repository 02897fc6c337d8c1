//! Undefined values carried along attribute and item lookups (`nope.x | default(1)`,
//! `list.1.foo is not defined`): whether a strict-mode undefined error may be retried with
//! chainable undefined values, because the undefined value is only defaulted or tested.

use minijinja::{Error, ErrorKind};

/// Whether a strict-mode error is minijinja refusing an attribute or item lookup on an
/// undefined value whose every use in `source` only tests or defaults it: each occurrence of the
/// undefined name it reports goes on with `.name` or `[…]` lookups and ends in `| default`,
/// `| d`, `| mandatory`, `is defined` or `is undefined` (`is not …` too). Any other use keeps
/// the strict error, as ansible-core fails when an undefined value is printed, computed with,
/// iterated or tested for truth (which chainable undefined values would allow).
pub(crate) fn chains_undefined(source: &str, err: &Error) -> bool {
    if err.kind() != ErrorKind::UndefinedError {
        return false;
    }
    let Some(name) = err
        .detail()
        .and_then(|d| d.strip_prefix('`'))
        .and_then(|d| d.split_once('`'))
        .map(|(name, _)| name)
    else {
        return false;
    };
    // minijinja names `list.1` as `list[1]`: compare both in that spelling.
    let source = &index_attributes(source);
    let name = &index_attributes(name);
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut chained = false;
    for (at, _) in source.match_indices(name) {
        let rest = &source[at + name.len()..];
        if source[..at]
            .chars()
            .next_back()
            .is_some_and(|c| is_ident(c) || c == '.')
            || rest.starts_with(is_ident)
        {
            continue; // part of another name
        }
        let (lookups, after) = skip_lookups(rest);
        if !guarded_use(after) {
            return false;
        }
        chained |= lookups;
    }
    chained
}

/// Rewrites numeric attribute lookups as item lookups (`a.1.b` → `a[1].b`), as minijinja spells
/// them in its errors. A dot after a number (`1.5`) or inside a string literal is left alone.
fn index_attributes(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 4);
    let mut quote: Option<char> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if let Some(q) = quote {
            out.push(c);
            if c == '\\' {
                if let Some(&n) = chars.get(i + 1) {
                    out.push(n);
                    i += 1;
                }
            } else if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        if c == '\'' || c == '"' {
            quote = Some(c);
        } else if c == '.' && follows_value(&out) {
            let digits = chars[i + 1..]
                .iter()
                .take_while(|d| d.is_ascii_digit())
                .count();
            let after = chars.get(i + 1 + digits);
            if digits > 0 && !after.is_some_and(|a| a.is_alphanumeric() || *a == '_') {
                out.push('[');
                out.extend(&chars[i + 1..i + 1 + digits]);
                out.push(']');
                i += 1 + digits;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Whether `before` ends in something a lookup applies to: a name (not a number), `]` or `)`.
fn follows_value(before: &str) -> bool {
    let is_ident = |c: &char| c.is_alphanumeric() || *c == '_';
    match before.chars().next_back() {
        Some(']' | ')') => true,
        Some(c) if is_ident(&c) => before
            .chars()
            .rev()
            .take_while(is_ident)
            .last()
            .is_some_and(|c| !c.is_ascii_digit()),
        _ => false,
    }
}

/// Skips `.name` and `[…]` lookups at the start of `text`: whether there were any, and the rest.
fn skip_lookups(mut text: &str) -> (bool, &str) {
    let mut any = false;
    loop {
        let t = text.trim_start();
        if let Some(attr) = t.strip_prefix('.') {
            let attr = attr.trim_start();
            let end = attr
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(attr.len());
            if end == 0 {
                return (any, t);
            }
            text = &attr[end..];
        } else if t.starts_with('[') {
            let mut depth = 0usize;
            let Some(end) = t.char_indices().find_map(|(i, c)| {
                match c {
                    '[' => depth += 1,
                    ']' => depth = depth.saturating_sub(1),
                    _ => {}
                }
                (c == ']' && depth == 0).then_some(i)
            }) else {
                return (any, t);
            };
            text = &t[end + 1..];
        } else {
            return (any, t);
        }
        any = true;
    }
}

/// Whether `text` (what follows a lookup chain, closing parentheses skipped) applies only
/// `default`, `d`, `mandatory`, or the `defined`/`undefined` tests.
fn guarded_use(text: &str) -> bool {
    let t = text.trim_start_matches(|c: char| c.is_whitespace() || c == ')');
    let word = |t: &str, words: &[&str]| {
        words.iter().any(|w| {
            t.strip_prefix(w)
                .is_some_and(|r| !r.starts_with(|c: char| c.is_alphanumeric() || c == '_'))
        })
    };
    if let Some(f) = t.strip_prefix('|') {
        return word(f.trim_start(), &["default", "d", "mandatory"]);
    }
    let Some(test) = t
        .strip_prefix("is")
        .filter(|r| r.starts_with(char::is_whitespace))
    else {
        return false;
    };
    let test = test.trim_start();
    let test = test
        .strip_prefix("not")
        .filter(|r| r.starts_with(char::is_whitespace))
        .map_or(test, str::trim_start);
    word(test, &["defined", "undefined"])
}

#[cfg(test)]
mod tests {
    use super::index_attributes;

    #[test]
    fn numeric_attributes_become_items() {
        assert_eq!(index_attributes("list.1.foo"), "list[1].foo");
        assert_eq!(index_attributes("a.0.1 | d(1)"), "a[0][1] | d(1)");
        assert_eq!(index_attributes("x[0].2"), "x[0][2]");
        assert_eq!(index_attributes("1.5 + a.b1"), "1.5 + a.b1");
        assert_eq!(index_attributes("'a.1' ~ b.1x"), "'a.1' ~ b.1x");
    }
}

//! Host addresses in inventories and patterns: `host:port`, `[ipv6]:port`, IPv4/IPv6 and host
//! names that may contain ranges (Ansible's `parse_address`).

use std::net::Ipv6Addr;

/// Splits an address into host and port, validating the host like Ansible's `parse_address`
/// with `allow_ranges`: a host name (labels of word characters, `-` and `_`, not ending in `-`
/// or `_`, with `[a:z]`/`[0:9]` ranges), an IPv4 address or an IPv6 address (hex ranges
/// allowed). `None` if it is none of these.
pub fn parse_address(text: &str, allow_ranges: bool) -> Option<(String, Option<u16>)> {
    let (host, port) = split_port(text);
    let port = match port {
        Some(p) => Some(p.parse::<u16>().ok()?),
        None => None,
    };
    if !(is_hostname(host) || is_ipv6(host)) {
        return None;
    }
    if !allow_ranges && host.contains('[') {
        return None;
    }
    Some((host.to_string(), port))
}

/// Refuses a host name holding a control character (a NUL byte, an escape, a stray `\r`):
/// no resolver or SSH client accepts one, and it would corrupt every message that shows it.
pub fn check_host_name(name: &str) -> Result<(), String> {
    match name.char_indices().find(|(_, c)| c.is_control()) {
        Some((i, c)) => Err(format!(
            "invalid host name '{}': it contains the control character U+{:04X} at byte {i}",
            name.escape_debug(),
            c as u32
        )),
        None => Ok(()),
    }
}

/// Separates a trailing `:port` (digits) from `text`: `[v6addr]:22` and `name:22` (where `name`
/// has no `:` outside brackets).
fn split_port(text: &str) -> (&str, Option<&str>) {
    if let Some(rest) = text.strip_prefix('[') {
        if let Some((inner, port)) = rest.rsplit_once("]:") {
            if !inner.is_empty() && is_digits(port) {
                return (inner, Some(port));
            }
        }
    }
    if let Some((host, port)) = text.rsplit_once(':') {
        if is_digits(port) && colons_only_in_brackets(host) {
            return (host, Some(port));
        }
    }
    (text, None)
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// True if every `:` in `s` is inside a `[...]` pair and brackets are balanced.
fn colons_only_in_brackets(s: &str) -> bool {
    let mut depth = 0usize;
    for c in s.chars() {
        match c {
            '[' if depth == 0 => depth = 1,
            ']' if depth == 1 => depth = 0,
            '[' | ']' => return false,
            ':' if depth == 0 => return false,
            _ => {}
        }
    }
    depth == 0
}

/// One piece of a host-name label: a character or a whole `[..]` range.
enum Piece {
    Char(char),
    Range,
}

fn is_alnum_range(body: &str) -> bool {
    let parts: Vec<&str> = body.split(':').collect();
    if parts.len() != 2 && parts.len() != 3 {
        return false;
    }
    if parts.len() == 3 && !is_digits(parts[2]) {
        return false;
    }
    let letter = |s: &str| s.len() == 1 && s.bytes().all(|b| b.is_ascii_alphabetic());
    (letter(parts[0]) && letter(parts[1])) || (is_digits(parts[0]) && is_digits(parts[1]))
}

fn is_label(label: &str) -> bool {
    let mut pieces = Vec::new();
    let mut rest = label;
    while let Some(c) = rest.chars().next() {
        if c == '[' {
            let Some(end) = rest.find(']') else {
                return false;
            };
            if !is_alnum_range(&rest[1..end]) {
                return false;
            }
            pieces.push(Piece::Range);
            rest = &rest[end + 1..];
        } else {
            pieces.push(Piece::Char(c));
            rest = &rest[c.len_utf8()..];
        }
    }
    let word = |c: &char| c.is_alphanumeric() || *c == '_';
    match (pieces.first(), pieces.last()) {
        (None, _) | (_, None) => false,
        (Some(Piece::Char(c)), _) if !word(c) => false,
        (_, Some(Piece::Char('-' | '_'))) => false,
        _ => pieces.iter().all(|p| match p {
            Piece::Range => true,
            Piece::Char(c) => word(c) || *c == '-',
        }),
    }
}

/// A host name (or IPv4 address): dot-separated labels, ranges allowed.
fn is_hostname(s: &str) -> bool {
    !s.is_empty() && split_labels(s).iter().all(|l| is_label(l))
}

/// Splits on dots that are outside brackets.
fn split_labels(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in s.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            '.' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// An IPv6 address, where hex ranges `[a:f]` may stand for a group.
fn is_ipv6(s: &str) -> bool {
    if s.matches(':').count() < 2 {
        return false;
    }
    let mut plain = String::new();
    let mut rest = s;
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find(']').map(|i| open + i) else {
            return false;
        };
        let body = &rest[open + 1..close];
        let parts: Vec<&str> = body.split(':').collect();
        let hex = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_hexdigit());
        let ok = (parts.len() == 2 || (parts.len() == 3 && is_digits(parts[2])))
            && hex(parts[0])
            && hex(parts[1]);
        if !ok {
            return false;
        }
        plain.push_str(&rest[..open]);
        plain.push('0');
        rest = &rest[close + 1..];
    }
    plain.push_str(rest);
    plain.parse::<Ipv6Addr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Option<(String, Option<u16>)> {
        parse_address(s, true)
    }

    #[test]
    fn host_and_port() {
        assert_eq!(p("web1"), Some(("web1".into(), None)));
        assert_eq!(p("web1:2222"), Some(("web1".into(), Some(2222))));
        assert_eq!(
            p("web[01:10].ex.com:22"),
            Some(("web[01:10].ex.com".into(), Some(22)))
        );
        assert_eq!(p("10.0.3.11:22"), Some(("10.0.3.11".into(), Some(22))));
        assert_eq!(p("db-[a:f]"), Some(("db-[a:f]".into(), None)));
        assert_eq!(p("fe80::1"), Some(("fe80::1".into(), None)));
        assert_eq!(p("[fe80::1]:2222"), Some(("fe80::1".into(), Some(2222))));
        assert_eq!(p("fe80::[a:f]"), Some(("fe80::[a:f]".into(), None)));
    }

    #[test]
    fn rejects_what_ansible_rejects() {
        for bad in [
            "web:db", "web*", "host-", "host_", "a..b", "~web", "h:99999", "", "h[1]", "&web",
        ] {
            assert_eq!(p(bad), None, "{bad}");
        }
        assert_eq!(parse_address("web[1:3]", false), None);
    }
}

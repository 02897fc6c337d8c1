//! The fields of a pg_hba.conf rule as community.postgresql 4 reads them: connection types,
//! methods, sources (networks, names, keywords), netmasks, `key=value` options, and the
//! quote-aware tokenizer.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Connection types.
pub const TYPES: &[&str] = &[
    "local",
    "host",
    "hostssl",
    "hostnossl",
    "hostgssenc",
    "hostnogssenc",
];

/// Authentication methods.
pub const METHODS: &[&str] = &[
    "trust",
    "reject",
    "md5",
    "password",
    "gss",
    "sspi",
    "krb5",
    "ident",
    "peer",
    "ldap",
    "radius",
    "cert",
    "pam",
    "scram-sha-256",
];

/// A rule's source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `local` rules have none.
    Local,
    /// An IP network.
    Net(IpAddr, u8),
    /// A host name, `.domain` suffix or keyword (`all`, `samehost`, `samenet`).
    Name(String),
}

impl Source {
    /// The source as written in a rule (`10.0.0.0/8`, a name; empty for local).
    pub fn text(&self) -> String {
        match self {
            Self::Local => String::new(),
            Self::Net(a, p) => format!("{a}/{p}"),
            Self::Name(n) => n.clone(),
        }
    }

    /// Specificity: local 130, samehost 129, an IPv4 prefix ×4 / IPv6 prefix, names 128, `all` 0.
    pub fn weight(&self) -> u32 {
        match self {
            Self::Local => 130,
            Self::Net(IpAddr::V4(_), p) => u32::from(*p) * 4,
            Self::Net(IpAddr::V6(_), p) => u32::from(*p),
            Self::Name(n) => match n.as_str() {
                "all" => 0,
                "samehost" => 129,
                "samenet" => 96,
                n if n.starts_with('.') => 64,
                _ => 128,
            },
        }
    }

    /// Local before IPv4 before IPv6 before names.
    pub fn type_weight(&self) -> u8 {
        match self {
            Self::Local => 3,
            Self::Net(IpAddr::V4(_), _) => 2,
            Self::Net(IpAddr::V6(_), _) => 1,
            Self::Name(_) => 0,
        }
    }

    /// Orders two sources of the same kind (networks by address, then prefix).
    pub fn cmp_value(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Self::Net(a, p), Self::Net(b, q)) => (a, p).cmp(&(b, q)),
            (Self::Name(a), Self::Name(b)) => a.cmp(b),
            _ => Ordering::Equal,
        }
    }
}

/// The text inside double quotes (as given when unquoted).
pub fn strip_quotes(s: &str) -> &str {
    if s.starts_with('"') && s.len() >= 2 {
        &s[1..s.len() - 1]
    } else {
        s
    }
}

/// The network address of `addr/prefix`.
pub fn masked(addr: IpAddr, prefix: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask))
        }
        IpAddr::V6(a) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask))
        }
    }
}

/// An address field: `(address, prefix)` for an IP (prefix `None` without `/n`), else a name.
pub fn address_field(text: &str) -> Result<Result<(IpAddr, Option<u8>), String>, String> {
    let (a, p) = match text.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (text, None),
    };
    if let Ok(addr) = a.parse::<IpAddr>() {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            None => None,
            Some(p) => match p.parse::<u8>() {
                Ok(n) if n <= max => Some(n),
                _ => return Err(format!("The string '{text}' is neither a valid IP address, network, hostname or keyword")),
            },
        };
        if masked(addr, prefix.unwrap_or(max)) != addr {
            return Err(format!("{text} has host bits set"));
        }
        return Ok(Ok((addr, prefix)));
    }
    if text.starts_with('"') {
        if let Ok(Ok(ip)) = address_field(strip_quotes(text)) {
            return Ok(Ok(ip));
        }
    }
    let ipv4ish = {
        let t = strip_quotes(text.split('/').next().unwrap_or(text));
        t.split('.').count() == 4
            && t.split('.')
                .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
    };
    if text.chars().any(|c| ":\\/@+ ".contains(c)) || ipv4ish {
        return Err(format!(
            "The string '{text}' is neither a valid IP address, network, hostname or keyword"
        ));
    }
    Ok(Err(text.to_string()))
}

/// A netmask's prefix length and whether it is IPv4.
pub fn netmask_field(mask: &str) -> Result<(u8, bool), String> {
    let m = strip_quotes(mask);
    let addr: IpAddr = m
        .parse()
        .map_err(|_| format!("The string '{m}' is not a valid netmask"))?;
    let (bits, width) = match addr {
        IpAddr::V4(a) => (u128::from(u32::from(a)), 32u32),
        IpAddr::V6(a) => (u128::from(a), 128u32),
    };
    let ones = bits.count_ones();
    let expected = if ones == 0 {
        0
    } else {
        (u128::MAX >> (128 - ones)) << (width - ones)
    };
    if bits != expected {
        return Err(format!(
            "IP mask {m} is invalid (binary value has 1 after 0)"
        ));
    }
    Ok((ones as u8, addr.is_ipv4()))
}

/// Parses `key=value` options.
pub fn parse_options(tokens: &[String]) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for o in tokens {
        match strip_quotes(o).split_once('=') {
            Some((k, v)) if !k.is_empty() && !v.is_empty() => {
                if out.insert(k.to_string(), v.to_string()).is_some() {
                    return Err(format!(
                        "The rule contains two options with the same key ('{k}')"
                    ));
                }
            }
            _ => {
                return Err(format!(
                    "Found invalid option '{o}'. Options need to be in the format 'key=value'"
                ))
            }
        }
    }
    Ok(out)
}

/// Splits a line into fields, respecting double quotes; a trailing `#…` is one last field.
pub fn tokenize(line: &str) -> Result<Vec<String>, String> {
    let mut tokens = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            '#' if !quoted => {
                if !cur.is_empty() {
                    tokens.push(std::mem::take(&mut cur));
                }
                tokens.push(std::iter::once('#').chain(chars.by_ref()).collect());
                return Ok(tokens);
            }
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    tokens.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if quoted {
        return Err("Unterminated quote".into());
    }
    if !cur.is_empty() {
        tokens.push(cur);
    }
    Ok(tokens)
}

/// Sorts a comma-separated list of databases or users, unless quoted or a regular expression.
pub fn db_or_user(s: &str) -> String {
    if s.contains('"') || s.starts_with('/') {
        s.to_string()
    } else {
        let mut parts: Vec<&str> = s.split(',').collect();
        parts.sort_unstable();
        parts.join(",")
    }
}

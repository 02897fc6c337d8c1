//! The pure half of `postgresql_pg_hba`: reading a pg_hba.conf into rules, adding and removing
//! rules by their key (source, databases, users), and rendering the file as community.postgresql
//! does — comments first, then the rules sorted most specific source first, fields separated by
//! tabs.

use std::cmp::Ordering;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde_json::{Map, Value};

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

/// An IP network (address with prefix length).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Net {
    addr: IpAddr,
    prefix: u8,
}

impl Net {
    /// Parses `addr[/prefix]`; `strict` refuses host bits set under the prefix.
    pub fn parse(text: &str, strict: bool) -> Result<Option<Self>, String> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let Ok(addr) = addr.parse::<IpAddr>() else {
            return Ok(None);
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => match p.parse::<u8>() {
                Ok(n) if n <= max => n,
                _ => return Ok(None),
            },
        };
        let net = Self { addr, prefix }.masked();
        if strict && net.addr != addr {
            return Err(format!("{text} has host bits set"));
        }
        Ok(Some(net))
    }

    fn masked(self) -> Self {
        let addr = match self.addr {
            IpAddr::V4(a) => {
                let bits = u32::from(a);
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - self.prefix)
                };
                IpAddr::V4(Ipv4Addr::from(bits & mask))
            }
            IpAddr::V6(a) => {
                let bits = u128::from(a);
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u128::MAX << (128 - self.prefix)
                };
                IpAddr::V6(Ipv6Addr::from(bits & mask))
            }
        };
        Self { addr, ..self }
    }

    /// Weight for sorting: IPv4 prefixes count four times (so /32 weighs as IPv6 /128).
    fn weight(&self) -> u32 {
        if self.addr.is_ipv4() {
            u32::from(self.prefix) * 4
        } else {
            u32::from(self.prefix)
        }
    }
}

impl std::fmt::Display for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// The prefix length a netmask (`255.255.255.0`) stands for.
fn mask_prefix(mask: &str) -> Result<(u8, bool), String> {
    let strip = strip_quotes(mask);
    let addr: IpAddr = strip
        .parse()
        .map_err(|_| format!("The string '{strip}' is not a valid netmask"))?;
    let (bits, width) = match addr {
        IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
        IpAddr::V6(a) => (u128::from(a), 128),
    };
    let ones = bits.count_ones();
    let expected = if ones == 0 {
        0
    } else {
        ((1u128 << ones) - 1) << (width - ones)
    };
    if bits != expected {
        return Err(format!(
            "IP mask {strip} is invalid (binary value has 1 after 0)"
        ));
    }
    Ok((ones as u8, addr.is_ipv4()))
}

fn strip_quotes(s: &str) -> &str {
    if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
        &s[1..s.len() - 1]
    } else {
        s
    }
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `local`, `host`, …
    pub contype: String,
    /// Databases (comma-separated).
    pub db: String,
    /// Users (comma-separated).
    pub usr: String,
    /// Source: a network `addr/prefix`, a host name or a keyword; `None` for `local`.
    pub src: Option<String>,
    /// Authentication method.
    pub method: String,
    /// Method options (`key=value …`).
    pub options: Option<String>,
    /// Comment kept at the rule (without its `#`).
    pub comment: Option<String>,
}

impl Rule {
    /// A rule as the module's parameters give it; the source is normalised (`10.0.0.1` →
    /// `10.0.0.1/32`, `10.1.2.3` + `255.255.0.0` → `10.1.0.0/16`).
    pub fn new(
        contype: &str,
        db: &str,
        usr: &str,
        src: Option<&str>,
        mask: Option<&str>,
        method: &str,
        options: Option<&str>,
        comment: Option<&str>,
    ) -> Result<Self, String> {
        if !METHODS.contains(&method) {
            return Err(format!(
                "invalid method {method} (should be one of '{}').",
                METHODS.join("', '")
            ));
        }
        if !TYPES.contains(&contype) {
            return Err(format!(
                "invalid connection type {contype} (should be one of '{}').",
                TYPES.join("', '")
            ));
        }
        let src = if contype == "local" {
            None
        } else {
            let src = src.filter(|s| !s.is_empty()).ok_or("Missing src in rule")?;
            Some(match mask.filter(|m| !m.is_empty() && !src.contains('/')) {
                Some(mask) => {
                    let ip: IpAddr = src.parse().map_err(|_| {
                        format!("Mask was specified, but source \"{src}\" is not valid ip")
                    })?;
                    let (prefix, v4) = mask_prefix(mask)
                        .map_err(|_| format!("Mask {mask} seems to be invalid"))?;
                    if v4 != ip.is_ipv4() {
                        return Err("Can't mix IPv4 and IPv6 netmasks and addresses".into());
                    }
                    Net { addr: ip, prefix }.masked().to_string()
                }
                None => match Net::parse(src, false)? {
                    Some(net) => net.to_string(),
                    None => src.to_string(),
                },
            })
        };
        Ok(Self {
            contype: contype.into(),
            db: db.into(),
            usr: usr.into(),
            src,
            method: method.into(),
            options: options.filter(|o| !o.is_empty()).map(str::to_string),
            comment: comment.filter(|c| !c.is_empty()).map(str::to_string),
        })
    }

    /// The key rules are unique by: (source, databases, users).
    pub fn key(&self) -> (String, String, String) {
        let src = self.src.clone().unwrap_or_else(|| "local".into());
        (src, self.db.clone(), self.usr.clone())
    }

    /// The line (without the comment), fields separated by tabs.
    pub fn line(&self) -> String {
        let mut fields = vec![self.contype.as_str(), &self.db, &self.usr];
        if let Some(s) = &self.src {
            fields.push(s);
        }
        fields.push(&self.method);
        if let Some(o) = &self.options {
            fields.push(o);
        }
        fields.join("\t")
    }

    /// The rule as the `pg_hba` result lists it.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("type".into(), self.contype.clone().into());
        m.insert("db".into(), self.db.clone().into());
        m.insert("usr".into(), self.usr.clone().into());
        if let Some(s) = &self.src {
            m.insert("src".into(), s.clone().into());
        }
        m.insert("method".into(), self.method.clone().into());
        if let Some(o) = &self.options {
            m.insert("options".into(), o.clone().into());
        }
        if let Some(c) = &self.comment {
            m.insert("comment".into(), c.clone().into());
        }
        Value::Object(m)
    }

    fn source_weight(&self) -> u32 {
        let Some(src) = &self.src else { return 130 };
        if let Ok(Some(net)) = Net::parse(src, false) {
            return net.weight();
        }
        match src.as_str() {
            "all" => 0,
            "samehost" => 129,
            "samenet" => 96,
            s if s.starts_with('.') => 64,
            _ => 128,
        }
    }

    fn db_weight(&self) -> usize {
        match self.db.as_str() {
            "all" => 100_000,
            "replication" => 0,
            "samerole" | "samegroup" => 1,
            db => 1 + db.matches(',').count(),
        }
    }

    fn user_weight(&self) -> usize {
        if self.usr == "all" {
            1_000_000
        } else {
            1
        }
    }

    /// The collection's order: most specific source first, then fewest databases, then users,
    /// then source text (local rules by line). `order` (`sdu`, `sud`, `dsu`, …) says which of
    /// source, database, user weighs first.
    pub fn compare(&self, other: &Self, order: &str) -> Ordering {
        for c in order.chars() {
            let o = match c {
                's' => other.source_weight().cmp(&self.source_weight()),
                'd' => self.db_weight().cmp(&other.db_weight()),
                _ => self.user_weight().cmp(&other.user_weight()),
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        match (&self.src, &other.src) {
            (Some(a), Some(b)) => a.cmp(b),
            _ => self.line().cmp(&other.line()),
        }
    }
}

/// Splits a line into fields, respecting double quotes; a trailing `#…` is one last field.
pub fn tokenize(line: &str) -> Result<Vec<String>, String> {
    let mut tokens = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
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
                let rest: String = std::iter::once('#').chain(chars.by_ref()).collect();
                tokens.push(rest);
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

fn db_or_user(s: &str) -> String {
    if s.contains('"') || s.starts_with('/') {
        s.to_string()
    } else {
        let mut parts: Vec<&str> = s.split(',').collect();
        parts.sort_unstable();
        parts.join(",")
    }
}

/// Parses one rule's fields (comment removed).
fn rule_from_tokens(t: &[String], comment: Option<String>) -> Result<Rule, String> {
    if t.len() < 4 {
        return Err("The rule has too few symbols".into());
    }
    let contype = strip_quotes(&t[0]);
    if !TYPES.contains(&contype) {
        return Err(format!("Found an unknown connection-type {}", t[0]));
    }
    let (db, usr) = (db_or_user(&t[1]), db_or_user(&t[2]));
    let (src, method_at) = if contype == "local" {
        (None, 3)
    } else {
        let addr = strip_quotes(&t[3]);
        match Net::parse(addr, true)? {
            Some(net) if addr.contains('/') => (Some(net.to_string()), 4),
            Some(net) => {
                let mask = t
                    .get(4)
                    .map(|m| mask_prefix(m))
                    .ok_or("The rule has too few symbols")?;
                let (prefix, v4) = mask.map_err(|_| {
                    "The rule either needs a hostname, full CIDR or an IP-address and a netmask"
                        .to_string()
                })?;
                if v4 != net.addr.is_ipv4() {
                    return Err("Can't mix IPv4 and IPv6 netmasks and addresses".into());
                }
                if t.len() < 6 {
                    return Err("The rule has too few symbols".into());
                }
                (
                    Some(
                        Net {
                            addr: net.addr,
                            prefix,
                        }
                        .masked()
                        .to_string(),
                    ),
                    5,
                )
            }
            None => {
                if t[3].chars().any(|c| ":\\/@+ ".contains(c)) {
                    return Err(format!(
                        "The string '{}' is neither a valid IP address, network, hostname or keyword",
                        t[3]
                    ));
                }
                if t.len() < 5 {
                    return Err("The rule has too few symbols".into());
                }
                (Some(t[3].clone()), 4)
            }
        }
    };
    let method = strip_quotes(&t[method_at]);
    if !METHODS.contains(&method) {
        return Err(format!("Found an unknown method: {}", t[method_at]));
    }
    let opts = &t[method_at + 1..];
    let mut keys: Vec<&str> = Vec::new();
    for o in opts {
        match strip_quotes(o).split_once('=') {
            Some((k, v)) if !k.is_empty() && !v.is_empty() => {
                if keys.contains(&k) {
                    return Err(format!(
                        "The rule contains two options with the same key ('{k}')"
                    ));
                }
                keys.push(k);
            }
            _ => {
                return Err(format!(
                    "Found invalid option '{o}'. Options need to be in the format 'key=value'"
                ))
            }
        }
    }
    Ok(Rule {
        contype: contype.into(),
        db,
        usr,
        src,
        method: method.into(),
        options: (!opts.is_empty()).then(|| opts.join(" ")),
        comment,
    })
}

/// A pg_hba file: its comment lines and its rules, unique by key, in the order read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HbaFile {
    /// Comment lines (and, unless kept at their rules, rules' comments), in order.
    pub comments: Vec<String>,
    /// Rules in insertion order.
    pub rules: Vec<Rule>,
}

impl HbaFile {
    /// Parses a file's text.
    pub fn parse(text: &str, keep_comments_at_rules: bool) -> Result<Self, String> {
        let mut file = Self::default();
        let mut lines = text.split('\n').enumerate();
        while let Some((n, first)) = lines.next() {
            let mut line = first.to_string();
            while line.ends_with('\\') {
                let Some((_, next)) = lines.next() else {
                    return Err("The last line ended with a '\\' (line continuation).".into());
                };
                line.pop();
                line.push_str(next);
            }
            let trimmed = line.trim();
            if trimmed.starts_with('#') {
                file.comments.push(line.clone());
                continue;
            }
            if trimmed.is_empty() {
                continue;
            }
            let err = |e: String| format!("Error in line {}: {e}", n + 1);
            let mut tokens = tokenize(&line).map_err(err)?;
            let mut comment = None;
            if tokens.last().is_some_and(|t| t.starts_with('#')) {
                let c = tokens.pop().unwrap_or_default();
                if keep_comments_at_rules {
                    comment = Some(c[1..].to_string());
                } else {
                    file.comments.push(c);
                }
            }
            let rule = rule_from_tokens(&tokens, comment).map_err(err)?;
            file.add(rule);
        }
        Ok(file)
    }

    /// Adds a rule, replacing one with the same key; true when something changed.
    pub fn add(&mut self, rule: Rule) -> bool {
        match self.rules.iter_mut().find(|r| r.key() == rule.key()) {
            Some(old) if *old == rule => false,
            Some(old) => {
                *old = rule;
                true
            }
            None => {
                self.rules.push(rule);
                true
            }
        }
    }

    /// Removes the rule with this rule's key; true when there was one.
    pub fn remove(&mut self, rule: &Rule) -> bool {
        let before = self.rules.len();
        self.rules.retain(|r| r.key() != rule.key());
        before != self.rules.len()
    }

    /// The rules in the file's order.
    pub fn sorted(&self, order: &str) -> Vec<&Rule> {
        let mut rules: Vec<&Rule> = self.rules.iter().collect();
        rules.sort_by(|a, b| a.compare(b, order));
        rules
    }

    /// The file's new text: comments, then sorted rules (with kept comments behind them).
    pub fn render(&self, order: &str) -> String {
        let mut out = self.comments.join("\n");
        out.push('\n');
        let lines: Vec<String> = self
            .sorted(order)
            .into_iter()
            .map(|r| match &r.comment {
                Some(c) => format!("{}\t#{c}", r.line()),
                None => r.line(),
            })
            .collect();
        out.push_str(&lines.join("\n"));
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
#[path = "pg_hba_tests.rs"]
mod tests;

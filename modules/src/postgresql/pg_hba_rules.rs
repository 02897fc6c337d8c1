//! The pure half of `postgresql_pg_hba`, with community.postgresql 4's semantics: a pg_hba.conf
//! is a list of entries (rules, comment lines, includes, empty lines) that keep the line they
//! were read from; a rule is found by its key (type, databases, users, source), replaced when its
//! method or options differ, added at the end or removed. When something changed the list is
//! sorted (comments first, then rules by specificity of source, databases, users, includes last;
//! empty lines dropped) and rendered with the original lines where they were kept.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::pg_hba_fields::{address_field, masked, netmask_field, strip_quotes};
pub use super::pg_hba_fields::{db_or_user, parse_options, tokenize, Source, METHODS, TYPES};

/// The fields of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `local`, `host`, …
    pub contype: String,
    /// Databases.
    pub db: String,
    /// Users.
    pub usr: String,
    /// Source.
    pub src: Source,
    /// Authentication method.
    pub method: String,
    /// Method options.
    pub options: BTreeMap<String, String>,
}

impl Rule {
    fn same_key(&self, o: &Self) -> bool {
        self.contype == o.contype && self.usr == o.usr && self.db == o.db && self.src == o.src
    }

    fn db_weight(&self) -> usize {
        if self.db.starts_with('"') {
            return 3;
        }
        let list: Vec<&str> = self.db.split(',').collect();
        match self.db.as_str() {
            _ if list.contains(&"all") => 100_000,
            "replication" => 0,
            "samerole" | "samegroup" => 2,
            _ => 3 + list.len(),
        }
    }

    fn user_weight(&self) -> usize {
        if self.usr.starts_with('"') {
            return 1;
        }
        let list: Vec<&str> = self.usr.split(',').collect();
        if list.contains(&"all") {
            100_000
        } else {
            1 + list.len()
        }
    }

    /// The rule as the `pg_hba` result lists it.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("type".into(), self.contype.clone().into());
        m.insert("db".into(), self.db.clone().into());
        m.insert("usr".into(), self.usr.clone().into());
        m.insert("method".into(), self.method.clone().into());
        if self.src != Source::Local {
            m.insert("src".into(), self.src.text().into());
        }
        if !self.options.is_empty() {
            m.insert("options".into(), self.options_text().into());
        }
        Value::Object(m)
    }

    fn options_text(&self) -> String {
        self.options
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// A rule from the module's arguments (one database, one user).
    pub fn from_args(
        contype: &str,
        db: &str,
        usr: &str,
        address: &str,
        netmask: Option<&str>,
        method: &str,
        options: Option<&str>,
    ) -> Result<Self, String> {
        let contype = strip_quotes(contype);
        if !TYPES.contains(&contype) {
            return Err(format!("Unknown type {contype}"));
        }
        let src = if contype == "local" {
            Source::Local
        } else {
            let netmask = netmask.filter(|m| !m.is_empty());
            match (address_field(address)?, netmask) {
                (Ok((_, Some(_))), Some(_)) | (Err(_), Some(_)) => {
                    return Err("Rule can't contain a netmask if address is a full CIDR or hostname".into())
                }
                (Ok((ip, None)), Some(mask)) => {
                    let (prefix, v4) = netmask_field(mask)?;
                    if v4 != ip.is_ipv4() {
                        return Err("Can't mix IPv4 and IPv6 netmasks and addresses".into());
                    }
                    Source::Net(masked(ip, prefix), prefix)
                }
                (Ok((_, None)), None) => {
                    return Err("If the address is a bare ip-address without a CIDR suffix, the rule needs to contain a netmask".into())
                }
                (Ok((ip, Some(p))), None) => Source::Net(ip, p),
                (Err(name), None) => Source::Name(name),
            }
        };
        let method = strip_quotes(method);
        if !METHODS.contains(&method) {
            return Err(format!("Unknown method {method}"));
        }
        let options = match options.filter(|o| !o.is_empty()) {
            Some(o) => parse_options(&tokenize(o)?)?,
            None => BTreeMap::new(),
        };
        Ok(Self {
            contype: contype.into(),
            db: db.into(),
            usr: usr.into(),
            src,
            method: method.into(),
            options,
        })
    }

    fn from_tokens(t: &[String]) -> Result<Self, String> {
        if t.len() < 4 {
            return Err("The rule has too few symbols".into());
        }
        let contype = strip_quotes(&t[0]);
        if !TYPES.contains(&contype) {
            return Err(format!("Found an unknown connection-type {}", t[0]));
        }
        let (src, at) = if contype == "local" {
            (Source::Local, 3)
        } else {
            match address_field(&t[3])? {
                Ok((ip, Some(p))) => (Source::Net(ip, p), 4),
                Ok((ip, None)) => {
                    let (prefix, v4) = t.get(4).map(|m| netmask_field(m)).transpose().ok().flatten().ok_or_else(|| {
                        "The rule either needs a hostname, full CIDR or an IP-address and a netmask".to_string()
                    })?;
                    if v4 != ip.is_ipv4() {
                        return Err("Can't mix IPv4 and IPv6 netmasks and addresses".into());
                    }
                    (Source::Net(masked(ip, prefix), prefix), 5)
                }
                Err(name) => (Source::Name(name), 4),
            }
        };
        let method = t.get(at).ok_or("The rule has too few symbols")?;
        if !METHODS.contains(&strip_quotes(method)) {
            return Err(format!("Found an unknown method: {method}"));
        }
        Ok(Self {
            contype: contype.into(),
            db: db_or_user(&t[1]),
            usr: db_or_user(&t[2]),
            src,
            method: strip_quotes(method).into(),
            options: parse_options(&t[at + 1..])?,
        })
    }
}

/// One line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The rule, `None` for comment lines, includes and empty lines.
    pub rule: Option<Rule>,
    /// The text it was read from (rendered as it was).
    pub line: Option<String>,
    /// Its line number in the file read (0: new).
    pub line_nr: usize,
    /// Its comment, with its `#`.
    pub comment: Option<String>,
}

impl Entry {
    /// A new rule with an optional comment.
    pub fn rule(rule: Rule, comment: Option<&str>) -> Self {
        let comment = comment
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string);
        Self {
            rule: Some(rule),
            line: None,
            line_nr: 0,
            comment,
        }
    }

    /// A new comment line.
    pub fn comment_line(text: &str) -> Self {
        let t = text.trim();
        let c = if t.starts_with('#') {
            t.to_string()
        } else {
            format!("#{t}")
        };
        Self {
            rule: None,
            line: Some(c.clone()),
            line_nr: 0,
            comment: Some(c),
        }
    }

    fn is_include(&self) -> bool {
        self.rule.is_none()
            && self
                .line
                .as_deref()
                .is_some_and(|l| l.starts_with("include"))
    }

    fn special_weight(&self) -> u8 {
        if self.comment.is_some() {
            1
        } else if self.is_include() {
            90
        } else {
            99
        }
    }

    /// Same key (rules) or same comment/line (other entries).
    pub fn same(&self, o: &Self) -> bool {
        match (&self.rule, &o.rule) {
            (Some(a), Some(b)) => a.same_key(b),
            (None, None) => match (&self.comment, &o.comment) {
                (Some(a), Some(b)) => a == b,
                _ => self.line == o.line,
            },
            _ => false,
        }
    }

    /// Same key and same method and options.
    pub fn identical(&self, o: &Self) -> bool {
        self.same(o)
            && match (&self.rule, &o.rule) {
                (Some(a), Some(b)) => a.method == b.method && a.options == b.options,
                _ => true,
            }
    }

    /// The line written for it.
    pub fn serialize(&self) -> String {
        if let Some(l) = &self.line {
            return l.clone();
        }
        let Some(r) = &self.rule else {
            return self.comment.clone().unwrap_or_default();
        };
        let mut out = format!("{}\t{}\t{}\t", r.contype, r.db, r.usr);
        if r.src != Source::Local {
            out.push_str(&r.src.text());
            out.push('\t');
        }
        out.push_str(&r.method);
        if !r.options.is_empty() {
            out.push('\t');
            out.push_str(&r.options_text());
        }
        if let Some(c) = &self.comment {
            out.push('\t');
            if !c.starts_with('#') {
                out.push('#');
            }
            out.push_str(c);
        }
        out
    }

    /// The collection's sort order.
    pub fn order(&self, o: &Self) -> Ordering {
        match (&self.rule, &o.rule) {
            (None, None) => self
                .special_weight()
                .cmp(&o.special_weight())
                .then_with(|| match (self.line_nr, o.line_nr) {
                    (0, 0) => self.line.cmp(&o.line),
                    (0, _) => Ordering::Greater,
                    (_, 0) => Ordering::Less,
                    (a, b) => a.cmp(&b),
                }),
            (None, Some(_)) if self.comment.is_some() => Ordering::Less,
            (None, Some(_)) if self.is_include() => Ordering::Greater,
            (Some(_), None) if o.comment.is_some() => Ordering::Greater,
            (Some(_), None) if o.is_include() => Ordering::Less,
            (None, Some(_)) | (Some(_), None) => Ordering::Equal,
            (Some(a), Some(b)) => b
                .src
                .weight()
                .cmp(&a.src.weight())
                .then(a.db_weight().cmp(&b.db_weight()))
                .then(a.user_weight().cmp(&b.user_weight()))
                .then(b.src.type_weight().cmp(&a.src.type_weight()))
                .then_with(|| a.src.cmp_value(&b.src))
                .then_with(|| self.serialize().cmp(&o.serialize())),
        }
    }
}

/// Reads a file's text into entries.
pub fn parse_file(text: &str) -> Result<Vec<Entry>, String> {
    let mut out = Vec::new();
    let mut lines = text.split('\n');
    let mut nr = 1;
    while let Some(first) = lines.next() {
        let this = nr;
        let mut line = first.to_string();
        while line.ends_with('\\') {
            let Some(next) = lines.next() else {
                return Err("The last line ended with a '\\' (line continuation).".into());
            };
            nr += 1;
            line.push('\n');
            line.push_str(next);
        }
        nr += 1;
        let trimmed = line.trim();
        let entry = if trimmed.starts_with('#') {
            Entry {
                rule: None,
                comment: Some(trimmed.to_string()),
                line: Some(line),
                line_nr: this,
            }
        } else if trimmed.is_empty() {
            Entry {
                rule: None,
                comment: None,
                line: Some(line),
                line_nr: this,
            }
        } else {
            let err = |e: String| format!("Error in line {this}: {e}");
            let mut tokens = tokenize(&line.replace("\\\n", "")).map_err(err)?;
            let comment = match tokens.last() {
                Some(t) if t.starts_with('#') => tokens.pop().map(|c| c.trim().to_string()),
                _ => None,
            };
            let rule = if tokens[0].starts_with("include") {
                None
            } else {
                Some(Rule::from_tokens(&tokens).map_err(err)?)
            };
            Entry {
                rule,
                comment,
                line: Some(line),
                line_nr: this,
            }
        };
        out.push(entry);
    }
    Ok(out)
}

/// Sorts entries as the collection does, dropping empty lines.
pub fn sort_entries(entries: &mut Vec<Entry>) {
    entries.retain(|e| {
        e.rule.is_some()
            || e.comment.is_some()
            || e.line.as_deref().is_some_and(|l| !l.trim().is_empty())
    });
    entries.sort_by(Entry::order);
}

/// The file's text.
pub fn render(entries: &[Entry]) -> String {
    entries
        .iter()
        .map(Entry::serialize)
        .collect::<Vec<_>>()
        .join("\n")
}

/// What applying one entry did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// Appended.
    Added,
    /// Replaced a rule with the same key.
    Updated,
    /// Removed.
    Removed,
    /// Nothing to do.
    Unchanged,
}

/// Adds (`present`) or removes an entry.
pub fn apply(entries: &mut Vec<Entry>, entry: Entry, present: bool) -> Edit {
    match (entries.iter().position(|e| e.same(&entry)), present) {
        (None, true) => {
            entries.push(entry);
            Edit::Added
        }
        (Some(i), true) if !entries[i].identical(&entry) => {
            entries[i] = entry;
            Edit::Updated
        }
        (Some(i), false) => {
            entries.remove(i);
            Edit::Removed
        }
        _ => Edit::Unchanged,
    }
}

#[cfg(test)]
#[path = "pg_hba_tests.rs"]
mod tests;

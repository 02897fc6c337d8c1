//! `find`'s matching: the listing script run on the target, its records parsed, and the filters
//! (name patterns, type, age, size, mode) applied on the controller.

use regex::Regex;
use serde_json::{Map, Value};

use super::find::{AgeStamp, FindParams, FindType};
use crate::remote::mode::{format_mode, Mode};
use crate::remote::quote_path;
use crate::text::pyre;

/// One entry `find` listed.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// `f`, `d`, `l`, `b`, `c`, `p` or `s`.
    pub kind: char,
    /// Permission bits.
    pub mode: u32,
    /// Owner id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
    /// Owner name.
    pub owner: String,
    /// Group name.
    pub group: String,
    /// Size in bytes.
    pub size: u64,
    /// Access, modification and change times.
    pub times: [f64; 3],
    /// Inode number.
    pub inode: u64,
    /// Device number.
    pub dev: u64,
    /// Hard links.
    pub nlink: u64,
    /// Full path.
    pub path: String,
}

const FORMAT: &str = "%y|%m|%U|%G|%u|%g|%s|%A@|%T@|%C@|%i|%D|%n|%p\\0";

/// The listing script: one NUL-terminated record per entry, `@skip <path>` for unusable paths.
pub fn list_script(p: &FindParams) -> String {
    let mut s = String::new();
    let follow = if p.follow { "-L " } else { "" };
    let depth = match (p.recurse, p.depth) {
        (false, _) => " -maxdepth 1".to_string(),
        (true, Some(d)) => format!(" -maxdepth {d}"),
        (true, None) => String::new(),
    };
    for path in &p.paths {
        let q = quote_path(path);
        s.push_str(&format!(
            "if [ -d {q} ]; then find {follow}{q} -mindepth 1{depth} -printf '{FORMAT}' 2>/dev/null; \
             else printf '@skip %s\\0' {q}; fi\n"
        ));
    }
    s.push_str("exit 0\n");
    s
}

/// Parses one record of [`list_script`] output.
pub fn parse_entry(record: &str) -> Option<Entry> {
    let f: Vec<&str> = record.splitn(14, '|').collect();
    if f.len() < 14 {
        return None;
    }
    let num = |i: usize| f[i].parse::<u64>().unwrap_or(0);
    let time = |i: usize| f[i].parse::<f64>().unwrap_or(0.0);
    Some(Entry {
        kind: f[0].chars().next()?,
        mode: u32::from_str_radix(f[1], 8).ok()?,
        uid: num(2) as u32,
        gid: num(3) as u32,
        owner: f[4].to_string(),
        group: f[5].to_string(),
        size: num(6),
        times: [time(7), time(8), time(9)],
        inode: num(10),
        dev: num(11),
        nlink: num(12),
        path: f[13].to_string(),
    })
}

/// Translates a shell glob (Python's `fnmatch`) into an anchored regexp.
pub fn glob_to_regex(glob: &str) -> Result<Regex, String> {
    let chars: Vec<char> = glob.chars().collect();
    let mut re = String::from("(?s)^");
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            '[' => {
                let close = chars[i + 1..]
                    .iter()
                    .enumerate()
                    .position(|(k, c)| *c == ']' && !(k == 0 || (k == 1 && chars[i + 1] == '!')))
                    .map(|k| k + i + 1);
                match close {
                    Some(end) => {
                        let mut body: String = chars[i + 1..end].iter().collect();
                        if let Some(rest) = body.strip_prefix('!') {
                            body = format!("^{rest}");
                        }
                        re.push('[');
                        re.push_str(&body.replace('\\', "\\\\").replace('[', "\\["));
                        re.push(']');
                        i = end;
                    }
                    None => re.push_str("\\["),
                }
            }
            c => re.push_str(&regex::escape(&c.to_string())),
        }
        i += 1;
    }
    re.push('$');
    Regex::new(&re).map_err(|e| format!("bad pattern '{glob}': {e}"))
}

/// Name patterns, compiled.
pub struct NameFilter {
    patterns: Vec<Regex>,
    excludes: Vec<Regex>,
}

impl NameFilter {
    /// Compiles `patterns`/`excludes` as globs or (with `use_regex`) Python regexps.
    pub fn new(p: &FindParams) -> Result<Self, String> {
        let compile = |pats: &[String]| -> Result<Vec<Regex>, String> {
            pats.iter()
                .map(|s| {
                    if p.use_regex {
                        let t = pyre::translate(s)?;
                        // `re.match`: anchored at the start only.
                        Regex::new(&format!("^(?:{})", t.pattern))
                            .map_err(|e| format!("bad pattern '{s}': {e}"))
                    } else {
                        glob_to_regex(s)
                    }
                })
                .collect()
        };
        let patterns = if p.patterns.is_empty() {
            vec![glob_to_regex("*")?]
        } else {
            compile(&p.patterns)?
        };
        Ok(Self {
            patterns,
            excludes: compile(&p.excludes)?,
        })
    }

    /// True when `name` matches a pattern and no exclude.
    pub fn matches(&self, name: &str) -> bool {
        self.patterns.iter().any(|r| r.is_match(name))
            && !self.excludes.iter().any(|r| r.is_match(name))
    }
}

/// Parses `[-]N[unit]` with the given unit multipliers; returns the signed value.
fn parse_amount(s: &str, units: &[(char, f64)], default_unit: f64) -> Result<f64, String> {
    let t = s.trim().to_ascii_lowercase();
    let (num, mult) = match t.chars().last() {
        Some(c) if c.is_ascii_alphabetic() => match units.iter().find(|(u, _)| *u == c) {
            Some((_, m)) => (&t[..t.len() - 1], *m),
            None => return Err(format!("failed to process '{s}'")),
        },
        _ => (t.as_str(), default_unit),
    };
    num.parse::<f64>()
        .map(|n| n * mult)
        .map_err(|_| format!("failed to process '{s}'"))
}

/// Parses `age` (`3d`, `-1h`) into signed seconds.
pub fn parse_age(s: &str) -> Result<f64, String> {
    parse_amount(
        s,
        &[
            ('s', 1.0),
            ('m', 60.0),
            ('h', 3600.0),
            ('d', 86400.0),
            ('w', 604_800.0),
        ],
        1.0,
    )
    .map_err(|_| format!("failed to process age {s}"))
}

/// Parses `size` (`10m`, `-1k`) into signed bytes.
pub fn parse_size(s: &str) -> Result<f64, String> {
    let k = 1024.0_f64;
    parse_amount(
        s,
        &[
            ('b', 1.0),
            ('k', k),
            ('m', k * k),
            ('g', k * k * k),
            ('t', k * k * k * k),
        ],
        1.0,
    )
    .map_err(|_| format!("failed to process size {s}"))
}

/// The filters other than name and contents.
pub struct Filters {
    names: NameFilter,
    file_type: FindType,
    age: Option<f64>,
    age_index: usize,
    size: Option<f64>,
    mode: Option<u32>,
    exact_mode: bool,
    hidden: bool,
    now: f64,
}

impl Filters {
    /// Compiles the filters.
    pub fn new(p: &FindParams, now: f64) -> Result<Self, String> {
        let mode = match &p.mode {
            Some(Mode::Octal(m)) => Some(*m),
            Some(other) => return Err(format!("find: mode must be octal, got {other:?}")),
            None => None,
        };
        Ok(Self {
            names: NameFilter::new(p)?,
            file_type: p.file_type,
            age: p.age.as_deref().map(parse_age).transpose()?,
            age_index: match p.age_stamp {
                AgeStamp::Atime => 0,
                AgeStamp::Mtime => 1,
                AgeStamp::Ctime => 2,
            },
            size: p.size.as_deref().map(parse_size).transpose()?,
            mode,
            exact_mode: p.exact_mode,
            hidden: p.hidden,
            now,
        })
    }

    /// True when `e` passes every filter except `contains`.
    pub fn accepts(&self, e: &Entry) -> bool {
        let name = e.path.rsplit('/').next().unwrap_or(&e.path);
        if !self.hidden && name.starts_with('.') {
            return false;
        }
        let type_ok = matches!(
            (e.kind, self.file_type),
            ('d', FindType::Directory | FindType::Any)
                | ('f', FindType::File | FindType::Any)
                | ('l', FindType::Link | FindType::Any)
        );
        if !type_ok || !self.names.matches(name) {
            return false;
        }
        if let Some(age) = self.age {
            let elapsed = self.now - e.times[self.age_index];
            if (age >= 0.0 && elapsed < age) || (age < 0.0 && elapsed > -age) {
                return false;
            }
        }
        if let (Some(size), 'f') = (self.size, e.kind) {
            let s = e.size as f64;
            if (size >= 0.0 && s < size) || (size < 0.0 && s > -size) {
                return false;
            }
        }
        if let Some(m) = self.mode {
            let ok = if self.exact_mode {
                e.mode & 0o7777 == m
            } else {
                e.mode & m == m
            };
            if !ok {
                return false;
            }
        }
        true
    }
}

/// Ansible's per-file stat dictionary.
pub fn entry_json(e: &Entry) -> Map<String, Value> {
    let mut m = Map::new();
    let bit = |b: u32| Value::Bool(e.mode & b != 0);
    m.insert("path".into(), e.path.clone().into());
    m.insert("mode".into(), format_mode(e.mode).into());
    for (key, kind) in [
        ("isdir", 'd'),
        ("ischr", 'c'),
        ("isblk", 'b'),
        ("isreg", 'f'),
        ("isfifo", 'p'),
        ("islnk", 'l'),
        ("issock", 's'),
    ] {
        m.insert(key.into(), (e.kind == kind).into());
    }
    m.insert("uid".into(), e.uid.into());
    m.insert("gid".into(), e.gid.into());
    m.insert("size".into(), e.size.into());
    m.insert("inode".into(), e.inode.into());
    m.insert("dev".into(), e.dev.into());
    m.insert("nlink".into(), e.nlink.into());
    m.insert("atime".into(), e.times[0].into());
    m.insert("mtime".into(), e.times[1].into());
    m.insert("ctime".into(), e.times[2].into());
    m.insert("gr_name".into(), e.group.clone().into());
    m.insert("pw_name".into(), e.owner.clone().into());
    for (key, b) in [
        ("wusr", 0o200),
        ("rusr", 0o400),
        ("xusr", 0o100),
        ("wgrp", 0o020),
        ("rgrp", 0o040),
        ("xgrp", 0o010),
        ("woth", 0o002),
        ("roth", 0o004),
        ("xoth", 0o001),
        ("isuid", 0o4000),
        ("isgid", 0o2000),
    ] {
        m.insert(key.into(), bit(b));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(v: Value) -> FindParams {
        serde_json::from_value(v).unwrap()
    }

    fn entry(kind: char, path: &str, size: u64, mtime: f64) -> Entry {
        Entry {
            kind,
            mode: 0o644,
            uid: 0,
            gid: 0,
            owner: "root".into(),
            group: "root".into(),
            size,
            times: [mtime, mtime, mtime],
            inode: 1,
            dev: 1,
            nlink: 1,
            path: path.into(),
        }
    }

    #[test]
    fn globs() {
        let r = glob_to_regex("*.log").unwrap();
        assert!(r.is_match("a.log") && !r.is_match("a.log.1"));
        let r = glob_to_regex("app-[0-9]?.[!t]xt").unwrap();
        assert!(r.is_match("app-12.xxt") && !r.is_match("app-12.txt"));
    }

    #[test]
    fn parses_records() {
        let e = parse_entry("f|644|0|0|root|root|12|1.5|2.5|3.5|7|2049|1|/tmp/a|b").unwrap();
        assert_eq!(e.path, "/tmp/a|b");
        assert_eq!(e.mode, 0o644);
        assert_eq!(e.times, [1.5, 2.5, 3.5]);
        let j = entry_json(&e);
        assert_eq!(j["mode"], "0644");
        assert_eq!(j["isreg"], true);
        assert_eq!(j["roth"], true);
        assert_eq!(j["woth"], false);
    }

    #[test]
    fn filters_by_type_name_age_size_hidden() {
        let now = 1_000_000.0;
        let f = Filters::new(
            &params(json!({"paths": "/x", "patterns": "*.log,*.txt", "age": "1d", "size": "1k"})),
            now,
        )
        .unwrap();
        assert!(f.accepts(&entry('f', "/x/a.log", 2048, now - 90_000.0)));
        assert!(!f.accepts(&entry('f', "/x/a.log", 2048, now - 60.0)));
        assert!(!f.accepts(&entry('f', "/x/a.log", 10, now - 90_000.0)));
        assert!(!f.accepts(&entry('f', "/x/a.conf", 2048, now - 90_000.0)));
        assert!(!f.accepts(&entry('f', "/x/.a.log", 2048, now - 90_000.0)));
        assert!(!f.accepts(&entry('d', "/x/d.log", 2048, now - 90_000.0)));
        let f = Filters::new(
            &params(json!({"paths": "/x", "file_type": "any", "age": "-1h", "excludes": "b*"})),
            now,
        )
        .unwrap();
        assert!(f.accepts(&entry('d', "/x/a", 0, now - 60.0)));
        assert!(!f.accepts(&entry('d', "/x/b", 0, now - 60.0)));
        // `any` includes links, as ansible-core 2.19 does.
        assert!(f.accepts(&entry('l', "/x/a", 0, now - 60.0)));
        let f = Filters::new(
            &params(json!({"paths": "/x", "patterns": ["^app\\d"], "use_regex": true})),
            now,
        )
        .unwrap();
        assert!(f.accepts(&entry('f', "/x/app1.conf", 0, now)));
        assert!(!f.accepts(&entry('f', "/x/myapp1", 0, now)));
        assert!(Filters::new(&params(json!({"paths": "/x", "age": "3y"})), now).is_err());
    }

    #[test]
    fn listing_script_depth() {
        assert!(list_script(&params(json!({"paths": "/x"}))).contains("-maxdepth 1"));
        let s = list_script(&params(
            json!({"paths": "/x", "recurse": true, "depth": 3, "follow": true}),
        ));
        assert!(s.contains("find -L /x -mindepth 1 -maxdepth 3"), "{s}");
    }
}

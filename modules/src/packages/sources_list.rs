//! One-line apt sources (`/etc/apt/sources.list`, `sources.list.d/*.list`) parsed and rendered as
//! Ansible's `apt_repository` does: each line normalized to (valid, enabled, source, comment), so
//! only real changes count.

use std::collections::BTreeMap;

/// Source types apt understands in one-line format.
const SOURCE_TYPES: [&str; 2] = ["deb", "deb-src"];

/// One parsed line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLine {
    /// A `deb`/`deb-src` line (else a comment or junk, kept as is).
    pub valid: bool,
    /// Not commented out.
    pub enabled: bool,
    /// The source with whitespace normalized (or the raw text of an invalid line).
    pub source: String,
    /// Text after a `#` inside the line.
    pub comment: String,
}

/// Parses one line like Ansible's `SourcesList._parse`.
pub fn parse_line(line: &str) -> SourceLine {
    let mut line = line.trim();
    let mut enabled = true;
    if let Some(rest) = line.strip_prefix('#') {
        enabled = false;
        line = rest;
    }
    let mut comment = String::new();
    if let Some(i) = line.find('#').filter(|i| *i > 0) {
        comment = line[i + 1..].trim().to_string();
        line = &line[..i];
    }
    let mut source = line.trim().to_string();
    let mut valid = false;
    let chunks: Vec<&str> = source.split_whitespace().collect();
    if chunks.first().is_some_and(|c| SOURCE_TYPES.contains(c)) {
        valid = true;
        source = chunks.join(" ");
    }
    SourceLine {
        valid,
        enabled,
        source,
        comment,
    }
}

/// Renders one line like Ansible's `SourcesList.dump`.
pub fn render_line(l: &SourceLine) -> String {
    let mut s = String::new();
    if !l.enabled {
        s.push_str("# ");
    }
    s.push_str(&l.source);
    if !l.comment.is_empty() {
        s.push_str(" # ");
        s.push_str(&l.comment);
    }
    s.push('\n');
    s
}

/// All one-line source files by path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourcesList {
    /// Lines of each file (empty lines dropped, as Ansible does).
    pub files: BTreeMap<String, Vec<SourceLine>>,
}

impl SourcesList {
    /// Adds a file's text.
    pub fn load(&mut self, path: &str, text: &str) {
        let lines = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(parse_line)
            .collect();
        self.files.insert(path.to_string(), lines);
    }

    /// The text of every file (files without lines render as absent).
    pub fn dump(&self) -> BTreeMap<String, String> {
        self.files
            .iter()
            .filter(|(_, lines)| !lines.is_empty())
            .map(|(f, lines)| (f.clone(), lines.iter().map(render_line).collect()))
            .collect()
    }

    /// Adds `source` to `file` unless present; a disabled copy is enabled instead.
    pub fn add(&mut self, source: &str, file: &str) {
        let mut found = false;
        for lines in self.files.values_mut() {
            for l in lines.iter_mut().filter(|l| l.valid && l.source == source) {
                l.enabled = true;
                found = true;
            }
        }
        if !found {
            self.files
                .entry(file.to_string())
                .or_default()
                .push(SourceLine {
                    valid: true,
                    enabled: true,
                    source: source.to_string(),
                    comment: String::new(),
                });
        }
    }

    /// Removes every enabled line equal to `source`.
    pub fn remove(&mut self, source: &str) {
        for lines in self.files.values_mut() {
            lines.retain(|l| !(l.valid && l.enabled && l.source == source));
        }
    }
}

/// The file name Ansible suggests for a new repository (`deb http://host/path suite` →
/// `host_path.list`).
pub fn suggest_filename(source: &str) -> String {
    let mut line = String::new();
    let mut in_options = false;
    for c in source.chars() {
        match c {
            '[' => in_options = true,
            ']' if in_options => in_options = false,
            _ if !in_options => line.push(c),
            _ => {}
        }
    }
    let without_scheme = match line.find("://") {
        Some(i) => {
            let start = line[..i]
                .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
                .map_or(0, |j| j + 1);
            format!("{}{}", &line[..start], &line[i + 3..])
        }
        None => line,
    };
    let first = without_scheme
        .split_whitespace()
        .find(|p| !SOURCE_TYPES.contains(p))
        .unwrap_or("");
    let first = first.rsplit_once('@').map_or(first, |(_, host)| host);
    let cleaned: String = first
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect();
    format!(
        "{}.list",
        cleaned.split_whitespace().collect::<Vec<_>>().join("_")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_normalize() {
        let l = parse_line("#deb   http://x/ bookworm main # mirror");
        assert!(l.valid && !l.enabled);
        assert_eq!(l.source, "deb http://x/ bookworm main");
        assert_eq!(l.comment, "mirror");
        assert_eq!(render_line(&l), "# deb http://x/ bookworm main # mirror\n");
        assert!(!parse_line("# just a comment").valid);
    }

    #[test]
    fn filenames_like_ansible() {
        assert_eq!(
            suggest_filename("deb http://dl.google.com/linux/chrome/deb/ stable main"),
            "dl_google_com_linux_chrome_deb.list"
        );
        assert_eq!(
            suggest_filename("deb [trusted=yes arch=amd64] https://user:pw@10.77.0.1:8080/ ./"),
            "10_77_0_1_8080.list"
        );
    }

    #[test]
    fn add_enable_remove() {
        let mut s = SourcesList::default();
        s.load(
            "/a.list",
            "# deb http://x/ y main\n\ndeb http://z/ y main\n",
        );
        let before = s.dump();
        s.add("deb http://x/ y main", "/new.list");
        assert_eq!(
            s.dump()["/a.list"],
            "deb http://x/ y main\ndeb http://z/ y main\n"
        );
        assert!(!s.dump().contains_key("/new.list"));
        s.add("deb http://q/ y main", "/new.list");
        assert_eq!(s.dump()["/new.list"], "deb http://q/ y main\n");
        s.remove("deb http://q/ y main");
        assert!(!s.dump().contains_key("/new.list"));
        assert_ne!(before, s.dump());
    }
}

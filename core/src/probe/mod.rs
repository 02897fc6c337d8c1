//! The stat probe: one POSIX shell snippet that reports everything modules need to know about
//! several paths (type, mode, owner, times, link target, checksums, access, small contents) in a
//! single round trip, and the read-ahead cache that serves several tasks' probes from one
//! ([`ProbeCache`]). Modules probe through [`crate::connection::HostConnection::probe`].

mod cache;

use serde::Deserialize;

use crate::connection::quote_path;

pub use cache::{ChangeCounter, ChangeGuard, ProbeCache, ProbeIdentity, ReadAhead};

/// A checksum algorithm the target can compute with coreutils (`sha1sum`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, crate::params::ParamChoices)]
#[serde(rename_all = "lowercase")]
pub enum ChecksumAlgorithm {
    /// MD5 (`md5sum`).
    Md5,
    /// SHA-1 (`sha1sum`), Ansible's default.
    #[default]
    Sha1,
    /// SHA-224.
    Sha224,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl ChecksumAlgorithm {
    /// The coreutils command computing this checksum.
    pub fn command(self) -> &'static str {
        match self {
            Self::Md5 => "md5sum",
            Self::Sha1 => "sha1sum",
            Self::Sha224 => "sha224sum",
            Self::Sha256 => "sha256sum",
            Self::Sha384 => "sha384sum",
            Self::Sha512 => "sha512sum",
        }
    }
}

/// What to find out about one path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProbeRequest {
    /// The path on the target.
    pub path: String,
    /// Follow a symlink at `path` (`stat -L`).
    pub follow: bool,
    /// Checksums to compute when the path is a readable regular file.
    pub checksums: Vec<ChecksumAlgorithm>,
    /// Test read/write/execute access for the connecting (or become) user.
    pub access: bool,
    /// Include the MIME type and charset (needs `file` on the target; `unknown` otherwise, as Ansible).
    pub mime: bool,
    /// Include the file's contents when it is a regular file of at most this many bytes.
    pub content_limit: Option<u64>,
    /// Include the file attributes `lsattr -vd` reports (or `lsattr -d` where the file system
    /// has flags but no version numbers, as overlayfs; none where `lsattr` is missing or the file
    /// system has no attributes).
    pub attributes: bool,
}

impl ProbeRequest {
    /// A plain request for `path` (no follow, no checksum).
    pub fn new(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            ..Self::default()
        }
    }
}

/// The kind of a file system object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FileType {
    /// Regular file.
    #[default]
    File,
    /// Directory.
    Directory,
    /// Symbolic link.
    Link,
    /// Block device.
    BlockDevice,
    /// Character device.
    CharDevice,
    /// Named pipe.
    Fifo,
    /// Unix socket.
    Socket,
}

impl FileType {
    fn from_mode(raw: u32) -> Self {
        match raw & 0o170000 {
            0o040000 => Self::Directory,
            0o120000 => Self::Link,
            0o060000 => Self::BlockDevice,
            0o020000 => Self::CharDevice,
            0o010000 => Self::Fifo,
            0o140000 => Self::Socket,
            _ => Self::File,
        }
    }

    /// Ansible's state name for this type (`file`, `directory`, `link`, …).
    pub fn state_name(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Directory => "directory",
            Self::Link => "link",
            Self::BlockDevice | Self::CharDevice | Self::Fifo | Self::Socket => "file",
        }
    }
}

/// What the probe found at one path.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PathStat {
    /// The path as requested.
    pub path: String,
    /// `None` when nothing exists at the path (or a followed link dangles).
    pub info: Option<StatInfo>,
}

impl PathStat {
    /// True when something exists at the path.
    pub fn exists(&self) -> bool {
        self.info.is_some()
    }
    /// The object's type, if it exists.
    pub fn file_type(&self) -> Option<FileType> {
        self.info.as_ref().map(|i| i.file_type)
    }
    /// True for an existing directory.
    pub fn is_dir(&self) -> bool {
        self.file_type() == Some(FileType::Directory)
    }
}

/// `stat` output for an existing path.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatInfo {
    /// Object type.
    pub file_type: FileType,
    /// Permission bits (`0o644`, with setuid/setgid/sticky).
    pub mode: u32,
    /// Owner id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
    /// Owner name (`UNKNOWN` when it has none).
    pub owner: String,
    /// Group name.
    pub group: String,
    /// Size in bytes.
    pub size: u64,
    /// Access time, seconds since the epoch.
    pub atime: f64,
    /// Modification time.
    pub mtime: f64,
    /// Status change time.
    pub ctime: f64,
    /// Inode number.
    pub inode: u64,
    /// Device number.
    pub dev: u64,
    /// Hard link count.
    pub nlink: u64,
    /// Allocated blocks.
    pub blocks: u64,
    /// Preferred I/O block size (`st_blksize`, what Ansible's stat reports as `block_size`).
    pub block_size: u64,
    /// Device type (major/minor) for device files.
    pub device_type: u64,
    /// Target of a symlink as stored (`readlink`), when the path itself is a link.
    pub link_target: Option<String>,
    /// Fully resolved target of a symlink (`readlink -f`).
    pub link_source: Option<String>,
    /// Checksums computed, by algorithm.
    pub checksums: Vec<(ChecksumAlgorithm, String)>,
    /// Readable by the user running the probe.
    pub readable: bool,
    /// Writeable by that user.
    pub writeable: bool,
    /// Executable (searchable) by that user.
    pub executable: bool,
    /// MIME type, when requested and `file` exists.
    pub mime_type: Option<String>,
    /// Charset, when requested and `file` exists.
    pub charset: Option<String>,
    /// Contents, when requested and small enough.
    pub content: Option<Vec<u8>>,
    /// `lsattr`'s version/generation number (when the file system has one) and flags (`-`
    /// removed, e.g. `ie`), when requested and available.
    pub attributes: Option<(Option<String>, String)>,
}

impl StatInfo {
    /// The checksum computed with `algo`, if any.
    pub fn checksum(&self, algo: ChecksumAlgorithm) -> Option<&str> {
        self.checksums
            .iter()
            .find(|(a, _)| *a == algo)
            .map(|(_, s)| s.as_str())
    }
}

const STAT_FORMAT: &str = "%f|%u|%g|%U|%G|%s|%.9X|%.9Y|%.9Z|%i|%d|%h|%b|%o|%t|%T";

/// The distinct paths of `requests`, in first-seen order, and for each request the index of
/// its path in that list.
fn unique_paths(requests: &[ProbeRequest]) -> (Vec<&str>, Vec<usize>) {
    let mut paths: Vec<&str> = Vec::new();
    let slots = requests
        .iter()
        .map(|r| match paths.iter().position(|p| *p == r.path) {
            Some(i) => i,
            None => {
                paths.push(&r.path);
                paths.len() - 1
            }
        })
        .collect();
    (paths, slots)
}

/// Appends the lines running `cmd -- "$@"` over the paths `[ cond ]` selects (shell builtins
/// only), preceded by a `@<tag> <slot>…` line naming, in order, whose records follow; `@fail`
/// marks a run that did not produce one record per path.
fn push_batch(
    s: &mut String,
    tag: &str,
    cond: impl Fn(usize) -> Option<String>,
    n: usize,
    cmd: &str,
) {
    s.push_str("set --; _o=\n");
    for k in 0..n {
        if let Some(c) = cond(k) {
            s.push_str(&format!(
                "if {c}; then set -- \"$@\" \"$_p{k}\"; _o=\"$_o {k}\"; fi\n"
            ));
        }
    }
    s.push_str(&format!(
        "if [ $# -gt 0 ]; then echo \"@{tag}$_o\"; {cmd} -- \"$@\" 2>/dev/null || echo '@fail'; fi\n"
    ));
}

/// The shell snippet probing `requests`.
///
/// It starts as few processes as possible: shell builtins (`[ -e ]`, `[ -h ]`, `[ -f ]`) decide
/// which paths exist; ONE `stat` reports every existing distinct path (`lstat`); a second
/// `stat -L` runs only for followed paths that are symlinks (for any other path the `lstat`
/// record is the followed record); one `<algo>sum` per algorithm covers every file a checksum
/// is asked for. Records come in batches (`@L`, `@F`, `@sum <cmd>` lines listing path slots,
/// then one line per slot); extras for one request start with `@<index> `.
pub fn probe_script(requests: &[ProbeRequest]) -> String {
    let (paths, slots) = unique_paths(requests);
    let mut s = String::new();
    for (k, path) in paths.iter().enumerate() {
        s.push_str(&format!("_p{k}={}\n", quote_path(path)));
    }
    let stat_cmd = |flags: &str| format!("stat {flags}--printf '{STAT_FORMAT}\\n'");
    push_batch(
        &mut s,
        "L",
        |k| Some(format!("[ -e \"$_p{k}\" ] || [ -h \"$_p{k}\" ]")),
        paths.len(),
        &stat_cmd(""),
    );
    let followed: Vec<bool> = (0..paths.len())
        .map(|k| {
            requests
                .iter()
                .zip(&slots)
                .any(|(r, &sl)| sl == k && r.follow)
        })
        .collect();
    push_batch(
        &mut s,
        "F",
        |k| followed[k].then(|| format!("[ -h \"$_p{k}\" ] && [ -e \"$_p{k}\" ]")),
        paths.len(),
        &stat_cmd("-L "),
    );
    // Link targets, for paths asked about without following (links only: two processes).
    let mut linked = vec![false; paths.len()];
    for (req, &k) in requests.iter().zip(&slots) {
        if !req.follow && !linked[k] {
            linked[k] = true;
            s.push_str(&format!(
                "if [ -h \"$_p{k}\" ]; then printf '@={k} link %s\\n' \"$(readlink -- \"$_p{k}\")\"; \
                 printf '@={k} lnksrc %s\\n' \"$(readlink -f -- \"$_p{k}\")\"; fi\n"
            ));
        }
    }
    let mut algos: Vec<ChecksumAlgorithm> = Vec::new();
    for algo in requests.iter().flat_map(|r| &r.checksums) {
        if !algos.contains(algo) {
            algos.push(*algo);
        }
    }
    for algo in algos {
        let wanted: Vec<bool> = (0..paths.len())
            .map(|k| {
                requests
                    .iter()
                    .zip(&slots)
                    .any(|(r, &sl)| sl == k && r.checksums.contains(&algo))
            })
            .collect();
        push_batch(
            &mut s,
            &format!("sum {}", algo.command()),
            |k| wanted[k].then(|| format!("[ -f \"$_p{k}\" ] && [ -r \"$_p{k}\" ]")),
            paths.len(),
            algo.command(),
        );
    }
    for (i, (req, &k)) in requests.iter().zip(&slots).enumerate() {
        let p = format!("\"$_p{k}\"");
        if req.access {
            s.push_str(&format!(
                "[ -r {p} ] && echo '@{i} r'; [ -w {p} ] && echo '@{i} w'; [ -x {p} ] && echo '@{i} x'\n"
            ));
        }
        if req.mime {
            s.push_str(&format!(
                "if [ -e {p} ] || [ -h {p} ]; then if command -v file >/dev/null 2>&1; then \
                 printf '@{i} mime %s\\n' \"$(file -b -L --mime-type -- {p})\"; \
                 printf '@{i} charset %s\\n' \"$(file -b -L --mime-encoding -- {p})\"; \
                 else printf '@{i} mime unknown\\n@{i} charset unknown\\n'; fi; fi\n"
            ));
        }
        if req.attributes {
            s.push_str(&format!(
                "if [ ! -e {p} ]; then :; elif _a=$(lsattr -vd -- {p} 2>/dev/null); then \
                 printf '@{i} attrs %s\\n' \"$_a\"; elif _a=$(lsattr -d -- {p} 2>/dev/null); then \
                 printf '@{i} attrs - %s\\n' \"$_a\"; fi\n"
            ));
        }
        if let Some(limit) = req.content_limit {
            s.push_str(&format!(
                "if [ -f {p} ] && [ -r {p} ]; then _n=$(wc -c < {p}); \
                 if [ \"$_n\" -le {limit} ]; then printf '@{i} content %s\\n' \"$_n\"; cat -- {p}; echo; fi; fi\n"
            ));
        }
    }
    s.push_str("exit 0\n");
    s
}

/// Parses the probe's output into one [`PathStat`] per request.
pub fn parse_probe(requests: &[ProbeRequest], out: &[u8]) -> Result<Vec<PathStat>, String> {
    let (paths, slots) = unique_paths(requests);
    let mut lstats: Vec<Option<StatInfo>> = vec![None; paths.len()];
    let mut fstats: Vec<Option<StatInfo>> = vec![None; paths.len()];
    let mut links: Vec<(Option<String>, Option<String>)> = vec![(None, None); paths.len()];
    let mut sums: Vec<Vec<(ChecksumAlgorithm, String)>> = vec![Vec::new(); paths.len()];
    let mut extras: Vec<(usize, String, Option<Vec<u8>>)> = Vec::new();

    let mut lines = LineReader { out, pos: 0 };
    while let Some(line) = lines.next_line() {
        let Some(rest) = line.strip_prefix('@') else {
            continue;
        };
        let (head, value) = rest.split_once(' ').unwrap_or((rest, ""));
        match head {
            "L" | "F" | "sum" => {
                let (algo, list) = if head == "sum" {
                    let (cmd, list) = value.split_once(' ').unwrap_or((value, ""));
                    let algo = requests
                        .iter()
                        .flat_map(|r| &r.checksums)
                        .find(|a| a.command() == cmd)
                        .copied();
                    (algo, list)
                } else {
                    (None, value)
                };
                let batch: Vec<usize> = list
                    .split_whitespace()
                    .map(|k| k.parse::<usize>().ok().filter(|k| *k < paths.len()))
                    .collect::<Option<_>>()
                    .ok_or_else(|| format!("probe: bad batch line '{line}'"))?;
                let mut records = Vec::with_capacity(batch.len());
                for _ in &batch {
                    match lines.next_line() {
                        Some(l) if l != "@fail" => records.push(l),
                        _ => {
                            return Err(format!(
                                "probe: {} changed while being probed; try again",
                                batch
                                    .iter()
                                    .map(|k| paths[*k])
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ))
                        }
                    }
                }
                for (k, record) in batch.into_iter().zip(records) {
                    match (head, algo) {
                        ("L", _) => lstats[k] = Some(parse_stat_line(&record)?),
                        ("F", _) => fstats[k] = Some(parse_stat_line(&record)?),
                        (_, Some(algo)) => {
                            // `sha1sum` escapes odd file names with a leading backslash.
                            let record = record.strip_prefix('\\').unwrap_or(&record);
                            let sum = record.split_whitespace().next().unwrap_or("");
                            sums[k].push((algo, sum.to_string()));
                        }
                        _ => {}
                    }
                }
            }
            _ if head.starts_with('=') => {
                let Some(k) = head[1..].parse::<usize>().ok().filter(|k| *k < paths.len()) else {
                    continue;
                };
                let (key, value) = value.split_once(' ').unwrap_or((value, ""));
                match key {
                    "link" => links[k].0 = Some(value.to_string()),
                    "lnksrc" => links[k].1 = Some(value.to_string()),
                    _ => {}
                }
            }
            _ => {
                let Some(i) = head.parse::<usize>().ok().filter(|i| *i < requests.len()) else {
                    continue;
                };
                let (key, value) = value.split_once(' ').unwrap_or((value, ""));
                let content = if key == "content" {
                    let n: usize = value
                        .trim()
                        .parse()
                        .map_err(|_| format!("probe: bad content length '{value}'"))?;
                    Some(lines.take_bytes(n))
                } else {
                    None
                };
                extras.push((i, format!("{key} {value}"), content));
            }
        }
    }

    let mut stats: Vec<PathStat> = requests
        .iter()
        .zip(&slots)
        .map(|(req, &k)| {
            let lstat = lstats[k].as_ref();
            let info = if req.follow && lstat.is_some_and(|i| i.file_type == FileType::Link) {
                // A followed symlink: its target's record, or nothing when it dangles.
                fstats[k].clone()
            } else {
                lstat.cloned()
            };
            let info = info.map(|mut info| {
                if !req.follow {
                    info.link_target = links[k].0.clone();
                    info.link_source = links[k].1.clone();
                }
                info.checksums = sums[k]
                    .iter()
                    .filter(|(a, _)| req.checksums.contains(a))
                    .cloned()
                    .collect();
                info
            });
            PathStat {
                path: req.path.clone(),
                info,
            }
        })
        .collect();
    for (i, extra, content) in extras {
        let Some(info) = stats[i].info.as_mut() else {
            continue;
        };
        let (key, value) = extra.split_once(' ').unwrap_or((&extra, ""));
        match key {
            "r" => info.readable = true,
            "w" => info.writeable = true,
            "x" => info.executable = true,
            "mime" => info.mime_type = Some(value.to_string()),
            "charset" => info.charset = Some(value.to_string()),
            "content" => info.content = content,
            "attrs" => {
                let mut parts = value.split_whitespace();
                if let (Some(version), Some(flags)) = (parts.next(), parts.next()) {
                    let version = (version != "-").then(|| version.to_string());
                    info.attributes = Some((version, flags.replace('-', "")));
                }
            }
            _ => {}
        }
    }
    Ok(stats)
}

/// Splits probe output into lines, and hands out raw byte runs (file contents) between them.
struct LineReader<'a> {
    out: &'a [u8],
    pos: usize,
}

impl LineReader<'_> {
    fn next_line(&mut self) -> Option<String> {
        if self.pos >= self.out.len() {
            return None;
        }
        let rest = &self.out[self.pos..];
        let end = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
        self.pos += end + 1;
        Some(String::from_utf8_lossy(&rest[..end]).into_owned())
    }

    /// The next `n` bytes, skipping the newline printed after them.
    fn take_bytes(&mut self, n: usize) -> Vec<u8> {
        let start = self.pos.min(self.out.len());
        let stop = (start + n).min(self.out.len());
        self.pos = stop + 1;
        self.out[start..stop].to_vec()
    }
}

fn parse_stat_line(line: &str) -> Result<StatInfo, String> {
    let f: Vec<&str> = line.split('|').collect();
    if f.len() < 16 {
        return Err(format!("probe: unexpected stat output '{line}'"));
    }
    let int = |i: usize| -> u64 { f[i].trim().parse().unwrap_or(0) };
    let float = |i: usize| -> f64 { f[i].trim().parse().unwrap_or(0.0) };
    let raw = u32::from_str_radix(f[0].trim(), 16)
        .map_err(|_| format!("probe: bad mode in stat output '{line}'"))?;
    let major = u64::from_str_radix(f[14].trim(), 16).unwrap_or(0);
    let minor = u64::from_str_radix(f[15].trim(), 16).unwrap_or(0);
    Ok(StatInfo {
        file_type: FileType::from_mode(raw),
        mode: raw & 0o7777,
        uid: int(1) as u32,
        gid: int(2) as u32,
        owner: f[3].to_string(),
        group: f[4].to_string(),
        size: int(5),
        atime: float(6),
        mtime: float(7),
        ctime: float(8),
        inode: int(9),
        dev: int(10),
        nlink: int(11),
        blocks: int(12),
        block_size: int(13),
        device_type: (major << 8) | minor,
        ..StatInfo::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_records_and_contents() {
        let reqs = vec![
            ProbeRequest {
                checksums: vec![ChecksumAlgorithm::Sha1],
                content_limit: Some(100),
                ..ProbeRequest::new("/a")
            },
            ProbeRequest::new("/b"),
        ];
        let out = b"@L 0\n81a4|0|0|root|root|4|1.5|2.5|3.5|7|8|1|8|4096|0|0\n\
@sum sha1sum 0\nabc  /a\n@0 content 4\nx\ny\n\n";
        let stats = parse_probe(&reqs, out).unwrap();
        let a = stats[0].info.as_ref().unwrap();
        assert_eq!(a.file_type, FileType::File);
        assert_eq!(a.mode, 0o644);
        assert_eq!(a.mtime, 2.5);
        assert_eq!(a.checksum(ChecksumAlgorithm::Sha1), Some("abc"));
        assert_eq!(a.content.as_deref(), Some(&b"x\ny\n"[..]));
        assert!(!stats[1].exists());
    }

    #[test]
    fn followed_links_use_the_target_record() {
        let reqs = vec![
            ProbeRequest::new("/l"),
            ProbeRequest {
                follow: true,
                ..ProbeRequest::new("/l")
            },
            ProbeRequest {
                follow: true,
                ..ProbeRequest::new("/dir")
            },
        ];
        let script = probe_script(&reqs);
        // Two distinct paths: one lstat batch, one follow batch, link targets once.
        assert_eq!(script.matches("_p0=").count(), 1);
        assert_eq!(script.matches("_p1=").count(), 1);
        assert_eq!(script.matches("readlink --").count(), 1);
        let out = b"@L 0 1\na1ff|0|0|root|root|4|1|2|3|7|8|1|0|4096|0|0\n\
41ed|0|0|root|root|4096|1|2|3|9|8|2|8|4096|0|0\n@F 0\n\
81a4|0|0|root|root|10|1|2|3|11|8|1|8|4096|0|0\n@=0 link t\n@=0 lnksrc /t\n";
        let stats = parse_probe(&reqs, out).unwrap();
        let l = stats[0].info.as_ref().unwrap();
        assert_eq!(l.file_type, FileType::Link);
        assert_eq!(l.link_target.as_deref(), Some("t"));
        assert_eq!(l.link_source.as_deref(), Some("/t"));
        let f = stats[1].info.as_ref().unwrap();
        assert_eq!((f.file_type, f.inode, f.size), (FileType::File, 11, 10));
        assert_eq!(f.link_target, None);
        assert!(stats[2].is_dir());
    }

    #[test]
    fn dangling_link_followed_is_absent_and_short_batches_fail() {
        let reqs = vec![ProbeRequest {
            follow: true,
            ..ProbeRequest::new("/l")
        }];
        let out = b"@L 0\na1ff|0|0|root|root|4|1|2|3|7|8|1|0|4096|0|0\n";
        assert!(!parse_probe(&reqs, out).unwrap()[0].exists());
        let out = b"@L 0\n@fail\n";
        assert!(parse_probe(&reqs, out).is_err());
    }

    #[test]
    fn attributes_are_read_from_lsattr() {
        let reqs = vec![ProbeRequest {
            attributes: true,
            ..ProbeRequest::new("/a b")
        }];
        assert!(probe_script(&reqs).contains("lsattr -vd --"));
        let out = b"@L 0\n81a4|0|0|root|root|4|1.5|2.5|3.5|7|8|1|8|4096|0|0\n\
@0 attrs 3177784397 ----i---------e------- /a b\n";
        let stats = parse_probe(&reqs, out).unwrap();
        let a = stats[0].info.as_ref().unwrap();
        let version = Some("3177784397".to_string());
        assert_eq!(a.attributes, Some((version, "ie".to_string())));
        // Flags without a version (overlayfs).
        let out = b"@L 0\n81a4|0|0|root|root|4|1.5|2.5|3.5|7|8|1|8|4096|0|0\n\
@0 attrs - -----a---------------- /a b\n";
        let stats = parse_probe(&reqs, out).unwrap();
        let a = stats[0].info.as_ref().unwrap();
        assert_eq!(a.attributes, Some((None, "a".to_string())));
    }
}

//! The stat probe: one POSIX shell snippet that reports everything modules need to know about
//! several paths (type, mode, owner, times, link target, checksums, access, small contents) in a
//! single round trip.

use drover_core::connection::HostConnection;
use drover_core::module::ModuleError;

use super::checksum::ChecksumAlgorithm;
use super::quote_path;

/// What to find out about one path.
#[derive(Debug, Clone, Default)]
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

/// The shell snippet probing `requests`; record lines start with `@<index> `.
pub fn probe_script(requests: &[ProbeRequest]) -> String {
    let mut s = String::new();
    for (i, req) in requests.iter().enumerate() {
        let stat = if req.follow { "stat -L" } else { "stat" };
        s.push_str(&format!("p={}\n", quote_path(&req.path)));
        s.push_str("if [ -e \"$p\" ] || [ -h \"$p\" ]; then\n");
        s.push_str(&format!(
            " {stat} --printf '@{i} stat {STAT_FORMAT}\\n' -- \"$p\" 2>/dev/null || echo '@{i} absent'\n"
        ));
        if !req.follow {
            s.push_str(&format!(
                " if [ -h \"$p\" ]; then printf '@{i} link %s\\n' \"$(readlink -- \"$p\")\"; \
                 printf '@{i} lnksrc %s\\n' \"$(readlink -f -- \"$p\")\"; fi\n"
            ));
        }
        if req.access {
            s.push_str(&format!(
                " [ -r \"$p\" ] && echo '@{i} r'; [ -w \"$p\" ] && echo '@{i} w'; [ -x \"$p\" ] && echo '@{i} x'\n"
            ));
        }
        if !req.checksums.is_empty() {
            s.push_str(" if [ -f \"$p\" ] && [ -r \"$p\" ]; then\n");
            for algo in &req.checksums {
                let cmd = algo.command();
                s.push_str(&format!(
                    "  c=$({cmd} < \"$p\") && printf '@{i} sum {cmd} %s\\n' \"${{c%% *}}\"\n"
                ));
            }
            s.push_str(" fi\n");
        }
        if req.mime {
            s.push_str(&format!(
                " if command -v file >/dev/null 2>&1; then printf '@{i} mime %s\\n' \"$(file -b -L --mime-type -- \"$p\")\"; \
                 printf '@{i} charset %s\\n' \"$(file -b -L --mime-encoding -- \"$p\")\"; \
                 else printf '@{i} mime unknown\\n@{i} charset unknown\\n'; fi\n"
            ));
        }
        if let Some(limit) = req.content_limit {
            s.push_str(&format!(
                " if [ -f \"$p\" ] && [ -r \"$p\" ]; then n=$(wc -c < \"$p\"); \
                 if [ \"$n\" -le {limit} ]; then printf '@{i} content %s\\n' \"$n\"; cat -- \"$p\"; echo; fi; fi\n"
            ));
        }
        s.push_str(&format!("else echo '@{i} absent'; fi\n"));
    }
    s.push_str("exit 0\n");
    s
}

/// Parses the probe's output into one [`PathStat`] per request.
pub fn parse_probe(requests: &[ProbeRequest], out: &[u8]) -> Result<Vec<PathStat>, String> {
    let mut stats: Vec<PathStat> = requests
        .iter()
        .map(|r| PathStat {
            path: r.path.clone(),
            info: None,
        })
        .collect();
    let mut pos = 0;
    while pos < out.len() {
        let end = out[pos..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(out.len(), |e| pos + e);
        let line = String::from_utf8_lossy(&out[pos..end]).into_owned();
        pos = end + 1;
        let Some(rest) = line.strip_prefix('@') else {
            continue;
        };
        let (idx, rest) = rest.split_once(' ').unwrap_or((rest, ""));
        let Ok(idx) = idx.parse::<usize>() else {
            continue;
        };
        let Some(entry) = stats.get_mut(idx) else {
            continue;
        };
        let (key, value) = rest.split_once(' ').unwrap_or((rest, ""));
        if key == "absent" {
            entry.info = None;
            continue;
        }
        if key == "stat" {
            entry.info = Some(parse_stat_line(value)?);
            continue;
        }
        let Some(info) = entry.info.as_mut() else {
            continue;
        };
        match key {
            "link" => info.link_target = Some(value.to_string()),
            "lnksrc" => info.link_source = Some(value.to_string()),
            "r" => info.readable = true,
            "w" => info.writeable = true,
            "x" => info.executable = true,
            "mime" => info.mime_type = Some(value.to_string()),
            "charset" => info.charset = Some(value.to_string()),
            "sum" => {
                let (cmd, sum) = value.split_once(' ').unwrap_or((value, ""));
                let algo = requests[idx]
                    .checksums
                    .iter()
                    .find(|a| a.command() == cmd)
                    .copied();
                if let Some(algo) = algo {
                    info.checksums.push((algo, sum.to_string()));
                }
            }
            "content" => {
                let n: usize = value
                    .trim()
                    .parse()
                    .map_err(|_| format!("probe: bad content length '{value}'"))?;
                let stop = (pos + n).min(out.len());
                info.content = Some(out[pos..stop].to_vec());
                pos = stop + 1; // the newline printed after the contents
            }
            _ => {}
        }
    }
    Ok(stats)
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

/// Runs the probe for `requests` in one command and returns one [`PathStat`] per request.
pub async fn probe(
    conn: &HostConnection,
    requests: &[ProbeRequest],
) -> Result<Vec<PathStat>, ModuleError> {
    let out = conn.run(probe_script(requests)).await?;
    if out.rc != 0 {
        return Err(ModuleError::Local(format!(
            "probing {} failed (rc {}): {}",
            requests
                .iter()
                .map(|r| r.path.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            out.rc,
            out.stderr_str().trim()
        )));
    }
    parse_probe(requests, &out.stdout).map_err(ModuleError::Local)
}

/// Probes a single path.
pub async fn probe_one(
    conn: &HostConnection,
    request: ProbeRequest,
) -> Result<PathStat, ModuleError> {
    let mut stats = probe(conn, std::slice::from_ref(&request)).await?;
    Ok(stats.pop().unwrap_or(PathStat {
        path: request.path,
        info: None,
    }))
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
        let out = b"@0 stat 81a4|0|0|root|root|4|1.5|2.5|3.5|7|8|1|8|4096|0|0\n\
@0 sum sha1sum abc\n@0 content 4\nx\ny\n\n@1 absent\n";
        let stats = parse_probe(&reqs, out).unwrap();
        let a = stats[0].info.as_ref().unwrap();
        assert_eq!(a.file_type, FileType::File);
        assert_eq!(a.mode, 0o644);
        assert_eq!(a.mtime, 2.5);
        assert_eq!(a.checksum(ChecksumAlgorithm::Sha1), Some("abc"));
        assert_eq!(a.content.as_deref(), Some(&b"x\ny\n"[..]));
        assert!(!stats[1].exists());
    }
}

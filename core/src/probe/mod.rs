//! The stat probe: one POSIX shell snippet that reports everything modules need to know about
//! several paths (type, mode, owner, times, link target, checksums, access, small contents) in a
//! single round trip, and the read-ahead cache that serves several tasks' probes from one
//! ([`ProbeCache`]). Modules probe through [`crate::connection::HostConnection::probe`].

mod cache;
mod parse;
mod script;
#[cfg(test)]
mod tests;

use serde::Deserialize;

pub use cache::{ChangeCounter, ChangeGuard, ProbeCache, ProbeIdentity, ReadAhead};
pub use parse::parse_probe;
pub use script::probe_script;

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

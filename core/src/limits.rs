//! Published limits that keep hostile or broken input from crashing drover or exhausting the
//! machine, and the one size-capped reader every YAML/JSON/INI/template/vars file goes through.
//!
//! Each limit has a default (see `docs/LIMITS.md`) and an environment variable that raises or
//! lowers it: [`MAX_FILE_SIZE_ENV`], [`MAX_HOST_RANGE_ENV`], [`MAX_INCLUDE_DEPTH_ENV`],
//! [`MAX_TEMPLATE_RECURSION_ENV`].

use std::io::Read;
use std::path::{Path, PathBuf};

/// Environment variable overriding [`DEFAULT_MAX_FILE_SIZE`] (bytes; `k`/`m`/`g` suffixes allowed).
pub const MAX_FILE_SIZE_ENV: &str = "DROVER_MAX_FILE_SIZE";
/// Environment variable overriding [`DEFAULT_MAX_HOST_RANGE`] (hosts per range pattern).
pub const MAX_HOST_RANGE_ENV: &str = "DROVER_MAX_HOST_RANGE";
/// Environment variable overriding [`DEFAULT_MAX_INCLUDE_DEPTH`].
pub const MAX_INCLUDE_DEPTH_ENV: &str = "DROVER_MAX_INCLUDE_DEPTH";
/// Environment variable overriding [`DEFAULT_MAX_LOADED_TASKS`].
pub const MAX_LOADED_TASKS_ENV: &str = "DROVER_MAX_LOADED_TASKS";
/// Environment variable overriding [`DEFAULT_MAX_TEMPLATE_RECURSION`].
pub const MAX_TEMPLATE_RECURSION_ENV: &str = "DROVER_MAX_TEMPLATE_RECURSION";

/// Largest file drover reads as YAML, JSON, INI, a template or a vars file: 64 MiB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 64 * 1024 * 1024;
/// Most hosts one `name[a:b]` range pattern may expand to.
pub const DEFAULT_MAX_HOST_RANGE: u64 = 100_000;
/// Deepest chain of imports and includes (playbooks, tasks files, roles).
pub const DEFAULT_MAX_INCLUDE_DEPTH: usize = 64;
/// Hard ceiling for [`MAX_INCLUDE_DEPTH_ENV`]: deeper chains would overflow the stack.
pub const INCLUDE_DEPTH_CEILING: usize = 128;
/// Stack the drover binary runs playbooks on: run-time nesting is at most the include depth
/// times the block nesting one file can hold (YAML nesting is capped at 64 levels), about
/// 30 KiB a level in debug builds. Reserved, not committed: only the pages used cost memory.
pub const RUN_STACK_SIZE: usize = 256 << 20;
/// Most tasks (and plays) one playbook, play or include may load through static imports: stops
/// an "import bomb" (files that import each other many times over without a cycle).
pub const DEFAULT_MAX_LOADED_TASKS: usize = 200_000;
/// Deepest nesting of template calls, includes and macros inside one template render.
pub const DEFAULT_MAX_TEMPLATE_RECURSION: usize = 500;

/// A file that could not be read within the limits.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Not a regular file (a device, FIFO, socket or directory).
    #[error("cannot read {}: it is {kind}, not a regular file", path.display())]
    NotRegular {
        /// The file.
        path: PathBuf,
        /// What it is instead.
        kind: &'static str,
    },
    /// Larger than the limit.
    #[error(
        "cannot read {}: it is larger than {limit} bytes (set {MAX_FILE_SIZE_ENV} to raise the limit)",
        path.display()
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit in force.
        limit: u64,
    },
    /// Not UTF-8 text.
    #[error(
        "cannot read {}: it is not UTF-8 text (invalid byte at offset {offset}, line {line})",
        path.display()
    )]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// Byte offset of the first invalid byte.
        offset: usize,
        /// 1-based line of that byte.
        line: usize,
    },
}

impl ReadError {
    /// The message without the path, for errors that already name the file.
    pub fn reason(&self) -> String {
        let full = self.to_string();
        let path = match self {
            Self::Io { path, .. }
            | Self::NotRegular { path, .. }
            | Self::TooLarge { path, .. }
            | Self::NotUtf8 { path, .. } => path.display().to_string(),
        };
        full.strip_prefix(&format!("cannot read {path}: "))
            .map_or(full.clone(), str::to_string)
    }
}

fn env_number(name: &str) -> Option<u64> {
    let raw = std::env::var(name).ok()?;
    let raw = raw.trim().to_ascii_lowercase();
    let (digits, mult) = match raw.chars().last()? {
        'k' => (&raw[..raw.len() - 1], 1024),
        'm' => (&raw[..raw.len() - 1], 1024 * 1024),
        'g' => (&raw[..raw.len() - 1], 1024 * 1024 * 1024),
        _ => (raw.as_str(), 1),
    };
    digits.trim().parse::<u64>().ok()?.checked_mul(mult)
}

/// The file size limit in force ([`MAX_FILE_SIZE_ENV`] or [`DEFAULT_MAX_FILE_SIZE`]).
pub fn max_file_size() -> u64 {
    env_number(MAX_FILE_SIZE_ENV).unwrap_or(DEFAULT_MAX_FILE_SIZE)
}

/// The host range limit in force ([`MAX_HOST_RANGE_ENV`] or [`DEFAULT_MAX_HOST_RANGE`]).
pub fn max_host_range() -> u64 {
    env_number(MAX_HOST_RANGE_ENV).unwrap_or(DEFAULT_MAX_HOST_RANGE)
}

/// The include depth limit in force ([`MAX_INCLUDE_DEPTH_ENV`] or
/// [`DEFAULT_MAX_INCLUDE_DEPTH`]), at most [`INCLUDE_DEPTH_CEILING`].
pub fn max_include_depth() -> usize {
    env_number(MAX_INCLUDE_DEPTH_ENV)
        .map_or(DEFAULT_MAX_INCLUDE_DEPTH, |n| n as usize)
        .clamp(1, INCLUDE_DEPTH_CEILING)
}

/// The loaded-tasks limit in force ([`MAX_LOADED_TASKS_ENV`] or [`DEFAULT_MAX_LOADED_TASKS`]).
pub fn max_loaded_tasks() -> usize {
    env_number(MAX_LOADED_TASKS_ENV).map_or(DEFAULT_MAX_LOADED_TASKS, |n| n as usize)
}

/// The template recursion limit in force ([`MAX_TEMPLATE_RECURSION_ENV`] or
/// [`DEFAULT_MAX_TEMPLATE_RECURSION`]), at most 2000.
pub fn max_template_recursion() -> usize {
    env_number(MAX_TEMPLATE_RECURSION_ENV)
        .map_or(DEFAULT_MAX_TEMPLATE_RECURSION, |n| n as usize)
        .clamp(1, 2000)
}

fn kind_of(ft: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
        if ft.is_fifo() {
            return "a named pipe";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    if ft.is_dir() {
        "a directory"
    } else {
        "a special file"
    }
}

/// Reads a file's bytes: refuses anything but a regular file (after following links) and
/// stops at [`max_file_size`] even when the file grows or lies about its size.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, ReadError> {
    let io = |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular {
            path: path.to_path_buf(),
            kind: kind_of(&meta.file_type()),
        });
    }
    let limit = max_file_size();
    if meta.len() > limit {
        return Err(ReadError::TooLarge {
            path: path.to_path_buf(),
            limit,
        });
    }
    let file = std::fs::File::open(path).map_err(io)?;
    let mut buf = Vec::with_capacity(meta.len() as usize);
    file.take(limit.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(io)?;
    if buf.len() as u64 > limit {
        return Err(ReadError::TooLarge {
            path: path.to_path_buf(),
            limit,
        });
    }
    Ok(buf)
}

/// Reads a file's bytes up to [`max_file_size`], accepting pipes and devices (a vault password
/// given as `--vault-password-file <(pass show x)` is a pipe, as Ansible allows); directories
/// are refused.
pub fn read_bytes_capped(path: &Path) -> Result<Vec<u8>, ReadError> {
    let io = |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_dir() {
        return Err(ReadError::NotRegular {
            path: path.to_path_buf(),
            kind: "a directory",
        });
    }
    let limit = max_file_size();
    let mut buf = Vec::new();
    std::fs::File::open(path)
        .map_err(io)?
        .take(limit.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(io)?;
    if buf.len() as u64 > limit {
        return Err(ReadError::TooLarge {
            path: path.to_path_buf(),
            limit,
        });
    }
    Ok(buf)
}

/// Reads a file as UTF-8 text through [`read_bytes`]; a leading byte-order mark is dropped.
pub fn read_text(path: &Path) -> Result<String, ReadError> {
    let bytes = read_bytes(path)?;
    let mut text = String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..offset]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        ReadError::NotUtf8 {
            path: path.to_path_buf(),
            offset,
            line,
        }
    })?;
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_devices_and_directories() {
        let e = read_text(Path::new("/dev/zero")).unwrap_err();
        assert!(e.to_string().contains("character device"), "{e}");
        let e = read_text(Path::new("/")).unwrap_err();
        assert!(e.to_string().contains("directory"), "{e}");
        // Password files may be pipes or devices, but are capped.
        assert_eq!(read_bytes_capped(Path::new("/dev/null")).unwrap(), b"");
        assert!(read_bytes_capped(Path::new("/")).is_err());
    }

    #[test]
    fn caps_size_and_reports_bad_utf8_offset() {
        let dir = std::env::temp_dir().join(format!("drover-limits-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("bad.yml");
        std::fs::write(&f, b"a: 1\nb: \xff\n").unwrap();
        let e = read_text(&f).unwrap_err().to_string();
        assert!(e.contains("offset 8, line 2"), "{e}");
        std::fs::write(&f, b"\xef\xbb\xbfa: 1\n").unwrap();
        assert_eq!(read_text(&f).unwrap(), "a: 1\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! Parameters of `file`.

use drover_core::params::{ModuleParams, ParamChoices};
use serde::Deserialize;

use crate::params::{de_bool, de_opt_bool, de_opt_string, de_string};
use crate::remote::file_attrs::FileAttrs;

/// The `state:` values of `file`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ParamChoices)]
#[serde(rename_all = "lowercase")]
pub enum FileState {
    /// Remove the path (recursively for directories).
    Absent,
    /// Create the directory (and parents).
    Directory,
    /// The path must exist; only attributes change.
    File,
    /// A hard link to `src`.
    Hard,
    /// A symbolic link to `src`.
    Link,
    /// Create an empty file or update times.
    Touch,
}

impl FileState {
    /// The value as written in a task.
    pub fn name(self) -> &'static str {
        match self {
            Self::Absent => "absent",
            Self::Directory => "directory",
            Self::File => "file",
            Self::Hard => "hard",
            Self::Link => "link",
            Self::Touch => "touch",
        }
    }
}

/// Parameters of `file`.
#[derive(Debug, Deserialize, ModuleParams)]
pub struct FileParams {
    /// The path to manage.
    #[serde(alias = "dest", alias = "name", deserialize_with = "de_string")]
    pub path: String,
    /// Desired state (default: the current state, or `file`).
    #[serde(default)]
    pub state: Option<FileState>,
    /// Apply attributes recursively (directories).
    #[serde(default, deserialize_with = "de_bool")]
    pub recurse: bool,
    /// Link target for `link`/`hard`.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub src: Option<String>,
    /// Replace existing files/directories with links; link to missing targets.
    #[serde(default, deserialize_with = "de_bool")]
    pub force: bool,
    /// Follow symlinks at `path` when setting attributes (default yes).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    pub follow: bool,
    /// The common file attributes (`mode`, `owner`, `group`, `attributes`, SELinux options).
    #[serde(flatten)]
    pub attrs: FileAttrs,
    /// `now`, `preserve` or a timestamp in `modification_time_format`.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub modification_time: Option<String>,
    /// strftime format of `modification_time` (only the default is supported).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub modification_time_format: Option<String>,
    /// `now`, `preserve` or a timestamp in `access_time_format`.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub access_time: Option<String>,
    /// strftime format of `access_time` (only the default is supported).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub access_time_format: Option<String>,
    /// Internal (ansible-core's action plugins): when `path` is a directory, the file inside it
    /// that is meant (for states other than `link` and `absent`).
    #[serde(
        default,
        rename = "_original_basename",
        deserialize_with = "de_opt_string"
    )]
    pub original_basename: Option<String>,
    /// Internal (ansible-core's action plugins): only report whether the file looks binary
    /// (`appears_binary`, a NUL byte in its first 8 KiB).
    #[serde(default, rename = "_diff_peek", deserialize_with = "de_opt_bool")]
    pub diff_peek: Option<bool>,
}

pub(crate) fn yes() -> bool {
    true
}

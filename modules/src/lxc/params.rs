//! The parameters of `lxc_container`, as community.general's (same keys, defaults and choices).

use drover_core::params::{ModuleParams, ParamChoices};
use serde::Deserialize;

use crate::params::{de_bool, de_opt_string, de_opt_string_list, de_string};

/// The state the container must end in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, ParamChoices)]
#[serde(rename_all = "lowercase")]
pub enum LxcState {
    /// Running (created first when absent, unfrozen when frozen).
    #[default]
    Started,
    /// Stopped (created first when absent).
    Stopped,
    /// Stopped and started again, on every run (always a change).
    Restarted,
    /// Destroyed (after `archive` and `clone_name`, when given).
    Absent,
    /// Frozen (created and started first when needed).
    Frozen,
    /// Exists, in whatever run state it has; only useful with `clone_name`. (community.general
    /// lists this choice but fails on it; drover keeps the container's run state.)
    Clone,
}

impl LxcState {
    /// The word used in results and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Started => "started",
            Self::Stopped => "stopped",
            Self::Restarted => "restarted",
            Self::Absent => "absent",
            Self::Frozen => "frozen",
            Self::Clone => "clone",
        }
    }
}

/// The container's storage backend (`lxc-create -B`, `lxc-copy -B`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, ParamChoices)]
#[serde(rename_all = "lowercase")]
pub enum BackingStore {
    /// A plain directory.
    #[default]
    Dir,
    /// An LVM logical volume (`vg_name`, `lv_name`, `thinpool`, `fs_type`, `fs_size`).
    Lvm,
    /// A loop-mounted image file (`fs_type`, `fs_size`).
    Loop,
    /// A btrfs subvolume.
    Btrfs,
    /// An overlay over another container's rootfs.
    Overlayfs,
    /// A ZFS dataset (`zfs_root`).
    Zfs,
}

impl BackingStore {
    /// LXC's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dir => "dir",
            Self::Lvm => "lvm",
            Self::Loop => "loop",
            Self::Btrfs => "btrfs",
            Self::Overlayfs => "overlayfs",
            Self::Zfs => "zfs",
        }
    }
}

/// Compression of the `archive` tarball.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, ParamChoices)]
#[serde(rename_all = "lowercase")]
pub enum ArchiveCompression {
    /// `NAME.tar.tgz`.
    #[default]
    Gzip,
    /// `NAME.tar.bz2`.
    Bzip2,
    /// `NAME.tar`.
    None,
}

impl ArchiveCompression {
    /// The archive's extension and tar's compression flag.
    pub fn extension_and_flag(self) -> (&'static str, &'static str) {
        match self {
            Self::Gzip => ("tar.tgz", "-z"),
            Self::Bzip2 => ("tar.bz2", "-j"),
            Self::None => ("tar", ""),
        }
    }
}

/// Parameters of `lxc_container`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct LxcContainerParams {
    /// Name of the container.
    #[serde(deserialize_with = "de_string")]
    pub name: String,
    /// `started`, `stopped`, `restarted`, `absent`, `frozen` or `clone` (see the choices). A
    /// missing container is created for every state but `absent`.
    #[serde(default)]
    #[param(default = "started")]
    pub state: LxcState,
    /// The LXC template creating a missing container (`busybox`, `debian`, `download`, `local`,
    /// … as in `/usr/share/lxc/templates/lxc-NAME`, or a path to a template script). `local`
    /// with `template_options: --fstree ROOTFS.tar` and no `--metadata` unpacks a plain rootfs
    /// tarball (any compression tar reads) into a `dir` container, without LXC's metadata
    /// tarball. When a missing container is the source of `clone_name` and no template is
    /// given, the task fails instead of creating it.
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(default = "ubuntu")]
    pub template: Option<String>,
    /// Options passed to the template after `--`, split as a shell would (`--release bookworm`).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub template_options: Option<String>,
    /// An LXC configuration file for `lxc-create -f` (network, includes) when creating.
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(kind = "path")]
    pub config: Option<String>,
    /// The backing store of a created container (and of a clone).
    #[serde(default)]
    #[param(default = "dir")]
    pub backing_store: BackingStore,
    /// LVM: the logical volume's name (default: the container's name).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub lv_name: Option<String>,
    /// LVM: the volume group.
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(default = "lxc")]
    pub vg_name: Option<String>,
    /// LVM: the thin pool to create the volume in.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub thinpool: Option<String>,
    /// LVM and loop: the filesystem created on the volume.
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(default = "ext4")]
    pub fs_type: Option<String>,
    /// LVM and loop: the volume's size (also passed to `lxc-copy` for clones).
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(default = "5G")]
    pub fs_size: Option<String>,
    /// Place the rootfs directory here (`lxc-create --dir`).
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(kind = "path")]
    pub directory: Option<String>,
    /// ZFS: the dataset the container's dataset is created under.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub zfs_root: Option<String>,
    /// A command run in the container (through `lxc-attach`, by `bash` when the container has
    /// it, else `sh`) once it runs: a stopped or frozen target state is reached after it. Always
    /// a change; a non-zero exit fails the task (community.general ignores it).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub container_command: Option<String>,
    /// The LXC path holding the container (`lxc-* -P`); default: LXC's (`lxc-config
    /// lxc.lxcpath`).
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(kind = "path")]
    pub lxc_path: Option<String>,
    /// Log the `lxc-*` commands' actions on the container to `/var/log/lxc/lxc-NAME.log` (as
    /// root; else `$HOME/lxc-NAME.log`).
    #[serde(default, deserialize_with = "de_bool")]
    #[param(default = "false")]
    pub container_log: bool,
    /// The log level with `container_log`.
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(
        default = "INFO",
        choices(
            "Info", "info", "INFO", "Error", "error", "ERROR", "Debug", "debug", "DEBUG"
        )
    )]
    pub container_log_level: Option<String>,
    /// Clone the container (`name`) to a new container of this name (`lxc-copy`), when that
    /// one does not exist yet. A running source is stopped for the copy and restarted after.
    /// The clone is left stopped.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub clone_name: Option<String>,
    /// Make the clone a snapshot (`lxc-copy -s`: an overlay over a `dir` source's rootfs).
    /// With the default `backing_store: dir` drover lets LXC choose the snapshot's store
    /// (community.general passes `-B dir`, which LXC refuses).
    #[serde(default, deserialize_with = "de_bool")]
    #[param(default = "false")]
    pub clone_snapshot: bool,
    /// Write a tarball of the container's config and rootfs (`./config`, `./rootfs/…`) to
    /// `archive_path/NAME.tar.tgz` (or `.tar.bz2`, `.tar`). A running container is frozen
    /// while it is read. Always a change.
    #[serde(default, deserialize_with = "de_bool")]
    #[param(default = "false")]
    pub archive: bool,
    /// The directory the archive is written to (created when missing); required with `archive`.
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(kind = "path")]
    pub archive_path: Option<String>,
    /// `gzip`, `bzip2` or `none`.
    #[serde(default)]
    #[param(default = "gzip")]
    pub archive_compression: ArchiveCompression,
    /// Container configuration lines (`key = value`) the container's config must have. A key
    /// LXC takes once replaces its line (community.general appends a second line instead); a
    /// key LXC takes many times (`lxc.mount.entry`, `lxc.cgroup.devices.allow`,
    /// `lxc.cap.drop`, `lxc.net.N.ipv4.address`, hooks, …) gets the line added when that exact
    /// value is missing. A running container is restarted when its config changes.
    #[serde(default, deserialize_with = "de_opt_string_list")]
    pub container_config: Option<Vec<String>>,
}

impl LxcContainerParams {
    /// The template to create with (community.general's default: `ubuntu`).
    pub fn template_or_default(&self) -> &str {
        self.template.as_deref().unwrap_or("ubuntu")
    }

    /// The log level in LXC's spelling (`INFO`, `ERROR`, `DEBUG`), when logging is on.
    pub fn log_level(&self) -> Option<String> {
        self.container_log.then(|| {
            self.container_log_level
                .as_deref()
                .unwrap_or("INFO")
                .to_ascii_uppercase()
        })
    }
}

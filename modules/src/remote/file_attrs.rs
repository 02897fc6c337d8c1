//! The file-attribute options ansible-core's file modules share (`mode`, `owner`, `group`,
//! `attributes`, the SELinux context options and `unsafe_writes`): one parameters group,
//! flattened into every module that takes them, with what applying them needs.

use drover_core::module::{ModuleContext, ModuleError, ModuleResult};
use drover_core::params::ModuleParams;
use serde::Deserialize;

use super::attrs::AttrRequest;
use super::chattr::{apply_attributes_to, check_selinux};
use super::mode::Mode;
use crate::params::{de_bool, de_opt_mode, de_opt_string};

/// The common file attributes (ansible-core's `add_file_common_args`).
#[derive(Debug, Clone, Default, Deserialize, ModuleParams)]
pub struct FileAttrs {
    /// Permissions of the file (octal or symbolic; `preserve` where the module supports it).
    #[serde(default, deserialize_with = "de_opt_mode")]
    pub mode: Option<Mode>,
    /// Owner name or id.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub owner: Option<String>,
    /// Group name or id.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub group: Option<String>,
    /// File attributes to set with `chattr` (`+i`, `-a`, `=e` or bare letters meaning `=`).
    #[serde(default, alias = "attr", deserialize_with = "de_opt_string")]
    pub attributes: Option<String>,
    /// SELinux user of the file's context: ignored where SELinux is off, a failure where it is on.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub seuser: Option<String>,
    /// SELinux role of the file's context (see `seuser`).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub serole: Option<String>,
    /// SELinux type of the file's context (see `seuser`).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub setype: Option<String>,
    /// SELinux level of the file's context (see `seuser`).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub selevel: Option<String>,
    /// Accepted for compatibility; writes are always atomic.
    #[serde(default, deserialize_with = "de_bool")]
    pub unsafe_writes: bool,
}

impl FileAttrs {
    /// The requested ownership and permissions.
    pub fn request(&self) -> AttrRequest {
        AttrRequest {
            mode: self.mode.clone(),
            owner: self.owner.clone(),
            group: self.group.clone(),
        }
    }

    /// The `attributes` value, when one is given (an empty one asks for nothing).
    pub fn chattr(&self) -> Option<String> {
        self.attributes.clone().filter(|a| !a.is_empty())
    }

    /// True when no option of the group is given (`unsafe_writes` aside: it never changes
    /// anything).
    pub fn is_empty(&self) -> bool {
        self.mode.is_none()
            && self.owner.is_none()
            && self.group.is_none()
            && self.chattr().is_none()
            && self.selinux().iter().all(|(_, v)| v.is_none())
    }

    /// The SELinux options, by key.
    pub fn selinux(&self) -> [(&'static str, &Option<String>); 4] {
        [
            ("seuser", &self.seuser),
            ("serole", &self.serole),
            ("setype", &self.setype),
            ("selevel", &self.selevel),
        ]
    }

    /// The failed result to return when SELinux options are set on a host where SELinux is on
    /// (drover does not set contexts; see [`check_selinux`]).
    pub async fn selinux_failure(
        &self,
        ctx: &ModuleContext<'_>,
    ) -> Result<Option<ModuleResult>, ModuleError> {
        check_selinux(ctx, &self.selinux()).await
    }

    /// Applies `attributes` to `path` once the module's own work is done and succeeded, as
    /// ansible-core does last (see [`apply_attributes_to`]); a path the module left missing
    /// is no change of its own.
    pub async fn finish(
        &self,
        ctx: &ModuleContext<'_>,
        path: &str,
        r: ModuleResult,
    ) -> Result<ModuleResult, ModuleError> {
        match self.chattr() {
            Some(a) if !r.failed => apply_attributes_to(ctx, path, &a, r, false).await,
            _ => Ok(r),
        }
    }
}

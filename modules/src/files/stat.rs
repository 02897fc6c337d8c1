//! `stat`: reports facts about a path in one round trip.

use async_trait::async_trait;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::params::{de_bool, de_string};
use crate::remote::chattr::add_stat_keys;
use crate::remote::checksum::ChecksumAlgorithm;
use crate::remote::mode::format_stat_mode;
use crate::remote::probe::{probe_one, FileType, ProbeRequest, StatInfo};

/// Parameters of `stat`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct StatParams {
    /// The path to examine.
    #[serde(alias = "dest", alias = "name", deserialize_with = "de_string")]
    pub path: String,
    /// Follow a symlink at `path`.
    #[serde(default, deserialize_with = "de_bool")]
    pub follow: bool,
    /// Compute a checksum of regular files (default yes).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    pub get_checksum: bool,
    /// Checksum algorithm (default sha1).
    #[serde(default, alias = "checksum", alias = "checksum_algo")]
    pub checksum_algorithm: ChecksumAlgorithm,
    /// Report MIME type and charset (default yes; needs `file` on the target).
    #[serde(
        default = "yes",
        alias = "mime",
        alias = "mime_type",
        alias = "mime-type",
        deserialize_with = "de_bool"
    )]
    pub get_mime: bool,
    /// Report the file attributes `lsattr` shows (`version`, `attributes`, `attr_flags`;
    /// default yes).
    #[serde(
        default = "yes",
        alias = "attr",
        alias = "attributes",
        deserialize_with = "de_bool"
    )]
    pub get_attributes: bool,
}

fn yes() -> bool {
    true
}

/// The `stat` module.
pub struct Stat;

/// The one probe `stat` makes.
fn stat_request(p: &StatParams) -> ProbeRequest {
    ProbeRequest {
        follow: p.follow,
        checksums: if p.get_checksum {
            vec![p.checksum_algorithm]
        } else {
            vec![]
        },
        access: true,
        mime: p.get_mime,
        attributes: p.get_attributes,
        ..ProbeRequest::new(&p.path)
    }
}

#[async_trait]
impl TypedModule for Stat {
    const NAME: &'static str = "stat";
    type Params = StatParams;

    fn probes(&self, args: &Value, _diff: bool) -> Option<Vec<ProbeRequest>> {
        Some(vec![stat_request(&self.params_from(args).ok()?)])
    }

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: StatParams,
    ) -> Result<ModuleResult, ModuleError> {
        let stat = probe_one(ctx.conn, stat_request(&p)).await?;
        let value = match &stat.info {
            None => {
                let mut m = Map::new();
                m.insert("exists".into(), false.into());
                Value::Object(m)
            }
            Some(info) => {
                let mut value = stat_dict(&p.path, info, p.checksum_algorithm);
                if let (true, Value::Object(m)) = (p.get_attributes, &mut value) {
                    add_stat_keys(m, info.attributes.as_ref());
                }
                value
            }
        };
        Ok(ModuleResult::ok().with("stat", value))
    }
}

/// Ansible's `stat` dictionary for an existing path.
pub fn stat_dict(path: &str, info: &StatInfo, algo: ChecksumAlgorithm) -> Value {
    let mut m = Map::new();
    let t = info.file_type;
    let bit = |b: u32| Value::Bool(info.mode & b != 0);
    m.insert("exists".into(), true.into());
    m.insert("path".into(), path.into());
    m.insert("mode".into(), format_stat_mode(info.mode).into());
    m.insert("isdir".into(), (t == FileType::Directory).into());
    m.insert("ischr".into(), (t == FileType::CharDevice).into());
    m.insert("isblk".into(), (t == FileType::BlockDevice).into());
    m.insert("isreg".into(), (t == FileType::File).into());
    m.insert("isfifo".into(), (t == FileType::Fifo).into());
    m.insert("islnk".into(), (t == FileType::Link).into());
    m.insert("issock".into(), (t == FileType::Socket).into());
    m.insert("uid".into(), info.uid.into());
    m.insert("gid".into(), info.gid.into());
    m.insert("size".into(), info.size.into());
    m.insert("inode".into(), info.inode.into());
    m.insert("dev".into(), info.dev.into());
    m.insert("nlink".into(), info.nlink.into());
    m.insert("atime".into(), info.atime.into());
    m.insert("mtime".into(), info.mtime.into());
    m.insert("ctime".into(), info.ctime.into());
    m.insert("wusr".into(), bit(0o200));
    m.insert("rusr".into(), bit(0o400));
    m.insert("xusr".into(), bit(0o100));
    m.insert("wgrp".into(), bit(0o020));
    m.insert("rgrp".into(), bit(0o040));
    m.insert("xgrp".into(), bit(0o010));
    m.insert("woth".into(), bit(0o002));
    m.insert("roth".into(), bit(0o004));
    m.insert("xoth".into(), bit(0o001));
    m.insert("isuid".into(), bit(0o4000));
    m.insert("isgid".into(), bit(0o2000));
    m.insert("blocks".into(), info.blocks.into());
    m.insert("block_size".into(), info.block_size.into());
    m.insert("device_type".into(), info.device_type.into());
    m.insert("readable".into(), info.readable.into());
    m.insert("writeable".into(), info.writeable.into());
    m.insert("executable".into(), info.executable.into());
    m.insert("pw_name".into(), info.owner.clone().into());
    m.insert("gr_name".into(), info.group.clone().into());
    if let Some(src) = &info.link_source {
        m.insert("lnk_source".into(), src.clone().into());
    }
    if let Some(target) = &info.link_target {
        m.insert("lnk_target".into(), target.clone().into());
    }
    if let Some(sum) = info.checksum(algo) {
        m.insert("checksum".into(), sum.into());
    }
    if let Some(mime) = &info.mime_type {
        m.insert("mimetype".into(), mime.clone().into());
    }
    if let Some(charset) = &info.charset {
        m.insert("charset".into(), charset.clone().into());
    }
    Value::Object(m)
}

//! `file`'s symbolic and hard links, the attribute changes `recurse` makes below a directory and
//! the `_diff_peek` check (the rest of the module is in `file.rs`).

use drover_core::connection::shell_quote;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult};

use super::add_file_attrs;
use super::file::{bad, FileTask};
use super::file_params::FileState;
use crate::remote::attrs::AttrPlan;
use crate::remote::mode::Mode;
use crate::remote::probe::{FileType, PathStat, StatInfo};
use crate::remote::quote_path;

impl FileTask {
    /// For `recurse`: the command fixing attributes below the directory, if any differ.
    pub(super) async fn recursive_changes(
        &self,
        ctx: &ModuleContext<'_>,
    ) -> Result<Option<String>, ModuleError> {
        if self.attrs.is_empty() {
            return Ok(None);
        }
        let qpath = quote_path(&self.p.path);
        let follow = if self.p.follow { "-L " } else { "" };
        let out = ctx
            .conn
            .run(format!(
                "find {follow}{qpath} -mindepth 1 ! -type l -printf '%m|%y|%U|%G|%u|%g\\n'"
            ))
            .await?;
        if out.rc != 0 {
            return Err(ModuleError::Local(format!(
                "listing {} failed: {}",
                self.p.path,
                out.stderr_str().trim()
            )));
        }
        let mut needs_mode = false;
        let mut needs_owner = false;
        for line in out.stdout_str().lines() {
            let f: Vec<&str> = line.split('|').collect();
            if f.len() < 6 {
                continue;
            }
            let info = StatInfo {
                mode: u32::from_str_radix(f[0], 8).unwrap_or(0),
                file_type: if f[1] == "d" {
                    FileType::Directory
                } else {
                    FileType::File
                },
                uid: f[2].parse().unwrap_or(u32::MAX),
                gid: f[3].parse().unwrap_or(u32::MAX),
                owner: f[4].to_string(),
                group: f[5].to_string(),
                ..StatInfo::default()
            };
            let plan = self.attrs.plan(&info).map_err(bad)?;
            needs_mode |= plan.mode.is_some();
            needs_owner |= plan.owner.is_some() || plan.group.is_some();
        }
        let mut cmds = Vec::new();
        let deref = if self.p.follow { " -L" } else { "" };
        if needs_owner {
            let (cmd, spec) = match (&self.attrs.owner, &self.attrs.group) {
                (Some(o), Some(g)) => ("chown", format!("{o}:{g}")),
                (Some(o), None) => ("chown", o.clone()),
                (None, Some(g)) => ("chgrp", g.clone()),
                (None, None) => ("chown", String::new()),
            };
            cmds.push(format!("{cmd} -R{deref} {} -- {qpath}", shell_quote(&spec)));
        }
        if needs_mode {
            if let Some(mode) = self.attrs.mode.as_ref().and_then(Mode::chmod_arg) {
                cmds.push(format!("chmod -R {} -- {qpath}", shell_quote(&mode)));
            }
        }
        Ok((!cmds.is_empty()).then(|| cmds.join(" && ")))
    }

    pub(super) async fn link(
        &self,
        ctx: &ModuleContext<'_>,
        state: FileState,
        lstat: &PathStat,
        src_stat: &PathStat,
        prev: &str,
    ) -> Result<ModuleResult, ModuleError> {
        let path = &self.p.path;
        let qpath = quote_path(path);
        // Without `src`, an existing link followed keeps its target (ansible-core reads it back).
        let existing = match (&state, &lstat.info) {
            (FileState::Link, Some(i)) if self.p.follow && src_stat.exists() => {
                i.link_target.clone()
            }
            _ => None,
        };
        let Some(src) = self.p.src.clone().or(existing) else {
            return Err(bad(format!("src is required for state={}", state.name())));
        };
        let hard = state == FileState::Hard;
        let fail = |msg: String| Ok(ModuleResult::failed(msg).with("path", path.as_str()));
        if !src_stat.exists() && (hard || !self.p.force) {
            let shown = if hard {
                src.clone()
            } else {
                self.link_src_path(&src)
            };
            if hard {
                return Ok(ModuleResult::failed("src does not exist")
                    .with("dest", path.as_str())
                    .with("src", shown));
            }
            return fail(format!(
                "src file does not exist, use \"force=yes\" if you really want to create the link: {shown}"
            ));
        }
        let current = lstat.info.as_ref();
        let up_to_date = match current {
            None => false,
            Some(i) if hard => src_stat
                .info
                .as_ref()
                .is_some_and(|s| s.inode == i.inode && s.dev == i.dev),
            Some(i) => {
                i.file_type == FileType::Link && i.link_target.as_deref() == Some(src.as_str())
            }
        };
        let mut pre = Vec::new();
        if !up_to_date {
            match prev {
                "absent" => {}
                "link" => {}
                "directory" => {
                    if !self.p.force {
                        return fail(format!(
                            "refusing to convert from directory to {} for {path}",
                            if hard { "hard link" } else { "symlink" }
                        ));
                    }
                    pre.push(format!("rmdir -- {qpath}"));
                }
                _ if hard => {}
                other => {
                    if !self.p.force {
                        return fail(format!(
                            "refusing to convert from {other} to symlink for {path}"
                        ));
                    }
                }
            }
            let link = if hard {
                format!("ln -f -- {} {qpath}", quote_path(&src))
            } else {
                format!("ln -sfn -- {} {qpath}", shell_quote(&src))
            };
            pre.push(link);
        }
        let target_info = if up_to_date { current.cloned() } else { None };
        // Attributes go to the file itself for hard links, to the link target when following
        // (Ansible's default), and to the link itself otherwise (owner only: links have no mode).
        let (plan, attr_path, no_deref) = match (&src_stat.info, hard || self.p.follow) {
            (Some(src_info), true) => {
                let at = if hard {
                    src.clone()
                } else {
                    self.link_src_path(&src)
                };
                (self.attrs.plan(src_info).map_err(bad)?, at, false)
            }
            _ => {
                let plan = match &target_info {
                    Some(info) => self.attrs.plan(info).map_err(bad)?,
                    None => self.attrs.plan_new(false, 0o022).map_err(bad)?,
                };
                (AttrPlan { mode: None, ..plan }, path.clone(), true)
            }
        };
        let (mut before, mut after) = self.diff_maps("path");
        if prev != state.name() {
            before.insert("state".into(), prev.into());
            after.insert("state".into(), state.name().into());
        }
        // Re-pointing a link shows the old and new sources, as ansible-core does.
        if let (false, "link", Some(old)) = (
            up_to_date,
            prev,
            current.and_then(|i| i.link_target.as_deref()),
        ) {
            before.insert("src".into(), old.into());
            after.insert("src".into(), src.as_str().into());
        }
        plan.add_to_diff(&mut before, &mut after);
        if !plan.is_empty() {
            pre.push(plan.commands(&quote_path(&attr_path), no_deref));
        }
        let mut r = ModuleResult::changed(!pre.is_empty())
            .with("dest", path.as_str())
            .with("src", src.as_str());
        let info = if pre.is_empty() || ctx.check_mode {
            target_info.or_else(|| src_stat.info.clone())
        } else {
            match self.run_and_restat(ctx, &pre.join(" && "), true).await? {
                Ok(i) => Some(i),
                Err(fail) => return Ok(fail),
            }
        };
        if let Some(info) = &info {
            add_file_attrs(&mut r, info);
        }
        r.data.insert("state".into(), state.name().into());
        Ok(self.finish(ctx, r, before, after))
    }
}

/// ansible-core's `_diff_peek`: whether the file's first 8 KiB hold a NUL byte.
pub(super) async fn diff_peek(
    ctx: &ModuleContext<'_>,
    path: &str,
) -> Result<ModuleResult, ModuleError> {
    let out = ctx
        .conn
        .run(format!(
            "head -c 8192 -- {} 2>/dev/null | od -An -v -tx1 | grep -q ' 00' && echo binary",
            quote_path(path)
        ))
        .await?;
    Ok(ModuleResult::ok()
        .with("path", path)
        .with("appears_binary", out.stdout_str().trim() == "binary"))
}

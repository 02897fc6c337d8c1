//! `file`'s `state: link` and `state: hard`, step by step as ansible-core's `ensure_symlink` and
//! `ensure_hardlink` decide: which source, which previous states refuse (and with which
//! message), what changes, and where the attributes go afterwards.

use drover_core::connection::shell_quote;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult};
use serde_json::{Map, Value};

use super::add_file_attrs;
use super::file::{bad, FileTask};
use crate::remote::attrs::AttrPlan;
use crate::remote::probe::{probe_one, FileType, PathStat, ProbeRequest};
use crate::remote::{join_path, parent_dir, quote_path};

/// ansible-core's warning when following a link whose target does not exist.
const DANGLING_WARNING: &str = "Cannot set fs attributes on a non-existent symlink target. \
                                follow should be set to False to avoid this.";

/// A failed result with `dest` and `src`, as ansible-core's link failures have.
fn failed_with_src(msg: String, path: &str, src: &str) -> ModuleResult {
    ModuleResult::failed(msg)
        .with("dest", path)
        .with("src", src)
}

impl FileTask {
    /// `state: link`.
    pub(super) async fn symlink(
        &self,
        ctx: &ModuleContext<'_>,
        lstat: &PathStat,
        followed: &PathStat,
        src_stat: &PathStat,
        prev: &str,
    ) -> Result<ModuleResult, ModuleError> {
        let path = self.p.path.as_str();
        // Without `src`, following an existing path: its current link target is the source.
        let src = match &self.p.src {
            Some(s) => Some(s.clone()),
            None if self.p.follow && followed.exists() => {
                lstat.info.as_ref().and_then(|i| i.link_target.clone())
            }
            None => None,
        };
        if let (Some(src), false) = (&src, self.p.force) {
            // ansible-core resolves a relative source against the path when it is a directory,
            // else against its parent (where the link will resolve it).
            let (absrc, exists) = if prev == "directory" && !src.starts_with('/') {
                let at = join_path(path, src);
                let req = ProbeRequest {
                    follow: true,
                    ..ProbeRequest::new(&at)
                };
                let exists = probe_one(ctx.conn, req).await?.exists();
                (at, exists)
            } else {
                (self.link_src_path(src), src_stat.exists())
            };
            if !exists {
                return Ok(ModuleResult::failed(format!(
                    "src file does not exist, use 'force=yes' if you really want to create the \
                     link: {absrc}"
                ))
                .with("path", path)
                .with("src", src.as_str()));
            }
        }
        let refuse = |msg: String| Ok(ModuleResult::failed(msg).with("path", path));
        match prev {
            "directory" if !self.p.force => {
                return refuse(format!(
                    "refusing to convert from directory to symlink for {path}"
                ))
            }
            "directory" if !self.dir_is_empty(ctx).await? => {
                return refuse(format!(
                    "the directory {path} is not empty, refusing to convert it"
                ))
            }
            "file" | "hard" if !self.p.force => {
                return refuse(format!(
                    "refusing to convert from {prev} to symlink for {path}"
                ))
            }
            _ => {}
        }
        let (mut before, mut after) = self.diff_maps("path");
        if prev != "link" {
            before.insert("state".into(), prev.into());
            after.insert("state".into(), "link".into());
        }
        let old = lstat.info.as_ref().and_then(|i| i.link_target.clone());
        let changed = match (prev, &src) {
            ("link", Some(src)) if old.as_deref() != Some(src.as_str()) => {
                before.insert("src".into(), old.unwrap_or_default().into());
                after.insert("src".into(), src.as_str().into());
                true
            }
            ("link", _) => false,
            (_, None) => {
                return Ok(ModuleResult::failed(
                    "src is required for creating new symlinks",
                ))
            }
            _ => true,
        };
        let mut cmds = Vec::new();
        if let (true, Some(src)) = (changed, &src) {
            let qpath = quote_path(path);
            if prev == "directory" {
                cmds.push(format!("rmdir -- {qpath}"));
            }
            cmds.push(format!("ln -sfn -- {} {qpath}", shell_quote(src)));
        }
        let src_value = src.clone().map(Value::from).unwrap_or(Value::Null);
        // The link's target after the change: the source probed for it, or the current one.
        let target = if changed { src_stat } else { followed };
        if ctx.check_mode && !followed.exists() {
            let r = ModuleResult::changed(true)
                .with("dest", path)
                .with("src", src_value);
            return Ok(self.finish(ctx, r, before, after));
        }
        let mut warnings = Vec::new();
        let (plan, attr_path, no_deref) = if self.p.follow {
            match &target.info {
                Some(info) => {
                    let at = src
                        .as_deref()
                        .map(|s| self.link_src_path(s))
                        .unwrap_or_else(|| path.to_string());
                    (self.attrs.plan(info).map_err(bad)?, at, false)
                }
                None => {
                    if !self.attrs.is_empty() || self.mtime.is_some() || self.atime.is_some() {
                        warnings.push(DANGLING_WARNING);
                    }
                    (AttrPlan::default(), path.to_string(), true)
                }
            }
        } else {
            // The link itself: its owner (links have no mode of their own on Linux).
            let plan = match (&lstat.info, changed) {
                (Some(info), false) => self.attrs.plan(info).map_err(bad)?,
                _ => self.attrs.plan_new(false, 0o022).map_err(bad)?,
            };
            (AttrPlan { mode: None, ..plan }, path.to_string(), true)
        };
        plan.add_to_diff(&mut before, &mut after);
        if !plan.is_empty() {
            cmds.push(plan.commands(&quote_path(&attr_path), no_deref));
        }
        self.finish_link(ctx, cmds, "link", src_value, lstat, before, after, warnings)
            .await
    }

    /// `state: hard`.
    pub(super) async fn hardlink(
        &self,
        ctx: &ModuleContext<'_>,
        lstat: &PathStat,
        src_stat: &PathStat,
        prev: &str,
    ) -> Result<ModuleResult, ModuleError> {
        let path = self.p.path.as_str();
        let Some(src) = self.p.src.clone() else {
            if prev != "hard" {
                return Ok(ModuleResult::failed(
                    "src is required for creating new hardlinks",
                ));
            }
            // An existing hard link without `src`: only its attributes.
            return self.hardlink_attrs(ctx, lstat).await;
        };
        let Some(src_info) = &src_stat.info else {
            return Ok(failed_with_src("src does not exist".into(), path, &src));
        };
        let same_inode = lstat
            .info
            .as_ref()
            .is_some_and(|i| i.inode == src_info.inode && i.dev == src_info.dev);
        let (mut before, mut after) = self.diff_maps("path");
        if prev != "hard" {
            before.insert("state".into(), prev.into());
            after.insert("state".into(), "hard".into());
        }
        let changed = match prev {
            "absent" => true,
            "link" => {
                let old = lstat.info.as_ref().and_then(|i| i.link_target.clone());
                if old.as_deref() != Some(src.as_str()) {
                    before.insert("src".into(), old.unwrap_or_default().into());
                    after.insert("src".into(), src.as_str().into());
                    true
                } else {
                    false
                }
            }
            "hard" if same_inode => false,
            "hard" if !self.p.force => {
                return Ok(failed_with_src(
                    "Cannot link, different hard link exists at destination".into(),
                    path,
                    &src,
                ))
            }
            "file" if !self.p.force => {
                return Ok(failed_with_src(
                    "Cannot link, file exists at destination".into(),
                    path,
                    &src,
                ))
            }
            "directory" if same_inode => {
                return Ok(ModuleResult::ok().with("path", path));
            }
            "directory" if !self.p.force => {
                return Ok(failed_with_src(
                    "Cannot link: different hard link exists at destination".into(),
                    path,
                    &src,
                ))
            }
            "directory" => {
                return Ok(ModuleResult::failed(format!(
                    "Error while replacing: [Errno 21] Is a directory: b'{path}'"
                ))
                .with("path", path))
            }
            _ => true,
        };
        let mut cmds = Vec::new();
        if changed {
            // Python's os.link follows a symbolic link given as the source.
            cmds.push(format!(
                "ln -fL -- {} {}",
                quote_path(&src),
                quote_path(path)
            ));
        }
        if ctx.check_mode && changed && prev == "absent" {
            let r = ModuleResult::changed(true)
                .with("dest", path)
                .with("src", src.as_str());
            return Ok(self.finish(ctx, r, before, after));
        }
        // The attributes are the (shared) inode's: the source's, once linked.
        let plan = self.attrs.plan(src_info).map_err(bad)?;
        plan.add_to_diff(&mut before, &mut after);
        if !plan.is_empty() {
            cmds.push(plan.commands(&quote_path(path), false));
        }
        self.finish_link(
            ctx,
            cmds,
            "hard",
            src.into(),
            lstat,
            before,
            after,
            Vec::new(),
        )
        .await
    }

    /// An existing hard link given without `src`: its attributes only.
    async fn hardlink_attrs(
        &self,
        ctx: &ModuleContext<'_>,
        lstat: &PathStat,
    ) -> Result<ModuleResult, ModuleError> {
        let mut cmds = Vec::new();
        let (mut before, mut after) = self.diff_maps("path");
        if let Some(info) = &lstat.info {
            let plan = self.attrs.plan(info).map_err(bad)?;
            plan.add_to_diff(&mut before, &mut after);
            if !plan.is_empty() {
                cmds.push(plan.commands(&quote_path(&self.p.path), false));
            }
        }
        self.finish_link(
            ctx,
            cmds,
            "hard",
            Value::Null,
            lstat,
            before,
            after,
            Vec::new(),
        )
        .await
    }

    /// Runs the link's commands (none: unchanged; check mode: reported only), then reports
    /// `dest`, `src` and the path's attributes as ansible-core does.
    #[allow(clippy::too_many_arguments)]
    async fn finish_link(
        &self,
        ctx: &ModuleContext<'_>,
        mut cmds: Vec<String>,
        state: &str,
        src: Value,
        lstat: &PathStat,
        before: Map<String, Value>,
        after: Map<String, Value>,
        warnings: Vec<&str>,
    ) -> Result<ModuleResult, ModuleError> {
        let path = self.p.path.as_str();
        if let Some(t) = self.touch_command(&quote_path(path), lstat.info.as_ref()) {
            cmds.push(t);
        }
        let mut r = ModuleResult::changed(!cmds.is_empty())
            .with("dest", path)
            .with("src", src);
        let info = if cmds.is_empty() || ctx.check_mode {
            lstat.info.clone()
        } else {
            match self.run_and_restat(ctx, &cmds.join(" && "), true).await? {
                Ok(i) => Some(i),
                Err(fail) => return Ok(fail),
            }
        };
        if let Some(info) = &info {
            add_file_attrs(&mut r, info);
            let shown = match info.file_type {
                FileType::File if info.nlink > 1 => "hard",
                t => t.state_name(),
            };
            r.data.insert("state".into(), shown.into());
        } else {
            r.data.insert("state".into(), state.into());
        }
        if !warnings.is_empty() {
            r = r.with("warnings", warnings);
        }
        Ok(self.finish(ctx, r, before, after))
    }

    /// True when the directory at the path has no entries.
    async fn dir_is_empty(&self, ctx: &ModuleContext<'_>) -> Result<bool, ModuleError> {
        let out = ctx
            .conn
            .run(format!("ls -A -- {}", quote_path(&self.p.path)))
            .await?;
        Ok(out.rc == 0 && out.stdout_str().trim().is_empty())
    }

    /// Where a symlink's relative `src` is resolved: next to `path`.
    pub(super) fn link_src_path(&self, src: &str) -> String {
        if src.starts_with('/') || src.starts_with('~') {
            src.to_string()
        } else {
            join_path(&parent_dir(&self.p.path), src)
        }
    }
}

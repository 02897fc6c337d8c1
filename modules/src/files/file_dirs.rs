//! `file`'s `state: absent` and `state: directory` (the rest of the module is in `file.rs`).

use drover_core::connection::shell_quote;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult};
use serde_json::{json, Value};

use super::add_file_attrs;
use super::file::{bad, FileTask};
use crate::remote::mode::Mode;
use crate::remote::probe::{FileType, PathStat};
use crate::remote::{parent_dir, quote_path};

impl FileTask {
    pub(super) async fn absent(
        &self,
        ctx: &ModuleContext<'_>,
        lstat: &PathStat,
        prev: &str,
    ) -> Result<ModuleResult, ModuleError> {
        let path = &self.p.path;
        let mut r = ModuleResult::ok()
            .with("path", path.as_str())
            .with("state", "absent");
        if !lstat.exists() {
            return Ok(r);
        }
        r.changed = true;
        // What a directory held, for the diff (listed before it goes).
        let listing = match (prev, ctx.diff) {
            ("directory", true) => Some(self.path_content(ctx).await?),
            _ => None,
        };
        if !ctx.check_mode {
            let out = ctx
                .conn
                .run_script(format!("rm -rf -- {}", quote_path(path)))
                .await?;
            if out.rc != 0 {
                return Ok(ModuleResult::failed(format!(
                    "rmtree failed: {}",
                    out.stderr_str().trim()
                ))
                .with("path", path.as_str()));
            }
        }
        let (mut before, mut after) = self.diff_maps("path");
        before.insert("state".into(), prev.into());
        after.insert("state".into(), "absent".into());
        if let (Some(content), true) = (listing, ctx.diff) {
            before.insert("path_content".into(), content);
        }
        Ok(self.finish(ctx, r, before, after))
    }

    /// ansible-core's `path_content` of a directory about to be removed: every directory
    /// (symlinks to directories included, not entered) and every other entry below it, with
    /// paths as `os.walk` joins them.
    async fn path_content(&self, ctx: &ModuleContext<'_>) -> Result<Value, ModuleError> {
        let out = ctx
            .conn
            .run(format!(
                "find {} -mindepth 1 -printf '%Y %p\\n'",
                quote_path(&self.p.path)
            ))
            .await?;
        let (mut dirs, mut files) = (Vec::new(), Vec::new());
        for line in out.stdout_str().lines() {
            match line.split_once(' ') {
                Some(("d", p)) => dirs.push(p.to_string()),
                Some((_, p)) => files.push(p.to_string()),
                None => {}
            }
        }
        Ok(json!({"directories": dirs, "files": files}))
    }

    pub(super) async fn directory(
        &self,
        ctx: &ModuleContext<'_>,
        lstat: &PathStat,
        followed: &PathStat,
        prev: &str,
    ) -> Result<ModuleResult, ModuleError> {
        let path = &self.p.path;
        let (target, no_deref) = self.target(lstat, followed);
        match &target.info {
            Some(info) if info.file_type == FileType::Directory => {
                let plan = self.attrs.plan(info).map_err(bad)?;
                let recursive = if self.p.recurse {
                    self.recursive_changes(ctx).await?
                } else {
                    None
                };
                let times = self.touch_command(&quote_path(path), Some(info));
                self.apply_attrs(
                    ctx,
                    "path",
                    info,
                    &plan,
                    no_deref,
                    recursive,
                    times,
                    "directory",
                )
                .await
            }
            Some(info) => {
                let mut r = ModuleResult::failed(format!("{path} already exists as a {prev}"))
                    .with("path", path.as_str());
                add_file_attrs(&mut r, info);
                Ok(r)
            }
            None => self.create_directory(ctx, prev).await,
        }
    }

    /// Creates the directory and any missing parents, giving each created one the attributes.
    pub(super) async fn create_directory(
        &self,
        ctx: &ModuleContext<'_>,
        prev: &str,
    ) -> Result<ModuleResult, ModuleError> {
        let path = &self.p.path;
        let plan = self.attrs.plan_new(true, 0o022).map_err(bad)?;
        let (mut before, mut after) = self.diff_maps("path");
        before.insert("state".into(), prev.into());
        after.insert("state".into(), "directory".into());
        if let Some((b, a)) = plan.mode {
            before.insert("mode".into(), crate::remote::mode::format_mode(b).into());
            after.insert("mode".into(), crate::remote::mode::format_mode(a).into());
        }
        let mut r = ModuleResult::changed(true).with("path", path.as_str());
        if ctx.check_mode {
            r.data.insert("state".into(), "directory".into());
            return Ok(self.finish(ctx, r, before, after));
        }
        // Every missing ancestor is created in turn and given the attributes, as Ansible does.
        let mut ancestors = Vec::new();
        let mut cur = path.trim_end_matches('/').to_string();
        while !cur.is_empty() && cur != "/" && cur != "." && cur != "~" {
            ancestors.push(cur.clone());
            let parent = parent_dir(&cur);
            if parent == cur {
                break;
            }
            cur = parent;
        }
        ancestors.reverse();
        let attr_cmd = {
            let mut parts = Vec::new();
            if let Some(o) = &self.attrs.owner {
                let spec = match &self.attrs.group {
                    Some(g) => format!("{o}:{g}"),
                    None => o.clone(),
                };
                parts.push(format!("chown {} -- \"$d\"", shell_quote(&spec)));
            } else if let Some(g) = &self.attrs.group {
                parts.push(format!("chgrp {} -- \"$d\"", shell_quote(g)));
            }
            if let Some(mode) = self.attrs.mode.as_ref().and_then(Mode::chmod_arg) {
                parts.push(format!("chmod {} -- \"$d\"", shell_quote(&mode)));
            }
            parts
        };
        let mut script = String::new();
        // Another process (the same task for another host delegated to this machine) may create
        // a missing ancestor between the test and the mkdir: that is success, as in Ansible's
        // file module (EEXIST is ignored); a second mkdir gives the real error otherwise.
        for dir in &ancestors {
            script.push_str(&format!(
                "d={}; if [ ! -d \"$d\" ]; then {{ mkdir -- \"$d\" 2>/dev/null || [ -d \"$d\" ] || mkdir -- \"$d\"; }}{} || exit $?; fi\n",
                quote_path(dir),
                attr_cmd
                    .iter()
                    .map(|c| format!(" && {c}"))
                    .collect::<String>()
            ));
        }
        let info = match self.run_and_restat(ctx, &script, false).await? {
            Ok(i) => i,
            Err(fail) => return Ok(fail),
        };
        add_file_attrs(&mut r, &info);
        Ok(self.finish(ctx, r, before, after))
    }
}

//! `file`'s symbolic and hard links, the attribute changes `recurse` makes below a directory and
//! the `_diff_peek` check (the rest of the module is in `file.rs`).

use drover_core::connection::shell_quote;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult};

use super::add_file_attrs;
use super::file::{bad, FileTask};
use crate::remote::mode::Mode;
use crate::remote::probe::{FileType, PathStat, StatInfo};
use crate::remote::quote_path;
use serde_json::Value;

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
            // Symbolic links are skipped, followed (their targets, directories entered) only
            // with `follow`, as ansible-core's walk does.
            if let Some(mode) = self.attrs.mode.as_ref().and_then(Mode::chmod_arg) {
                cmds.push(format!(
                    "find {follow}{qpath} -mindepth 1 ! -type l -exec chmod {} {{}} +",
                    shell_quote(&mode)
                ));
            }
        }
        Ok((!cmds.is_empty()).then(|| cmds.join(" && ")))
    }

    pub(super) async fn touch(
        &self,
        ctx: &ModuleContext<'_>,
        lstat: &PathStat,
        followed: &PathStat,
        prev: &str,
    ) -> Result<ModuleResult, ModuleError> {
        let path = &self.p.path;
        let qpath = quote_path(path);
        let (target, no_deref) = self.target(lstat, followed);
        if let Some(info) = &target.info {
            let plan = self.attrs.plan(info).map_err(bad)?;
            let times = self.touch_command(&qpath, Some(info));
            let mut r = self
                .apply_attrs(ctx, "dest", info, &plan, no_deref, None, times, "file")
                .await?;
            // ansible-core's touch diff always names the state change (`touch` is never the
            // previous state).
            if let Some(Value::Object(d)) = r.data.get_mut("diff") {
                for (side, value) in [("before", prev), ("after", "touch")] {
                    if let Some(Value::Object(m)) = d.get_mut(side) {
                        m.insert("state".into(), value.into());
                    }
                }
            }
            return Ok(r);
        }
        let plan = self.attrs.plan_new(false, 0o022).map_err(bad)?;
        let (mut before, mut after) = self.diff_maps("path");
        before.insert("state".into(), "absent".into());
        after.insert("state".into(), "touch".into());
        let mut r = ModuleResult::changed(true).with("dest", path.as_str());
        if ctx.check_mode {
            // ansible-core stops here: nothing exists to report on.
            return Ok(r);
        }
        let mut cmds = Vec::new();
        if !plan.is_empty() {
            cmds.push(plan.commands(&qpath, false));
        }
        if let Some(t) = self.touch_command(&qpath, None) {
            cmds.push(t);
        }
        // The file just created goes again when its attributes cannot be set, as in
        // ansible-core.
        let cmds = match cmds.is_empty() {
            true => vec![format!("touch -- {qpath}")],
            false => vec![
                format!("touch -- {qpath}",),
                format!(
                    "{{ {} || {{ rc=$?; rm -f -- {qpath}; exit $rc; }}; }}",
                    cmds.join(" && ")
                ),
            ],
        };
        let info = match self.run_and_restat(ctx, &cmds.join(" && "), false).await? {
            Ok(i) => i,
            Err(fail) => return Ok(fail),
        };
        add_file_attrs(&mut r, &info);
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

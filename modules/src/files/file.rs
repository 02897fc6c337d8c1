//! `file`: manages a path's type (file, directory, symlink, hard link, absent) and attributes.

use async_trait::async_trait;
use drover_core::connection::shell_quote;
use drover_core::module::{
    parse_params, Module, ModuleContext, ModuleError, ModuleResult, TypedModule,
};
use serde_json::{Map, Value};

use super::file_diff::{requested_epoch, set_diff};
pub use super::file_params::{FileParams, FileState, FILE_KEYS};
use super::{add_file_attrs, apply_then_probe, path_map, Applied};
use crate::params::check_keys;
use crate::remote::attrs::{AttrPlan, FileAttrs};
use crate::remote::chattr::{apply_attributes, check_selinux};
use crate::remote::mode::Mode;
use crate::remote::probe::{probe, probe_one, FileType, PathStat, ProbeRequest, StatInfo};
use crate::remote::{join_path, parent_dir, quote_path};

const DEFAULT_TIME_FORMAT: &str = "%Y%m%d%H%M.%S";

/// The `file` module.
pub struct File;

#[async_trait]
impl Module for File {
    fn name(&self) -> &'static str {
        "file"
    }

    fn check_args(&self, args: &Map<String, Value>) -> Result<(), String> {
        check_keys("file", args, FILE_KEYS, &[&["path", "dest", "name"]])
    }

    fn planned_probes(&self, args: &Value, _diff: bool) -> Option<Vec<ProbeRequest>> {
        let task = FileTask::new(parse_params(self.name(), args).ok()?).ok()?;
        Some(task.probe_requests())
    }

    async fn run(
        &self,
        ctx: &ModuleContext<'_>,
        args: &Value,
    ) -> Result<ModuleResult, ModuleError> {
        self.run_with(ctx, parse_params(self.name(), args)?).await
    }
}

#[async_trait]
impl TypedModule for File {
    type Params = FileParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        mut p: FileParams,
    ) -> Result<ModuleResult, ModuleError> {
        let selinux = [
            ("seuser", &p.seuser),
            ("serole", &p.serole),
            ("setype", &p.setype),
            ("selevel", &p.selevel),
        ];
        if let Some(failed) = check_selinux(ctx, &selinux).await? {
            return Ok(failed);
        }
        let base = p.original_basename.take().filter(|b| !b.is_empty());
        if let Some(base) = base {
            if !matches!(p.state, Some(FileState::Link | FileState::Absent)) {
                let req = ProbeRequest {
                    follow: true,
                    ..ProbeRequest::new(&p.path)
                };
                if probe_one(ctx.conn, req).await?.is_dir() {
                    p.path = join_path(&p.path, &base);
                }
            }
        }
        if p.diff_peek.is_some() {
            return super::file_ops::diff_peek(ctx, &p.path).await;
        }
        let attributes = p.attributes.take().filter(|a| !a.is_empty());
        let path = p.path.clone();
        let absent = p.state == Some(FileState::Absent);
        let r = FileTask::new(p)?.run(ctx).await?;
        match attributes {
            Some(a) if !r.failed && !absent => apply_attributes(ctx, &path, &a, r).await,
            _ => Ok(r),
        }
    }
}

pub(super) fn bad(message: impl Into<String>) -> ModuleError {
    ModuleError::BadArgs {
        module: "file".into(),
        message: message.into(),
    }
}

/// The state the path is in, in Ansible's terms.
pub(super) fn prev_state(stat: &PathStat) -> &'static str {
    match &stat.info {
        None => "absent",
        Some(i) => match i.file_type {
            FileType::Directory => "directory",
            FileType::Link => "link",
            FileType::File if i.nlink > 1 => "hard",
            _ => "file",
        },
    }
}

/// A timestamp request: `touch` arguments, or none.
fn time_arg(
    value: Option<&str>,
    format: Option<&str>,
    default_now: bool,
) -> Result<Option<String>, ModuleError> {
    match value {
        None if default_now => Ok(Some(String::new())),
        None | Some("preserve") => Ok(None),
        Some("now") => Ok(Some(String::new())),
        Some(ts) => {
            if format.is_some_and(|f| f != DEFAULT_TIME_FORMAT) {
                return Err(bad(format!(
                    "only the default time format {DEFAULT_TIME_FORMAT} is supported"
                )));
            }
            Ok(Some(ts.to_string()))
        }
    }
}

pub(super) struct FileTask {
    pub(super) p: FileParams,
    pub(super) attrs: FileAttrs,
    pub(super) mtime: Option<String>,
    pub(super) atime: Option<String>,
}

impl FileTask {
    pub(super) fn new(p: FileParams) -> Result<Self, ModuleError> {
        let touch = p.state == Some(FileState::Touch);
        let mtime = time_arg(
            p.modification_time.as_deref(),
            p.modification_time_format.as_deref(),
            touch,
        )?;
        let atime = time_arg(
            p.access_time.as_deref(),
            p.access_time_format.as_deref(),
            touch,
        )?;
        let attrs = FileAttrs {
            mode: p.mode.clone(),
            owner: p.owner.clone(),
            group: p.group.clone(),
        };
        if attrs.mode == Some(Mode::Preserve) {
            return Err(bad("mode 'preserve' is only valid for copy and template"));
        }
        Ok(Self {
            p,
            attrs,
            mtime,
            atime,
        })
    }

    /// Where a symlink's relative `src` is resolved: next to `path`.
    pub(super) fn link_src_path(&self, src: &str) -> String {
        if src.starts_with('/') || src.starts_with('~') {
            src.to_string()
        } else {
            join_path(&parent_dir(&self.p.path), src)
        }
    }

    /// What the run probes first: the path itself and followed, and a link's source.
    pub(super) fn probe_requests(&self) -> Vec<ProbeRequest> {
        let path = &self.p.path;
        let mut reqs = vec![
            ProbeRequest::new(path),
            ProbeRequest {
                follow: true,
                ..ProbeRequest::new(path)
            },
        ];
        if let Some(src) = &self.p.src {
            let target = match self.p.state {
                Some(FileState::Hard) => src.clone(),
                _ => self.link_src_path(src),
            };
            reqs.push(ProbeRequest {
                follow: true,
                ..ProbeRequest::new(target)
            });
        }
        reqs
    }

    pub(super) async fn run(self, ctx: &ModuleContext<'_>) -> Result<ModuleResult, ModuleError> {
        let stats = probe(ctx.conn, &self.probe_requests()).await?;
        let lstat = &stats[0];
        let followed = &stats[1];
        let prev = prev_state(lstat);
        let state = match self.p.state {
            Some(s) => s,
            None if prev == "directory" => FileState::Directory,
            None if prev == "link" => FileState::Link,
            None if prev != "absent" => FileState::File,
            None if self.p.recurse => FileState::Directory,
            None => FileState::File,
        };
        if self.p.src.is_some() && !matches!(state, FileState::Link | FileState::Hard) {
            return Err(bad("src option requires state to be 'link' or 'hard'"));
        }
        if self.p.recurse && state != FileState::Directory {
            return Err(bad("recurse option requires state to be 'directory'"));
        }
        match state {
            FileState::Absent => self.absent(ctx, lstat, prev).await,
            FileState::File => self.file(ctx, lstat, followed, prev).await,
            FileState::Directory => self.directory(ctx, lstat, followed, prev).await,
            FileState::Touch => self.touch(ctx, lstat, followed, prev).await,
            FileState::Link | FileState::Hard => {
                // Without `src`, a link's followed target stands for its source.
                let src_stat = stats.get(2).unwrap_or(followed).clone();
                self.link(ctx, state, lstat, &src_stat, prev).await
            }
        }
    }

    pub(super) fn diff_maps(&self, key: &str) -> (Map<String, Value>, Map<String, Value>) {
        (path_map(key, &self.p.path), path_map(key, &self.p.path))
    }

    pub(super) fn finish(
        &self,
        ctx: &ModuleContext<'_>,
        mut r: ModuleResult,
        before: Map<String, Value>,
        after: Map<String, Value>,
    ) -> ModuleResult {
        if ctx.diff {
            set_diff(&mut r, before, after);
        }
        r
    }

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
        Ok(self.finish(ctx, r, before, after))
    }

    /// The object attributes apply to: the link target when following, else the path itself.
    pub(super) fn target<'s>(
        &self,
        lstat: &'s PathStat,
        followed: &'s PathStat,
    ) -> (&'s PathStat, bool) {
        if lstat.file_type() == Some(FileType::Link) && self.p.follow && followed.exists() {
            (followed, false)
        } else {
            (lstat, lstat.file_type() == Some(FileType::Link))
        }
    }

    pub(super) async fn file(
        &self,
        ctx: &ModuleContext<'_>,
        lstat: &PathStat,
        followed: &PathStat,
        prev: &str,
    ) -> Result<ModuleResult, ModuleError> {
        let path = &self.p.path;
        let (target, no_deref) = self.target(lstat, followed);
        let Some(info) = &target.info else {
            return Ok(
                ModuleResult::failed(format!("file ({path}) is absent, cannot continue"))
                    .with("path", path.as_str())
                    .with("state", "absent"),
            );
        };
        if info.file_type == FileType::Directory {
            let mut r = ModuleResult::failed(format!(
                "file ({path}) is {}, cannot continue",
                if prev == "link" { "link" } else { "directory" }
            ))
            .with("path", path.as_str());
            add_file_attrs(&mut r, info);
            return Ok(r);
        }
        let plan = self.attrs.plan(info).map_err(bad)?;
        let times = self.touch_command(&quote_path(path));
        self.apply_attrs(ctx, "path", info, &plan, no_deref, None, times, "file")
            .await
    }

    pub(super) fn touch_command(&self, qpath: &str) -> Option<String> {
        let mut cmds = Vec::new();
        for (flag, value) in [("-m", &self.mtime), ("-a", &self.atime)] {
            match value.as_deref() {
                None => {}
                Some("") => cmds.push(format!("touch {flag} -c -- {qpath}")),
                Some(ts) => cmds.push(format!("touch {flag} -c -t {} -- {qpath}", shell_quote(ts))),
            }
        }
        (!cmds.is_empty()).then(|| cmds.join(" && "))
    }

    /// Applies `plan` (plus `extra` commands) to the existing path and reports the result.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn apply_attrs(
        &self,
        ctx: &ModuleContext<'_>,
        path_key: &str,
        info: &StatInfo,
        plan: &AttrPlan,
        no_deref: bool,
        recursive: Option<String>,
        extra: Option<String>,
        state_label: &str,
    ) -> Result<ModuleResult, ModuleError> {
        let path = &self.p.path;
        let qpath = quote_path(path);
        let mut cmds: Vec<String> = Vec::new();
        if let Some(e) = &extra {
            cmds.push(e.clone());
        }
        if !plan.is_empty() {
            cmds.push(plan.commands(&qpath, no_deref));
        }
        if let Some(rec) = &recursive {
            cmds.push(rec.clone());
        }
        let (mut before, mut after) = self.diff_maps("path");
        plan.add_to_diff(&mut before, &mut after);
        if cmds.is_empty() {
            let mut r = ModuleResult::ok().with(path_key, path.as_str());
            add_file_attrs(&mut r, info);
            if state_label != "file" {
                r.data.insert("state".into(), state_label.into());
            }
            return Ok(self.finish(ctx, r, before, after));
        }
        let mut r = ModuleResult::changed(true).with(path_key, path.as_str());
        let final_info = if ctx.check_mode {
            planned_info(info, plan)
        } else {
            match self
                .run_and_restat(ctx, &cmds.join(" && "), no_deref)
                .await?
            {
                Ok(i) => i,
                Err(fail) => return Ok(fail),
            }
        };
        add_file_attrs(&mut r, &final_info);
        if state_label != "file" {
            r.data.insert("state".into(), state_label.into());
        }
        self.add_time_diff(ctx, info, &final_info, &mut before, &mut after);
        Ok(self.finish(ctx, r, before, after))
    }

    /// The `mtime`/`atime` entries ansible-core's diff gets when a timestamp changes: the old
    /// value and the new one (re-probed, or in check mode the requested time).
    fn add_time_diff(
        &self,
        ctx: &ModuleContext<'_>,
        old: &StatInfo,
        new: &StatInfo,
        before: &mut Map<String, Value>,
        after: &mut Map<String, Value>,
    ) {
        let sides = [
            ("mtime", &self.mtime, old.mtime, new.mtime),
            ("atime", &self.atime, old.atime, new.atime),
        ];
        for (key, requested, was, now) in sides {
            let Some(requested) = requested else { continue };
            let now = if ctx.check_mode {
                match requested_epoch(requested) {
                    Some(t) => t,
                    None => continue,
                }
            } else {
                now
            };
            if now != was {
                before.insert(key.into(), was.into());
                after.insert(key.into(), now.into());
            }
        }
    }

    /// Runs `cmds` then re-probes the path; a failure becomes a failed result.
    pub(super) async fn run_and_restat(
        &self,
        ctx: &ModuleContext<'_>,
        cmds: &str,
        no_follow: bool,
    ) -> Result<Result<StatInfo, ModuleResult>, ModuleError> {
        let req = ProbeRequest {
            follow: self.p.follow && !no_follow,
            ..ProbeRequest::new(&self.p.path)
        };
        match apply_then_probe(ctx.conn, cmds, &[req]).await? {
            Applied::Failed { rc, stderr } => Ok(Err(ModuleResult::failed(if stderr.is_empty() {
                format!("changing {} failed (rc {rc})", self.p.path)
            } else {
                stderr
            })
            .with("path", self.p.path.as_str()))),
            Applied::Done(stats) => match stats.into_iter().next().and_then(|s| s.info) {
                Some(info) => Ok(Ok(info)),
                None => Ok(Err(ModuleResult::failed(format!(
                    "{} does not exist after the change",
                    self.p.path
                )))),
            },
        }
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
                let times = self.touch_command(&quote_path(path));
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
        for dir in &ancestors {
            script.push_str(&format!(
                "d={}; if [ ! -d \"$d\" ]; then mkdir -- \"$d\"{} || exit $?; fi\n",
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
            let times = self.touch_command(&qpath);
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
            r.data.insert("state".into(), "file".into());
            return Ok(self.finish(ctx, r, before, after));
        }
        let mut cmds = vec![format!("touch -- {qpath}")];
        if !plan.is_empty() {
            cmds.push(plan.commands(&qpath, false));
        }
        if let Some(t) = self.touch_command(&qpath) {
            cmds.push(t);
        }
        let info = match self.run_and_restat(ctx, &cmds.join(" && "), false).await? {
            Ok(i) => i,
            Err(fail) => return Ok(fail),
        };
        add_file_attrs(&mut r, &info);
        Ok(self.finish(ctx, r, before, after))
    }
}

/// What the attributes would be after applying `plan` (check mode reporting).
pub(super) fn planned_info(info: &StatInfo, plan: &AttrPlan) -> StatInfo {
    let mut out = info.clone();
    if let Some((_, m)) = plan.mode {
        out.mode = m;
    }
    if let Some((_, o)) = &plan.owner {
        out.owner = o.clone();
    }
    if let Some((_, g)) = &plan.group {
        out.group = g.clone();
    }
    out
}

//! `file`: manages a path's type (file, directory, symlink, hard link, absent) and attributes.

use async_trait::async_trait;
use drover_core::connection::shell_quote;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use serde_json::{Map, Value};

use super::file_diff::{requested_epoch, set_diff};
use super::file_lookup::lookup;
pub use super::file_params::{FileParams, FileState};
use super::{add_file_attrs, apply_then_probe, path_map, Applied};
use crate::remote::attrs::{AttrPlan, AttrRequest};
use crate::remote::chattr::apply_attributes;
use crate::remote::mode::Mode;
use crate::remote::probe::{probe, probe_one, FileType, PathStat, ProbeRequest, StatInfo};
use crate::remote::{base_name, join_path, quote_path};

const DEFAULT_TIME_FORMAT: &str = "%Y%m%d%H%M.%S";

/// `YYYYmmddHHMM.SS` as `date -d` reads it (`YYYY-mm-dd HH:MM:SS`).
fn timestamp_text(ts: &str) -> Option<String> {
    let (date, sec) = ts.split_once('.')?;
    let ok = date.len() == 12
        && sec.len() == 2
        && date.bytes().chain(sec.bytes()).all(|b| b.is_ascii_digit());
    ok.then(|| {
        format!(
            "{}-{}-{} {}:{}:{sec}",
            &date[..4],
            &date[4..6],
            &date[6..8],
            &date[8..10],
            &date[10..12]
        )
    })
}

/// The `file` module.
pub struct File;

#[async_trait]
impl TypedModule for File {
    const NAME: &'static str = "file";
    type Params = FileParams;

    fn probes(&self, args: &Value, _diff: bool) -> Option<Vec<ProbeRequest>> {
        let task = FileTask::new(self.params_from(args).ok()?).ok()?;
        Some(task.probe_requests())
    }

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        mut p: FileParams,
    ) -> Result<ModuleResult, ModuleError> {
        if let Some(failed) = p.attrs.selinux_failure(ctx).await? {
            return Ok(failed);
        }
        // As ansible-core: a directory path (other than for link/absent) means the file named
        // `_original_basename` in it, or the source's name.
        let base = p
            .original_basename
            .take()
            .filter(|b| !b.is_empty())
            .or_else(|| p.src.as_deref().map(base_name).filter(|b| !b.is_empty()));
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
        let attributes = p.attrs.attributes.take().filter(|a| !a.is_empty());
        let path = p.path.clone();
        let absent = p.state == Some(FileState::Absent);
        let lookup = match (ctx.check_mode, absent) {
            (true, false) => {
                Some(lookup(ctx, p.attrs.owner.as_deref(), p.attrs.group.as_deref()).await?)
            }
            _ => None,
        };
        let mut r = FileTask::new(p)?.run(ctx).await?;
        if let Some(found) = lookup.filter(|l| !l.is_empty()) {
            let existed = probe_one(ctx.conn, ProbeRequest::new(&path))
                .await?
                .exists();
            r = found.apply(r, &path, existed);
        }
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
    pub(super) attrs: AttrRequest,
    pub(super) mtime: Option<String>,
    pub(super) atime: Option<String>,
    /// Explicit `modification_time`/`access_time` as seconds since the epoch, read in the
    /// target's time zone (see [`FileTask::resolve_times`]).
    pub(super) epochs: (Option<f64>, Option<f64>),
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
        let attrs = AttrRequest {
            mode: p.attrs.mode.clone(),
            owner: p.attrs.owner.clone(),
            group: p.attrs.group.clone(),
        };
        if attrs.mode == Some(Mode::Preserve) {
            return Err(bad("mode 'preserve' is only valid for copy and template"));
        }
        Ok(Self {
            p,
            attrs,
            mtime,
            atime,
            epochs: (None, None),
        })
    }

    /// Reads explicit timestamps as the target's `touch -t` will (its local time), so that a
    /// time already in place is no change, as in ansible-core.
    async fn resolve_times(&mut self, ctx: &ModuleContext<'_>) -> Result<(), ModuleError> {
        let explicit = |t: &Option<String>| t.clone().filter(|t| !t.is_empty());
        let wanted: Vec<String> = [explicit(&self.mtime), explicit(&self.atime)]
            .into_iter()
            .flatten()
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let script = wanted
            .iter()
            .map(|ts| match timestamp_text(ts) {
                Some(text) => format!("date -d {} +%s || echo x", shell_quote(&text)),
                None => "echo x".into(),
            })
            .collect::<Vec<_>>()
            .join("; ");
        let out = ctx.conn.run(script).await?;
        let stdout = out.stdout_str();
        let mut read = stdout.lines().map(|l| l.trim().parse::<f64>().ok());
        if explicit(&self.mtime).is_some() {
            self.epochs.0 = read.next().flatten();
        }
        if explicit(&self.atime).is_some() {
            self.epochs.1 = read.next().flatten();
        }
        Ok(())
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

    pub(super) async fn run(
        mut self,
        ctx: &ModuleContext<'_>,
    ) -> Result<ModuleResult, ModuleError> {
        self.resolve_times(ctx).await?;
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
        let path = self.p.path.as_str();
        if self.p.recurse && state != FileState::Directory {
            return Ok(
                ModuleResult::failed("recurse option requires state to be 'directory'")
                    .with("path", path),
            );
        }
        if self.p.src.is_some() && !matches!(state, FileState::Link | FileState::Hard) {
            return Ok(
                ModuleResult::failed("src option requires state to be 'link' or 'hard'")
                    .with("path", path),
            );
        }
        match state {
            FileState::Absent => self.absent(ctx, lstat, prev).await,
            FileState::File => self.file(ctx, lstat, followed, prev).await,
            FileState::Directory => self.directory(ctx, lstat, followed, prev).await,
            FileState::Touch => self.touch(ctx, lstat, followed, prev).await,
            FileState::Link => {
                let src_stat = stats.get(2).unwrap_or(followed).clone();
                self.symlink(ctx, lstat, followed, &src_stat, prev).await
            }
            FileState::Hard => {
                let none = PathStat {
                    path: String::new(),
                    info: None,
                };
                let src_stat = stats.get(2).unwrap_or(&none).clone();
                self.hardlink(ctx, lstat, &src_stat, prev).await
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
        let times = self.touch_command(&quote_path(path), Some(info));
        self.apply_attrs(ctx, "path", info, &plan, no_deref, None, times, "file")
            .await
    }

    /// The `touch` commands setting the requested times on `qpath`; a time already in place on
    /// `current` is left alone. Both times "now" are one plain `touch` (which, like Python's
    /// `os.utime(path, None)`, needs only write access, not ownership).
    pub(super) fn touch_command(&self, qpath: &str, current: Option<&StatInfo>) -> Option<String> {
        if self.mtime.as_deref() == Some("") && self.atime.as_deref() == Some("") {
            return Some(format!("touch -c -- {qpath}"));
        }
        let mut cmds = Vec::new();
        let sides = [
            ("-m", &self.mtime, self.epochs.0, current.map(|i| i.mtime)),
            ("-a", &self.atime, self.epochs.1, current.map(|i| i.atime)),
        ];
        for (flag, value, epoch, now) in sides {
            match value.as_deref() {
                None => {}
                Some("") => cmds.push(format!("touch {flag} -c -- {qpath}")),
                Some(_) if epoch.is_some() && epoch == now => {}
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
            ("mtime", &self.mtime, self.epochs.0, old.mtime, new.mtime),
            ("atime", &self.atime, self.epochs.1, old.atime, new.atime),
        ];
        for (key, requested, epoch, was, now) in sides {
            let Some(requested) = requested else { continue };
            let now = if ctx.check_mode {
                match epoch.or_else(|| requested_epoch(requested)) {
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

//! `lxc_container` (community.general's): query → plan → apply over the task's connection.

use async_trait::async_trait;
use drover_core::module::{Diff, ModuleContext, ModuleError, ModuleResult, TypedModule};
use serde_json::{json, Value};

use super::config::{apply_entries, parse_entries, ConfigEntry};
use super::params::{LxcContainerParams, LxcState};
use super::plan::{plan, Plan, Step};
use super::query::{self, QueryExtras, Status};
use super::steps::{self, plain_fstree};

/// The `lxc_container` module.
pub struct LxcContainer;

#[async_trait]
impl TypedModule for LxcContainer {
    const NAME: &'static str = "lxc_container";
    type Params = LxcContainerParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: LxcContainerParams,
    ) -> Result<ModuleResult, ModuleError> {
        match run(ctx, &p).await? {
            Ok(result) => Ok(result),
            Err(msg) => Ok(ModuleResult::failed(msg)),
        }
    }
}

/// A task failure (message) or a connection error.
type Outcome = Result<Result<ModuleResult, String>, ModuleError>;

/// Checks the task's values that the parameters' types cannot.
fn validate(p: &LxcContainerParams) -> Result<(Vec<ConfigEntry>, QueryExtras), String> {
    let name_ok =
        !p.name.is_empty() && !p.name.contains('/') && !p.name.chars().any(char::is_whitespace);
    if !name_ok {
        return Err(format!("invalid container name {:?}", p.name));
    }
    if let Some(c) = &p.clone_name {
        if c.is_empty() || c.contains('/') || c.chars().any(char::is_whitespace) || *c == p.name {
            return Err(format!("invalid clone_name {c:?}"));
        }
    }
    if p.archive && p.archive_path.as_deref().is_none_or(str::is_empty) {
        return Err("archive is True but all of the following are missing: archive_path".into());
    }
    let entries = parse_entries(p.container_config.as_deref().unwrap_or_default())?;
    steps::template_words(p)?;
    let creating = p.state != LxcState::Absent;
    let fstree = if creating { plain_fstree(p)? } else { None };
    let extras = QueryExtras {
        clone_name: p.clone_name.clone(),
        template: (creating && fstree.is_none()).then(|| p.template_or_default().to_string()),
        fstree,
    };
    Ok((entries, extras))
}

async fn query(
    ctx: &ModuleContext<'_>,
    p: &LxcContainerParams,
    extras: &QueryExtras,
    lxcpath: Option<&str>,
) -> Result<Status, ModuleError> {
    let script = query::script(lxcpath.or(p.lxc_path.as_deref()), &p.name, extras);
    let out = ctx.conn.run_script(script).await?;
    Ok(query::parse(&out.stdout_str(), extras))
}

/// Why a missing container cannot be created, if it cannot.
fn cannot_create(p: &LxcContainerParams, st: &Status) -> Option<String> {
    if st.exists || p.state == LxcState::Absent {
        return None;
    }
    if p.clone_name.is_some() && p.template.is_none() {
        return Some(format!(
            "clone source container {} does not exist in {} (give template to create it)",
            p.name, st.lxcpath
        ));
    }
    if st.fstree_readable == Some(false) {
        return Some(format!(
            "template local: rootfs tarball {} is not readable on the host",
            plain_fstree(p).ok().flatten().unwrap_or_default()
        ));
    }
    if st.template_found == Some(false) {
        let t = p.template_or_default();
        return Some(if st.templates.is_empty() {
            format!("unknown LXC template {t:?}: no template script lxc-{t} found")
        } else {
            format!(
                "unknown LXC template {t:?} (installed: {})",
                st.templates.join(", ")
            )
        });
    }
    None
}

/// The config text after `container_config`, when it differs.
fn new_config(st: &Status, entries: &[ConfigEntry]) -> Option<String> {
    if !st.exists || entries.is_empty() {
        return None;
    }
    let text = apply_entries(&st.config, entries);
    (text != st.config).then_some(text)
}

fn archive_name(p: &LxcContainerParams) -> String {
    let (ext, _) = p.archive_compression.extension_and_flag();
    format!(
        "{}/{}.{ext}",
        p.archive_path
            .as_deref()
            .unwrap_or_default()
            .trim_end_matches('/'),
        p.name
    )
}

/// The result: `lxc_container` from `data`, plus `archive`/`cloned` when asked.
fn result(
    changed: bool,
    mut data: Value,
    archive: Option<String>,
    cloned: Option<bool>,
    diff: Option<Diff>,
) -> ModuleResult {
    if let Some(a) = archive {
        data["archive"] = json!(a);
    }
    if let Some(c) = cloned {
        data["cloned"] = json!(c);
    }
    let mut r = ModuleResult::changed(changed).with("lxc_container", data);
    if let Some(d) = diff {
        r = r.with_diff(d);
    }
    r
}

fn config_diff(
    ctx: &ModuleContext<'_>,
    p: &LxcContainerParams,
    st: &Status,
    new: Option<&String>,
) -> Option<Diff> {
    let new = new?;
    ctx.diff.then(|| {
        let header = format!("{}/{}/config", st.lxcpath, p.name);
        Diff {
            before_header: Some(header.clone()),
            after_header: Some(header),
            before: st.config.clone(),
            after: new.clone(),
        }
    })
}

/// The predicted `lxc_container` of a check-mode run.
fn predicted(p: &LxcContainerParams, st: &Status, pl: &Plan) -> Value {
    let mut after = st.clone();
    let same = !pl.restarts && pl.final_state == st.state;
    if !same {
        after.init_pid = -1;
        after.ips.clear();
        after.interfaces.clear();
    }
    after.exists = pl.final_state != "absent";
    after.state = pl.final_state.clone();
    after.data(&p.name)
}

async fn run(ctx: &ModuleContext<'_>, p: &LxcContainerParams) -> Outcome {
    let (entries, extras) = match validate(p) {
        Ok(v) => v,
        Err(msg) => return Ok(Err(msg)),
    };
    let mut st = query(ctx, p, &extras, None).await?;
    if !st.lxc_installed {
        return Ok(Err(
            "the lxc tools (lxc-info, lxc-create, …) are not installed on the host".into(),
        ));
    }
    if st.exists && !st.info_errors.is_empty() {
        return Ok(Err(format!(
            "LXC cannot read container {} in {}: {}",
            p.name,
            st.lxcpath,
            st.info_errors.join("\n")
        )));
    }
    if let Some(msg) = cannot_create(p, &st) {
        return Ok(Err(msg));
    }
    let lxcpath = st.lxcpath.clone();
    // `cloned` is reported whenever clone_name is given, except for an absent container that
    // stays absent (community.general never gets to the clone there).
    let gone = p.state == LxcState::Absent && !st.exists;
    let cloned = (p.clone_name.is_some() && !gone).then_some(false);
    let mut pl = plan(p, &st, new_config(&st, &entries));
    if ctx.check_mode {
        let will_clone = pl.steps.contains(&Step::Clone);
        let archive = pl.steps.contains(&Step::Archive).then(|| archive_name(p));
        let new = new_config(&st, &entries);
        let diff = config_diff(ctx, p, &st, new.as_ref());
        let cloned = cloned.map(|_| will_clone);
        return Ok(Ok(result(
            pl.changed(),
            predicted(p, &st, &pl),
            archive,
            cloned,
            diff,
        )));
    }
    let changed = pl.changed();
    if pl.steps.first() == Some(&Step::Create) {
        // The config to edit exists once the container does: create, read, plan the rest.
        if let Err(msg) = run_step(ctx, p, &lxcpath, &Step::Create, None).await? {
            return Ok(Err(msg));
        }
        st = query(ctx, p, &extras, Some(&lxcpath)).await?;
        pl = plan(p, &st, new_config(&st, &entries));
    }
    let diff = config_diff(ctx, p, &st, new_config(&st, &entries).as_ref());
    let rootfs = st.rootfs_path();
    let mut archive = None;
    let mut did_clone = false;
    for step in &pl.steps {
        match run_step(ctx, p, &lxcpath, step, rootfs.as_deref()).await? {
            Err(msg) => return Ok(Err(msg)),
            Ok(out) => {
                if *step == Step::Archive {
                    archive = out.lines().last().map(str::to_string);
                }
                if *step == Step::Clone {
                    did_clone = true;
                }
            }
        }
    }
    let data = if pl.final_state == "absent" {
        Status::default().data(&p.name)
    } else {
        query(ctx, p, &QueryExtras::default(), Some(&lxcpath))
            .await?
            .data(&p.name)
    };
    Ok(Ok(result(
        changed,
        data,
        archive,
        cloned.map(|_| did_clone),
        diff,
    )))
}

/// Runs one step; `Ok(Err(msg))` is a task failure naming the step.
async fn run_step(
    ctx: &ModuleContext<'_>,
    p: &LxcContainerParams,
    lxcpath: &str,
    step: &Step,
    rootfs: Option<&str>,
) -> Result<Result<String, String>, ModuleError> {
    let (script, what) = match steps::script(step, p, lxcpath, rootfs) {
        Ok(s) => s,
        Err(msg) => return Ok(Err(msg)),
    };
    let out = ctx.conn.run(script).await?;
    if out.success() {
        return Ok(Ok(out.stdout_str()));
    }
    let stderr = out.stderr_str();
    let stdout = out.stdout_str();
    let detail = if stderr.trim().is_empty() {
        stdout
    } else {
        stderr
    };
    let tail: Vec<&str> = detail.trim().lines().rev().take(15).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Ok(Err(format!(
        "{what} failed for container {} (rc={}): {}",
        p.name,
        out.rc,
        tail.join("\n")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use drover_core::module::parse_params;

    fn params(v: Value) -> LxcContainerParams {
        parse_params("lxc_container", &v).unwrap()
    }

    fn running() -> Status {
        Status {
            lxcpath: "/l".into(),
            exists: true,
            state: "running".into(),
            init_pid: 42,
            ips: vec!["192.0.2.1".into()],
            interfaces: vec!["eth0".into(), "lo".into()],
            config: "lxc.start.auto = 0\n".into(),
            ..Status::default()
        }
    }

    #[test]
    fn check_mode_keeps_what_the_plan_does_not_touch() {
        let p = params(json!({"name": "a"}));
        let st = running();
        let pl = plan(&p, &st, None);
        assert_eq!(predicted(&p, &st, &pl)["init_pid"], 42);
        let pl = plan(&p, &st, Some("lxc.start.auto = 1\n".into()));
        let data = predicted(&p, &st, &pl);
        assert_eq!(data["state"], "running");
        assert_eq!(data["init_pid"], -1, "restarted: the PID is not known yet");
        let p = params(json!({"name": "a", "state": "absent"}));
        let pl = plan(&p, &st, None);
        assert_eq!(predicted(&p, &st, &pl)["state"], "absent");
    }

    #[test]
    fn missing_containers_fail_clearly_when_they_cannot_be_created() {
        let absent = Status {
            lxcpath: "/l".into(),
            state: "absent".into(),
            template_found: Some(false),
            templates: vec!["busybox".into(), "debian".into()],
            ..Status::default()
        };
        let p = params(json!({"name": "a", "clone_name": "b"}));
        assert!(cannot_create(&p, &absent)
            .unwrap()
            .contains("clone source container a does not exist in /l"));
        let p = params(json!({"name": "a", "template": "nope"}));
        assert_eq!(
            cannot_create(&p, &absent).unwrap(),
            "unknown LXC template \"nope\" (installed: busybox, debian)"
        );
        let p = params(json!({"name": "a", "state": "absent", "template": "nope"}));
        assert_eq!(cannot_create(&p, &absent), None);
        assert_eq!(
            cannot_create(&params(json!({"name": "a"})), &running()),
            None
        );
    }

    #[test]
    fn validation() {
        assert!(validate(&params(json!({"name": "a/b"}))).is_err());
        assert!(validate(&params(json!({"name": "a", "clone_name": "a"}))).is_err());
        let err = validate(&params(json!({"name": "a", "archive": true}))).unwrap_err();
        assert!(err.contains("archive_path"), "{err}");
        let err = validate(&params(
            json!({"name": "a", "template_options": "--x 'unclosed"}),
        ))
        .unwrap_err();
        assert!(err.starts_with("template_options"), "{err}");
        let (_, extras) = validate(&params(json!({"name": "a", "clone_name": "b"}))).unwrap();
        assert_eq!(extras.clone_name.as_deref(), Some("b"));
        assert_eq!(extras.template.as_deref(), Some("ubuntu"));
        let (_, extras) = validate(&params(json!({"name": "a", "state": "absent"}))).unwrap();
        assert_eq!(extras.template, None);
    }
}

//! The run of `docker_container`: query (one round trip), plan, apply, result.

use drover_core::module::{ModuleContext, ModuleResult};
use serde_json::{json, Map, Value};

use super::compare::{matches, Comparisons, Kind, Mode};
use super::desired;
use super::networks;
use super::ops::{
    apply_networks, create, read_env_file, remove, stop, wait_for_exit, wait_healthy,
};
use super::params::ContainerParams;
use crate::docker::api::{DockerCli, DockerError, ObjectKind};

/// Differences in community.docker's diff shape: `before`/`after` keyed by option name.
#[derive(Default)]
pub(super) struct Tracker {
    pub(super) before: Map<String, Value>,
    pub(super) after: Map<String, Value>,
}

impl Tracker {
    /// Records a difference: the desired value and the current one.
    pub(super) fn add(&mut self, name: &str, after: Value, before: Value) {
        self.before.insert(name.to_string(), before);
        self.after.insert(name.to_string(), after);
    }
}

fn sorted(v: &Value, kind: Kind) -> Value {
    match (v, kind) {
        (Value::Array(a), Kind::Set | Kind::SetDict) => {
            let mut a = a.clone();
            a.sort_by_key(|x| x.to_string());
            Value::Array(a)
        }
        _ => v.clone(),
    }
}

/// The mutable state of one run.
pub(super) struct Run<'a> {
    pub ctx: &'a ModuleContext<'a>,
    pub cli: DockerCli,
    pub p: ContainerParams,
    pub changed: bool,
    pub actions: Vec<Value>,
    pub diff: Tracker,
}

impl Run<'_> {
    /// Runs `docker <args>`, failing the task on an error.
    pub(super) async fn docker(&mut self, args: Vec<String>) -> Result<String, DockerError> {
        self.cli.run_ok(self.ctx.conn, &args).await
    }

    /// Inspects a container (`None` when missing).
    pub(super) async fn inspect(&self, id: &str) -> Result<Option<Value>, DockerError> {
        self.cli
            .inspect(self.ctx.conn, ObjectKind::Container, id)
            .await
    }
}

/// An owned string.
pub(super) fn s(v: &str) -> String {
    v.to_string()
}

/// Runs the module.
pub async fn run(ctx: &ModuleContext<'_>, p: ContainerParams) -> Result<ModuleResult, DockerError> {
    let cli = DockerCli::new(&p.api)?;
    let state = p.state.clone().unwrap_or_else(|| s("started"));
    if !matches!(
        state.as_str(),
        "absent" | "present" | "healthy" | "started" | "stopped"
    ) {
        return Err(DockerError::failed(format!(
            "value of state must be one of: absent, present, healthy, started, stopped, got: {state}"
        )));
    }
    if state == "present" && p.image.is_none() {
        return Err(DockerError::failed(
            "state is present but all of the following are missing: image",
        ));
    }
    let mut run = Run {
        ctx,
        cli,
        p,
        changed: false,
        actions: Vec::new(),
        diff: Tracker::default(),
    };
    let mut status = None;
    let outcome = if state == "absent" {
        absent(&mut run).await
    } else {
        present(&mut run, &state, &mut status).await
    };
    let container = match outcome {
        Ok(container) => container,
        // A step failed after others changed the container: the failure says so.
        Err(DockerError::Failed(msg)) => {
            let mut failed = ModuleResult::failed(msg);
            failed.changed = run.changed && !ctx.check_mode;
            return Ok(failed);
        }
        Err(other) => return Err(other),
    };
    let mut result = ModuleResult::changed(run.changed)
        .with("container", container.unwrap_or_else(|| json!({})));
    if let Some((code, failed_output)) = status {
        result = result.with("status", code);
        if let Some(out) = failed_output {
            result.failed = true;
            result.msg = Some(out);
        }
    }
    if ctx.check_mode || run.p.api.debug {
        result = result.with("actions", Value::Array(run.actions));
    }
    if ctx.diff || run.p.api.debug {
        result = result.with(
            "diff",
            json!({"before": Value::Object(run.diff.before), "after": Value::Object(run.diff.after)}),
        );
    }
    Ok(result)
}

async fn absent(run: &mut Run<'_>) -> Result<Option<Value>, DockerError> {
    let name = run.p.name.clone();
    if let Some(c) = run.inspect(&name).await? {
        let id = c["Id"].as_str().unwrap_or(&name).to_string();
        if c.pointer("/State/Running") == Some(&Value::Bool(true)) {
            run.diff.add("running", json!(false), json!(true));
            stop(run, &id).await?;
        }
        run.diff.add("exists", json!(false), json!(true));
        remove(run, &id).await?;
    }
    Ok(None)
}

/// The image reference with `latest` when it names no tag or digest.
pub(super) fn image_ref(image: &str) -> String {
    let last = image.rsplit('/').next().unwrap_or(image);
    if image.starts_with("sha256:") || last.contains(':') || last.contains('@') {
        image.to_string()
    } else {
        format!("{image}:latest")
    }
}

pub(super) fn pull_mode(p: &ContainerParams) -> Result<&'static str, DockerError> {
    match &p.pull {
        None | Some(Value::Null) => Ok("missing"),
        Some(Value::Bool(true)) => Ok("always"),
        Some(Value::Bool(false)) => Ok("missing"),
        Some(Value::String(s)) => match s.as_str() {
            "missing" => Ok("missing"),
            "always" => Ok("always"),
            "never" => Ok("never"),
            other => match crate::params::parse_bool(&json!(other)) {
                Some(true) => Ok("always"),
                Some(false) => Ok("missing"),
                None => Err(DockerError::failed(format!(
                    "value of pull must be one of: never, missing, always, True, False, got: {other}"
                ))),
            },
        },
        Some(other) => Err(DockerError::failed(format!(
            "value of pull must be one of: never, missing, always, True, False, got: {other}"
        ))),
    }
}

async fn present(
    run: &mut Run<'_>,
    state: &str,
    status: &mut Option<(i64, Option<String>)>,
) -> Result<Option<Value>, DockerError> {
    let comparisons = Comparisons::parse(&run.p)?;
    let pull = pull_mode(&run.p)?;
    let name = run.p.name.clone();
    let wanted = run.p.image.as_deref().map(image_ref);
    // The one round trip of the idempotent path: container and image together.
    let mut objects = vec![(ObjectKind::Container, name.as_str())];
    if let Some(w) = &wanted {
        objects.push((ObjectKind::Image, w.as_str()));
    }
    let mut found = run
        .cli
        .inspect_many(run.ctx.conn, &objects)
        .await?
        .into_iter();
    let mut container = found.next().flatten();
    let mut image = found.next().flatten();
    // A container the Engine is still removing counts as absent; wait until it is gone.
    if let Some(c) = &container {
        if c.pointer("/State/Status").and_then(Value::as_str) == Some("removing") {
            if !run.ctx.check_mode {
                let id = c["Id"].as_str().unwrap_or(&name).to_string();
                super::ops::wait_removed(run, &id).await?;
            }
            container = None;
        }
    }
    if let Some(w) = &wanted {
        if image.is_none() && pull == "never" {
            return Err(DockerError::failed(format!(
                "Cannot find image with name {w}, and pull=never"
            )));
        }
        if image.is_none() || pull == "always" {
            let predicted =
                image.is_none() || run.p.pull_check_mode_behavior.as_deref() == Some("always");
            if run.ctx.check_mode {
                if predicted {
                    run.changed = true;
                    run.actions
                        .push(json!({"pulled_image": w, "changed": image.is_none()}));
                }
            } else {
                let mut args = vec![s("pull")];
                if let Some(pf) = &run.p.platform {
                    args.extend([s("--platform"), pf.clone()]);
                }
                args.push(w.clone());
                let out = run.cli.run_long(run.ctx.conn, &args).await?;
                let fresh = !out.contains("Image is up to date");
                run.changed |= fresh;
                run.actions
                    .push(json!({"pulled_image": w, "changed": fresh}));
                image = run.cli.inspect(run.ctx.conn, ObjectKind::Image, w).await?;
            }
        }
    }
    let env_file = match &run.p.env_file {
        Some(path) => Some(read_env_file(run, path).await?),
        None => None,
    };
    // Image defaults come from the asked image, or from the container's own image.
    let current_image_wanted =
        run.p.image_comparison.as_deref() == Some("current-image") || wanted.is_none();
    let comparison_image = match (&container, current_image_wanted) {
        (Some(c), true) => {
            let id = c["Image"].as_str().unwrap_or_default().to_string();
            run.cli
                .inspect(run.ctx.conn, ObjectKind::Image, &id)
                .await?
        }
        _ => image.clone(),
    };
    let items = desired::build(&run.p, comparison_image.as_ref(), env_file.as_deref())
        .map_err(DockerError::Failed)?;
    let specs = networks::specs(&run.p).map_err(DockerError::Failed)?;
    let mut created = false;
    let was_running = container
        .as_ref()
        .and_then(|c| c.pointer("/State/Running"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let was_paused = container
        .as_ref()
        .and_then(|c| c.pointer("/State/Paused"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    match container.clone() {
        None => {
            let Some(w) = run.p.image.clone() else {
                return Err(DockerError::failed(
                    "Cannot create container when image is not specified!",
                ));
            };
            run.diff.add("exists", json!(true), json!(false));
            container = create(run, &w, &items, &specs).await?;
            created = true;
        }
        Some(c) => {
            let mut recreate_diffs = Tracker::default();
            let mut update_diffs = Tracker::default();
            let mut update_flags: Vec<String> = Vec::new();
            let mut different = false;
            for item in &items {
                let mode = comparisons.mode(item.name, item.kind)?;
                let actual = (item.actual)(&c);
                if matches(&item.expected, &actual, mode, item.kind) {
                    continue;
                }
                let (after, before) = (
                    sorted(&item.expected, item.kind),
                    sorted(&actual, item.kind),
                );
                if item.update.is_some() {
                    update_diffs.add(item.name, after, before);
                } else {
                    different = true;
                    recreate_diffs.add(item.name, after, before);
                }
            }
            let mut image_different = false;
            if comparisons.mode("image", Kind::Value)? == Mode::Strict {
                if let (Some(img), Some(cid)) = (&image, c["Image"].as_str()) {
                    if img["Id"].as_str().is_some_and(|id| id != cid) {
                        image_different = true;
                        recreate_diffs.add("image", img["Id"].clone(), json!(cid));
                    }
                }
                if run.p.image_name_mismatch.as_deref() != Some("ignore") {
                    if let (Some(given), Some(current)) = (
                        &run.p.image,
                        c.pointer("/Config/Image").and_then(Value::as_str),
                    ) {
                        if given != current {
                            different = true;
                            recreate_diffs.add("image_name", json!(given), json!(current));
                        }
                    }
                }
            }
            let id = c["Id"].as_str().unwrap_or(&name).to_string();
            if different || image_different || run.p.recreate {
                merge(&mut run.diff, recreate_diffs);
                merge(&mut run.diff, update_diffs);
                let use_image = run.p.image.clone().or_else(|| c["Image"].as_str().map(str::to_string)).ok_or_else(|| {
                    DockerError::failed("Cannot recreate container when image is not specified or cannot be extracted from current container!")
                })?;
                if was_running {
                    stop(run, &id).await?;
                }
                remove(run, &id).await?;
                // In check mode nothing was created: the rest of the run (and the result) sees
                // the current container, as community.docker's does.
                container = create(run, &use_image, &items, &specs)
                    .await?
                    .or(Some(c.clone()));
                created = true;
            } else if !update_diffs.after.is_empty() {
                // Every limit the task sets goes into the update, as community.docker's
                // (memory and swap limits constrain each other).
                for item in &items {
                    for flag in item.update.iter().flatten() {
                        if !update_flags.contains(flag) {
                            update_flags.push(flag.clone());
                        }
                    }
                }
                merge(&mut run.diff, update_diffs);
                run.changed = true;
                run.actions
                    .push(json!({"updated": id, "update_parameters": update_flags}));
                if !run.ctx.check_mode {
                    let mut args = vec![s("update")];
                    args.extend(update_flags);
                    args.push(id.clone());
                    run.docker(args).await?;
                    container = run.inspect(&id).await?;
                }
            }
        }
    }
    let Some(mut c) = container else {
        // Check mode with a container still to be created: nothing more to inspect.
        return Ok(None);
    };
    let id = c["Id"].as_str().unwrap_or(&name).to_string();
    let net_mode = comparisons.mode("networks", Kind::SetDict)?;
    if !specs.is_empty() || net_mode == Mode::Strict {
        let purge = net_mode == Mode::Strict && run.p.networks.is_some();
        let plan = networks::plan(&specs, &c, net_mode != Mode::Ignore || created, purge);
        if !plan.is_empty() {
            apply_networks(run, &id, plan).await?;
            if !run.ctx.check_mode {
                c = run.inspect(&id).await?.unwrap_or(c);
            }
        }
    }
    let running = c
        .pointer("/State/Running")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut refresh = false;
    if matches!(state, "started" | "healthy") && !running {
        run.diff.add("running", json!(true), json!(was_running));
        run.changed = true;
        run.actions.push(json!({"started": id}));
        if !run.ctx.check_mode {
            run.docker(vec![s("start"), id.clone()]).await?;
            refresh = true;
            if run.p.detach == Some(false) {
                return wait_for_exit(run, &id, status).await;
            }
        }
    } else if matches!(state, "started" | "healthy") && run.p.restart {
        run.diff.add("running", json!(true), json!(was_running));
        run.diff.add("restarted", json!(true), json!(false));
        run.changed = true;
        run.actions
            .push(json!({"restarted": id, "timeout": run.p.stop_timeout}));
        if !run.ctx.check_mode {
            let t = run.p.stop_timeout.unwrap_or(10).to_string();
            run.docker(vec![s("restart"), s("-t"), t, id.clone()])
                .await?;
            refresh = true;
        }
    } else if state == "stopped" && running {
        run.diff.add("running", json!(false), json!(was_running));
        stop(run, &id).await?;
        refresh = true;
    }
    if matches!(state, "started" | "healthy") {
        if let Some(want) = run.p.paused {
            let paused = c
                .pointer("/State/Paused")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            if paused != want {
                run.diff.add("paused", json!(want), json!(was_paused));
                run.changed = true;
                run.actions.push(json!({"set_paused": want}));
                if !run.ctx.check_mode {
                    run.docker(vec![s(if want { "pause" } else { "unpause" }), id.clone()])
                        .await?;
                    refresh = true;
                }
            }
        }
    }
    if refresh && !run.ctx.check_mode {
        c = run.inspect(&id).await?.unwrap_or(c);
    }
    if state == "healthy" && !run.ctx.check_mode {
        c = wait_healthy(run, &id, c).await?;
    }
    Ok(Some(c))
}

fn merge(into: &mut Tracker, from: Tracker) {
    into.before.extend(from.before);
    into.after.extend(from.after);
}

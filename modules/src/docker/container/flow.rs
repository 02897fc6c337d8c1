//! The run of `docker_container`: query (one round trip), plan, apply, result.

use std::time::{Duration, Instant};

use drover_core::module::{ModuleContext, ModuleResult};
use serde_json::{json, Map, Value};

use super::compare::{matches, parse_mode, Kind, Mode};
use super::desired::{self, Item};
use super::networks::{self, NetworkSpec};
use super::params::ContainerParams;
use crate::docker::api::{DockerCli, DockerError, ObjectKind};

/// Every option `comparisons` may name (aliases resolved by [`comparison_key`]).
const COMPARABLE: &[&str] = &[
    "auto_remove", "blkio_weight", "capabilities", "cap_drop", "cgroupns_mode", "cgroup_parent",
    "command", "cpu_period", "cpu_quota", "cpuset_cpus", "cpuset_mems", "cpu_shares",
    "entrypoint", "cpus", "detach", "interactive", "devices", "device_read_bps",
    "device_write_bps", "device_read_iops", "device_write_iops", "device_requests",
    "device_cgroup_rules", "dns_servers", "dns_opts", "dns_search_domains", "domainname", "env",
    "env_file", "etc_hosts", "groups", "healthcheck", "hostname", "image", "init", "ipc_mode",
    "kernel_memory", "labels", "links", "log_driver", "log_options", "mac_address", "memory",
    "memory_reservation", "memory_swap", "memory_swappiness", "stop_timeout", "network_mode",
    "networks", "oom_killer", "oom_score_adj", "pid_mode", "pids_limit", "platform",
    "privileged", "read_only", "restart_policy", "restart_retries", "runtime", "security_opts",
    "shm_size", "stop_signal", "storage_opts", "sysctls", "tmpfs", "tty", "ulimits", "user",
    "userns_mode", "uts", "volume_driver", "volumes_from", "working_dir", "mounts", "volumes",
    "exposed_ports", "publish_all_ports", "published_ports",
];

fn comparison_key(key: &str) -> Option<&'static str> {
    let key = match key {
        "exposed" | "expose" => "exposed_ports",
        "ports" => "published_ports",
        "log_opt" => "log_options",
        other => other,
    };
    COMPARABLE.iter().copied().find(|k| *k == key)
}

/// The comparison modes the task asks for.
struct Comparisons {
    star: Option<Mode>,
    explicit: Vec<(&'static str, Mode)>,
    networks_given: bool,
}

impl Comparisons {
    fn parse(p: &ContainerParams) -> Result<Self, DockerError> {
        let mut c = Comparisons {
            star: None,
            explicit: Vec::new(),
            networks_given: p.networks.is_some(),
        };
        for (key, value) in p.comparisons.iter().flatten() {
            let text = value.as_str().unwrap_or_default();
            let mode = parse_mode(text).ok_or_else(|| {
                DockerError::failed(format!("Unknown comparison mode '{text}'!"))
            })?;
            if key == "*" {
                if mode == Mode::AllowMore {
                    return Err(DockerError::failed(
                        "The wildcard can only be used with comparison modes 'strict' and 'ignore'!",
                    ));
                }
                c.star = Some(mode);
                continue;
            }
            let main = comparison_key(key).ok_or_else(|| {
                DockerError::failed(format!("Unknown module option '{key}' in comparisons dict!"))
            })?;
            if c.explicit.iter().any(|(k, _)| *k == main) {
                return Err(DockerError::failed(format!(
                    "Both '{key}' and an alias of {main} are specified in comparisons dict!"
                )));
            }
            c.explicit.push((main, mode));
        }
        Ok(c)
    }

    fn mode(&self, name: &str, kind: Kind) -> Result<Mode, DockerError> {
        let name = if name == "volume_binds" { "volumes" } else { name };
        if let Some((_, m)) = self.explicit.iter().find(|(k, _)| *k == name) {
            if *m == Mode::AllowMore && kind == Kind::Value {
                return Err(DockerError::failed(format!(
                    "Option '{name}' is a value and not a set/list/dict, so its comparison cannot be allow_more_present"
                )));
            }
            return Ok(*m);
        }
        if let Some(star) = self.star {
            if name != "networks" || self.networks_given {
                return Ok(star);
            }
        }
        Ok(match name {
            "stop_timeout" => Mode::Ignore,
            "networks" => Mode::AllowMore,
            _ => kind.default_mode(),
        })
    }
}

/// Differences in community.docker's diff shape: `before`/`after` keyed by option name.
#[derive(Default)]
pub(super) struct Tracker {
    before: Map<String, Value>,
    after: Map<String, Value>,
}

impl Tracker {
    fn add(&mut self, name: &str, after: Value, before: Value) {
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
    async fn docker(&mut self, args: Vec<String>) -> Result<String, DockerError> {
        self.cli.run_ok(self.ctx.conn, &args).await
    }

    async fn inspect(&self, id: &str) -> Result<Option<Value>, DockerError> {
        self.cli.inspect(self.ctx.conn, ObjectKind::Container, id).await
    }
}

fn s(v: &str) -> String {
    v.to_string()
}

/// Runs the module.
pub async fn run(ctx: &ModuleContext<'_>, p: ContainerParams) -> Result<ModuleResult, DockerError> {
    let cli = DockerCli::new(&p.api)?;
    let state = p.state.clone().unwrap_or_else(|| s("started"));
    if !matches!(state.as_str(), "absent" | "present" | "healthy" | "started" | "stopped") {
        return Err(DockerError::failed(format!(
            "value of state must be one of: absent, present, healthy, started, stopped, got: {state}"
        )));
    }
    if state == "present" && p.image.is_none() {
        return Err(DockerError::failed("state is present but all of the following are missing: image"));
    }
    let mut run = Run { ctx, cli, p, changed: false, actions: Vec::new(), diff: Tracker::default() };
    let mut status = None;
    let container = if state == "absent" {
        absent(&mut run).await?
    } else {
        present(&mut run, &state, &mut status).await?
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
fn image_ref(image: &str) -> String {
    let last = image.rsplit('/').next().unwrap_or(image);
    if image.starts_with("sha256:") || last.contains(':') || last.contains('@') {
        image.to_string()
    } else {
        format!("{image}:latest")
    }
}

fn pull_mode(p: &ContainerParams) -> Result<&'static str, DockerError> {
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
    let mut found = run.cli.inspect_many(run.ctx.conn, &objects).await?.into_iter();
    let mut container = found.next().flatten();
    let mut image = found.next().flatten();
    if let Some(w) = &wanted {
        if image.is_none() && pull == "never" {
            return Err(DockerError::failed(format!("Cannot find image with name {w}, and pull=never")));
        }
        if image.is_none() || pull == "always" {
            let predicted = image.is_none()
                || run.p.pull_check_mode_behavior.as_deref() == Some("always");
            if run.ctx.check_mode {
                if predicted {
                    run.changed = true;
                    run.actions.push(json!({"pulled_image": w, "changed": image.is_none()}));
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
                run.actions.push(json!({"pulled_image": w, "changed": fresh}));
                image = run.cli.inspect(run.ctx.conn, ObjectKind::Image, w).await?;
            }
        }
    }
    let env_file = match &run.p.env_file {
        Some(path) => Some(read_env_file(run, path).await?),
        None => None,
    };
    // Image defaults come from the asked image, or from the container's own image.
    let current_image_wanted = run.p.image_comparison.as_deref() == Some("current-image") || wanted.is_none();
    let comparison_image = match (&container, current_image_wanted) {
        (Some(c), true) => {
            let id = c["Image"].as_str().unwrap_or_default().to_string();
            run.cli.inspect(run.ctx.conn, ObjectKind::Image, &id).await?
        }
        _ => image.clone(),
    };
    let items = desired::build(&run.p, comparison_image.as_ref(), env_file.as_deref())
        .map_err(DockerError::Failed)?;
    let specs = networks::specs(&run.p).map_err(DockerError::Failed)?;
    let mut created = false;
    let was_running = container.as_ref().and_then(|c| c.pointer("/State/Running")).and_then(Value::as_bool).unwrap_or(false);
    let was_paused = container.as_ref().and_then(|c| c.pointer("/State/Paused")).and_then(Value::as_bool).unwrap_or(false);
    match container.clone() {
        None => {
            let Some(w) = wanted.clone() else {
                return Err(DockerError::failed("Cannot create container when image is not specified!"));
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
                let (after, before) = (sorted(&item.expected, item.kind), sorted(&actual, item.kind));
                if let Some(flags) = &item.update {
                    update_diffs.add(item.name, after, before);
                    update_flags.extend(flags.iter().cloned());
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
                    if let (Some(given), Some(current)) = (&run.p.image, c.pointer("/Config/Image").and_then(Value::as_str)) {
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
                let use_image = wanted.clone().or_else(|| c["Image"].as_str().map(str::to_string)).ok_or_else(|| {
                    DockerError::failed("Cannot recreate container when image is not specified or cannot be extracted from current container!")
                })?;
                if was_running {
                    stop(run, &id).await?;
                }
                remove(run, &id).await?;
                container = create(run, &use_image, &items, &specs).await?;
                created = true;
            } else if !update_flags.is_empty() {
                merge(&mut run.diff, update_diffs);
                run.changed = true;
                run.actions.push(json!({"updated": id, "update_parameters": update_flags}));
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
    let running = c.pointer("/State/Running").and_then(Value::as_bool).unwrap_or(false);
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
        run.actions.push(json!({"restarted": id, "timeout": run.p.stop_timeout}));
        if !run.ctx.check_mode {
            let t = run.p.stop_timeout.unwrap_or(10).to_string();
            run.docker(vec![s("restart"), s("-t"), t, id.clone()]).await?;
            refresh = true;
        }
    } else if state == "stopped" && running {
        run.diff.add("running", json!(false), json!(was_running));
        stop(run, &id).await?;
        refresh = true;
    }
    if matches!(state, "started" | "healthy") {
        if let Some(want) = run.p.paused {
            let paused = c.pointer("/State/Paused").and_then(Value::as_bool).unwrap_or(false);
            if paused != want {
                run.diff.add("paused", json!(want), json!(was_paused));
                run.changed = true;
                run.actions.push(json!({"set_paused": want}));
                if !run.ctx.check_mode {
                    run.docker(vec![s(if want { "pause" } else { "unpause" }), id.clone()]).await?;
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

async fn read_env_file(run: &Run<'_>, path: &str) -> Result<String, DockerError> {
    let out = run
        .ctx
        .conn
        .run(format!("cat -- {}", drover_core::connection::shell_quote(path)))
        .await?;
    if !out.success() {
        return Err(DockerError::failed(format!(
            "Cannot read env_file {path}: {}",
            out.stderr_str().trim()
        )));
    }
    Ok(out.stdout_str())
}

async fn stop(run: &mut Run<'_>, id: &str) -> Result<(), DockerError> {
    run.changed = true;
    if run.p.force_kill {
        run.actions.push(json!({"killed": id, "signal": run.p.kill_signal}));
        if !run.ctx.check_mode {
            let mut args = vec![s("kill")];
            if let Some(sig) = &run.p.kill_signal {
                args.extend([s("--signal"), sig.clone()]);
            }
            args.push(id.to_string());
            run.docker(args).await?;
        }
        return Ok(());
    }
    run.actions.push(json!({"stopped": id, "timeout": run.p.stop_timeout}));
    if !run.ctx.check_mode {
        let mut args = vec![s("stop")];
        if let Some(t) = run.p.stop_timeout {
            args.extend([s("-t"), t.to_string()]);
        }
        args.push(id.to_string());
        run.docker(args).await?;
    }
    Ok(())
}

async fn remove(run: &mut Run<'_>, id: &str) -> Result<(), DockerError> {
    run.changed = true;
    run.actions.push(json!({"removed": id, "volume_state": !run.p.keep_volumes}));
    if !run.ctx.check_mode {
        let mut args = vec![s("rm"), s("-f")];
        if !run.p.keep_volumes {
            args.push(s("-v"));
        }
        args.push(id.to_string());
        let out = run.cli.run(run.ctx.conn, &args).await?;
        let err = out.stderr_str();
        // An auto-removed container may already be gone (or going).
        if !out.success() && !err.contains("No such container") && !err.contains("already in progress") {
            return Err(DockerError::failed(format!("Error removing container {id}: {}", err.trim())));
        }
    }
    Ok(())
}

async fn create(
    run: &mut Run<'_>,
    image: &str,
    items: &[Item],
    specs: &[NetworkSpec],
) -> Result<Option<Value>, DockerError> {
    let mut args = vec![s("create"), s("--name"), run.p.name.clone()];
    for item in items {
        args.extend(item.flags.iter().cloned());
    }
    let mode = desired::network_mode(&run.p).map_err(DockerError::Failed)?;
    if let Some(m) = &mode {
        args.extend([s("--network"), m.clone()]);
        if let Some(first) = specs.first().filter(|f| &f.name == m) {
            args.extend(first.create_flags());
        }
    }
    let cmd = desired::command(&run.p).map_err(DockerError::Failed)?.unwrap_or_default();
    args.push(s("--"));
    args.push(image.to_string());
    args.extend(cmd);
    run.changed = true;
    run.actions.push(json!({"created": "Created container", "create_parameters": args[1..]}));
    if run.ctx.check_mode {
        return Ok(None);
    }
    let out = run.cli.run(run.ctx.conn, &args).await?;
    if !out.success() {
        let msg = out.stderr_str();
        let msg = msg.trim().trim_start_matches("Error response from daemon: ");
        return Err(DockerError::failed(format!("Error creating container: {msg}")));
    }
    let id = out.stdout_str().trim().lines().last().unwrap_or_default().to_string();
    run.inspect(&id).await
}

async fn apply_networks(run: &mut Run<'_>, id: &str, plan: networks::NetworkPlan) -> Result<(), DockerError> {
    run.changed = true;
    for (spec, current) in plan.connect {
        run.diff.add(&format!("network.{}", spec.name), spec.to_value(), current.clone().unwrap_or(Value::Null));
        if current.is_some() {
            run.actions.push(json!({"removed_from_network": spec.name}));
            if !run.ctx.check_mode {
                run.docker(vec![s("network"), s("disconnect"), spec.name.clone(), id.to_string()]).await?;
            }
        }
        run.actions.push(json!({"added_to_network": spec.name, "network_parameters": spec.to_value()}));
        if !run.ctx.check_mode {
            let mut args = vec![s("network"), s("connect")];
            args.extend(spec.connect_flags());
            args.extend([spec.name.clone(), id.to_string()]);
            run.docker(args).await?;
        }
    }
    for (name, current) in plan.disconnect {
        run.diff.add(&format!("network.{name}"), Value::Null, current);
        run.actions.push(json!({"removed_from_network": name}));
        if !run.ctx.check_mode {
            run.docker(vec![s("network"), s("disconnect"), name, id.to_string()]).await?;
        }
    }
    Ok(())
}

/// `detach: false`: waits for the command to end; its exit code is `status`, its output
/// `container.Output` (and the failure message when the code is not 0).
async fn wait_for_exit(
    run: &mut Run<'_>,
    id: &str,
    status: &mut Option<(i64, Option<String>)>,
) -> Result<Option<Value>, DockerError> {
    let code_text = run.cli.run_long(run.ctx.conn, &[s("wait"), id.to_string()]).await?;
    let code: i64 = code_text.trim().parse().unwrap_or(-1);
    let output = if run.p.auto_remove == Some(true) {
        s("Cannot retrieve result as auto_remove is enabled")
    } else {
        let out = run.cli.run(run.ctx.conn, &[s("logs"), id.to_string()]).await?;
        format!("{}{}", out.stdout_str(), out.stderr_str())
    };
    if run.p.cleanup {
        remove(run, id).await?;
    }
    let mut c = run.inspect(id).await?.unwrap_or_else(|| json!({}));
    if let Value::Object(m) = &mut c {
        m.insert("Output".into(), json!(output));
    }
    *status = Some((code, (code != 0).then_some(output)));
    Ok(Some(c))
}

async fn wait_healthy(run: &mut Run<'_>, id: &str, mut c: Value) -> Result<Value, DockerError> {
    let limit = run.p.healthy_wait_timeout.unwrap_or(300.0);
    let start = Instant::now();
    let mut delay = 1.0f64;
    loop {
        let health = c.pointer("/State/Health/Status").and_then(Value::as_str);
        match health {
            None | Some("healthy") => return Ok(c),
            Some("starting" | "unhealthy") => {}
            Some(other) => {
                return Err(DockerError::failed(format!(
                    "Encontered unexpected state \"{other}\" while waiting for container \"{id}\""
                )))
            }
        }
        let waited = start.elapsed().as_secs_f64();
        if limit > 0.0 && waited >= limit {
            return Err(DockerError::failed(format!(
                "Timeout of {limit} seconds exceeded while waiting for container \"{id}\""
            )));
        }
        let step = if limit > 0.0 { delay.min(limit - waited) } else { delay };
        tokio::time::sleep(Duration::from_secs_f64(step.max(0.05))).await;
        delay = (delay * 1.1).min(10.0);
        c = run.inspect(id).await?.ok_or_else(|| {
            DockerError::failed(format!("Encontered vanished container while waiting for container \"{id}\""))
        })?;
    }
}

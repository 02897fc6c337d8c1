//! The actions of a run: stop, remove, create, network (dis)connections, waiting for the
//! command to end or for the health check.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::desired::Item;
use super::flow::{s, Run};
use super::groups;
use super::networks::{self, NetworkSpec};
use crate::docker::api::DockerError;

pub(super) async fn read_env_file(run: &Run<'_>, path: &str) -> Result<String, DockerError> {
    let out = run
        .ctx
        .conn
        .run(format!(
            "cat -- {}",
            drover_core::connection::shell_quote(path)
        ))
        .await?;
    if !out.success() {
        return Err(DockerError::failed(format!(
            "Cannot read env_file {path}: {}",
            out.stderr_str().trim()
        )));
    }
    Ok(out.stdout_str())
}

pub(super) async fn stop(run: &mut Run<'_>, id: &str) -> Result<(), DockerError> {
    run.changed = true;
    if run.p.force_kill {
        run.actions
            .push(json!({"killed": id, "signal": run.p.kill_signal}));
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
    run.actions
        .push(json!({"stopped": id, "timeout": run.p.stop_timeout}));
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

pub(super) async fn remove(run: &mut Run<'_>, id: &str) -> Result<(), DockerError> {
    run.changed = true;
    run.actions
        .push(json!({"removed": id, "volume_state": !run.p.keep_volumes}));
    if !run.ctx.check_mode {
        let mut args = vec![s("rm"), s("-f")];
        if !run.p.keep_volumes {
            args.push(s("-v"));
        }
        args.push(id.to_string());
        let out = run.cli.run(run.ctx.conn, &args).await?;
        let err = out.stderr_str();
        // An auto-removed container may already be gone (or going).
        if !out.success()
            && !err.contains("No such container")
            && !err.contains("already in progress")
        {
            return Err(DockerError::failed(format!(
                "Error removing container {id}: {}",
                err.trim()
            )));
        }
    }
    Ok(())
}

pub(super) async fn create(
    run: &mut Run<'_>,
    image: &str,
    items: &[Item],
    specs: &[NetworkSpec],
) -> Result<Option<Value>, DockerError> {
    let mut args = vec![s("create"), s("--name"), run.p.name.clone()];
    for item in items {
        args.extend(item.flags.iter().cloned());
    }
    if run.p.restart_policy.is_none() {
        // The Engine's default (no policy, `Name: ""`), as a container created through the API
        // gets; the CLI's own default would be `no`.
        args.push(s("--restart="));
    }
    let mode = groups::network_mode(&run.p).map_err(DockerError::Failed)?;
    if let Some(m) = &mode {
        args.extend([s("--network"), m.clone()]);
        if let Some(first) = specs.first().filter(|f| &f.name == m) {
            args.extend(first.create_flags());
        }
    }
    let cmd = groups::command(&run.p)
        .map_err(DockerError::Failed)?
        .unwrap_or_default();
    args.push(s("--"));
    args.push(image.to_string());
    args.extend(cmd);
    run.changed = true;
    run.actions
        .push(json!({"created": "Created container", "create_parameters": args[1..]}));
    if run.ctx.check_mode {
        return Ok(None);
    }
    let out = run.cli.run(run.ctx.conn, &args).await?;
    if !out.success() {
        let msg = out.stderr_str();
        let msg = msg
            .trim()
            .trim_start_matches("Error response from daemon: ");
        return Err(DockerError::failed(format!(
            "Error creating container: {msg}"
        )));
    }
    let id = out
        .stdout_str()
        .trim()
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    run.inspect(&id).await
}

pub(super) async fn apply_networks(
    run: &mut Run<'_>,
    id: &str,
    plan: networks::NetworkPlan,
) -> Result<(), DockerError> {
    run.changed = true;
    for (spec, current) in plan.connect {
        run.diff.add(
            &format!("network.{}", spec.name),
            spec.to_value(),
            current.clone().unwrap_or(Value::Null),
        );
        if current.is_some() {
            run.actions.push(json!({"removed_from_network": spec.name}));
            if !run.ctx.check_mode {
                run.docker(vec![
                    s("network"),
                    s("disconnect"),
                    spec.name.clone(),
                    id.to_string(),
                ])
                .await?;
            }
        }
        run.actions
            .push(json!({"added_to_network": spec.name, "network_parameters": spec.to_value()}));
        if !run.ctx.check_mode {
            let mut args = vec![s("network"), s("connect")];
            args.extend(spec.connect_flags());
            args.extend([spec.name.clone(), id.to_string()]);
            run.docker(args).await?;
        }
    }
    for (name, current) in plan.disconnect {
        run.diff
            .add(&format!("network.{name}"), Value::Null, current);
        run.actions.push(json!({"removed_from_network": name}));
        if !run.ctx.check_mode {
            run.docker(vec![s("network"), s("disconnect"), name, id.to_string()])
                .await?;
        }
    }
    Ok(())
}

/// `detach: false`: waits for the command to end; its exit code is `status`, its output
/// `container.Output` (and the failure message when the code is not 0).
pub(super) async fn wait_for_exit(
    run: &mut Run<'_>,
    id: &str,
    status: &mut Option<(i64, Option<String>)>,
) -> Result<Option<Value>, DockerError> {
    let code_text = run
        .cli
        .run_long(run.ctx.conn, &[s("wait"), id.to_string()])
        .await?;
    let code: i64 = code_text.trim().parse().unwrap_or(-1);
    let output = if run.p.auto_remove == Some(true) {
        s("Cannot retrieve result as auto_remove is enabled")
    } else {
        let out = run
            .cli
            .run(run.ctx.conn, &[s("logs"), id.to_string()])
            .await?;
        let text = format!("{}{}", out.stdout_str(), out.stderr_str());
        if run.p.output_logs {
            // community.docker writes the output to the target's system log (the module log).
            let line = format!(
                "logger -t docker_container -- {} 2>/dev/null || true",
                drover_core::connection::shell_quote(&text)
            );
            run.ctx.conn.run(line).await?;
        }
        text
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

/// Waits for a container being removed to vanish (`removal_wait_timeout`, else 300 s).
pub(super) async fn wait_removed(run: &mut Run<'_>, id: &str) -> Result<(), DockerError> {
    let limit = run
        .p
        .removal_wait_timeout
        .filter(|t| *t > 0.0)
        .unwrap_or(300.0);
    let start = Instant::now();
    while run.inspect(id).await?.is_some() {
        if start.elapsed().as_secs_f64() >= limit {
            return Err(DockerError::failed(format!(
                "Timeout of {limit} seconds exceeded while waiting for container \"{id}\""
            )));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(())
}

/// `state: healthy`: waits for the health check to pass (`healthy_wait_timeout`).
pub(super) async fn wait_healthy(
    run: &mut Run<'_>,
    id: &str,
    mut c: Value,
) -> Result<Value, DockerError> {
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
        let step = if limit > 0.0 {
            delay.min(limit - waited)
        } else {
            delay
        };
        tokio::time::sleep(Duration::from_secs_f64(step.max(0.05))).await;
        delay = (delay * 1.1).min(10.0);
        c = run.inspect(id).await?.ok_or_else(|| {
            DockerError::failed(format!(
                "Encontered vanished container while waiting for container \"{id}\""
            ))
        })?;
    }
}

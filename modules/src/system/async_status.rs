//! `async_status`: reads (or removes, `mode: cleanup`) an `async` task's job file
//! `~/.ansible_async/<jid>` on the host, with ansible-core's result keys (`started`, `finished`,
//! `ansible_job_id`, `results_file`/`erased`, and the job's own result once it has finished).
//!
//! Jobs of `command`/`shell` run detached on the host (see `drover_core::async_job`); their
//! supervisor leaves the exit status in the job file and the output beside it. The first status
//! read after they end turns that into the module's result, which replaces the job file
//! (atomically), so the file then holds what ansible-core's would.

use async_trait::async_trait;
use drover_core::async_job::{ASYNC_DIR, DETACHED_KEY};
use drover_core::connection::shell_quote;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::commands::run::finish_detached;
use crate::params::{de_opt_string, de_string};

/// Parameters of `async_status`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct AsyncStatusParams {
    /// The job's id (`ansible_job_id` of the `async` task's result).
    #[serde(deserialize_with = "de_string")]
    pub jid: String,
    /// `status` (default): read the job; `cleanup`: remove its file.
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(choices("status", "cleanup"), default = "status")]
    pub mode: Option<String>,
}

/// The `async_status` module.
pub struct AsyncStatus;

/// The files drover keeps beside a job file while its job runs.
const SIDE_FILES: [&str; 4] = [".out", ".err", ".in", ".killed"];

#[async_trait]
impl TypedModule for AsyncStatus {
    const NAME: &'static str = "async_status";
    type Params = AsyncStatusParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: AsyncStatusParams,
    ) -> Result<ModuleResult, ModuleError> {
        let cleanup = match p.mode.as_deref() {
            None | Some("status") => false,
            Some("cleanup") => true,
            Some(other) => {
                return Ok(ModuleResult::failed(format!(
                    "value of mode must be one of: status, cleanup, got: {other}"
                )))
            }
        };
        let jid = p.jid;
        let side: Vec<String> = SIDE_FILES.iter().map(|s| format!("\"$__f{s}\"")).collect();
        let action = if cleanup {
            format!("rm -f \"$__f\" {}", side.join(" "))
        } else {
            "cat \"$__f\"".to_string()
        };
        let script = format!(
            "__d={ASYNC_DIR}; __f=\"$__d\"/{}\nprintf '%s\\n' \"$__f\"\n\
             if [ -e \"$__f\" ]; then echo found; {action}; else echo missing; fi",
            shell_quote(&jid)
        );
        let out = ctx.conn.run(script).await?;
        let text = out.stdout_str();
        let mut lines = text.splitn(3, '\n');
        let path = lines.next().unwrap_or_default().to_string();
        let found = lines.next() == Some("found");
        let body = lines.next().unwrap_or_default();

        let mut r = Map::new();
        r.insert("started".into(), false.into());
        r.insert("finished".into(), false.into());
        for k in ["stdout", "stderr"] {
            r.insert(k.into(), "".into());
        }
        for k in ["stdout_lines", "stderr_lines"] {
            r.insert(k.into(), json!([]));
        }
        r.insert("ansible_job_id".into(), jid.clone().into());
        if cleanup {
            r.insert("erased".into(), path.clone().into());
        } else {
            r.insert("results_file".into(), path.clone().into());
            r.insert("started".into(), true.into());
        }
        let data = if !found {
            json!({"failed": true, "msg": "could not find job", "ansible_job_id": jid,
                   "started": true, "finished": true})
        } else if cleanup {
            json!({"ansible_job_id": jid, "erased": path})
        } else {
            job_data(ctx, &jid, &path, body).await?
        };
        if let Value::Object(m) = data {
            r.extend(m);
        }
        for k in ["started", "finished"] {
            let v = r.get(k).is_some_and(truthy);
            r.insert(k.into(), v.into());
        }
        Ok(from_map(r))
    }
}

/// What the job file says, as ansible-core's module reads it (a detached command's finish
/// record is turned into its result first).
async fn job_data(
    ctx: &ModuleContext<'_>,
    jid: &str,
    path: &str,
    body: &str,
) -> Result<Value, ModuleError> {
    let Ok(Value::Object(mut data)) = serde_json::from_str::<Value>(body.trim()) else {
        // Not written yet: the job is running.
        return Ok(json!({"results_file": path, "ansible_job_id": jid,
                         "started": true, "finished": false}));
    };
    if let Some(done) = data.get(DETACHED_KEY).cloned() {
        let read = |suffix: &str| format!("{path}{suffix}");
        let stdout = ctx.conn.read_file(&read(".out")).await.unwrap_or_default();
        let stderr = ctx.conn.read_file(&read(".err")).await.unwrap_or_default();
        let rc = done.get("rc").and_then(Value::as_i64).unwrap_or(-1) as i32;
        let record = done.get("record").cloned().unwrap_or(Value::Null);
        let result = match finish_detached(
            &record,
            rc,
            &String::from_utf8_lossy(&stdout),
            &String::from_utf8_lossy(&stderr),
        ) {
            Some(r) => r.to_value(),
            None => json!({"failed": true, "msg": "unknown detached job record"}),
        };
        if let Ok(text) = serde_json::to_vec(&result) {
            ctx.conn.write_file_atomic(&text, path).await?;
            let side: Vec<String> = SIDE_FILES.iter().map(|s| shell_quote(&read(s))).collect();
            ctx.conn.run(format!("rm -f {}", side.join(" "))).await?;
        }
        data = match result {
            Value::Object(m) => m,
            _ => Map::new(),
        };
    }
    if !data.contains_key("started") {
        data.insert("finished".into(), true.into());
        data.insert("ansible_job_id".into(), jid.into());
    } else if !data.contains_key("finished") {
        data.insert("finished".into(), false.into());
    }
    Ok(Value::Object(data))
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Null => false,
        _ => true,
    }
}

/// A result map (a job's stored result) as a [`ModuleResult`] with the same keys.
fn from_map(mut m: Map<String, Value>) -> ModuleResult {
    let changed = m.remove("changed").is_some_and(|v| truthy(&v));
    let failed = m.get("failed").is_some_and(truthy);
    if failed {
        m.remove("failed");
    }
    let msg = match m.get("msg") {
        Some(Value::String(_)) => m.remove("msg").and_then(|v| v.as_str().map(str::to_string)),
        _ => None,
    };
    ModuleResult {
        changed,
        failed,
        msg,
        data: m,
        ..ModuleResult::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_results_keep_their_keys() {
        let m = json!({"changed": true, "failed": false, "msg": "", "rc": 0, "skipped": true});
        let Value::Object(m) = m else { unreachable!() };
        let v = from_map(m).to_value();
        assert_eq!(v["changed"], true);
        assert_eq!(v["rc"], 0);
        assert_eq!(v["msg"], "");
        assert_eq!(v["failed"], false);
        assert_eq!(v["skipped"], true);
    }
}

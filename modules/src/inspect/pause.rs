//! `pause`: waits a number of seconds or minutes, or for the operator to press enter. The
//! question goes to the run's prompter (the CLI's asks on the terminal); when nobody can answer
//! (no interactive stdin) it is not waited for (Ansible's behaviour), so unattended runs never
//! hang.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use drover_core::session::{current_prompter, Prompt, PromptKind};
use drover_core::utc::format_utc_micros as format_timestamp;
use serde::Deserialize;
use serde_json::Value;

use crate::params::{de_bool, de_opt_string};

/// Parameters of `pause`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
#[params(mutually_exclusive("minutes", "seconds"))]
pub struct PauseParams {
    /// Minutes to pause.
    #[serde(default)]
    pub minutes: Option<Value>,
    /// Seconds to pause.
    #[serde(default)]
    pub seconds: Option<Value>,
    /// Text shown while waiting for enter.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub prompt: Option<String>,
    /// Echo what the operator types (default yes).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    pub echo: bool,
}

fn yes() -> bool {
    true
}

/// How long to pause, from `minutes`/`seconds` (numbers or numeric strings).
pub fn pause_duration(p: &PauseParams) -> Result<Option<(f64, &'static str)>, String> {
    let num = |key: &str, v: &Value| -> Result<f64, String> {
        let n = match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        match n {
            Some(n) if n >= 0.0 => Ok(n),
            _ => Err(format!(
                "non-integer value given for prompt duration: {key}={v}"
            )),
        }
    };
    match (&p.minutes, &p.seconds) {
        (Some(_), Some(_)) => Err("parameters are mutually exclusive: minutes|seconds".into()),
        (Some(m), None) => Ok(Some((num("minutes", m)? * 60.0, "minutes"))),
        (None, Some(s)) => Ok(Some((num("seconds", s)?, "seconds"))),
        (None, None) => Ok(None),
    }
}

/// The current time as `YYYY-MM-DD HH:MM:SS.ffffff` (UTC), the shape of Ansible's `start`/`stop`.
pub fn timestamp() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format_timestamp(now.as_secs(), now.subsec_micros())
}

/// The `pause` module (runs on the controller).
pub struct Pause;

#[async_trait]
impl TypedModule for Pause {
    const NAME: &'static str = "pause";
    const CONTROLLER_ONLY: bool = true;
    type Params = PauseParams;

    async fn run_with(
        &self,
        _ctx: &ModuleContext<'_>,
        p: PauseParams,
    ) -> Result<ModuleResult, ModuleError> {
        let duration = match pause_duration(&p) {
            Ok(d) => d,
            Err(e) => return Ok(ModuleResult::failed(e)),
        };
        let start = Instant::now();
        let start_stamp = timestamp();
        let mut user_input = String::new();
        let mut warnings = Vec::new();
        let stdout = match duration {
            Some((secs, unit)) => {
                if let Some(prompt) = &p.prompt {
                    eprintln!("{prompt}");
                }
                tokio::time::sleep(Duration::from_secs_f64(secs)).await;
                let elapsed = start.elapsed().as_secs_f64();
                if unit == "minutes" {
                    format!("Paused for {:.2} minutes", elapsed / 60.0)
                } else {
                    format!("Paused for {elapsed:.2} seconds")
                }
            }
            None => {
                let prompt = p
                    .prompt
                    .clone()
                    .unwrap_or_else(|| "Press enter to continue, Ctrl+C to interrupt".into());
                let question = Prompt {
                    kind: PromptKind::Pause,
                    message: format!("[pause]\n{prompt}:\n"),
                    secret: !p.echo,
                };
                match current_prompter().ask_async(question).await {
                    Ok(answer) => user_input = answer,
                    Err(_) => warnings
                        .push("Not waiting for response to prompt as stdin is not interactive"),
                }
                format!(
                    "Paused for {:.1} minutes",
                    start.elapsed().as_secs_f64() / 60.0
                )
            }
        };
        let mut r = ModuleResult::ok()
            .with("delta", start.elapsed().as_secs_f64().round() as u64)
            .with("echo", p.echo)
            .with("rc", 0)
            .with("start", start_stamp)
            .with("stderr", "")
            .with("stdout", stdout)
            .with("stop", timestamp())
            .with("user_input", user_input);
        if !warnings.is_empty() {
            r = r.with("warnings", warnings);
        }
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(v: Value) -> PauseParams {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn durations() {
        assert_eq!(
            pause_duration(&params(json!({"seconds": 2}))).unwrap(),
            Some((2.0, "seconds"))
        );
        assert_eq!(
            pause_duration(&params(json!({"minutes": "1"}))).unwrap(),
            Some((60.0, "minutes"))
        );
        assert_eq!(
            pause_duration(&params(json!({"prompt": "x"}))).unwrap(),
            None
        );
        assert!(pause_duration(&params(json!({"seconds": "soon"}))).is_err());
        assert!(pause_duration(&params(json!({"seconds": 1, "minutes": 1}))).is_err());
    }

    #[test]
    fn timestamps() {
        assert_eq!(format_timestamp(0, 5), "1970-01-01 00:00:00.000005");
        assert_eq!(
            format_timestamp(1_795_376_396, 762_318),
            "2026-11-22 19:39:56.762318"
        );
    }
}

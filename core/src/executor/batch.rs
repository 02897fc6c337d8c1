//! Play-level control: `vars_prompt`, `serial` batches and `max_fail_percentage`.

use super::{ExecError, Executor, PlayCtx};
use crate::playbook::{Play, PlaybookError};
use crate::session::{Prompt, PromptKind};
use crate::vars::{Value, Vars};

impl Executor {
    /// Answers to the play's `vars_prompt`: `--extra-vars` first, then the run's prompter, then the
    /// default; when the prompter gives no answer and there is no default the run stops with an error.
    pub(crate) fn prompt_vars(&self, play: &Play) -> Result<Vars, ExecError> {
        let mut out = Vars::new();
        for p in &play.vars_prompt {
            if self.shared.opts.extra_vars.contains_key(&p.name) {
                continue;
            }
            let default_text = p.default.as_ref().map(|d| match d {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            let text = if p.prompt.is_empty() {
                &p.name
            } else {
                &p.prompt
            };
            let prompt = Prompt {
                kind: PromptKind::VarsPrompt {
                    name: p.name.clone(),
                },
                message: match &default_text {
                    Some(d) => format!("{text} [{d}]: "),
                    None => format!("{text}: "),
                },
                secret: false,
            };
            if let Ok(line) = self.shared.opts.prompter.0.ask(&prompt) {
                let value = if line.is_empty() {
                    p.default.clone().unwrap_or(Value::String(String::new()))
                } else {
                    Value::String(line)
                };
                out.insert(p.name.clone(), value);
            } else if let Some(d) = &p.default {
                out.insert(p.name.clone(), d.clone());
            } else {
                return Err(PlaybookError::new(
                    &p.location,
                    format!(
                        "vars_prompt '{}' needs an answer, but there is no terminal to ask and no default",
                        p.name
                    ),
                )
                .with_hint(format!(
                    "pass it with -e {}=VALUE, or give the prompt a 'default'",
                    p.name
                ))
                .into());
            }
        }
        Ok(out)
    }

    /// Splits the play's hosts into `serial` batches (one batch without `serial`).
    pub(crate) fn batches(&self, ctx: &PlayCtx<'_>, hosts: &[String]) -> Vec<Vec<String>> {
        let Some(serial) = &ctx.play.serial else {
            return vec![hosts.to_vec()];
        };
        let mut vars = ctx.vars.vars.clone();
        crate::vars::merge_into(&mut vars, &self.shared.opts.extra_vars);
        let rendered = self
            .shared
            .templar
            .render_value(serial, &vars)
            .unwrap_or_else(|_| serial.clone());
        let sizes: Vec<Value> = match rendered {
            Value::Array(items) => items,
            other => vec![other],
        };
        let total = hosts.len();
        let size_of = |v: &Value| -> usize {
            let n = match v {
                Value::Number(n) => n.as_f64().unwrap_or(0.0) as usize,
                Value::String(s) => match s.trim().strip_suffix('%') {
                    Some(p) => {
                        let pct: f64 = p.trim().parse().unwrap_or(100.0);
                        ((total as f64) * pct / 100.0) as usize
                    }
                    None => s.trim().parse().unwrap_or(total),
                },
                _ => total,
            };
            if n == 0 {
                1
            } else {
                n
            }
        };
        let mut out = Vec::new();
        let mut rest = hosts;
        let mut i = 0;
        while !rest.is_empty() {
            let size = sizes
                .get(i)
                .or(sizes.last())
                .map(size_of)
                .unwrap_or(total)
                .min(rest.len());
            out.push(rest[..size].to_vec());
            rest = &rest[size..];
            i += 1;
        }
        out
    }

    /// True if the batch's failures stop the play: `max_fail_percentage` exceeded, or every
    /// host of a `serial` batch failed.
    pub(crate) fn max_fail_exceeded(&self, ctx: &PlayCtx<'_>, batch: &[String]) -> bool {
        let failed = {
            let states = self.hosts();
            batch
                .iter()
                .filter(|h| states.get(*h).is_some_and(|s| s.failed || s.unreachable))
                .count()
        };
        if failed == 0 {
            return false;
        }
        let exceeded = match &ctx.play.max_fail_percentage {
            Some(v) => {
                let pct = match v {
                    Value::Number(n) => n.as_f64().unwrap_or(100.0),
                    Value::String(s) => s.trim().trim_end_matches('%').parse().unwrap_or(100.0),
                    _ => 100.0,
                };
                (failed as f64) * 100.0 / (batch.len() as f64) > pct
            }
            None => ctx.play.serial.is_some() && failed == batch.len(),
        };
        if exceeded {
            self.shared
                .break_run
                .store(true, std::sync::atomic::Ordering::SeqCst);
            let mut states = self.hosts();
            for h in &ctx.vars.hosts_all {
                if let Some(s) = states.get_mut(h) {
                    s.ended = true;
                }
            }
        }
        exceeded
    }
}

impl Executor {
    /// True when the play that just ended stops the whole run, as ansible-core breaks out of
    /// the playbook: `max_fail_percentage` exceeded or a whole `serial` batch failed, or an
    /// `any_errors_fatal` failure that a `rescue` did not handle (a host of the run is left
    /// failed). Clears the play's `any_errors_fatal` mark.
    pub(crate) fn run_broken(&self) -> bool {
        use std::sync::atomic::Ordering;
        if self.shared.fatal_hit.swap(false, Ordering::SeqCst)
            && self.hosts().values().any(|s| s.failed || s.unreachable)
        {
            self.shared.break_run.store(true, Ordering::SeqCst);
        }
        self.shared.break_run.load(Ordering::SeqCst)
    }
}

//! `cron`: manages one named entry (`#Ansible: <name>` + job line) or environment variable in a
//! user's crontab (via `crontab`) or in a `/etc/cron.d` file, as ansible-core does. `disabled`
//! comments the job out. Read in one round trip, written in one more (`crontab -u USER -`).

use async_trait::async_trait;
use drover_core::connection::{shell_quote, ExecRequest};
use drover_core::module::{Diff, ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;
use serde_json::Value;

use crate::accounts::group::Presence;
use crate::params::{de_bool, de_opt_string, de_string};

/// Parameters of `cron`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
#[params(mutually_exclusive("insertafter", "insertbefore"))]
pub struct CronParams {
    /// Entry description (or the variable name with `env`).
    #[serde(deserialize_with = "de_string")]
    pub name: String,
    /// The command (or the variable's value with `env`).
    #[serde(default, alias = "value", deserialize_with = "de_opt_string")]
    pub job: Option<String>,
    /// Whether the job (or variable) is present or absent.
    #[serde(default)]
    pub state: Presence,
    /// Whose crontab (default: the connecting user).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub user: Option<String>,
    /// Minute when the job runs (`0-59`, `*`, `*/2`, …; default `*`).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub minute: Option<String>,
    /// Hour when the job runs (`0-23`, `*`, `*/2`, …; default `*`).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub hour: Option<String>,
    /// Day of the month the job runs (`1-31`, `*`, `*/2`, …; default `*`).
    #[serde(default, alias = "dom", deserialize_with = "de_opt_string")]
    pub day: Option<String>,
    /// Month of the year the job runs (`1-12`, `*`, `*/2`, …; default `*`).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub month: Option<String>,
    /// Day of the week the job runs (`0-6` for Sunday-Saturday, `*`, …; default `*`).
    #[serde(default, alias = "dow", deserialize_with = "de_opt_string")]
    pub weekday: Option<String>,
    /// A special time specification instead of the time fields.
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(choices("annually", "daily", "hourly", "monthly", "reboot", "weekly", "yearly"))]
    pub special_time: Option<String>,
    /// Comment the job out.
    #[serde(default, deserialize_with = "de_bool")]
    pub disabled: bool,
    /// Manage an environment variable instead of a job.
    #[serde(default, deserialize_with = "de_bool")]
    pub env: bool,
    /// A file in `/etc/cron.d` (or an absolute path) instead of the user's crontab.
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(kind = "path")]
    pub cron_file: Option<String>,
    /// With `env`: insert after the variable of this name.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub insertafter: Option<String>,
    /// With `env`: insert before the variable of this name.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub insertbefore: Option<String>,
    /// Accepted; no backup is made.
    #[serde(default, deserialize_with = "de_bool")]
    pub backup: bool,
}

/// The `cron` module.
pub struct Cron;

const HEADER: &str = "#Ansible: ";

impl CronParams {
    /// The job line as Ansible writes it.
    fn job_line(&self, job: &str) -> String {
        let user = if self.cron_file.is_some() {
            format!("{} ", self.user.as_deref().unwrap_or("root"))
        } else {
            String::new()
        };
        let prefix = if self.disabled { "#" } else { "" };
        match &self.special_time {
            Some(st) => format!("{prefix}@{st} {user}{job}"),
            None => {
                let f = |v: &Option<String>| v.clone().unwrap_or_else(|| "*".into());
                format!(
                    "{prefix}{} {} {} {} {} {user}{job}",
                    f(&self.minute),
                    f(&self.hour),
                    f(&self.day),
                    f(&self.month),
                    f(&self.weekday)
                )
            }
        }
    }
}

/// Applies the wanted job to crontab lines; returns the new lines.
fn apply_job(lines: &[String], name: &str, line: Option<&str>) -> Vec<String> {
    let header = format!("{HEADER}{name}");
    let mut out = Vec::new();
    let mut found = false;
    let mut i = 0;
    while i < lines.len() {
        if lines[i] == header {
            found = true;
            if let Some(l) = line {
                out.push(header.clone());
                out.push(l.to_string());
            }
            i += 2;
            continue;
        }
        out.push(lines[i].clone());
        i += 1;
    }
    if !found {
        if let Some(l) = line {
            out.push(header);
            out.push(l.to_string());
        }
    }
    out
}

/// Applies the wanted environment variable (`NAME=value`) to crontab lines.
fn apply_env(lines: &[String], p: &CronParams, name: &str, decl: Option<&str>) -> Vec<String> {
    let is_var = |l: &str, n: &str| {
        l.split_once('=')
            .is_some_and(|(k, _)| k.trim() == n && !l.trim_start().starts_with('#'))
    };
    if let Some(pos) = lines.iter().position(|l| is_var(l, name)) {
        let mut out = lines.to_vec();
        match decl {
            Some(d) => out[pos] = d.to_string(),
            None => {
                out.remove(pos);
            }
        }
        return out;
    }
    let mut out = lines.to_vec();
    if let Some(d) = decl {
        let at = if let Some(after) = &p.insertafter {
            lines
                .iter()
                .position(|l| is_var(l, after))
                .map_or(0, |i| i + 1)
        } else if let Some(before) = &p.insertbefore {
            lines.iter().position(|l| is_var(l, before)).unwrap_or(0)
        } else {
            0
        };
        out.insert(at, d.to_string());
    }
    out
}

/// Names of Ansible-managed jobs and of environment variables in the crontab.
fn names(lines: &[String]) -> (Vec<Value>, Vec<Value>) {
    let jobs = lines
        .iter()
        .filter_map(|l| l.strip_prefix(HEADER))
        .map(Value::from)
        .collect();
    let envs = lines
        .iter()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| {
            let (k, _) = l.split_once('=')?;
            let k = k.trim();
            (!k.is_empty() && !k.contains(' ')).then(|| Value::from(k))
        })
        .collect();
    (jobs, envs)
}

fn join(lines: &[String]) -> String {
    if lines.is_empty() {
        String::new()
    } else {
        format!("{}\n", lines.join("\n"))
    }
}

#[async_trait]
impl TypedModule for Cron {
    const NAME: &'static str = "cron";
    type Params = CronParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: CronParams,
    ) -> Result<ModuleResult, ModuleError> {
        let name = p.name.clone();
        if let Some(st) = &p.special_time {
            let valid = [
                "reboot", "yearly", "annually", "monthly", "weekly", "daily", "hourly",
            ];
            if !valid.contains(&st.as_str()) {
                return Ok(ModuleResult::failed(format!(
                    "value of special_time must be one of: {}, got: {st}",
                    valid.join(", ")
                )));
            }
            if p.minute.is_some()
                || p.hour.is_some()
                || p.day.is_some()
                || p.month.is_some()
                || p.weekday.is_some()
            {
                return Ok(ModuleResult::failed(
                    "You must specify time and date fields or special time.",
                ));
            }
        }
        let present = p.state == Presence::Present;
        if present && p.job.is_none() {
            return Ok(ModuleResult::failed(
                "You must specify 'job' to install a new cron job or variable",
            ));
        }
        let file = p.cron_file.as_ref().map(|f| {
            if f.starts_with('/') {
                f.clone()
            } else {
                format!("/etc/cron.d/{f}")
            }
        });
        let user_flag = p
            .user
            .as_ref()
            .map(|u| format!(" -u {}", shell_quote(u)))
            .unwrap_or_default();
        let read = match &file {
            Some(f) => format!("cat {} 2>/dev/null; exit 0", shell_quote(f)),
            None => format!(
                "command -v crontab >/dev/null || {{ echo '@@NOCRONTAB@@'; exit 0; }}\ncrontab{user_flag} -l 2>/dev/null; exit 0"
            ),
        };
        let out = ctx.conn.run(read).await?;
        let text = out.stdout_str();
        if text.contains("@@NOCRONTAB@@") {
            return Ok(ModuleResult::failed(
                "Failed to find required executable crontab (install the cron package)",
            ));
        }
        let before: Vec<String> = text.lines().map(str::to_string).collect();
        let after = if p.env {
            // Ansible quotes the value: `NAME="value"`.
            let decl = present.then(|| format!("{name}=\"{}\"", p.job.as_deref().unwrap_or("")));
            apply_env(&before, &p, &name, decl.as_deref())
        } else {
            let line = p.job.as_deref().filter(|_| present).map(|j| p.job_line(j));
            apply_job(&before, &name, line.as_deref())
        };
        let changed = after != before;
        let (jobs, envs) = names(&after);
        let mut result = ModuleResult::changed(changed)
            .with("jobs", Value::Array(jobs))
            .with("envs", Value::Array(envs));
        if changed && ctx.diff {
            let header = match (&file, &p.user) {
                (Some(f), _) => f.clone(),
                (None, Some(u)) => format!("crontab for user \"{u}\""),
                (None, None) => "crontab".into(),
            };
            result = result.with_diff(Diff {
                before_header: Some(header.clone()),
                after_header: Some(header),
                before: join(&before),
                after: join(&after),
            });
        }
        if changed && !ctx.check_mode {
            let content = join(&after);
            let out = match &file {
                Some(f) => {
                    ctx.conn.write_file_atomic(content.as_bytes(), f).await?;
                    None
                }
                None => {
                    let mut req = ExecRequest::new(format!("crontab{user_flag} - 2>&1"));
                    req.stdin = Some(content.into_bytes());
                    Some(ctx.conn.exec(req).await?)
                }
            };
            if let Some(out) = out.filter(|o| !o.success()) {
                return Ok(ModuleResult::failed(format!(
                    "Unable to write crontab: {}",
                    out.stdout_str().trim()
                )));
            }
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use drover_core::module::parse_params;

    fn params(v: Value) -> CronParams {
        parse_params("cron", &v).unwrap()
    }

    fn lines(s: &str) -> Vec<String> {
        s.lines().map(str::to_string).collect()
    }

    #[test]
    fn job_lines_like_ansible() {
        let p = params(serde_json::json!({"name": "x", "job": "ls", "minute": 5, "hour": "2"}));
        assert_eq!(p.job_line("ls"), "5 2 * * * ls");
        let p = params(
            serde_json::json!({"name": "x", "job": "ls", "special_time": "daily", "disabled": true}),
        );
        assert_eq!(p.job_line("ls"), "#@daily ls");
        let p =
            params(serde_json::json!({"name": "x", "job": "ls", "cron_file": "f", "user": "www"}));
        assert_eq!(p.job_line("ls"), "* * * * * www ls");
    }

    #[test]
    fn jobs_replace_append_remove() {
        let cur = lines("MAILTO=x\n#Ansible: a\n1 * * * * old\n# other\n");
        let new = apply_job(&cur, "a", Some("2 * * * * new"));
        assert_eq!(
            join(&new),
            "MAILTO=x\n#Ansible: a\n2 * * * * new\n# other\n"
        );
        let new = apply_job(&cur, "b", Some("@daily b"));
        assert_eq!(new.len(), 6);
        let new = apply_job(&cur, "a", None);
        assert_eq!(join(&new), "MAILTO=x\n# other\n");
        assert_eq!(apply_job(&cur, "a", Some("1 * * * * old")), cur);
        let (jobs, envs) = names(&cur);
        assert_eq!(jobs, vec![Value::from("a")]);
        assert_eq!(envs, vec![Value::from("MAILTO")]);
    }

    #[test]
    fn envs_insert_at_top_or_after() {
        let cur = lines("A=1\n#Ansible: j\n* * * * * x\n");
        let p = params(serde_json::json!({"name": "B", "job": "2", "env": true}));
        assert_eq!(apply_env(&cur, &p, "B", Some("B=2"))[0], "B=2");
        let p =
            params(serde_json::json!({"name": "B", "job": "2", "env": true, "insertafter": "A"}));
        assert_eq!(apply_env(&cur, &p, "B", Some("B=2"))[1], "B=2");
        assert_eq!(apply_env(&cur, &p, "A", None).len(), 2);
    }
}

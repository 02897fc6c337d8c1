//! `pam_limits` (community.general): keeps one `<domain> <type> <item> <value>` line in
//! `/etc/security/limits.conf` (or `dest`), as the collection's module edits it: the matching
//! line's value is replaced (with `use_max`/`use_min`, only when that raises or lowers it), or a
//! tab-separated line is appended. The result has `msg` (the line kept or written) and a
//! `diff` of the file, as the collection's module returns them.

use async_trait::async_trait;
use drover_core::connection::{quote_path, ExecRequest};
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::params::{de_bool, de_opt_string, de_string};
use crate::remote::rewrite::rewrite_script;

/// The limits `limit_item` may name: the choices its description lists.
fn items() -> &'static [&'static str] {
    PamLimitsParams::spec()
        .field("limit_item")
        .map_or(&[], |f| f.choices)
}

/// Parameters of `pam_limits`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct PamLimitsParams {
    /// A user, `@group`, `*`, …
    #[serde(deserialize_with = "de_string")]
    pub domain: String,
    /// `soft`, `hard` or `-` (both).
    #[serde(deserialize_with = "de_string")]
    #[param(choices("soft", "hard", "-"))]
    pub limit_type: String,
    /// The limit (`nofile`, `nproc`, …).
    #[serde(deserialize_with = "de_string")]
    #[param(choices(
        "core",
        "data",
        "fsize",
        "memlock",
        "nofile",
        "rss",
        "stack",
        "cpu",
        "nproc",
        "as",
        "maxlogins",
        "maxsyslogins",
        "priority",
        "locks",
        "sigpending",
        "msgqueue",
        "nice",
        "rtprio",
        "chroot"
    ))]
    pub limit_item: String,
    /// The value (a number, `unlimited`, `infinity` or `-1`).
    #[serde(deserialize_with = "de_string")]
    pub value: String,
    /// Only raise an existing value.
    #[serde(default, deserialize_with = "de_bool")]
    pub use_max: bool,
    /// Only lower an existing value.
    #[serde(default, deserialize_with = "de_bool")]
    pub use_min: bool,
    /// Keep a timestamped copy of the file before changing it.
    #[serde(default, deserialize_with = "de_bool")]
    pub backup: bool,
    /// The file to edit.
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(default = "/etc/security/limits.conf")]
    pub dest: Option<String>,
    /// A comment for the line.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub comment: Option<String>,
}

/// The `pam_limits` module.
pub struct PamLimits;

/// Python's `repr` of a string, as the collection's messages show values.
fn py_repr(s: &str) -> String {
    if s.contains('\'') && !s.contains('"') {
        format!("\"{s}\"")
    } else {
        format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

/// The collection's `_assert_is_valid_value`.
fn check_value(item: &str, value: &str, prefix: &str) -> Result<(), String> {
    if item == "nice" || item == "priority" {
        let valid = value
            .trim()
            .parse::<i64>()
            .is_ok_and(|v| (-20..=19).contains(&v));
        if !valid {
            return Err(format!("{prefix} Value of {} for item {} is invalid. Value must be a number in the range -20 to 19 inclusive. Refer to the limits.conf(5) manual pages for more details.", py_repr(value), py_repr(item)));
        }
    } else if !(matches!(value, "unlimited" | "infinity" | "-1")
        || (!value.is_empty() && value.chars().all(|c| c.is_ascii_digit())))
    {
        return Err(format!("{prefix} Value of {} for item {} is invalid. Value must either be 'unlimited', 'infinity' or -1, all of which indicate no limit, or a limit of 0 or larger. Refer to the limits.conf(5) manual pages for more details.", py_repr(value), py_repr(item)));
    }
    Ok(())
}

fn unlimited(v: &str) -> bool {
    matches!(v, "unlimited" | "infinity" | "-1")
}

/// The file after the edit and the message (the line kept or written), as the collection's loop
/// builds them — its comment handling included (a comment read from a line is carried on).
fn edit(before: &str, p: &PamLimitsParams, dest: &str) -> Result<(String, String, bool), String> {
    let mut out = String::new();
    let mut message = String::new();
    let mut new_comment = p.comment.clone().unwrap_or_default();
    let mut found = false;
    let mut changed = false;
    let mut new_value = p.value.clone();
    for line in before.split_inclusive('\n') {
        if line.starts_with('#') {
            out.push_str(line);
            continue;
        }
        let squeezed = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if squeezed.is_empty() {
            out.push_str(line);
            continue;
        }
        let body = squeezed
            .split('#')
            .next()
            .unwrap_or("")
            .trim_end()
            .to_string();
        let old_comment = line.split_once('#').map_or("", |(_, c)| c);
        if new_comment.is_empty() {
            new_comment = old_comment.to_string();
        }
        let fields: Vec<&str> = body.split(' ').collect();
        if fields.len() != 4 {
            out.push_str(line);
            continue;
        }
        let (d, t, i, actual) = (fields[0], fields[1], fields[2], fields[3]);
        check_value(
            i,
            actual,
            &format!("Invalid configuration found in '{dest}'."),
        )?;
        if !(d == p.domain && t == p.limit_type && i == p.limit_item) {
            out.push_str(line);
            continue;
        }
        found = true;
        if p.value == actual {
            message = line.to_string();
            out.push_str(line);
            continue;
        }
        let (actual_unl, value_unl) = (unlimited(actual), unlimited(&p.value));
        let num = |s: &str| s.parse::<i64>().map_err(|e| e.to_string());
        if p.use_max {
            new_value = if actual_unl {
                actual.to_string()
            } else if value_unl {
                p.value.clone()
            } else {
                num(&p.value)?.max(num(actual)?).to_string()
            };
        }
        if p.use_min {
            new_value = if actual_unl && value_unl {
                actual.to_string()
            } else if actual_unl {
                p.value.clone()
            } else if value_unl {
                actual.to_string()
            } else {
                num(&p.value)?.min(num(actual)?).to_string()
            };
        }
        if new_value != actual {
            changed = true;
            if !new_comment.is_empty() {
                new_comment = format!("\t#{new_comment}");
            }
            let new_limit = format!(
                "{}\t{}\t{}\t{new_value}{new_comment}\n",
                p.domain, p.limit_type, p.limit_item
            );
            message = new_limit.clone();
            out.push_str(&new_limit);
        } else {
            message = line.to_string();
            out.push_str(line);
        }
    }
    if !found {
        changed = true;
        if !new_comment.is_empty() {
            new_comment = format!("\t#{new_comment}");
        }
        let new_limit = format!(
            "{}\t{}\t{}\t{new_value}{new_comment}\n",
            p.domain, p.limit_type, p.limit_item
        );
        message = new_limit.clone();
        out.push_str(&new_limit);
    }
    Ok((out, message, changed))
}

#[async_trait]
impl TypedModule for PamLimits {
    const NAME: &'static str = "pam_limits";
    type Params = PamLimitsParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: PamLimitsParams,
    ) -> Result<ModuleResult, ModuleError> {
        if !["soft", "hard", "-"].contains(&p.limit_type.as_str()) {
            return Ok(ModuleResult::failed(format!(
                "value of limit_type must be one of: soft, hard, -, got: {}",
                p.limit_type
            )));
        }
        if !items().contains(&p.limit_item.as_str()) {
            return Ok(ModuleResult::failed(format!(
                "value of limit_item must be one of: {}, got: {}",
                items().join(", "),
                p.limit_item
            )));
        }
        let dest = p
            .dest
            .clone()
            .unwrap_or_else(|| "/etc/security/limits.conf".into());
        let dir = match dest.rfind('/') {
            Some(0) => "/".to_string(),
            Some(i) => dest[..i].to_string(),
            None => String::new(),
        };
        let q = quote_path(&dest);
        let qdir = quote_path(if dir.is_empty() { "." } else { &dir });
        let probe = ctx
            .conn
            .run(format!(
                "if [ -f {q} ]; then [ -w {q} ] && echo file || echo readonly; \
                 elif [ -d {qdir} ] && [ -w {qdir} ]; then echo missing; else echo nodir; fi"
            ))
            .await?;
        let exists = match probe.stdout_str().trim() {
            "file" => true,
            "missing" => false,
            "readonly" => {
                return Ok(ModuleResult::failed(format!(
                    "{dest} is not writable. Use sudo"
                )))
            }
            _ => {
                return Ok(ModuleResult::failed(format!(
                    "directory {dir} is not writable (check presence, access rights, use sudo)"
                )))
            }
        };
        if p.use_max && p.use_min {
            return Ok(ModuleResult::failed(
                "Cannot use use_min and use_max at the same time.",
            ));
        }
        if let Err(msg) = check_value(&p.limit_item, &p.value, "") {
            return Ok(ModuleResult::failed(msg));
        }
        let before = if exists {
            String::from_utf8_lossy(&ctx.conn.read_file(&dest).await?).into_owned()
        } else {
            String::new()
        };
        let (after, message, changed) = match edit(&before, &p, &dest) {
            Ok(v) => v,
            Err(msg) => return Ok(ModuleResult::failed(msg)),
        };
        let changed = changed || !exists;
        let mut result = ModuleResult::changed(changed).with("msg", message.as_str());
        let mut diff = Map::new();
        diff.insert("before".into(), Value::from(before.as_str()));
        diff.insert("after".into(), Value::from(after.as_str()));
        result = result.with("diff", Value::Object(diff));
        if !ctx.check_mode && (after != before || !exists || p.backup) {
            let mut script = String::new();
            if p.backup && exists {
                script.push_str(&format!(
                    "b={q}.$$.$(date +%Y-%m-%d@%H:%M:%S)~; cp -p -- {q} \"$b\" || exit 1; echo \"@backup $b\" >&2\n"
                ));
            }
            script.push_str(&rewrite_script(&dest));
            let mut req = ExecRequest::new(script);
            req.stdin = Some(after.into_bytes());
            let out = ctx.conn.exec(req).await?;
            if !out.success() {
                return Ok(ModuleResult::failed(out.stderr_str().trim().to_string()));
            }
            if let Some(b) = out
                .stderr_str()
                .lines()
                .find_map(|l| l.strip_prefix("@backup ").map(str::to_string))
            {
                result = result.with("backup_file", b);
            }
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(value: &str, use_max: bool) -> PamLimitsParams {
        PamLimitsParams {
            domain: "joe".into(),
            limit_type: "soft".into(),
            limit_item: "nofile".into(),
            value: value.into(),
            use_max,
            use_min: false,
            backup: false,
            dest: None,
            comment: None,
        }
    }

    #[test]
    fn edits_like_the_collection() {
        let before = "# header\n\n*  hard  core  0\njoe soft nofile 1024 # old\n";
        let (after, msg, changed) = edit(before, &params("4096", false), "/x").unwrap();
        assert!(changed);
        // The comment read from the line keeps its newline: the collection writes an empty line.
        assert_eq!(msg, "joe\tsoft\tnofile\t4096\t# old\n\n");
        assert_eq!(
            after,
            "# header\n\n*  hard  core  0\njoe\tsoft\tnofile\t4096\t# old\n\n"
        );
        let (again, msg, changed) = edit(&after, &params("4096", false), "/x").unwrap();
        assert!(!changed);
        assert_eq!(
            (again.as_str(), msg.as_str()),
            (after.as_str(), "joe\tsoft\tnofile\t4096\t# old\n")
        );
        let (_, _, changed) = edit(&after, &params("100", true), "/x").unwrap();
        assert!(!changed, "use_max keeps a higher value");
        let (appended, _, _) = edit("", &params("unlimited", false), "/x").unwrap();
        assert_eq!(appended, "joe\tsoft\tnofile\tunlimited\n");
    }

    #[test]
    fn checks_values() {
        assert!(check_value("nofile", "12", "").is_ok());
        assert!(check_value("nice", "-5", "").is_ok());
        let e = check_value("nofile", "lots", "").unwrap_err();
        assert!(
            e.starts_with(" Value of 'lots' for item 'nofile' is invalid."),
            "{e}"
        );
        assert!(edit("* hard nofile x\n", &params("1", false), "/etc/l").is_err());
    }
}

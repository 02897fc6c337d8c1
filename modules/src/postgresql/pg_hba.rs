//! `postgresql_pg_hba` (community.postgresql): adds, changes or removes rules in a pg_hba.conf.
//!
//! The file is read once, the rules are edited on the controller ([`super::pg_hba_rules`]) and,
//! only when the set of rules differs, the file is rendered as the collection renders it
//! (comments first, rules sorted) and written atomically through the text modules' write path
//! (temporary sibling, backup, file attributes, rename). Check mode never writes. Needs no
//! database connection.

use async_trait::async_trait;
use drover_core::connection::shell_quote;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::{ModuleParams, ParamChoices};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::pg_hba_rules::{HbaFile, Rule, TYPES};
use crate::params::{de_bool, de_opt_string, de_string};
use crate::remote::file_attrs::FileAttrs;
use crate::text::{
    content_diff, directory_failure, read_target, with_file_attrs, write_text, WriteOutcome,
};

/// `present` or `absent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ParamChoices)]
pub enum HbaState {
    /// The rule is in the file.
    #[default]
    #[serde(rename = "present")]
    Present,
    /// No rule with its key is in the file.
    #[serde(rename = "absent")]
    Absent,
}

/// How `rules` combine with the rule options given outside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ParamChoices)]
pub enum RulesBehavior {
    /// Fail when both are given.
    #[default]
    #[serde(rename = "conflict")]
    Conflict,
    /// The options outside `rules` are defaults for each rule.
    #[serde(rename = "combine")]
    Combine,
}

fn all() -> String {
    "all".into()
}

fn samehost() -> String {
    "samehost".into()
}

fn md5() -> String {
    "md5".into()
}

fn sdu() -> String {
    "sdu".into()
}

/// Parameters of `postgresql_pg_hba`.
#[derive(Debug, Deserialize, ModuleParams)]
pub struct PgHbaParams {
    /// The pg_hba.conf to edit.
    #[serde(deserialize_with = "de_string")]
    #[param(kind = "path")]
    pub dest: String,
    /// Connection type of the rule; without it the module only reads the file.
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(choices("local", "host", "hostnossl", "hostssl", "hostgssenc", "hostnogssenc"))]
    pub contype: Option<String>,
    /// Databases (comma-separated: one rule each).
    #[serde(default = "all", deserialize_with = "de_string")]
    #[param(default = "all")]
    pub databases: String,
    /// Users (comma-separated: one rule each).
    #[serde(default = "all", deserialize_with = "de_string")]
    #[param(default = "all")]
    pub users: String,
    /// Source address or network, host name, `all`, `samehost`, `samenet`.
    #[serde(
        default = "samehost",
        alias = "source",
        alias = "src",
        deserialize_with = "de_string"
    )]
    #[param(default = "samehost")]
    pub address: String,
    /// Netmask of `address` when it has no prefix length.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub netmask: Option<String>,
    /// Authentication method.
    #[serde(default = "md5", deserialize_with = "de_string")]
    #[param(default = "md5")]
    pub method: String,
    /// Method options (`key=value …`).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub options: Option<String>,
    /// `present` or `absent`.
    #[serde(default)]
    #[param(default = "present")]
    pub state: HbaState,
    /// Create the file when it does not exist.
    #[serde(default, deserialize_with = "de_bool")]
    pub create: bool,
    /// Keep a copy of the file before changing it.
    #[serde(default, deserialize_with = "de_bool")]
    pub backup: bool,
    /// Where to keep that copy (default: beside the file, timestamped).
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(kind = "path")]
    pub backup_file: Option<String>,
    /// Comment written behind the rule.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub comment: Option<String>,
    /// Keep comments behind their rules (otherwise they move to the top of the file).
    #[serde(default, deserialize_with = "de_bool")]
    pub keep_comments_at_rules: bool,
    /// Sort order of the rules: which of source, database, user weighs first.
    #[serde(default = "sdu", deserialize_with = "de_string")]
    #[param(default = "sdu", choices("sdu", "sud", "dsu", "dus", "usd", "uds"))]
    pub order: String,
    /// Remove every existing rule first.
    #[serde(default, deserialize_with = "de_bool")]
    pub overwrite: bool,
    /// Several rules, each a mapping of the rule options.
    #[serde(default)]
    pub rules: Option<Vec<Map<String, Value>>>,
    /// How `rules` combine with the options outside it.
    #[serde(default)]
    #[param(default = "conflict")]
    pub rules_behavior: RulesBehavior,
    /// The common file attributes.
    #[serde(flatten)]
    pub attrs: FileAttrs,
}

/// The `postgresql_pg_hba` module.
pub struct PostgresqlPgHba;

#[async_trait]
impl TypedModule for PostgresqlPgHba {
    const NAME: &'static str = "postgresql_pg_hba";
    type Params = PgHbaParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: PgHbaParams,
    ) -> Result<ModuleResult, ModuleError> {
        let (attrs, path) = (p.attrs.clone(), p.dest.clone());
        with_file_attrs(ctx, &attrs, &path, edit(ctx, p)).await
    }
}

/// One rule's options, after `rules`/defaults are resolved.
#[derive(Debug, Clone)]
struct RuleArgs {
    contype: Option<String>,
    databases: String,
    users: String,
    address: String,
    netmask: Option<String>,
    method: String,
    options: Option<String>,
    state: HbaState,
    comment: Option<String>,
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// The rules the task describes.
fn rule_args(p: &PgHbaParams) -> Result<Vec<RuleArgs>, String> {
    let base = RuleArgs {
        contype: p.contype.clone(),
        databases: p.databases.clone(),
        users: p.users.clone(),
        address: p.address.clone(),
        netmask: p.netmask.clone(),
        method: p.method.clone(),
        options: p.options.clone(),
        state: p.state,
        comment: p.comment.clone(),
    };
    let Some(rules) = &p.rules else {
        return Ok(vec![base]);
    };
    let defaults = RuleArgs {
        contype: None,
        databases: all(),
        users: all(),
        address: samehost(),
        netmask: None,
        method: md5(),
        options: None,
        state: HbaState::Present,
        comment: None,
    };
    if p.rules_behavior == RulesBehavior::Conflict {
        let mut used = Vec::new();
        for (key, set) in [
            ("address", base.address != defaults.address),
            ("comment", base.comment.is_some()),
            ("contype", base.contype.is_some()),
            ("databases", base.databases != defaults.databases),
            ("method", base.method != defaults.method),
            ("netmask", base.netmask.is_some()),
            ("options", base.options.is_some()),
            ("state", base.state != defaults.state),
            ("users", base.users != defaults.users),
        ] {
            if set {
                used.push(key);
            }
        }
        if !used.is_empty() {
            return Err(format!(
                "conflict: either argument \"rules_behavior\" needs to be changed or \"rules\" must not be set or {used:?} must not be set"
            ));
        }
    }
    let start = if p.rules_behavior == RulesBehavior::Combine {
        base
    } else {
        defaults
    };
    let mut out = Vec::new();
    for (index, rule) in rules.iter().enumerate() {
        let mut r = start.clone();
        let addresses: Vec<&String> = rule
            .keys()
            .filter(|k| ["address", "source", "src"].contains(&k.as_str()))
            .collect();
        if addresses.len() > 1 {
            return Err(format!("rule number {index} of the \"rules\" argument uses ambiguous settings: {addresses:?} are aliases, only one is allowed"));
        }
        for (key, v) in rule {
            let text = text_of(v);
            match key.as_str() {
                "address" | "source" | "src" => r.address = text.unwrap_or_else(samehost),
                "comment" => r.comment = text,
                "contype" => r.contype = text,
                "databases" => r.databases = text.unwrap_or_else(all),
                "method" => r.method = text.unwrap_or_else(md5),
                "netmask" => r.netmask = text,
                "options" => r.options = text,
                "users" => r.users = text.unwrap_or_else(all),
                "state" => {
                    r.state = match text.as_deref() {
                        Some("absent") => HbaState::Absent,
                        None | Some("present") => HbaState::Present,
                        Some(other) => {
                            return Err(format!(
                        "rule number {index}: state must be one of present, absent, got {other}"
                    ))
                        }
                    }
                }
                other => return Err(format!("rule number {index}: unsupported key {other}")),
            }
        }
        out.push(r);
    }
    Ok(out)
}

/// Applies the task's rules to `file`; returns the messages.
fn apply_rules(file: &mut HbaFile, args: &[RuleArgs]) -> Result<Vec<String>, String> {
    let mut msgs = Vec::new();
    for a in args {
        let Some(contype) = &a.contype else { continue };
        if !TYPES.contains(&contype.as_str()) {
            return Err(format!(
                "contype must be one of {}, got {contype}",
                TYPES.join(", ")
            ));
        }
        for db in a.databases.split(',') {
            for user in a.users.split(',') {
                for (what, v) in [("database", db), ("users", user)] {
                    if super::pg_hba_rules::tokenize(v).map(|t| t.len()) != Ok(1) {
                        return Err(format!("Invalid string for {what}: {v}"));
                    }
                }
                let rule = Rule::new(
                    contype,
                    db,
                    user,
                    Some(&a.address),
                    a.netmask.as_deref(),
                    &a.method,
                    a.options.as_deref(),
                    a.comment.as_deref(),
                )
                .map_err(|e| format!("Error modifying rules:\n{e}"))?;
                let shown = rule.to_json();
                if a.state == HbaState::Present {
                    msgs.push(format!("Adding rule {shown}"));
                    file.add(rule);
                } else {
                    msgs.push(format!("Removing rule {shown}"));
                    file.remove(&rule);
                }
            }
        }
    }
    Ok(msgs)
}

async fn edit(ctx: &ModuleContext<'_>, p: PgHbaParams) -> Result<ModuleResult, ModuleError> {
    let args = match rule_args(&p) {
        Ok(a) => a,
        Err(e) => return Ok(ModuleResult::failed(e)),
    };
    let target = read_target(ctx, &p.dest).await?;
    if target.is_dir() {
        return Ok(directory_failure(&p.dest));
    }
    if target.unreadable() {
        return Ok(ModuleResult::failed(format!("cannot read {}", p.dest)));
    }
    let before = String::from_utf8_lossy(target.content()).into_owned();
    let mut file = match HbaFile::parse(&before, p.keep_comments_at_rules) {
        Ok(f) => f,
        Err(e) => return Ok(ModuleResult::failed(format!("Error reading file:\n{e}"))),
    };
    let old = file.clone();
    if p.overwrite {
        file.rules.clear();
    }
    let mut msgs = match apply_rules(&mut file, &args) {
        Ok(m) => m,
        Err(e) => return Ok(ModuleResult::failed(e)),
    };
    // As the collection: the rule set decides (comments and order alone change nothing).
    let changed = {
        let key = |f: &HbaFile| {
            let mut r = f.rules.clone();
            r.sort_by_key(Rule::key);
            r
        };
        key(&old) != key(&file)
    };
    let mut result = ModuleResult::changed(changed);
    if changed {
        msgs.push("Changed".into());
        if !target.exists() && !p.create && !ctx.check_mode {
            return Ok(ModuleResult::failed(format!(
                "Error writing file:\npg_hba file '{}' doesn't exist. Use create option to autocreate.",
                p.dest
            )));
        }
        let after = file.render(&p.order);
        if !ctx.check_mode {
            msgs.push("Writing".into());
            let mut backup = p.backup && target.exists();
            if let Some(dest) = p.backup_file.as_deref().filter(|_| backup) {
                let out = ctx
                    .conn
                    .run(format!(
                        "cp -p -- {} {}",
                        shell_quote(&p.dest),
                        shell_quote(dest)
                    ))
                    .await?;
                if out.rc != 0 {
                    return Ok(ModuleResult::failed(format!(
                        "Error writing file:\ncannot back up {} to {dest}: {}",
                        p.dest,
                        out.stderr_str().trim()
                    )));
                }
                result = result.with("backup_file", dest);
                backup = false;
            }
            let outcome = write_text(
                ctx,
                "postgresql_pg_hba",
                &target,
                Some(after.clone().into_bytes()),
                &p.attrs,
                None,
                backup,
            )
            .await?;
            match outcome {
                WriteOutcome::Failed(r) => return Ok(r),
                WriteOutcome::Done { backup_file, .. } => {
                    if let Some(b) = backup_file {
                        result = result.with("backup_file", b);
                    }
                }
            }
        }
        if ctx.diff {
            result = result.with_diff(content_diff(&p.dest, before.as_bytes(), after.as_bytes()));
        }
    }
    let rules: Vec<Value> = file
        .sorted(&p.order)
        .into_iter()
        .map(Rule::to_json)
        .collect();
    Ok(result.with("msgs", msgs).with("pg_hba", rules))
}

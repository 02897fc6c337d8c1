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

use super::pg_hba_rules::{
    apply, db_or_user, parse_file, render, sort_entries, tokenize, Edit, Entry, Rule,
};
use crate::params::{de_bool, de_opt_string, de_string};
use crate::remote::file_attrs::FileAttrs;
use crate::text::{
    content_diff, directory_failure, read_target, with_file_attrs, write_text, WriteOutcome,
};

/// The module's name, for errors.
const MODULE: &str = "postgresql_pg_hba";

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

fn yes() -> bool {
    true
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
    /// Accepted for older playbooks; comments always stay behind their rules (as in
    /// community.postgresql 4, where the option does nothing).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    #[param(default = "true")]
    pub keep_comments_at_rules: bool,
    /// Sort the rules when the file changes (most specific source first).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    #[param(default = "true")]
    pub sort_rules: bool,
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

/// The entries the task's rules stand for (one per database and user), each with its state.
fn task_entries(args: &[RuleArgs]) -> Result<Vec<(Entry, bool)>, String> {
    let mut out = Vec::new();
    for a in args {
        let present = a.state == HbaState::Present;
        let Some(contype) = a.contype.as_deref().filter(|c| !c.is_empty()) else {
            if let Some(c) = a.comment.as_deref().filter(|c| !c.is_empty()) {
                out.push((Entry::comment_line(c), present));
            }
            continue;
        };
        let split = |s: &str| -> Vec<String> {
            if s.starts_with('"') {
                vec![s.to_string()]
            } else {
                s.split(',').map(str::to_string).collect()
            }
        };
        for db in split(&a.databases) {
            for user in split(&a.users) {
                if tokenize(&db).map(|t| t.len()) != Ok(1) {
                    return Err(format!("Invalid string for database: {db}"));
                }
                if tokenize(&user).map(|t| t.len()) != Ok(1) {
                    return Err(format!("Invalid string for users: {user}"));
                }
                let rule = Rule::from_args(
                    contype,
                    &db_or_user(&db),
                    &db_or_user(&user),
                    &a.address,
                    a.netmask.as_deref(),
                    &a.method,
                    a.options.as_deref(),
                )
                .map_err(|e| format!("Error modifying rules:\n{e}"))?;
                out.push((Entry::rule(rule, a.comment.as_deref()), present));
            }
        }
    }
    Ok(out)
}

async fn edit(ctx: &ModuleContext<'_>, p: PgHbaParams) -> Result<ModuleResult, ModuleError> {
    let planned = match rule_args(&p).and_then(|a| task_entries(&a)) {
        Ok(e) => e,
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
    let mut entries = if target.exists() {
        match parse_file(&before) {
            Ok(e) => e,
            Err(_) if p.overwrite => Vec::new(),
            Err(e) => return Ok(ModuleResult::failed(format!("Error reading file:\n{e}"))),
        }
    } else {
        Vec::new()
    };
    let mut msgs: Vec<String> = Vec::new();
    let changed = if p.overwrite {
        let mut new: Vec<Entry> = planned.into_iter().map(|(e, _)| e).collect();
        if p.sort_rules {
            sort_entries(&mut new);
        }
        let same =
            new.len() == entries.len() && new.iter().zip(&entries).all(|(a, b)| a.identical(b));
        if !same {
            entries = new;
        }
        !same
    } else {
        let mut changed = false;
        for (entry, present) in planned {
            let shown = entry.serialize();
            match apply(&mut entries, entry, present) {
                Edit::Added => msgs.push(format!("Adding rule {shown}")),
                Edit::Updated => msgs.push(format!("Updating rule {shown}")),
                Edit::Removed => msgs.push(format!("Removing rule {shown}")),
                Edit::Unchanged => continue,
            }
            changed = true;
        }
        changed
    };
    let mut result = ModuleResult::changed(changed);
    if changed && p.sort_rules {
        sort_entries(&mut entries);
    }
    let after = render(&entries);
    if changed {
        msgs.push("Changed".into());
        if !target.exists() && !p.create {
            let msg = format!(
                "pg_hba file '{}' doesn't exist. Use the create option to autocreate.",
                p.dest
            );
            if !ctx.check_mode {
                return Ok(ModuleResult::failed(msg));
            }
            result = result.with("warnings", vec![msg]);
        }
        if !ctx.check_mode {
            let mut backup = p.backup && target.exists();
            if backup {
                msgs.push("Creating Backup".into());
            }
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
                        "Failed to create backup:\n{}",
                        out.stderr_str().trim()
                    )));
                }
                result = result.with("backup_file", dest);
                backup = false;
            }
            msgs.push("Writing".into());
            let bytes = Some(after.clone().into_bytes());
            match write_text(ctx, MODULE, &target, bytes, &p.attrs, None, backup).await? {
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
    let rules: Vec<Value> = entries
        .iter()
        .filter_map(|e| e.rule.as_ref())
        .map(Rule::to_json)
        .collect();
    Ok(result
        .with("msgs", msgs)
        .with("pg_hba_string", after)
        .with("pg_hba", rules))
}

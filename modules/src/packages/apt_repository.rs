//! `apt_repository`: adds or removes a one-line apt source in `sources.list.d`, then updates the
//! cache. One round trip reads every source file; changed files are written atomically.

use async_trait::async_trait;
use drover_core::module::{Diff, ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::{ModuleParams, ParamChoices};
use serde::Deserialize;
use serde_json::Value;

use super::apt_run::env_line;
use super::sources_list::{parse_line, suggest_filename, SourcesList};
use crate::params::{de_bool, de_opt_mode, de_opt_string, de_string};
use crate::remote::mode::Mode;

/// `state` of `apt_repository`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, ParamChoices)]
#[serde(rename_all = "lowercase")]
pub enum RepoState {
    /// The source is configured and enabled.
    #[default]
    Present,
    /// The source is not configured.
    Absent,
}

/// Parameters of `apt_repository`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct AptRepositoryParams {
    /// The source line (`deb [options] uri suite [components]`).
    #[serde(deserialize_with = "de_string")]
    pub repo: String,
    /// Desired state.
    #[serde(default)]
    pub state: RepoState,
    /// Mode of a new file (default 0644).
    #[serde(default, deserialize_with = "de_opt_mode")]
    pub mode: Option<Mode>,
    /// Update the cache after a change (default yes).
    #[serde(default = "yes", alias = "update-cache", deserialize_with = "de_bool")]
    pub update_cache: bool,
    /// Retries of the cache update.
    #[serde(default = "five")]
    pub update_cache_retries: u32,
    /// Maximum delay between retries.
    #[serde(default = "twelve")]
    pub update_cache_retry_max_delay: u32,
    /// File name (without `.list`) in `sources.list.d`.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub filename: Option<String>,
    /// Accepted for compatibility (used for PPAs only).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub codename: Option<String>,
    /// Accepted for compatibility.
    #[serde(default, deserialize_with = "de_bool")]
    pub validate_certs: bool,
    /// Accepted for compatibility: drover needs no python3-apt.
    #[serde(default, deserialize_with = "de_bool")]
    pub install_python_apt: bool,
}

fn yes() -> bool {
    true
}
fn five() -> u32 {
    5
}
fn twelve() -> u32 {
    12
}

const SOURCES_DIR: &str = "/etc/apt/sources.list.d";
const FILE_MARK: &str = "@@drover-file ";

/// The `apt_repository` module.
pub struct AptRepository;

#[async_trait]
impl TypedModule for AptRepository {
    const NAME: &'static str = "apt_repository";
    type Params = AptRepositoryParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: AptRepositoryParams,
    ) -> Result<ModuleResult, ModuleError> {
        if p.repo.starts_with("ppa:") {
            return Ok(ModuleResult::failed(
                "PPA repositories are only supported on Ubuntu: drover does not support ppa: sources",
            ));
        }
        let parsed = parse_line(&p.repo);
        if !parsed.valid || !parsed.enabled {
            return Ok(ModuleResult::failed(format!(
                "Invalid repository string: {}",
                p.repo
            )));
        }
        let source = parsed.source;
        let file = match &p.filename {
            Some(f) => format!("{SOURCES_DIR}/{f}.list"),
            None => format!("{SOURCES_DIR}/{}", suggest_filename(&source)),
        };
        let script = format!(
            "for f in /etc/apt/sources.list {SOURCES_DIR}/*.list; do [ -f \"$f\" ] || continue; printf '{FILE_MARK}%s\\n' \"$f\"; sed 's/^/|/' \"$f\" || exit 1; done\n"
        );
        let out = ctx.conn.run(script).await?;
        if out.rc != 0 {
            return Ok(ModuleResult::failed(format!(
                "cannot read apt sources: {}",
                out.stderr_str().trim()
            )));
        }
        let mut before = SourcesList::default();
        let mut current: Option<(String, String)> = None;
        for line in out.stdout_str().lines() {
            if let Some(f) = line.strip_prefix(FILE_MARK) {
                if let Some((path, text)) = current.take() {
                    before.load(&path, &text);
                }
                current = Some((f.to_string(), String::new()));
            } else if let (Some((_, text)), Some(l)) = (current.as_mut(), line.strip_prefix('|')) {
                text.push_str(l);
                text.push('\n');
            }
        }
        if let Some((path, text)) = current.take() {
            before.load(&path, &text);
        }
        let mut after = before.clone();
        match p.state {
            RepoState::Present => after.add(&source, &file),
            RepoState::Absent => after.remove(&source),
        }
        let (dump_before, dump_after) = (before.dump(), after.dump());
        let changed = dump_before != dump_after;
        let mut files: Vec<&String> = dump_before.keys().chain(dump_after.keys()).collect();
        files.sort();
        files.dedup();
        let changed_files: Vec<&String> = files
            .into_iter()
            .filter(|f| dump_before.get(*f) != dump_after.get(*f))
            .collect();
        let added: Vec<Value> = changed_files
            .iter()
            .filter(|f| !dump_before.contains_key(**f))
            .map(|f| Value::String((*f).clone()))
            .collect();
        let removed: Vec<Value> = changed_files
            .iter()
            .filter(|f| !dump_after.contains_key(**f))
            .map(|f| Value::String((*f).clone()))
            .collect();
        let mut r = ModuleResult::changed(changed)
            .with("repo", p.repo.clone())
            .with(
                "state",
                if p.state == RepoState::Present {
                    "present"
                } else {
                    "absent"
                },
            )
            .with("sources_added", Value::Array(added))
            .with("sources_removed", Value::Array(removed));
        if !ctx.diff {
            // ansible-core returns its (then empty) list of file diffs in every result.
            r = r.with("diff", Value::Array(Vec::new()));
        }
        if ctx.diff {
            for f in &changed_files {
                let b = dump_before.get(*f);
                let a = dump_after.get(*f);
                r = r.with_diff(Diff {
                    before_header: Some(if b.is_some() {
                        (*f).clone()
                    } else {
                        "/dev/null".into()
                    }),
                    after_header: Some(if a.is_some() {
                        (*f).clone()
                    } else {
                        "/dev/null".into()
                    }),
                    before: b.cloned().unwrap_or_default(),
                    after: a.cloned().unwrap_or_default(),
                });
            }
        }
        if !changed || ctx.check_mode {
            return Ok(r);
        }
        for f in &changed_files {
            match dump_after.get(*f) {
                Some(text) => {
                    ctx.conn.write_file_atomic(text.as_bytes(), f).await?;
                    if !dump_before.contains_key(*f) {
                        let mode = match &p.mode {
                            Some(Mode::Octal(m)) => format!("{m:o}"),
                            Some(Mode::Symbolic(s)) => s.clone(),
                            _ => "644".into(),
                        };
                        ctx.conn
                            .run(format!(
                                "chmod {} {}",
                                drover_core::connection::shell_quote(&mode),
                                drover_core::connection::shell_quote(f)
                            ))
                            .await?;
                    }
                }
                None => {
                    ctx.conn
                        .run(format!("rm -f {}", drover_core::connection::shell_quote(f)))
                        .await?;
                }
            }
        }
        if p.update_cache {
            let update = format!(
                "{}i=0; d=1\nwhile :; do\nout=$(apt-get update -q --error-on=any 2>&1) && exit 0\ni=$((i+1))\nif [ \"$i\" -ge {} ]; then printf '%s\\n' \"$out\"; exit 1; fi\nsleep \"$d\"; d=$((d*2)); [ \"$d\" -gt {m} ] && d={m}\ndone\n",
                env_line(),
                p.update_cache_retries.max(1),
                m = p.update_cache_retry_max_delay.max(1)
            );
            let out = ctx.conn.run(update).await?;
            if out.rc != 0 {
                // Revert, as Ansible does, so a broken source does not stay behind.
                for f in &changed_files {
                    match dump_before.get(*f) {
                        Some(text) => ctx.conn.write_file_atomic(text.as_bytes(), f).await?,
                        None => {
                            ctx.conn
                                .run(format!("rm -f {}", drover_core::connection::shell_quote(f)))
                                .await?;
                        }
                    }
                }
                let mut failed = ModuleResult::failed(format!(
                    "Failed to update apt cache: {}",
                    out.stdout_str().trim()
                ));
                failed.data = r.data;
                return Ok(failed);
            }
        }
        Ok(r)
    }
}

//! `drover config list|dump|view`: the settings drover reads, like `ansible-config`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use drover_core::config::{self, ConfigFile, Origin, Resolved, SETTINGS};
use serde_json::{json, Map, Value as Json};

use crate::{fail, EXIT_ERROR};

/// `drover config` arguments.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// What to show.
    #[command(subcommand)]
    pub action: ConfigAction,
    /// Read this configuration file instead of the first of `$ANSIBLE_CONFIG`, `./ansible.cfg`,
    /// `~/.ansible.cfg`, `/etc/ansible/ansible.cfg`.
    #[arg(
        short = 'c',
        long = "config",
        value_name = "CONFIG_FILE",
        global = true
    )]
    pub config: Option<PathBuf>,
    /// Output format (default: `display` for dump, `yaml` for list).
    #[arg(short = 'f', long = "format", value_enum, global = true)]
    pub format: Option<ConfigFormat>,
}

/// `drover config` actions.
#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Every setting drover reads: its keys, environment variables, default, type, description.
    List,
    /// Every setting's value and where it came from (`NAME(origin) = value`).
    Dump {
        /// Only settings that are not at their default.
        #[arg(long = "only-changed", alias = "changed-only")]
        only_changed: bool,
    },
    /// Print the configuration file in use.
    View,
}

/// Output formats of `drover config`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConfigFormat {
    /// `NAME(origin) = value` lines.
    Display,
    /// JSON.
    Json,
    /// YAML.
    Yaml,
}

/// Runs `drover config`.
pub fn run(args: &ConfigArgs) -> ExitCode {
    let env = |k: &str| std::env::var(k).ok();
    let path = match &args.config {
        Some(p) => Some(std::path::absolute(p).unwrap_or_else(|_| p.clone())),
        None => config::find_config_file(&env),
    };
    let file = match path.as_deref().map(ConfigFile::read).transpose() {
        Ok(f) => f,
        Err(e) => {
            return fail(
                e.to_string(),
                Some("check the -c / ANSIBLE_CONFIG path"),
                EXIT_ERROR,
            )
        }
    };
    match args.action {
        ConfigAction::View => match &file {
            Some(f) => match std::fs::read_to_string(&f.path) {
                Ok(text) => {
                    print!("{text}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(format!("{}: {e}", f.path.display()), None, EXIT_ERROR),
            },
            None => fail(
                "Invalid or no config file was supplied",
                Some("drover reads $ANSIBLE_CONFIG, ./ansible.cfg, ~/.ansible.cfg or /etc/ansible/ansible.cfg"),
                EXIT_ERROR,
            ),
        },
        ConfigAction::List => emit(list(), args.format.unwrap_or(ConfigFormat::Yaml)),
        ConfigAction::Dump { only_changed } => {
            if let Some(f) = &file {
                for p in &f.problems {
                    eprintln!("[WARNING]: {p}");
                }
            }
            let resolved: Vec<Resolved> = config::resolve_all(file.as_ref(), &env)
                .into_iter()
                .filter(|r| !only_changed || r.origin != Origin::Default)
                .collect();
            for p in resolved.iter().filter_map(|r| r.problem.as_ref()) {
                eprintln!("[WARNING]: {p}");
            }
            let config_file = file.as_ref().map(|f| f.path.display().to_string());
            match args.format.unwrap_or(ConfigFormat::Display) {
                ConfigFormat::Display => {
                    print!("{}", display(&resolved, config_file.as_deref()));
                    ExitCode::SUCCESS
                }
                other => emit(dump_data(&resolved, config_file.as_deref()), other),
            }
        }
    }
}

fn emit(data: Json, format: ConfigFormat) -> ExitCode {
    let text = match format {
        ConfigFormat::Yaml => serde_saphyr::to_string(&data).map_err(|e| e.to_string()),
        _ => serde_json::to_string_pretty(&data)
            .map(|s| s + "\n")
            .map_err(|e| e.to_string()),
    };
    match text {
        Ok(t) => {
            print!("{t}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("cannot format the output: {e}"), None, EXIT_ERROR),
    }
}

/// `ansible-config dump`'s lines, sorted by name with `CONFIG_FILE()` among them; a value from
/// a file names its line (`NAME(/path/ansible.cfg:3) = value`).
fn display(resolved: &[Resolved], config_file: Option<&str>) -> String {
    let mut lines: Vec<(String, String)> = resolved
        .iter()
        .map(|r| {
            let origin = match &r.origin {
                Origin::File { path, line, .. } => format!("{}:{line}", path.display()),
                other => other.ansible(),
            };
            (
                r.setting.name.to_string(),
                format!("{}({origin}) = {}", r.setting.name, r.value.python()),
            )
        })
        .collect();
    lines.push((
        "CONFIG_FILE".into(),
        format!("CONFIG_FILE() = {}", config_file.unwrap_or("None")),
    ));
    lines.sort();
    lines.into_iter().map(|(_, l)| l + "\n").collect()
}

/// `ansible-config dump --format json`'s records, plus the file, section, key and line of values
/// read from a file.
fn dump_data(resolved: &[Resolved], config_file: Option<&str>) -> Json {
    let mut items = vec![json!({"name": "CONFIG_FILE", "origin": "", "value": config_file})];
    for r in resolved {
        let mut item = Map::new();
        item.insert("name".into(), json!(r.setting.name));
        item.insert("origin".into(), json!(r.origin.ansible()));
        item.insert("value".into(), r.value.to_json());
        if let Origin::File {
            section, key, line, ..
        } = &r.origin
        {
            item.insert("section".into(), json!(section));
            item.insert("key".into(), json!(key));
            item.insert("line".into(), json!(line));
        }
        items.push(Json::Object(item));
    }
    items.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    Json::Array(items)
}

/// `ansible-config list`'s definitions of the settings drover reads.
fn list() -> Json {
    let mut out = Map::new();
    for s in SETTINGS {
        let default = match s.default {
            None => Json::Null,
            Some(d) => match s.kind {
                config::Kind::Bool | config::Kind::Int | config::Kind::Float => {
                    config::default_value(s, &|_| None).to_json()
                }
                _ => json!(d),
            },
        };
        let env: Vec<Json> = s.env.iter().map(|n| json!({"name": n})).collect();
        let ini: Vec<Json> = s
            .ini
            .iter()
            .map(|(section, key)| json!({"key": key, "section": section}))
            .collect();
        out.insert(
            s.name.to_string(),
            json!({
                "default": default,
                "description": s.description,
                "env": env,
                "ini": ini,
                "type": s.kind.name(),
                "drover_only": !s.ansible,
            }),
        );
    }
    Json::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn display_is_sorted_with_config_file_and_lines() {
        let f = ConfigFile::parse(Path::new("/c/ansible.cfg"), "[defaults]\n\nforks = 9\n");
        let r = config::resolve_all(Some(&f), &|_| None);
        let text = display(&r, Some("/c/ansible.cfg"));
        assert!(text.contains("CONFIG_FILE() = /c/ansible.cfg\n"), "{text}");
        assert!(
            text.contains("DEFAULT_FORKS(/c/ansible.cfg:3) = 9\n"),
            "{text}"
        );
        assert!(text.contains("DEFAULT_BECOME(default) = False\n"), "{text}");
        let names: Vec<&str> = text
            .lines()
            .map(|l| l.split('(').next().unwrap_or(""))
            .collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
    }
}

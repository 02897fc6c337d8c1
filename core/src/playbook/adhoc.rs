//! The one-task play of an ad-hoc command (`drover run PATTERN -m MODULE -a ARGS`), built as
//! ansible-core's `ansible` command builds it: play `Ansible Ad-Hoc`, no fact gathering, one
//! task running the module with the arguments (a JSON object, or `k=v` / free-form text).

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::error::PlaybookError;
use super::model::Playbook;
use super::parse::load_playbook_str;

/// Modules whose arguments are free-form text and that refuse to run without any (ansible's
/// `MODULE_REQUIRE_ARGS`).
pub const MODULES_REQUIRING_ARGS: [&str; 6] = [
    "command",
    "raw",
    "script",
    "shell",
    "win_command",
    "win_shell",
];

/// Modules whose results ad-hoc output shows as `rc=N >>` and the text, not as JSON
/// (ansible's `MODULE_NO_JSON`).
pub const MODULES_WITHOUT_JSON: [&str; 5] = ["command", "shell", "raw", "win_command", "win_shell"];

/// What an ad-hoc command asks for.
#[derive(Debug, Clone, Default)]
pub struct AdHoc {
    /// Host pattern of the play.
    pub pattern: String,
    /// Module name (short or fully qualified).
    pub module: String,
    /// The `-a` text: a JSON object, `k=v` pairs, or free-form text.
    pub args: String,
    /// `-B`: run asynchronously with this time limit in seconds.
    pub async_seconds: Option<u64>,
    /// `-P`: poll interval in seconds (0: fire and forget).
    pub poll: Option<u64>,
    /// `--task-timeout`: the task's `timeout` in seconds.
    pub task_timeout: Option<u64>,
}

/// `ansible.builtin.X` / `ansible.legacy.X` → `X`; other names unchanged.
pub fn short_module_name(module: &str) -> &str {
    module
        .strip_prefix("ansible.builtin.")
        .or_else(|| module.strip_prefix("ansible.legacy."))
        .unwrap_or(module)
}

impl AdHoc {
    /// A problem with the options that ansible reports before running anything (exit 5).
    pub fn options_error(&self) -> Option<String> {
        let short = short_module_name(&self.module);
        if MODULES_REQUIRING_ARGS.contains(&short) && self.args.trim().is_empty() {
            let mut err = format!("No argument passed to {} module", self.module);
            if self.pattern.ends_with(".yml") {
                err.push_str(" (did you mean to run ansible-playbook?)");
            }
            return Some(err);
        }
        if short == "import_playbook" {
            return Some(format!(
                "'{}' is not a valid action for ad-hoc commands",
                self.module
            ));
        }
        None
    }

    /// ansible-core's refusal of `-a` text it cannot split into words (a quote or a Jinja block
    /// left open), checked before the play is built so the message names `-a`, not a file.
    pub fn args_error(&self) -> Option<String> {
        let args = self.args.trim();
        if args.is_empty() || (args.starts_with('{') && args.ends_with('}')) {
            return None;
        }
        super::args::split_args(&self.args)
            .err()
            .map(|e| e.to_string())
    }

    /// The play as data (what ansible's `_play_ds` returns).
    pub fn play_data(&self) -> Value {
        let args = self.args.trim();
        let args_value = if args.starts_with('{') && args.ends_with('}') {
            serde_json::from_str::<Map<String, Value>>(args)
                .ok()
                .filter(|m| !m.is_empty())
                .map(Value::Object)
        } else {
            None
        };
        let args_value = args_value.unwrap_or_else(|| {
            if self.args.is_empty() {
                Value::Null
            } else {
                Value::String(self.args.clone())
            }
        });
        let mut task = Map::new();
        task.insert(self.module.clone(), args_value);
        if let Some(t) = self.task_timeout.filter(|t| *t > 0) {
            task.insert("timeout".into(), json!(t));
        }
        let short = short_module_name(&self.module);
        let include = matches!(short, "include_role" | "include_tasks");
        let async_val = self.async_seconds.unwrap_or(0);
        let poll = self.poll.unwrap_or(0);
        if !include && (async_val != 0 || self.poll.is_some_and(|p| p != 0)) {
            task.insert("async".into(), json!(async_val));
            task.insert("poll".into(), json!(poll));
        }
        json!([{
            "name": "Ansible Ad-Hoc",
            "hosts": self.pattern,
            "gather_facts": false,
            "tasks": [Value::Object(task)],
        }])
    }

    /// The one-play playbook; `dir` is where relative paths (and `roles/`) resolve from.
    pub fn playbook(&self, dir: &Path, roles_path: &[PathBuf]) -> Result<Playbook, PlaybookError> {
        // JSON is YAML: the play goes through the same parser as a playbook file.
        let text = self.play_data().to_string();
        load_playbook_str(&text, "__adhoc_playbook__", dir, roles_path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adhoc(module: &str, args: &str) -> AdHoc {
        AdHoc {
            pattern: "all".into(),
            module: module.into(),
            args: args.into(),
            ..AdHoc::default()
        }
    }

    #[test]
    fn command_without_args_is_an_options_error() {
        assert_eq!(
            adhoc("command", "").options_error().as_deref(),
            Some("No argument passed to command module")
        );
        assert!(adhoc("ping", "").options_error().is_none());
        assert!(adhoc("import_playbook", "x.yml").options_error().is_some());
        assert_eq!(
            adhoc("shell", "echo it's").args_error().as_deref(),
            Some("failed at splitting arguments, either an unbalanced jinja2 block or quotes: echo it's")
        );
        assert!(adhoc("shell", "echo \"it's\"").args_error().is_none());
        assert!(adhoc("copy", r#"{"content": "it's"}"#)
            .args_error()
            .is_none());
    }

    #[test]
    fn json_args_become_a_mapping_and_text_stays_free_form() {
        let d = adhoc("apt", r#"{"name": "tree"}"#).play_data();
        assert_eq!(d[0]["tasks"][0]["apt"]["name"], "tree");
        let d = adhoc("command", "echo {{ inventory_hostname }}").play_data();
        assert_eq!(d[0]["tasks"][0]["command"], "echo {{ inventory_hostname }}");
        assert_eq!(d[0]["gather_facts"], false);
    }

    #[test]
    fn the_play_loads_with_one_task_and_async_only_when_asked() {
        let pb = adhoc("command", "echo hi")
            .playbook(Path::new("."), &[])
            .expect("loads");
        assert_eq!(pb.plays.len(), 1);
        assert_eq!(pb.plays[0].tasks.len(), 1);
        let mut a = adhoc("command", "sleep 1");
        a.async_seconds = Some(10);
        a.poll = Some(2);
        let d = a.play_data();
        assert_eq!(d[0]["tasks"][0]["async"], 10);
        assert_eq!(d[0]["tasks"][0]["poll"], 2);
        assert!(adhoc("ping", "").play_data()[0]["tasks"][0]
            .get("async")
            .is_none());
    }
}

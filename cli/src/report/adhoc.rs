//! Output of `drover run`: ansible's `minimal` callback (`host | CHANGED | rc=0 >>` and the
//! command's output, `host | SUCCESS => {…}`), its `oneline` callback (`-o`), and its `tree`
//! callback (`-t DIR`: each host's last result as JSON in `DIR/<host>`).

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

use drover_core::events::{Event, EventSink, HostResult, Status};
use drover_core::playbook::adhoc::{short_module_name, MODULES_WITHOUT_JSON};
use serde_json::{Map, Value};

use super::color::{Colors, Role};
use crate::pyjson::dumps;

/// Prints ad-hoc results as ansible does.
pub struct AdHocReporter {
    module: String,
    one_line: bool,
    tree: Option<PathBuf>,
    verbosity: u8,
    /// Problems writing `-t` files.
    tree_errors: Mutex<Vec<String>>,
    /// Colours of result lines, as ansible's minimal and oneline callbacks use them.
    colors: Colors,
}

impl AdHocReporter {
    /// A reporter for a run of `module`; `one_line` is `-o`, `tree` is `-t DIR`.
    pub fn new(module: &str, one_line: bool, tree: Option<PathBuf>, verbosity: u8) -> Self {
        Self {
            module: module.to_string(),
            one_line,
            tree,
            verbosity,
            tree_errors: Mutex::new(Vec::new()),
            colors: Colors::off(),
        }
    }

    /// Colours result lines (ok green, changed yellow, failed and unreachable red, skipped
    /// cyan) and diagnostics with `colors`.
    pub fn with_colors(mut self, colors: Colors) -> Self {
        self.colors = colors;
        self
    }

    fn role(status: Status) -> Role {
        match status {
            Status::Ok => Role::Ok,
            Status::Changed => Role::Changed,
            Status::Failed => Role::Error,
            Status::Skipped => Role::Skip,
            Status::Unreachable => Role::Unreachable,
        }
    }

    /// Problems writing `-t` files (shown as warnings at the end, as ansible does).
    pub fn tree_errors(&self) -> Vec<String> {
        self.tree_errors
            .lock()
            .map(|e| e.clone())
            .unwrap_or_default()
    }

    fn no_json(&self) -> bool {
        MODULES_WITHOUT_JSON.contains(&short_module_name(&self.module))
    }

    /// The result as the callback sees it: internal keys, `invocation`, `diff` (below -vvv),
    /// warnings, exceptions and `failed` removed.
    fn abridged(&self, r: &HostResult) -> Map<String, Value> {
        let mut map = match &r.result {
            Value::Object(m) => m.clone(),
            _ => Map::new(),
        };
        map.retain(|k, _| !k.starts_with("_ansible_"));
        if self.verbosity < 3 {
            map.remove("invocation");
            map.remove("diff");
        }
        for k in ["exception", "warnings", "deprecations"] {
            map.remove(k);
        }
        // ansible-core 2.19's callbacks get results without `failed`.
        map.remove("failed");
        if r.status == Status::Failed {
            if let Some(error) = &r.error {
                map.insert("msg".into(), Value::String(error.clone()));
            }
        }
        map
    }

    fn json(&self, map: Map<String, Value>) -> String {
        let v = Value::Object(map);
        if self.one_line {
            dumps(&v, Some(0)).replace('\n', "")
        } else {
            dumps(&v, Some(4))
        }
    }

    fn command_msg(&self, host: &str, result: &Map<String, Value>, caption: &str) -> String {
        let text = |k: &str| result.get(k).and_then(Value::as_str).unwrap_or_default();
        let rc = result
            .get("rc")
            .map(|v| v.to_string())
            .unwrap_or_else(|| "-1".into());
        if self.one_line {
            let esc = |s: &str| s.replace('\n', "\\n").replace('\r', "\\r");
            let stdout = esc(text("stdout"));
            let stderr = text("stderr");
            if stderr.is_empty() {
                format!("{host} | {caption} | rc={rc} | (stdout) {stdout}")
            } else {
                format!(
                    "{host} | {caption} | rc={rc} | (stdout) {stdout} (stderr) {}",
                    esc(stderr)
                )
            }
        } else {
            format!(
                "{host} | {caption} | rc={rc} >>\n{}{}{}\n",
                text("stdout"),
                text("stderr"),
                text("msg")
            )
        }
    }

    fn line(&self, r: &HostResult) -> String {
        let host = &r.host;
        let raw = match &r.result {
            Value::Object(m) => m.clone(),
            _ => Map::new(),
        };
        match r.status {
            Status::Ok | Status::Changed => {
                let state = if r.status == Status::Changed {
                    "CHANGED"
                } else {
                    "SUCCESS"
                };
                if self.no_json() && !raw.contains_key("ansible_job_id") {
                    self.command_msg(host, &raw, state)
                } else {
                    format!("{host} | {state} => {}", self.json(self.abridged(r)))
                }
            }
            Status::Failed => {
                if self.no_json() && !raw.contains_key("module_stderr") {
                    self.command_msg(host, &raw, "FAILED")
                } else {
                    format!("{host} | FAILED! => {}", self.json(self.abridged(r)))
                }
            }
            Status::Skipped => format!("{host} | SKIPPED"),
            Status::Unreachable => {
                if self.one_line {
                    let msg = raw.get("msg").and_then(Value::as_str).unwrap_or_default();
                    format!("{host} | UNREACHABLE!: {msg}")
                } else {
                    format!("{host} | UNREACHABLE! => {}", self.json(self.abridged(r)))
                }
            }
        }
    }

    fn write_tree(&self, r: &HostResult) {
        let Some(dir) = &self.tree else { return };
        if r.status == Status::Skipped {
            return;
        }
        let text = dumps(&Value::Object(self.abridged(r)), None);
        let written = std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::write(dir.join(&r.host), text.as_bytes()));
        if let Err(e) = written {
            if let Ok(mut errors) = self.tree_errors.lock() {
                errors.push(format!(
                    "Unable to write to {}'s file: {e}",
                    dir.join(&r.host).display()
                ));
            }
        }
    }
}

impl EventSink for AdHocReporter {
    fn emit(&self, event: &Event) {
        match event {
            Event::HostResult(r) => {
                if r.status == Status::Failed {
                    if let Some(error) = &r.error {
                        let text =
                            format!("[ERROR]: {error}\nOrigin: <adhoc '{}' task>\n", self.module);
                        eprintln!("{}", self.colors.paint(Role::Error, &text));
                    }
                }
                let line = self.line(r);
                // ansible's display colours the text without its final newline, then ends the
                // line.
                let body = line.strip_suffix('\n').unwrap_or(&line);
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{}", self.colors.paint(Self::role(r.status), body));
                let _ = out.flush();
                self.write_tree(r);
            }
            Event::Warning { message } => super::warning(&self.colors, message),
            Event::NoHostsMatched { .. } => {
                super::warning(&self.colors, "No hosts matched, nothing to do")
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    fn result(status: Status, value: Value) -> HostResult {
        HostResult {
            host: "web1".into(),
            delegated_to: None,
            status,
            ignored: false,
            item: None,
            result: value,
            error: None,
            duration: Duration::ZERO,
        }
    }

    #[test]
    fn command_results_are_text_and_others_json() {
        let cmd = AdHocReporter::new("command", false, None, 0);
        let r = result(
            Status::Changed,
            json!({"changed": true, "rc": 0, "stdout": "hi", "stderr": "", "failed": false}),
        );
        assert_eq!(cmd.line(&r), "web1 | CHANGED | rc=0 >>\nhi\n");
        let one = AdHocReporter::new("ansible.builtin.shell", true, None, 0);
        assert_eq!(one.line(&r), "web1 | CHANGED | rc=0 | (stdout) hi");
        let ping = AdHocReporter::new("ping", false, None, 0);
        let r = result(
            Status::Ok,
            json!({"ping": "pong", "changed": false, "failed": false, "invocation": {}}),
        );
        assert_eq!(
            ping.line(&r),
            "web1 | SUCCESS => {\n    \"changed\": false,\n    \"ping\": \"pong\"\n}"
        );
        let one = AdHocReporter::new("ping", true, None, 0);
        assert_eq!(
            one.line(&r),
            "web1 | SUCCESS => {\"changed\": false,\"ping\": \"pong\"}"
        );
    }

    #[test]
    fn failures_carry_the_task_error_and_unreachable_its_message() {
        let ping = AdHocReporter::new("ping", false, None, 0);
        let mut r = result(Status::Failed, json!({"failed": true, "msg": "boom"}));
        r.error = Some("Task failed: Module failed: boom".into());
        assert!(ping
            .line(&r)
            .contains("\"msg\": \"Task failed: Module failed: boom\""));
        let r = result(
            Status::Unreachable,
            json!({"unreachable": true, "msg": "no route", "changed": false}),
        );
        assert!(ping.line(&r).starts_with("web1 | UNREACHABLE! => {"));
        let one = AdHocReporter::new("ping", true, None, 0);
        assert_eq!(one.line(&r), "web1 | UNREACHABLE!: no route");
    }
}

//! ansible-playbook's text layout: PLAY / TASK banners, one line per host, PLAY RECAP — plus each
//! task's elapsed time. Scripts that parse ansible-playbook output keep working.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use drover_core::events::{Event, EventSink, HostResult, HostStats, Status};
use drover_core::executor::format_duration;
use drover_core::vars::Value;
use similar::TextDiff;

use super::color::{Colors, Role};
use super::profile::Profile;
use super::progress::Progress;

/// Prints events the way ansible-playbook does.
pub struct HumanReporter {
    verbosity: u8,
    diff: bool,
    colors: Colors,
    /// Width of banners: 79 columns, or the terminal's less one (as ansible's display).
    columns: usize,
    /// `--profile`: the slowest tasks and per-host times after the recap.
    profile: Option<Profile>,
    state: Mutex<State>,
    progress: Progress,
}

#[derive(Default)]
struct State {
    module: Option<String>,
    /// `file:line:col` of the task whose results are printed.
    location: String,
    /// Title and location of the last banner printed.
    last_banner: Option<(String, String)>,
    /// Free strategy: the task each host is running, printed with its first result.
    pending: std::collections::HashMap<String, TaskHeader>,
}

/// A task banner waiting for a result (free strategy).
#[derive(Clone)]
struct TaskHeader {
    title: String,
    location: String,
    module: Option<String>,
}

impl HumanReporter {
    /// A reporter for the given `-v` level and `--diff` setting, colouring with `colors`;
    /// with `profile`, the slowest tasks and per-host times follow each recap.
    pub fn new(verbosity: u8, diff: bool, colors: Colors, profile: bool) -> Self {
        let columns = if std::io::stdout().is_terminal() {
            terminal_size::terminal_size_of(std::io::stdout())
                .map(|(w, _)| usize::from(w.0).saturating_sub(1).max(79))
                .unwrap_or(79)
        } else {
            79
        };
        Self {
            verbosity,
            diff,
            colors,
            columns,
            profile: profile.then(Profile::new),
            state: Mutex::new(State::default()),
            progress: Progress::for_terminal(),
        }
    }

    fn paint(&self, role: Role, text: &str) -> String {
        self.colors.paint(role, text)
    }

    /// `TITLE ****…` as wide as the display.
    fn banner(&self, title: &str) -> String {
        banner_width(title, self.columns)
    }

    /// Prints `header`'s banner unless it was the last one printed, and makes its module the
    /// current one.
    fn print_banner(&self, out: &mut impl Write, header: &TaskHeader) {
        let Ok(mut s) = self.state.lock() else {
            return;
        };
        s.module = header.module.clone();
        s.location = header.location.clone();
        let key = (header.title.clone(), header.location.clone());
        if s.last_banner.as_ref() == Some(&key) {
            return;
        }
        s.last_banner = Some(key);
        drop(s);
        let _ = writeln!(out, "{}", self.banner(&header.title));
        if self.verbosity >= 2 {
            let _ = writeln!(out, "task path: {}", header.location);
        }
        if let Some(profile) = &self.profile {
            let _ = writeln!(out, "{}", profile.task_line());
        }
    }

    /// Free strategy: before a result of `host`, the banner of the task it belongs to (when a
    /// different task's banner was printed last, as Ansible's free strategy output does).
    fn banner_for_host(&self, out: &mut impl Write, host: &str) {
        let header = self
            .state
            .lock()
            .ok()
            .and_then(|s| s.pending.get(host).cloned());
        if let Some(header) = header {
            self.print_banner(out, &header);
        }
    }

    fn module(&self) -> String {
        self.state
            .lock()
            .ok()
            .and_then(|s| s.module.clone())
            .unwrap_or_default()
    }
}

/// `TITLE ****…` padded with stars to `columns + 1` columns (80 when not on a terminal), as
/// Ansible's banner.
pub(crate) fn banner_width(title: &str, columns: usize) -> String {
    let stars = columns.saturating_sub(title.chars().count()).max(3);
    format!("\n{title} {}", "*".repeat(stars))
}

/// Python's `json.dumps(sort_keys=True)` layout: compact `{"a": 1, "b": 2}` or indented by 4.
pub fn dump_json(v: &Value, indent: bool) -> String {
    let sorted = sort_keys(v);
    if indent {
        let mut buf = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
        if serde::Serialize::serialize(&sorted, &mut ser).is_err() {
            return sorted.to_string();
        }
        String::from_utf8_lossy(&buf).into_owned()
    } else {
        compact(&sorted)
    }
}

fn compact(v: &Value) -> String {
    match v {
        Value::Array(a) => format!("[{}]", a.iter().map(compact).collect::<Vec<_>>().join(", ")),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", Value::String(k.clone()), compact(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

fn sort_keys(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sort_keys(&m[k])))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(sort_keys).collect()),
        other => other.clone(),
    }
}

/// What Ansible's default callback shows of a result: internal keys dropped, and for `debug`
/// only the message or the variable.
fn displayed_result(result: &Value, module: &str) -> Value {
    let Value::Object(m) = result else {
        return result.clone();
    };
    let mut m = m.clone();
    // `failed: false` is registered but not shown, as Ansible's default callback does.
    // Warnings are shown as their own lines (see `print_result`), never inside the result.
    m.retain(|k, v| {
        !k.starts_with("_ansible")
            && k != "diff"
            && k != "warnings"
            && !(k == "failed" && v == &Value::Bool(false))
    });
    if module == "debug" {
        if m.contains_key("msg") {
            m.retain(|k, _| {
                matches!(
                    k.as_str(),
                    "msg" | "exception" | "warnings" | "deprecations"
                )
            });
        } else {
            for k in ["changed", "failed", "skipped", "invocation", "skip_reason"] {
                m.remove(k);
            }
        }
    }
    Value::Object(m)
}

fn short_module(module: &str) -> &str {
    module.rsplit('.').next().unwrap_or(module)
}

impl HumanReporter {
    fn host_label(r: &HostResult) -> String {
        match &r.delegated_to {
            Some(d) if d != &r.host => format!("{} -> {}", r.host, d),
            _ => r.host.clone(),
        }
    }

    fn print_diff(&self, out: &mut impl Write, result: &Value) {
        let entries: Vec<&Value> = match result.get("diff") {
            Some(Value::Array(a)) => a.iter().collect(),
            Some(d @ Value::Object(_)) => vec![d],
            _ => return,
        };
        for d in entries {
            // Modules such as apt describe their change as one prepared text.
            if let Some(prepared) = d.get("prepared").and_then(Value::as_str) {
                if !prepared.is_empty() {
                    let _ = writeln!(out, "{prepared}\n");
                }
                continue;
            }
            // A module's before/after maps (as `file` returns them) show as sorted JSON.
            let text = |k: &str| match d.get(k) {
                Some(Value::String(s)) => s.clone(),
                Some(m @ Value::Object(_)) => format!("{}\n", dump_json(m, true)),
                _ => String::new(),
            };
            let (before, after) = (text("before"), text("after"));
            let (before, after) = (before.as_str(), after.as_str());
            if before == after {
                continue;
            }
            let header_b = d
                .get("before_header")
                .and_then(Value::as_str)
                .unwrap_or("before");
            let header_a = d
                .get("after_header")
                .and_then(Value::as_str)
                .unwrap_or("after");
            let diff = TextDiff::from_lines(before, after);
            let rendered = diff
                .unified_diff()
                .context_radius(3)
                .header(
                    &format!("before: {header_b}"),
                    &format!("after: {header_a}"),
                )
                .to_string();
            for line in rendered.lines() {
                let colored = match line.chars().next() {
                    Some('+') if !line.starts_with("+++") => self.paint(Role::DiffAdd, line),
                    Some('-') if !line.starts_with("---") => self.paint(Role::DiffRemove, line),
                    Some('@') => self.paint(Role::DiffLines, line),
                    _ => line.to_string(),
                };
                let _ = writeln!(out, "{colored}");
            }
            let _ = writeln!(out);
        }
    }

    fn print_result(&self, out: &mut impl Write, r: &HostResult) {
        let module = self.module();
        let short = short_module(&module);
        let verbose_always = matches!(short, "debug" | "assert");
        // A failure is shown indented when its action always is (`debug`); `assert` is unless
        // `quiet`, which the result does not tell: its failures stay on one line.
        let failure_indented = short == "debug" || self.verbosity > 2;
        let label = Self::host_label(r);
        // A successful include is shown by its `included:` line.
        if matches!(short, "include_tasks" | "include_role" | "include") && r.status == Status::Ok {
            return;
        }
        // The aggregate of a loop: items were already shown one by one.
        if r.item.as_deref() == Some("") {
            if r.ignored {
                let _ = writeln!(out, "{}", self.paint(Role::Skip, "...ignoring"));
            }
            // Every item skipped (or none to loop over): the task itself shows as skipped.
            if r.status == Status::Skipped {
                let _ = writeln!(
                    out,
                    "{}",
                    self.paint(Role::Skip, &format!("skipping: [{label}]"))
                );
            }
            return;
        }
        if self.diff && matches!(r.status, Status::Changed | Status::Ok) {
            self.print_diff(out, &r.result);
        }
        // A result's warnings show as Ansible's `[WARNING]:` lines, before the result itself.
        if let Some(Value::Array(warnings)) = r.result.get("warnings") {
            let _ = out.flush();
            for w in warnings.iter().filter_map(Value::as_str) {
                let _ = writeln!(
                    std::io::stderr(),
                    "{}",
                    self.paint(Role::Warn, &format!("[WARNING]: {w}"))
                );
            }
        }
        if let (Status::Failed, Some(error)) = (r.status, &r.error) {
            let location = self
                .state
                .lock()
                .map(|s| s.location.clone())
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{}",
                self.paint(Role::Error, &format!("[ERROR]: {error}"))
            );
            if let Some(block) = super::origin::origin_block(&location) {
                let _ = writeln!(out, "{}", self.paint(Role::Error, &block));
            }
        }
        let mut shown = displayed_result(&r.result, short);
        // ansible-core 2.19 leaves the `failed` flag out of a failure's displayed result.
        if r.status == Status::Failed {
            if let Value::Object(m) = &mut shown {
                m.remove("failed");
            }
        }
        let item = r.item.as_ref().map(|i| format!(" (item={i})"));
        let line = match r.status {
            Status::Ok | Status::Changed | Status::Skipped => {
                let (word, color) = match r.status {
                    Status::Ok => ("ok", Role::Ok),
                    Status::Changed => ("changed", Role::Changed),
                    _ => ("skipping", Role::Skip),
                };
                let mut line = format!("{word}: [{label}]");
                if let Some(i) = &item {
                    line.push_str(" =>");
                    line.push_str(i);
                    // ansible-playbook ends a skipped item's line with a space.
                    if r.status == Status::Skipped {
                        line.push(' ');
                    }
                }
                // Skips show their reason from -v on (even for debug), without the flag itself.
                let show = if r.status == Status::Skipped {
                    if let Value::Object(m) = &mut shown {
                        m.remove("skipped");
                    }
                    self.verbosity > 0
                } else {
                    verbose_always || self.verbosity > 0
                };
                if show {
                    line.push_str(" => ");
                    line.push_str(&dump_json(&shown, verbose_always || self.verbosity > 2));
                }
                self.paint(color, &line)
            }
            Status::Failed => {
                let text = match &item {
                    Some(i) => format!(
                        "failed: [{label}]{i} => {}",
                        dump_json(&shown, failure_indented)
                    ),
                    None => format!(
                        "fatal: [{label}]: FAILED! => {}",
                        dump_json(&shown, failure_indented)
                    ),
                };
                self.paint(Role::Error, &text)
            }
            Status::Unreachable => {
                let text = match &item {
                    Some(i) => format!(
                        "fatal: [{label}]{i}: UNREACHABLE! => {}",
                        dump_json(&shown, false)
                    ),
                    None => format!(
                        "fatal: [{label}]: UNREACHABLE! => {}",
                        dump_json(&shown, false)
                    ),
                };
                self.paint(Role::Unreachable, &text)
            }
        };
        let _ = writeln!(out, "{line}");
        if r.ignored && r.item.is_none() {
            let _ = writeln!(out, "{}", self.paint(Role::Skip, "...ignoring"));
        }
    }

    fn print_recap(&self, out: &mut impl Write, hosts: &[(String, HostStats)]) {
        let _ = writeln!(out, "{}", self.banner("PLAY RECAP"));
        let c = &self.colors;
        for (h, s) in hosts {
            let role = if s.failed > 0 || s.unreachable > 0 {
                Role::Error
            } else if s.changed > 0 {
                Role::Changed
            } else {
                Role::Ok
            };
            let _ = writeln!(
                out,
                "{} : {} {} {} {} {} {} {}",
                c.recap_host(h, role),
                c.counter("ok", s.ok, Role::Ok),
                c.counter("changed", s.changed, Role::Changed),
                c.counter("unreachable", s.unreachable, Role::Unreachable),
                c.counter("failed", s.failed, Role::Error),
                c.counter("skipped", s.skipped, Role::Skip),
                c.counter("rescued", s.rescued, Role::Ok),
                c.counter("ignored", s.ignored, Role::Warn),
            );
        }
        let _ = writeln!(out);
    }
}

impl EventSink for HumanReporter {
    fn emit(&self, event: &Event) {
        if let Some(profile) = &self.profile {
            profile.observe(event);
        }
        self.progress.around(event, || self.print_event(event));
    }
}

impl HumanReporter {
    fn print_event(&self, event: &Event) {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        match event {
            Event::PlaybookStart { .. } => {}
            Event::PlayStart { name, .. } => {
                let _ = writeln!(out, "{}", self.banner(&format!("PLAY [{name}]")));
            }
            Event::NoHostsMatched { name } => {
                let _ = writeln!(out, "{}", self.banner(&format!("PLAY [{name}]")));
                let _ = writeln!(
                    out,
                    "{}",
                    self.paint(Role::Skip, "skipping: no hosts matched")
                );
            }
            Event::TaskStart {
                name,
                handler,
                module,
                location,
                host,
                ..
            } => {
                let kind = if *handler { "RUNNING HANDLER" } else { "TASK" };
                let header = TaskHeader {
                    title: format!("{kind} [{name}]"),
                    location: location.clone(),
                    module: module.clone(),
                };
                match host {
                    Some(h) => {
                        if let Ok(mut s) = self.state.lock() {
                            s.pending.insert(h.clone(), header);
                        }
                    }
                    None => {
                        if let Ok(mut s) = self.state.lock() {
                            s.last_banner = None;
                            s.pending.clear();
                        }
                        self.print_banner(&mut out, &header);
                    }
                }
            }
            Event::HostResult(r) => {
                self.banner_for_host(&mut out, &r.host);
                self.print_result(&mut out, r);
            }
            Event::Included {
                target,
                hosts,
                item,
            } => {
                if let Some(h) = hosts.first() {
                    self.banner_for_host(&mut out, h);
                }
                let mut line = format!("included: {target} for {}", hosts.join(", "));
                if let Some(i) = item {
                    line.push_str(&format!(" => (item={i})"));
                }
                let _ = writeln!(out, "{}", self.paint(Role::Included, &line));
            }
            // Free strategy: tasks end per host; no per-task time.
            Event::TaskEnd { host: Some(_), .. } => {}
            Event::TaskEnd { duration, .. } => {
                let _ = writeln!(
                    out,
                    "{}",
                    self.paint(
                        Role::Timing,
                        &format!("task time: {}", format_duration(*duration))
                    )
                );
            }
            Event::Retry {
                host,
                delegated_to,
                task,
                retries_left,
            } => {
                self.banner_for_host(&mut out, host);
                let label = match delegated_to {
                    Some(d) if d != host => format!("{host} -> {d}"),
                    _ => host.clone(),
                };
                let line =
                    format!("FAILED - RETRYING: [{label}]: {task} ({retries_left} retries left).");
                let _ = writeln!(out, "{}", self.paint(Role::Debug, &line));
            }
            Event::Warning { message } => {
                let _ = writeln!(
                    std::io::stderr(),
                    "{}",
                    self.paint(Role::Warn, &format!("[WARNING]: {message}"))
                );
            }
            Event::Interrupted => {
                let _ = writeln!(
                    std::io::stderr(),
                    "{}",
                    self.paint(Role::Error, "[ERROR]: User interrupted execution")
                );
            }
            // Only `--summary` reads checkpoints.
            Event::HostCheckpoint(_) => {}
            Event::Recap { hosts, duration } => {
                self.print_recap(&mut out, hosts);
                let _ = writeln!(out, "total time: {}", format_duration(*duration));
                if let Some(profile) = &self.profile {
                    let _ = write!(
                        out,
                        "{}",
                        profile.summary(hosts, self.columns, self.verbosity)
                    );
                }
            }
        }
        let _ = out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn banner_is_80_columns() {
        let b = banner_width("PLAY [all]", 79);
        assert_eq!(b.trim_start_matches('\n').chars().count(), 80);
        assert!(b.ends_with("***"));
    }

    #[test]
    fn json_like_python() {
        let v = json!({"msg": "x", "changed": false, "list": [1, 2]});
        assert_eq!(
            dump_json(&v, false),
            r#"{"changed": false, "list": [1, 2], "msg": "x"}"#
        );
        assert_eq!(
            dump_json(&json!({"msg": "Hello"}), true),
            "{\n    \"msg\": \"Hello\"\n}"
        );
    }

    #[test]
    fn debug_shows_only_its_message() {
        let r = json!({"msg": "hi", "changed": false, "_ansible_verbose_always": true});
        assert_eq!(displayed_result(&r, "debug"), json!({"msg": "hi"}));
        let r = json!({"myvar": 3, "changed": false, "failed": false});
        assert_eq!(displayed_result(&r, "debug"), json!({"myvar": 3}));
    }
}

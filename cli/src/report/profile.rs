//! `--profile`: what ansible.posix's `profile_tasks` callback prints (a timestamp line under each
//! task banner, then `TASKS RECAP` with the 20 slowest tasks), and drover's `HOSTS RECAP`: each
//! host's time in tasks and when its last result came, to find the host that holds a run back.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use drover_core::events::{Event, HostStats};

/// Tasks listed in `TASKS RECAP` at most (profile_tasks' default `output_limit`).
const TOP_TASKS: usize = 20;

/// Collects task and host times from the events of a run.
pub struct Profile {
    /// When the program started (profile_tasks' `t0`).
    started: Instant,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// When the last timestamp line was printed (profile_tasks' `tn`).
    last_mark: Option<Instant>,
    /// Tasks in the order they first started.
    tasks: Vec<TaskTime>,
    /// `(name, location)` → index in `tasks`.
    index: HashMap<(String, String), usize>,
    /// The task running now (linear strategies), or per host (`free`).
    current: Option<usize>,
    current_on: HashMap<String, usize>,
    hosts: HashMap<String, HostTime>,
}

struct TaskTime {
    name: String,
    location: String,
    elapsed: Duration,
}

#[derive(Default, Clone, Copy)]
struct HostTime {
    /// Time in this host's task results (a loop counted once, by its overall result).
    busy: Duration,
    /// Task results (loops once).
    results: u32,
    /// Since the start of the run, when its last result came.
    last: Duration,
}

impl Default for Profile {
    fn default() -> Self {
        Self::new()
    }
}

impl Profile {
    /// A profile whose clock starts now.
    pub fn new() -> Self {
        Self {
            started: Instant::now(),
            state: Mutex::new(State::default()),
        }
    }

    /// Takes the times an event carries.
    pub fn observe(&self, event: &Event) {
        let Ok(mut s) = self.state.lock() else {
            return;
        };
        match event {
            Event::TaskStart {
                name,
                location,
                host,
                ..
            } => {
                let key = (name.clone(), location.clone());
                let i = match s.index.get(&key) {
                    Some(&i) => i,
                    None => {
                        s.tasks.push(TaskTime {
                            name: name.clone(),
                            location: location.clone(),
                            elapsed: Duration::ZERO,
                        });
                        let i = s.tasks.len() - 1;
                        s.index.insert(key, i);
                        i
                    }
                };
                match host {
                    Some(h) => {
                        s.current_on.insert(h.clone(), i);
                    }
                    None => s.current = Some(i),
                }
            }
            Event::TaskEnd {
                host: None,
                duration,
                ..
            } => {
                if let Some(i) = s.current.take() {
                    s.tasks[i].elapsed += *duration;
                }
            }
            // `free`: each host runs the task on its own; the slowest host's time counts.
            Event::TaskEnd {
                host: Some(h),
                duration,
                ..
            } => {
                if let Some(i) = s.current_on.remove(h) {
                    let t = &mut s.tasks[i];
                    t.elapsed = t.elapsed.max(*duration);
                }
            }
            Event::HostResult(r) if r.item.as_deref().is_none_or(str::is_empty) => {
                let now = self.started.elapsed();
                let h = s.hosts.entry(r.host.clone()).or_default();
                h.busy += r.duration;
                h.results += 1;
                h.last = now;
            }
            _ => {}
        }
    }

    /// profile_tasks' timestamp line: the date, the time since the last such line and since
    /// the start, filled with stars.
    pub fn task_line(&self) -> String {
        let now = Instant::now();
        let since_last = match self.state.lock() {
            Ok(mut s) => {
                let last = s.last_mark.replace(now).unwrap_or(self.started);
                now - last
            }
            Err(_) => Duration::ZERO,
        };
        let date = chrono::Local::now().format("%A %d %B %Y  %H:%M:%S %z");
        filled(
            &format!(
                "{date} ({}){}{}",
                clock(since_last),
                " ".repeat(7),
                clock(now - self.started)
            ),
            '*',
        )
    }

    /// `TASKS RECAP` (the slowest tasks, with their paths from `-vv` on, as profile_tasks) and
    /// `HOSTS RECAP` (each host of `hosts`: results, time in tasks, when its last came).
    pub fn summary(&self, hosts: &[(String, HostStats)], columns: usize, verbosity: u8) -> String {
        let mut out = String::new();
        out.push_str(&super::human::banner_width("TASKS RECAP", columns));
        out.push('\n');
        out.push_str(&self.task_line());
        out.push('\n');
        out.push_str(&filled("", '='));
        out.push('\n');
        let Ok(s) = self.state.lock() else {
            return out;
        };
        let mut order: Vec<&TaskTime> = s.tasks.iter().collect();
        // Stable: equal times keep the order the tasks ran in.
        order.sort_by_key(|t| std::cmp::Reverse(t.elapsed));
        let width = columns.saturating_sub(9);
        for t in order.into_iter().take(TOP_TASKS) {
            let time = format!(" {:.2}s", t.elapsed.as_secs_f64());
            out.push_str(&pad(&format!("{} ", t.name), width, '-'));
            out.push_str(&format!("{time:->9}"));
            out.push('\n');
            if verbosity >= 2 {
                out.push_str(&pad(&format!("{} ", t.location), columns, '-'));
                out.push('\n');
            }
        }
        out.push_str(&super::human::banner_width("HOSTS RECAP", columns));
        out.push('\n');
        for (host, _) in hosts {
            let h = s.hosts.get(host).copied().unwrap_or_default();
            out.push_str(&format!(
                "{host:<26} : results={:<4} busy={:<9} last_result_at={}\n",
                h.results,
                format!("{:.2}s", h.busy.as_secs_f64()),
                clock(h.last)
            ));
        }
        out.push('\n');
        out
    }
}

/// Whether ansible.cfg's `callbacks_enabled` (or the older `callback_whitelist`, or
/// `ANSIBLE_CALLBACKS_ENABLED`/`ANSIBLE_CALLBACK_WHITELIST`) names `profile_tasks`.
pub fn enabled_by_config(
    cfg: &drover_core::config::AnsibleConfig,
    env: impl Fn(&str) -> Option<String>,
) -> bool {
    let list = env("ANSIBLE_CALLBACKS_ENABLED")
        .or_else(|| env("ANSIBLE_CALLBACK_WHITELIST"))
        .or_else(|| cfg.ini.get("defaults.callbacks_enabled").cloned())
        .or_else(|| cfg.ini.get("defaults.callback_whitelist").cloned())
        .unwrap_or_default();
    list.split(',')
        .map(str::trim)
        .any(|name| matches!(name, "profile_tasks" | "ansible.posix.profile_tasks"))
}

/// `text` padded with `fill` to `width` characters (Python's `{:-<N}`).
fn pad(text: &str, width: usize, fill: char) -> String {
    let n = text.chars().count();
    let mut s = text.to_string();
    s.extend(std::iter::repeat_n(fill, width.saturating_sub(n)));
    s
}

/// profile_tasks' `filled`: `msg ` then `fill` up to 79 columns (at least 3), then a space.
fn filled(msg: &str, fill: char) -> String {
    let msg = if msg.is_empty() {
        String::new()
    } else {
        format!("{msg} ")
    };
    let width = 79usize.saturating_sub(msg.chars().count()).max(3);
    format!("{msg}{} ", fill.to_string().repeat(width))
}

/// profile_tasks' `secondsToStr`: `H:MM:SS.mmm`.
fn clock(d: Duration) -> String {
    let ms = d.as_millis();
    format!(
        "{}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use drover_core::events::{HostResult, Status};
    use serde_json::json;

    fn start(name: &str) -> Event {
        Event::TaskStart {
            name: name.into(),
            location: format!("site.yml:{}:7", name.len()),
            handler: false,
            module: Some("command".into()),
            host: None,
            hosts: vec!["h1".into()],
        }
    }

    fn end(name: &str, ms: u64) -> Event {
        Event::TaskEnd {
            name: name.into(),
            host: None,
            duration: Duration::from_millis(ms),
        }
    }

    fn result(item: Option<&str>, ms: u64) -> Event {
        Event::HostResult(HostResult {
            host: "h1".into(),
            delegated_to: None,
            status: Status::Ok,
            ignored: false,
            item: item.map(str::to_string),
            result: json!({}),
            error: None,
            duration: Duration::from_millis(ms),
        })
    }

    #[test]
    fn slowest_first_in_profile_tasks_layout() {
        let p = Profile::new();
        for (name, ms) in [("quick", 10), ("slow one", 2500), ("middle", 300)] {
            p.observe(&start(name));
            p.observe(&result(None, ms));
            p.observe(&end(name, ms));
        }
        // A loop: items and the overall result; counted once.
        p.observe(&start("loop"));
        p.observe(&result(Some("a"), 5));
        p.observe(&result(Some(""), 10));
        p.observe(&end("loop", 5));
        let hosts = vec![("h1".to_string(), HostStats::default())];
        let text = p.summary(&hosts, 79, 0);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1], format!("TASKS RECAP {}", "*".repeat(68)));
        assert_eq!(lines[3], format!("{} ", "=".repeat(79)));
        assert_eq!(
            lines[4],
            format!("slow one {} 2.50s", "-".repeat(64)),
            "{text}"
        );
        assert_eq!(lines[4].chars().count(), 79);
        assert!(lines[5].starts_with("middle ---") && lines[5].ends_with(" 0.30s"));
        assert!(lines[6].starts_with("quick ") && lines[7].starts_with("loop "));
        let host = lines.iter().find(|l| l.starts_with("h1 ")).unwrap();
        assert!(host.contains("results=4    busy=2.82s "), "{host}");
        let verbose = p.summary(&hosts, 79, 2);
        assert!(verbose.contains(&format!("site.yml:8:7 {}", "-".repeat(66))));
    }

    #[test]
    fn profile_tasks_enabled_in_ansible_cfg_or_environment() {
        let mut cfg = drover_core::config::AnsibleConfig::default();
        assert!(!enabled_by_config(&cfg, |_| None));
        cfg.ini.insert(
            "defaults.callbacks_enabled".into(),
            "timer, ansible.posix.profile_tasks".into(),
        );
        assert!(enabled_by_config(&cfg, |_| None));
        let env = |k: &str| (k == "ANSIBLE_CALLBACKS_ENABLED").then(|| "timer".to_string());
        assert!(!enabled_by_config(&cfg, env));
    }

    #[test]
    fn clock_and_fill_like_profile_tasks() {
        assert_eq!(clock(Duration::from_millis(3_723_004)), "1:02:03.004");
        assert_eq!(filled("abc", '*'), format!("abc {} ", "*".repeat(75)));
        assert_eq!(filled("", '='), format!("{} ", "=".repeat(79)));
        assert!(Profile::new().task_line().ends_with("* "));
    }
}

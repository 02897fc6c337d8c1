//! A live status line on long runs: when a task has been running for a while, the terminal's last
//! line (on standard error) says which task, for how long, and which hosts it is still waiting
//! for — redrawn every quarter second and erased before any other output is printed.
//!
//! Only drawn when standard error is a terminal and `DROVER_NO_PROGRESS` is not set; the human
//! reporter's output is otherwise unchanged (scripts parsing it never see the line).

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use drover_core::events::Event;

/// How long a task runs before the status line appears.
const SHOW_AFTER: Duration = Duration::from_secs(1);
/// How often the line is redrawn.
const TICK: Duration = Duration::from_millis(250);
/// Hosts named on the line at most.
const NAMED_HOSTS: usize = 4;

/// Set while the program asks for a password on the terminal: the line is neither drawn nor erased.
static PAUSED: AtomicBool = AtomicBool::new(false);

/// Runs `f` (a terminal prompt) with the status line erased and kept off the terminal.
pub fn paused<T>(f: impl FnOnce() -> T) -> T {
    let was = PAUSED.swap(true, Ordering::SeqCst);
    let _ = std::io::stderr().write_all(b"\r\x1b[K");
    let out = f();
    PAUSED.store(was, Ordering::SeqCst);
    out
}

/// What each busy host is doing.
#[derive(Default)]
struct Busy {
    /// Host → (task title, started).
    hosts: BTreeMap<String, (String, Instant)>,
    /// Hosts of the play, in inventory order (for a stable order on the line).
    order: Vec<String>,
    /// The line on the terminal now (empty when none is).
    shown: String,
}

/// The status line's state, shared with its drawing thread.
#[derive(Clone)]
pub struct Progress {
    busy: Option<Arc<Mutex<Busy>>>,
}

impl Progress {
    /// A status line on standard error if it is a terminal (and `DROVER_NO_PROGRESS` is unset),
    /// else one that does nothing.
    pub fn for_terminal() -> Self {
        if !std::io::stderr().is_terminal() || std::env::var_os("DROVER_NO_PROGRESS").is_some() {
            return Self { busy: None };
        }
        let busy = Arc::new(Mutex::new(Busy::default()));
        let weak = Arc::downgrade(&busy);
        std::thread::spawn(move || {
            while let Some(busy) = weak.upgrade() {
                if let Ok(mut b) = busy.lock() {
                    b.draw(Instant::now());
                }
                drop(busy);
                std::thread::sleep(TICK);
            }
        });
        Self { busy: Some(busy) }
    }

    /// Runs `print` (the reporter printing `event`) with the line erased first, and updates what
    /// the line shows from `event`. The line is not redrawn while `print` runs.
    pub fn around(&self, event: &Event, print: impl FnOnce()) {
        let Some(busy) = &self.busy else {
            print();
            return;
        };
        let Ok(mut b) = busy.lock() else {
            print();
            return;
        };
        b.erase();
        b.observe(event, Instant::now());
        print();
    }
}

impl Busy {
    fn observe(&mut self, event: &Event, now: Instant) {
        match event {
            Event::PlayStart { hosts, .. } => {
                self.hosts.clear();
                self.order = hosts.clone();
            }
            Event::TaskStart {
                name,
                handler,
                hosts,
                ..
            } => {
                let kind = if *handler { "RUNNING HANDLER" } else { "TASK" };
                for h in hosts {
                    self.hosts
                        .insert(h.clone(), (format!("{kind} [{name}]"), now));
                }
            }
            // A host's last word on a task: its result, or a loop's aggregate (item "").
            Event::HostResult(r) if r.item.as_deref().is_none_or(str::is_empty) => {
                self.hosts.remove(&r.host);
            }
            Event::TaskEnd { host: Some(h), .. } => {
                self.hosts.remove(h);
            }
            Event::TaskEnd { host: None, .. } | Event::Recap { .. } => self.hosts.clear(),
            _ => {}
        }
    }

    fn erase(&mut self) {
        if !self.shown.is_empty() && !PAUSED.load(Ordering::SeqCst) {
            let _ = std::io::stderr().write_all(b"\r\x1b[K");
            self.shown.clear();
        }
    }

    fn draw(&mut self, now: Instant) {
        if PAUSED.load(Ordering::SeqCst) {
            return;
        }
        match self.line(now) {
            Some(line) => {
                let width = terminal_width();
                let line: String = line.chars().take(width.saturating_sub(1)).collect();
                if line != self.shown {
                    let _ = write!(std::io::stderr(), "\r\x1b[K\x1b[2m{line}\x1b[0m");
                    let _ = std::io::stderr().flush();
                    self.shown = line;
                }
            }
            None => self.erase(),
        }
    }

    /// The status text, once the oldest busy host's task has run for [`SHOW_AFTER`].
    fn line(&self, now: Instant) -> Option<String> {
        let oldest = self.hosts.values().map(|(_, started)| *started).min()?;
        if now.duration_since(oldest) < SHOW_AFTER {
            return None;
        }
        let mut hosts: Vec<(&String, &(String, Instant))> = self.hosts.iter().collect();
        hosts.sort_by_key(|(h, _)| {
            self.order
                .iter()
                .position(|o| o == *h)
                .unwrap_or(usize::MAX)
        });
        let first_title = &hosts[0].1 .0;
        let one_task = hosts.iter().all(|(_, (t, _))| t == first_title);
        let named: Vec<&str> = hosts
            .iter()
            .take(NAMED_HOSTS)
            .map(|(h, _)| h.as_str())
            .collect();
        let more = hosts.len().saturating_sub(NAMED_HOSTS);
        let mut who = named.join(", ");
        if more > 0 {
            who.push_str(&format!(" and {more} more"));
        }
        let secs = now.duration_since(oldest).as_secs();
        Some(if one_task {
            format!("… {first_title} {secs}s — waiting for {who}")
        } else {
            format!("… {} hosts busy for up to {secs}s: {who}", hosts.len())
        })
    }
}

/// Columns of the terminal: `$COLUMNS`, else 80.
fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|&c: &usize| c > 10)
        .unwrap_or(80)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn busy(entries: &[(&str, &str, u64)], now: Instant) -> Busy {
        let mut b = Busy {
            order: ["web1", "web2", "db1", "db2", "db3", "db4"]
                .map(String::from)
                .to_vec(),
            ..Busy::default()
        };
        for (host, title, ago) in entries {
            b.hosts.insert(
                host.to_string(),
                (title.to_string(), now - Duration::from_secs(*ago)),
            );
        }
        b
    }

    #[test]
    fn quiet_for_short_tasks_then_names_the_waited_for_hosts() {
        let now = Instant::now() + Duration::from_secs(100);
        assert_eq!(busy(&[("web1", "TASK [a]", 0)], now).line(now), None);
        assert_eq!(busy(&[], now).line(now), None);
        let b = busy(
            &[("web2", "TASK [apt]", 12), ("web1", "TASK [apt]", 12)],
            now,
        );
        assert_eq!(
            b.line(now).unwrap(),
            "… TASK [apt] 12s — waiting for web1, web2"
        );
    }

    #[test]
    fn many_hosts_and_mixed_tasks() {
        let now = Instant::now() + Duration::from_secs(100);
        let hosts: Vec<(&str, &str, u64)> = ["db4", "db3", "db2", "db1", "web2", "web1"]
            .iter()
            .map(|h| (*h, "TASK [x]", 3))
            .collect();
        assert_eq!(
            busy(&hosts, now).line(now).unwrap(),
            "… TASK [x] 3s — waiting for web1, web2, db1, db2 and 2 more"
        );
        let b = busy(&[("web1", "TASK [a]", 5), ("db1", "TASK [b]", 2)], now);
        assert_eq!(
            b.line(now).unwrap(),
            "… 2 hosts busy for up to 5s: web1, db1"
        );
    }
}

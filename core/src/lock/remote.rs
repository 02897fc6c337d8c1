//! The lock operations on a target: POSIX shell scripts run over the host's connection, as the
//! connecting user first and through become (root) when the lock directory needs it.

use std::sync::Arc;

use super::info::{now_secs, LockInfo, LockKind};
use super::{controller_name, process_alive, LockError};
use crate::connection::{shell_quote, Become, Connection, ExecRequest};

const MARK: &str = "drover-lock:";

/// A host whose locks are taken or inspected, with its connection.
pub struct LockTarget {
    /// Inventory name.
    pub host: String,
    /// Its connection.
    pub conn: Arc<dyn Connection>,
    /// Become settings of the run for this host (`--become`, `ansible_become`), used from the
    /// start when set.
    pub become_: Option<Become>,
    /// Escalation to try when the lock directory refuses the connecting user.
    pub escalate: Option<Become>,
}

/// Operations on the locks of one target under one lock directory.
pub struct LockOps<'a> {
    target: &'a LockTarget,
    dir: &'a str,
}

/// What a lock directory holds for one lock name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LockState {
    /// The lock's directory exists; its info file, when readable and complete.
    pub main: Option<Option<LockInfo>>,
    /// A run's nested lock inside a held token exists; its info.
    pub run: Option<Option<LockInfo>>,
}

/// What taking a lock did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// Created the lock (or the run lock inside our own held token) at this path.
    At(String),
    /// It is already ours: our held token, or this run's lock on a host reached under another
    /// inventory name (taking it again changes nothing).
    AlreadyOurs,
}

impl LockTarget {
    /// Operations on this target's locks under `dir`.
    pub fn ops<'a>(&'a self, dir: &'a str) -> LockOps<'a> {
        LockOps { target: self, dir }
    }
}

/// The lock's directory for lock `name` under `dir`.
pub fn lock_path(dir: &str, name: &str) -> String {
    format!("{}/{name}.lock", dir.trim_end_matches('/'))
}

fn take_script(parent: &str, path: &str, info: &str, create_parent: bool) -> String {
    let mut s = format!(
        "LC_ALL=C; export LC_ALL; umask 022\np={}; l={}; i={}\n",
        shell_quote(parent),
        shell_quote(path),
        shell_quote(info)
    );
    if create_parent {
        s.push_str(&format!(
            "mkdir -p \"$p\" 2>/dev/null\nif [ ! -d \"$p\" ]; then echo {MARK}denied; exit 0; fi\n"
        ));
    } else {
        s.push_str(&format!(
            "if [ ! -d \"$p\" ]; then echo {MARK}gone; exit 0; fi\n"
        ));
    }
    // Another taker's info file follows its `mkdir` within milliseconds: wait for it (so the
    // refusal can name the holder); a lock released meanwhile is tried again.
    s.push_str(&format!(
        "if [ ! -w \"$p\" ]; then echo {MARK}denied; exit 0; fi\n\
         n=0\n\
         while :; do\n\
         if mkdir \"$l\" 2>/dev/null; then\n\
         \x20 if printf '%s' \"$i\" > \"$l/.info\" && mv -f \"$l/.info\" \"$l/info\"; then echo {MARK}taken; else rm -rf \"$l\"; echo {MARK}denied; fi\n\
         \x20 exit 0\n\
         fi\n\
         w=0\n\
         while [ -d \"$l\" ] && [ ! -f \"$l/info\" ] && [ $w -lt 30 ]; do sleep 0.1; w=$((w+1)); done\n\
         if [ -d \"$l\" ]; then echo {MARK}held; cat \"$l/info\" 2>/dev/null; exit 0; fi\n\
         n=$((n+1)); if [ $n -ge 3 ]; then echo {MARK}denied; exit 0; fi\n\
         done\n"
    ));
    s
}

fn read_script(path: &str) -> String {
    format!(
        "l={}\n\
         if [ -d \"$l\" ]; then echo {MARK}main; cat \"$l/info\" 2>/dev/null; fi\n\
         if [ -d \"$l/run\" ]; then echo {MARK}run; cat \"$l/run/info\" 2>/dev/null; fi\n\
         echo {MARK}end\n",
        shell_quote(path)
    )
}

fn release_script(path: &str, token: Option<&str>) -> String {
    let check = match token {
        Some(t) => format!(
            "if ! grep -qx {} \"$l/info\" 2>/dev/null; then echo {MARK}notours; exit 0; fi\n",
            shell_quote(&format!("token={t}"))
        ),
        None => String::new(),
    };
    format!(
        "l={}\nif [ ! -e \"$l\" ]; then echo {MARK}absent; exit 0; fi\n{check}\
         rm -rf \"$l\" 2>/dev/null\n\
         if [ -e \"$l\" ]; then echo {MARK}denied; else echo {MARK}released; fi\n",
        shell_quote(path)
    )
}

/// The marker word of a script's output and the text after its line.
fn outcome(stdout: &str) -> (&str, &str) {
    let Some(start) = stdout.find(MARK) else {
        return ("", "");
    };
    let rest = &stdout[start + MARK.len()..];
    match rest.split_once('\n') {
        Some((word, tail)) => (word.trim(), tail),
        None => (rest.trim(), ""),
    }
}

impl LockOps<'_> {
    /// Runs a lock script; retries through become when it reports the directory refused the
    /// connecting user. Returns the script's output.
    async fn run(&self, script: String) -> Result<String, LockError> {
        let t = self.target;
        let mut tries: Vec<Option<Become>> = vec![t.become_.clone()];
        if t.become_.is_none() {
            if let Some(b) = &t.escalate {
                tries.push(Some(b.clone()));
            }
        }
        let mut last = String::new();
        for become_ in tries {
            let mut req = ExecRequest::new(script.clone());
            req.become_ = become_;
            let out = t.conn.exec(&req).await.map_err(|e| LockError::Failed {
                host: t.host.clone(),
                reason: e.to_string(),
            })?;
            let stdout = out.stdout_str();
            if out.rc != 0 {
                last = format!(
                    "the lock script failed (rc {}): {}",
                    out.rc,
                    out.stderr_str().trim()
                );
                continue;
            }
            if outcome(&stdout).0 == "denied" {
                last = format!(
                    "permission denied in the lock directory {}{}",
                    self.dir,
                    if req.become_.is_some() {
                        " (also with become)"
                    } else {
                        ""
                    }
                );
                continue;
            }
            return Ok(stdout);
        }
        Err(LockError::Failed {
            host: t.host.clone(),
            reason: format!(
                "{last}; allow the connecting user to write there (or to become root), choose another --lock-dir, or run with --no-lock"
            ),
        })
    }

    fn held(&self, path: String, text: &str) -> LockError {
        let holder = LockInfo::parse(text);
        let stale = holder
            .as_ref()
            .and_then(|h| h.staleness(now_secs(), &controller_name(), process_alive));
        LockError::Held {
            host: self.target.host.clone(),
            path,
            holder,
            stale,
        }
    }

    /// Takes lock `name` for `info`'s holder. A held token of the same owner lets a run in:
    /// the run takes the nested `run` lock inside it instead.
    pub async fn take(&self, name: &str, info: &LockInfo) -> Result<Taken, LockError> {
        let path = lock_path(self.dir, name);
        let text = info.to_text();
        for _ in 0..3 {
            let out = self.run(take_script(self.dir, &path, &text, true)).await?;
            match outcome(&out) {
                ("taken", _) => return Ok(Taken::At(path)),
                ("held", rest) => {
                    let holder = LockInfo::parse(rest);
                    // The same machine reached under two inventory names in one run.
                    let this_run = holder.as_ref().is_some_and(|h| {
                        h.kind == LockKind::Run
                            && info.kind == LockKind::Run
                            && h.controller == info.controller
                            && h.pid == info.pid
                            && h.started == info.started
                    });
                    if this_run {
                        return Ok(Taken::AlreadyOurs);
                    }
                    let ours_token = holder
                        .as_ref()
                        .is_some_and(|h| h.kind == LockKind::Held && h.owner == info.owner);
                    if !ours_token {
                        return Err(self.held(path, rest));
                    }
                    if info.kind == LockKind::Held {
                        return Ok(Taken::AlreadyOurs);
                    }
                    let run = format!("{path}/run");
                    let out = self.run(take_script(&path, &run, &text, false)).await?;
                    match outcome(&out) {
                        ("taken", _) => return Ok(Taken::At(run)),
                        ("held", rest) => return Err(self.held(run, rest)),
                        // The token was released in between: try again from the start.
                        _ => continue,
                    }
                }
                (other, _) => {
                    return Err(LockError::Failed {
                        host: self.target.host.clone(),
                        reason: format!("unexpected answer from the lock script: '{other}'"),
                    })
                }
            }
        }
        Err(LockError::Failed {
            host: self.target.host.clone(),
            reason: "the lock kept changing while it was being taken".into(),
        })
    }

    /// What lock `name` looks like now.
    pub async fn read(&self, name: &str) -> Result<LockState, LockError> {
        let out = self.run(read_script(&lock_path(self.dir, name))).await?;
        let mut state = LockState::default();
        let mut section: Option<&str> = None;
        let mut text = String::new();
        let flush = |section: Option<&str>, text: &mut String, state: &mut LockState| {
            let info = Some(LockInfo::parse(text));
            match section {
                Some("main") => state.main = info,
                Some("run") => state.run = info,
                _ => {}
            }
            text.clear();
        };
        for line in out.lines() {
            if let Some(word) = line.strip_prefix(MARK) {
                flush(section, &mut text, &mut state);
                section = Some(match word.trim() {
                    "main" => "main",
                    "run" => "run",
                    _ => "end",
                });
            } else if section.is_some() {
                text.push_str(line);
                text.push('\n');
            }
        }
        Ok(state)
    }

    /// Removes the lock at `path` if it still carries `token` (any lock there with `None`).
    /// True if it was removed; false if it was absent or not ours.
    pub async fn release_path(&self, path: &str, token: Option<&str>) -> Result<bool, LockError> {
        let out = self.run(release_script(path, token)).await?;
        Ok(outcome(&out).0 == "released")
    }

    /// Removes lock `name` (and a run lock inside it) whoever holds it.
    pub async fn force_release(&self, name: &str) -> Result<bool, LockError> {
        self.release_path(&lock_path(self.dir, name), None).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_reads_the_marker_line() {
        assert_eq!(
            outcome("noise\ndrover-lock:held\nowner=a\n"),
            ("held", "owner=a\n")
        );
        assert_eq!(outcome("drover-lock:taken\n"), ("taken", ""));
        assert_eq!(outcome("nothing"), ("", ""));
    }

    #[test]
    fn scripts_quote_paths_and_check_tokens() {
        let s = take_script(
            "/var/lib/drover/locks",
            "/var/lib/drover/locks/host.lock",
            "owner=a b\n",
            true,
        );
        assert!(s.contains("mkdir -p \"$p\""), "{s}");
        assert!(s.contains("i='owner=a b\n'"), "{s}");
        let r = release_script("/x/host.lock", Some("abc"));
        assert!(r.contains("grep -qx token=abc"), "{r}");
        assert!(!release_script("/x/host.lock", None).contains("grep"));
        assert_eq!(lock_path("/x/", "deploy"), "/x/deploy.lock");
    }
}

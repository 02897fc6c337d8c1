//! A long-lived `/bin/sh` in a container (one `docker exec -i … /bin/sh` or `lxc-attach … --
//! /bin/sh` process), fed drover's own short scripts on its stdin: a probe or attribute change
//! then costs one write and one read instead of a CLI process attaching to the container (for
//! docker also an exec created and started by the daemon).
//!
//! Framing as on the SSH transport's shared shell: each script runs as
//! `( eval '<script>' ) </dev/null`, then the shell prints `\n<marker> <status>\n` on stdout and
//! `\n<marker>\n` on stderr, with a marker that is random per script.

use std::process::Stdio;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStderr, ChildStdin, ChildStdout};

use tokio::sync::Mutex;

use super::shell_framing::{find, find_status, shared_shell_line};
use super::{shell_quote, ExecOutput, ExecRequest};

/// One running shell process.
pub(super) struct ExecShell {
    child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
    stderr: ChildStderr,
    /// A script was sent and its end not read (its caller was dropped): the shell must not be
    /// used again.
    interrupted: bool,
}

impl ExecShell {
    /// Starts `program args…` (a shell in a container) and checks that it answers.
    pub(super) async fn start(program: &str, args: &[String]) -> Result<Self, String> {
        let mut child = tokio::process::Command::new(program)
            .args(args)
            // lxc-attach starts the shell in this directory when the container has it.
            .current_dir("/")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start {program}: {e}"))?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err("the shell's pipes are missing".into());
        };
        let mut shell = Self {
            child,
            stdin,
            stdout,
            stderr,
            interrupted: false,
        };
        match shell.run("true").await {
            Ok(out) if out.rc == 0 => Ok(shell),
            Ok(out) => Err(format!(
                "the shell answered status {}: {}",
                out.rc,
                out.stderr_str().trim()
            )),
            Err(e) => Err(e),
        }
    }

    /// True when an earlier script was abandoned half-way.
    pub(super) fn interrupted(&self) -> bool {
        self.interrupted
    }

    /// Runs `line` in a subshell with stdin from `/dev/null`. An error means the shell is gone
    /// (the script's effect is unknown).
    pub(super) async fn run(&mut self, line: &str) -> Result<ExecOutput, String> {
        self.interrupted = true;
        let result = self.run_framed(line).await;
        self.interrupted = result.is_err();
        result
    }

    async fn run_framed(&mut self, line: &str) -> Result<ExecOutput, String> {
        let marker = format!("__drover_end_{:032x}", rand::random::<u128>());
        let framed = format!(
            "( eval {} ) </dev/null; printf '\\n%s %s\\n' {marker} \"$?\"; printf '\\n%s\\n' {marker} >&2\n",
            shell_quote(line)
        );
        self.stdin
            .write_all(framed.as_bytes())
            .await
            .map_err(|e| format!("sending to the shell: {e}"))?;
        self.stdin
            .flush()
            .await
            .map_err(|e| format!("sending to the shell: {e}"))?;
        let out_end = format!("\n{marker} ");
        let err_end = format!("\n{marker}\n");
        let mut out = ExecOutput::default();
        let mut status: Option<(usize, i32)> = None;
        let mut err_done: Option<usize> = None;
        let (mut out_buf, mut err_buf) = (vec![0u8; 16384], vec![0u8; 16384]);
        loop {
            if let (Some((cut, rc)), Some(err_cut)) = (status, err_done) {
                out.stdout.truncate(cut);
                out.stderr.truncate(err_cut);
                out.rc = rc;
                return Ok(out);
            }
            tokio::select! {
                n = self.stdout.read(&mut out_buf), if status.is_none() => {
                    let n = n.map_err(|e| format!("reading the shell: {e}"))?;
                    if n == 0 {
                        return Err("the shell exited".into());
                    }
                    let from = out.stdout.len().saturating_sub(out_end.len() + 12);
                    out.stdout.extend_from_slice(&out_buf[..n]);
                    status = find_status(&out.stdout, from, out_end.as_bytes());
                }
                n = self.stderr.read(&mut err_buf), if err_done.is_none() => {
                    let n = n.map_err(|e| format!("reading the shell: {e}"))?;
                    if n == 0 {
                        return Err("the shell exited".into());
                    }
                    let from = out.stderr.len().saturating_sub(err_end.len());
                    out.stderr.extend_from_slice(&err_buf[..n]);
                    err_done = find(&out.stderr, from, err_end.as_bytes());
                }
            }
        }
    }

    /// Ends the shell.
    pub(super) async fn close(mut self) {
        let _ = self.stdin.shutdown().await;
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

/// State of a connection's long-lived shell.
enum ShellSlot {
    /// Not needed yet.
    NotStarted,
    /// Running and idle (whoever holds the lock is using it).
    Running(Box<ExecShell>),
    /// Could not be started, failed, or not offered (CLI on another host): every command gets
    /// a CLI process of its own.
    Unavailable,
}

/// A container connection's long-lived shell, started on first use by running a program (the
/// CLI attaching a `/bin/sh` to the container).
pub(super) struct SharedShell {
    slot: Mutex<ShellSlot>,
}

impl SharedShell {
    /// A shell started on first use when `offered`; otherwise none, ever.
    pub(super) fn new(offered: bool) -> Self {
        Self {
            slot: Mutex::new(if offered {
                ShellSlot::NotStarted
            } else {
                ShellSlot::Unavailable
            }),
        }
    }

    /// True unless the shell is known to be unusable (see [`super::Connection::has_shared_shell`]).
    pub(super) fn available(&self) -> bool {
        self.slot
            .try_lock()
            .map_or(true, |slot| !matches!(*slot, ShellSlot::Unavailable))
    }

    /// Runs `req` on the shell when it qualifies (see [`shared_shell_line`]) and the shell is
    /// free, starting it with `program args…` first if needed. `None` means "run it with a CLI
    /// process of its own"; `Some(Err(reason))` means the shell broke while running it (it is
    /// not used again; the script's effect is unknown).
    pub(super) async fn try_run(
        &self,
        req: &ExecRequest,
        program: &str,
        args: impl FnOnce() -> Vec<String>,
    ) -> Option<Result<ExecOutput, String>> {
        let line = shared_shell_line(req)?;
        let mut slot = self.slot.try_lock().ok()?;
        if matches!(&*slot, ShellSlot::Running(shell) if shell.interrupted()) {
            // An abandoned script's output may still be coming: start afresh.
            if let ShellSlot::Running(shell) = std::mem::replace(&mut *slot, ShellSlot::NotStarted)
            {
                shell.close().await;
            }
        }
        if let ShellSlot::NotStarted = *slot {
            *slot = match ExecShell::start(program, &args()).await {
                Ok(shell) => ShellSlot::Running(Box::new(shell)),
                Err(e) => {
                    tracing::debug!(error = %e, "no shared shell in the container");
                    ShellSlot::Unavailable
                }
            };
        }
        let ShellSlot::Running(shell) = &mut *slot else {
            return None;
        };
        match shell.run(&line).await {
            Ok(out) => Some(Ok(out)),
            Err(reason) => {
                if let ShellSlot::Running(shell) =
                    std::mem::replace(&mut *slot, ShellSlot::Unavailable)
                {
                    shell.close().await;
                }
                Some(Err(reason))
            }
        }
    }

    /// Ends the shell; it is not started again.
    pub(super) async fn close(&self) {
        if let ShellSlot::Running(shell) =
            std::mem::replace(&mut *self.slot.lock().await, ShellSlot::Unavailable)
        {
            shell.close().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The framing, on a plain local shell (a container's shell behaves the same).
    #[tokio::test]
    async fn scripts_run_one_after_another_with_their_status() {
        let mut sh = ExecShell::start("/bin/sh", &[]).await.unwrap();
        let out = sh.run("printf abc; echo err >&2; exit 3").await.unwrap();
        assert_eq!(
            (out.rc, out.stdout_str().as_str(), out.stderr_str().as_str()),
            (3, "abc", "err\n")
        );
        let out = sh.run("echo 'it''s'; cd /tmp; pwd").await.unwrap();
        assert_eq!((out.rc, out.stdout_str().as_str()), (0, "its\n/tmp\n"));
        // The subshell's cd did not stick.
        assert_ne!(sh.run("pwd").await.unwrap().stdout_str(), "/tmp\n");
        sh.close().await;
    }
}

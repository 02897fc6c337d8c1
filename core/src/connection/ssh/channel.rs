//! Running one command on its own session channel: stdin in, stdout/stderr/exit status out.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use russh::client::{self, Msg};
use russh::{ChannelMsg, ChannelOpenFailure, ChannelWriteHalf};
use tokio::io::AsyncReadExt;

use super::host_keys::ClientHandler;
use crate::connection::command::shell_quote;
use crate::connection::ExecOutput;

/// Size of the chunks a local file is streamed in.
const UPLOAD_CHUNK: usize = 256 * 1024;

/// How many times a refused channel open is retried (the server may still be tearing down a
/// just-closed session when `MaxSessions` is reached).
const OPEN_RETRIES: u32 = 20;

/// How long to wait for the server's channel close once it sent EOF and the exit status.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// How long output may stay quiet after the exit status while the channel stays open.
const DRAIN_IDLE: Duration = Duration::from_secs(1);

/// Marks the first stderr line, which carries the remote command's process id (its session and
/// process group id) and is removed from the output.
const PID_MARKER: &str = "\u{1e}drover-pid:";

/// Grace period between SIGTERM and SIGKILL for the processes of an abandoned command.
const KILL_GRACE_SECONDS: u32 = 2;

/// What to feed the command's standard input.
pub(super) enum StdinSource<'a> {
    /// Nothing: stdin is closed at once.
    None,
    /// These bytes.
    Bytes(&'a [u8]),
    /// The contents of a local file, streamed (the path is for messages).
    File(tokio::fs::File, &'a Path),
    /// These bytes first (the become password line), then the rest.
    Prefixed(Vec<u8>, Box<StdinSource<'a>>),
}

impl<'a> StdinSource<'a> {
    /// `self`, after `prefix` when there is one.
    pub(super) fn after(self, prefix: Option<Vec<u8>>) -> Self {
        match prefix {
            Some(p) => Self::Prefixed(p, Box::new(self)),
            None => self,
        }
    }
}

/// Why a command could not be run to completion.
#[derive(Debug)]
pub(super) enum RunError {
    /// The channel or connection failed (described for the user).
    Channel(String),
    /// Reading the local input file failed; the remote command was aborted.
    LocalInput(String, std::io::Error),
}

/// Why feeding stdin stopped early.
enum FeedError {
    /// The channel refused more data (usually: the command exited without reading it all).
    Channel(String),
    /// The local file could not be read.
    Local(String, std::io::Error),
}

/// Opens a session channel, runs `command`, feeds stdin, and collects the output until the
/// server closes the channel.
pub(super) async fn run_command(
    handle: &Arc<client::Handle<ClientHandler>>,
    command: &str,
    stdin: StdinSource<'_>,
) -> Result<ExecOutput, RunError> {
    let channel = open_session(handle).await.map_err(RunError::Channel)?;
    let (mut reader, writer) = channel.split();
    let remote_pid = Arc::new(AtomicU32::new(0));
    let writer = AbandonGuard {
        writer: Some(writer),
        armed: std::cell::Cell::new(true),
        handle: handle.clone(),
        remote_pid: remote_pid.clone(),
        privileged: command.starts_with("sudo "),
    };
    let mut pid_pending = true;
    writer
        .exec(true, with_pid_report(command))
        .await
        .map_err(|e| RunError::Channel(format!("cannot start the command: {e}")))?;

    let feed = feed_stdin(&writer, stdin);
    tokio::pin!(feed);
    let mut feeding = true;
    let mut feed_error: Option<FeedError> = None;

    let mut out = ExecOutput::default();
    let mut status: Option<i32> = None;
    let mut eof = false;
    loop {
        let msg = tokio::select! {
            res = &mut feed, if feeding => {
                feeding = false;
                if let Err(e) = res {
                    if let FeedError::Local(..) = e {
                        // Never let the remote side see EOF after partial input.
                        let _ = writer.close().await;
                    }
                    feed_error = Some(e);
                }
                continue;
            }
            msg = reader.wait() => msg,
            // Output and exit status are complete; a server that never closes the channel
            // must not hang the run.
            () = tokio::time::sleep(CLOSE_GRACE), if eof && status.is_some() => break,
            // The command exited but a process it left in the background holds its output
            // open (sshd sends no EOF then): once quiet for DRAIN_IDLE, the output is complete,
            // as ansible-core's run_command decides.
            () = tokio::time::sleep(DRAIN_IDLE), if !eof && !feeding && status.is_some() => break,
        };
        match msg {
            Some(ChannelMsg::Data { data }) => out.stdout.extend_from_slice(&data),
            Some(ChannelMsg::ExtendedData { data, ext }) => {
                if ext == 1 {
                    out.stderr.extend_from_slice(&data);
                    if pid_pending {
                        if let Some(pid) = take_pid_line(&mut out.stderr) {
                            pid_pending = false;
                            remote_pid.store(pid, Ordering::Relaxed);
                        }
                    }
                }
            }
            Some(ChannelMsg::ExitStatus { exit_status }) => {
                status = Some(i32::try_from(exit_status).unwrap_or(-1));
            }
            Some(ChannelMsg::ExitSignal {
                signal_name,
                error_message,
                ..
            }) => {
                status = Some(-1);
                if out.stderr.is_empty() || !error_message.is_empty() {
                    let note = format!("killed by signal {signal_name:?} {error_message}");
                    out.stderr.extend_from_slice(note.trim_end().as_bytes());
                }
            }
            Some(ChannelMsg::Failure) => {
                return Err(RunError::Channel(format!(
                    "the server refused to run the command: {command}"
                )));
            }
            Some(ChannelMsg::Eof) => eof = true,
            Some(ChannelMsg::Close) | None => break,
            Some(_) => {}
        }
    }
    writer.armed.set(false);
    match (status, feed_error) {
        (_, Some(FeedError::Local(what, e))) => Err(RunError::LocalInput(what, e)),
        (Some(rc), _) => {
            out.rc = rc;
            Ok(out)
        }
        (None, Some(FeedError::Channel(e))) => Err(RunError::Channel(format!(
            "channel closed while sending input ({e}) without an exit status"
        ))),
        (None, None) => Err(RunError::Channel(
            "the channel closed without reporting an exit status".to_string(),
        )),
    }
}

/// `command` preceded by a report of its process id on stderr. sshd makes the session's first
/// process a session and process group leader; `exec` keeps that pid through to `command`, so
/// the reported id names the process group of everything the command starts.
fn with_pid_report(command: &str) -> String {
    let inner = format!("printf '{PID_MARKER}%s\\n' \"$$\" >&2; exec {command}");
    format!("exec /bin/sh -c {}", shell_quote(&inner))
}

/// How much stderr may come before the pid line (login-shell noise) before it is given up.
const PID_LINE_WINDOW: usize = 64 * 1024;

/// Removes the pid line from `stderr` once it is complete and returns the pid. Login shells may
/// print something first (`.bashrc` noise), so the line is looked for at any line start within
/// the first [`PID_LINE_WINDOW`] bytes; `Some(0)` gives up (no pid line will come).
fn take_pid_line(stderr: &mut Vec<u8>) -> Option<u32> {
    let marker = PID_MARKER.as_bytes();
    let window = &stderr[..stderr.len().min(PID_LINE_WINDOW)];
    let start = (0..window.len())
        .filter(|&i| i == 0 || window[i - 1] == b'\n')
        .find(|&i| window[i..].starts_with(marker));
    let Some(start) = start else {
        return (stderr.len() >= PID_LINE_WINDOW).then_some(0);
    };
    let end = start + stderr[start..].iter().position(|&b| b == b'\n')?;
    let pid = std::str::from_utf8(&stderr[start + marker.len()..end])
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    stderr.drain(start..=end);
    Some(pid)
}

/// The shell line that stops the process group and session `pid` (SIGTERM, then SIGKILL).
fn kill_line(pid: u32, privileged: bool) -> String {
    let script = format!(
        "kill -TERM -- -{pid} 2>/dev/null; pkill -TERM -s {pid} 2>/dev/null; \
         sleep {KILL_GRACE_SECONDS}; kill -KILL -- -{pid} 2>/dev/null; pkill -KILL -s {pid} 2>/dev/null; true"
    );
    let line = format!("/bin/sh -c {}", shell_quote(&script));
    if privileged {
        format!("sudo -n {line}")
    } else {
        line
    }
}

/// Owns a command's channel writer; if the command is abandoned before it finished (its future
/// dropped, e.g. by a task `timeout`), the remote command gets SIGTERM and the channel is closed,
/// so the connection's session slot is freed and later commands keep working. sshd delivers that
/// signal to the session's first process only, so the command's whole process group is then
/// stopped from a second channel (with `sudo -n` when the command ran under sudo).
struct AbandonGuard {
    writer: Option<ChannelWriteHalf<Msg>>,
    armed: std::cell::Cell<bool>,
    handle: Arc<client::Handle<ClientHandler>>,
    /// The remote command's pid (0 until reported).
    remote_pid: Arc<AtomicU32>,
    /// The command runs under sudo: stopping it needs sudo too.
    privileged: bool,
}

impl std::ops::Deref for AbandonGuard {
    type Target = ChannelWriteHalf<Msg>;

    fn deref(&self) -> &Self::Target {
        // Only `drop` takes the writer out.
        self.writer
            .as_ref()
            .expect("channel writer present until drop")
    }
}

impl Drop for AbandonGuard {
    fn drop(&mut self) {
        if !self.armed.get() {
            return;
        }
        let Some(writer) = self.writer.take() else {
            return;
        };
        let handle = self.handle.clone();
        let pid = self.remote_pid.load(Ordering::Relaxed);
        let privileged = self.privileged;
        // Counted, so the end of the run waits for it (see `crate::interrupt`).
        crate::interrupt::spawn_cleanup(async move {
            let _ = writer.signal(russh::Sig::TERM).await;
            let _ = writer.eof().await;
            let _ = writer.close().await;
            if pid > 1 {
                let kill = kill_line(pid, privileged);
                let run = async {
                    let channel = open_session(&handle).await.ok()?;
                    let (mut reader, writer) = channel.split();
                    writer.exec(true, kill).await.ok()?;
                    let _ = writer.eof().await;
                    while let Some(msg) = reader.wait().await {
                        if matches!(msg, ChannelMsg::Close) {
                            break;
                        }
                    }
                    Some(())
                };
                let limit = Duration::from_secs(u64::from(KILL_GRACE_SECONDS) + 10);
                if tokio::time::timeout(limit, run).await.is_err() {
                    tracing::debug!(pid, "stopping an abandoned command timed out");
                }
            }
        });
    }
}

/// Opens a session channel, retrying briefly when the server refuses for lack of sessions.
pub(super) async fn open_session(
    handle: &client::Handle<ClientHandler>,
) -> Result<russh::Channel<Msg>, String> {
    let mut attempt = 0;
    loop {
        match handle.channel_open_session().await {
            Ok(ch) => return Ok(ch),
            Err(russh::Error::ChannelOpenFailure(reason)) if attempt < OPEN_RETRIES => {
                attempt += 1;
                tracing::debug!(?reason, attempt, "session channel refused; retrying");
                tokio::time::sleep(Duration::from_millis(10 * u64::from(attempt))).await;
            }
            Err(russh::Error::ChannelOpenFailure(reason)) => {
                return Err(format!(
                    "the server refused to open a session channel ({})",
                    describe_open_failure(&reason)
                ));
            }
            Err(e) => return Err(format!("cannot open a session channel: {e}")),
        }
    }
}

fn describe_open_failure(reason: &ChannelOpenFailure) -> String {
    match reason {
        ChannelOpenFailure::AdministrativelyProhibited => {
            "administratively prohibited; too many sessions? (sshd MaxSessions)".into()
        }
        ChannelOpenFailure::ResourceShortage => "resource shortage".into(),
        other => format!("{other:?}"),
    }
}

/// Sends stdin, then EOF.
async fn feed_stdin(
    writer: &ChannelWriteHalf<Msg>,
    stdin: StdinSource<'_>,
) -> Result<(), FeedError> {
    let stdin = match stdin {
        StdinSource::Prefixed(prefix, rest) => {
            writer
                .data(&prefix[..])
                .await
                .map_err(|e| FeedError::Channel(format!("sending input: {e}")))?;
            *rest
        }
        other => other,
    };
    match stdin {
        // Never built nested.
        StdinSource::None | StdinSource::Prefixed(..) => {}
        StdinSource::Bytes(data) => {
            writer
                .data(data)
                .await
                .map_err(|e| FeedError::Channel(format!("sending input: {e}")))?;
        }
        StdinSource::File(mut file, path) => {
            let mut buf = vec![0u8; UPLOAD_CHUNK];
            loop {
                let n = file
                    .read(&mut buf)
                    .await
                    .map_err(|e| FeedError::Local(format!("reading {}", path.display()), e))?;
                if n == 0 {
                    break;
                }
                writer
                    .data_bytes(buf[..n].to_vec())
                    .await
                    .map_err(|e| FeedError::Channel(format!("sending {}: {e}", path.display())))?;
            }
        }
    }
    writer
        .eof()
        .await
        .map_err(|e| FeedError::Channel(format!("closing input: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pid_line_is_taken_off_stderr_once_complete() {
        let mut err = PID_MARKER.as_bytes()[..4].to_vec();
        assert_eq!(take_pid_line(&mut err), None);
        err = format!("{PID_MARKER}12").into_bytes();
        assert_eq!(take_pid_line(&mut err), None);
        err.extend_from_slice(b"34\nreal error\n");
        assert_eq!(take_pid_line(&mut err), Some(1234));
        assert_eq!(err, b"real error\n");
        let mut noisy = format!("noise from .bashrc\n{PID_MARKER}77\nerr").into_bytes();
        assert_eq!(take_pid_line(&mut noisy), Some(77));
        assert_eq!(noisy, b"noise from .bashrc\nerr");
        let mut other = b"a shell that never reports\n".to_vec();
        assert_eq!(take_pid_line(&mut other), None);
        other.resize(PID_LINE_WINDOW + 1, b'x');
        assert_eq!(take_pid_line(&mut other), Some(0));
    }

    #[test]
    fn the_wrapper_reports_its_pid_then_runs_the_command() {
        let line = with_pid_report("/bin/sh -c 'echo hi; echo oops >&2'");
        let out = std::process::Command::new("/bin/sh")
            .args(["-c", &line])
            .output()
            .expect("run sh");
        let mut stderr = out.stderr.clone();
        let pid = take_pid_line(&mut stderr).expect("pid line");
        assert!(pid > 1, "{pid}");
        assert_eq!(stderr, b"oops\n");
        assert_eq!(out.stdout, b"hi\n");
        assert_eq!(kill_line(42, true).split_whitespace().next(), Some("sudo"));
        assert!(kill_line(42, false).contains("kill -TERM -- -42"));
    }
}

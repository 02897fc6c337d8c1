//! A long-lived `/bin/sh` on one session channel, fed drover's own short scripts on its stdin.
//!
//! Running a command on a fresh session channel costs a channel open (a round trip) and, on the
//! target, a forked sshd session process that execs the login shell, which execs `/bin/sh`.
//! Scripts that read no stdin and leave no background process behind (stat probes, attribute
//! changes: [`ExecRequest::shared_shell`](crate::connection::ExecRequest)) run here instead: one
//! round trip and one forked subshell each.
//!
//! Framing: each script runs as `( eval '<script>' ) </dev/null`, then the shell prints
//! `\n<marker> <status>\n` on stdout and `\n<marker>\n` on stderr, with a marker that is random
//! per command. Everything before those lines is the script's output, byte for byte (the leading
//! newline makes a missing final newline in the output harmless).

use russh::client::Msg;
use russh::{ChannelMsg, ChannelReadHalf, ChannelWriteHalf};

use crate::connection::shell_framing::{find, find_status};
use crate::connection::{shell_quote, ExecOutput};

/// One running shell: the channel's two halves.
pub(super) struct SharedShell {
    reader: ChannelReadHalf,
    writer: ChannelWriteHalf<Msg>,
    /// A script was sent and its end not read (its caller was dropped, e.g. by a task
    /// timeout): the rest of its output would come before the next script's.
    interrupted: bool,
}

/// Why a script could not be run on the shared shell.
#[derive(Debug)]
pub(super) enum ShellError {
    /// The shell could not be started (the caller may fall back to a fresh channel).
    Start(String),
    /// The shell died or the channel failed after the script was sent: its effect is unknown.
    Lost(String),
}

impl SharedShell {
    /// Starts `/bin/sh` on the channel (through the login shell, as every command is).
    pub(super) async fn start(channel: russh::Channel<Msg>) -> Result<Self, ShellError> {
        let (reader, writer) = channel.split();
        writer
            .exec(true, "/bin/sh")
            .await
            .map_err(|e| ShellError::Start(format!("cannot start a shell: {e}")))?;
        let mut shell = Self {
            reader,
            writer,
            interrupted: false,
        };
        // A first, empty script proves the shell runs and answers in our framing.
        match shell.run("true").await {
            Ok(out) if out.rc == 0 => Ok(shell),
            Ok(out) => Err(ShellError::Start(format!(
                "the shell answered status {}: {}",
                out.rc,
                out.stderr_str().trim()
            ))),
            Err(ShellError::Lost(e) | ShellError::Start(e)) => Err(ShellError::Start(e)),
        }
    }

    /// True when an earlier script was abandoned half-way: the shell must not be used again.
    pub(super) fn interrupted(&self) -> bool {
        self.interrupted
    }

    /// Runs `line` (shell source) in a subshell with stdin from `/dev/null`; returns its output
    /// and exit status.
    pub(super) async fn run(&mut self, line: &str) -> Result<ExecOutput, ShellError> {
        self.interrupted = true;
        let result = self.run_framed(line).await;
        // Reached only when the script's end was read (or the shell failed, which ends it).
        self.interrupted = result.is_err();
        result
    }

    async fn run_framed(&mut self, line: &str) -> Result<ExecOutput, ShellError> {
        let marker = format!("__drover_end_{:032x}", rand::random::<u128>());
        let framed = format!(
            "( eval {} ) </dev/null; printf '\\n%s %s\\n' {marker} \"$?\"; printf '\\n%s\\n' {marker} >&2\n",
            shell_quote(line)
        );
        self.writer
            .data(framed.as_bytes())
            .await
            .map_err(|e| ShellError::Lost(format!("sending to the shell: {e}")))?;
        let out_end = format!("\n{marker} ");
        let err_end = format!("\n{marker}\n");
        let mut out = ExecOutput::default();
        let mut status: Option<(usize, i32)> = None;
        let mut err_done: Option<usize> = None;
        loop {
            if let (Some((cut, rc)), Some(err_cut)) = (status, err_done) {
                out.stdout.truncate(cut);
                out.stderr.truncate(err_cut);
                out.rc = rc;
                return Ok(out);
            }
            match self.reader.wait().await {
                Some(ChannelMsg::Data { data }) => {
                    let from = out.stdout.len().saturating_sub(out_end.len() + 12);
                    out.stdout.extend_from_slice(&data);
                    if status.is_none() {
                        status = find_status(&out.stdout, from, out_end.as_bytes());
                    }
                }
                Some(ChannelMsg::ExtendedData { data, ext: 1 }) => {
                    let from = out.stderr.len().saturating_sub(err_end.len());
                    out.stderr.extend_from_slice(&data);
                    if err_done.is_none() {
                        err_done = find(&out.stderr, from, err_end.as_bytes());
                    }
                }
                Some(ChannelMsg::ExitStatus { exit_status }) => {
                    return Err(ShellError::Lost(format!(
                        "the shell exited (status {exit_status})"
                    )))
                }
                Some(ChannelMsg::Eof | ChannelMsg::Close) | None => {
                    return Err(ShellError::Lost("the shell's channel closed".into()))
                }
                Some(_) => {}
            }
        }
    }

    /// Ends the shell (EOF on its stdin) and closes the channel.
    pub(super) async fn close(self) {
        let _ = self.writer.eof().await;
        let _ = self.writer.close().await;
    }
}

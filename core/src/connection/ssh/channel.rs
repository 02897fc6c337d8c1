//! Running one command on its own session channel: stdin in, stdout/stderr/exit status out.

use std::path::Path;
use std::time::Duration;

use russh::client::{self, Msg};
use russh::{ChannelMsg, ChannelOpenFailure, ChannelWriteHalf};
use tokio::io::AsyncReadExt;

use super::host_keys::ClientHandler;
use crate::connection::ExecOutput;

/// Size of the chunks a local file is streamed in.
const UPLOAD_CHUNK: usize = 256 * 1024;

/// How many times a refused channel open is retried (the server may still be tearing down a
/// just-closed session when `MaxSessions` is reached).
const OPEN_RETRIES: u32 = 20;

/// How long to wait for the server's channel close once it sent EOF and the exit status.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// What to feed the command's standard input.
pub(super) enum StdinSource<'a> {
    /// Nothing: stdin is closed at once.
    None,
    /// These bytes.
    Bytes(&'a [u8]),
    /// The contents of a local file, streamed (the path is for messages).
    File(tokio::fs::File, &'a Path),
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
    handle: &client::Handle<ClientHandler>,
    command: &str,
    stdin: StdinSource<'_>,
) -> Result<ExecOutput, RunError> {
    let channel = open_session(handle).await.map_err(RunError::Channel)?;
    let (mut reader, writer) = channel.split();
    let writer = AbandonGuard {
        writer: Some(writer),
        armed: std::cell::Cell::new(true),
    };
    writer
        .exec(true, command)
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
        };
        match msg {
            Some(ChannelMsg::Data { data }) => out.stdout.extend_from_slice(&data),
            Some(ChannelMsg::ExtendedData { data, ext }) => {
                if ext == 1 {
                    out.stderr.extend_from_slice(&data);
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

/// Owns a command's channel writer; if the command is abandoned before it finished (its future
/// dropped, e.g. by a task `timeout`), the remote command gets SIGTERM and the channel is closed,
/// so the connection's session slot is freed and later commands keep working.
struct AbandonGuard {
    writer: Option<ChannelWriteHalf<Msg>>,
    armed: std::cell::Cell<bool>,
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
        let (Some(writer), Ok(runtime)) =
            (self.writer.take(), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        runtime.spawn(async move {
            let _ = writer.signal(russh::Sig::TERM).await;
            let _ = writer.eof().await;
            let _ = writer.close().await;
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
    match stdin {
        StdinSource::None => {}
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

//! SSH connection retries with backoff: `ansible_ssh_retries`, ansible.cfg's
//! `[ssh_connection] retries` / `ANSIBLE_SSH_RETRIES`, and `DROVER_SSH_RETRY_BACKOFF`.

use std::time::Duration;

use super::connect::var_str;
use super::RunOptions;
use crate::connection::ssh::{SshConnection, SshOptions};
use crate::connection::ConnectionError;
use crate::vars::Vars;

/// Longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Attempts after a failed first one: the host's `ansible_ssh_retries`, else the run's.
pub(super) fn ssh_retries(vars: &Vars, opts: &RunOptions) -> u32 {
    var_str(vars, &["ansible_ssh_retries"])
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(opts.ssh_retries)
}

/// The wait before retry number `attempt` (0 = the first retry): `base`, doubled each time,
/// at most [`MAX_BACKOFF`].
pub(super) fn backoff(base: Duration, attempt: u32) -> Duration {
    base.saturating_mul(1u32 << attempt.min(16))
        .min(MAX_BACKOFF)
}

/// Whether a failed attempt is worth repeating: the host did not answer or went away (a
/// refused key or an unknown host key will not change by trying again).
fn retryable(e: &ConnectionError) -> bool {
    matches!(
        e,
        ConnectionError::Connect { .. }
            | ConnectionError::Timeout { .. }
            | ConnectionError::Lost { .. }
    )
}

/// Opens an SSH connection, retrying failed attempts `retries` times with backoff.
pub(super) async fn connect_ssh(
    options: SshOptions,
    retries: u32,
    base: Duration,
) -> Result<SshConnection, ConnectionError> {
    let mut attempt = 0;
    loop {
        match SshConnection::connect(options.clone()).await {
            Ok(conn) => return Ok(conn),
            Err(e) if attempt < retries && retryable(&e) => {
                let wait = backoff(base, attempt);
                tracing::info!("{e}; retry {} of {retries} in {wait:?}", attempt + 1);
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_ceiling() {
        let base = Duration::from_millis(500);
        assert_eq!(backoff(base, 0), Duration::from_millis(500));
        assert_eq!(backoff(base, 1), Duration::from_secs(1));
        assert_eq!(backoff(base, 3), Duration::from_secs(4));
        assert_eq!(backoff(base, 10), MAX_BACKOFF);
        assert_eq!(backoff(base, 200), MAX_BACKOFF);
    }

    #[test]
    fn host_variable_overrides_the_run_setting() {
        let opts = RunOptions {
            ssh_retries: 2,
            ..RunOptions::default()
        };
        let mut vars = Vars::new();
        assert_eq!(ssh_retries(&vars, &opts), 2);
        vars.insert("ansible_ssh_retries".into(), serde_json::json!(5));
        assert_eq!(ssh_retries(&vars, &opts), 5);
    }

    #[tokio::test]
    async fn a_refused_connection_is_tried_again_after_the_backoff() {
        // A loopback port nobody listens on: every attempt is refused at once.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let mut vars = Vars::new();
        vars.insert("ansible_host".into(), serde_json::json!("127.0.0.1"));
        vars.insert("ansible_port".into(), serde_json::json!(port));
        let (options, _) =
            super::super::ssh_options("refuser", &vars, &RunOptions::default()).expect("options");
        let start = std::time::Instant::now();
        let err = connect_ssh(options.clone(), 0, Duration::from_millis(100))
            .await
            .err()
            .expect("refused");
        assert!(retryable(&err), "{err}");
        assert!(start.elapsed() < Duration::from_millis(100));
        let start = std::time::Instant::now();
        assert!(connect_ssh(options, 2, Duration::from_millis(100))
            .await
            .is_err());
        // 100 ms + 200 ms of backoff.
        assert!(
            start.elapsed() >= Duration::from_millis(300),
            "{:?}",
            start.elapsed()
        );
    }
}

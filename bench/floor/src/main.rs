//! The benchmark floor: what a perfect executor could not beat on this transport.
//!
//! Usage: `drover-bench-floor KEY_FILE EXECS HOST...` — connects as root to every HOST in
//! parallel, then runs EXECS sequential `true` commands per host over its one established russh
//! connection, all hosts at once. Prints `connect SECONDS` (the wall time of opening all the
//! connections, which the floor itself does not include) and then the wall time of the exec
//! phase in seconds. Host keys are not verified: the hosts are the bench's own namespace hosts.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use drover_core::connection::ssh::{HostKeyPolicy, SshConnection, SshOptions};
use drover_core::connection::{Connection, ExecRequest};
use std::sync::Arc;

use tokio::task::JoinSet;

/// Parsed command line.
struct FloorArgs {
    key: PathBuf,
    execs: usize,
    hosts: Vec<String>,
}

fn parse_args() -> Result<FloorArgs, String> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: drover-bench-floor KEY_FILE EXECS HOST...";
    let key = args.next().ok_or(usage)?.into();
    let execs = args
        .next()
        .ok_or(usage)?
        .parse()
        .map_err(|e| format!("EXECS: {e}"))?;
    let hosts: Vec<String> = args.collect();
    if hosts.is_empty() {
        return Err(usage.into());
    }
    Ok(FloorArgs { key, execs, hosts })
}

fn options(host: &str, key: &Path) -> SshOptions {
    let mut opts = SshOptions::new(host);
    opts.user = "root".into();
    opts.identity_files = vec![key.to_path_buf()];
    opts.use_agent = false;
    opts.host_key_policy = HostKeyPolicy::Off;
    opts.known_hosts_files = Vec::new();
    opts
}

async fn run_execs(conn: Arc<SshConnection>, execs: usize) -> Result<(), String> {
    let req = ExecRequest::new("true");
    for _ in 0..execs {
        let out = conn.exec(&req).await.map_err(|e| e.to_string())?;
        if out.rc != 0 {
            return Err(format!("`true` exited {} on {}", out.rc, conn.label()));
        }
    }
    Ok(())
}

/// Waits for every task of `set`, failing on the first error.
async fn join_all<T: 'static>(mut set: JoinSet<Result<T, String>>) -> Result<Vec<T>, String> {
    let mut out = Vec::with_capacity(set.len());
    while let Some(joined) = set.join_next().await {
        out.push(joined.map_err(|e| e.to_string())??);
    }
    Ok(out)
}

/// The wall times of connecting to every host and of the exec phase.
async fn floor(args: FloorArgs) -> Result<(f64, f64), String> {
    let connect_start = Instant::now();
    let mut connecting = JoinSet::new();
    for host in &args.hosts {
        let opts = options(host, &args.key);
        connecting.spawn(async move {
            SshConnection::connect(opts)
                .await
                .map(Arc::new)
                .map_err(|e| e.to_string())
        });
    }
    let conns = join_all(connecting).await?;
    let connected = connect_start.elapsed().as_secs_f64();
    let start = Instant::now();
    let mut running = JoinSet::new();
    for conn in &conns {
        running.spawn(run_execs(conn.clone(), args.execs));
    }
    join_all(running).await?;
    let elapsed = start.elapsed().as_secs_f64();
    for c in &conns {
        c.close().await;
    }
    Ok((connected, elapsed))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(floor(args)) {
        Ok((connected, secs)) => {
            println!("connect {connected:.4}");
            println!("{secs:.4}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("floor run failed: {e}");
            ExitCode::FAILURE
        }
    }
}

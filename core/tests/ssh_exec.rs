//! The ssh transport against a real OpenSSH sshd on loopback: commands, concurrency, transfers.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use drover_core::connection::ssh::SshConnection;
use drover_core::connection::{Connection, ConnectionError, ExecRequest, HostConnection};
use support::sshd::{keygen, Sshd};

/// A server, a client key it trusts, a known_hosts file trusting it, and a live connection.
struct Fixture {
    sshd: Sshd,
    conn: SshConnection,
    _keys: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let sshd = Sshd::start();
    let keys = tempfile::tempdir().unwrap();
    let key = keygen(keys.path(), "id_ed25519", "ed25519", "");
    sshd.authorize(&key);
    let known = sshd.write_known_hosts(keys.path());
    let conn = SshConnection::connect(sshd.options(&key, &known))
        .await
        .expect("connect");
    Fixture {
        sshd,
        conn,
        _keys: keys,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_reports_rc_stdout_and_stderr() {
    let f = fixture().await;
    let out = f
        .conn
        .exec(&ExecRequest::new("echo out; echo err >&2; exit 3"))
        .await
        .unwrap();
    assert_eq!(out.rc, 3);
    assert_eq!(out.stdout_str(), "out\n");
    assert_eq!(out.stderr_str(), "err\n");

    let ok = f.conn.exec(&ExecRequest::new("true")).await.unwrap();
    assert_eq!(ok.rc, 0);
    assert!(ok.stdout.is_empty() && ok.stderr.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_feeds_stdin_and_applies_env_and_cwd() {
    let f = fixture().await;
    let mut req = ExecRequest::new("tr a-z A-Z; echo \"[$GREETING]\"; pwd");
    req.stdin = Some(b"hello stdin\n".to_vec());
    req.env = vec![("GREETING".into(), "it's a b".into())];
    req.cwd = Some("/usr/share".into());
    let out = f.conn.exec(&req).await.unwrap();
    assert_eq!(out.rc, 0, "stderr: {}", out.stderr_str());
    assert_eq!(out.stdout_str(), "HELLO STDIN\n[it's a b]\n/usr/share\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_killed_by_signal_gives_minus_one() {
    let f = fixture().await;
    let out = f.conn.exec(&ExecRequest::new("kill -9 $$")).await.unwrap();
    assert_eq!(
        out.rc,
        -1,
        "stdout {:?} stderr {:?}",
        out.stdout_str(),
        out.stderr_str()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_stdin_and_big_output_at_once_do_not_deadlock() {
    let f = fixture().await;
    // 8 MiB in, echoed straight back out while still being written.
    let data: Vec<u8> = (0..8 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let mut req = ExecRequest::new("cat");
    req.stdin = Some(data.clone());
    let out = tokio::time::timeout(Duration::from_secs(30), f.conn.exec(&req))
        .await
        .expect("no deadlock")
        .unwrap();
    assert_eq!(out.rc, 0);
    assert!(out.stdout == data, "echoed data differs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_execs_share_one_connection() {
    let f = fixture().await;
    let conn = Arc::new(f.conn);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let conn = conn.clone();
        tasks.push(tokio::spawn(async move {
            let out = conn
                .exec(&ExecRequest::new(format!("sleep 0.3; echo task-{i}")))
                .await
                .expect("exec");
            assert_eq!(out.rc, 0);
            assert_eq!(out.stdout_str(), format!("task-{i}\n"));
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = started.elapsed();
    // Serially this would take 6 s; with sshd's MaxSessions of 10, two waves of 0.3 s.
    assert!(elapsed < Duration::from_secs(4), "took {elapsed:?}");
    assert_eq!(
        f.sshd.log_count("Accepted publickey"),
        1,
        "sshd log:\n{}",
        f.sshd.log()
    );
}

fn sha256sum_file(path: &std::path::Path) -> String {
    let out = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)[..64].to_string()
}

/// Peak resident set size of this process (VmHWM), in KiB.
fn peak_rss_kib() -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_and_download_100_mb_binary_round_trip() {
    let f = fixture().await;
    let work = tempfile::tempdir().unwrap();
    let local = work.path().join("big.bin");
    // 100 MiB of random bytes (every byte value: NUL, CR, LF, invalid UTF-8 …).
    let status = std::process::Command::new("head")
        .args(["-c", "104857600", "/dev/urandom"])
        .stdout(std::fs::File::create(&local).unwrap())
        .status()
        .unwrap();
    assert!(status.success());
    let local_sum = sha256sum_file(&local);
    let remote_dir = tempfile::tempdir().unwrap();
    let remote = remote_dir.path().join("uploaded.bin");
    let remote_str = remote.to_str().unwrap();

    let t = Instant::now();
    let peak_before = peak_rss_kib();
    f.conn.put_file(&local, remote_str, None).await.unwrap();
    let up = t.elapsed();
    // Streamed: the upload must not have held the file in memory (other tests in this process
    // allocate a little meanwhile, hence the slack).
    let grown_mib = (peak_rss_kib() - peak_before) / 1024;
    assert!(
        grown_mib < 60,
        "peak RSS grew by {grown_mib} MiB during upload"
    );
    let out = f
        .conn
        .exec(&ExecRequest::new(format!("sha256sum {remote_str}")))
        .await
        .unwrap();
    assert!(
        out.stdout_str().starts_with(&local_sum),
        "remote sum {} != {local_sum}",
        out.stdout_str()
    );

    let t = Instant::now();
    let back = f.conn.get_bytes(remote_str, None).await.unwrap();
    let down = t.elapsed();
    assert_eq!(back.len(), 100 * 1024 * 1024);
    assert!(
        back == std::fs::read(&local).unwrap(),
        "downloaded bytes differ"
    );
    eprintln!("100 MiB upload {up:?}, download {down:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_bytes_and_atomic_write_are_binary_safe() {
    let f = fixture().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("blob");
    let path_str = path.to_str().unwrap();
    let data: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    f.conn.put_bytes(&data, path_str, None).await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), data);
    assert_eq!(f.conn.get_bytes(path_str, None).await.unwrap(), data);

    let host = HostConnection::new(Arc::new(f.conn), None);
    host.write_file_atomic(b"\x00replaced\r\n", path_str)
        .await
        .unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"\x00replaced\r\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_errors_name_the_path() {
    let f = fixture().await;
    let err = f
        .conn
        .put_bytes(b"x", "/nonexistent-dir/for/sure/file", None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectionError::Io { context, .. } if context.contains("/nonexistent-dir/for/sure/file")),
        "{err}"
    );
    let err = f
        .conn
        .get_bytes("/nonexistent-dir/nope", None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("/nonexistent-dir/nope"), "{err}");
    // The connection still works afterwards.
    assert_eq!(f.conn.exec(&ExecRequest::new("true")).await.unwrap().rc, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_after_close_fail_as_lost() {
    let f = fixture().await;
    f.conn.close().await;
    let err = f.conn.exec(&ExecRequest::new("true")).await.unwrap_err();
    assert!(matches!(err, ConnectionError::Lost { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_shell_scripts_keep_exact_output_status_env_and_isolation() {
    let f = fixture().await;
    assert!(f.conn.has_shared_shell());
    // Output without a final newline, stderr, and the exit status come back byte for byte.
    let out = f
        .conn
        .exec(&ExecRequest::shared_shell(
            "printf 'no newline'; printf 'e1\\ne2' >&2; exit 7",
        ))
        .await
        .unwrap();
    assert_eq!(
        (out.rc, out.stdout_str(), out.stderr_str()),
        (7, "no newline".into(), "e1\ne2".into())
    );
    // cd, variables and exported env of one script do not leak into the next.
    let mut req = ExecRequest::shared_shell("cd /tmp; x=1; export Y=2; pwd; echo \"$GREETING\"");
    req.env = vec![("GREETING".into(), "it's".into())];
    req.cwd = Some("/usr".into());
    let out = f.conn.exec(&req).await.unwrap();
    assert_eq!(out.stdout_str(), "/tmp\nit's\n");
    let out = f
        .conn
        .exec(&ExecRequest::shared_shell("pwd; echo \"[$x][$Y]\""))
        .await
        .unwrap();
    let home = f.conn.exec(&ExecRequest::new("pwd")).await.unwrap();
    assert_eq!(out.stdout_str(), format!("{}[][]\n", home.stdout_str()));
    // A syntax error fails that script only; stdin is empty; the shell goes on.
    let out = f
        .conn
        .exec(&ExecRequest::shared_shell("if then fi '"))
        .await
        .unwrap();
    assert_ne!(out.rc, 0);
    let out = f
        .conn
        .exec(&ExecRequest::shared_shell("cat; echo after"))
        .await
        .unwrap();
    assert_eq!((out.rc, out.stdout_str()), (0, "after\n".into()));
    // Large output in both streams.
    let out = f
        .conn
        .exec(&ExecRequest::shared_shell(
            "head -c 3000000 /dev/zero | tr '\\0' a; head -c 200000 /dev/zero | tr '\\0' b >&2",
        ))
        .await
        .unwrap();
    assert_eq!((out.stdout.len(), out.stderr.len()), (3_000_000, 200_000));
    assert!(f.conn.has_shared_shell());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_shared_shell_scripts_fall_back_to_own_channels() {
    let f = Arc::new(fixture().await);
    let mut tasks = Vec::new();
    for i in 0..12 {
        let f = Arc::clone(&f);
        tasks.push(tokio::spawn(async move {
            let out = f
                .conn
                .exec(&ExecRequest::shared_shell(format!(
                    "sleep 0.2; echo {i}; echo e{i} >&2"
                )))
                .await
                .unwrap();
            (out.rc, out.stdout_str(), out.stderr_str())
        }));
    }
    for (i, t) in tasks.into_iter().enumerate() {
        assert_eq!(t.await.unwrap(), (0, format!("{i}\n"), format!("e{i}\n")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_shared_shell_script_does_not_leak_into_the_next() {
    let f = fixture().await;
    let slow_req = ExecRequest::shared_shell("sleep 1; echo late; echo late-err >&2");
    let slow = f.conn.exec(&slow_req);
    assert!(tokio::time::timeout(Duration::from_millis(200), slow)
        .await
        .is_err());
    let out = f
        .conn
        .exec(&ExecRequest::shared_shell("echo next"))
        .await
        .unwrap();
    assert_eq!(
        (out.rc, out.stdout_str(), out.stderr_str()),
        (0, "next\n".into(), String::new())
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let out = f
        .conn
        .exec(&ExecRequest::shared_shell("echo again"))
        .await
        .unwrap();
    assert_eq!(out.stdout_str(), "again\n");
}

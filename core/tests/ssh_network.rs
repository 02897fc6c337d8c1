//! ssh transport networking against real OpenSSH sshds on loopback: timeouts, refused
//! connections, ProxyJump, and options resolved from an ssh config file and `-o` arguments.

mod support;

use std::time::{Duration, Instant};

use drover_core::connection::ssh::{SshConnection, SshOptions};
use drover_core::connection::ssh_config::{resolve_ssh_options, HostSshVars};
use drover_core::connection::{Connection, ConnectionError, ExecRequest};
use support::sshd::{free_port, keygen, Sshd, SshdSpec};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_server_times_out() {
    // Accepts TCP (kernel backlog) but never sends an SSH banner.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut opts = SshOptions::new("127.0.0.1");
    opts.port = port;
    opts.connect_timeout = Duration::from_secs(1);
    opts.use_agent = false;
    let started = Instant::now();
    let err = SshConnection::connect(opts)
        .await
        .err()
        .expect("must time out");
    let elapsed = started.elapsed();
    assert!(
        matches!(err, ConnectionError::Timeout { seconds: 1, .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    drop(listener);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_connection_names_host_and_port() {
    let port = free_port();
    let mut opts = SshOptions::new("127.0.0.1");
    opts.port = port;
    let err = SshConnection::connect(opts).await.err().expect("must fail");
    let msg = err.to_string();
    assert!(matches!(err, ConnectionError::Connect { .. }), "{msg}");
    assert!(msg.contains(&format!("127.0.0.1:{port}")), "{msg}");
    assert!(msg.contains("refused"), "{msg}");
}

/// Two sshds trusting one key, and a known_hosts file listing both.
struct Pair {
    bastion: Sshd,
    target: Sshd,
    dir: tempfile::TempDir,
    key: std::path::PathBuf,
    known: std::path::PathBuf,
}

fn pair(bastion_spec: SshdSpec) -> Pair {
    let bastion = Sshd::start_with(bastion_spec);
    let target = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let key = keygen(dir.path(), "id", "ed25519", "");
    bastion.authorize(&key);
    target.authorize(&key);
    let known = dir.path().join("known_hosts");
    std::fs::write(
        &known,
        bastion.known_hosts_line() + &target.known_hosts_line(),
    )
    .unwrap();
    Pair {
        bastion,
        target,
        dir,
        key,
        known,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_jump_through_a_bastion() {
    let p = pair(SshdSpec::default());
    let mut opts = p.target.options(&p.key, &p.known);
    opts.proxy_jump = Some(format!("root@127.0.0.1:{}", p.bastion.port));
    let conn = SshConnection::connect(opts).await.unwrap();
    let out = conn.exec(&ExecRequest::new("echo via-jump")).await.unwrap();
    assert_eq!(out.stdout_str(), "via-jump\n");
    assert_eq!(p.bastion.log_count("Accepted publickey"), 1);
    assert_eq!(p.target.log_count("Accepted publickey"), 1);

    // Several operations at once through the tunnel.
    let conn = std::sync::Arc::new(conn);
    let mut tasks = Vec::new();
    for i in 0..8 {
        let conn = conn.clone();
        tasks.push(tokio::spawn(async move {
            conn.exec(&ExecRequest::new(format!("echo {i}")))
                .await
                .unwrap()
                .stdout_str()
        }));
    }
    for (i, t) in tasks.into_iter().enumerate() {
        assert_eq!(t.await.unwrap(), format!("{i}\n"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_jump_fails_clearly_when_the_bastion_forbids_forwarding() {
    let p = pair(SshdSpec {
        extra_config: vec!["DisableForwarding yes".into()],
        ..Default::default()
    });
    let mut opts = p.target.options(&p.key, &p.known);
    opts.proxy_jump = Some(format!("root@127.0.0.1:{}", p.bastion.port));
    let err = SshConnection::connect(opts).await.err().expect("must fail");
    let msg = err.to_string();
    assert!(matches!(err, ConnectionError::Connect { .. }), "{msg}");
    assert!(
        msg.contains("jump host") && msg.contains(&p.target.port.to_string()),
        "{msg}"
    );
    assert_eq!(p.target.log_count("Accepted publickey"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_from_ssh_config_and_args_connect_for_real() {
    let p = pair(SshdSpec::default());
    let config = p.dir.path().join("ssh_config");
    std::fs::write(
        &config,
        format!(
            "Host bastion-alias\n  HostName 127.0.0.1\n  Port {bport}\n  User root\n\n\
             Host app-*\n  HostName 127.0.0.1\n  Port {tport}\n  User root\n  IdentityFile {key}\n  \
             ProxyJump bastion-alias\n",
            bport = p.bastion.port,
            tport = p.target.port,
            key = p.key.display(),
        ),
    )
    .unwrap();
    // known_hosts comes from the args; accept-new lets drover write it (target and bastion).
    let fresh_known = p.dir.path().join("fresh_known_hosts");
    let mut vars = HostSshVars::new("web-1");
    vars.host = Some("app-1".into());
    vars.ssh_config_file = Some(config);
    vars.ssh_args = vec![format!(
        "-o StrictHostKeyChecking=accept-new -o UserKnownHostsFile={} -o ControlMaster=auto",
        fresh_known.display()
    )];
    let resolved = resolve_ssh_options(&vars).unwrap();
    assert!(resolved.warnings.is_empty(), "{:?}", resolved.warnings);
    let mut opts = resolved.options;
    opts.use_agent = false;
    if let Some(jump) = opts.jump_host.as_mut() {
        jump.use_agent = false;
    }
    let conn = SshConnection::connect(opts).await.unwrap();
    let out = conn
        .exec(&ExecRequest::new("echo configured"))
        .await
        .unwrap();
    assert_eq!(out.stdout_str(), "configured\n");
    let written = std::fs::read_to_string(&fresh_known).unwrap();
    assert!(
        written.contains(&format!("[127.0.0.1]:{}", p.bastion.port)),
        "{written}"
    );
    assert!(
        written.contains(&format!("[127.0.0.1]:{}", p.target.port)),
        "{written}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn targets_behind_one_bastion_share_its_connection() {
    let p = pair(SshdSpec::default());
    let mut opts = p.target.options(&p.key, &p.known);
    let mut jump = p.bastion.options(&p.key, &p.known);
    jump.alias = "bastion".into();
    opts.jump_host = Some(Box::new(jump));
    let (a, b) = tokio::join!(
        SshConnection::connect(opts.clone()),
        SshConnection::connect(opts.clone())
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    for conn in [&a, &b] {
        let out = conn.exec(&ExecRequest::new("echo ok")).await.unwrap();
        assert_eq!(out.stdout_str(), "ok\n");
    }
    assert_eq!(
        p.bastion.log_count("Accepted publickey"),
        1,
        "{}",
        p.bastion.log()
    );
    assert_eq!(p.target.log_count("Accepted publickey"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_command_with_openssh_client() {
    let p = pair(SshdSpec::default());
    let mut vars = HostSshVars::new("target");
    vars.host = Some("127.0.0.1".into());
    vars.port = Some(p.target.port);
    vars.user = Some("root".into());
    vars.private_key_file = Some(p.key.clone());
    vars.ssh_config_file = Some(p.dir.path().join("no-config"));
    vars.ssh_args = vec![format!(
        "-o UserKnownHostsFile={known} -o ProxyCommand=\"ssh -F /dev/null -o BatchMode=yes \
         -o UserKnownHostsFile={known} -i {key} -p {bport} -W %h:%p root@127.0.0.1\"",
        known = p.known.display(),
        key = p.key.display(),
        bport = p.bastion.port,
    )];
    let mut opts = resolve_ssh_options(&vars).unwrap().options;
    opts.use_agent = false;
    let conn = SshConnection::connect(opts).await.unwrap();
    let out = conn.exec(&ExecRequest::new("echo proxied")).await.unwrap();
    assert_eq!(out.stdout_str(), "proxied\n");
    assert_eq!(p.bastion.log_count("Accepted publickey"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_proxy_command_reports_its_stderr() {
    let mut opts = SshOptions::new("somewhere");
    opts.proxy_command = Some("echo 'no route to %h' >&2; exit 1".into());
    opts.use_agent = false;
    let err = SshConnection::connect(opts).await.err().expect("must fail");
    let msg = err.to_string();
    assert!(matches!(err, ConnectionError::Connect { .. }), "{msg}");
    assert!(msg.contains("no route to somewhere"), "{msg}");
}

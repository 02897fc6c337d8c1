//! ssh transport authentication and host key verification against a real OpenSSH sshd.

mod support;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use drover_core::connection::ssh::{HostKeyPolicy, SshConnection, SshOptions};
use drover_core::connection::{Connection, ConnectionError, ExecRequest};
use support::sshd::{keygen, Agent, Sshd, SshdSpec};

async fn whoami(conn: &SshConnection) -> String {
    let out = conn.exec(&ExecRequest::new("id -un")).await.unwrap();
    assert_eq!(out.rc, 0);
    out.stdout_str().trim().to_string()
}

async fn connect_with_key(kind: &str) {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let key = keygen(dir.path(), &format!("id_{kind}"), kind, "");
    sshd.authorize(&key);
    let known = sshd.write_known_hosts(dir.path());
    let conn = SshConnection::connect(sshd.options(&key, &known))
        .await
        .unwrap_or_else(|e| panic!("{kind}: {e}"));
    assert_eq!(whoami(&conn).await, "root");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ed25519_key() {
    connect_with_key("ed25519").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsa_key_uses_sha2_signatures() {
    // OpenSSH 8.8+ refuses SHA-1 `ssh-rsa` signatures by default, so this only passes with
    // rsa-sha2-256/512 (best_supported_rsa_hash).
    connect_with_key("rsa").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecdsa_key() {
    connect_with_key("ecdsa").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passphrase_key_from_field_and_from_prompt() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let key = keygen(dir.path(), "id_locked", "ed25519", "open sesame");
    sshd.authorize(&key);
    let known = sshd.write_known_hosts(dir.path());

    // No passphrase: a clear error naming the key.
    let err = SshConnection::connect(sshd.options(&key, &known))
        .await
        .err()
        .expect("must fail without passphrase");
    let msg = err.to_string();
    assert!(matches!(err, ConnectionError::Auth { .. }), "{msg}");
    assert!(
        msg.contains(key.to_str().unwrap()) && msg.contains("passphrase"),
        "{msg}"
    );

    // From the field.
    let mut opts = sshd.options(&key, &known);
    opts.key_passphrase = Some("open sesame".into());
    let conn = SshConnection::connect(opts).await.unwrap();
    assert_eq!(whoami(&conn).await, "root");

    // From the prompt callback (as the CLI would ask), after a wrong field value; hosts
    // connecting at the same time share one prompt (the decrypted key is kept for the run).
    let key2 = keygen(dir.path(), "id_locked2", "ed25519", "open sesame");
    sshd.authorize(&key2);
    let asked = Arc::new(AtomicUsize::new(0));
    let mut opts = sshd.options(&key2, &known);
    opts.key_passphrase = Some("wrong".into());
    let counter = asked.clone();
    let expected_key = key2.clone();
    opts.passphrase_provider = Some(Arc::new(move |path| {
        assert_eq!(path, expected_key.as_path());
        counter.fetch_add(1, Ordering::SeqCst);
        Some("open sesame".to_string())
    }));
    let (a, b, c) = tokio::join!(
        SshConnection::connect(opts.clone()),
        SshConnection::connect(opts.clone()),
        SshConnection::connect(opts.clone())
    );
    for conn in [a.unwrap(), b.unwrap(), c.unwrap()] {
        assert_eq!(whoami(&conn).await, "root");
    }
    assert_eq!(asked.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_keys() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let key = keygen(dir.path(), "id_in_agent", "ed25519", "");
    let rsa = keygen(dir.path(), "id_rsa_in_agent", "rsa", "");
    sshd.authorize(&rsa);
    let known = sshd.write_known_hosts(dir.path());
    let agent = Agent::start();
    agent.add(&key); // not authorized: offered first, rejected
    agent.add(&rsa); // authorized RSA key: needs a sha2 signature from the agent

    let mut opts = sshd.options(&PathBuf::from("/nonexistent/key"), &known);
    opts.identity_files.clear();
    opts.use_agent = true;
    opts.agent_socket = Some(agent.socket.clone());
    let conn = SshConnection::connect(opts).await.unwrap();
    assert_eq!(whoami(&conn).await, "root");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_auth_lists_what_was_tried() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let unauthorized = keygen(dir.path(), "id_stranger", "ed25519", "");
    let known = sshd.write_known_hosts(dir.path());
    let agent = Agent::start();
    agent.add(&keygen(dir.path(), "id_agent_stranger", "ecdsa", ""));

    let mut opts = sshd.options(&unauthorized, &known);
    opts.identity_files.push(dir.path().join("id_missing"));
    opts.use_agent = true;
    opts.agent_socket = Some(agent.socket.clone());
    let err = SshConnection::connect(opts).await.err().expect("must fail");
    let msg = err.to_string();
    assert!(matches!(err, ConnectionError::Auth { .. }), "{msg}");
    assert!(msg.contains("root@127.0.0.1"), "{msg}");
    assert!(
        msg.contains("id_stranger") && msg.contains("rejected"),
        "{msg}"
    );
    assert!(msg.contains("id_missing (not found)"), "{msg}");
    assert!(
        msg.contains("ssh-agent key ECDSA") || msg.contains("ssh-agent key ecdsa"),
        "{msg}"
    );
    assert!(msg.contains("The server accepts: publickey"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_auth() {
    let sshd = Sshd::start_with(SshdSpec {
        root_password: Some("drover-test-pw".into()),
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let known = sshd.write_known_hosts(dir.path());
    let mut opts = sshd.options(&dir.path().join("no-key"), &known);
    opts.identity_files = vec![dir.path().join("no-key")];

    opts.password = Some("wrong".into());
    let err = SshConnection::connect(opts.clone())
        .await
        .err()
        .expect("wrong password");
    assert!(err.to_string().contains("password (rejected)"), "{err}");

    opts.password = Some("drover-test-pw".into());
    let conn = SshConnection::connect(opts).await.unwrap();
    assert_eq!(whoami(&conn).await, "root");
}

// ---- host keys ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_host_key_is_refused_naming_the_file() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let key = keygen(dir.path(), "id", "ed25519", "");
    sshd.authorize(&key);
    let known = dir.path().join("empty_known_hosts");
    let err = SshConnection::connect(sshd.options(&key, &known))
        .await
        .err()
        .expect("must refuse");
    let msg = err.to_string();
    assert!(matches!(err, ConnectionError::HostKey { .. }), "{msg}");
    assert!(msg.contains(known.to_str().unwrap()), "{msg}");
    assert!(msg.contains(&format!("[127.0.0.1]:{}", sshd.port)), "{msg}");
    assert!(
        msg.contains("ssh-keyscan") && msg.contains("host_key_checking"),
        "{msg}"
    );
    assert!(!known.exists(), "strict mode must not write known_hosts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_new_records_the_key_then_trusts_it() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let key = keygen(dir.path(), "id", "ed25519", "");
    sshd.authorize(&key);
    let known = dir.path().join("sub").join("known_hosts");
    let mut opts = sshd.options(&key, &known);
    opts.host_key_policy = HostKeyPolicy::AcceptNew;
    SshConnection::connect(opts).await.unwrap();

    let written = std::fs::read_to_string(&known).unwrap();
    let key_field = sshd.host_public_key.split_whitespace().nth(1).unwrap();
    assert!(
        written.starts_with(&format!(
            "[127.0.0.1]:{} ssh-ed25519 {key_field}",
            sshd.port
        )),
        "{written}"
    );
    // Now strict mode trusts it, and ssh-keygen (OpenSSH itself) finds it.
    SshConnection::connect(sshd.options(&key, &known))
        .await
        .unwrap();
    let found = std::process::Command::new("ssh-keygen")
        .args(["-F", &format!("[127.0.0.1]:{}", sshd.port), "-f"])
        .arg(&known)
        .output()
        .unwrap();
    assert!(
        found.status.success(),
        "ssh-keygen -F did not find the entry"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_host_key_fails_loudly_even_with_accept_new() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let key = keygen(dir.path(), "id", "ed25519", "");
    sshd.authorize(&key);
    let impostor = keygen(dir.path(), "impostor", "ed25519", "");
    let impostor_pub = std::fs::read_to_string(impostor.with_extension("pub")).unwrap();
    let known = dir.path().join("known_hosts");
    std::fs::write(
        &known,
        format!(
            "# comment\nother.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ\n[127.0.0.1]:{} {}",
            sshd.port, impostor_pub
        ),
    )
    .unwrap();
    for policy in [HostKeyPolicy::Strict, HostKeyPolicy::AcceptNew] {
        let mut opts = sshd.options(&key, &known);
        opts.host_key_policy = policy;
        let err = SshConnection::connect(opts)
            .await
            .err()
            .expect("must refuse");
        let msg = err.to_string();
        assert!(matches!(err, ConnectionError::HostKey { .. }), "{msg}");
        assert!(msg.contains("CHANGED"), "{msg}");
        assert!(
            msg.contains(&format!("{}:3", known.display())),
            "must name file:line: {msg}"
        );
        assert!(msg.contains("ssh-keygen -R"), "{msg}");
    }
    // Off skips verification entirely.
    let mut opts = sshd.options(&key, &known);
    opts.host_key_policy = HostKeyPolicy::Off;
    SshConnection::connect(opts).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn known_key_of_another_type_is_preferred_in_key_exchange() {
    // The server has ed25519 and ECDSA host keys; known_hosts only lists the ECDSA one. OpenSSH
    // then asks for ECDSA; so must we, instead of calling the host unknown.
    let sshd_dir = tempfile::tempdir().unwrap();
    let ecdsa_host = keygen(sshd_dir.path(), "host_ecdsa", "ecdsa", "");
    let sshd = Sshd::start_with(SshdSpec {
        extra_config: vec![format!("HostKey {}", ecdsa_host.display())],
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let key = keygen(dir.path(), "id", "ed25519", "");
    sshd.authorize(&key);
    let ecdsa_pub = std::fs::read_to_string(ecdsa_host.with_extension("pub")).unwrap();
    let known = dir.path().join("known_hosts");
    std::fs::write(&known, format!("[127.0.0.1]:{} {}", sshd.port, ecdsa_pub)).unwrap();
    SshConnection::connect(sshd.options(&key, &known))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hashed_known_hosts_entries_match() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let key = keygen(dir.path(), "id", "ed25519", "");
    sshd.authorize(&key);
    let known = sshd.write_known_hosts(dir.path());
    let status = std::process::Command::new("ssh-keygen")
        .args(["-q", "-H", "-f"])
        .arg(&known)
        .output()
        .unwrap();
    assert!(status.status.success());
    assert!(std::fs::read_to_string(&known).unwrap().starts_with("|1|"));
    let opts: SshOptions = sshd.options(&key, &known);
    SshConnection::connect(opts).await.unwrap();
}

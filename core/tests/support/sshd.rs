//! A real OpenSSH `sshd` on 127.0.0.1 for tests: own temp dir, host key, authorized_keys and log.
//! The daemon runs in the foreground (`-D`) as a child process and is killed when dropped.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use drover_core::connection::ssh::{HostKeyPolicy, SshOptions};

/// Path of the OpenSSH server binary.
pub const SSHD: &str = "/usr/sbin/sshd";

/// Makes sure sshd is installed and its privilege-separation directory exists. `tests/run.sh`
/// installs it beforehand (`tests/harness/setup.sh`); run alone, the first caller in this process
/// installs it, waiting for the dpkg lock if another process holds it.
pub fn ensure_sshd() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        if !Path::new(SSHD).exists() {
            let status = Command::new("apt-get")
                .args([
                    "-o",
                    "DPkg::Lock::Timeout=600",
                    "install",
                    "-y",
                    "openssh-server",
                ])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .status()
                .expect("run apt-get");
            assert!(status.success(), "apt-get install openssh-server failed");
        }
    });
    std::fs::create_dir_all("/run/sshd").expect("create /run/sshd");
}

/// A free TCP port on 127.0.0.1 (bound then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Runs `ssh-keygen` to make a key pair `dir/name` of `kind` (`ed25519`, `rsa`, `ecdsa`).
pub fn keygen(dir: &Path, name: &str, kind: &str, passphrase: &str) -> PathBuf {
    let path = dir.join(name);
    let mut cmd = Command::new("ssh-keygen");
    cmd.args(["-q", "-t", kind, "-N", passphrase, "-C", name, "-f"])
        .arg(&path);
    if kind == "rsa" {
        cmd.args(["-b", "2048"]);
    }
    let out = cmd.output().expect("run ssh-keygen");
    assert!(
        out.status.success(),
        "ssh-keygen failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

/// How to configure a test sshd.
#[derive(Default, Clone)]
pub struct SshdSpec {
    /// Extra sshd_config lines.
    pub extra_config: Vec<String>,
    /// Root's password (enables password authentication; sshd runs in a private mount namespace
    /// with a temporary /etc/shadow bind-mounted, so the machine's real one is untouched).
    pub root_password: Option<String>,
}

/// A running sshd.
pub struct Sshd {
    child: Child,
    /// Listening port on 127.0.0.1.
    pub port: u16,
    /// The daemon's private directory (config, keys, log).
    pub dir: tempfile::TempDir,
    /// The host public key line (`ssh-ed25519 AAAA… comment`).
    pub host_public_key: String,
}

impl Sshd {
    /// Starts sshd with default test settings.
    pub fn start() -> Self {
        Self::start_with(SshdSpec::default())
    }

    /// Starts sshd as `spec` says and waits until it answers with its banner.
    pub fn start_with(spec: SshdSpec) -> Self {
        ensure_sshd();
        let dir = tempfile::tempdir().expect("tempdir");
        let host_key = keygen(dir.path(), "host_ed25519", "ed25519", "");
        let host_public_key = std::fs::read_to_string(host_key.with_extension("pub"))
            .expect("host pub")
            .trim()
            .to_string();
        std::fs::write(dir.path().join("authorized_keys"), "").expect("authorized_keys");
        let mut last_err = String::new();
        for _ in 0..5 {
            let port = free_port();
            let config = dir.path().join("sshd_config");
            let mut lines = vec![
                format!("Port {port}"),
                "ListenAddress 127.0.0.1".to_string(),
                format!("HostKey {}", host_key.display()),
                format!("PidFile {}", dir.path().join("sshd.pid").display()),
                format!(
                    "AuthorizedKeysFile {}",
                    dir.path().join("authorized_keys").display()
                ),
                "UsePAM no".to_string(),
                "StrictModes no".to_string(),
                "LogLevel VERBOSE".to_string(),
                "AllowTcpForwarding yes".to_string(),
                "KbdInteractiveAuthentication no".to_string(),
            ];
            if spec.root_password.is_some() {
                lines.push("PermitRootLogin yes".to_string());
                lines.push("PasswordAuthentication yes".to_string());
            } else {
                lines.push("PermitRootLogin prohibit-password".to_string());
                lines.push("PasswordAuthentication no".to_string());
            }
            lines.extend(spec.extra_config.iter().cloned());
            std::fs::write(&config, lines.join("\n") + "\n").expect("sshd_config");
            let log = dir.path().join("sshd.log");
            let _ = std::fs::remove_file(&log);

            // sshd runs commands through the user's login shell, and bash reads ~/.bashrc when
            // started by sshd. On these machines root's .bashrc initialises pyenv (~0.3 s per
            // command), which would swamp every timing here; so sshd runs in a private mount
            // namespace where that file reads as empty. Nothing outside the namespace changes.
            let mut script = String::new();
            if Path::new("/root/.bashrc").exists() {
                script.push_str("mount --bind /dev/null /root/.bashrc && ");
            }
            if let Some(password) = &spec.root_password {
                let shadow = dir.path().join("shadow");
                std::fs::write(&shadow, shadow_with_root_password(password)).expect("write shadow");
                script.push_str(&format!(
                    "mount --bind {} /etc/shadow && ",
                    shadow.display()
                ));
            }
            script.push_str(&format!(
                "exec {SSHD} -D -f {} -E {}",
                config.display(),
                log.display()
            ));
            let mut cmd = if can_unshare() {
                let mut c = Command::new("unshare");
                c.args(["-m", "--propagation", "private", "sh", "-c", &script]);
                c
            } else {
                assert!(
                    spec.root_password.is_none(),
                    "password tests need `unshare -m` (CAP_SYS_ADMIN)"
                );
                let mut c = Command::new(SSHD);
                c.arg("-D").arg("-f").arg(&config).arg("-E").arg(&log);
                c
            };
            let mut child = cmd
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn sshd");
            match wait_ready(&mut child, port, &log) {
                Ok(()) => {
                    return Sshd {
                        child,
                        port,
                        dir,
                        host_public_key,
                    }
                }
                Err(e) => {
                    // Most likely another process took the port meanwhile: try another one.
                    last_err = e;
                    let _ = child.kill();
                    let _ = child.wait();
                }
            }
        }
        panic!("sshd did not start: {last_err}");
    }

    /// Authorizes the public key of the private key file `key` for every user.
    pub fn authorize(&self, key: &Path) {
        let public = std::fs::read_to_string(key.with_extension("pub")).expect("read .pub");
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(self.dir.path().join("authorized_keys"))
            .expect("open authorized_keys");
        f.write_all(public.as_bytes()).expect("append key");
    }

    /// A known_hosts line for this server, as OpenSSH writes it (`[127.0.0.1]:PORT key`).
    pub fn known_hosts_line(&self) -> String {
        format!("[127.0.0.1]:{} {}\n", self.port, self.host_public_key)
    }

    /// Writes a known_hosts file trusting this server into `dir`, returning its path.
    pub fn write_known_hosts(&self, dir: &Path) -> PathBuf {
        let path = dir.join("known_hosts");
        std::fs::write(&path, self.known_hosts_line()).expect("write known_hosts");
        path
    }

    /// Options to log in as root with `key`, trusting this server via `known_hosts`.
    pub fn options(&self, key: &Path, known_hosts: &Path) -> SshOptions {
        let mut o = SshOptions::new("127.0.0.1");
        o.port = self.port;
        o.user = "root".into();
        o.identity_files = vec![key.to_path_buf()];
        o.use_agent = false;
        o.host_key_policy = HostKeyPolicy::Strict;
        o.known_hosts_files = vec![known_hosts.to_path_buf()];
        o.connect_timeout = Duration::from_secs(5);
        o
    }

    /// The daemon's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }

    /// How many log lines contain `needle`.
    pub fn log_count(&self, needle: &str) -> usize {
        self.log().lines().filter(|l| l.contains(needle)).count()
    }
}

/// Whether this process may create a private mount namespace (checked once).
fn can_unshare() -> bool {
    static OK: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *OK.get_or_init(|| {
        Command::new("unshare")
            .args([
                "-m",
                "--propagation",
                "private",
                "mount",
                "--bind",
                "/dev/null",
                "/dev/null",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// Waits until the daemon answers with its SSH banner.
fn wait_ready(child: &mut Child, port: u16, log: &Path) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            let log = std::fs::read_to_string(log).unwrap_or_default();
            return Err(format!("sshd exited with {status}: {err} {log}"));
        }
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let mut buf = [0u8; 7];
            if s.read_exact(&mut buf).is_ok() && &buf == b"SSH-2.0" {
                let _ = s.write_all(b"SSH-2.0-probe\r\n");
                return Ok(());
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(format!("sshd did not answer on port {port}"))
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The machine's /etc/shadow with root's password hash replaced (for a private bind mount).
fn shadow_with_root_password(password: &str) -> String {
    let out = Command::new("openssl")
        .args(["passwd", "-6", password])
        .output()
        .expect("openssl passwd");
    assert!(out.status.success(), "openssl passwd failed");
    let hash = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let current = std::fs::read_to_string("/etc/shadow").unwrap_or_default();
    let mut lines: Vec<String> = current
        .lines()
        .filter(|l| !l.starts_with("root:"))
        .map(str::to_string)
        .collect();
    lines.insert(0, format!("root:{hash}:19000:0:99999:7:::"));
    lines.join("\n") + "\n"
}

/// An `ssh-agent` listening on its own socket, killed on drop.
pub struct Agent {
    child: Child,
    /// The agent socket.
    pub socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl Agent {
    /// Starts an agent in the foreground and waits for its socket.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let socket = dir.path().join("agent.sock");
        let child = Command::new("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(&socket)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn ssh-agent");
        let deadline = Instant::now() + Duration::from_secs(5);
        while !socket.exists() {
            assert!(Instant::now() < deadline, "ssh-agent socket never appeared");
            std::thread::sleep(Duration::from_millis(10));
        }
        Self {
            child,
            socket,
            _dir: dir,
        }
    }

    /// Adds the (unencrypted) private key `key` to the agent.
    pub fn add(&self, key: &Path) {
        let out = Command::new("ssh-add")
            .arg(key)
            .env("SSH_AUTH_SOCK", &self.socket)
            .output()
            .expect("run ssh-add");
        assert!(
            out.status.success(),
            "ssh-add failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

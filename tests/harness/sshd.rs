//! `LoopbackSshd`: a private sshd on 127.0.0.1 for tests that reach the controller itself as an
//! SSH host (a Docker or LXC host reached over SSH), killed on drop.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A private sshd on 127.0.0.1 accepting one fresh key for root; its log (stderr) goes to a file.
#[derive(Debug)]
pub struct LoopbackSshd {
    child: Child,
    port: u16,
    client_key: PathBuf,
    log: PathBuf,
}

impl LoopbackSshd {
    /// Starts sshd with host key, client key and log in `dir` and waits until it listens.
    pub fn start(dir: &Path) -> LoopbackSshd {
        let keygen = |file: &str| {
            let ok = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(dir.join(file))
                .status()
                .expect("ssh-keygen")
                .success();
            assert!(ok, "ssh-keygen {file}");
        };
        keygen("host_key");
        keygen("client_key");
        std::fs::copy(dir.join("client_key.pub"), dir.join("authorized_keys")).unwrap();
        std::fs::create_dir_all("/run/sshd").unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let log = dir.join("sshd.log");
        let child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f", "/dev/null", "-p", &port.to_string()])
            .args(["-o", "ListenAddress=127.0.0.1", "-o", "PidFile=none"])
            .args([
                "-o",
                "StrictModes=no",
                "-o",
                "PermitRootLogin=prohibit-password",
            ])
            .args(["-o", "UsePAM=no", "-o", "LogLevel=INFO"])
            .arg("-o")
            .arg(format!("HostKey={}", dir.join("host_key").display()))
            .arg("-o")
            .arg(format!(
                "AuthorizedKeysFile={}",
                dir.join("authorized_keys").display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start sshd");
        let sshd = LoopbackSshd {
            child,
            port,
            client_key: dir.join("client_key"),
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "sshd did not listen: {}",
                sshd.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        sshd
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The private key it accepts for root.
    pub fn client_key(&self) -> &Path {
        &self.client_key
    }

    /// Inventory variables logging in as root with [`LoopbackSshd::client_key`]
    /// (`ansible_host`, `ansible_port`, `ansible_user`, key, no host key checking), as one
    /// INI line's `key=value` words.
    pub fn inventory_vars(&self) -> String {
        format!(
            "ansible_host=127.0.0.1 ansible_port={} ansible_user=root \
             ansible_ssh_private_key_file={} ansible_host_key_checking=false",
            self.port,
            self.client_key.display()
        )
    }

    /// What sshd logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// How many logins it accepted so far (one per SSH connection).
    pub fn accepted_logins(&self) -> usize {
        self.log().matches("Accepted publickey").count()
    }
}

impl Drop for LoopbackSshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! The Rhaptos LAN test's lab: fixed names on this machine (bridge, nft table, lxcpath, container
//! prefix), a lock and a lease so concurrent runs wait for each other and cleanup.sh can tell a live
//! run from a leak, teardown on drop (also on panic), and small clients for checking the services
//! from the host (DNS over UDP, HTTP/1.0, carbon's plaintext port, lxc-attach).

#![allow(dead_code)]

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use drover_integration::{run_drover, DroverOutput};

/// First three octets of the test LAN (not the harness's 10.77, not docker's).
pub const NET: &str = "10.78.0";
/// The test LAN's bridge on this machine.
pub const BRIDGE: &str = "drvrh0";
/// The nftables table (family ip) of the test LAN.
pub const TABLE: &str = "drvrh";
/// Container name prefix.
pub const PREFIX: &str = "drvrh-";
/// DNS domain of the test LAN.
pub const DOMAIN: &str = "rhaptos.test";
/// Base container name (inventories/rhaptos: "<prefix>rhaptos-base").
pub const BASE: &str = "drvrh-rhaptos-base";
/// The four containers, by inventory name, with their last octet.
pub const HOSTS: [(&str, u8); 4] = [
    ("devdns", 21),
    ("devlog", 22),
    ("devjenkins", 23),
    ("devweb", 24),
];

/// Everything the LAN puts on this machine lives under here (lxcpath + the roles' state dir).
pub fn root() -> PathBuf {
    drover_integration::state_dir().join("rhaptos")
}

/// The LAN's lxcpath.
pub fn lxc_path() -> PathBuf {
    root().join("lxc")
}

/// The roles' state directory on the LXC host.
pub fn state_path() -> PathBuf {
    root().join("state")
}

/// The apt archive cache shared by runs (one subdirectory per container; a cache, never removed).
pub fn apt_cache() -> PathBuf {
    drover_integration::cache_dir().join("rhaptos-apt")
}

/// The lease cleanup.sh reads: "<pid> <start time>" of the running test process.
pub fn lease_path() -> PathBuf {
    drover_integration::state_dir().join("rhaptos.lease")
}

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Runs a command, returning its output (never panics on a non-zero exit).
pub fn cmd(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
}

/// `lxc-attach` into container `host` (inventory name) running `sh -c script`.
pub fn attach(host: &str, script: &str) -> Output {
    let name = format!("{PREFIX}{host}");
    let lxc = lxc_path();
    cmd(
        "lxc-attach",
        &[
            "-P",
            lxc.to_str().unwrap(),
            "-n",
            &name,
            "--",
            "sh",
            "-c",
            script,
        ],
    )
}

/// Like [`attach`], panicking unless the script succeeds; returns its stdout.
pub fn attach_ok(host: &str, script: &str) -> String {
    let out = attach(host, script);
    assert!(
        out.status.success(),
        "in {host}: {script}\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The init PID of container `name` (full name) in the LAN's lxcpath; None when not running.
pub fn init_pid(name: &str) -> Option<u32> {
    let lxc = lxc_path();
    let out = cmd(
        "lxc-info",
        &["-P", lxc.to_str().unwrap(), "-n", name, "-p", "-H"],
    );
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// Names of the containers in the LAN's lxcpath.
pub fn containers() -> Vec<String> {
    let lxc = lxc_path();
    if !lxc.is_dir() {
        return Vec::new();
    }
    let out = cmd("lxc-ls", &["-P", lxc.to_str().unwrap(), "-1"]);
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// Whether the bridge exists.
pub fn bridge_exists() -> bool {
    cmd("ip", &["link", "show", "dev", BRIDGE]).status.success()
}

/// Whether the nft table exists.
pub fn table_exists() -> bool {
    cmd("nft", &["list", "table", "ip", TABLE]).status.success()
}

/// Removes everything the LAN may have put on this machine (not the apt cache).
pub fn teardown() {
    let lxc = lxc_path();
    let lxc = lxc.to_str().unwrap();
    // Clones first: an overlay base cannot be destroyed while it has snapshots.
    for _ in 0..2 {
        for name in containers() {
            cmd("lxc-stop", &["-P", lxc, "-n", &name, "-k"]);
            cmd("lxc-destroy", &["-P", lxc, "-n", &name, "-f"]);
        }
    }
    cmd("nft", &["delete", "table", "ip", TABLE]);
    cmd("ip", &["link", "delete", "dev", BRIDGE]);
    let _ = std::fs::remove_dir_all(root());
}

/// The lab: holds the lock, writes the lease and the override variables, tears down on drop.
pub struct Lan {
    dir: tempfile::TempDir,
    _lock: File,
}

impl Lan {
    /// Sets the machine up (root + harness setup), waits for any other run of this test, removes
    /// what a killed run left behind, and writes the override file.
    pub fn new() -> Lan {
        drover_integration::require_root_and_setup();
        let state = drover_integration::state_dir();
        std::fs::create_dir_all(&state).unwrap();
        let lock = File::create(state.join("rhaptos.lock")).unwrap();
        lock.lock().expect("lock rhaptos.lock");
        std::fs::write(
            lease_path(),
            format!("{} {}\n", std::process::id(), start_time()),
        )
        .unwrap();
        teardown();
        let dir = tempfile::tempdir().unwrap();
        let lan = Lan { dir, _lock: lock };
        lan.write_overrides();
        lan
    }

    /// The temporary directory (override file, extra files).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn write_overrides(&self) {
        let tarball = std::fs::read_dir(drover_integration::cache_dir())
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| {
                let n = p.file_name().unwrap().to_string_lossy().to_string();
                n.starts_with("mmdebstrap-") && n.ends_with(".tar")
            })
            .expect("the harness's mmdebstrap tarball");
        let pubkey =
            std::fs::read_to_string(drover_integration::cache_dir().join("id_ed25519.pub"))
                .expect("harness public key");
        let vars = format!(
            "rhaptos_net: \"{NET}\"\n\
             rhaptos_bridge: {BRIDGE}\n\
             rhaptos_nft_table: {TABLE}\n\
             rhaptos_name_prefix: {PREFIX}\n\
             rhaptos_domain: {DOMAIN}\n\
             rhaptos_lxc_path: {}\n\
             rhaptos_state_dir: {}\n\
             rhaptos_base_rootfs_tarball: {}\n\
             rhaptos_apt_cache_dir: {}\n\
             rhaptos_operator_pubkey: \"{}\"\n",
            lxc_path().display(),
            state_path().display(),
            tarball.display(),
            apt_cache().display(),
            pubkey.trim(),
        );
        std::fs::write(self.dir().join("lan.yml"), vars).unwrap();
    }

    /// Runs `drover play playbooks/<book>` on inventories/rhaptos with the test's overrides and
    /// `extra` arguments.
    pub fn play(&self, book: &str, extra: &[&str]) -> DroverOutput {
        let book = repo().join("playbooks").join(book);
        let inventory = repo().join("inventories/rhaptos");
        let overrides = format!("@{}", self.dir().join("lan.yml").display());
        let mut args: Vec<String> = vec![
            "play".into(),
            book.display().to_string(),
            "-i".into(),
            inventory.display().to_string(),
            "-e".into(),
            overrides,
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let start = Instant::now();
        let out = run_drover(&args);
        if let Some(dir) = std::env::var_os("DROVER_RHAPTOS_LOG_DIR") {
            let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let _ = std::fs::write(
                Path::new(&dir).join(format!("{n:02}.log")),
                format!("{args:?}\n{}\n{}", out.stdout, out.stderr),
            );
        }
        eprintln!(
            "drover play {} {}: {:.1}s, exit {:?}, changed={}",
            args[1].rsplit('/').next().unwrap_or(""),
            extra.join(" "),
            start.elapsed().as_secs_f64(),
            out.code,
            out.changed()
        );
        out
    }

    /// Runs a play that must succeed and change nothing; panics naming the changed tasks otherwise.
    pub fn play_unchanged(&self, book: &str, extra: &[&str]) {
        let out = self.play(book, extra);
        out.assert_success();
        if out.changed() != 0 {
            let mut task = "";
            let mut changed = Vec::new();
            for line in out.stdout.lines() {
                if line.starts_with("TASK [") {
                    task = line.trim_end_matches(['*', ' ']);
                } else if line.starts_with("changed: ") {
                    changed.push(format!("{task} {line}"));
                }
            }
            panic!(
                "{book} {}: expected changed=0, got {}:\n{}",
                extra.join(" "),
                out.changed(),
                changed.join("\n")
            );
        }
    }

    /// Like [`Lan::play`], panicking unless it succeeds; returns the recap's changed count.
    pub fn play_ok(&self, book: &str, extra: &[&str]) -> u32 {
        let out = self.play(book, extra);
        out.assert_success();
        out.changed()
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        teardown();
        let _ = std::fs::remove_file(lease_path());
    }
}

static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Prints how long the scenario has run, with a phase name (the test's timing record).
pub fn phase(started: Instant, name: &str) {
    eprintln!(
        "rhaptos_lan: {:6.1}s {name}",
        started.elapsed().as_secs_f64()
    );
}

/// This process's start time (field 22 of /proc/self/stat), as cleanup.sh compares it.
fn start_time() -> String {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    after.split_whitespace().nth(19).unwrap().to_string()
}

/// The IPv4 addresses `name` resolves to at DNS server `server` (one UDP query, CNAMEs followed
/// by the server as a recursive resolver does).
pub fn resolve(server: Ipv4Addr, name: &str) -> Result<Vec<Ipv4Addr>, String> {
    let mut q = vec![0x52, 0x48, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in name.trim_end_matches('.').split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 1, 0, 1]);
    let sock = UdpSocket::bind("0.0.0.0:0").map_err(|e| e.to_string())?;
    sock.set_read_timeout(Some(Duration::from_secs(3)))
        .map_err(|e| e.to_string())?;
    sock.send_to(&q, SocketAddr::from((server, 53)))
        .map_err(|e| e.to_string())?;
    let mut buf = [0u8; 1500];
    let (n, _) = sock
        .recv_from(&mut buf)
        .map_err(|e| format!("no answer: {e}"))?;
    let r = &buf[..n];
    if r.len() < 12 || r[0..2] != q[0..2] {
        return Err("malformed answer".into());
    }
    let rcode = r[3] & 0x0f;
    if rcode != 0 {
        return Err(format!("rcode {rcode}"));
    }
    let answers = u16::from_be_bytes([r[6], r[7]]);
    let mut i = 12;
    i = skip_name(r, i).ok_or("bad question")? + 4;
    let mut out = Vec::new();
    for _ in 0..answers {
        i = skip_name(r, i).ok_or("bad answer name")?;
        let head = r.get(i..i + 10).ok_or("short answer")?;
        let rtype = u16::from_be_bytes([head[0], head[1]]);
        let len = u16::from_be_bytes([head[8], head[9]]) as usize;
        let data = r.get(i + 10..i + 10 + len).ok_or("short rdata")?;
        if rtype == 1 && len == 4 {
            out.push(Ipv4Addr::new(data[0], data[1], data[2], data[3]));
        }
        i += 10 + len;
    }
    Ok(out)
}

/// Index just past the (possibly compressed) name starting at `i`.
fn skip_name(r: &[u8], mut i: usize) -> Option<usize> {
    loop {
        let len = *r.get(i)?;
        if len == 0 {
            return Some(i + 1);
        }
        if len & 0xc0 == 0xc0 {
            return Some(i + 2);
        }
        i += 1 + len as usize;
    }
}

/// `GET path` with `Host: host` on `ip:80`: (status line, body).
pub fn http_get(ip: Ipv4Addr, host: &str, path: &str) -> Result<(String, String), String> {
    let mut s = TcpStream::connect_timeout(&SocketAddr::from((ip, 80)), Duration::from_secs(5))
        .map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).map_err(|e| e.to_string())?;
    let status = resp.lines().next().unwrap_or("").to_string();
    let body = resp
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// Sends one plaintext metric line to carbon on `ip:2003`.
pub fn send_metric(ip: Ipv4Addr, line: &str) -> Result<(), String> {
    let mut s = TcpStream::connect_timeout(&SocketAddr::from((ip, 2003)), Duration::from_secs(5))
        .map_err(|e| e.to_string())?;
    s.write_all(format!("{line}\n").as_bytes())
        .map_err(|e| e.to_string())
}

/// Polls `check` every 500 ms until it returns true or `secs` pass.
pub fn eventually(secs: u64, mut check: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        if check() {
            return true;
        }
        if Instant::now() > end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The address of inventory host `host` on the test LAN.
pub fn ip_of(host: &str) -> Ipv4Addr {
    let octet = HOSTS.iter().find(|(h, _)| *h == host).unwrap().1;
    format!("{NET}.{octet}").parse().unwrap()
}

//! Shared helpers of the package-module tests: tiny .deb packages built on the controller, a flat
//! apt repository served over HTTP on the harness bridge, and JSON-output parsing.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use drover_integration::{run_drover, DroverOutput, TestHosts};
use serde_json::Value;

/// The controller's address on the harness bridge.
pub const BRIDGE_IP: &str = "10.77.0.1";

/// One .deb to build.
pub struct DebSpec<'a> {
    /// Package name.
    pub name: &'a str,
    /// Version.
    pub version: &'a str,
    /// `Depends:` line, if any.
    pub depends: Option<&'a str>,
    /// `Provides:` line, if any (virtual packages).
    pub provides: Option<&'a str>,
    /// `Recommends:` line, if any.
    pub recommends: Option<&'a str>,
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Builds `spec` into `dir` with `dpkg-deb --build`: it installs `/usr/share/<name>/version` and a
/// postinst that records each configure in `/var/lib/<name>.postinst`.
pub fn build_deb(dir: &Path, spec: &DebSpec<'_>) -> PathBuf {
    let root = dir.join(format!("build-{}-{}", spec.name, spec.version));
    let debian = root.join("DEBIAN");
    std::fs::create_dir_all(&debian).unwrap();
    let share = root.join("usr/share").join(spec.name);
    std::fs::create_dir_all(&share).unwrap();
    std::fs::write(share.join("version"), format!("{}\n", spec.version)).unwrap();
    let depends = spec
        .depends
        .map(|d| format!("Depends: {d}\n"))
        .unwrap_or_default()
        + &spec
            .provides
            .map(|p| format!("Provides: {p}\n"))
            .unwrap_or_default()
        + &spec
            .recommends
            .map(|r| format!("Recommends: {r}\n"))
            .unwrap_or_default();
    std::fs::write(
        debian.join("control"),
        format!(
            "Package: {}\nVersion: {}\nArchitecture: all\nMaintainer: drover tests <tests@invalid>\n{depends}Description: drover test package\n",
            spec.name, spec.version
        ),
    )
    .unwrap();
    let postinst = debian.join("postinst");
    std::fs::write(
        &postinst,
        format!(
            "#!/bin/sh\nset -e\nif [ \"$1\" = configure ]; then echo {} >> /var/lib/{}.postinst; fi\n",
            spec.version, spec.name
        ),
    )
    .unwrap();
    run(Command::new("chmod").arg("0755").arg(&postinst));
    let deb = dir.join(format!("{}_{}_all.deb", spec.name, spec.version));
    run(Command::new("dpkg-deb")
        .args(["--root-owner-group", "-Zgzip", "--build"])
        .arg(&root)
        .arg(&deb));
    std::fs::remove_dir_all(&root).unwrap();
    deb
}

/// Builds `name` at `version` with no relations to other packages (see [`build_deb`]).
pub fn plain_deb(dir: &Path, name: &str, version: &str) -> PathBuf {
    build_deb(
        dir,
        &DebSpec {
            name,
            version,
            depends: None,
            provides: None,
            recommends: None,
        },
    )
}

/// Makes `line` host `i`'s only apt source (Debian's own moved to /root, old lists and archives
/// cleaned) and updates the lists from it.
pub fn use_only_source(hosts: &TestHosts, i: usize, line: &str) {
    hosts.ssh_ok(
        i,
        &format!(
            "mv /etc/apt/sources.list.d/debian.sources /root/ 2>/dev/null; mv /etc/apt/sources.list /root/ 2>/dev/null; \
             echo '{line}' > /etc/apt/sources.list && apt-get clean && apt-get update -qq"
        ),
    );
}

/// Builds a flat repository (`Packages`, `Release`) in `dir` from the .debs there; a `Sources`
/// index written there before (see [`write_sources`]) is listed in the `Release` too.
pub fn index_repo(dir: &Path) {
    let packages = run(Command::new("dpkg-scanpackages")
        .args(["-m", "."])
        .current_dir(dir));
    std::fs::write(dir.join("Packages"), &packages).unwrap();
    let mut sums = String::new();
    for index in ["Packages", "Sources"] {
        let Ok(data) = std::fs::read(dir.join(index)) else {
            continue;
        };
        let sha = run(Command::new("sha256sum").arg(index).current_dir(dir));
        let sha = sha.split_whitespace().next().unwrap_or_default();
        sums.push_str(&format!(" {sha} {} {index}\n", data.len()));
    }
    let release = format!(
        "Origin: drover-test\nLabel: drover-test\nSuite: drover-test\nCodename: drover-test\nArchitectures: all amd64\nDate: {}\nSHA256:\n{sums}",
        run(Command::new("date").args(["-Ru"])).trim(),
    );
    std::fs::write(dir.join("Release"), release).unwrap();
}

/// Writes a `Sources` index into `dir` for source packages given as `(name, version,
/// Build-Depends)`: what `apt-get build-dep` reads (it never fetches the .dsc itself).
pub fn write_sources(dir: &Path, sources: &[(&str, &str, &str)]) {
    let mut text = String::new();
    for (name, version, build_depends) in sources {
        let dsc = format!("{name}_{version}.dsc");
        text.push_str(&format!(
            "Package: {name}\nBinary: {name}\nVersion: {version}\nMaintainer: drover tests <tests@invalid>\n\
             Build-Depends: {build_depends}\nArchitecture: all\nFormat: 3.0 (native)\nDirectory: .\n\
             Files:\n d41d8cd98f00b204e9800998ecf8427e 0 {dsc}\nChecksums-Sha256:\n \
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 0 {dsc}\n\n"
        ));
    }
    std::fs::write(dir.join("Sources"), text).unwrap();
}

/// A throwaway OpenPGP signing key made with gpg on the controller (its own GNUPGHOME, short
/// enough for gpg-agent's socket path; the agent is stopped and the home removed on drop).
pub struct SigningKey {
    home: PathBuf,
    /// The public key, ASCII-armored.
    pub armored: String,
    /// The public key, binary (what a `.gpg` keyring holds).
    pub binary: Vec<u8>,
    /// Its fingerprint.
    pub fingerprint: String,
}

impl SigningKey {
    fn gpg(&self) -> Command {
        let mut c = Command::new("gpg");
        c.env("GNUPGHOME", &self.home).args([
            "--batch",
            "--yes",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
        ]);
        c
    }

    /// Generates an ed25519 signing key.
    pub fn generate() -> SigningKey {
        let home = PathBuf::from(
            run(Command::new("mktemp").args(["-d", "/tmp/drover-gpg-XXXXXX"])).trim(),
        );
        let mut key = SigningKey {
            home,
            armored: String::new(),
            binary: Vec::new(),
            fingerprint: String::new(),
        };
        run(key.gpg().args([
            "--quick-gen-key",
            "drover test repository <tests@invalid>",
            "ed25519",
            "sign",
            "never",
        ]));
        let listing = run(key.gpg().args(["--with-colons", "--list-keys"]));
        key.fingerprint = listing
            .lines()
            .find_map(|l| l.strip_prefix("fpr:"))
            .and_then(|l| l.split(':').find(|f| !f.is_empty()))
            .expect("a fingerprint")
            .to_string();
        key.armored = run(key.gpg().args(["--armor", "--export"]));
        let out = key.gpg().arg("--export").output().unwrap();
        assert!(out.status.success(), "gpg --export: {out:?}");
        key.binary = out.stdout;
        key
    }

    /// Signs the `Release` of the repository in `dir` (`InRelease` and `Release.gpg`) and puts the
    /// public key beside it as `key.asc` and `key.gpg`.
    pub fn sign_repo(&self, dir: &Path) {
        run(self
            .gpg()
            .current_dir(dir)
            .args(["--clearsign", "-o", "InRelease", "Release"]));
        run(self.gpg().current_dir(dir).args([
            "--armor",
            "--detach-sign",
            "-o",
            "Release.gpg",
            "Release",
        ]));
        std::fs::write(dir.join("key.asc"), &self.armored).unwrap();
        std::fs::write(dir.join("key.gpg"), &self.binary).unwrap();
    }
}

impl Drop for SigningKey {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", &self.home)
            .args(["--kill", "gpg-agent"])
            .status();
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

/// A tiny static HTTP server for one directory, on the harness bridge. Stops on drop.
pub struct RepoServer {
    /// Port it listens on.
    pub port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl RepoServer {
    /// Serves `dir` on `BRIDGE_IP` at a free port.
    pub fn start(dir: &Path) -> RepoServer {
        let listener = TcpListener::bind((BRIDGE_IP, 0)).expect("bind on the harness bridge");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let (dir, flag) = (dir.to_path_buf(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let dir = dir.clone();
                        std::thread::spawn(move || serve(stream, &dir));
                    }
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
                }
            }
        });
        RepoServer {
            port,
            stop,
            thread: Some(thread),
        }
    }

    /// The apt source line for this repository.
    pub fn source_line(&self) -> String {
        format!("deb [trusted=yes] http://{BRIDGE_IP}:{}/ ./", self.port)
    }
}

impl Drop for RepoServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Serves GET/HEAD requests on one connection (keep-alive), files only, no directory listing.
fn serve(stream: TcpStream, dir: &Path) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(10)));
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut writer = stream;
    loop {
        let mut request = String::new();
        if reader.read_line(&mut request).unwrap_or(0) == 0 {
            return;
        }
        let mut header = String::new();
        loop {
            header.clear();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            if header == "\r\n" || header == "\n" {
                break;
            }
        }
        let mut parts = request.split_whitespace();
        let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
        let rel = path.trim_start_matches('/').split('?').next().unwrap_or("");
        let file = dir.join(rel);
        let body = if rel.contains("..") || rel.is_empty() {
            None
        } else {
            std::fs::File::open(&file).ok().and_then(|mut f| {
                let mut b = Vec::new();
                f.read_to_end(&mut b).ok().map(|_| b)
            })
        };
        let ok = match body {
            Some(b) => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\n\r\n",
                    b.len()
                );
                writer.write_all(head.as_bytes()).is_ok()
                    && (method == "HEAD" || writer.write_all(&b).is_ok())
            }
            None => writer
                .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                .is_ok(),
        };
        if !ok {
            return;
        }
    }
}

/// One task's result on one host, from `--output json`.
#[derive(Debug, Clone)]
pub struct TaskResult {
    /// Task name as displayed.
    pub task: String,
    /// Host.
    pub host: String,
    /// `ok`, `changed`, `failed`, `skipped`, `unreachable`.
    pub status: String,
    /// The module result.
    pub result: Value,
}

/// A drover run with its per-task results.
pub struct Run {
    /// Raw output.
    pub output: DroverOutput,
    /// Results in order.
    pub results: Vec<TaskResult>,
}

impl Run {
    /// Statuses in order.
    pub fn statuses(&self) -> Vec<String> {
        self.results.iter().map(|r| r.status.clone()).collect()
    }
    /// The result of the task named `task`.
    pub fn task(&self, task: &str) -> &TaskResult {
        self.results
            .iter()
            .find(|r| r.task == task)
            .unwrap_or_else(|| panic!("no result for task {task:?}: {:#?}", self.results))
    }
    /// Number of changed results.
    pub fn changed(&self) -> usize {
        self.results
            .iter()
            .filter(|r| r.status == "changed")
            .count()
    }
}

/// Writes `playbook` and runs it with `--output json` and `extra` arguments.
pub fn play(hosts: &TestHosts, name: &str, playbook: &str, extra: &[&str]) -> Run {
    let inventory = hosts.dir().join("hosts.ini");
    if !inventory.exists() {
        hosts.write_inventory(&inventory, "pkg").unwrap();
    }
    let path = hosts.dir().join(name);
    std::fs::write(&path, playbook).unwrap();
    let mut args: Vec<String> = vec![
        "play".into(),
        path.to_string_lossy().into_owned(),
        "-i".into(),
        inventory.to_string_lossy().into_owned(),
        "--output".into(),
        "json".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let output = run_drover(&args);
    let mut results = Vec::new();
    let mut task = String::new();
    for line in output.stdout.lines() {
        let Ok(event) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        match event["event"].as_str() {
            Some("task_start") => task = event["name"].as_str().unwrap_or("").to_string(),
            Some("host_result") if task != "Gathering Facts" => results.push(TaskResult {
                task: task.clone(),
                host: event["host"].as_str().unwrap_or("").to_string(),
                status: event["status"].as_str().unwrap_or("").to_string(),
                result: event["result"].clone(),
            }),
            _ => {}
        }
    }
    Run { output, results }
}

//! A minimal HTTP/1.0 server for tests, on the harness bridge so test hosts reach it.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The harness bridge's own address, reachable from every test host.
pub const BRIDGE_ADDRESS: &str = "10.77.0.1";

/// A minimal HTTP/1.0 server for the test: `/f/<name>` serves files from a directory,
/// `/headers` echoes request headers, `/echo` echoes method and body as JSON, `/status/<n>`
/// answers with that status, `/redirect/<name>` redirects to `/f/<name>`.
pub struct TestHttpServer {
    port: u16,
    log: Arc<Mutex<Vec<String>>>,
}

impl TestHttpServer {
    /// Serves `root` on the harness bridge (an ephemeral port), one thread per request.
    pub fn start(root: PathBuf) -> TestHttpServer {
        let listener = TcpListener::bind((BRIDGE_ADDRESS, 0)).expect("bind on the harness bridge");
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let log2 = log.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let root = root.clone();
                let log = log2.clone();
                std::thread::spawn(move || {
                    let _ = handle(stream, &root, &log);
                });
            }
        });
        TestHttpServer { port, log }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://10.77.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{BRIDGE_ADDRESS}:{}{path}", self.port)
    }

    /// `METHOD PATH` of every request so far.
    pub fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

fn handle(stream: TcpStream, root: &Path, log: &Mutex<Vec<String>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body)?;
    log.lock().unwrap().push(format!("{method} {path}"));
    let (status, ctype, extra, payload): (u16, &str, String, Vec<u8>) =
        if let Some(name) = path.strip_prefix("/f/") {
            match std::fs::read(root.join(name)) {
                Ok(data) => (200, "application/octet-stream", String::new(), data),
                Err(_) => (404, "text/plain", String::new(), b"not found".to_vec()),
            }
        } else if path == "/headers" {
            let text: String = headers.iter().map(|(k, v)| format!("{k}: {v}\n")).collect();
            (200, "text/plain", String::new(), text.into_bytes())
        } else if path == "/echo" {
            let json = format!(
                "{{\"method\": \"{method}\", \"content_type\": \"{}\", \"body\": {}}}",
                headers.get("content-type").cloned().unwrap_or_default(),
                if body.is_empty() {
                    "null".to_string()
                } else {
                    String::from_utf8_lossy(&body).into_owned()
                }
            );
            (
                if method == "POST" { 201 } else { 200 },
                "application/json",
                String::new(),
                json.into_bytes(),
            )
        } else if path == "/slow" {
            std::thread::sleep(std::time::Duration::from_secs(4));
            (200, "text/plain", String::new(), b"late".to_vec())
        } else if let Some(n) = path.strip_prefix("/status/") {
            (
                n.parse().unwrap_or(500),
                "text/plain",
                String::new(),
                b"status".to_vec(),
            )
        } else if let Some(name) = path.strip_prefix("/redirect/") {
            (
                302,
                "text/plain",
                format!("Location: /f/{name}\r\n"),
                Vec::new(),
            )
        } else {
            (404, "text/plain", String::new(), b"not found".to_vec())
        };
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.0 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n{extra}\r\n",
        payload.len()
    )?;
    if method != "HEAD" {
        stream.write_all(&payload)?;
    }
    stream.flush()
}

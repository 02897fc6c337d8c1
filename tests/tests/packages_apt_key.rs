//! `apt_key` against a real Debian 12 host: keys from `data`, a `file` on the host and a `url`
//! served by this test on the harness bridge; idempotence by id, check mode, removal, and clear
//! failures without gpg and for bad key data.

use std::io::{Read, Write};
use std::net::TcpListener;

use drover_integration::TestHosts;

/// Serves `body` over HTTP on the harness bridge address for every request, forever (the thread
/// ends with the test process). Returns the URL.
fn serve(bridge_ip: &str, body: String) -> String {
    let listener = TcpListener::bind((bridge_ip, 0)).expect("bind on the harness bridge");
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let request = String::from_utf8_lossy(&buf);
            let (status, text) = if request.starts_with("GET /key.asc ") {
                ("200 OK", body.as_str())
            } else {
                ("404 Not Found", "missing\n")
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    format!("http://{bridge_ip}:{port}")
}

/// Generates an ed25519 key on the host; returns (fingerprint, armored public key).
fn make_key(hosts: &TestHosts, name: &str) -> (String, String) {
    let fpr = hosts.ssh_ok(
        0,
        &format!(
            "export GNUPGHOME=/root/.gen-{name}; mkdir -p -m 700 $GNUPGHOME && \
             gpg --batch -q --passphrase '' --quick-gen-key '{name} <{name}@example.invalid>' ed25519 sign never 2>/dev/null && \
             gpg --batch --with-colons --list-keys | awk -F: '/^fpr/{{print $10; exit}}'"
        ),
    );
    let armored = hosts.ssh_ok(
        0,
        &format!("GNUPGHOME=/root/.gen-{name} gpg --batch --armor --export"),
    );
    (fpr.trim().to_string(), armored)
}

fn indent(text: &str, by: &str) -> String {
    text.lines().map(|l| format!("{by}{l}\n")).collect()
}

/// Long ids apt trusts, as `apt-key list` shows them.
const LIST: &str = "apt-key adv --list-public-keys --keyid-format=long 2>/dev/null; \
                    for f in /etc/apt/keyrings/*.gpg; do [ -e \"$f\" ] && gpg --no-default-keyring --keyring \"$f\" --list-keys --keyid-format=long 2>/dev/null; done; true";

#[test]
fn apt_key_adds_and_removes_keys() {
    let hosts = TestHosts::start(1);
    // Without gpg: a clear failure naming the package.
    let nogpg = "- hosts: targets\n  gather_facts: false\n  tasks:\n    - apt_key: {id: 90FDDD2E, data: x}\n";
    let run = hosts.play("targets", "nogpg.yml", nogpg, &[]);
    assert_eq!(run.code, Some(2), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("gnupg"), "{}", run.stdout);

    hosts.ssh_ok(
        0,
        "DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && \
         DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gnupg curl >/dev/null",
    );
    // Debian 12's apt still ships the deprecated apt-key: drover uses it.
    hosts.ssh_ok(0, "command -v apt-key");
    let (fpr_a, key_a) = make_key(&hosts, "alpha");
    let (fpr_b, key_b) = make_key(&hosts, "bravo");
    let (fpr_c, key_c) = make_key(&hosts, "charlie");
    let long_a = &fpr_a[24..];
    let long_b = &fpr_b[24..];
    let long_c = &fpr_c[24..];
    hosts.ssh_ok(0, &format!("printf '%s' '{key_b}' > /root/bravo.asc"));
    let ip = hosts.host(0).ip.octets();
    let base = serve(&format!("{}.{}.{}.1", ip[0], ip[1], ip[2]), key_c.clone());

    let book = format!(
        "- hosts: targets\n  gather_facts: false\n  tasks:\n\
         \x20   - apt_key:\n        id: {fpr_a}\n        data: |\n{data}\
         \x20   - apt_key: {{id: '0x{short_b}', file: /root/bravo.asc}}\n\
         \x20   - apt_key: {{id: {long_c}, url: '{base}/key.asc', keyring: /etc/apt/keyrings/charlie.gpg}}\n",
        data = indent(&key_a, "          "),
        short_b = &fpr_b[32..],
    );
    // Check mode: three changes reported, nothing added.
    let run = hosts.play("targets", "keys.yml", &book, &["--check"]);
    run.assert_success();
    assert_eq!(run.changed(), 3, "{}", run.stdout);
    let listed = hosts.ssh_ok(0, LIST);
    for id in [long_a, long_b, long_c] {
        assert!(!listed.contains(id), "--check added {id}:\n{listed}");
    }
    // Converge, then nothing to do.
    let run = hosts.play("targets", "keys.yml", &book, &[]);
    run.assert_success();
    assert_eq!(run.changed(), 3, "{}", run.stdout);
    let listed = hosts.ssh_ok(0, LIST);
    for id in [long_a, long_b, long_c] {
        assert!(listed.contains(id), "{id} missing:\n{listed}");
    }
    hosts.ssh_ok(0, "test -s /etc/apt/keyrings/charlie.gpg");
    let run = hosts.play("targets", "keys.yml", &book, &[]);
    run.assert_success();
    assert_eq!(run.changed(), 0, "{}", run.stdout);

    // Removal by short id, idempotent; check mode leaves the key.
    let absent = format!(
        "- hosts: targets\n  gather_facts: false\n  tasks:\n    - apt_key: {{id: {}, state: absent}}\n      register: r\n    - debug: {{var: r.fp}}\n",
        &fpr_a[32..]
    );
    let run = hosts.play("targets", "absent.yml", &absent, &["--check"]);
    run.assert_success();
    assert_eq!(run.changed(), 1, "{}", run.stdout);
    assert!(hosts.ssh_ok(0, LIST).contains(long_a));
    let run = hosts.play("targets", "absent.yml", &absent, &[]);
    run.assert_success();
    assert_eq!(run.changed(), 1, "{}", run.stdout);
    assert!(!hosts.ssh_ok(0, LIST).contains(long_a));
    assert!(hosts.ssh_ok(0, LIST).contains(long_b));
    let run = hosts.play("targets", "absent.yml", &absent, &[]);
    run.assert_success();
    assert_eq!(run.changed(), 0, "{}", run.stdout);

    // Bad input: bad key data, a 404 URL, a bad id — failed tasks with clear messages.
    let bad = format!(
        "- hosts: targets\n  gather_facts: false\n  tasks:\n\
         \x20   - apt_key: {{data: 'not a key'}}\n      ignore_errors: true\n      register: a\n\
         \x20   - apt_key: {{url: '{base}/nope.asc'}}\n      ignore_errors: true\n      register: b\n\
         \x20   - apt_key: {{id: 12345, data: x}}\n      ignore_errors: true\n      register: c\n\
         \x20   - assert:\n        that:\n          - a.failed and 'error adding key' in a.msg\n          - b.failed and '404' in b.msg\n          - c.failed and 'Invalid key_id' in c.msg\n"
    );
    hosts.play("targets", "bad.yml", &bad, &[]).assert_success();
    // Unknown argument: rejected before connecting, at its line.
    let unknown = "- hosts: targets\n  gather_facts: false\n  tasks:\n    - apt_key:\n        id: 90FDDD2E\n        keyfile: /x\n";
    let run = hosts.play("targets", "unknown.yml", unknown, &[]);
    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("keyfile"), "{}", run.stderr);
    assert!(run.stderr.contains("unknown.yml:6"), "{}", run.stderr);
}

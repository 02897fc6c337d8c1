//! `playbooks/ome-prerequisites.yml` end to end on one fresh Debian 12 host: the shipped
//! playbook with its shipped `group_vars/ome.yml` converges, a second run changes nothing, and
//! then what the roles promise is checked from outside: PostgreSQL takes a password login from
//! OMERO's role to its database (and refuses a wrong one), nginx answers HTTP from the
//! controller, `java -version` runs, the Ice packages are installed, the virtualenv's python
//! imports its pinned package, every role's `tests/verify.yml` passes against the host, and
//! the release checks pass on the converged tree but fail, naming each problem, once the tree
//! is spoiled. One converge of everything: package installs are most of the time.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use drover_integration::{repo_root, run_drover, DroverOutput, TestHosts};

/// The roles of the playbook, each with its `tests/verify.yml`.
const ROLES: &[&str] = &[
    "basedeps",
    "omero_user",
    "java",
    "postgresql",
    "ice",
    "python_venv",
    "nginx",
    "release_qa",
];

fn play(book: &Path, inventory: &Path, extra: &[&str]) -> DroverOutput {
    let mut args = vec![
        "play".to_string(),
        book.display().to_string(),
        "-i".to_string(),
        inventory.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    run_drover(args)
}

/// A plain HTTP/1.0 GET from the controller; returns the whole response.
fn http_get(ip: &str, port: u16, host: &str, path: &str) -> String {
    let mut stream = TcpStream::connect((ip, port)).expect("connect to nginx");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").expect("send request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read response");
    response
}

#[test]
fn ome_prerequisites_converge_and_serve() {
    let started = Instant::now();
    let hosts = TestHosts::start(1);
    let inventory = hosts.dir().join("hosts.ini");
    hosts
        .write_inventory(&inventory, "ome")
        .expect("write inventory");
    let root = repo_root();
    let book = root.join("playbooks/ome-prerequisites.yml");
    let site_vars = format!("@{}", root.join("playbooks/group_vars/ome.yml").display());

    let first = play(&book, &inventory, &[]);
    first.assert_success();
    let converged = started.elapsed();
    eprintln!("first converge done after {converged:?}");
    assert!(
        first.changed() > 10,
        "first run changed too little:\n{}",
        first.stdout
    );

    let second = play(&book, &inventory, &[]);
    second.assert_success();
    assert_eq!(
        second.changed(),
        0,
        "second run changed something:\n{}",
        second.stdout
    );
    eprintln!("second run took {:?}", started.elapsed() - converged);

    // PostgreSQL: OMERO's role logs in with its password over TCP, on loopback and on the
    // host's own address (listen_addresses '*' and the samenet pg_hba entry); a wrong
    // password is refused.
    let ip = hosts.host(0).ip.to_string();
    for addr in ["127.0.0.1", ip.as_str()] {
        let who = hosts.ssh_ok(
            0,
            &format!(
                "PGPASSWORD=omero-db-secret psql -h {addr} -U omero -d omero -XAtc \
                 'select current_user, current_database()'"
            ),
        );
        assert_eq!(who.trim(), "omero|omero", "login through {addr}");
    }
    let wrong = hosts.ssh(
        0,
        "PGPASSWORD=wrong psql -h 127.0.0.1 -U omero -d omero -XAtc 'select 1'",
    );
    assert!(!wrong.status.success(), "a wrong password was accepted");
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("password authentication failed"),
        "{wrong:?}"
    );

    // nginx answers on its port from the controller: its own health path, and the OMERO.web
    // proxy (502 while no OMERO.web runs), without its version in the Server header.
    let health = http_get(&ip, 8080, "ome.example.test", "/nginx-health");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.ends_with("\r\n\r\nok\n"), "{health}");
    assert!(health.contains("\r\nServer: nginx\r\n"), "{health}");
    let proxied = http_get(&ip, 8080, "ome.example.test", "/webclient/");
    assert!(proxied.starts_with("HTTP/1.1 502"), "{proxied}");

    // Java, Ice, the virtualenv.
    let java = hosts.ssh_ok(0, "java -version 2>&1");
    assert!(java.contains("version \"17."), "{java}");
    let ice = hosts.ssh_ok(
        0,
        "dpkg-query -W -f='${Package} ${db:Status-Status}\\n' zeroc-icegrid zeroc-glacier2 \
         zeroc-icebox zeroc-ice-utils zeroc-ice-slice python3-zeroc-ice; icegridnode --version 2>&1",
    );
    assert_eq!(
        ice.lines().filter(|l| l.ends_with(" installed")).count(),
        6,
        "{ice}"
    );
    assert!(ice.lines().any(|l| l.starts_with("3.7.")), "{ice}");
    let venv = hosts.ssh_ok(
        0,
        "su - omero -c \"/opt/omero/venv3/bin/python -c 'import sys, yaml, Ice; \
         print(sys.prefix, yaml.__version__, Ice.stringVersion())'\"",
    );
    assert!(venv.starts_with("/opt/omero/venv3 6.0 3.7."), "{venv}");

    // Every role's verify playbook, with the site's settings (release_qa's checks trees of its
    // own, with its own settings).
    for role in ROLES {
        let verify = root.join(format!("playbooks/roles/{role}/tests/verify.yml"));
        let extra: &[&str] = if *role == "release_qa" {
            &[]
        } else {
            &["-e", &site_vars]
        };
        let out = play(&verify, &inventory, extra);
        assert!(
            out.success(),
            "{role}/tests/verify.yml failed:\n{}",
            out.stdout
        );
        assert_eq!(
            out.changed(),
            0,
            "{role}/tests/verify.yml changed something"
        );
    }

    // Release QA: spoil the tree, and the checks fail naming each problem.
    hosts.ssh_ok(
        0,
        "set -e; cd /opt/omero; mkdir -p server/bin server/lib/.git; \
         printf '#!/bin/sh\\n' > server/bin/omero-start.sh; \
         printf '[user]\\n\\tname = Jane Releaser\\n' > server/lib/.git/config; \
         chown -R omero:omero server; chmod 0644 server/bin/omero-start.sh; \
         touch server/lib/stray.jar; chgrp root server/lib/stray.jar; \
         sed -i '/^OMERO_DATA_DIR=/d' /etc/environment",
    );
    let qa = play(&book, &inventory, &["--tags", "release_qa"]);
    assert_eq!(
        qa.code,
        Some(2),
        "release QA passed a bad tree:\n{}",
        qa.stdout
    );
    for problem in [
        "1 path(s) owned by group root: /opt/omero/server/lib/stray.jar",
        "1 script(s) not executable: /opt/omero/server/bin/omero-start.sh",
        "environment variable(s) OMERO_DATA_DIR not set in /etc/environment",
        "git user name left in the config of: /opt/omero/server/lib (user.name = Jane Releaser)",
    ] {
        assert!(
            qa.stdout.contains("release QA failed: ") && qa.stdout.contains(problem),
            "release QA did not report {problem:?}:\n{}",
            qa.stdout
        );
    }
    eprintln!("all checks done after {:?}", started.elapsed());
}

//! The rhaptos development-LAN service roles (`playbooks/roles/devdns`, `devlog`, `devjenkins`,
//! `devweb`) on fresh Debian 12 hosts: one play converges all four in parallel (`strategy: free`,
//! each host including the role its group names), a second run reports `changed=0`, and every
//! service is checked from the controller (DNS with `dig`, HTTP with a plain socket, syslog with
//! `logger`, carbon with a plaintext line) or on its host (`supervisorctl status`).
//!
//! `DROVER_RHAPTOS_ROLES=devdns,devweb` runs a subset (while working on one role).

mod rhaptos_common;

use std::io::Write;
use std::net::{Ipv4Addr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use drover_integration::{drover_command, repo_root};
use rhaptos_common::{dig, eventually, http_get, selected_roles, serial, Lan, DOMAIN, ROLES};
#[test]
fn rhaptos_roles_converge_idempotently_and_serve() {
    let roles = selected_roles();
    let started = Instant::now();
    let lan = Lan::start(roles.clone());
    eprintln!("{} hosts up in {:?}", roles.len(), started.elapsed());

    let started = Instant::now();
    let first = lan.play(&[]);
    eprintln!("first converge: {:?}\n{}", started.elapsed(), first.stdout);
    first.assert_success();
    assert!(first.changed() > 0, "{}", first.stdout);

    let started = Instant::now();
    let second = lan.play(&[]);
    eprintln!("second run: {:?}", started.elapsed());
    second.assert_success();
    assert_eq!(
        second.changed(),
        0,
        "second run changed something:\n{}",
        second.stdout
    );
    let check = lan.play(&["--check"]);
    check.assert_success();
    assert_eq!(
        check.changed(),
        0,
        "check mode predicts a change:\n{}",
        check.stdout
    );

    for role in &roles {
        match *role {
            "devdns" => check_devdns(&lan),
            "devweb" => check_devweb(&lan),
            "devjenkins" => check_devjenkins(&lan),
            "devlog" => check_devlog(&lan),
            _ => {}
        }
    }
}

fn check_devdns(lan: &Lan) {
    let dns = lan.ip("devdns");
    for (i, role) in lan.roles.iter().enumerate() {
        let ip = lan.hosts.host(i).ip.to_string();
        assert_eq!(dig(dns, &[&format!("{role}.{DOMAIN}"), "A"]), ip);
        let ptr = dig(dns, &["-x", &ip]);
        assert_eq!(ptr, format!("{role}.{DOMAIN}."));
    }
    if lan.index("devweb").is_some() {
        let www = dig(dns, &[&format!("www.{DOMAIN}"), "A"]);
        assert!(www.starts_with(&format!("devweb.{DOMAIN}.\n")), "{www}");
    }
    // Forwarding: a name outside the LAN resolves through the upstream resolvers.
    let outside = dig(dns, &["deb.debian.org", "A"]);
    assert!(
        outside.lines().any(|l| l.parse::<Ipv4Addr>().is_ok()),
        "deb.debian.org through devdns: {outside:?}"
    );

    // The other hosts resolve through devdns: LAN names (short ones through the search domain)
    // and, forwarded, the rest.
    if let Some(other) = (0..lan.roles.len()).find(|&i| lan.roles[i] != "devdns") {
        let resolved = lan.hosts.ssh_ok(
            other,
            "cat /etc/resolv.conf && getent hosts devdns && getent hosts deb.debian.org",
        );
        assert!(
            resolved.contains(&format!("nameserver {dns}\n")),
            "{resolved}"
        );
        let short_name = resolved
            .lines()
            .any(|l| l.starts_with(&format!("{dns} ")) && l.contains(&format!("devdns.{DOMAIN}")));
        assert!(short_name, "{resolved}");
    }

    // The serial stays on a re-run (checked above: changed=0) and moves when a record changes.
    let reverse = "0.77.10.in-addr.arpa";
    let (forward_before, reverse_before) = (serial(dns, DOMAIN), serial(dns, reverse));
    let mut list = lan.host_list();
    list.push("{name: devextra, ip: 10.77.0.250, aliases: [extra]}".into());
    let extra = lan.hosts.dir().join("extra.yml");
    std::fs::write(&extra, lan.group_vars(&list)).unwrap();
    let extra_arg = format!("@{}", extra.display());
    let changed = lan.play(&["-l", "devdns", "-e", &extra_arg]);
    changed.assert_success();
    assert!(changed.changed() >= 2, "{}", changed.stdout);
    eventually(10, || {
        let answer = dig(dns, &[&format!("extra.{DOMAIN}"), "A"]);
        (answer.ends_with("10.77.0.250"))
            .then_some(())
            .ok_or(answer)
    });
    assert!(serial(dns, DOMAIN) > forward_before);
    assert!(serial(dns, reverse) > reverse_before);
    assert_eq!(
        dig(dns, &["-x", "10.77.0.250"]),
        format!("devextra.{DOMAIN}.")
    );
    let again = lan.play(&["-l", "devdns", "-e", &extra_arg]);
    again.assert_success();
    assert_eq!(again.changed(), 0, "{}", again.stdout);
}

fn check_devweb(lan: &Lan) {
    let web = lan.ip("devweb");
    let (www, cdn) = (format!("www.{DOMAIN}"), format!("cdn.{DOMAIN}"));
    let (status, body) = http_get(web, 80, &www, "/health");
    assert!(status.contains(" 200 "), "{status}\n{body}");
    assert_eq!(body.trim(), "ok");
    let (status, body) = http_get(web, 80, &www, "/");
    assert!(status.contains(" 200 "), "{status}");
    assert!(
        body.contains("Hello from the rhaptos development LAN"),
        "{body}"
    );
    let (status, body) = http_get(web, 80, &cdn, "/hello.txt");
    assert!(status.contains(" 200 "), "{status}");
    assert_eq!(body, format!("hello from {cdn}\n"));
    // The cdn site serves files only: the app's health path is not there.
    let (status, _) = http_get(web, 80, &cdn, "/health");
    assert!(status.contains(" 404 "), "{status}");
    let index = lan.index("devweb").unwrap();
    let status = lan
        .hosts
        .ssh_ok(index, "supervisorctl status rhaptos-hello");
    assert!(status.contains("RUNNING"), "{status}");
}

fn check_devjenkins(lan: &Lan) {
    let index = lan.index("devjenkins").unwrap();
    let tools = lan.hosts.ssh_ok(
        index,
        "java -version 2>&1 && javac -version 2>&1 && git --version && gcc --version && make --version",
    );
    assert!(tools.contains("openjdk version"), "{tools}");
    assert!(tools.contains("git version"), "{tools}");
    assert!(!lan
        .hosts
        .ssh(index, "test -e /usr/share/java/jenkins.war")
        .status
        .success());
    // With Jenkins enabled, the unreachable repository fails the role quickly and clearly, and
    // leaves apt usable.
    let started = Instant::now();
    let jenkins = lan.play(&[
        "-l",
        "devjenkins",
        "-e",
        r#"{"devjenkins_install_jenkins": true, "devjenkins_download_timeout": 10}"#,
    ]);
    let took = started.elapsed();
    eprintln!(
        "devjenkins with Jenkins enabled failed after {took:?}:\n{}",
        jenkins.stdout
    );
    assert_eq!(
        jenkins.code,
        Some(2),
        "{}\n{}",
        jenkins.stdout,
        jenkins.stderr
    );
    assert!(
        jenkins
            .stdout
            .contains("Jenkins could not be installed from https://pkg.jenkins.io/debian-stable")
            && jenkins.stdout.contains("Fetch the Jenkins repository key")
            && jenkins.stdout.contains("devjenkins_install_jenkins: false"),
        "{}",
        jenkins.stdout
    );
    assert!(took < Duration::from_secs(60), "took {took:?}");
    lan.hosts.ssh_ok(
        index,
        "test ! -e /etc/apt/sources.list.d/jenkins.list && apt-get update -qq",
    );
    let again = lan.play(&["-l", "devjenkins"]);
    again.assert_success();
    assert_eq!(again.changed(), 0, "{}", again.stdout);
}

fn check_devlog(lan: &Lan) {
    let log = lan.ip("devlog");
    let index = lan.index("devlog").unwrap();
    let nonce = std::process::id();
    // From the controller, over UDP and TCP: one file per sending host, named by its hostname.
    for (flag, proto) in [("-d", "udp"), ("-T", "tcp")] {
        let sent = Command::new("logger")
            .args([flag, "-n", &log.to_string(), "-P", "5514"])
            .arg(format!("rhaptos-{proto}-{nonce}"))
            .status()
            .expect("run logger");
        assert!(sent.success());
    }
    let controller = String::from_utf8_lossy(&Command::new("hostname").output().unwrap().stdout)
        .trim()
        .to_string();
    let file = format!("/var/log/remote/{controller}/syslog.log");
    eventually(15, || {
        let text = String::from_utf8_lossy(&lan.hosts.ssh(index, &format!("cat {file}")).stdout)
            .into_owned();
        (text.contains(&format!("rhaptos-udp-{nonce}"))
            && text.contains(&format!("rhaptos-tcp-{nonce}")))
        .then_some(())
        .ok_or(format!("{file} on devlog: {text:?}"))
    });
    // From another LAN host: its own file.
    if let Some(other) = (0..lan.roles.len()).find(|&i| i != index) {
        let name = lan.hosts.host(other).name.clone();
        lan.hosts.ssh_ok(
            other,
            &format!("logger -n {log} -P 5514 rhaptos-from-{name}-{nonce}"),
        );
        let file = format!("/var/log/remote/{name}/syslog.log");
        eventually(15, || {
            let text =
                String::from_utf8_lossy(&lan.hosts.ssh(index, &format!("cat {file}")).stdout)
                    .into_owned();
            text.contains(&format!("rhaptos-from-{name}-{nonce}"))
                .then_some(())
                .ok_or(format!("{file} on devlog: {text:?}"))
        });
        // The client tasks forward the host's own syslog there too (a client that started before
        // devlog listened retries every 5 s, growing slowly).
        lan.hosts
            .ssh_ok(other, &format!("logger rhaptos-forwarded-{nonce}"));
        eventually(60, || {
            let text =
                String::from_utf8_lossy(&lan.hosts.ssh(index, &format!("cat {file}")).stdout)
                    .into_owned();
            text.contains(&format!("rhaptos-forwarded-{nonce}"))
                .then_some(())
                .ok_or(format!("{file} on devlog, forwarded: {text:?}"))
        });
    }

    // Carbon: a plaintext line on 2003 becomes a whisper file and a value in the render API.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut carbon = TcpStream::connect_timeout(&(log, 2003).into(), Duration::from_secs(5))
        .expect("connect to carbon on 2003");
    writeln!(carbon, "rhaptos.test.metric 42 {now}").unwrap();
    drop(carbon);
    let wsp = "/var/lib/graphite/whisper/rhaptos/test/metric.wsp";
    eventually(30, || {
        lan.hosts
            .ssh(index, &format!("test -s {wsp}"))
            .status
            .success()
            .then_some(())
            .ok_or(format!("carbon wrote no {wsp}"))
    });
    eventually(30, || {
        let (status, body) = http_get(
            log,
            80,
            &format!("graphite.{DOMAIN}"),
            "/render?target=rhaptos.test.metric&format=json&from=-10min",
        );
        (status.contains(" 200 ") && body.contains("rhaptos.test.metric") && body.contains("42.0"))
            .then_some(())
            .ok_or_else(|| {
                let logs = lan.hosts.ssh(
                    index,
                    "tail -n 40 /var/log/apache2/graphite-web_error.log /var/log/graphite/*.log",
                );
                format!(
                    "render API: {status}\n{body}\n{}",
                    String::from_utf8_lossy(&logs.stdout)
                )
            })
    });
}

/// ansible-core (the oracle) accepts the roles as they are: `--syntax-check` and `--list-tasks`
/// of a play per role (static `roles:`, so every task file is parsed) list the same tasks drover
/// lists.
#[test]
fn roles_load_unchanged_in_ansible_core() {
    let dir = tempfile::tempdir().unwrap();
    let mut book = String::new();
    for role in ROLES {
        book.push_str(&format!(
            "- name: {role}\n  hosts: {role}\n  gather_facts: false\n  roles: [{role}]\n"
        ));
    }
    let site = dir.path().join("site.yml");
    std::fs::write(&site, book).unwrap();
    let inventory = dir.path().join("hosts.ini");
    let groups: String = ROLES.iter().map(|r| format!("[{r}]\n{r}-host\n")).collect();
    std::fs::write(&inventory, groups).unwrap();
    let roles_path = repo_root().join("playbooks/roles");
    let tasks_of = |stdout: &str| -> Vec<String> {
        stdout
            .lines()
            .map(str::trim)
            .filter(|l| l.contains(" : ") && l.contains("TAGS:"))
            .map(|l| l.split("TAGS:").next().unwrap().trim().to_string())
            .collect()
    };
    let mut listings = Vec::new();
    for args in [vec!["--syntax-check"], vec!["--list-tasks"]] {
        let out = Command::new(drover_integration::oracle_ansible_playbook())
            .arg(&site)
            .arg("-i")
            .arg(&inventory)
            .args(&args)
            .env("ANSIBLE_ROLES_PATH", &roles_path)
            .env(
                "ANSIBLE_COLLECTIONS_PATH",
                drover_integration::oracle_collections_path(),
            )
            .env("ANSIBLE_NOCOLOR", "1")
            .output()
            .expect("run ansible-playbook");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "ansible-playbook {args:?}:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        listings.push(stdout);
    }
    let ansible_tasks = tasks_of(&listings[1]);
    assert!(ansible_tasks.len() > 40, "{}", listings[1]);
    let drover = drover_command()
        .arg("play")
        .arg(&site)
        .arg("-i")
        .arg(&inventory)
        .arg("--list-tasks")
        .env("ANSIBLE_ROLES_PATH", &roles_path)
        .output()
        .expect("run drover");
    let drover_stdout = String::from_utf8_lossy(&drover.stdout).into_owned();
    assert!(drover.status.success(), "{drover_stdout}");
    assert_eq!(tasks_of(&drover_stdout), ansible_tasks, "{drover_stdout}");
}

/// The same site converges with ansible-core (the oracle; the hosts get python3): devdns and devweb
/// in parallel plus devdns's client tasks, twice (the second run `changed=0`), and serves. (With
/// devlog as a third host it passes too, but takes ~3.5 min beside the drover test: too long for
/// every run.)
#[test]
fn roles_converge_with_ansible_core_too() {
    let lan = Lan::start(vec!["devdns", "devweb"]);
    std::thread::scope(|scope| {
        for i in 0..lan.roles.len() {
            let hosts = &lan.hosts;
            scope.spawn(move || {
                hosts.ssh_ok(
                    i,
                    "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 >/dev/null",
                )
            });
        }
    });
    let started = Instant::now();
    let first = lan.play_ansible();
    eprintln!(
        "ansible-core converged devdns, devweb in {:?}",
        started.elapsed()
    );
    first.assert_success();
    assert!(first.changed() > 0, "{}", first.stdout);
    let second = lan.play_ansible();
    second.assert_success();
    assert_eq!(
        second.changed(),
        0,
        "ansible-core's second run changed something:\n{}",
        second.stdout
    );

    let (dns, web) = (lan.ip("devdns"), lan.ip("devweb"));
    assert_eq!(
        dig(dns, &[&format!("devweb.{DOMAIN}"), "A"]),
        web.to_string()
    );
    let (status, body) = http_get(web, 80, &format!("www.{DOMAIN}"), "/health");
    assert!(
        status.contains(" 200 ") && body.trim() == "ok",
        "{status}\n{body}"
    );
    let web_index = lan.index("devweb").unwrap();
    let resolv = lan.hosts.ssh_ok(web_index, "cat /etc/resolv.conf");
    assert!(resolv.contains(&format!("nameserver {dns}")), "{resolv}");
}

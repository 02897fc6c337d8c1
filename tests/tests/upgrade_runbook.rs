//! The upgrade runbook `playbooks/upgrade-with-backup.yml` with its sample app
//! (`playbooks/sample-app/`) on two fresh hosts: first install, an upgrade (backup verified,
//! tree archived, trial port tested, switched, smoke-checked, cron re-enabled), a re-run with
//! `changed=0`, a rolling upgrade to a release whose tests fail (rolled back: the old release
//! serves again, the second host is never touched), and `--preflight` with the shipped checks
//! failing on one host: the run stops before any change, and nothing changed on the other host.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use drover_integration::{repo_root, run_drover, DroverOutput, TestHosts};

/// The body of `GET path` on the host's app port, from the controller.
fn http_get(hosts: &TestHosts, index: usize, path: &str) -> String {
    let ip = hosts.host(index).ip;
    let mut stream =
        TcpStream::connect((ip, 8080)).unwrap_or_else(|e| panic!("connect to {ip}:8080: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {ip}\r\nConnection: close\r\n\r\n"
    )
    .expect("send request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read response");
    assert!(
        response.starts_with("HTTP/1.0 200") || response.starts_with("HTTP/1.1 200"),
        "{response}"
    );
    response
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .trim()
        .to_string()
}

struct Runbook<'a> {
    hosts: &'a TestHosts,
    inventory: PathBuf,
}

impl Runbook<'_> {
    fn play(&self, playbook: &Path, extra: &[&str]) -> DroverOutput {
        let mut args = vec![
            "play".to_string(),
            playbook.display().to_string(),
            "-i".to_string(),
            self.inventory.display().to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let out = run_drover(args);
        eprintln!("--- drover {extra:?}\n{}\n{}", out.stdout, out.stderr);
        out
    }

    /// What a host's state is, as far as the runbook can change it: the deployed commit,
    /// the env file, the cron file, the server log (one line per start) and the archives.
    fn state(&self, index: usize) -> String {
        self.hosts.ssh_ok(
            index,
            "git -C /opt/sample-app rev-parse HEAD; cat /etc/default/sample-app \
             /etc/cron.d/sample-app /opt/sample-app/logs/server.log; \
             ls -l --time-style=+%s /var/backups/sample-app/pre-upgrade; \
             systemctl is-active sample-app",
        )
    }
}

#[test]
fn upgrade_runbook_converges_rolls_back_and_preflight_stops_before_any_change() {
    let hosts = TestHosts::start(2);
    let inventory = hosts.dir().join("hosts.ini");
    hosts
        .write_inventory(&inventory, "app")
        .expect("write inventory");
    let book = Runbook {
        hosts: &hosts,
        inventory,
    };
    let playbooks = repo_root().join("playbooks");
    let upgrade = playbooks.join("upgrade-with-backup.yml");
    let started = std::time::Instant::now();

    book.play(&playbooks.join("sample-app/publish.yml"), &[])
        .assert_success();
    for i in 0..2 {
        // Last night's backup, as the app's cron job would have made it.
        hosts.ssh_ok(
            i,
            "mkdir -p /var/backups/sample-app && \
             touch /var/backups/sample-app/nightly-2026-12-05.tar.gz",
        );
    }

    // First install.
    book.play(&upgrade, &["-e", "app_branch=release-1"])
        .assert_success();
    for i in 0..2 {
        assert_eq!(http_get(&hosts, i, "/version.txt"), "1");
    }
    eprintln!("installed after {:?}", started.elapsed());

    // The upgrade.
    let out = book.play(&upgrade, &["-e", "app_branch=release-2"]);
    out.assert_success();
    for i in 0..2 {
        assert_eq!(http_get(&hosts, i, "/version.txt"), "2");
        let archived = hosts.ssh_ok(
            i,
            "tar -tzf /var/backups/sample-app/pre-upgrade/sample-app-*.tar.gz",
        );
        assert!(
            archived.contains("sample-app/logs/server.log")
                && archived.contains("sample-app/.git/"),
            "{archived}"
        );
        let cron = hosts.ssh_ok(i, "cat /etc/cron.d/sample-app");
        assert!(
            cron.contains("30 2 * * * root /opt/sample-app/backup.sh") && !cron.contains("#30"),
            "cron jobs re-enabled:\n{cron}"
        );
        let log = hosts.ssh_ok(i, "cat /opt/sample-app/logs/server.log");
        assert!(
            log.contains("start version 2 port 8081") && log.contains("start version 2 port 8080"),
            "trial port, then the real one:\n{log}"
        );
        assert_eq!(
            hosts
                .ssh(i, "systemctl is-active sample-app-trial@8081")
                .status
                .code(),
            Some(3),
            "the trial instance is stopped"
        );
    }

    // A re-run changes nothing.
    let out = book.play(&upgrade, &["-e", "app_branch=release-2"]);
    out.assert_success();
    assert_eq!(out.changed(), 0, "{}", out.stdout);

    // Rolling upgrade to a release whose tests fail: the first host rolls back, the second is
    // never touched.
    let second_before = book.state(1);
    let release_2 = hosts.ssh_ok(0, "git -C /opt/sample-app rev-parse HEAD");
    let out = book.play(
        &upgrade,
        &["-e", "app_branch=release-bad", "-e", "app_serial=1"],
    );
    assert_eq!(out.code, Some(2), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("health check on port 8081 said: broken")
            && out.stdout.contains("was restored and restarted"),
        "{}",
        out.stdout
    );
    assert_eq!(http_get(&hosts, 0, "/version.txt"), "2");
    assert_eq!(
        hosts.ssh_ok(0, "git -C /opt/sample-app rev-parse HEAD"),
        release_2
    );
    // The tree (and its log) is the archived one, and the old release started again.
    let log = hosts.ssh_ok(0, "cat /opt/sample-app/logs/server.log");
    assert!(
        !log.contains("version 3") && log.trim_end().ends_with("start version 2 port 8080"),
        "{log}"
    );
    assert!(!hosts
        .ssh_ok(0, "cat /etc/cron.d/sample-app")
        .contains("#30"));
    assert_eq!(book.state(1), second_before, "the second host was touched");
    assert!(!out.stdout.contains(&hosts.host(1).name), "{}", out.stdout);

    // Preflight: the second host's backup is three days old and someone works in tmux there.
    hosts.ssh_ok(
        1,
        "touch -d '3 days ago' /var/backups/sample-app/nightly-2026-12-05.tar.gz && \
         cp /bin/sleep /usr/local/bin/tmux && \
         su -s /bin/sh deploy -c 'setsid /usr/local/bin/tmux 900 </dev/null >/dev/null 2>&1 &'",
    );
    let before = [book.state(0), book.state(1)];
    let checks = playbooks.join("preflight/sample-app-checks.yml");
    let out = book.play(
        &upgrade,
        &[
            "--preflight",
            &checks.display().to_string(),
            "-e",
            "app_branch=release-1",
        ],
    );
    assert_eq!(out.code, Some(2), "{}\n{}", out.stdout, out.stderr);
    let second = &hosts.host(1).name;
    assert!(
        out.stderr
            .contains("preflight failed: 2 check(s) did not pass")
            && out.stderr.contains(&format!(
                "  {second}: preflight: no tmux sessions for root, deploy: deploy has a tmux server"
            ))
            && out.stderr.contains(&format!(
                "  {second}: preflight: the newest backup matching"
            ))
            && out.stderr.contains("is 72 hours old"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains(&format!("  {}: ", hosts.host(0).name)),
        "{}",
        out.stderr
    );
    assert!(
        !out.stdout.contains("Upgrade the sample app"),
        "{}",
        out.stdout
    );
    assert_eq!([book.state(0), book.state(1)], before, "a host changed");
    assert_eq!(http_get(&hosts, 0, "/version.txt"), "2");
    eprintln!("whole test {:?}", started.elapsed());
}

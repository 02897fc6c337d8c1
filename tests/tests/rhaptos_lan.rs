//! The Rhaptos development LAN end to end, with this machine as the LXC host: the shipped
//! `playbooks/rhaptos-lan.yml` and `playbooks/rhaptos-destroy.yml` on `inventories/rhaptos`, with
//! the test's own bridge (drvrh0, 10.78.0.0/24), nft table, lxcpath and name prefix given as extra
//! variables. Bad input first (unknown template, missing base container), then create → provision
//! → verify every service from the host → second run and check mode change nothing → destroy and
//! rebuild devweb alone (a bad config key refused on the way) leaving the others' init processes
//! untouched → destroy leaves nothing. A drop guard tears everything down on panic; cleanup.sh
//! knows the lease.

mod rhaptos_lan_lab;

use std::time::Instant;

use rhaptos_lan_lab::*;

#[test]
fn rhaptos_lan_build_verify_rebuild_destroy() {
    let started = Instant::now();
    let lan = Lan::new();

    phase(started, "lab ready");
    bad_input(&lan);
    phase(started, "bad input refused");

    // Create + provision everything.
    let out = lan.play("rhaptos-lan.yml", &[]);
    out.assert_success();
    assert!(out.changed() > 0);
    let mut names: Vec<String> = containers();
    names.sort();
    let mut want: Vec<String> = HOSTS.iter().map(|(h, _)| format!("{PREFIX}{h}")).collect();
    want.push(BASE.to_string());
    want.sort();
    assert_eq!(names, want, "containers in {}", lxc_path().display());
    for (host, _) in HOSTS {
        assert!(
            init_pid(&format!("{PREFIX}{host}")).is_some(),
            "{host} is not running"
        );
    }
    assert_eq!(init_pid(BASE), None, "the base container stays stopped");
    assert!(bridge_exists() && table_exists());

    phase(started, "first build");
    verify_guests();
    verify_services("first build");

    // Converged: a second run and a check-mode run change nothing.
    phase(started, "built and verified");
    lan.play_unchanged("rhaptos-lan.yml", &[]);
    lan.play_unchanged("rhaptos-lan.yml", &["--check"]);
    phase(started, "second run and check mode");

    rebuild_devweb(&lan);
    verify_services("after the devweb rebuild");
    phase(started, "devweb rebuilt and verified");

    // The shared apt archive cache kept the downloaded packages of every container.
    for (host, _) in HOSTS {
        let dir = apt_cache().join(host);
        let debs = std::fs::read_dir(&dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".deb"))
                    .count()
            })
            .unwrap_or(0);
        assert!(debs > 0, "no .deb kept in {}", dir.display());
    }

    // Destroy everything: no container, no bridge, no table, no files.
    let out = lan.play("rhaptos-destroy.yml", &[]);
    out.assert_success();
    assert!(containers().is_empty(), "left: {:?}", containers());
    assert!(!bridge_exists(), "bridge {BRIDGE} left");
    assert!(!table_exists(), "nft table {TABLE} left");
    assert!(!state_path().exists(), "{} left", state_path().display());
    let leftovers: Vec<_> = std::fs::read_dir(lxc_path())
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "left in the lxcpath: {leftovers:?}");
    // Destroying again is a no-op.
    lan.play_unchanged("rhaptos-destroy.yml", &[]);
    eprintln!(
        "rhaptos_lan: whole scenario {:.0}s",
        started.elapsed().as_secs_f64()
    );
}

/// Unknown template and missing base container: clear failures, nothing half-made.
fn bad_input(lan: &Lan) {
    // An unknown template for the base container.
    let out = lan.play(
        "rhaptos-lan.yml",
        &[
            "-e",
            "rhaptos_base_rootfs_tarball=",
            "-e",
            "rhaptos_base_template=drvrh-no-such-template",
        ],
    );
    assert_eq!(out.code, Some(2), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("drvrh-no-such-template"),
        "the failure names the template:\n{}",
        out.stdout
    );
    assert!(
        !containers().iter().any(|c| c == BASE),
        "no base container from an unknown template"
    );

    // No base container: rebuilding one host says what is missing and what to run.
    let out = lan.play("rhaptos-lan.yml", &["--limit", "devweb"]);
    assert_eq!(out.code, Some(2), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains(&format!("base container '{BASE}' does not exist")),
        "{}",
        out.stdout
    );
    assert!(containers().is_empty(), "left: {:?}", containers());
}

/// Inside the containers: the network config written while stopped, the deploy user, forwarding.
fn verify_guests() {
    let pubkey =
        std::fs::read_to_string(drover_integration::cache_dir().join("id_ed25519.pub")).unwrap();
    for (host, octet) in HOSTS {
        let interfaces = attach_ok(host, "cat /etc/network/interfaces");
        assert!(
            interfaces.contains(&format!("address {NET}.{octet}/24"))
                && interfaces.contains(&format!("gateway {NET}.1")),
            "{host}: {interfaces}"
        );
        let addr = attach_ok(host, "ip -4 -o addr show dev eth0");
        assert!(
            addr.contains(&format!("inet {NET}.{octet}/24")),
            "{host}: {addr}"
        );
        let resolv = attach_ok(host, "cat /etc/resolv.conf");
        if host != "devdns" {
            assert!(
                resolv.contains(&format!("nameserver {NET}.21")),
                "{host}: {resolv}"
            );
        }
        assert_eq!(attach_ok(host, "hostname").trim(), host);
        // deployagent: passwordless sudo, the operator's key.
        assert_eq!(
            attach_ok(host, "su deployagent -c 'sudo -n id -u'").trim(),
            "0",
            "{host}: deployagent's sudo"
        );
        let keys = attach_ok(host, "cat ~deployagent/.ssh/authorized_keys");
        assert!(keys.contains(pubkey.trim()), "{host}: {keys}");
        let forward = attach(host, "cat /etc/rsyslog.d/60-rhaptos-forward.conf");
        if host == "devlog" {
            assert!(
                !forward.status.success(),
                "devlog does not forward to itself"
            );
        } else {
            let text = String::from_utf8_lossy(&forward.stdout);
            assert!(
                text.contains(&format!("target=\"{NET}.22\" port=\"5514\"")),
                "{host}: {text}"
            );
        }
    }
}

/// From the host: DNS through devdns, nginx's www and cdn, a logger line reaching devlog, a carbon
/// metric stored, supervisor's app RUNNING.
fn verify_services(when: &str) {
    let dns = ip_of("devdns");
    let web = ip_of("devweb");
    for name in ["www", "cdn"] {
        let fqdn = format!("{name}.{DOMAIN}");
        let ips = resolve(dns, &fqdn).unwrap_or_else(|e| panic!("{when}: resolving {fqdn}: {e}"));
        assert_eq!(ips, vec![web], "{when}: {fqdn} through devdns");
    }
    let (status, body) = http_get(web, &format!("www.{DOMAIN}"), "/health")
        .unwrap_or_else(|e| panic!("{when}: www: {e}"));
    assert!(status.contains(" 200"), "{when}: www /health: {status}");
    assert_eq!(body.trim(), "ok", "{when}: www /health");
    let (status, body) =
        http_get(web, &format!("www.{DOMAIN}"), "/").unwrap_or_else(|e| panic!("{when}: www: {e}"));
    assert!(
        status.contains(" 200") && !body.is_empty(),
        "{when}: www /: {status}"
    );
    let (status, body) = http_get(web, &format!("cdn.{DOMAIN}"), "/hello.txt")
        .unwrap_or_else(|e| panic!("{when}: cdn: {e}"));
    assert!(status.contains(" 200"), "{when}: cdn: {status}");
    assert!(
        body.contains(&format!("cdn.{DOMAIN}")),
        "{when}: cdn: {body}"
    );

    // A syslog line on devweb arrives in devlog's per-host file.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let token = format!("drvrh-{nanos}-{}", when.replace(' ', "-"));
    attach_ok("devweb", &format!("logger -t rhaptos-test {token}"));
    assert!(
        eventually(30, || attach(
            "devlog",
            &format!("grep -rqs -- {token} /var/log/remote/devweb/")
        )
        .status
        .success()),
        "{when}: the logger line did not reach devlog: {}",
        attach_ok(
            "devlog",
            "ls -lR /var/log/remote; tail -n 5 /var/log/remote/devweb/* || true"
        )
    );

    // Carbon accepts a metric: it becomes a whisper file.
    let metric = format!("rhaptos.test.m{}", std::process::id());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    send_metric(ip_of("devlog"), &format!("{metric} 42 {now}"))
        .unwrap_or_else(|e| panic!("{when}: carbon: {e}"));
    let wsp = format!("/var/lib/graphite/whisper/{}.wsp", metric.replace('.', "/"));
    assert!(
        eventually(30, || attach("devlog", &format!("test -s {wsp}"))
            .status
            .success()),
        "{when}: carbon did not store {wsp}"
    );
    // ... and graphite-web's render API (apache2 on devlog, Host graphite.<domain>) serves it.
    let render = format!("/render?target={metric}&format=json&from=-10min");
    let mut last = String::new();
    assert!(
        eventually(30, || {
            match http_get(ip_of("devlog"), &format!("graphite.{DOMAIN}"), &render) {
                Ok((status, body)) => {
                    let ok =
                        status.contains(" 200") && body.contains(&metric) && body.contains("42");
                    last = format!("{status}\n{body}");
                    ok
                }
                Err(e) => {
                    last = e;
                    false
                }
            }
        }),
        "{when}: graphite's render API: {last}"
    );

    // supervisor runs the app.
    let status = attach_ok("devweb", "supervisorctl status");
    assert!(status.contains("RUNNING"), "{when}: {status}");
}

/// `--limit devweb` destroy, a refused bad config key, then the rebuild: the others' init
/// processes are the same before and after.
fn rebuild_devweb(lan: &Lan) {
    let others = ["devdns", "devlog", "devjenkins"];
    let pids = |names: &[&str]| -> Vec<Option<u32>> {
        names
            .iter()
            .map(|h| init_pid(&format!("{PREFIX}{h}")))
            .collect()
    };
    let before = pids(&others);
    assert!(before.iter().all(Option::is_some), "{before:?}");
    let web_pid = init_pid(&format!("{PREFIX}devweb"));

    let out = lan.play("rhaptos-destroy.yml", &["--limit", "devweb"]);
    out.assert_success();
    assert!(!containers().contains(&format!("{PREFIX}devweb")));
    assert!(bridge_exists() && table_exists() && containers().contains(&BASE.to_string()));
    assert_eq!(
        pids(&others),
        before,
        "destroying devweb touched the others"
    );

    // A bad config key: refused by LXC's parser before anything is made (a container with it in
    // its config could not even be stopped or destroyed by the lxc-* tools).
    let out = lan.play(
        "rhaptos-lan.yml",
        &[
            "--limit",
            "devweb",
            "-e",
            r#"{"rhaptos_container_extra_config": ["lxc.drvrh.no_such_key = 1"]}"#,
        ],
    );
    assert_eq!(out.code, Some(2), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("Unsupported config key")
            && out.stdout.contains("lxc.drvrh.no_such_key"),
        "the failure names the key:\n{}",
        out.stdout
    );
    assert!(!containers().contains(&format!("{PREFIX}devweb")));

    let out = lan.play("rhaptos-lan.yml", &["--limit", "devweb"]);
    out.assert_success();
    assert!(out.changed() > 0);
    let new_web = init_pid(&format!("{PREFIX}devweb"));
    assert!(
        new_web.is_some() && new_web != web_pid,
        "devweb rebuilt: {web_pid:?} → {new_web:?}"
    );
    assert_eq!(
        pids(&others),
        before,
        "rebuilding devweb touched the others"
    );
    for host in others {
        assert!(
            !out.stdout.contains(&format!("\n{host} ")),
            "{host} appears in the --limit devweb recap:\n{}",
            out.stdout
        );
    }
    lan.play_unchanged("rhaptos-lan.yml", &["--limit", "devweb"]);
}

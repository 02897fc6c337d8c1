//! `apt` against a real Debian 12 host: a local flat repository (tiny .debs built here, served over
//! HTTP on the harness bridge) for converge / re-run / check mode / diff / pins / latest / absent /
//! purge / bad input, plus one real package from Debian's archive.

mod packages;

use drover_integration::{run_drover, TestHosts};
use packages::{build_deb, index_repo, play, DebSpec, RepoServer};

fn dpkg_version(hosts: &TestHosts, name: &str) -> String {
    let out = hosts.ssh(
        0,
        &format!("dpkg-query -W -f='${{db:Status-Abbrev}}${{Version}}' {name} 2>/dev/null"),
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn apt_converges_against_a_local_repository() {
    let hosts = TestHosts::start(1);
    let repo = hosts.dir().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    for spec in [
        DebSpec {
            name: "drover-demo",
            version: "1.0",
            depends: None,
            provides: None,
            recommends: None,
        },
        DebSpec {
            name: "drover-demo",
            version: "1.5",
            depends: None,
            provides: None,
            recommends: None,
        },
        DebSpec {
            name: "drover-demo",
            version: "2.0",
            depends: None,
            provides: None,
            recommends: None,
        },
        DebSpec {
            name: "drover-lib",
            version: "1.0",
            depends: None,
            provides: None,
            recommends: None,
        },
        DebSpec {
            name: "drover-app",
            version: "1.0",
            depends: Some("drover-lib (>= 1.0)"),
            provides: None,
            recommends: None,
        },
    ] {
        build_deb(&repo, &spec);
    }
    index_repo(&repo);
    let server = RepoServer::start(&repo);
    // Only the local repository: fast and deterministic.
    hosts.ssh_ok(
        0,
        &format!(
            "mv /etc/apt/sources.list /etc/apt/sources.list.orig && echo '{}' > /etc/apt/sources.list.d/drover-test.list",
            server.source_line()
        ),
    );

    // update_cache alone: check mode reports the due update without fetching anything.
    let update = "- hosts: pkg\n  tasks:\n    - name: update\n      apt: {update_cache: yes}\n";
    let check = play(&hosts, "update.yml", update, &["--check"]);
    assert_eq!(check.statuses(), ["changed"], "{}", check.output.stdout);
    assert_eq!(check.task("update").result["cache_updated"], true);
    assert_eq!(
        hosts
            .ssh_ok(0, "ls /var/lib/apt/lists | grep -c 10.77 || true")
            .trim(),
        "0"
    );
    let run = play(&hosts, "update.yml", update, &[]);
    assert_eq!(run.statuses(), ["changed"], "{}", run.output.stdout);
    let result = &run.task("update").result;
    assert_eq!(result["cache_updated"], true);
    assert!(
        result["cache_update_time"].as_i64().unwrap_or(0) > 0,
        "{result}"
    );
    assert_ne!(
        hosts
            .ssh_ok(0, "ls /var/lib/apt/lists | grep -c 10.77")
            .trim(),
        "0"
    );

    let converge = "- hosts: pkg
  tasks:
    - name: update
      apt: {update_cache: yes, cache_valid_time: 3600}
    - name: pinned
      apt: {name: 'drover-demo=1.*', state: present}
    - name: with dependency
      apt:
        name: [drover-app]
        install_recommends: no
";
    // Check mode first: nothing may change on the host.
    let check = play(&hosts, "converge.yml", converge, &["--check"]);
    assert_eq!(check.output.code, Some(0), "{}", check.output.stdout);
    assert_eq!(check.statuses(), ["ok", "changed", "changed"]);
    assert_eq!(dpkg_version(&hosts, "drover-demo"), "");
    assert_eq!(dpkg_version(&hosts, "drover-app"), "");

    let first = play(&hosts, "converge.yml", converge, &[]);
    assert_eq!(first.output.code, Some(0), "{}", first.output.stdout);
    assert_eq!(first.statuses(), ["ok", "changed", "changed"]);
    let pinned = &first.task("pinned").result;
    assert!(
        pinned["stdout"]
            .as_str()
            .unwrap_or("")
            .contains("drover-demo"),
        "{pinned}"
    );
    assert_eq!(pinned["cache_updated"], false);
    // The highest version matching the pin.
    assert_eq!(dpkg_version(&hosts, "drover-demo"), "ii 1.5");
    assert_eq!(dpkg_version(&hosts, "drover-lib"), "ii 1.0");
    assert_eq!(dpkg_version(&hosts, "drover-app"), "ii 1.0");
    assert_eq!(
        hosts.ssh_ok(0, "cat /var/lib/drover-demo.postinst").trim(),
        "1.5"
    );
    // Installed by name: marked manual; its dependency stays automatic.
    assert_eq!(
        hosts.ssh_ok(0, "apt-mark showauto | grep drover").trim(),
        "drover-lib"
    );

    let again = play(&hosts, "converge.yml", converge, &[]);
    assert_eq!(again.output.code, Some(0), "{}", again.output.stdout);
    assert_eq!(
        again.statuses(),
        ["ok", "ok", "ok"],
        "{}",
        again.output.stdout
    );

    // latest: check mode reports the upgrade and leaves 1.0; diff shows apt's prepared list.
    let latest = "- hosts: pkg
  tasks:
    - name: latest
      apt: {name: drover-demo, state: latest}
";
    let check = play(&hosts, "latest.yml", latest, &["--check", "--diff"]);
    assert_eq!(check.statuses(), ["changed"], "{}", check.output.stdout);
    let prepared = check.task("latest").result["diff"]["prepared"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        prepared.contains("The following packages will be upgraded:"),
        "{prepared}"
    );
    assert!(prepared.contains("drover-demo"), "{prepared}");
    assert_eq!(dpkg_version(&hosts, "drover-demo"), "ii 1.5");
    let run = play(&hosts, "latest.yml", latest, &[]);
    assert_eq!(run.statuses(), ["changed"], "{}", run.output.stdout);
    assert_eq!(dpkg_version(&hosts, "drover-demo"), "ii 2.0");
    let run = play(&hosts, "latest.yml", latest, &[]);
    assert_eq!(run.statuses(), ["ok"], "{}", run.output.stdout);
    // present with an unpinned name keeps the installed version.
    let run = play(
        &hosts,
        "present.yml",
        "- hosts: pkg\n  tasks:\n    - apt: {name: drover-demo}\n",
        &[],
    );
    assert_eq!(run.statuses(), ["ok"]);

    // Pin to a lower version: downgrade needs allow_downgrade.
    let down = "- hosts: pkg
  tasks:
    - name: downgrade
      apt: {name: 'drover-demo=1.0', allow_downgrade: yes}
";
    let run = play(&hosts, "down.yml", down, &[]);
    assert_eq!(run.statuses(), ["changed"], "{}", run.output.stdout);
    assert_eq!(dpkg_version(&hosts, "drover-demo"), "ii 1.0");
    assert_eq!(play(&hosts, "down.yml", down, &[]).statuses(), ["ok"]);

    // Bad input: a clear failed result, not a crash.
    let bad = "- hosts: pkg
  tasks:
    - name: unknown package
      apt: {name: drover-nope}
      ignore_errors: yes
    - name: bad version
      apt: {name: 'drover-demo=9.9'}
      ignore_errors: yes
    - name: bad spec
      apt: {name: 'drover-demo=1=2'}
      ignore_errors: yes
";
    let run = play(&hosts, "bad.yml", bad, &[]);
    assert_eq!(
        run.statuses(),
        ["failed", "failed", "failed"],
        "{}",
        run.output.stdout
    );
    assert_eq!(
        run.task("unknown package").result["msg"],
        "No package matching 'drover-nope' is available"
    );
    assert_eq!(
        run.task("bad version").result["msg"],
        "no available installation candidate for drover-demo=9.9"
    );
    assert_eq!(
        run.task("bad spec").result["msg"],
        "invalid package spec: drover-demo=1=2"
    );
    // Unknown argument: refused before any host is touched, naming the key and the place.
    let path = hosts.dir().join("badarg.yml");
    std::fs::write(
        &path,
        "- hosts: pkg\n  tasks:\n    - apt: {name: drover-demo, stat: present}\n",
    )
    .unwrap();
    let inventory = hosts.dir().join("hosts.ini");
    let out = run_drover([
        "play",
        path.to_str().unwrap(),
        "-i",
        inventory.to_str().unwrap(),
    ]);
    assert_eq!(out.code, Some(1), "{out:?}");
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(
        text.contains("`stat`") && text.contains("badarg.yml:3"),
        "{text}"
    );

    // absent: check mode leaves the packages, then remove, purge, re-run unchanged.
    let absent = "- hosts: pkg
  tasks:
    - name: remove
      apt: {name: [drover-demo, drover-nope], state: absent}
    - name: purge app
      apt: {name: drover-app, state: absent, purge: yes, autoremove: yes}
";
    let check = play(&hosts, "absent.yml", absent, &["--check"]);
    assert_eq!(
        check.statuses(),
        ["changed", "changed"],
        "{}",
        check.output.stdout
    );
    assert_eq!(dpkg_version(&hosts, "drover-demo"), "ii 1.0");
    let run = play(&hosts, "absent.yml", absent, &[]);
    assert_eq!(
        run.statuses(),
        ["changed", "changed"],
        "{}",
        run.output.stdout
    );
    assert_eq!(dpkg_version(&hosts, "drover-demo"), "");
    assert_eq!(dpkg_version(&hosts, "drover-app"), "");
    // autoremove took the automatically installed dependency with it.
    assert_eq!(dpkg_version(&hosts, "drover-lib"), "");
    let run = play(&hosts, "absent.yml", absent, &[]);
    assert_eq!(run.statuses(), ["ok", "ok"], "{}", run.output.stdout);

    // apt_repository: a second path to the same repository (a symlink on the server).
    std::os::unix::fs::symlink(".", repo.join("mirror")).unwrap();
    let line = format!(
        "deb [trusted=yes] http://{}:{}/mirror/ ./",
        packages::BRIDGE_IP,
        server.port
    );
    let file = format!(
        "/etc/apt/sources.list.d/10_77_0_1_{}_mirror.list",
        server.port
    );
    let repo_play = |state: &str| {
        format!(
            "- hosts: pkg\n  tasks:\n    - name: repo\n      apt_repository: {{repo: '{line}', state: {state}}}\n"
        )
    };
    let check = play(
        &hosts,
        "repo.yml",
        &repo_play("present"),
        &["--check", "--diff"],
    );
    assert_eq!(check.statuses(), ["changed"], "{}", check.output.stdout);
    let diff = &check.task("repo").result["diff"][0];
    assert_eq!(diff["before_header"], "/dev/null");
    assert_eq!(diff["after"], format!("{line}\n"));
    hosts.ssh_ok(0, &format!("test ! -e {file}"));
    let run = play(&hosts, "repo.yml", &repo_play("present"), &[]);
    assert_eq!(run.statuses(), ["changed"], "{}", run.output.stdout);
    assert_eq!(
        hosts.ssh_ok(0, &format!("stat -c %a {file} && cat {file}")),
        format!("644\n{line}\n")
    );
    assert_ne!(
        hosts
            .ssh_ok(0, "ls /var/lib/apt/lists | grep -c _mirror_")
            .trim(),
        "0"
    );
    assert_eq!(
        play(&hosts, "repo.yml", &repo_play("present"), &[]).statuses(),
        ["ok"]
    );
    let run = play(&hosts, "repo.yml", &repo_play("absent"), &[]);
    assert_eq!(run.statuses(), ["changed"], "{}", run.output.stdout);
    hosts.ssh_ok(0, &format!("test ! -e {file}"));
    assert_eq!(
        play(&hosts, "repo.yml", &repo_play("absent"), &[]).statuses(),
        ["ok"]
    );
    let bad = "- hosts: pkg\n  tasks:\n    - name: bad\n      apt_repository: {repo: 'not a source line'}\n      ignore_errors: yes\n";
    let run = play(&hosts, "badrepo.yml", bad, &[]);
    assert_eq!(run.statuses(), ["failed"]);
    assert_eq!(
        run.task("bad").result["msg"],
        "Invalid repository string: not a source line"
    );

    // deb822_repository: the same repository as a .sources file; apt accepts it.
    std::os::unix::fs::symlink(".", repo.join("deb822")).unwrap();
    let sources = format!(
        "- hosts: pkg
  tasks:
    - name: deb822
      deb822_repository:
        name: Drover local
        uris: http://{}:{}/deb822/
        suites: ./
        trusted: yes
    - name: refresh
      apt: {{update_cache: yes}}
",
        packages::BRIDGE_IP,
        server.port
    );
    let check = play(&hosts, "sources.yml", &sources, &["--check", "--diff"]);
    assert_eq!(
        check.statuses(),
        ["changed", "changed"],
        "{}",
        check.output.stdout
    );
    hosts.ssh_ok(0, "test ! -e /etc/apt/sources.list.d/drover-local.sources");
    let run = play(&hosts, "sources.yml", &sources, &[]);
    assert_eq!(run.output.code, Some(0), "{}", run.output.stdout);
    assert_eq!(
        hosts.ssh_ok(0, "cat /etc/apt/sources.list.d/drover-local.sources"),
        format!(
            "X-Repolib-Name: Drover local\nSuites: ./\nTrusted: yes\nTypes: deb\nURIs: http://{}:{}/deb822/\n",
            packages::BRIDGE_IP,
            server.port
        )
    );
    assert_ne!(
        hosts
            .ssh_ok(0, "ls /var/lib/apt/lists | grep -c _deb822_")
            .trim(),
        "0"
    );
    assert_eq!(
        run.task("deb822").result["dest"],
        "/etc/apt/sources.list.d/drover-local.sources"
    );
    let again = play(&hosts, "sources.yml", &sources, &[]);
    assert_eq!(again.task("deb822").status, "ok", "{}", again.output.stdout);
    let gone =
        "- hosts: pkg\n  tasks:\n    - deb822_repository: {name: Drover local, state: absent}\n";
    assert_eq!(
        play(&hosts, "gone.yml", gone, &["--check"]).statuses(),
        ["changed"]
    );
    hosts.ssh_ok(0, "test -e /etc/apt/sources.list.d/drover-local.sources");
    assert_eq!(play(&hosts, "gone.yml", gone, &[]).statuses(), ["changed"]);
    hosts.ssh_ok(0, "test ! -e /etc/apt/sources.list.d/drover-local.sources");
    assert_eq!(play(&hosts, "gone.yml", gone, &[]).statuses(), ["ok"]);

    // A .deb file on the host; a real package from Debian's archive through the host's mirror.
    hosts.ssh_ok(0, "mv /etc/apt/sources.list.orig /etc/apt/sources.list");
    let deb = repo.join("drover-lib_1.0_all.deb");
    let deb_play = format!(
        "- hosts: pkg
  tasks:
    - copy: {{src: '{}', dest: /tmp/drover-lib.deb}}
    - name: deb
      apt: {{deb: /tmp/drover-lib.deb}}
    - name: real
      apt: {{name: hello, update_cache: yes}}
",
        deb.display()
    );
    let run = play(&hosts, "deb.yml", &deb_play, &[]);
    assert_eq!(
        run.statuses(),
        ["changed", "changed", "changed"],
        "{}",
        run.output.stdout
    );
    assert_eq!(dpkg_version(&hosts, "drover-lib"), "ii 1.0");
    assert!(hosts.ssh_ok(0, "hello").contains("Hello, world!"));
    let run = play(&hosts, "deb.yml", &deb_play, &[]);
    assert_eq!(run.statuses(), ["ok", "ok", "ok"], "{}", run.output.stdout);

    // The dpkg lock: another apt-get holds it for a few seconds. lock_timeout 0 fails at once;
    // the default waits for it.
    hosts.ssh_ok(
        0,
        "apt-get -y -o 'DPkg::Pre-Invoke::=sleep 6' install --reinstall drover-app >/tmp/holder.log 2>&1 </dev/null & sleep 1.5",
    );
    let locked = "- hosts: pkg
  tasks:
    - name: no wait
      apt: {name: drover-demo, lock_timeout: 0}
      ignore_errors: yes
    - name: wait
      apt: {name: drover-demo}
";
    let started = std::time::Instant::now();
    let run = play(&hosts, "locked.yml", locked, &[]);
    assert_eq!(
        run.statuses(),
        ["failed", "changed"],
        "{}",
        run.output.stdout
    );
    let stderr = run.task("no wait").result["stderr"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(stderr.contains("Could not get lock"), "{stderr}");
    assert!(
        started.elapsed().as_secs_f64() > 3.0,
        "did not wait for the lock"
    );
    assert_eq!(dpkg_version(&hosts, "drover-demo"), "ii 2.0");
    hosts.ssh_ok(0, "grep -q 'Setting up drover-app' /tmp/holder.log");
    drop(server);
}

//! `lxc_container` against real LXC on this machine, in a private lxcpath: clone from a busybox
//! source, converge, idempotent rerun, check mode touching nothing and predicting the apply,
//! config edits (restart of a running container, none of a stopped one, one line per key),
//! frozen + container_command, archive, destroy, a rootfs tarball through the `local` template,
//! and bad input.

mod lxc_common;

use lxc_common::{save, sh_ok, Lab};

/// A task on container `name` in the lab's lxcpath with extra option lines, registered as `reg`
/// and saved.
fn task(name: &str, opts: &str, reg: &str) -> String {
    let mut t = format!(
        "    - name: lxc {reg}\n      community.general.lxc_container:\n        name: {name}\n        lxc_path: LP\n"
    );
    for line in opts.lines().filter(|l| !l.trim().is_empty()) {
        t.push_str(&format!("        {}\n", line.trim_start()));
    }
    t.push_str(&format!("      register: {reg}\n"));
    t + &save(reg)
}

#[test]
fn clone_converge_config_edit_freeze_archive_destroy() {
    let lab = Lab::new();
    lab.busybox("drvlx-src");
    let clone_and_start = task(
        "drvlx-src",
        "state: stopped\nclone_name: drvlx-web\nclone_snapshot: true",
        "c",
    ) + &task(
        "drvlx-web",
        "state: started\ncontainer_config:\n  - lxc.start.auto = 1\n  - \"lxc.environment = FOO=bar\"",
        "w",
    );

    // Check mode: both tasks would change, nothing is created.
    assert_eq!(lab.play_ok(&clone_and_start, &["--check"]), 2);
    assert_eq!(lab.state("drvlx-web"), "absent");
    assert_eq!(lab.saved("c")["lxc_container"]["cloned"], true);
    assert_eq!(lab.saved("w")["lxc_container"]["state"], "running");

    // Apply: cloned (an overlay snapshot), configured, running.
    assert_eq!(lab.play_ok(&clone_and_start, &[]), 2);
    assert_eq!(lab.state("drvlx-web"), "RUNNING");
    let cfg = lab.config("drvlx-web");
    assert!(cfg.contains("lxc.rootfs.path = overlay:"), "{cfg}");
    assert!(
        cfg.contains("lxc.start.auto = 1\n") && cfg.contains("lxc.environment = FOO=bar\n"),
        "{cfg}"
    );
    let c = lab.saved("c");
    assert_eq!(c["changed"], true);
    assert_eq!(c["lxc_container"]["cloned"], true);
    assert_eq!(c["lxc_container"]["state"], "stopped");
    let w = lab.saved("w")["lxc_container"].clone();
    assert_eq!(w["name"], "drvlx-web");
    assert_eq!(w["state"], "running");
    assert_eq!(w["init_pid"], lab.pid("drvlx-web"));
    assert_eq!(w["interfaces"], serde_json::json!(["eth0", "lo"]));
    assert_eq!(w["ips"], serde_json::json!(["192.0.2.10"]));

    // Converged: apply and check mode both report nothing; the clone is not redone.
    assert_eq!(lab.play_ok(&clone_and_start, &[]), 0);
    assert_eq!(lab.saved("c")["lxc_container"]["cloned"], false);
    assert_eq!(lab.play_ok(&clone_and_start, &["--check"]), 0);

    // A config edit on the running container: check mode predicts it and leaves the process
    // alone; the apply restarts it. The edited key keeps ONE line (community.general appends
    // a second `lxc.start.auto` line after the first instead of replacing it).
    let pid = lab.pid("drvlx-web");
    let edit = task(
        "drvlx-web",
        "container_config:\n  - lxc.start.auto = 0",
        "e",
    );
    let out = lab.play(&edit, &["--check", "--diff"]);
    out.assert_success();
    assert_eq!(out.changed(), 1);
    assert!(
        out.stdout.contains("-lxc.start.auto = 1") && out.stdout.contains("+lxc.start.auto = 0"),
        "{}",
        out.stdout
    );
    assert_eq!(lab.pid("drvlx-web"), pid);
    assert!(lab.config("drvlx-web").contains("lxc.start.auto = 1\n"));
    assert_eq!(lab.play_ok(&edit, &[]), 1);
    let cfg = lab.config("drvlx-web");
    assert_eq!(cfg.matches("lxc.start.auto").count(), 1, "{cfg}");
    assert!(cfg.contains("lxc.start.auto = 0\n"), "{cfg}");
    assert_eq!(lab.state("drvlx-web"), "RUNNING");
    assert_ne!(
        lab.pid("drvlx-web"),
        pid,
        "a config change restarts a running container"
    );
    assert_eq!(lab.play_ok(&edit, &[]), 0);

    // Stopped, then a config edit: written, and the container is not started.
    assert_eq!(
        lab.play_ok(&task("drvlx-web", "state: stopped", "s"), &[]),
        1
    );
    assert_eq!(lab.state("drvlx-web"), "STOPPED");
    let stopped_edit = task(
        "drvlx-web",
        "state: stopped\ncontainer_config:\n  - lxc.start.auto = 1",
        "se",
    );
    assert_eq!(lab.play_ok(&stopped_edit, &["--check"]), 1);
    assert!(lab.config("drvlx-web").contains("lxc.start.auto = 0\n"));
    assert_eq!(lab.play_ok(&stopped_edit, &[]), 1);
    assert_eq!(lab.state("drvlx-web"), "STOPPED");
    assert_eq!(lab.saved("se")["lxc_container"]["init_pid"], -1);
    assert!(lab.config("drvlx-web").contains("lxc.start.auto = 1\n"));

    // Frozen with a command: the command runs in the running container, then it is frozen.
    let frozen = task(
        "drvlx-web",
        "state: frozen\ncontainer_command: echo ran > /tmp/marker",
        "f",
    );
    assert_eq!(lab.play_ok(&frozen, &["--check"]), 1);
    assert_eq!(lab.state("drvlx-web"), "STOPPED");
    assert_eq!(lab.play_ok(&frozen, &[]), 1);
    assert_eq!(lab.state("drvlx-web"), "FROZEN");
    let marker = lab.path().join("drvlx-web/overlay/delta/tmp/marker");
    assert_eq!(
        std::fs::read_to_string(&marker).unwrap_or_default(),
        "ran\n"
    );
    assert_eq!(lab.saved("f")["lxc_container"]["state"], "frozen");
    assert_eq!(
        lab.play_ok(&task("drvlx-web", "state: frozen", "f2"), &[]),
        0
    );

    // Archive of the frozen container: config + the merged overlay rootfs; it stays frozen.
    let arch = task(
        "drvlx-web",
        "state: frozen\narchive: true\narchive_path: LP/archives\narchive_compression: gzip",
        "a",
    );
    assert_eq!(lab.play_ok(&arch, &[]), 1);
    let path = lab.saved("a")["lxc_container"]["archive"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(path, format!("{}/archives/drvlx-web.tar.tgz", lab.p()));
    let listing = sh_ok(&format!("tar -tzf '{path}'"));
    for member in ["./config", "./rootfs/tmp/marker", "./rootfs/bin/busybox"] {
        assert!(
            listing.lines().any(|l| l == member),
            "{member} not in {listing}"
        );
    }
    assert_eq!(lab.state("drvlx-web"), "FROZEN");

    // Absent: check mode leaves it; apply destroys; then nothing to do.
    let absent = task("drvlx-web", "state: absent", "x");
    assert_eq!(lab.play_ok(&absent, &["--check"]), 1);
    assert_eq!(lab.state("drvlx-web"), "FROZEN");
    assert_eq!(lab.play_ok(&absent, &[]), 1);
    assert_eq!(lab.state("drvlx-web"), "absent");
    assert_eq!(lab.saved("x")["lxc_container"]["state"], "absent");
    assert_eq!(lab.saved("x")["lxc_container"]["init_pid"], -1);
    assert_eq!(lab.play_ok(&absent, &[]), 0);
    assert_eq!(lab.play_ok(&absent, &["--check"]), 0);
}

#[test]
fn restarted_and_started_from_frozen() {
    let lab = Lab::new();
    lab.busybox("drvlx-src");
    let clone = task("drvlx-src", "state: stopped\nclone_name: drvlx-r", "c");
    assert_eq!(lab.play_ok(&clone, &[]), 1);
    // A full copy (not a snapshot): its own dir rootfs.
    assert!(lab
        .config("drvlx-r")
        .contains(&format!("lxc.rootfs.path = dir:{}/drvlx-r/rootfs", lab.p())));
    let restarted = task("drvlx-r", "state: restarted", "r");
    assert_eq!(lab.play_ok(&restarted, &[]), 1);
    let pid = lab.pid("drvlx-r");
    assert!(pid > 0);
    // restarted is a change on every run, and check mode says so without touching it.
    assert_eq!(lab.play_ok(&restarted, &["--check"]), 1);
    assert_eq!(lab.pid("drvlx-r"), pid);
    assert_eq!(lab.play_ok(&restarted, &[]), 1);
    assert_ne!(lab.pid("drvlx-r"), pid);
    sh_ok(&format!("lxc-freeze -P '{}' -n drvlx-r", lab.p()));
    let started = task("drvlx-r", "state: started", "s");
    let pid = lab.pid("drvlx-r");
    assert_eq!(lab.play_ok(&started, &[]), 1);
    assert_eq!(lab.state("drvlx-r"), "RUNNING");
    assert_eq!(lab.pid("drvlx-r"), pid, "unfrozen, not restarted");
    assert_eq!(lab.play_ok(&started, &[]), 0);

    // A command leaving a daemon behind in the container does not hold the task.
    let daemon = task(
        "drvlx-r",
        "container_command: sleep 600 & echo started",
        "bg",
    );
    let t0 = std::time::Instant::now();
    assert_eq!(lab.play_ok(&daemon, &[]), 1);
    assert!(t0.elapsed() < std::time::Duration::from_secs(30));
    // A failing command fails the task with its output (community.general ignores it).
    let out = lab.play(
        &task("drvlx-r", "container_command: echo oops; exit 3", "f"),
        &[],
    );
    assert!(!out.success());
    assert!(
        out.stdout
            .contains("container_command failed for container drvlx-r (rc=3): oops"),
        "{}",
        out.stdout
    );
}

#[test]
fn local_template_unpacks_a_plain_rootfs_tarball() {
    let lab = Lab::new();
    lab.busybox("drvlx-src");
    let tarball = lab.path().join("rootfs.tar");
    sh_ok(&format!(
        "tar --numeric-owner -C '{}' -cf '{}' .",
        lab.rootfs("drvlx-src").display(),
        tarball.display()
    ));
    let create = task(
        "drvlx-tar",
        &format!(
            "state: stopped\ntemplate: local\ntemplate_options: --fstree {}\nconfig: {}\n\
             container_config:\n  - lxc.uts.name = drvlx-tar",
            tarball.display(),
            lab.net_conf().display()
        ),
        "t",
    );
    assert_eq!(lab.play_ok(&create, &["--check"]), 1);
    assert_eq!(lab.state("drvlx-tar"), "absent");
    assert_eq!(lab.play_ok(&create, &[]), 1);
    assert_eq!(lab.state("drvlx-tar"), "STOPPED");
    assert!(lab.rootfs("drvlx-tar").join("bin/busybox").exists());
    let cfg = lab.config("drvlx-tar");
    assert!(
        cfg.contains(&format!(
            "lxc.rootfs.path = dir:{}/drvlx-tar/rootfs",
            lab.p()
        )),
        "{cfg}"
    );
    assert!(cfg.contains("lxc.uts.name = drvlx-tar"), "{cfg}");
    assert_eq!(lab.play_ok(&create, &[]), 0);

    // LXC's own local template: an xz rootfs and the metadata tarball docs/LXC.md describes.
    let d = lab.p();
    sh_ok(&format!(
        "tar --numeric-owner -C '{d}/drvlx-src/rootfs' -cJf '{d}/rootfs.tar.xz' . && cd '{d}' && \
         printf 'lxc.include = /usr/share/lxc/config/common.conf\\nlxc.arch = linux64\\n' > config && \
         tar -cJf meta.tar.xz config"
    ));
    let meta = task(
        "drvlx-meta",
        &format!(
            "template: local\ntemplate_options: --fstree {d}/rootfs.tar.xz --metadata {d}/meta.tar.xz\nconfig: {}",
            lab.net_conf().display()
        ),
        "m",
    );
    assert_eq!(lab.play_ok(&meta, &[]), 1);
    assert_eq!(lab.state("drvlx-meta"), "RUNNING");
    assert!(lab
        .config("drvlx-meta")
        .contains("lxc.include = /usr/share/lxc/config/common.conf"));
    assert_eq!(lab.play_ok(&meta, &[]), 0);
}

#[test]
fn bad_input_fails_clearly() {
    let lab = Lab::new();
    lab.busybox("drvlx-src");
    let cases: &[(&str, &str)] = &[
        (
            "name: drvlx-src\nstate: stopped\ncontainer_config:\n  - lxc.start.auto",
            "is not a `key = value` line",
        ),
        (
            "name: drvlx-missing\nclone_name: drvlx-new",
            "clone source container drvlx-missing does not exist",
        ),
        (
            "name: drvlx-new\ntemplate: no-such-template",
            "unknown LXC template \"no-such-template\"",
        ),
        ("name: drvlx-src\nbogus_option: 1", "bogus_option"),
        ("name: drvlx-src\nstate: sideways", "sideways"),
        ("name: drvlx-src\narchive: true", "archive_path"),
        (
            "name: drvlx-src\nstate: stopped\ncontainer_config:\n  - lxc.bogus.key = 1",
            "LXC rejects the edited config",
        ),
    ];
    for (opts, want) in cases {
        let mut t =
            String::from("    - name: the bad task\n      lxc_container:\n        lxc_path: LP\n");
        for line in opts.lines() {
            t.push_str(&format!("        {line}\n"));
        }
        let out = lab.play(&t, &[]);
        assert!(!out.success(), "{opts}: {}", out.stdout);
        let text = format!("{}{}", out.stdout, out.stderr);
        assert!(text.contains(want), "{opts}: want {want:?} in {text}");
        assert!(
            text.contains("the bad task") || text.contains("lxc_container"),
            "{text}"
        );
    }
    // Nothing was created, the source is untouched (its config too: LXC could not load it).
    assert!(!lab.config("drvlx-src").contains("bogus"));
    assert_eq!(lab.state("drvlx-new"), "absent");
    assert_eq!(lab.state("drvlx-missing"), "absent");
    assert_eq!(lab.state("drvlx-src"), "STOPPED");
}

/// The harness's cached Debian 12 rootfs tarball (plain `.tar`), through the `local` template
/// without LXC's metadata tarball: unpacked, configured for Debian, booted (systemd), and a
/// command run in it.
#[test]
fn harness_debian_tarball_boots_through_the_local_template() {
    let lab = Lab::new();
    let tarball = std::fs::read_dir(drover_integration::cache_dir())
        .expect("harness cache (tests/harness/setup.sh)")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            name.starts_with("mmdebstrap-") && name.ends_with(".tar")
        })
        .expect("the harness's mmdebstrap tarball");
    let conf = lab.path().join("debian.conf");
    std::fs::write(
        &conf,
        "lxc.include = /usr/share/lxc/config/debian.common.conf\nlxc.arch = amd64\n\
         lxc.apparmor.profile = unconfined\nlxc.net.0.type = veth\nlxc.net.0.flags = up\n\
         lxc.net.0.name = eth0\nlxc.net.0.ipv4.address = 192.0.2.20/24\n",
    )
    .expect("config");
    let opts = format!(
        "template: local\ntemplate_options: --fstree {}\nconfig: {}",
        tarball.display(),
        conf.display()
    );
    let boot = task(
        "drvlx-deb",
        &format!("{opts}\ncontainer_command: cat /etc/debian_version > /root/version"),
        "d",
    );
    assert_eq!(lab.play_ok(&boot, &[]), 1);
    assert_eq!(lab.state("drvlx-deb"), "RUNNING");
    let version = std::fs::read_to_string(lab.rootfs("drvlx-deb").join("root/version"))
        .expect("the command ran in the container");
    assert!(version.starts_with("12"), "{version}");
    let d = lab.saved("d")["lxc_container"].clone();
    assert_eq!(d["state"], "running");
    assert!(
        d["interfaces"]
            .as_array()
            .is_some_and(|i| i.iter().any(|n| n == "eth0")),
        "{d}"
    );
    // Without the command the task is converged.
    assert_eq!(lab.play_ok(&task("drvlx-deb", &opts, "d2"), &[]), 0);
}

/// A loop-backed container (`backing_store: loop` with `fs_size`/`fs_type`), created from the
/// busybox template with `container_log`, archived running (its root read through the running
/// container) and stopped (the image mounted read-only), then destroyed.
#[test]
fn loop_backed_container_with_log_and_archives() {
    let lab = Lab::new();
    let log = "/var/log/lxc/lxc-drvlx-loop.log";
    struct RemoveLog(&'static str);
    impl Drop for RemoveLog {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(self.0);
        }
    }
    let _log = RemoveLog(log);
    let _ = std::fs::remove_file(log);
    let create = task(
        "drvlx-loop",
        &format!(
            "template: busybox\nconfig: {}\nbacking_store: loop\nfs_size: 64M\nfs_type: ext4\n\
             container_log: true\ncontainer_log_level: debug\narchive: true\narchive_path: LP/run\narchive_compression: none",
            lab.net_conf().display()
        ),
        "l",
    );
    assert_eq!(lab.play_ok(&create, &[]), 1);
    assert_eq!(lab.state("drvlx-loop"), "RUNNING");
    let cfg = lab.config("drvlx-loop");
    assert!(
        cfg.contains(&format!(
            "lxc.rootfs.path = loop:{}/drvlx-loop/rootdev",
            lab.p()
        )),
        "{cfg}"
    );
    let text = std::fs::read_to_string(log).expect("container_log wrote the log");
    assert!(text.contains("DEBUG"), "{text}");
    let listing = sh_ok(&format!("tar -tf '{}/run/drvlx-loop.tar'", lab.p()));
    assert!(
        listing.lines().any(|l| l == "./rootfs/bin/busybox"),
        "{listing}"
    );
    // Only the rootfs' own filesystem: /proc is a mount point, empty in the archive.
    assert!(
        !listing.lines().any(|l| l.starts_with("./rootfs/proc/self")),
        "{listing}"
    );

    let stopped = task(
        "drvlx-loop",
        "state: stopped\narchive: true\narchive_path: LP/stopped\narchive_compression: bzip2",
        "s",
    );
    assert_eq!(lab.play_ok(&stopped, &[]), 1);
    assert_eq!(lab.state("drvlx-loop"), "STOPPED");
    let listing = sh_ok(&format!(
        "tar -tjf '{}/stopped/drvlx-loop.tar.bz2'",
        lab.p()
    ));
    assert!(
        listing.lines().any(|l| l == "./rootfs/bin/busybox"),
        "{listing}"
    );
    let (_, mounts) = lxc_common::sh("cat /proc/mounts");
    assert!(
        !mounts.contains(&lab.p()),
        "the archive's mount is gone: {mounts}"
    );

    assert_eq!(
        lab.play_ok(&task("drvlx-loop", "state: absent", "x"), &[]),
        1
    );
    assert!(!lab.path().join("drvlx-loop").exists());
}

/// The LXC host reached over SSH (a private sshd on 127.0.0.1): the query on the shared shell,
/// lxc-start's daemon and a daemon left by container_command do not hold the connection.
#[test]
fn over_ssh() {
    let lab = Lab::new();
    lab.busybox("drvlx-src");
    let sshd = drover_integration::LoopbackSshd::start(lab.path());
    let inventory = lab.path().join("hosts.ini");
    std::fs::write(&inventory, format!("lxchost {}\n", sshd.inventory_vars())).expect("inventory");
    let inv = inventory.display().to_string();
    let tasks = task(
        "drvlx-src",
        "state: stopped\nclone_name: drvlx-ssh\nclone_snapshot: true",
        "c",
    ) + &task(
        "drvlx-ssh",
        "state: started\ncontainer_config:\n  - lxc.start.auto = 1",
        "s",
    );
    let t0 = std::time::Instant::now();
    let out = lab.play_with(&tasks, &["-i", &inv]);
    out.assert_success();
    assert_eq!(out.changed(), 2, "{}", out.stdout);
    assert_eq!(lab.state("drvlx-ssh"), "RUNNING");
    let again = lab.play_with(&tasks, &["-i", &inv]);
    again.assert_success();
    assert_eq!(again.changed(), 0, "{}", again.stdout);
    let daemon = task(
        "drvlx-ssh",
        "state: frozen\ncontainer_command: sleep 600 & echo bg",
        "d",
    );
    let out = lab.play_with(&daemon, &["-i", &inv]);
    out.assert_success();
    assert_eq!(out.changed(), 1);
    assert_eq!(lab.state("drvlx-ssh"), "FROZEN");
    assert!(
        t0.elapsed() < std::time::Duration::from_secs(40),
        "{:?}",
        t0.elapsed()
    );
    let log = sshd.log();
    assert!(
        log.contains("Accepted publickey"),
        "drover went through sshd: {log}"
    );
}

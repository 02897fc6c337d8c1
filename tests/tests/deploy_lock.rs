//! Deploy locks on real hosts (docs/LOCKING.md): two drovers started at the same instant against
//! the same hosts, many times, never both change a host and the refused one names the holder;
//! `--lock-wait`; the held token (`drover lock acquire|status|release`), a named lock, and a
//! stale lock (dead pid on this controller) reported and broken with `--force`; the lock file's
//! fields; one locked host stops the run on every host; `--no-lock` and its environment and
//! `ansible.cfg` equivalents; an expired lock; the locks released after a failed run.

use std::path::Path;
use std::sync::{Arc, Barrier};

use drover_integration::{drover_command_default_locks, DroverOutput, TestHosts};

const LOCK: &str = "/var/lib/drover/locks/host.lock";

const MARKER_PLAY: &str = r#"
- hosts: targets
  gather_facts: false
  tasks:
    - name: marker
      shell: "echo start-{{ tag }} >> /root/markers; sleep {{ pause | default(0.2) }}; echo end-{{ tag }} >> /root/markers"
"#;

fn drover(dir: &Path, args: &[&str]) -> DroverOutput {
    drover_env(dir, args, &[])
}

/// `drover` with extra environment variables.
fn drover_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> DroverOutput {
    let out = drover_command_default_locks()
        .envs(env.iter().copied())
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run drover");
    DroverOutput {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

struct Site {
    hosts: TestHosts,
    playbook: String,
    inventory: String,
}

impl Site {
    fn new(count: usize) -> Self {
        let hosts = TestHosts::start(count);
        let inventory = hosts.dir().join("hosts.ini");
        hosts
            .write_inventory(&inventory, "targets")
            .expect("inventory");
        let playbook = hosts.dir().join("markers.yml");
        std::fs::write(&playbook, MARKER_PLAY).expect("playbook");
        Self {
            playbook: playbook.display().to_string(),
            inventory: inventory.display().to_string(),
            hosts,
        }
    }

    fn play(&self, owner: &str, tag: &str, extra: &[&str]) -> DroverOutput {
        self.play_env(owner, tag, extra, &[])
    }

    fn play_env(
        &self,
        owner: &str,
        tag: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> DroverOutput {
        let tag = format!("tag={tag}");
        let mut args = vec![
            "play",
            &self.playbook,
            "-i",
            &self.inventory,
            "--lock-owner",
            owner,
            "-e",
            &tag,
        ];
        args.extend_from_slice(extra);
        drover_env(self.hosts.dir(), &args, env)
    }

    fn lock(&self, action: &str, extra: &[&str]) -> DroverOutput {
        let mut args = vec!["lock", action, "-i", &self.inventory];
        args.extend_from_slice(extra);
        drover(self.hosts.dir(), &args)
    }

    fn markers(&self, index: usize) -> Vec<String> {
        self.hosts
            .ssh_ok(index, "cat /root/markers 2>/dev/null || true")
            .lines()
            .map(str::to_string)
            .collect()
    }
}

fn controller_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .expect("hostname")
        .trim()
        .to_string()
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// Each run's `start-X` is followed by its own `end-X`: no two runs changed the host at once.
fn assert_not_interleaved(markers: &[String]) {
    for pair in markers.chunks(2) {
        let [start, end] = pair else {
            panic!("odd marker count: {markers:?}");
        };
        let tag = start.strip_prefix("start-").expect("a start marker");
        assert_eq!(end, &format!("end-{tag}"), "runs interleaved: {markers:?}");
    }
}

#[test]
fn concurrent_runs_never_both_change_a_host() {
    let site = Arc::new(Site::new(2));
    let rounds = 50;
    let mut refusals = 0;
    let mut proceeded = 0;
    for round in 0..rounds {
        let barrier = Arc::new(Barrier::new(2));
        let runners: Vec<_> = ["a", "b"]
            .into_iter()
            .map(|who| {
                let (site, barrier) = (site.clone(), barrier.clone());
                std::thread::spawn(move || {
                    let owner = format!("runner_{who}_{round}");
                    barrier.wait();
                    (owner.clone(), site.play(&owner, &owner, &[]))
                })
            })
            .collect();
        let results: Vec<(String, DroverOutput)> = runners
            .into_iter()
            .map(|r| r.join().expect("runner"))
            .collect();
        assert!(
            results.iter().any(|(_, o)| o.code == Some(0)),
            "round {round}: neither run proceeded: {results:#?}"
        );
        for (i, (owner, out)) in results.iter().enumerate() {
            match out.code {
                Some(0) => proceeded += 1,
                Some(3) => {
                    refusals += 1;
                    let other = &results[1 - i].0;
                    assert!(
                        out.stderr.contains(other) && out.stderr.contains("since"),
                        "round {round}: {owner}'s refusal does not name the holder {other}:\n{}",
                        out.stderr
                    );
                    assert!(!out.stdout.contains("TASK ["), "a refused run ran tasks");
                }
                _ => panic!("round {round}: {owner}: unexpected result {out:#?}"),
            }
        }
    }
    for host in 0..2 {
        let markers = site.markers(host);
        assert_not_interleaved(&markers);
        assert_eq!(markers.len() / 2, proceeded, "host {host}: {markers:?}");
        let left = site
            .hosts
            .ssh_ok(host, &format!("ls -A {LOCK} 2>&1 || true"));
        assert!(left.contains("No such file"), "lock left behind: {left}");
    }
    eprintln!("{rounds} rounds: {proceeded} runs proceeded, {refusals} refused");
    assert!(refusals > 0, "the runs never overlapped");
}

#[test]
fn lock_wait_lets_the_second_run_proceed_after_the_first() {
    let site = Arc::new(Site::new(1));
    let first = {
        let site = site.clone();
        std::thread::spawn(move || site.play("first", "first", &["-e", "pause=3"]))
    };
    // The first run holds the lock while its task sleeps.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !site
        .hosts
        .ssh_ok(0, "cat /root/markers 2>/dev/null || true")
        .contains("start-first")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the first run never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // The lock file names the holder, controller, playbook, start, pid and expiry.
    let info = site.hosts.ssh_ok(0, &format!("cat {LOCK}/info"));
    let field = |key: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("no {key} in the lock file:\n{info}"))
            .to_string()
    };
    assert_eq!(field("owner"), "first");
    assert_eq!(field("controller"), controller_hostname());
    assert_eq!(field("kind"), "run");
    assert_eq!(field("playbook"), site.playbook);
    let number = |key: &str| -> u64 { field(key).parse().expect(key) };
    assert!(number("pid") > 1);
    let now = unix_now();
    assert!(
        number("started") <= now && number("started") + 120 > now,
        "{info}"
    );
    assert!(number("expires") >= number("started") + 3600, "{info}");
    let refused = site.play("second", "refused", &[]);
    assert_eq!(refused.code, Some(3), "{refused:#?}");
    assert!(
        refused.stderr.contains("held by first") && refused.stderr.contains("since"),
        "{}",
        refused.stderr
    );
    let waited = site.play("second", "second", &["--lock-wait", "60s"]);
    waited.assert_success();
    first.join().expect("first run").assert_success();
    assert_eq!(
        site.markers(0),
        ["start-first", "end-first", "start-second", "end-second"]
    );
}

#[test]
fn held_token_named_lock_and_stale_locks() {
    let site = Site::new(2);
    let h0 = site.hosts.host(0).name.clone();

    // alice takes the token for both hosts; bob is refused, alice's runs proceed.
    let taken = site.lock("acquire", &["targets", "--lock-owner", "alice"]);
    taken.assert_success();
    assert!(taken.stdout.contains("held by alice"), "{}", taken.stdout);
    let status = site.lock("status", &["targets"]);
    status.assert_success();
    assert_eq!(
        status.stdout.matches("held by alice").count(),
        2,
        "{}",
        status.stdout
    );
    let bob = site.play("bob", "bob", &[]);
    assert_eq!(bob.code, Some(3), "{bob:#?}");
    assert!(bob.stderr.contains("alice") && bob.stderr.contains("held token"));
    // --check takes no lock: it runs, warning that the host is locked.
    let check = site.play("bob", "bob", &["--check"]);
    check.assert_success();
    assert!(
        check.stderr.contains("is locked by alice"),
        "{}",
        check.stderr
    );
    site.play("alice", "alice", &[]).assert_success();
    // The token survives alice's run; only alice (or --force) releases it.
    let not_yours = site.lock("release", &["targets", "--lock-owner", "bob"]);
    assert_eq!(not_yours.code, Some(3), "{not_yours:#?}");
    assert!(not_yours.stderr.contains("not yours"));
    site.lock("release", &["targets", "--lock-owner", "alice"])
        .assert_success();
    let status = site.lock("status", &["targets"]);
    assert_eq!(
        status.stdout.matches(": free").count(),
        2,
        "{}",
        status.stdout
    );

    // A named lock on one designated host: one deployer for all servers.
    let named = ["--lock-name", "deploy", "--lock-host", h0.as_str()];
    let mut args = vec!["--lock-owner", "carol"];
    args.extend_from_slice(&named);
    site.lock("acquire", &args).assert_success();
    let dave = site.play("dave", "dave", &named);
    assert_eq!(dave.code, Some(3), "{dave:#?}");
    assert!(dave.stderr.contains("carol") && dave.stderr.contains("deploy.lock"));
    site.play("carol", "carol", &named).assert_success();
    site.lock("release", &args).assert_success();

    // A run lock whose drover is gone (a dead pid on this controller) is reported as stale
    // and broken with --force.
    let mut child = std::process::Command::new("true").spawn().expect("true");
    let dead_pid = child.id();
    child.wait().expect("wait");
    let controller = controller_hostname();
    let now = unix_now();
    let info = format!(
        "owner=ghost@{controller}\ncontroller={controller}\npid={dead_pid}\nkind=run\nplaybook=/old/site.yml\nstarted={}\nexpires={}\ntoken=feed\n",
        now - 600,
        now + 3600
    );
    site.hosts.ssh_ok(
        0,
        &format!("mkdir -p {LOCK} && printf '%s' '{info}' > {LOCK}/info"),
    );
    let refused = site.play("erin", "erin", &[]);
    assert_eq!(refused.code, Some(3), "{refused:#?}");
    // miette wraps the message: compare without the line breaks.
    let flat: String = refused
        .stderr
        .replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for needle in [
        "ghost@",
        "stale",
        "release --force",
        "/old/",
        "site.yml",
        "10m",
    ] {
        assert!(flat.contains(needle), "no {needle}: {}", refused.stderr);
    }
    let status = site.lock("status", &["targets"]);
    assert!(status.stdout.contains("STALE"), "{}", status.stdout);
    let broke = site.lock("release", &["--force", h0.as_str()]);
    broke.assert_success();
    assert!(
        broke.stdout.contains("broke the lock held by ghost@"),
        "{}",
        broke.stdout
    );
    site.play("erin", "erin", &[]).assert_success();
    assert_not_interleaved(&site.markers(0));
}

#[test]
fn one_locked_host_stops_the_run_everywhere_and_lock_options() {
    let site = Site::new(2);
    let h1 = site.hosts.host(1).name.clone();
    let no_lock_dir = |host: usize| {
        let left = site
            .hosts
            .ssh_ok(host, &format!("ls -d {LOCK} 2>&1 || true"));
        assert!(
            left.contains("No such file"),
            "host {host}: lock left: {left}"
        );
    };

    // alice holds host 1 only: bob's run over both hosts is refused before it changes any.
    site.lock("acquire", &[h1.as_str(), "--lock-owner", "alice"])
        .assert_success();
    let bob = site.play("bob", "bob", &[]);
    assert_eq!(bob.code, Some(3), "{bob:#?}");
    assert!(
        bob.stderr.contains(&h1) && bob.stderr.contains("alice"),
        "{}",
        bob.stderr
    );
    assert!(site.markers(0).is_empty() && site.markers(1).is_empty());
    no_lock_dir(0);

    // --no-lock, DROVER_NO_LOCK=1 and `lock = false` in ansible.cfg run anyway.
    site.play("bob", "nolock", &["--no-lock"]).assert_success();
    site.play_env("bob", "noenv", &[], &[("DROVER_NO_LOCK", "1")])
        .assert_success();
    let cfg = site.hosts.dir().join("nolock.cfg");
    std::fs::write(&cfg, "[drover]\nlock = false\n").expect("cfg");
    let cfg = cfg.display().to_string();
    site.play_env("bob", "nocfg", &[], &[("ANSIBLE_CONFIG", cfg.as_str())])
        .assert_success();
    for host in 0..2 {
        assert_eq!(site.markers(host).len(), 6, "host {host}");
    }
    // DROVER_NO_LOCK is for runs: `drover lock` still shows the locks.
    let inventory = site.inventory.as_str();
    let status = drover_env(
        site.hosts.dir(),
        &["lock", "status", "-i", inventory, h1.as_str()],
        &[("DROVER_NO_LOCK", "1")],
    );
    status.assert_success();
    assert!(status.stdout.contains("held by alice"), "{}", status.stdout);
    // Still refused without them; a lock directory set in ansible.cfg is another lock.
    assert_eq!(site.play("bob", "bob", &[]).code, Some(3));
    let cfg = site.hosts.dir().join("lockdir.cfg");
    std::fs::write(&cfg, "[drover]\nlock_dir = /var/lib/drover/other-locks\n").expect("cfg");
    let cfg = cfg.display().to_string();
    site.play_env("bob", "otherdir", &[], &[("ANSIBLE_CONFIG", cfg.as_str())])
        .assert_success();
    site.hosts.ssh_ok(1, "test -d /var/lib/drover/other-locks");
    // DROVER_LOCK_OWNER names the holder: as alice, the token is yours to release.
    let release = ["lock", "release", "-i", inventory, h1.as_str()];
    let as_bob = drover_env(site.hosts.dir(), &release, &[("DROVER_LOCK_OWNER", "bob")]);
    assert_eq!(as_bob.code, Some(3), "{as_bob:#?}");
    drover_env(
        site.hosts.dir(),
        &release,
        &[("DROVER_LOCK_OWNER", "alice")],
    )
    .assert_success();

    // A lock past its expiry, taken on another controller, is reported as stale; `acquire
    // --force` breaks it and takes the token.
    let now = unix_now();
    let info = format!(
        "owner=gone@elsewhere\ncontroller=elsewhere\npid=1\nkind=run\nplaybook=site.yml\nstarted={}\nexpires={}\ntoken=beef\n",
        now - 7200,
        now - 60
    );
    site.hosts.ssh_ok(
        1,
        &format!("mkdir -p {LOCK} && printf '%s' '{info}' > {LOCK}/info"),
    );
    let refused = site.play("bob", "bob", &[]);
    assert_eq!(refused.code, Some(3), "{refused:#?}");
    assert!(
        refused.stderr.contains("gone@elsewhere") && refused.stderr.contains("expired"),
        "{}",
        refused.stderr
    );
    let status = site.lock("status", &[h1.as_str()]);
    assert!(status.stdout.contains("STALE"), "{}", status.stdout);
    site.lock(
        "acquire",
        &["--force", h1.as_str(), "--lock-owner", "frank"],
    )
    .assert_success();
    let status = site.lock("status", &[h1.as_str()]);
    assert!(status.stdout.contains("held by frank"), "{}", status.stdout);
    site.lock("release", &[h1.as_str(), "--lock-owner", "frank"])
        .assert_success();

    // A failed run releases its locks too.
    let failing = site.hosts.dir().join("fails.yml");
    std::fs::write(
        &failing,
        "- hosts: targets\n  gather_facts: false\n  tasks:\n    - command: /bin/false\n",
    )
    .expect("playbook");
    let failing = failing.display().to_string();
    let failed = drover(
        site.hosts.dir(),
        &[
            "play",
            &failing,
            "-i",
            &site.inventory,
            "--lock-owner",
            "bob",
        ],
    );
    assert_eq!(failed.code, Some(2), "{failed:#?}");
    no_lock_dir(0);
    no_lock_dir(1);
}

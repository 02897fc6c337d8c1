//! `apt`/`package` and the state of the host's package lists: a cache with no lists at all (an image
//! whose lists were cleaned at build time, with fresh directory mtimes) is updated before packages
//! are installed, as Ansible users observe; aged lists are updated by `cache_valid_time`; present
//! lists are left alone. A local flat repository on the harness bridge keeps it fast and exact.

mod packages;

use drover_integration::TestHosts;
use packages::{build_deb, index_repo, plain_deb, play, DebSpec, RepoServer};

/// Empties the lists as an image build leaves them: no files, a directory modified just now.
const EMPTY_LISTS: &str = "rm -rf /var/lib/apt/lists/* /var/lib/apt/periodic/update-success-stamp \
     && touch /var/lib/apt/lists";

fn installed(hosts: &TestHosts, name: &str) -> bool {
    hosts
        .ssh(
            0,
            &format!("dpkg-query -W -f='${{db:Status-Abbrev}}' {name}"),
        )
        .stdout
        .starts_with(b"ii")
}

fn lists_count(hosts: &TestHosts) -> usize {
    hosts
        .ssh_ok(0, "ls /var/lib/apt/lists | grep -c _Packages || true")
        .trim()
        .parse()
        .unwrap_or(0)
}

#[test]
fn empty_lists_are_updated_before_installing_and_aged_lists_by_cache_valid_time() {
    let hosts = TestHosts::start(1);
    let repo = hosts.dir().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    for name in ["drover-demo", "drover-lib"] {
        plain_deb(&repo, name, "1.0");
    }
    index_repo(&repo);
    let server = RepoServer::start(&repo);
    hosts.ssh_ok(
        0,
        &format!(
            "rm -f /etc/apt/sources.list /etc/apt/sources.list.d/*; echo '{}' > /etc/apt/sources.list.d/drover-test.list; {EMPTY_LISTS}",
            server.source_line()
        ),
    );

    // No update_cache: the empty cache is updated first, and the result says so.
    let install = "- hosts: pkg\n  tasks:\n    - name: install\n      apt: {name: drover-demo}\n";
    let check = play(&hosts, "install.yml", install, &["--check"]);
    assert_eq!(check.statuses(), ["changed"], "{}", check.output.stdout);
    assert_eq!(check.task("install").result["cache_updated"], true);
    assert_eq!(lists_count(&hosts), 0, "check mode fetched the lists");
    assert!(!installed(&hosts, "drover-demo"));

    let run = play(&hosts, "install.yml", install, &[]);
    assert_eq!(run.statuses(), ["changed"], "{}", run.output.stdout);
    let result = &run.task("install").result;
    assert_eq!(result["cache_updated"], true, "{result}");
    assert!(
        result["cache_update_time"].as_i64().unwrap_or(0) > 0,
        "{result}"
    );
    assert!(installed(&hosts, "drover-demo"));
    assert!(lists_count(&hosts) > 0);

    // Lists present: nothing to update, nothing to install.
    let again = play(&hosts, "install.yml", install, &[]);
    assert_eq!(again.statuses(), ["ok"], "{}", again.output.stdout);
    assert_eq!(again.task("install").result["cache_updated"], false);

    // `package` takes the same path; a fresh but empty cache with cache_valid_time is updated too;
    // removing a package never needs the lists.
    hosts.ssh_ok(0, EMPTY_LISTS);
    let package = "- hosts: pkg
  tasks:
    - name: remove
      apt: {name: drover-demo, state: absent}
    - name: via package
      package: {name: drover-lib, state: present}
";
    let run = play(&hosts, "package.yml", package, &[]);
    assert_eq!(
        run.statuses(),
        ["changed", "changed"],
        "{}{}",
        run.output.stdout,
        run.output.stderr
    );
    assert_ne!(run.task("remove").result["cache_updated"], true);
    assert_eq!(run.task("via package").result["cache_updated"], true);
    assert!(installed(&hosts, "drover-lib") && !installed(&hosts, "drover-demo"));

    hosts.ssh_ok(0, EMPTY_LISTS);
    let valid = "- hosts: pkg
  tasks:
    - name: valid time
      apt: {name: drover-demo, cache_valid_time: 3600}
";
    let run = play(&hosts, "valid.yml", valid, &[]);
    assert_eq!(run.statuses(), ["changed"], "{}", run.output.stdout);
    assert_eq!(run.task("valid time").result["cache_updated"], true);

    // Aged lists (as in an image built long ago): cache_valid_time updates them, whatever their
    // contents; without it they are used as they are. An update alone is not a change when the
    // package is already there (as in ansible-core: `changed` comes from the packages).
    // A new version in the repository, so an update really changes the lists.
    let newer = DebSpec {
        name: "drover-demo",
        version: "2.0",
        depends: None,
        provides: None,
        recommends: None,
    };
    build_deb(&repo, &newer);
    index_repo(&repo);
    hosts.ssh_ok(0, "touch -d 2000-01-01 /var/lib/apt/lists");
    let state = "- hosts: pkg\n  tasks:\n    - name: present\n      apt: {name: drover-demo}\n";
    let run = play(&hosts, "present.yml", state, &[]);
    assert_eq!(run.statuses(), ["ok"], "{}", run.output.stdout);
    assert_eq!(run.task("present").result["cache_updated"], false);
    let run = play(&hosts, "valid.yml", valid, &[]);
    assert_eq!(run.statuses(), ["ok"], "{}", run.output.stdout);
    let result = &run.task("valid time").result;
    assert_eq!(result["cache_updated"], true, "{result}");
    let candidate = hosts.ssh_ok(0, "apt-cache policy drover-demo | grep Candidate");
    assert!(candidate.contains("2.0"), "{candidate}");
    let run = play(&hosts, "valid.yml", valid, &[]);
    assert_eq!(run.statuses(), ["ok"], "{}", run.output.stdout);
    assert_eq!(run.task("valid time").result["cache_updated"], false);
    drop(server);
}

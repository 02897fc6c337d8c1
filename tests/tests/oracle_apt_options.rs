//! `apt` (and `dpkg_selections`), option by option, differential against ansible-core: a local repository of tiny .debs
//! (versions, dependencies, recommends, a held package, .debs by path and by URL) on two identical
//! fresh hosts that see only that repository. A `--check --diff` run from the clean state, a first
//! and a second run must give the same per-task results, the same registered keys and values the
//! playbook prints, and the same dpkg state. Every task runs under `ignore_errors`, so a failure
//! (e.g. a refused downgrade or a held package) is compared like any other result.
//!
//! ansible-core 2.19 adds an `exception` key (a traceback) to every failed result; drover has no
//! Python traceback to give, so the printed key lists leave it out.
//! `deb: URL` downloads on the target: ansible-core with Python, drover on this bare host (no curl,
//! no wget) with apt's own apt-helper. `build-dep` is in oracle_apt_signed (it needs a source
//! repository). Not covered: `deb` with a dependency on another repository, `aptitude`-driven
//! upgrades (aptitude is not installed, as on a fresh Debian 12).

mod packages;

use drover_integration::{OracleComparison, TestHosts};
use packages::{build_deb, index_repo, use_only_source, DebSpec, RepoServer};

const PLAYBOOK: &str = r#"- hosts: web
  gather_facts: false
  ignore_errors: true
  tasks:
    - name: copy a local deb
      copy: {src: "{{ extra_dir }}/drv-local_1.0_all.deb", dest: /tmp/drv-local_1.0_all.deb}
    - name: update fresh cache
      apt: {update_cache: true, cache_valid_time: 3600}
      register: r_update
    - name: keys of update
      debug: {msg: "{{ r_update | list | sort }} {{ r_update.cache_updated }}"}
    - name: pin exact
      apt: {name: drv-a=1.0}
      register: r_pin
    - name: keys of install
      debug: {msg: "{{ r_pin | list | sort }}"}
    - name: pin wildcard
      apt: {name: "drv-a=1.*"}
    - name: at least
      apt: {name: "drv-a>=1.5"}
    - name: downgrade refused
      apt: {name: drv-a=1.5}
      register: r_refused
    - name: keys of a failure
      debug: {msg: "{{ r_refused | list | reject('eq', 'exception') | sort }} {{ r_refused.msg | default('') }}"}
    - name: downgrade allowed
      apt: {name: drv-a=1.5, allow_downgrade: true}
    - name: latest
      apt: {name: drv-a, state: latest}
    - name: list with a dependency, no recommends
      apt: {name: [drv-app, drv-rec], install_recommends: false}
    - name: recommends installed
      apt: {name: drv-rec2, install_recommends: true}
    - name: remove with purge
      apt: {name: drv-rec, state: absent, purge: true}
      register: r_purge
    - name: keys of a removal
      debug: {msg: "{{ r_purge | list | sort }}"}
    - name: remove app
      apt: {name: drv-app, state: absent}
    - name: fail_on_autoremove
      apt: {name: drv-b, fail_on_autoremove: true}
    - name: autoremove
      apt: {autoremove: true}
    - name: held package installed
      apt: {name: drv-held=1.0}
    - name: hold it
      command: apt-mark hold drv-held
      changed_when: false
    - name: held package refused
      apt: {name: drv-held, state: latest}
    - name: held package allowed
      apt: {name: drv-held, state: latest, allow_change_held_packages: true}
    - name: unhold it
      command: apt-mark unhold drv-held
      changed_when: false
    - name: dpkg_selections hold
      dpkg_selections: {name: drv-b, selection: hold}
      register: r_sel
    - name: dpkg_selections result
      debug: {msg: "{{ r_sel.before | default('-') }} {{ r_sel.after | default('-') }} {{ r_sel | list | reject('eq', 'exception') | sort }}"}
    - name: dpkg_selections again
      dpkg_selections: {name: drv-b, selection: hold}
    - name: dpkg_selections install
      dpkg_selections: {name: drv-b, selection: install}
    - name: dpkg_selections unknown
      dpkg_selections: {name: drv-none, selection: hold}
    - name: only_upgrade skips what is missing
      apt: {name: drv-c, state: latest, only_upgrade: true}
    - name: deb by path
      apt: {deb: /tmp/drv-local_1.0_all.deb}
    - name: deb by URL
      apt: {deb: "{{ url_base }}/drv-url_1.0_all.deb"}
    - name: fixed
      apt: {name: drv-a, state: fixed}
    - name: force
      apt: {name: drv-c, force: true}
    - name: dpkg_options
      apt: {name: drv-extra, dpkg_options: "force-confdef,force-confold,force-unsafe-io"}
    - name: default_release
      apt: {name: drv-a=1.0, default_release: drover-test, allow_downgrade: true}
    - name: lock_timeout
      apt: {name: drv-lib, lock_timeout: 5}
    - name: policy_rc_d
      apt: {name: drv-d, policy_rc_d: 101}
    - name: upgrade dist
      apt: {upgrade: dist}
    - name: downgrade again
      apt: {name: drv-a=1.0, allow_downgrade: true}
    - name: upgrade safe
      apt: {upgrade: safe}
    - name: upgrade yes
      apt: {upgrade: "yes"}
    - name: upgrade full
      apt: {upgrade: full}
    - name: autoclean
      apt: {autoclean: true}
    - name: clean
      apt: {clean: true}
    - name: unknown package
      apt: {name: drv-none}
      register: r_unknown
    - name: message of the unknown package
      debug: {msg: "{{ r_unknown.msg }}"}
    - name: stale cache
      apt: {update_cache: true, cache_valid_time: 1}
      register: r_stale
    - name: stale cache updated
      debug: {msg: "{{ r_stale.cache_updated }}"}
"#;

fn dpkg_state(hosts: &TestHosts, i: usize) -> String {
    let out = hosts.ssh_ok(
        i,
        "dpkg-query -W -f='${db:Status-Abbrev} ${Package} ${Version}\\n' 'drv-*' 2>/dev/null || true; \
         apt-mark showmanual 'drv-*' | sort | tr '\\n' ' '; dpkg --get-selections 'drv-*'; ls /var/cache/apt/archives | grep -c deb || true",
    );
    out.trim().to_string()
}

fn deb(dir: &std::path::Path, name: &str, version: &str, deps: (Option<&str>, Option<&str>)) {
    let spec = DebSpec {
        name,
        version,
        depends: deps.0,
        provides: None,
        recommends: deps.1,
    };
    build_deb(dir, &spec);
}

#[test]
fn apt_options_match_ansible_core() {
    let hosts = TestHosts::start(2);
    let oracle = OracleComparison::new(&hosts, 0, 1);
    let (a, d) = (oracle.ansible_host(), oracle.drover_host());
    hosts.ssh_ok(
        a,
        "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-apt >/dev/null",
    );
    let repo = hosts.dir().join("repo");
    let extra = hosts.dir().join("extra");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::create_dir_all(&extra).unwrap();
    for v in ["1.0", "1.5", "2.0"] {
        deb(&repo, "drv-a", v, (None, None));
    }
    for v in ["1.0", "2.0"] {
        deb(&repo, "drv-held", v, (None, None));
    }
    for name in ["drv-lib", "drv-extra", "drv-b", "drv-c", "drv-d"] {
        deb(&repo, name, "1.0", (None, None));
    }
    deb(&repo, "drv-app", "1.0", (Some("drv-lib (>= 1.0)"), None));
    deb(&repo, "drv-rec", "1.0", (None, Some("drv-extra")));
    deb(&repo, "drv-rec2", "1.0", (None, Some("drv-extra")));
    deb(&extra, "drv-local", "1.0", (None, None));
    deb(&extra, "drv-url", "1.0", (None, None));
    index_repo(&repo);
    let server = RepoServer::start(&repo);
    let files = RepoServer::start(&extra);
    for i in [a, d] {
        use_only_source(&hosts, i, &server.source_line());
    }
    let book = hosts.dir().join("options.yml");
    std::fs::write(&book, PLAYBOOK).unwrap();
    let vars = format!(
        "extra_dir={} url_base=http://{}:{}",
        extra.display(),
        packages::BRIDGE_IP,
        files.port
    );

    oracle.assert_same_rounds(
        &book,
        &["-e", vars.as_str()],
        &[
            ("check mode", &["--check", "--diff"]),
            ("first run", &["--diff"]),
            ("second run", &[]),
        ],
        40,
        |i| dpkg_state(&hosts, i),
    );
}

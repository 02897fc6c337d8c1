//! Signed repositories, keyrings and source packages, differential against ansible-core: a local
//! repository signed with a throwaway key (gpg on the controller: `InRelease`, `Release.gpg`, the
//! key beside them as `key.asc` and `key.gpg`), a source repository (a `Sources` index) and a
//! plain one, on two identical fresh hosts with neither curl nor wget.
//!
//! Covered: an unsigned line whose cache update apt refuses (the line is reverted); a key fetched
//! with `get_url` and a `signed-by=` line; `deb822_repository` with `signed_by` as an armored key
//! URL, a binary key URL, a keyring path, inline key text, a fingerprint and a key URL that is
//! missing; installing from the signed sources; removal taking the downloaded key along; a
//! `deb-src` line and `state: build-dep` (with apt's implicit `build-essential`, a stand-in here).
//! A `--check` run from the clean state, a first and a second run must give the same per-task
//! results, the same printed keys and values, and the same sources, keyrings and dpkg state.

mod packages;

use drover_integration::{OracleComparison, TestHosts};
use packages::{
    index_repo, plain_deb, use_only_source, write_sources, RepoServer, SigningKey, BRIDGE_IP,
};

const PLAYBOOK: &str = r#"- hosts: web
  gather_facts: false
  ignore_errors: true
  tasks:
    - name: an unsigned source, its cache update refused and the line reverted
      apt_repository: {repo: "deb {{ line_url }} ./", filename: drover-unsigned, update_cache_retries: 1}
    - name: the key for a signed-by line
      get_url: {url: "{{ line_url }}key.asc", dest: /etc/apt/keyrings/drover-line.asc, mode: "0644"}
    - name: a signed-by source line
      apt_repository: {repo: "deb [signed-by=/etc/apt/keyrings/drover-line.asc] {{ line_url }} ./", filename: drover-line}
      register: r_line
    - name: cache updated by the signed line
      debug: {msg: "{{ r_line.cache_updated | default('-') }} {{ r_line.sources_added | default('-') }}"}
    - name: a package from the signed repository
      apt: {name: drv-signed}
    - name: the package removed
      apt: {name: drv-signed, state: absent}
    - name: the signed-by line removed
      apt_repository: {repo: "deb [signed-by=/etc/apt/keyrings/drover-line.asc] {{ line_url }} ./", filename: drover-line, state: absent, update_cache: false}
    - name: deb822 with an armored key from a URL
      deb822_repository: {name: drover-url, types: deb, uris: "{{ url_url }}", suites: ./, signed_by: "{{ url_url }}key.asc"}
      register: r_url
    - name: keys of a deb822 source with a downloaded key
      debug: {msg: "{{ r_url | list | reject('eq', 'exception') | sort }} {{ r_url.key_filename }} {{ r_url.dest }}"}
    - name: deb822 with the URL key again
      deb822_repository: {name: drover-url, types: deb, uris: "{{ url_url }}", suites: ./, signed_by: "{{ url_url }}key.asc"}
    - name: deb822 with a binary key from a URL
      deb822_repository: {name: drover-bin, types: deb, uris: "{{ bin_url }}", suites: ./, signed_by: "{{ bin_url }}key.gpg"}
      register: r_bin
    - name: deb822 with a keyring path on the host
      deb822_repository: {name: drover-path, types: deb, uris: "{{ path_url }}", suites: ./, signed_by: /etc/apt/keyrings/drover-line.asc}
      register: r_path
    - name: deb822 with an inline key
      deb822_repository: {name: drover-inline, types: deb, uris: "{{ inline_url }}", suites: ./, signed_by: "{{ key_text }}"}
      register: r_inline
    - name: key files of the deb822 sources
      debug: {msg: "{{ r_bin.key_filename | default('-') }} {{ r_path.key_filename | default('-') }} {{ r_inline.key_filename | default('-') }}"}
    - name: deb822 with a fingerprint
      deb822_repository: {name: drover-fpr, types: deb, uris: "{{ fpr_url }}", suites: ./, signed_by: "{{ key_fpr }}"}
      register: r_fpr
    - name: the fingerprint source as written
      debug: {msg: "{{ r_fpr.repo | default('-') }}"}
    - name: the fingerprint source removed
      deb822_repository: {name: drover-fpr, state: absent}
    - name: deb822 with a key URL that is missing
      deb822_repository: {name: drover-nokey, types: deb, uris: "{{ fpr_url }}", suites: ./, signed_by: "{{ url_url }}nokey.asc"}
    - name: lists from every signed source
      apt: {update_cache: true}
    - name: the package through the deb822 sources
      apt: {name: drv-signed}
    - name: the downloaded-key source removed, with its key
      deb822_repository: {name: drover-url, state: absent}
      register: r_gone
    - name: keys of a removal
      debug: {msg: "{{ r_gone | list | reject('eq', 'exception') | sort }}"}
    - name: removed again
      deb822_repository: {name: drover-url, state: absent}
    - name: a source package's line
      apt_repository: {repo: "deb-src [trusted=yes] {{ src_url }} ./", filename: drover-src}
    - name: build dependencies installed
      apt: {name: drv-tool, state: build-dep}
      register: r_bd
    - name: keys of build-dep
      debug: {msg: "{{ r_bd | list | reject('eq', 'exception') | sort }}"}
    - name: build dependencies again
      apt: {name: drv-tool, state: build-dep}
    - name: build dependencies of an unknown source package
      apt: {name: drv-nosuch, state: build-dep}
"#;

fn host_state(hosts: &TestHosts, i: usize) -> String {
    let out = hosts.ssh_ok(
        i,
        "cd /etc/apt/sources.list.d && for f in $(ls | sort); do stat -c '%n %a' $f; cat $f; done; \
         cd /etc/apt/keyrings && for f in $(ls -A | sort); do stat -c '%n %a' $f; sha256sum < $f; done; \
         dpkg-query -W -f='${db:Status-Abbrev} ${Package} ${Version}\\n' 'drv-*' build-essential 2>/dev/null || true",
    );
    out.trim().to_string()
}

#[test]
fn signed_sources_and_build_deps_match_ansible_core() {
    let hosts = TestHosts::start(2);
    let oracle = OracleComparison::new(&hosts, 0, 1);
    let (a, d) = (oracle.ansible_host(), oracle.drover_host());
    hosts.ssh_ok(
        a,
        "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-apt python3-debian >/dev/null",
    );
    // The plain repository the hosts start with: build dependencies, and a stand-in for
    // build-essential, which `apt-get build-dep` always adds.
    let base = hosts.dir().join("base");
    std::fs::create_dir_all(&base).unwrap();
    for name in ["drv-bd1", "drv-bd2", "build-essential"] {
        plain_deb(&base, name, "1.0");
    }
    index_repo(&base);
    // The signed repository.
    let key = SigningKey::generate();
    let signed = hosts.dir().join("signed");
    std::fs::create_dir_all(&signed).unwrap();
    plain_deb(&signed, "drv-signed", "1.0");
    index_repo(&signed);
    key.sign_repo(&signed);
    // The source repository.
    let src = hosts.dir().join("src");
    std::fs::create_dir_all(&src).unwrap();
    write_sources(&src, &[("drv-tool", "1.0", "drv-bd1, drv-bd2 (>= 1.0)")]);
    index_repo(&src);

    let base_server = RepoServer::start(&base);
    // One server (one URI) per source: apt refuses two sources of one URI with different keys.
    let signed_servers: Vec<RepoServer> = (0..5).map(|_| RepoServer::start(&signed)).collect();
    let src_server = RepoServer::start(&src);
    for i in [a, d] {
        use_only_source(&hosts, i, &base_server.source_line());
        hosts.ssh_ok(
            i,
            "! command -v curl && ! command -v wget && test -d /etc/apt/keyrings",
        );
    }
    let book = hosts.dir().join("signed.yml");
    std::fs::write(&book, PLAYBOOK).unwrap();
    let url = |s: &RepoServer| format!("http://{BRIDGE_IP}:{}/", s.port);
    let vars = hosts.dir().join("vars.yml");
    let key_text: String = key.armored.lines().map(|l| format!("  {l}\n")).collect();
    std::fs::write(
        &vars,
        format!(
            "line_url: {}\nurl_url: {}\nbin_url: {}\npath_url: {}\ninline_url: {}\nfpr_url: {}\nsrc_url: {}\n\
             key_fpr: {}\nkey_text: |\n{key_text}",
            url(&signed_servers[0]),
            url(&signed_servers[1]),
            url(&signed_servers[2]),
            url(&signed_servers[3]),
            url(&signed_servers[4]),
            url(&base_server),
            url(&src_server),
            key.fingerprint,
        ),
    )
    .unwrap();
    let vars_arg = format!("@{}", vars.display());
    oracle.assert_same_rounds(
        &book,
        &["-e", vars_arg.as_str()],
        &[
            ("check mode", &["--check"]),
            ("first run", &[]),
            ("second run", &[]),
        ],
        28,
        |i| host_state(&hosts, i),
    );
    // The end state is what the tasks meant, not merely the same on both hosts.
    let state = host_state(&hosts, d);
    for want in [
        "ii  drv-signed 1.0",
        "ii  drv-bd1 1.0",
        "ii  drv-bd2 1.0",
        "ii  build-essential 1.0",
        "drover-bin.gpg 644",
        "drover-inline.sources 644",
    ] {
        assert!(state.contains(want), "{want:?} missing from:\n{state}");
    }
    for gone in [
        "drover-unsigned",
        "drover-url",
        "drover-fpr",
        "drover-nokey",
        "drover-line.list",
    ] {
        assert!(!state.contains(gone), "{gone:?} left in:\n{state}");
    }
}

//! `apt_repository`, `deb822_repository` and `package`, differential against ansible-core: two
//! identical fresh hosts that see only a local repository of tiny .debs. Source lines with and
//! without `filename`/`mode`, `update_cache`, removal, a deb822 `.sources` file and its removal,
//! and `package` dispatching to apt (with and without `use`), each twice; `package_facts`, its
//! facts written out a line per package and compared for the packages both hosts have. A `--check` run from the
//! clean state, a first and a second run must give the same per-task results, the same printed keys
//! and values, and the same files under `/etc/apt/sources.list.d` and dpkg state.

mod packages;

use drover_integration::{OracleComparison, TestHosts};
use packages::{index_repo, plain_deb, use_only_source, RepoServer, BRIDGE_IP};

const PLAYBOOK: &str = r#"- hosts: web
  gather_facts: false
  ignore_errors: true
  tasks:
    - name: add a source line
      apt_repository: {repo: "deb [trusted=yes] {{ url }} ./", update_cache: false}
      register: r_add
    - name: keys of an added line
      debug: {msg: "{{ r_add | list | reject('eq', 'exception') | sort }} {{ r_add.repo }} {{ r_add.state }}"}
    - name: add it again
      apt_repository: {repo: "deb [trusted=yes] {{ url }} ./", update_cache: false}
    - name: a second line in a named file with a mode, updating the cache
      apt_repository:
        repo: "deb [trusted=yes] {{ url2 }} ./"
        filename: drover-second
        mode: "0600"
      register: r_named
    - name: cache updated by the named line
      debug: {msg: "{{ r_named.cache_updated | default('-') }} {{ r_named.sources_added | default('-') }}"}
    - name: remove the second line
      apt_repository: {repo: "deb [trusted=yes] {{ url2 }} ./", filename: drover-second, state: absent, update_cache: false}
      register: r_removed
    - name: keys of a removal
      debug: {msg: "{{ r_removed | list | reject('eq', 'exception') | sort }} {{ r_removed.sources_removed | default('-') }}"}
    - name: remove it again
      apt_repository: {repo: "deb [trusted=yes] {{ url2 }} ./", filename: drover-second, state: absent, update_cache: false}
    - name: a deb822 source
      deb822_repository: {name: drover-local, types: deb, uris: "{{ url2 }}", suites: ./, trusted: true}
      register: r_822
    - name: keys of a deb822 source
      debug: {msg: "{{ r_822 | list | reject('eq', 'exception') | sort }} {{ r_822.dest }} {{ r_822.repo }}"}
    - name: the deb822 source again
      deb822_repository: {name: drover-local, types: deb, uris: "{{ url2 }}", suites: ./, trusted: true}
    - name: the deb822 source removed
      deb822_repository: {name: drover-local, state: absent}
    - name: the deb822 source removed again
      deb822_repository: {name: drover-local, state: absent}
    - name: refresh the lists
      apt: {update_cache: true}
      changed_when: false
    - name: package installs through apt
      package: {name: drv-a, state: present}
      register: r_pkg
    - name: keys of package
      debug: {msg: "{{ r_pkg | list | reject('eq', 'exception') | sort }}"}
    - name: package again
      package: {name: drv-a}
    - name: package with use
      package: {name: [drv-b], use: apt, state: latest}
    - name: package removes
      package: {name: drv-b, state: absent}
    - name: package with an unknown name
      package: {name: drv-none}
    - name: package facts
      package_facts: {}
    - name: the package facts, a line each
      copy:
        dest: /root/package-facts.txt
        content: "{% for n, l in ansible_facts.packages | dictsort %}{% for p in l %}{{ n }} {{ p.name }} {{ p.version }} {{ p.arch }} {{ p.category }} {{ p.origin }} {{ p.source }}\n{% endfor %}{% endfor %}"
    - name: package facts of a manager the host does not have
      package_facts: {manager: rpm}
      register: r_rpm
    - name: package facts of an unknown manager
      package_facts: {manager: [nosuch]}
      register: r_nosuch
    - name: messages of package facts
      debug: {msg: "{{ r_rpm.msg }} / {{ r_nosuch.msg }}"}
"#;

/// Names of the packages installed on host `i`, sorted.
fn installed(hosts: &TestHosts, i: usize) -> Vec<String> {
    let out = hosts.ssh_ok(
        i,
        "dpkg-query -W -f='${db:Status-Abbrev} ${Package}\\n' | awk 'substr($1,2,1) != \"n\" && substr($1,2,1) != \"c\" {print $2}' | sort",
    );
    out.lines().map(str::to_string).collect()
}

/// Sources, `drv-*` packages and the `package_facts` lines written by the play: the lines of the
/// packages installed on host `common` (ansible-core's host has Python besides), and whether the
/// facts name exactly the packages dpkg has on host `i`.
fn host_state(hosts: &TestHosts, i: usize, common: usize) -> String {
    let out = hosts.ssh_ok(
        i,
        "cd /etc/apt/sources.list.d && for f in $(ls | sort); do stat -c '%n %a' $f; cat $f; done; \
         dpkg-query -W -f='${db:Status-Abbrev} ${Package} ${Version}\\n' 'drv-*' 2>/dev/null || true",
    );
    let facts = hosts.ssh_ok(i, "cat /root/package-facts.txt 2>/dev/null; true");
    if facts.trim().is_empty() {
        return out.trim().to_string();
    }
    let named: Vec<String> = facts
        .lines()
        .filter_map(|l| l.split(' ').next())
        .map(str::to_string)
        .collect();
    let mine = installed(hosts, i);
    let keep = installed(hosts, common);
    let lines: Vec<&str> = facts
        .lines()
        .filter(|l| keep.iter().any(|k| l.split(' ').next() == Some(k.as_str())))
        .collect();
    format!(
        "{}\npackage facts name every installed package: {}\n{}",
        out.trim(),
        named == mine,
        lines.join("\n")
    )
}

#[test]
fn repositories_and_package_match_ansible_core() {
    let hosts = TestHosts::start(2);
    let oracle = OracleComparison::new(&hosts, 0, 1);
    let (a, d) = (oracle.ansible_host(), oracle.drover_host());
    // ansible-core's modules need python3-apt and (deb822_repository) python3-debian.
    hosts.ssh_ok(
        a,
        "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-apt python3-debian >/dev/null",
    );
    let repo = hosts.dir().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    for name in ["drv-a", "drv-b"] {
        plain_deb(&repo, name, "1.0");
    }
    index_repo(&repo);
    // Three servers of the same repository: the hosts' own source (so check mode has package
    // lists: drover deliberately predicts installs on empty lists, where ansible-core fails) and
    // two distinct source lines for the tasks.
    let base = RepoServer::start(&repo);
    let (one, two) = (RepoServer::start(&repo), RepoServer::start(&repo));
    for i in [a, d] {
        use_only_source(&hosts, i, &base.source_line());
    }
    let book = hosts.dir().join("repositories.yml");
    std::fs::write(&book, PLAYBOOK).unwrap();
    let vars = format!(
        "url=http://{BRIDGE_IP}:{}/ url2=http://{BRIDGE_IP}:{}/",
        one.port, two.port
    );
    oracle.assert_same_rounds(
        &book,
        &["-e", vars.as_str()],
        &[
            ("check mode", &["--check"]),
            ("first run", &[]),
            ("second run", &[]),
        ],
        24,
        |i| host_state(&hosts, i, d),
    );
}

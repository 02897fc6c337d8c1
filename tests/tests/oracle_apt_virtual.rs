//! Virtual packages in `apt`, differential against ansible-core: a local repository (tiny .debs
//! built here) with a virtual name one package provides, one two packages provide, and one nothing
//! provides. ansible-core's `package_status` counts a virtual name with exactly one provider as
//! installed when that provider is (so a second run changes nothing); with several providers it asks
//! apt every time and reports `changed`, even when apt installs nothing — drover does the same, so
//! roles see the same `changed` in both tools. Version specs on a virtual name (a wildcard, an exact
//! version, one no provider has, one on a name with several providers) go the same way. Check mode, a first and a second run must give the same
//! per-task results and the same dpkg state on both hosts.

mod packages;

use drover_integration::{target_task_results, OracleComparison, TestHosts};
use packages::{build_deb, index_repo, use_only_source, DebSpec, RepoServer};

const PLAYBOOK: &str = r#"- hosts: web
  gather_facts: false
  tasks:
    - name: one provider
      apt: {name: drover-virt}
      register: one
    - name: one provider, version spec
      apt: {name: "drover-virt=1*"}
      ignore_errors: "{{ ansible_check_mode }}"
    - name: one provider, exact version
      apt: {name: "drover-virt=1.0"}
      ignore_errors: true
    - name: one provider, a version nobody has
      apt: {name: "drover-virt=2.0"}
      ignore_errors: true
    - name: two providers, version spec
      apt: {name: "drover-mta=1.0"}
      ignore_errors: true
    - name: two providers, none installed
      apt: {name: drover-mta}
      ignore_errors: true
    - name: pick a provider
      apt: {name: drover-mta-a}
    - name: two providers, one installed
      apt: {name: drover-mta}
      ignore_errors: true
    - name: nothing provides it
      apt: {name: drover-nothing}
      ignore_errors: true
      register: nothing
    - name: virtual absent
      apt: {name: drover-virt, state: absent}
    - name: show
      debug:
        msg: "{{ one.changed }} {{ nothing.msg | default('') }}"
"#;

fn dpkg_state(hosts: &TestHosts, i: usize) -> String {
    let out = hosts.ssh_ok(
        i,
        "dpkg-query -W -f='${db:Status-Abbrev} ${Package} ${Version}\\n' 'drover-*' 2>/dev/null || true",
    );
    out.trim().to_string()
}

#[test]
fn virtual_packages_match_ansible_core() {
    let hosts = TestHosts::start(2);
    let oracle = OracleComparison::new(&hosts, 0, 1);
    let (a, d) = (oracle.ansible_host(), oracle.drover_host());
    // ansible-core's apt module needs python3-apt; get it from Debian's archive before the hosts
    // are pointed at the local repository only.
    hosts.ssh_ok(
        a,
        "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-apt >/dev/null",
    );
    let repo = hosts.dir().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    let debs = [
        ("drover-impl", Some("drover-virt")),
        ("drover-mta-a", Some("drover-mta")),
        ("drover-mta-b", Some("drover-mta")),
    ];
    for (name, provides) in debs {
        let spec = DebSpec {
            name,
            version: "1.0",
            depends: None,
            provides,
            recommends: None,
        };
        build_deb(&repo, &spec);
    }
    index_repo(&repo);
    let server = RepoServer::start(&repo);
    for i in [a, d] {
        use_only_source(&hosts, i, &server.source_line());
    }
    let book = hosts.dir().join("virtual.yml");
    std::fs::write(&book, PLAYBOOK).unwrap();

    let ansible_check = oracle.run_ansible(&book, &["--check"]);
    let drover_check = oracle.run_drover(&book, &["--check"]);
    assert_eq!(
        target_task_results(&drover_check),
        target_task_results(&ansible_check),
        "check mode differs\n--- drover:\n{drover_check}\n--- ansible:\n{ansible_check}"
    );
    assert_eq!(
        dpkg_state(&hosts, a),
        "",
        "ansible-core's check mode installed"
    );
    assert_eq!(dpkg_state(&hosts, d), "", "drover's check mode installed");

    for round in ["first run", "second run"] {
        let ansible = oracle.run_ansible(&book, &[]);
        let drover = oracle.run_drover(&book, &[]);
        let expected = target_task_results(&ansible);
        assert_eq!(
            expected.len(),
            11,
            "{round}: oracle output not understood:\n{ansible}"
        );
        assert_eq!(
            target_task_results(&drover),
            expected,
            "{round} differs\n--- drover:\n{drover}\n--- ansible:\n{ansible}"
        );
        let needle = "No package matching 'drover-nothing' is available";
        assert!(
            ansible.contains(needle) && drover.contains(needle),
            "{round}: {needle}"
        );
        assert_eq!(
            dpkg_state(&hosts, d),
            dpkg_state(&hosts, a),
            "{round}: dpkg state"
        );
    }
    let state = dpkg_state(&hosts, d);
    assert!(
        state.contains("ii  drover-impl 1.0") && state.contains("ii  drover-mta-a 1.0"),
        "{state}"
    );
    assert!(!state.contains("drover-mta-b"), "{state}");
}

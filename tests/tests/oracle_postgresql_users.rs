//! Differential test of `postgresql_user`, `postgresql_privs` and `postgresql_pg_hba` against
//! community.postgresql 4.2 (ansible-core, the oracle): the same playbook, twice, by
//! ansible-playbook and by drover on one host running PostgreSQL 15, each tool on its own roles,
//! table and pg_hba file. Per-task statuses, result keys, `queries` (names and the password
//! placeholder normalised) and the pg_hba results and file text must agree. One flag and one
//! privilege per task: the collection joins several from a Python set, in no fixed order.

use std::collections::BTreeSet;

use drover_integration::{
    oracle_collections_path, target_task_results, OracleComparison, TestHosts,
};
use serde_json::Value;

/// The playbook for prefix `p`: roles `<p>_app`/`<p>_reader`, table `<p>_t`, file `/tmp/<p>_hba.conf`.
fn book(p: &str) -> String {
    format!(
        r#"- hosts: target
  gather_facts: false
  become: true
  become_user: postgres
  tasks:
    - name: user
      community.postgresql.postgresql_user:
        name: {p}_app
        password: Pw-{p}-1
        role_attr_flags: CREATEDB
        conn_limit: 3
        comment: app
        configuration: {{work_mem: 8MB}}
      register: user
    - name: group role
      community.postgresql.postgresql_user: {{name: {p}_reader, role_attr_flags: NOLOGIN}}
      register: reader
    - name: table
      community.postgresql.postgresql_query: {{query: "CREATE TABLE IF NOT EXISTS {p}_t (id int)"}}
    - name: table privileges
      community.postgresql.postgresql_privs: {{db: postgres, objs: {p}_t, privs: SELECT, roles: {p}_app, grant_option: true}}
      register: table
    - name: database privileges
      community.postgresql.postgresql_privs: {{db: postgres, type: database, objs: postgres, privs: CREATE, roles: {p}_app}}
      register: database
    - name: database owned by the app
      community.postgresql.postgresql_db: {{name: {p}_db, owner: {p}_app}}
    - name: owner's default privilege made explicit
      community.postgresql.postgresql_privs: {{db: postgres, type: database, objs: {p}_db, privs: CONNECT, roles: {p}_app}}
      register: owner_default
    - name: membership
      community.postgresql.postgresql_privs: {{db: postgres, type: group, objs: {p}_reader, roles: {p}_app}}
      register: group
    - name: revoke
      community.postgresql.postgresql_privs: {{db: postgres, objs: {p}_t, privs: INSERT, roles: {p}_reader, state: absent}}
      register: revoke
    - name: hba file
      copy:
        dest: /tmp/{p}_hba.conf
        force: false
        content: |
          # test file
          local   all   postgres   peer

          host    all   all   127.0.0.1/32   scram-sha-256 # loopback
    - name: hba rule
      become: false
      community.postgresql.postgresql_pg_hba:
        dest: /tmp/{p}_hba.conf
        contype: host
        databases: app
        users: {p}_app
        source: 10.1.0.0
        netmask: 255.255.0.0
        method: scram-sha-256
        comment: lan
      register: hba
    - name: results
      copy:
        dest: /tmp/{p}.json
        content: "{{{{ {{'user': user, 'reader': reader, 'table': table, 'database': database, 'owner_default': owner_default, 'group': group, 'revoke': revoke, 'hba': hba}} | to_json }}}}"
"#
    )
}

fn keys(v: &Value) -> BTreeSet<String> {
    let skip = [
        "invocation",
        "warnings",
        "deprecations",
        "failed",
        "_ansible_no_log",
        "diff",
    ];
    v.as_object()
        .map(|m| {
            m.keys()
                .filter(|k| !skip.contains(&k.as_str()))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

fn results(hosts: &TestHosts, p: &str) -> Value {
    serde_json::from_str(&hosts.ssh_ok(0, &format!("cat /tmp/{p}.json"))).expect("results JSON")
}

/// `queries` with the prefix and the password placeholder made comparable.
fn queries(v: &Value, p: &str) -> String {
    v["queries"]
        .to_string()
        .replace(p, "P")
        .replace("'********'", "%(password)s")
        .replace("'infinity'", "%(expires)s")
}

#[test]
fn postgresql_roles_match_community_postgresql() {
    let hosts = TestHosts::start(1);
    let oracle = OracleComparison::new(&hosts, 0, 0);
    oracle.set_ansible_config(&format!(
        "[defaults]\ncollections_path = {}\n",
        oracle_collections_path().display()
    ));
    hosts.ssh_ok(
        0,
        "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql python3-psycopg2 >/dev/null \
         && (pg_ctlcluster 15 main start 2>/dev/null || true) \
         && for i in $(seq 50); do runuser -u postgres -- psql -XAtc 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.2; done",
    );
    let dir = hosts.dir();
    let (a_book, d_book) = (dir.join("oracle-a.yml"), dir.join("oracle-d.yml"));
    std::fs::write(&a_book, book("ora_a")).unwrap();
    std::fs::write(&d_book, book("ora_d")).unwrap();
    for round in ["first", "second"] {
        let ansible = oracle.run_ansible(&a_book, &[]);
        let drover = oracle.run_drover(&d_book, &[]);
        let expected = target_task_results(&ansible);
        assert_eq!(
            expected.len(),
            13,
            "the oracle's output was not understood:\n{ansible}"
        );
        assert_eq!(
            target_task_results(&drover),
            expected,
            "{round} run: per-task results differ\n--- drover:\n{drover}\n--- ansible:\n{ansible}"
        );
        let (a, d) = (results(&hosts, "ora_a"), results(&hosts, "ora_d"));
        for name in [
            "user",
            "reader",
            "table",
            "database",
            "owner_default",
            "group",
            "revoke",
            "hba",
        ] {
            assert_eq!(
                keys(&d[name]),
                keys(&a[name]),
                "{round} run: keys of {name}\n{a:#}\n{d:#}"
            );
        }
        for name in [
            "user",
            "reader",
            "table",
            "database",
            "owner_default",
            "group",
            "revoke",
        ] {
            assert_eq!(
                queries(&d[name], "ora_d"),
                queries(&a[name], "ora_a"),
                "{round} run: queries of {name}"
            );
        }
        let same = |v: &Value, p: &str| v.to_string().replace(p, "P");
        assert_eq!(
            same(&d["hba"]["pg_hba"], "ora_d"),
            same(&a["hba"]["pg_hba"], "ora_a"),
            "{round} run: pg_hba"
        );
        assert_eq!(
            same(&d["hba"]["pg_hba_string"], "ora_d"),
            same(&a["hba"]["pg_hba_string"], "ora_a"),
            "{round} run: pg_hba_string"
        );
    }
    assert_eq!(
        hosts
            .ssh_ok(0, "cat /tmp/ora_d_hba.conf")
            .replace("ora_d", "P"),
        hosts
            .ssh_ok(0, "cat /tmp/ora_a_hba.conf")
            .replace("ora_a", "P")
    );
}

//! Differential test of the PostgreSQL modules against community.postgresql (ansible-core, the
//! oracle): the same playbook, twice, by ansible-playbook and by drover on one host running
//! PostgreSQL 15 (each tool on its own database and server setting). Per-task `changed`/`ok`
//! statuses, the registered results' keys and their comparable values must agree. The oracle's
//! modules need python3-psycopg2 on the host; drover's need neither Python nor psycopg2.

use std::collections::BTreeSet;

use drover_integration::{
    oracle_collections_path, target_task_results, OracleComparison, TestHosts,
};
use serde_json::Value;

/// The playbook for database `<p>db`, setting `setting` and results file `/tmp/<p>.json`.
fn book(p: &str, setting: &str, value: &str) -> String {
    format!(
        r#"- hosts: target
  gather_facts: false
  become: true
  become_user: postgres
  tasks:
    - name: ping
      community.postgresql.postgresql_ping: {{}}
      register: ping
    - name: database
      community.postgresql.postgresql_db: {{name: {p}db, conn_limit: 5}}
      register: db
    - name: table
      community.postgresql.postgresql_query:
        db: {p}db
        query: CREATE TABLE IF NOT EXISTS t (id int PRIMARY KEY, v text)
      register: ddl
    - name: insert
      community.postgresql.postgresql_query:
        db: {p}db
        query: INSERT INTO t VALUES (%s, %s) ON CONFLICT DO NOTHING
        positional_args: [1, "it's"]
      register: ins
    - name: select
      community.postgresql.postgresql_query:
        db: {p}db
        query: SELECT id, v FROM t WHERE id = %(id)s
        named_args: {{id: 1}}
      register: sel
    - name: setting
      community.postgresql.postgresql_set: {{name: {setting}, value: {value}}}
      register: setting
    - name: dump
      community.postgresql.postgresql_db: {{name: {p}db, state: dump, target: /tmp/{p}.pgc}}
      register: dump
    - name: results
      copy:
        dest: /tmp/{p}.json
        content: "{{{{ {{'ping': ping, 'db': db, 'ddl': ddl, 'ins': ins, 'sel': sel, 'setting': setting, 'dump': dump}} | to_json }}}}"
"#
    )
}

/// Result keys both tools report (Ansible's bookkeeping keys left out).
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

#[test]
fn postgresql_modules_match_community_postgresql() {
    let hosts = TestHosts::start(1);
    let oracle = OracleComparison::new(&hosts, 0, 0);
    oracle.set_ansible_config(&format!(
        "[defaults]\ncollections_path = {}\n",
        oracle_collections_path().display()
    ));
    hosts.ssh_ok(
        0,
        "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql python3-psycopg2 >/dev/null \
         && (pg_ctlcluster 15 main start 2>/dev/null || true) \
         && for i in $(seq 50); do runuser -u postgres -- psql -XAtc 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.2; done",
    );
    let dir = hosts.dir();
    let a_book = dir.join("oracle-a.yml");
    let d_book = dir.join("oracle-d.yml");
    std::fs::write(&a_book, book("ora_a", "work_mem", "6MB")).unwrap();
    std::fs::write(&d_book, book("ora_d", "maintenance_work_mem", "80MB")).unwrap();

    for round in ["first", "second"] {
        let ansible = oracle.run_ansible(&a_book, &[]);
        let drover = oracle.run_drover(&d_book, &[]);
        let expected = target_task_results(&ansible);
        assert!(
            expected.len() >= 8,
            "the oracle's output was not understood:\n{ansible}"
        );
        assert_eq!(
            target_task_results(&drover),
            expected,
            "{round} run: per-task results differ\n--- drover:\n{drover}\n--- ansible:\n{ansible}"
        );
        let (a, d) = (results(&hosts, "ora_a"), results(&hosts, "ora_d"));
        for name in ["ping", "db", "ddl", "ins", "sel", "setting", "dump"] {
            assert_eq!(
                keys(&d[name]),
                keys(&a[name]),
                "{round} run: keys of {name}\n{a:#}\n{d:#}"
            );
        }
        for (name, key) in [
            ("ins", "statusmessage"),
            ("ins", "rowcount"),
            ("ins", "query_result"),
            ("sel", "query_result"),
            ("sel", "statusmessage"),
            ("sel", "rowcount"),
            ("sel", "query_all_results"),
            ("ddl", "statusmessage"),
            ("ping", "is_available"),
            ("setting", "context"),
            ("setting", "restart_required"),
        ] {
            assert_eq!(d[name][key], a[name][key], "{round} run: {name}.{key}");
        }
        let server = |v: &Value| v["ping"]["server_version"]["full"].clone();
        assert_eq!(server(&d), server(&a));
        // Each tool's own database, so the commands differ only by its name.
        assert_eq!(
            d["db"]["executed_commands"]
                .to_string()
                .replace("ora_d", "ora_a"),
            a["db"]["executed_commands"].to_string(),
            "{round} run: postgresql_db's executed_commands"
        );
    }
}

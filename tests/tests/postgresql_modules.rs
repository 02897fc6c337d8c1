//! The PostgreSQL modules (`postgresql_ping`, `postgresql_db`, `postgresql_query`,
//! `postgresql_set`) against a real PostgreSQL 15 on one Debian host, installed by drover's own
//! `apt` task: converge, re-run unchanged, check mode changes nothing (checked with `psql` over
//! SSH), bad input, a wrong login password (never echoed), and dump + restore round trips.

use drover_integration::{DroverOutput, TestHosts};

const PASSWORD: &str = "Pg-s3cret-Word";

/// A play as root that becomes `postgres` (peer authentication on the unix socket).
fn book(tasks: &str) -> String {
    format!("- hosts: t\n  become: true\n  become_user: postgres\n  tasks:\n{tasks}")
}

/// `psql -XAt` as postgres on the host, in database `db`.
fn psql(hosts: &TestHosts, db: &str, sql: &str) -> String {
    let cmd = format!(
        "runuser -u postgres -- psql -XAt -d {db} -c '{}'",
        sql.replace('\'', "'\\''")
    );
    hosts.ssh_ok(0, &cmd).trim().to_string()
}

fn play(hosts: &TestHosts, name: &str, tasks: &str, extra: &[&str]) -> DroverOutput {
    hosts.play("t", name, &book(tasks), extra)
}

/// Runs `tasks` and asserts success and the changed count.
fn converge(hosts: &TestHosts, name: &str, tasks: &str, extra: &[&str], changed: u32) {
    let out = play(hosts, name, tasks, extra);
    assert_eq!(out.code, Some(0), "{name}:\n{}\n{}", out.stdout, out.stderr);
    assert_eq!(out.changed(), changed, "{name}:\n{}", out.stdout);
}

#[test]
fn postgresql_modules_converge_check_and_roundtrip() {
    let hosts = TestHosts::start(1);
    let started = std::time::Instant::now();
    let install = hosts.play(
        "t",
        "install.yml",
        "- hosts: t\n  tasks:\n    - apt: {name: postgresql, update_cache: true, install_recommends: false}\n",
        &[],
    );
    install.assert_success();
    hosts.ssh_ok(
        0,
        "pg_ctlcluster 15 main start 2>/dev/null || true; \
         for i in $(seq 50); do runuser -u postgres -- psql -XAtc 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.2; done",
    );
    eprintln!("postgresql installed in {:?}", started.elapsed());
    let started = std::time::Instant::now();

    // ping: peer login as postgres.
    let ping = "    - community.postgresql.postgresql_ping: {}\n      register: p\n    - assert:\n        that:\n          - p.is_available\n          - p.server_version.major == 15\n          - p.conn_err_msg == ''\n";
    converge(&hosts, "ping.yml", ping, &[], 0);

    // A login role with a password for the TCP cases (postgresql_query as the setup step).
    let role = format!(
        "    - postgresql_query:\n        query: CREATE ROLE app LOGIN PASSWORD '{PASSWORD}'\n"
    );
    converge(&hosts, "role.yml", &role, &[], 1);

    // postgresql_db: check, apply, re-run, change.
    let db = "    - postgresql_db:\n        name: appdb\n        owner: app\n        encoding: UTF-8\n        template: template0\n        conn_limit: 10\n        comment: drover test\n      register: d\n";
    converge(&hosts, "db.yml", db, &["--check"], 1);
    assert_eq!(
        psql(
            &hosts,
            "postgres",
            "SELECT count(*) FROM pg_database WHERE datname = 'appdb'"
        ),
        "0"
    );
    converge(&hosts, "db.yml", db, &[], 1);
    assert_eq!(
        psql(&hosts, "postgres", "SELECT r.rolname || ' ' || d.datconnlimit || ' ' || pg_encoding_to_char(d.encoding) FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba WHERE datname = 'appdb'"),
        "app 10 UTF8"
    );
    converge(&hosts, "db.yml", db, &[], 0);
    converge(&hosts, "db.yml", db, &["--check"], 0);
    let limit = "    - community.general.postgresql_db: {name: appdb, conn_limit: 20}\n      register: d\n    - assert:\n        that:\n          - d.db == 'appdb'\n          - d.executed_commands == ['ALTER DATABASE \"appdb\" CONNECTION LIMIT 20']\n";
    converge(&hosts, "limit.yml", limit, &[], 1);
    let enc = play(
        &hosts,
        "enc.yml",
        "    - name: change the encoding\n      postgresql_db: {name: appdb, encoding: LATIN1}\n",
        &[],
    );
    assert_eq!(enc.code, Some(2), "{}", enc.stdout);
    assert!(
        enc.stdout.contains("change the encoding")
            && enc
                .stdout
                .contains("Changing database encoding is not supported"),
        "{}",
        enc.stdout
    );

    // postgresql_query: DDL, args, typed rows, ON CONFLICT re-run, check mode rolled back.
    let query = "    - postgresql_query:\n        db: appdb\n        query: CREATE TABLE IF NOT EXISTS items (id int PRIMARY KEY, name text, price numeric, tags text[], meta jsonb, ok bool)\n    - postgresql_query:\n        login_db: appdb\n        query: INSERT INTO items VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING\n        positional_args: [1, \"it's\", 2.5, [a, b], '{\"k\": 1}', true]\n      register: ins\n";
    let out = play(&hosts, "query.yml", query, &[]);
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert_eq!(out.changed(), 2, "{}", out.stdout); // CREATE … IF NOT EXISTS is a change, as in the collection
    let rerun = play(&hosts, "query.yml", query, &[]);
    assert_eq!(rerun.changed(), 1, "{}", rerun.stdout); // only the DDL; INSERT 0 0 is not a change
    let select = "    - postgresql_query:\n        db: appdb\n        query: SELECT * FROM items WHERE name = %(n)s\n        named_args: {n: \"it's\"}\n      register: r\n    - assert:\n        that:\n          - r.rowcount == 1\n          - r.statusmessage == 'SELECT 1'\n          - r.query_result[0].id == 1\n          - r.query_result[0].price == 2.5\n          - r.query_result[0].tags == ['a', 'b']\n          - r.query_result[0].meta.k == 1\n          - r.query_result[0].ok is sameas true\n          - r.query == \"SELECT * FROM items WHERE name = 'it''s'\"\n          - r.query_all_results | length == 1\n";
    converge(&hosts, "select.yml", select, &[], 0);
    let insert2 = "    - postgresql_query:\n        db: appdb\n        query: INSERT INTO items (id, name) VALUES (2, 'two'), (3, 'three')\n      register: i2\n    - assert: {that: [\"i2.rowcount == 2\", \"i2.statusmessage == 'INSERT 0 2'\", \"i2.query_result == {}\"]}\n";
    converge(&hosts, "insert2.yml", insert2, &["--check"], 1);
    assert_eq!(psql(&hosts, "appdb", "SELECT count(*) FROM items"), "1");
    converge(&hosts, "insert2.yml", insert2, &[], 1);
    assert_eq!(psql(&hosts, "appdb", "SELECT count(*) FROM items"), "3");
    hosts.ssh_ok(0, "printf 'UPDATE items SET name = name WHERE id = 99;\\nSELECT id FROM items ORDER BY id;\\n' > /tmp/script.sql && chmod 644 /tmp/script.sql");
    let script = "    - postgresql_query: {db: appdb, path: /tmp/script.sql, as_single_query: false}\n      register: s\n    - assert: {that: [\"s.query_all_results | length == 2\", \"s.query_result | map(attribute='id') | list == [1, 2, 3]\", \"s.query_list | length == 2\"]}\n";
    converge(&hosts, "script.yml", script, &[], 0);

    let more = "    - postgresql_query: {db: appdb, query: VACUUM items, autocommit: true}\n    - postgresql_query: {db: appdb, query: SHOW work_mem}\n      register: show\n    - postgresql_query: {db: appdb, query: SELECT count(*) AS n FROM items, search_path: [public]}\n      register: sp\n    - postgresql_query:\n        db: appdb\n        query:\n          - UPDATE items SET name = name WHERE id = 99\n          - SELECT 1 AS x\n      register: ql\n    - assert:\n        that:\n          - not show.changed and show.query_result[0].work_mem == '4MB'\n          - sp.query_result[0].n == 3\n          - \"ql.query_all_results == [{}, [{'x': 1}]]\"\n          - not ql.changed\n";
    converge(&hosts, "more.yml", more, &[], 1); // VACUUM
    let check_ac = play(&hosts, "ac.yml", "    - name: autocommit in check mode\n      postgresql_query: {db: appdb, query: VACUUM, autocommit: true}\n", &["--check"]);
    assert_eq!(check_ac.code, Some(2), "{}", check_ac.stdout);
    assert!(
        check_ac
            .stdout
            .contains("autocommit is mutually exclusive with check_mode"),
        "{}",
        check_ac.stdout
    );

    // postgresql_set: units compared in the server's units; check mode writes nothing.
    let set = "    - postgresql_set: {name: work_mem, value: 8mb}\n      register: w\n    - assert: {that: [\"w.value_pretty == '8MB'\", \"w.context == 'user'\", \"not w.restart_required\"]}\n";
    converge(&hosts, "set.yml", set, &["--check"], 1);
    assert_eq!(psql(&hosts, "postgres", "SHOW work_mem"), "4MB");
    converge(&hosts, "set.yml", set, &[], 1);
    assert_eq!(psql(&hosts, "postgres", "SHOW work_mem"), "8MB");
    converge(
        &hosts,
        "set2.yml",
        "    - postgresql_set: {name: work_mem, value: 8192kB}\n",
        &[],
        0,
    );
    let shared = "    - postgresql_set: {name: shared_buffers, value: 128MB}\n      register: sb\n    - assert: {that: [\"sb.restart_required\", \"sb.value.unit == '8kB'\"]}\n";
    converge(&hosts, "shared.yml", shared, &[], 0); // the default, 16384 pages of 8kB
    let shared256 = "    - postgresql_set: {name: shared_buffers, value: 256MB}\n";
    converge(&hosts, "shared256.yml", shared256, &[], 1);
    converge(&hosts, "shared256.yml", shared256, &[], 0); // pending in postgresql.auto.conf
    converge(
        &hosts,
        "shared_default.yml",
        "    - postgresql_set: {name: shared_buffers, value: default}\n",
        &[],
        1,
    );
    converge(
        &hosts,
        "reset.yml",
        "    - postgresql_set: {name: work_mem, reset: true}\n",
        &[],
        1,
    );
    assert_eq!(psql(&hosts, "postgres", "SHOW work_mem"), "4MB");

    // dump + restore round trips (plain, custom, gzip).
    let dump = "    - postgresql_db: {name: appdb, state: dump, target: /tmp/appdb.pgc}\n    - postgresql_db: {name: appdb, state: dump, target: /tmp/appdb.sql.gz}\n    - postgresql_db: {name: appdb, state: dump, target: /tmp/appdb.sql}\n      register: dump\n    - assert: {that: [\"dump.executed_commands | length == 1\", \"dump.cmd is search('pg_dump')\"]}\n      when: not ansible_check_mode\n";
    converge(&hosts, "dump.yml", dump, &["--check"], 0);
    assert!(hosts.ssh(0, "test -e /tmp/appdb.pgc").status.code() != Some(0));
    converge(&hosts, "dump.yml", dump, &[], 3);
    let restore = "    - postgresql_db: {name: copy1}\n    - postgresql_db: {name: copy1, state: restore, target: /tmp/appdb.pgc}\n    - postgresql_db: {name: copy2}\n    - postgresql_db: {name: copy2, state: restore, target: /tmp/appdb.sql.gz}\n    - postgresql_db: {name: copy3}\n    - postgresql_db: {name: copy3, state: restore, target: /tmp/appdb.sql}\n";
    converge(&hosts, "restore.yml", restore, &[], 6);
    for copy in ["copy1", "copy2", "copy3"] {
        assert_eq!(
            psql(
                &hosts,
                copy,
                "SELECT string_agg(name, ',' ORDER BY id) FROM items"
            ),
            "it's,two,three",
            "{copy}"
        );
    }
    let missing = play(&hosts, "missing.yml", "    - name: restore a missing file\n      postgresql_db: {name: copy1, state: restore, target: /tmp/nope.pgc}\n", &[]);
    assert_eq!(missing.code, Some(2), "{}", missing.stdout);
    assert!(
        missing.stdout.contains("restore a missing file") && missing.stdout.contains("nope.pgc"),
        "{}",
        missing.stdout
    );

    // rename and absent.
    let rename = "    - postgresql_db: {name: copy3, state: rename, target: copy4}\n";
    converge(&hosts, "rename.yml", rename, &["--check"], 1);
    converge(&hosts, "rename.yml", rename, &[], 1);
    converge(&hosts, "rename.yml", rename, &[], 0);
    let absent = "    - postgresql_db: {name: copy4, state: absent}\n    - postgresql_db: {name: copy2, state: absent, force: true}\n";
    converge(&hosts, "absent.yml", absent, &["--check"], 2);
    assert_eq!(
        psql(
            &hosts,
            "postgres",
            "SELECT count(*) FROM pg_database WHERE datname IN ('copy2', 'copy4')"
        ),
        "2"
    );
    converge(&hosts, "absent.yml", absent, &[], 2);
    converge(&hosts, "absent.yml", absent, &[], 0);

    // Password login over TCP, without become; a wrong password fails clearly and is not shown.
    let tcp = |pw: &str| {
        format!(
            "- hosts: t\n  tasks:\n    - name: tcp query\n      postgresql_query:\n        login_host: 127.0.0.1\n        login_user: app\n        login_password: \"{pw}\"\n        db: appdb\n        query: SELECT current_user AS u\n      register: q\n    - assert: {{that: [\"q.query_result[0].u == 'app'\"]}}\n    - name: tcp ping\n      postgresql_ping: {{login_host: 127.0.0.1, login_user: app, login_password: \"{pw}\", db: appdb}}\n      register: p\n    - debug: {{var: p}}\n"
        )
    };
    let good = hosts.play("t", "tcp.yml", &tcp(PASSWORD), &["-v"]);
    assert_eq!(good.code, Some(0), "{}\n{}", good.stdout, good.stderr);
    assert!(
        !good.stdout.contains(PASSWORD) && !good.stderr.contains(PASSWORD),
        "{}",
        good.stdout
    );
    let wrong_pw = "Wr0ng-Pass-Word";
    let bad = hosts.play("t", "tcp_bad.yml", &tcp(wrong_pw), &["-v"]);
    assert_eq!(bad.code, Some(2), "{}", bad.stdout);
    assert!(
        bad.stdout.contains("tcp query") && bad.stdout.contains("password authentication failed"),
        "{}",
        bad.stdout
    );
    assert!(
        !bad.stdout.contains(wrong_pw) && !bad.stderr.contains(wrong_pw),
        "{}",
        bad.stdout
    );
    // The password is in no process's arguments while psql runs (checked from the server's side:
    // a long query holds psql open while ps looks at every command line).
    let hold = format!(
        "- hosts: t\n  tasks:\n    - postgresql_query: {{login_host: 127.0.0.1, login_user: app, login_password: \"{PASSWORD}\", db: appdb, query: SELECT pg_sleep(3)}}\n"
    );
    let path = hosts.dir().join("hold.yml");
    std::fs::write(&path, hold).unwrap();
    let inventory = hosts.dir().join("hosts.ini");
    let mut child = drover_integration::drover_command()
        .args([
            "play",
            path.to_str().unwrap(),
            "-i",
            inventory.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let seen = hosts.ssh_ok(
        0,
        "for i in $(seq 40); do pgrep -x psql >/dev/null && break; sleep 0.1; done; ps -eo args",
    );
    assert!(child.wait().unwrap().success());
    assert!(seen.contains("psql"), "psql was not seen running:\n{seen}");
    assert!(!seen.contains(PASSWORD), "{seen}");

    // Bad input: an unknown key (static check, names file and line), a bad state, a bad setting.
    let typo = play(
        &hosts,
        "typo.yml",
        "    - postgresql_db: {name: x, ownr: app}\n",
        &[],
    );
    assert_eq!(typo.code, Some(1), "{}", typo.stdout);
    assert!(
        typo.stderr.contains("typo.yml:5") && typo.stderr.contains("ownr"),
        "{}",
        typo.stderr
    );
    let state = play(
        &hosts,
        "state.yml",
        "    - name: bad state\n      postgresql_db: {name: x, state: gone}\n",
        &[],
    );
    assert_ne!(state.code, Some(0), "{}", state.stdout);
    let text = format!("{}{}", state.stdout, state.stderr);
    assert!(text.contains("state") && text.contains("gone"), "{text}");
    let setting = play(
        &hosts,
        "setting.yml",
        "    - name: unknown setting\n      postgresql_set: {name: no_such_thing, value: 1}\n",
        &[],
    );
    assert_eq!(setting.code, Some(2), "{}", setting.stdout);
    assert!(
        setting.stdout.contains("unknown setting")
            && setting.stdout.contains("No such parameter: no_such_thing"),
        "{}",
        setting.stdout
    );
    let sql = play(&hosts, "sql.yml", "    - name: bad sql\n      postgresql_query: {db: appdb, query: SELECT * FROM no_such_table}\n", &[]);
    assert_eq!(sql.code, Some(2), "{}", sql.stdout);
    assert!(
        sql.stdout.contains("bad sql")
            && sql.stdout.contains("no_such_table")
            && sql.stdout.contains("does not exist"),
        "{}",
        sql.stdout
    );
    eprintln!("postgresql cases ran in {:?}", started.elapsed());
}

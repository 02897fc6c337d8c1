//! `postgresql_user`, `postgresql_privs` and `postgresql_pg_hba` against a real PostgreSQL 15 on
//! one Debian host (installed by the test): check mode first (nothing changes, verified with
//! psql), converge, re-run `changed=0`, password logins over TCP with the password set, a new
//! password re-reported as a change, the password in no output (not with `-v --diff` either) and
//! not in the server's statement log, clear errors naming the task.

use drover_integration::TestHosts;

const PASSWORD: &str = "Pw-of-app-7e1d";
const NEW_PASSWORD: &str = "Other-pw-9c2b";

/// One SQL answer from the server, as the postgres superuser (peer login over the socket).
fn sql(hosts: &TestHosts, query: &str) -> String {
    let q = query.replace('\'', "'\\''");
    hosts
        .ssh_ok(
            0,
            &format!("cd / && sudo -u postgres psql -X -A -t -d postgres -c '{q}'"),
        )
        .trim()
        .to_string()
}

/// Whether `user` logs in over TCP with `password`.
fn login(hosts: &TestHosts, user: &str, password: &str) -> bool {
    let out = hosts.ssh(
        0,
        &format!("PGPASSWORD='{password}' psql -X -h 127.0.0.1 -U {user} -d postgres -A -t -c 'SELECT 1'"),
    );
    out.status.success()
}

fn users(password: &str) -> String {
    format!(
        r#"- hosts: t
  become: true
  become_user: postgres
  vars:
    app_password: "{password}"
  tasks:
    - name: app user
      community.postgresql.postgresql_user:
        name: app
        password: "{{{{ app_password }}}}"
        role_attr_flags: CREATEDB,NOSUPERUSER
        conn_limit: 5
        expires: infinity
        comment: the application
        configuration:
          work_mem: 16MB
    - name: reader role
      postgresql_user: {{name: reader, role_attr_flags: NOLOGIN}}
"#
    )
}

/// [`users`] and the privileges on what the test created.
fn converge(password: &str) -> String {
    users(password)
        + r#"    - name: connect and create on the database
      postgresql_privs: {db: postgres, type: database, privs: "CONNECT,CREATE", roles: app}
    - name: table with grant option
      community.postgresql.postgresql_privs: {db: postgres, objs: books, privs: "SELECT,INSERT", roles: app, grant_option: true}
    - name: every table in the schema
      postgresql_privs: {db: postgres, objs: ALL_IN_SCHEMA, privs: SELECT, roles: reader}
    - name: sequence
      postgresql_privs: {db: postgres, type: sequence, objs: books_id_seq, privs: USAGE, roles: app}
    - name: function
      postgresql_privs: {db: postgres, type: function, objs: "add(int:int)", privs: EXECUTE, roles: app}
    - name: default privileges
      postgresql_privs: {db: postgres, type: default_privs, objs: TABLES, privs: SELECT, roles: reader}
    - name: membership
      postgresql_privs: {db: postgres, type: group, objs: reader, roles: app}
    - name: schema usage for everyone is already there
      postgresql_privs: {db: postgres, type: schema, objs: public, privs: USAGE, roles: PUBLIC}
"#
}

/// Tasks of [`converge`] that change something on a fresh server.
const CONVERGE_CHANGES: u32 = 9;

#[test]
fn postgresql_roles_privileges_and_logins() {
    let hosts = TestHosts::start(1);
    let started = std::time::Instant::now();
    hosts.ssh_ok(
        0,
        "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
         -o Dpkg::Options::=--force-unsafe-io postgresql >/dev/null \
         && systemctl start postgresql@15-main \
         && for i in $(seq 100); do pg_isready -q && break; sleep 0.2; done && pg_isready",
    );
    eprintln!("postgresql installed in {:?}", started.elapsed());
    // Every statement the server runs goes to its log: the password must never be among them.
    sql(&hosts, "ALTER SYSTEM SET log_statement = 'all'");
    sql(&hosts, "SELECT pg_reload_conf()");
    sql(
        &hosts,
        "CREATE TABLE books (id serial PRIMARY KEY, title text); CREATE TABLE authors (name text); \
         CREATE FUNCTION add(int, int) RETURNS int LANGUAGE sql AS 'SELECT $1 + $2'",
    );

    let test_started = std::time::Instant::now();
    // Check mode on a fresh server: both roles would be created, nothing is (the privileges
    // need the roles: in check mode they would fail, as with the collection).
    let check = hosts.play(
        "t",
        "users.yml",
        &users(PASSWORD),
        &["--check", "-v", "--diff"],
    );
    check.assert_success();
    assert_eq!(check.changed(), 2, "{}", check.stdout);
    assert_eq!(
        sql(
            &hosts,
            "SELECT count(*) FROM pg_roles WHERE rolname IN ('app', 'reader')"
        ),
        "0"
    );

    let up = hosts.play("t", "site.yml", &converge(PASSWORD), &["-v", "--diff"]);
    up.assert_success();
    assert_eq!(up.changed(), CONVERGE_CHANGES, "{}", up.stdout);
    assert!(
        up.stdout.contains("ENCRYPTED PASSWORD '********'"),
        "{}",
        up.stdout
    );
    for out in [&check, &up] {
        assert!(
            !out.stdout.contains(PASSWORD) && !out.stderr.contains(PASSWORD),
            "{}",
            out.stdout
        );
    }
    assert_eq!(
        sql(&hosts, "SELECT rolcreatedb, rolsuper, rolcanlogin, rolconnlimit, rolconfig FROM pg_roles WHERE rolname = 'app'"),
        "t|f|t|5|{work_mem=16MB}"
    );
    assert!(sql(
        &hosts,
        "SELECT rolpassword FROM pg_authid WHERE rolname = 'app'"
    )
    .starts_with("SCRAM-SHA-256$4096:"));
    assert_eq!(
        sql(
            &hosts,
            "SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = 'app'"
        ),
        "the application"
    );
    assert_eq!(
        sql(
            &hosts,
            "SELECT has_database_privilege('app', 'postgres', 'CREATE'), \
             has_table_privilege('app', 'books', 'INSERT WITH GRANT OPTION'), \
             has_table_privilege('reader', 'authors', 'SELECT'), \
             has_sequence_privilege('app', 'books_id_seq', 'USAGE'), \
             pg_has_role('app', 'reader', 'MEMBER'), \
             (SELECT count(*) FROM pg_default_acl)"
        ),
        "t|t|t|t|t|1"
    );
    assert!(login(&hosts, "app", PASSWORD));
    assert!(!login(&hosts, "app", "wrong"));

    let again = hosts.play("t", "site.yml", &converge(PASSWORD), &["--diff"]);
    again.assert_success();
    assert_eq!(again.changed(), 0, "{}", again.stdout);

    // A new password: only the user task changes, in check mode nothing does.
    let check_new = hosts.play("t", "site.yml", &converge(NEW_PASSWORD), &["--check", "-v"]);
    assert_eq!(check_new.changed(), 1, "{}", check_new.stdout);
    assert!(login(&hosts, "app", PASSWORD));
    let new = hosts.play(
        "t",
        "site.yml",
        &converge(NEW_PASSWORD),
        &["-vvv", "--diff"],
    );
    new.assert_success();
    assert_eq!(new.changed(), 1, "{}", new.stdout);
    assert!(login(&hosts, "app", NEW_PASSWORD) && !login(&hosts, "app", PASSWORD));
    for out in [&check_new, &new] {
        assert!(
            !out.stdout.contains(NEW_PASSWORD) && !out.stderr.contains(NEW_PASSWORD),
            "{}",
            out.stdout
        );
    }
    // A pre-hashed verifier is taken as it is.
    let md5 = hosts.play(
        "t",
        "md5.yml",
        "- hosts: t\n  become: true\n  become_user: postgres\n  tasks:\n    - postgresql_user: {name: hashed, password: md5e6c7cbeb6c6bfc5b2e9cdbc2b2a5e29a}\n",
        &[],
    );
    md5.assert_success();
    assert_eq!(
        sql(
            &hosts,
            "SELECT rolpassword FROM pg_authid WHERE rolname = 'hashed'"
        ),
        "md5e6c7cbeb6c6bfc5b2e9cdbc2b2a5e29a"
    );
    let log = hosts.ssh_ok(0, "cat /var/log/postgresql/postgresql-15-main.log");
    assert!(
        log.contains("ALTER USER \"app\""),
        "statement logging is on"
    );
    assert!(
        !log.contains(PASSWORD) && !log.contains(NEW_PASSWORD),
        "a password reached the server's log"
    );

    // Revoking, removing.
    let down = "- hosts: t\n  become: true\n  become_user: postgres\n  tasks:\n    - postgresql_privs: {db: postgres, objs: books, privs: INSERT, roles: app, state: absent}\n    - postgresql_privs: {db: postgres, type: group, objs: reader, roles: app, state: absent}\n    - postgresql_user: {name: hashed, state: absent}\n";
    let check_down = hosts.play("t", "down.yml", down, &["--check"]);
    assert_eq!(check_down.changed(), 3, "{}", check_down.stdout);
    assert_eq!(
        sql(
            &hosts,
            "SELECT count(*) FROM pg_roles WHERE rolname = 'hashed'"
        ),
        "1"
    );
    let gone = hosts.play("t", "down.yml", down, &[]);
    gone.assert_success();
    assert_eq!(gone.changed(), 3, "{}", gone.stdout);
    assert_eq!(
        sql(&hosts, "SELECT has_table_privilege('app', 'books', 'INSERT'), pg_has_role('app', 'reader', 'MEMBER'), (SELECT count(*) FROM pg_roles WHERE rolname = 'hashed')"),
        "f|f|0"
    );
    assert_eq!(hosts.play("t", "down.yml", down, &[]).changed(), 0);

    // pg_hba.conf: check mode leaves the file alone, then a rule is added (with a backup), kept
    // on a re-run, accepted by the server, and removed.
    let hba = "/etc/postgresql/15/main/pg_hba.conf";
    let sum = |h: &TestHosts| h.ssh_ok(0, &format!("sha1sum {hba}"));
    let original = sum(&hosts);
    let rule = format!(
        "- hosts: t\n  become: true\n  tasks:\n    - name: app from the lan\n      community.postgresql.postgresql_pg_hba: {{dest: {hba}, contype: host, databases: postgres, users: app, source: 10.20.0.0/16, method: scram-sha-256, backup: true}}\n      register: r\n    - debug: {{var: r.pg_hba}}\n"
    );
    let check_hba = hosts.play("t", "hba.yml", &rule, &["--check", "--diff"]);
    check_hba.assert_success();
    assert_eq!(check_hba.changed(), 1, "{}", check_hba.stdout);
    assert!(
        check_hba
            .stdout
            .contains("+host\tpostgres\tapp\t10.20.0.0/16\tscram-sha-256"),
        "{}",
        check_hba.stdout
    );
    assert_eq!(sum(&hosts), original);
    let add = hosts.play("t", "hba.yml", &rule, &[]);
    add.assert_success();
    assert_eq!(add.changed(), 1, "{}", add.stdout);
    assert!(hosts
        .ssh_ok(0, &format!("cat {hba}"))
        .contains("host\tpostgres\tapp\t10.20.0.0/16\tscram-sha-256"));
    assert_eq!(hosts.ssh_ok(0, &format!("ls {hba}.*~ | wc -l")).trim(), "1");
    assert_eq!(hosts.play("t", "hba.yml", &rule, &[]).changed(), 0);
    sql(&hosts, "SELECT pg_reload_conf()");
    assert_eq!(
        sql(&hosts, "SELECT count(*) FILTER (WHERE error IS NOT NULL), count(*) FILTER (WHERE '10.20.0.0' = address) FROM pg_hba_file_rules"),
        "0|1"
    );
    assert!(
        login(&hosts, "app", NEW_PASSWORD),
        "the rewritten file still lets app in locally"
    );
    let remove = rule.replace("backup: true", "state: absent");
    assert_eq!(hosts.play("t", "hba.yml", &remove, &[]).changed(), 1);
    assert!(!hosts.ssh_ok(0, &format!("cat {hba}")).contains("10.20.0.0"));

    // Bad input: a clear failure naming the task, and the password still nowhere.
    let bad = format!(
        "- hosts: t\n  become: true\n  become_user: postgres\n  tasks:\n    - name: bad flags\n      postgresql_user: {{name: app, password: \"{PASSWORD}\", role_attr_flags: \"CREATEDB,FLY\"}}\n"
    );
    let bad = hosts.play("t", "bad.yml", &bad, &["-v"]);
    assert_eq!(bad.code, Some(2), "{}", bad.stdout);
    assert!(
        bad.stdout.contains("bad flags")
            && bad
                .stdout
                .contains("Invalid role_attr_flags specified: FLY"),
        "{}",
        bad.stdout
    );
    assert!(!bad.stdout.contains(PASSWORD) && !bad.stderr.contains(PASSWORD));
    let bad_privs = hosts.play(
        "t",
        "badprivs.yml",
        "- hosts: t\n  become: true\n  become_user: postgres\n  tasks:\n    - name: missing table\n      postgresql_privs: {db: postgres, objs: nope, privs: SELECT, roles: app}\n",
        &[],
    );
    assert_eq!(bad_privs.code, Some(2), "{}", bad_privs.stdout);
    assert!(
        bad_privs.stdout.contains("missing table")
            && bad_privs
                .stdout
                .contains("relation \\\"nope\\\" does not exist"),
        "{}",
        bad_privs.stdout
    );
    let typo = hosts.play(
        "t",
        "typo.yml",
        "- hosts: t\n  tasks:\n    - name: typo\n      postgresql_user: {name: x, pasword: y}\n",
        &[],
    );
    assert_ne!(typo.code, Some(0));
    assert!(
        format!("{}{}", typo.stdout, typo.stderr).contains("pasword"),
        "{}",
        typo.stderr
    );
    eprintln!("postgresql cases took {:?}", test_started.elapsed());
}

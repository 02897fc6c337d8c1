use super::*;

const DEBIAN: &str = "# PostgreSQL Client Authentication Configuration File\n\
\n\
# Database administrative login by Unix domain socket\n\
local   all             postgres                                peer\n\
\n\
# TYPE  DATABASE        USER            ADDRESS                 METHOD\n\
local   all             all                                     peer\n\
host    all             all             127.0.0.1/32            scram-sha-256\n\
host    all             all             ::1/128                 scram-sha-256\n\
local   replication     all                                     peer\n\
host    replication     all             127.0.0.1   255.255.255.255    scram-sha-256\n";

fn rule(contype: &str, db: &str, usr: &str, addr: &str, method: &str) -> Entry {
    Entry::rule(
        Rule::from_args(contype, db, usr, addr, None, method, None).unwrap(),
        None,
    )
}

#[test]
fn unchanged_files_render_as_they_were() {
    let e = parse_file(DEBIAN).unwrap();
    assert_eq!(e.iter().filter(|e| e.rule.is_some()).count(), 6);
    assert_eq!(render(&e), DEBIAN);
    assert_eq!(
        e[10].rule.as_ref().unwrap().src,
        Source::Net("127.0.0.1".parse().unwrap(), 32)
    );
}

#[test]
fn a_new_rule_is_added_and_the_file_sorted() {
    let mut e = parse_file(DEBIAN).unwrap();
    let new = rule("host", "app", "app", "10.20.0.0/16", "scram-sha-256");
    assert_eq!(apply(&mut e, new.clone(), true), Edit::Added);
    assert_eq!(apply(&mut e, new.clone(), true), Edit::Unchanged);
    sort_entries(&mut e);
    let text = render(&e);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "# PostgreSQL Client Authentication Configuration File"
    );
    assert_eq!(
        lines[3],
        "local   replication     all                                     peer"
    );
    assert_eq!(
        lines[4],
        "local   all             postgres                                peer"
    );
    assert_eq!(
        lines[6],
        "host    replication     all             127.0.0.1   255.255.255.255    scram-sha-256"
    );
    assert_eq!(lines[9], "host\tapp\tapp\t10.20.0.0/16\tscram-sha-256");
    assert!(!text.ends_with('\n'));
    // Read back, the rule is found again: nothing to do.
    let mut again = parse_file(&text).unwrap();
    assert_eq!(apply(&mut again, new.clone(), true), Edit::Unchanged);
    let md5 = rule("host", "app", "app", "10.20.0.0/16", "md5");
    assert_eq!(apply(&mut again, md5.clone(), true), Edit::Updated);
    assert_eq!(apply(&mut again, md5, false), Edit::Removed);
}

#[test]
fn addresses_netmasks_options_and_comments() {
    let r = Rule::from_args(
        "host",
        "all",
        "all",
        "10.1.0.0",
        Some("255.255.0.0"),
        "md5",
        Some("a=1 b=2"),
    )
    .unwrap();
    assert_eq!(r.src, Source::Net("10.1.0.0".parse().unwrap(), 16));
    let entry = Entry::rule(r, Some("office"));
    assert_eq!(
        entry.serialize(),
        "host\tall\tall\t10.1.0.0/16\tmd5\ta=1 b=2\t#office"
    );
    assert!(
        Rule::from_args("host", "all", "all", "10.1.2.3/16", None, "md5", None)
            .unwrap_err()
            .contains("host bits")
    );
    assert!(
        Rule::from_args("host", "all", "all", "10.1.2.3", None, "md5", None)
            .unwrap_err()
            .contains("netmask")
    );
    assert!(Rule::from_args("host", "all", "all", "db.example", None, "fly", None).is_err());
    assert_eq!(
        Rule::from_args("local", "all", "all", "samehost", None, "peer", None)
            .unwrap()
            .src,
        Source::Local
    );
    let parsed =
        parse_file("host all all 10.0.0.0/8 ldap \"ldapprefix=cn=\" ldapserver=x # office\n")
            .unwrap();
    assert_eq!(parsed[0].comment.as_deref(), Some("# office"));
    assert_eq!(parsed[0].rule.as_ref().unwrap().options.len(), 2);
    assert!(parse_file("host all all 10.0.0.1/8 md5\n")
        .unwrap_err()
        .contains("host bits set"));
    assert!(parse_file("host all all 10.0.0.0/8 fly\n")
        .unwrap_err()
        .contains("unknown method"));
    assert!(parse_file("host all all\n")
        .unwrap_err()
        .contains("too few"));
    assert!(tokenize("a \"b c").is_err());
    let mut e = parse_file("# a\nlocal all all peer\n").unwrap();
    assert_eq!(apply(&mut e, Entry::comment_line("b"), true), Edit::Added);
    sort_entries(&mut e);
    assert_eq!(render(&e), "# a\n#b\nlocal all all peer");
}

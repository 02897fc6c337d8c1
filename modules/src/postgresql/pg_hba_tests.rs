use super::*;

const DEBIAN: &str = "# PostgreSQL Client Authentication Configuration File\n\
# ===================================================\n\
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

#[test]
fn a_debian_file_parses_and_renders_sorted() {
    let f = HbaFile::parse(DEBIAN, false).unwrap();
    assert_eq!(f.comments.len(), 4);
    assert_eq!(f.rules.len(), 6);
    assert_eq!(f.rules[5].src.as_deref(), Some("127.0.0.1/32"));
    let text = f.render("sdu");
    let rules: Vec<&str> = text.lines().skip(4).collect();
    assert_eq!(
        rules,
        vec![
            "local\treplication\tall\tpeer",
            "local\tall\tpostgres\tpeer",
            "local\tall\tall\tpeer",
            "host\treplication\tall\t127.0.0.1/32\tscram-sha-256",
            "host\tall\tall\t127.0.0.1/32\tscram-sha-256",
            "host\tall\tall\t::1/128\tscram-sha-256",
        ]
    );
    // The rendered file reads back to the same rules.
    assert_eq!(HbaFile::parse(&text, false).unwrap().rules.len(), 6);
}

#[test]
fn rules_are_added_replaced_and_removed_by_key() {
    let mut f = HbaFile::parse(DEBIAN, false).unwrap();
    let r = Rule::new(
        "host",
        "app",
        "app",
        Some("10.1.2.3"),
        Some("255.255.0.0"),
        "scram-sha-256",
        None,
        None,
    )
    .unwrap();
    assert_eq!(r.src.as_deref(), Some("10.1.0.0/16"));
    assert!(f.add(r.clone()));
    assert!(!f.add(r.clone()));
    let md5 = Rule {
        method: "md5".into(),
        ..r.clone()
    };
    assert!(f.add(md5));
    assert_eq!(f.rules.len(), 7);
    assert!(f.remove(&r));
    assert!(!f.remove(&r));
    let v6 = Rule::new(
        "host",
        "all",
        "all",
        Some("2001:db8::1/64"),
        None,
        "md5",
        None,
        None,
    )
    .unwrap();
    assert_eq!(v6.src.as_deref(), Some("2001:db8::/64"));
    assert!(Rule::new("host", "all", "all", None, None, "md5", None, None).is_err());
    assert!(Rule::new("host", "all", "all", Some("x"), None, "nope", None, None).is_err());
}

#[test]
fn comments_and_options() {
    let text =
        "host all all 10.0.0.0/8 ldap ldapserver=ldap.example.net \"ldapprefix=cn=\" # office\n";
    let kept = HbaFile::parse(text, true).unwrap();
    assert_eq!(kept.rules[0].comment.as_deref(), Some(" office"));
    assert_eq!(
        kept.rules[0].options.as_deref(),
        Some("ldapserver=ldap.example.net \"ldapprefix=cn=\"")
    );
    assert_eq!(
        kept.render("sdu"),
        "\nhost\tall\tall\t10.0.0.0/8\tldap\tldapserver=ldap.example.net \"ldapprefix=cn=\"\t# office\n"
    );
    let moved = HbaFile::parse(text, false).unwrap();
    assert_eq!(moved.comments, vec!["# office"]);
    assert!(HbaFile::parse("host all all 10.0.0.1/8 md5\n", false)
        .unwrap_err()
        .contains("host bits set"));
    assert!(HbaFile::parse("host all all 10.0.0.0/8 fly\n", false)
        .unwrap_err()
        .contains("unknown method"));
    assert!(HbaFile::parse("host all all\n", false)
        .unwrap_err()
        .contains("too few"));
    assert!(tokenize("a \"b c").is_err());
}

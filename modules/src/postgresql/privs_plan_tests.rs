use super::*;
use serde_json::json;

fn rows(v: Value) -> Vec<Map<String, Value>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_object().unwrap().clone())
        .collect()
}

#[test]
fn privileges_parse_and_expand() {
    assert_eq!(
        parse_privs("select, temp,ALTER_SYSTEM,select").unwrap(),
        vec!["SELECT", "TEMP", "ALTER SYSTEM"]
    );
    assert_eq!(
        parse_privs("SELECT,FLY").unwrap_err(),
        "Invalid privileges specified: FLY"
    );
    let all = expand(&["ALL".into()], &ObjType::Database.all_privileges(150000));
    assert_eq!(
        all.into_iter().collect::<Vec<_>>(),
        vec!["CONNECT", "CREATE", "TEMPORARY"]
    );
    assert_eq!(
        object_sql(ObjType::Function, "math", "add(int:int)").unwrap(),
        "\"math\".\"add\"(int,int)"
    );
    assert!(split_function("add").is_err());
}

#[test]
fn changes_come_from_the_acl() {
    let acls = Acls::from_rows(&rows(json!([
        {"obj": "t", "found": true, "grantee": "reader", "privilege_type": "SELECT", "is_grantable": false},
        {"obj": "t", "found": true, "grantee": "postgres", "privilege_type": "INSERT", "is_grantable": false},
        {"obj": "gone", "found": false, "grantee": null, "privilege_type": null, "is_grantable": null}
    ])));
    assert_eq!(acls.missing(), vec!["gone"]);
    let select = |_: &str| BTreeSet::from(["SELECT".to_string()]);
    let insert = |_: &str| BTreeSet::from(["SELECT".to_string(), "INSERT".to_string()]);
    let roles = vec!["reader".to_string()];
    let mut want = Wanted {
        privs: &select,
        present: true,
        grant_option: None,
        exact: false,
    };
    assert!(!needs_change(&acls, &roles, &want));
    want.grant_option = Some(true);
    assert!(needs_change(&acls, &roles, &want));
    want.grant_option = Some(false);
    assert!(!needs_change(&acls, &roles, &want));
    want.privs = &insert;
    assert!(needs_change(&acls, &roles, &want));
    want.present = false;
    assert!(needs_change(&acls, &roles, &want));
    want.privs = &|_: &str| BTreeSet::from(["DELETE".to_string()]);
    assert!(!needs_change(&acls, &roles, &want));
    let exact = Wanted {
        privs: &select,
        present: true,
        grant_option: None,
        exact: true,
    };
    assert!(!needs_change(&acls, &roles, &exact));
    assert!(needs_change(&acls, &["postgres".to_string()], &exact));
}

#[test]
fn statements_have_the_collections_shape() {
    assert_eq!(
        grant_statements(
            ObjType::Table,
            "SELECT ON table \"public\".\"t\"",
            "\"r\"",
            true,
            Some(false)
        ),
        vec![
            "GRANT SELECT ON table \"public\".\"t\" TO \"r\";",
            "REVOKE GRANT OPTION FOR SELECT ON table \"public\".\"t\" FROM \"r\";"
        ]
    );
    assert_eq!(
        grant_statements(ObjType::Group, "\"g\"", "\"m\"", true, Some(true)),
        vec!["GRANT \"g\" TO \"m\" WITH ADMIN OPTION;"]
    );
    assert_eq!(
        roles_sql(&["PUBLIC".into(), "a b".into()]),
        "PUBLIC,\"a b\""
    );
    assert_eq!(
        default_privs_statements("s", &["owner".into()], &["TABLES".into()], "SELECT", "\"r\"", true, None),
        vec![
            "ALTER DEFAULT PRIVILEGES FOR ROLE \"owner\" IN SCHEMA \"s\" REVOKE ALL ON TABLES FROM \"r\";",
            "ALTER DEFAULT PRIVILEGES FOR ROLE \"owner\" IN SCHEMA \"s\" GRANT SELECT ON TABLES TO \"r\";"
        ]
    );
    let q = acl_query(ObjType::Table, "public", Some(&["t".into()]), &[]).unwrap();
    assert!(q.contains("to_regclass('\"public\".\"t\"')"), "{q}");
    let q = acl_query(ObjType::Table, "public", None, &[]).unwrap();
    assert!(q.contains("relkind IN ('r','v','m','p','f')"), "{q}");
    assert!(acl_query(ObjType::DefaultPrivs, "public", Some(&["NOPE".into()]), &[]).is_err());
}

//! Inventory loading from real files: a directory inventory with group_vars/host_vars, playbook
//! vars directories, host lists, several sources, and the example inventories the project ships.
//! Expected values were checked against `ansible-inventory --list` of ansible-core 2.19.

use std::path::{Path, PathBuf};

use drover_core::inventory::{Inventory, InventoryError, Limit};
use drover_core::vars::Vars;
use serde_json::{json, Value};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/inventory")
        .join(rel)
}

fn shipped(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../inventories")
        .join(rel)
        .display()
        .to_string()
}

fn load(sources: &[String]) -> Inventory {
    Inventory::load(sources).unwrap_or_else(|e| panic!("{e}"))
}

/// Host vars without the `inventory_file`/`inventory_dir` bookkeeping.
fn vars_of(inv: &Inventory, host: &str) -> Value {
    let mut v: Vars = inv.host_vars(host);
    v.remove("inventory_file");
    v.remove("inventory_dir");
    Value::Object(v)
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn directory_inventory_reads_every_file_in_order() {
    let inv = load(&[fixture("dir").display().to_string()]);
    // extra.ini < hosts.yml < sub/more; README.md, x.bak, x.ini~, x.retry, .hidden skipped.
    assert_eq!(
        inv.select("all").unwrap(),
        strs(&["top1", "ih2", "web01", "web02", "web03", "db-a", "db-b", "db-c", "ih1", "sh1"])
    );
    let groups = inv.groups_map();
    assert_eq!(
        groups["web"],
        strs(&["ih2", "web01", "web02", "web03", "db-a", "db-b", "db-c"])
    );
    assert_eq!(groups["ungrouped"], strs(&["top1"]));
    assert_eq!(groups["subg"], strs(&["sh1"]));
    assert_eq!(
        inv.group("all").unwrap().children,
        strs(&["ungrouped", "web", "zz", "ini_group", "subg"])
    );
    assert_eq!(inv.group_names("web01"), strs(&["nginx", "web"]));
    assert_eq!(inv.group_names("web02"), strs(&["web", "zz"]));
    assert!(inv.warnings().is_empty(), "{:?}", inv.warnings());
}

#[test]
fn directory_inventory_vars_follow_ansible_precedence() {
    let inv = load(&[fixture("dir").display().to_string()]);
    assert_eq!(
        vars_of(&inv, "web01"),
        json!({"a_from": "dir_all", "b_from": "dir_all_b", "hv": 1, "json": true, "lvl": "gv_web",
               "nested_var": "from_nested", "prio": "web", "v_all": "inv", "x": 1})
    );
    assert_eq!(
        vars_of(&inv, "top1"),
        json!({"a_from": "dir_all", "b_from": "dir_all_b", "lvl": "all",
               "nested_var": "from_nested", "v_all": "inv"})
    );
    assert_eq!(
        vars_of(&inv, "db-b"),
        json!({"a_from": "dir_all", "ansible_port": 2200, "b_from": "dir_all_b", "json": true,
               "lvl": "gv_web", "nested_var": "from_nested", "prio": "web", "v_all": "inv"})
    );
    // web02 is in web (priority 10) and zz (priority 1): web's vars win at equal depth, in the
    // inventory layer and in the group_vars layer alike; group_vars/zz (no extension) shadows zz.yaml.
    assert_eq!(inv.host_vars("web02")["prio"], json!("web"));
    assert_eq!(inv.group_vars("zz")["lvl"], json!("gv_zz"));
    // The implicit localhost gets host_vars/localhost.yml and group_vars/all.
    let local = inv.host_vars("localhost");
    assert_eq!(local["hv"], json!("local"));
    assert_eq!(local["a_from"], json!("dir_all"));
    assert_eq!(local["ansible_connection"], json!("local"));
    let dir = fixture("dir");
    let web01 = inv.host_vars("web01");
    assert_eq!(
        web01["inventory_file"],
        json!(dir.join("hosts.yml").display().to_string())
    );
    assert_eq!(web01["inventory_dir"], json!(dir.display().to_string()));
    assert_eq!(
        inv.host_vars("sh1")["inventory_dir"],
        json!(dir.join("sub").display().to_string())
    );
}

#[test]
fn playbook_vars_dirs_rank_above_inventory_ones() {
    let mut inv = load(&[fixture("dir").display().to_string()]);
    inv.load_vars_dirs(&fixture("playbook")).unwrap();
    // Checked with ansible-playbook: playbook group_vars/all beats inventory group_vars/all but
    // not inventory group_vars/web; playbook group_vars/nginx beats inventory group_vars/web.
    let lvl = |h: &str| inv.host_vars(h)["lvl"].clone();
    assert_eq!(lvl("top1"), json!("playbook_all"));
    assert_eq!(lvl("ih2"), json!("gv_web"));
    assert_eq!(lvl("web01"), json!("playbook_nginx"));
    assert_eq!(inv.host_vars("web01")["hv"], json!("playbook"));
    assert_eq!(inv.host_vars("ih1")["a_from"], json!("playbook_all"));
    assert_eq!(inv.group_vars("all")["a_from"], json!("playbook_all"));
}

#[test]
fn host_lists_and_several_sources() {
    let inv = load(&strs(&["a,b:2222 , c,", "single,"]));
    assert_eq!(inv.select("all").unwrap(), strs(&["a", "b", "c", "single"]));
    assert_eq!(inv.host_vars("b")["ansible_port"], json!(2222));
    assert_eq!(inv.host_vars("a")["inventory_file"], json!("a,b:2222 , c,"));
    assert_eq!(inv.group_names("single"), strs(&["ungrouped"]));

    let both = load(&[shipped("rhaptos-lxc.ini"), "extra1,devweb,".into()]);
    assert_eq!(
        both.group_names("devweb"),
        strs(&["dev", "lxc", "web"]),
        "devweb stays grouped"
    );
    assert_eq!(both.group_names("extra1"), strs(&["ungrouped"]));
}

#[test]
fn missing_sources_are_named() {
    let err = Inventory::load(&strs(&["/nonexistent/inventory.ini"])).unwrap_err();
    match &err {
        InventoryError::Read { path, .. } => assert_eq!(path, "/nonexistent/inventory.ini"),
        other => panic!("unexpected {other}"),
    }
    assert!(
        err.to_string().contains("/nonexistent/inventory.ini"),
        "{err}"
    );
}

#[test]
fn bad_vars_files_are_reported_with_their_path() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hosts"), "[web]\nw1\n").unwrap();
    std::fs::create_dir(dir.path().join("group_vars")).unwrap();
    std::fs::write(dir.path().join("group_vars/web.yml"), "- a\n- b\n").unwrap();
    let err = Inventory::load(&[dir.path().display().to_string()]).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("group_vars/web.yml") && text.contains("must be a mapping"),
        "{text}"
    );

    std::fs::write(dir.path().join("group_vars/web.yml"), "a: [1\n").unwrap();
    let err = Inventory::load(&[dir.path().display().to_string()]).unwrap_err();
    assert!(
        matches!(err, InventoryError::Parse { line, .. } if line > 0),
        "{err}"
    );
}

#[test]
fn shipped_lxc_inventory() {
    let inv = load(&[shipped("rhaptos-lxc.ini")]);
    assert_eq!(
        inv.select("all").unwrap(),
        strs(&["rhaptos", "devweb", "devlog", "devjenkins", "devdns"])
    );
    assert_eq!(
        inv.select("lxc").unwrap(),
        strs(&["devweb", "devlog", "devjenkins", "devdns"])
    );
    assert_eq!(
        inv.select("lxc:!devdns").unwrap(),
        strs(&["devweb", "devlog", "devjenkins"])
    );
    assert_eq!(inv.select("dev:&lxc_host").unwrap(), strs(&["rhaptos"]));
    assert_eq!(inv.group_names("devjenkins"), strs(&["ci", "dev", "lxc"]));
    assert_eq!(
        vars_of(&inv, "devjenkins"),
        json!({"ansible_become": true, "ansible_host": "10.0.3.13", "ansible_user": "deploy",
               "dns_server": "10.0.3.14", "domain": "dev.rhaptos.lan", "env_name": "dev",
               "jenkins_port": 8080, "log_server": "10.0.3.12", "lxc_gateway": "10.0.3.1",
               "lxc_host": "rhaptos", "lxc_netmask": "255.255.255.0"})
    );
    let host = inv.host_vars("rhaptos");
    assert_eq!(
        host["lxc_containers"],
        json!(["devweb", "devlog", "devjenkins", "devdns"])
    );
    assert!(!host.contains_key("ansible_become"));
    for (h, ip) in [
        ("devweb", 11),
        ("devlog", 12),
        ("devjenkins", 13),
        ("devdns", 14),
    ] {
        assert_eq!(
            inv.host_vars(h)["ansible_host"],
            json!(format!("10.0.3.{ip}"))
        );
    }
}

#[test]
fn shipped_staging_inventory() {
    let inv = load(&[shipped("staging")]);
    let groups = inv.groups_map();
    assert_eq!(
        groups["omero"],
        strs(&["omero-stg-01", "omeroweb-stg-01", "omeroweb-stg-02"])
    );
    assert_eq!(
        groups["nginx"],
        strs(&["proxy-stg-01", "omeroweb-stg-01", "omeroweb-stg-02"])
    );
    assert_eq!(groups["docker"], strs(&["ci-stg-01", "omero-stg-01"]));
    assert_eq!(
        inv.group("all").unwrap().children,
        strs(&["ungrouped", "omero", "db", "nginx", "docker"])
    );
    assert_eq!(
        vars_of(&inv, "db-stg-01"),
        json!({"admin_users": [{"groups": ["sudo"], "name": "deploy"}, {"groups": [], "name": "omero"}],
               "ansible_become": true, "ansible_host": "10.0.3.31", "ansible_user": "deploy",
               "dns_servers": ["10.0.3.14"], "domain": "staging.example.lan", "env_name": "staging",
               "firewall_allowed_tcp_ports": [22, 5432], "ntp_servers": ["10.0.3.1"],
               "postgresql_databases": [{"name": "omero", "owner": "omero"}],
               "postgresql_listen_addresses": "*", "postgresql_shared_buffers": "512MB",
               "postgresql_version": 16})
    );
    let web = inv.host_vars("omeroweb-stg-02");
    assert_eq!(web["firewall_allowed_tcp_ports"], json!([22, 80, 443]));
    assert_eq!(web["omero_release"], json!("5.6"));
    assert_eq!(web["ansible_host"], json!("10.0.3.23"));
    assert_eq!(
        inv.host_vars("omero-stg-01")["docker_storage_driver"],
        json!("overlay2")
    );
    assert_eq!(
        inv.host_vars("ci-stg-01")["docker_storage_driver"],
        json!("devicemapper")
    );
    assert_eq!(
        inv.host_vars("ci-stg-01")["firewall_allowed_tcp_ports"],
        json!([22])
    );

    let limit = Limit::parse("omero*:!omero_server").unwrap();
    assert_eq!(
        inv.select_limited("all", Some(&limit)).unwrap(),
        strs(&["omeroweb-stg-01", "omeroweb-stg-02"])
    );
}

#[test]
fn runtime_groups_get_their_group_vars_files() {
    let mut inv = load(&[fixture("dir").display().to_string()]);
    inv.load_vars_dirs(&fixture("playbook")).unwrap();
    // group_vars/nginx.yml of the playbook and group_vars/zz of the inventory apply to new members.
    inv.add_host_to_group("top1", "nginx", &[]).unwrap();
    assert_eq!(inv.host_vars("top1")["lvl"], json!("playbook_nginx"));
    inv.add_runtime_host("late", &strs(&["zz"]), &Vars::new())
        .unwrap();
    assert_eq!(inv.host_vars("late")["lvl"], json!("gv_zz"));
    assert_eq!(inv.host_vars("late")["a_from"], json!("playbook_all"));
}

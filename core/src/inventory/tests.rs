//! Unit tests of INI parsing, variable precedence, groups and patterns. Expected values were
//! checked against `ansible-inventory --list` / `ansible --list-hosts` of ansible-core 2.19.

use serde_json::json;

use super::*;

fn ini(text: &str) -> Inventory {
    match Inventory::from_ini_str(text, "test.ini") {
        Ok(inv) => inv,
        Err(e) => panic!("{e}"),
    }
}

fn ini_err(text: &str) -> (usize, String) {
    match Inventory::from_ini_str(text, "bad.ini") {
        Err(InventoryError::Parse {
            file,
            line,
            message,
        }) => {
            assert_eq!(file, "bad.ini");
            (line, message)
        }
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("expected an error for:\n{text}"),
    }
}

fn sel(inv: &Inventory, pattern: &str) -> Vec<String> {
    inv.select(pattern).unwrap()
}

/// The inventory used for the pattern checks run against Ansible.
const SAMPLE: &str = "\
u1 x=1
[web]
w1 a=1 b=\"2\" c='[1, 2]' d=True e=yes f=\"'q'\" g=1.5 h=None i=0x10 j=-3 k=a#comment
[db]
d1:2222
[web]
w2 ansible_host=10.0.0.1
[web:vars]
a=5
s=\"hello world\"
t=False
u=FALSE
v=x # not a comment
w=[1,2]
[prod:children]
web
[all:vars]
z=1
";

#[test]
fn ini_values_follow_python_literals() {
    let inv = ini(SAMPLE);
    let mut w1 = inv.host_vars("w1");
    w1.remove("inventory_file");
    w1.remove("inventory_dir");
    assert_eq!(
        serde_json::Value::Object(w1),
        json!({
            "z": 1, "s": "hello world", "t": false, "u": "FALSE", "v": "x # not a comment",
            "w": [1, 2], "a": 1, "b": 2, "c": [1, 2], "d": true, "e": "yes", "f": "q",
            "g": 1.5, "h": null, "i": 16, "j": -3, "k": "a"
        })
    );
    assert_eq!(
        inv.host_vars("w2")["a"],
        json!(5),
        "group var when the host sets none"
    );
    assert_eq!(inv.host_vars("d1")["ansible_port"], json!(2222));
    assert_eq!(inv.host_vars("u1")["x"], json!(1));
    assert_eq!(inv.host_vars("u1")["z"], json!(1));
    assert_eq!(inv.host_vars("u1")["inventory_file"], json!(null));
}

#[test]
fn groups_and_membership() {
    let inv = ini(SAMPLE);
    assert_eq!(inv.group_names("u1"), ["ungrouped"]);
    assert_eq!(inv.group_names("w1"), ["prod", "web"]);
    assert_eq!(inv.group_names("d1"), ["db"]);
    let groups = inv.groups_map();
    let keys: Vec<&str> = groups.keys().map(String::as_str).collect();
    assert_eq!(keys, ["all", "ungrouped", "web", "db", "prod"]);
    // `all` lists its own hosts, then its children's (ungrouped, db, prod), then grandchildren's.
    assert_eq!(groups["all"], ["u1", "d1", "w1", "w2"]);
    assert_eq!(groups["prod"], ["w1", "w2"]);
    assert_eq!(groups["ungrouped"], ["u1"]);
    assert_eq!(inv.group("web").unwrap().parents, ["prod"]);
    assert_eq!(inv.group("web").unwrap().depth, 2);
    assert_eq!(
        inv.group("all").unwrap().children,
        ["ungrouped", "db", "prod"]
    );
    assert!(inv.has_host("w2") && !inv.has_host("web"));
    let order: Vec<&str> = inv.hosts().map(|h| h.name.as_str()).collect();
    assert_eq!(order, ["u1", "w1", "d1", "w2"]);
}

#[test]
fn ranges_ports_and_comments() {
    let inv = ini(
        "; comment\n# comment\n[web]\nweb[01:03].example.com:2222 role=front  # trailing\n\
         [db]\ndb-[a:c]\nn[1:9:4]\n10.0.3.[11:12]\n[v6]\nfe80::1\n[fe80::2]:22\n",
    );
    assert_eq!(
        inv.group_hosts("web"),
        [
            "web01.example.com",
            "web02.example.com",
            "web03.example.com"
        ]
    );
    assert_eq!(
        inv.host_vars("web02.example.com")["ansible_port"],
        json!(2222)
    );
    assert_eq!(inv.host_vars("web03.example.com")["role"], json!("front"));
    assert_eq!(
        inv.group_hosts("db"),
        [
            "db-a",
            "db-b",
            "db-c",
            "n1",
            "n5",
            "n9",
            "10.0.3.11",
            "10.0.3.12"
        ]
    );
    assert_eq!(inv.group_hosts("v6"), ["fe80::1", "fe80::2"]);
    assert_eq!(inv.host_vars("fe80::2")["ansible_port"], json!(22));
}

#[test]
fn port_only_on_first_mention() {
    let inv = ini("h1:22\n[web]\nh1:23 a=1\n");
    assert_eq!(inv.host_vars("h1")["ansible_port"], json!(22));
    assert_eq!(inv.group_names("h1"), ["web"], "h1 left ungrouped");
    assert!(inv.group_hosts("ungrouped").is_empty());
}

#[test]
fn children_may_be_declared_later() {
    let inv = ini("[prod:children]\nweb\ndb # comment\n[web]\nw1\n[db:children]\n[db:vars]\nx=1\n");
    assert_eq!(inv.group("prod").unwrap().children, ["web", "db"]);
    assert_eq!(inv.group_hosts("prod"), ["w1"]);
    assert_eq!(inv.group_vars("db")["x"], json!(1));
}

#[test]
fn ini_errors_name_line_and_text() {
    let cases: &[(&str, usize, &str)] = &[
        ("[web]\nw1\n[web prod]\n", 3, "invalid section"),
        ("[web]\n[web:hosts]\n", 2, "unknown type 'hosts'"),
        ("[web]\nw1 novalue\n", 2, "expected key=value host variable"),
        ("[web]\nw1 a='open\n", 2, "no closing quotation"),
        (
            "[web]\nw1\n[web:vars]\njustname\n",
            4,
            "expected key=value in [web:vars]",
        ),
        ("[p:children]\nw1 x=1\n", 2, "expected a group name"),
        (
            "[web]\nw1\n[p:children]\nweb\nmissing\n",
            5,
            "undefined group 'missing'",
        ),
        (
            "[g:vars]\na=1\n[p:children]\ng\n",
            1,
            "[g:vars] is for a group that is never declared",
        ),
        ("[web]\nweb[01:100]\n", 2, "same width"),
        ("[web]\nweb[3:1]\n", 2, "begin value is greater"),
        ("[web]\nhost:\n", 2, "trailing ':'"),
        ("---\nall:\n", 1, "looks like a YAML file"),
        ("[a:children]\nb\n[b:children]\na\n", 4, "creates a loop"),
        (
            "[web:vars]\nansible_group_priority=high\n[web]\n",
            2,
            "must be an integer",
        ),
    ];
    for (text, line, needle) in cases {
        let (got_line, message) = ini_err(text);
        assert_eq!(got_line, *line, "line for {text:?}: {message}");
        assert!(message.contains(needle), "{text:?}: {message}");
    }
    let (_, message) = ini_err("[web]\nw1 novalue\n");
    assert!(
        message.contains("w1 novalue"),
        "quotes the offending line: {message}"
    );
    let e = Inventory::from_ini_str("[web]\nw1 x\n", "inv/hosts").unwrap_err();
    assert!(e.to_string().starts_with("inv/hosts:2: "), "{e}");
}

#[test]
fn precedence_by_depth_priority_and_name() {
    let inv = ini(
        "[top:children]\nmid\n[mid:children]\nleaf\n[leaf]\nh1\n[other]\nh1\n[zzz]\nh1\n\
         [all:vars]\nv=all\nw=all\n[top:vars]\nv=top\n[mid:vars]\nv=mid\n[leaf:vars]\nv=leaf\n\
         [other:vars]\nv=other\np=other\nq=other\n[zzz:vars]\np=zzz\nq=zzz\nansible_group_priority=0\n",
    );
    let vars = inv.host_vars("h1");
    assert_eq!(vars["v"], json!("leaf"), "deepest group wins");
    assert_eq!(vars["w"], json!("all"));
    // other and zzz are both at depth 1: zzz has priority 0 (< 1), so `other` wins.
    assert_eq!(vars["p"], json!("other"));
    assert!(!vars.contains_key("ansible_group_priority"));
    assert_eq!(inv.group("zzz").unwrap().priority, 0);

    let by_name = ini("[b]\nh\n[a]\nh\n[a:vars]\nx=a\n[b:vars]\nx=b\n");
    assert_eq!(
        by_name.host_vars("h")["x"],
        json!("b"),
        "same depth/priority: later name wins"
    );

    let host_wins = ini("[g]\nh x=host\n[g:vars]\nx=group\n");
    assert_eq!(host_wins.host_vars("h")["x"], json!("host"));
}

#[test]
fn patterns_match_ansible() {
    let inv = ini(SAMPLE);
    assert_eq!(sel(&inv, "all"), ["u1", "d1", "w1", "w2"]);
    assert_eq!(sel(&inv, "*"), ["u1", "d1", "w1", "w2"]);
    assert_eq!(sel(&inv, "web:!w1:d1"), ["w2", "d1"]);
    assert_eq!(
        sel(&inv, "!w1:web:d1"),
        ["w2", "d1"],
        "exclusions apply last"
    );
    assert_eq!(sel(&inv, "all:&prod"), ["w1", "w2"]);
    assert_eq!(sel(&inv, "&prod"), ["w1", "w2"], "only & implies all");
    assert_eq!(sel(&inv, "!web"), ["u1", "d1"]);
    assert_eq!(sel(&inv, "all[1:]"), ["d1", "w1", "w2"]);
    assert_eq!(sel(&inv, "all[0:0]"), ["u1"]);
    assert_eq!(sel(&inv, "all[-1]"), ["w2"]);
    assert_eq!(sel(&inv, "web[0]:db"), ["w1", "d1"]);
    assert_eq!(sel(&inv, "all[9]"), Vec::<String>::new());
    assert_eq!(
        sel(&inv, "w*"),
        ["w1", "w2"],
        "group web and hosts w1/w2, deduplicated"
    );
    assert_eq!(
        sel(&inv, "~[wd]\\d"),
        ["w1", "d1", "w2"],
        "hosts in inventory order"
    );
    assert_eq!(sel(&inv, "d1,u1"), ["d1", "u1"]);
    assert_eq!(sel(&inv, "w2:web"), ["w2", "w1"]);
    assert_eq!(sel(&inv, "nothing"), Vec::<String>::new());
    assert_eq!(sel(&inv, "prod:&d*"), Vec::<String>::new());
    assert_eq!(
        inv.select_patterns(&["db".into(), "ungrouped".into()])
            .unwrap(),
        ["d1", "u1"]
    );
    assert_eq!(
        inv.unmatched_patterns("web:nothing:!nope:all").unwrap(),
        ["nothing", "!nope"]
    );
    assert!(inv.select("~(bad").is_err());
}

#[test]
fn implicit_localhost() {
    let inv = ini(SAMPLE);
    assert!(inv.is_implicit_localhost("localhost"));
    assert!(!inv.has_host("localhost"));
    assert_eq!(sel(&inv, "localhost:127.0.0.1:u1"), ["localhost", "u1"]);
    assert_eq!(sel(&inv, "127.0.0.1"), ["127.0.0.1"]);
    assert!(!sel(&inv, "all").contains(&"localhost".to_string()));
    assert!(inv.group_names("localhost").is_empty());
    let vars = inv.host_vars("localhost");
    assert_eq!(vars["ansible_connection"], json!("local"));
    assert_eq!(
        vars["z"],
        json!(1),
        "implicit localhost gets the all group's vars"
    );
    assert!(inv.host_vars("not-a-host").is_empty());

    let explicit = ini("[ctl]\nlocalhost ansible_connection=ssh\n");
    assert!(!explicit.is_implicit_localhost("localhost"));
    assert!(!explicit.is_implicit_localhost("127.0.0.1"));
    assert_eq!(
        sel(&explicit, "127.0.0.1"),
        ["localhost"],
        "stands for the inventory's localhost"
    );
    assert_eq!(
        explicit.host_vars("localhost")["ansible_connection"],
        json!("ssh")
    );
    assert_eq!(explicit.group_names("127.0.0.1"), ["ctl"]);
}

#[test]
fn limits() {
    let inv = ini(SAMPLE);
    let all = sel(&inv, "all");
    let lim = |l: &str| inv.apply_limit(&all, &Limit::parse(l).unwrap()).unwrap();
    assert_eq!(lim("!w1"), ["u1", "d1", "w2"]);
    assert_eq!(lim("&web"), ["w1", "w2"]);
    assert_eq!(lim("d1,w2"), ["d1", "w2"]);
    assert_eq!(lim("localhost"), Vec::<String>::new());
    let local = sel(&inv, "localhost");
    assert_eq!(
        inv.apply_limit(&local, &Limit::parse("127.0.0.1").unwrap())
            .unwrap(),
        ["localhost"],
        "both names are the same implicit host"
    );

    let dir = tempfile::tempdir().unwrap();
    let retry = dir.path().join("site.retry");
    std::fs::write(&retry, "w2\n\nu1\n").unwrap();
    let limit = Limit::parse(&format!("@{}", retry.display())).unwrap();
    assert_eq!(limit.patterns(), ["w2", "u1"]);
    assert_eq!(
        inv.select_limited("all", Some(&limit)).unwrap(),
        ["u1", "w2"]
    );
    assert!(matches!(
        Limit::parse("@/nonexistent/limit-file"),
        Err(InventoryError::Read { .. })
    ));
    assert!(Limit::parse(&format!("@{}", dir.path().display())).is_err());
}

#[test]
fn runtime_hosts_and_groups() {
    let mut inv = ini(SAMPLE);
    let mut vars = Vars::new();
    vars.insert("role".into(), json!("new"));
    inv.add_runtime_host("n1:2200", &["fresh".into(), "web".into()], &vars)
        .unwrap();
    assert_eq!(inv.group_names("n1"), ["fresh", "prod", "web"]);
    assert_eq!(inv.host_vars("n1")["ansible_port"], json!(2200));
    assert_eq!(inv.host_vars("n1")["role"], json!("new"));
    assert_eq!(inv.host_vars("n1")["a"], json!(5), "web's group vars apply");
    assert_eq!(inv.group("fresh").unwrap().parents, ["all"]);
    // Breadth first: fresh (depth 1) comes before web (depth 2).
    assert_eq!(sel(&inv, "all"), ["u1", "d1", "n1", "w1", "w2"]);

    inv.add_runtime_host("n2", &[], &Vars::new()).unwrap();
    assert_eq!(inv.group_names("n2"), ["ungrouped"]);

    // group_by: u1 leaves ungrouped once it is in a real group.
    inv.add_host_to_group("u1", "os_debian", &["linux".into()])
        .unwrap();
    assert_eq!(inv.group_names("u1"), ["linux", "os_debian"]);
    assert_eq!(inv.group("os_debian").unwrap().depth, 2);
    assert_eq!(sel(&inv, "linux"), ["u1"]);
    assert!(inv.add_host_to_group("ghost", "g", &[]).is_err());
    assert!(inv
        .add_host_to_group("u1", "linux", &["os_debian".into()])
        .is_err());
}

#[test]
fn default_and_empty_inventories() {
    for inv in [Inventory::default(), Inventory::load(&[]).unwrap()] {
        assert_eq!(inv.groups().count(), 2);
        assert!(inv.select("all").unwrap().is_empty());
        assert_eq!(inv.select("localhost").unwrap(), ["localhost"]);
        assert_eq!(inv.groups_map()["all"], Vec::<String>::new());
    }
}

#[test]
fn hostile_ini_input_is_refused_or_read_cleanly() {
    let inv = ini("\u{feff}[web]\nw1\n");
    assert_eq!(sel(&inv, "web"), ["w1"]);
    let (line, m) = ini_err("[web]\nw\u{0}1\n");
    assert_eq!(line, 2);
    assert!(m.contains("control character U+0000"), "{m}");
    let (line, m) = ini_err("[web]\nweb[1:100000000]\n");
    assert_eq!(line, 2);
    assert!(m.contains("more than the limit"), "{m}");
}

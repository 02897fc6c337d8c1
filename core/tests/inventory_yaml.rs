//! YAML inventories. Expected values were checked against `ansible-inventory --list` and
//! `ansible --list-hosts` of ansible-core 2.19.

use drover_core::inventory::{Inventory, InventoryError};
use serde_json::json;

fn yaml(text: &str) -> Inventory {
    Inventory::from_yaml_str(text, "inv.yml").unwrap_or_else(|e| panic!("{e}"))
}

fn yaml_err(text: &str) -> (usize, String) {
    match Inventory::from_yaml_str(text, "inv.yml") {
        Err(InventoryError::Parse {
            file,
            line,
            message,
        }) => {
            assert_eq!(file, "inv.yml");
            (line, message)
        }
        Err(other) => panic!("unexpected {other}"),
        Ok(_) => panic!("expected an error for:\n{text}"),
    }
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

const NESTED: &str = "\
all:
  vars:
    nested: {a: 1, b: [x, y]}
    octal: 0644
  hosts:
    solo:
    10.0.0.[1:2]:
      ip: yes
  children:
    web:
      web1:
        bad: 1
      hosts: w1
    db:
      hosts:
        d1:
      children:
        replica:
          hosts:
            d2:
            d1:
              role: replica
ungrouped:
  hosts:
    lone:
extra:
";

#[test]
fn nested_groups_hosts_and_vars() {
    let inv = yaml(NESTED);
    assert_eq!(
        inv.select("all").unwrap(),
        strs(&["solo", "10.0.0.1", "10.0.0.2", "lone", "w1", "d1", "d2"])
    );
    let groups = inv.groups_map();
    assert_eq!(
        groups["ungrouped"],
        strs(&["lone", "solo", "10.0.0.1", "10.0.0.2"])
    );
    assert_eq!(groups["db"], strs(&["d1", "d2"]));
    assert_eq!(groups["replica"], strs(&["d2", "d1"]));
    assert_eq!(groups["extra"], Vec::<String>::new());
    assert_eq!(
        inv.group("all").unwrap().children,
        strs(&["ungrouped", "web", "db", "extra"])
    );
    let d1 = inv.host_vars("d1");
    assert_eq!(d1["role"], json!("replica"));
    assert_eq!(d1["octal"], json!(420), "YAML 1.1 octal, like PyYAML");
    assert_eq!(d1["nested"], json!({"a": 1, "b": ["x", "y"]}));
    assert_eq!(inv.host_vars("10.0.0.2")["ip"], json!(true));
    assert_eq!(inv.group_names("d1"), strs(&["db", "replica"]));
    // `web1:` directly under the group is a mistake Ansible skips with a warning.
    assert!(!inv.has_host("web1"));
    assert_eq!(inv.warnings().len(), 1, "{:?}", inv.warnings());
    assert!(
        inv.warnings()[0].starts_with("inv.yml:11:") && inv.warnings()[0].contains("'web1'"),
        "{:?}",
        inv.warnings()
    );
}

#[test]
fn ports_ranges_priority_and_unsafe() {
    let inv = yaml(
        "all:\n  children:\n    a:\n      hosts:\n        h[1:2]:2222:\n      vars:\n        v: a\n        ansible_group_priority: 5\n        raw: !unsafe '{{ x }}'\n    b:\n      hosts:\n        h1:\n      vars:\n        v: b\n",
    );
    assert_eq!(inv.host_vars("h2")["ansible_port"], json!(2222));
    assert_eq!(
        inv.host_vars("h1")["v"],
        json!("a"),
        "priority 5 beats b's 1"
    );
    assert_eq!(inv.group("a").unwrap().priority, 5);
    assert_eq!(
        inv.host_vars("h1")["raw"],
        drover_core::vars::unsafe_text("{{ x }}")
    );
}

#[test]
fn empty_and_top_level_oddities() {
    assert_eq!(yaml("").select("all").unwrap(), Vec::<String>::new());
    assert_eq!(yaml("# only comments\n").groups().count(), 2);
    let inv = yaml("all:\nweird: 5\n");
    assert!(inv.group("weird").is_none());
    assert_eq!(inv.warnings().len(), 1);
}

#[test]
fn structural_errors_point_at_the_line() {
    let cases: &[(&str, usize, &str)] = &[
        (
            "all:\n  hosts:\n    - a\n    - b\n",
            3,
            "'hosts' of group 'all' must be a mapping",
        ),
        (
            "all:\n  hosts:\n    a: somestring\n",
            3,
            "host 'a' in group 'all' must have a mapping",
        ),
        (
            "all:\n  children:\n    web: oops\n",
            3,
            "child group 'web' of 'all'",
        ),
        ("- all\n", 1, "must be a mapping of group names"),
        ("plugin: aws_ec2\n", 1, "inventory plugin configuration"),
        // What to do instead: export the plugin's result, or run it from a script.
        ("plugin: aws_ec2\n", 1, "--list --yaml > inventory.yml"),
        ("plugin: aws_ec2\n", 1, "executable inventory scripts"),
        (
            "all:\n  hosts:\n    web[3:1]:\n",
            3,
            "begin value is greater",
        ),
        (
            "all:\n  children:\n    a:\n      children:\n        a:\n",
            5,
            "creates a loop",
        ),
        ("all:\n  hosts: [a\n", 2, "YAML syntax error"),
    ];
    for (text, line, needle) in cases {
        let (got, message) = yaml_err(text);
        assert!(message.contains(needle), "{text:?}: {message}");
        assert_eq!(got, *line, "{text:?}: {message}");
    }
}

#[test]
fn yaml_detected_without_extension() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hosts");
    std::fs::write(&path, "all:\n  hosts:\n    y1:\n").unwrap();
    let ini_path = dir.path().join("ports");
    std::fs::write(&ini_path, "i1:2222\ni2\n").unwrap();
    let inv =
        Inventory::load(&[path.display().to_string(), ini_path.display().to_string()]).unwrap();
    assert_eq!(inv.select("all").unwrap(), strs(&["y1", "i1", "i2"]));
    assert_eq!(inv.host_vars("i1")["ansible_port"], json!(2222));
}

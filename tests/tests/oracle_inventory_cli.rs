//! `drover inventory` against the oracle's `ansible-inventory` on the same sources: INI with
//! ranges and children, YAML, `group_vars/`/`host_vars/`, several `-i` sources, dynamic inventory
//! scripts (with and without `_meta`), `--list`/`--graph [--vars]`/`--host`/`--export`/`--yaml`/
//! `--limit`. JSON is compared as data and as text; `--graph` text byte for byte.

use std::path::Path;
use std::process::Command;

use drover_integration::{drover_bin, oracle_ansible_playbook};

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, text).expect("write");
}

fn executable(dir: &Path, name: &str, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    write(dir, name, text);
    std::fs::set_permissions(dir.join(name), std::fs::Permissions::from_mode(0o755))
        .expect("chmod");
}

const INI: &str = "loose1 foo=bar
[web]
web[01:03].example.com http_port=80
db1 ansible_host=10.0.0.5

[db]
db1
db2 ansible_port=2222

[prod:children]
web
db

[prod:vars]
env=prod
x=[1,2]

[all:vars]
ntp=ntp.example.com
";

const YAML: &str = "all:
  vars:
    a: 1
  hosts:
    h1:
      port_x: 1
  children:
    web:
      hosts:
        w[1:2]:
          t: front
      vars:
        wv: true
    dbs:
      children:
        pg:
          hosts:
            p1:
          vars:
            ansible_group_priority: 5
            pgv: [a, {b: null}]
";

const SCRIPT_META: &str = r#"#!/usr/bin/env python3
import json, sys
if sys.argv[1] == '--list':
    print(json.dumps({"dyn": {"hosts": ["d1", "d2"], "vars": {"dv": 1}, "children": ["dynchild"]},
                      "dynchild": ["d3"],
                      "_meta": {"hostvars": {"d1": {"x": "y", "n": [1, {"k": None}]}}}}))
else:
    print("{}")
"#;

const SCRIPT_NO_META: &str = r#"#!/bin/sh
if [ "$1" = "--list" ]; then echo '{"nometa": ["n1", "n2"], "other": {"hosts": ["n2"]}}'
else echo "{\"me\": \"$2\"}"; fi
"#;

fn run(program: &Path, dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("ANSIBLE_HOME", dir.join(".ansible-home"))
        .env("ANSIBLE_LOCAL_TEMP", dir.join(".ansible-tmp"))
        .output()
        .expect("run inventory command");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// YAML text as data, read by the oracle venv's PyYAML.
fn yaml_data(python: &Path, text: &str) -> serde_json::Value {
    use std::io::Write;
    let mut child = Command::new(python)
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run python");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write yaml");
    let out = child.wait_with_output().expect("python");
    serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
}

#[test]
fn inventory_matches_ansible_inventory() {
    let ansible_inventory = oracle_ansible_playbook().with_file_name("ansible-inventory");
    let tmp = std::env::temp_dir().join(format!("drover-invcli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    write(&tmp, "ini/hosts.ini", INI);
    write(&tmp, "ini/group_vars/db.yml", "dbpass: secret\n");
    write(
        &tmp,
        "ini/host_vars/db1.yml",
        "role: primary\nnested:\n  a: [1, {b: 2}]\n",
    );
    write(&tmp, "yaml/a.yml", YAML);
    write(&tmp, "yaml/b.ini", "[web]\nw3\n[extra:children]\npg\n");
    write(&tmp, "yaml/group_vars/all.yml", "gv: all\n");
    write(&tmp, "yaml/group_vars/pg.yml", "pgx: 1\n");
    executable(&tmp, "dyn/meta.py", SCRIPT_META);
    executable(&tmp, "dyn/nometa.sh", SCRIPT_NO_META);
    write(&tmp, "dyn/group_vars/dyn.yml", "from_dir: yes\n");

    let cases: &[&[&str]] = &[
        &["-i", "ini/hosts.ini", "--list"],
        &["-i", "ini/hosts.ini", "--list", "--export"],
        &["-i", "ini/hosts.ini", "--list", "--yaml"],
        &["-i", "ini/hosts.ini", "--list", "--limit", "web*:!db1"],
        &["-i", "ini/hosts.ini", "--graph"],
        &["-i", "ini/hosts.ini", "--graph", "--vars"],
        &["-i", "ini/hosts.ini", "--graph", "prod"],
        &["-i", "ini/hosts.ini", "--host", "db1"],
        &["-i", "yaml/a.yml", "-i", "yaml/b.ini", "--list"],
        &["-i", "yaml", "--list", "--export"],
        &["-i", "yaml", "--list", "--yaml", "--export"],
        &["-i", "yaml", "--graph", "--vars"],
        &["-i", "yaml", "--host", "p1"],
        &["-i", "dyn/meta.py", "--list"],
        &["-i", "dyn/nometa.sh", "--list"],
        &["-i", "dyn", "--graph", "--vars"],
        &[
            "-i",
            "dyn/meta.py",
            "-i",
            "ini/hosts.ini",
            "--list",
            "--export",
        ],
        &["-i", "h1,h2:2222,", "--list"],
    ];
    let mut failures = Vec::new();
    for args in cases {
        let (a_rc, a_out) = run(&ansible_inventory, &tmp, args);
        let drover_args: Vec<&str> = std::iter::once("inventory")
            .chain(args.iter().copied())
            .collect();
        let (d_rc, d_out) = run(drover_bin(), &tmp, &drover_args);
        assert_eq!(a_rc, 0, "ansible-inventory {args:?} failed:\n{a_out}");
        if d_rc != a_rc {
            failures.push(format!("{args:?}: exit {d_rc}, ansible {a_rc}"));
            continue;
        }
        if args.contains(&"--list") && !args.contains(&"--yaml") {
            let a: serde_json::Value = serde_json::from_str(&a_out).expect("ansible json");
            let d: serde_json::Value = match serde_json::from_str(&d_out) {
                Ok(v) => v,
                Err(e) => {
                    failures.push(format!(
                        "{args:?}: drover's output is not JSON ({e}):\n{d_out}"
                    ));
                    continue;
                }
            };
            if a != d {
                failures.push(format!(
                    "{args:?}: data differs\nansible:\n{a_out}\ndrover:\n{d_out}"
                ));
                continue;
            }
        }
        // PyYAML writes a list used twice as an anchor and aliases: compare YAML as data.
        if args.contains(&"--yaml") {
            let python = ansible_inventory.with_file_name("python3");
            let a = yaml_data(&python, &a_out);
            let d = yaml_data(&python, &d_out);
            if a != d {
                failures.push(format!(
                    "{args:?}: YAML data differs\nansible:\n{a_out}\ndrover:\n{d_out}"
                ));
            }
            continue;
        }
        if a_out != d_out {
            failures.push(format!(
                "{args:?}: text differs\nansible:\n{a_out}\ndrover:\n{d_out}"
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn unsupported_inventory_plugins_are_named() {
    let tmp = std::env::temp_dir().join(format!("drover-invplugin-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    write(
        &tmp,
        "aws_ec2.yml",
        "plugin: amazon.aws.aws_ec2\nregions: [eu-west-1]\n",
    );
    let out = Command::new(drover_bin())
        .args(["inventory", "-i", "aws_ec2.yml", "--list"])
        .current_dir(&tmp)
        .output()
        .expect("run drover");
    let _ = std::fs::remove_dir_all(&tmp);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("amazon.aws.aws_ec2"), "{stderr}");
}

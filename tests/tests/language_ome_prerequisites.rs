//! A realistic multi-role playbook (`playbooks/ome-prerequisites.yml`: apt with a cache, a
//! service account, directories, templates with a `#jinja2:` header and `ansible_managed`,
//! lineinfile, services, handlers with `listen`, `meta: flush_handlers`, a role dependency
//! that runs once, `include_vars` per OS family with `with_first_found`, defaults overridden
//! from group_vars, RedHat-only tasks, `include_tasks`/`import_tasks` per OS family,
//! `block`/`rescue`, `become_user: postgres` with community.postgresql's modules, pip in a
//! virtualenv, `include_role` of the release checks) run by ansible-core and by drover on two
//! identical fresh Debian hosts: per-task statuses, changed flags and debug values must match, the
//! files written must match, and a second run must report `changed=0` in both. Both tools get the
//! same lighter package choices (`LIGHT_VARS`: no JRE, one Ice package) to keep the test short;
//! `tests/tests/ome_prerequisites.rs` converges the full set.

use std::path::Path;
use std::process::Command;

use drover_integration::{
    drover_command, oracle_ansible_playbook, oracle_collections_path, repo_root, TestHosts,
};
use serde_json::Value;

/// Extra variables both tools get: the same roles with smaller packages (a stand-in for the
/// JRE, one Ice package).
const LIGHT_VARS: &str = "\
java_packages: [java-common]
ice_packages: [zeroc-ice-slice]
ice_install_python: false
";

/// An inventory naming host `index` `target` in group `ome`, so both tools see the same names.
fn inventory_for(hosts: &TestHosts, index: usize, path: &Path) {
    let text = hosts.inventory_text("ome", "root");
    let line = text
        .lines()
        .nth(index + 1)
        .and_then(|l| l.split_once(' '))
        .map(|(_, vars)| vars.to_string())
        .expect("inventory line with host vars");
    std::fs::write(path, format!("[ome]\ntarget {line}\n")).expect("write inventory");
}

/// `task | status | debug value` per result of host `target`, in order.
fn ansible_results(stdout: &str) -> (Vec<String>, Value) {
    let mut out = Vec::new();
    let mut recap = Value::Null;
    for line in stdout.lines().filter(|l| l.starts_with('{')) {
        let v: Value = serde_json::from_str(line).expect("oracle callback JSON");
        if v.get("recap").is_some() {
            let s = &v["stats"];
            recap = serde_json::json!([
                s["ok"],
                s["changed"],
                s["failures"],
                s["skipped"],
                s["rescued"]
            ]);
            continue;
        }
        let debug = v.get("debug").map(debug_value).unwrap_or_default();
        out.push(format!(
            "{} | {} | {debug}",
            v["task"].as_str().unwrap_or_default(),
            v["status"].as_str().unwrap_or_default()
        ));
    }
    (out, recap)
}

/// The comparable part of a debug result: `msg`, or the variable `var` shows.
fn debug_value(result: &Value) -> String {
    let Some(obj) = result.as_object() else {
        return String::new();
    };
    obj.iter()
        .filter(|(k, _)| !k.starts_with('_') && !matches!(k.as_str(), "changed" | "failed"))
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn drover_results(stdout: &str) -> (Vec<String>, Value) {
    let mut out = Vec::new();
    let mut recap = Value::Null;
    let mut task = (String::new(), String::new());
    for line in stdout.lines().filter(|l| l.starts_with('{')) {
        let v: Value = serde_json::from_str(line).expect("drover JSON event");
        match v["event"].as_str() {
            Some("task_start") => {
                task = (
                    v["name"].as_str().unwrap_or_default().to_string(),
                    v["module"].as_str().unwrap_or_default().to_string(),
                )
            }
            Some("host_result") => {
                if v.get("item").is_some_and(|i| i != "") {
                    continue;
                }
                let status = v["status"].as_str().unwrap_or_default();
                let debug = if task.1.ends_with("debug") && status != "skipped" {
                    debug_value(&v["result"])
                } else {
                    String::new()
                };
                out.push(format!("{} | {status} | {debug}", task.0));
            }
            Some("recap") => {
                if let Some(entry) = v["hosts"].as_array().and_then(|h| h.first()) {
                    let s = &entry[1];
                    recap = serde_json::json!([
                        s["ok"],
                        s["changed"],
                        s["failed"],
                        s["skipped"],
                        s["rescued"]
                    ]);
                }
            }
            _ => {}
        }
    }
    (out, recap)
}

/// What the run left on a host: owners, modes and contents of the files the roles manage, the
/// database objects, services and packages. pg_hba.conf is compared rule by rule with its
/// blanks collapsed, and without its mode: drover's postgresql_pg_hba keeps the file's mode
/// (0640 on Debian) and writes every rule tab-separated, where the collection's module leaves
/// the file 0600 and untouched rules as they were written.
fn host_state(hosts: &TestHosts, i: usize) -> String {
    hosts.ssh_ok(
        i,
        "stat -c '%n %U %G %a' /opt/omero /opt/omero/server /srv/omero-data /opt/omero/venv3 \
         /etc/nginx/sites-available/omero-web.conf /etc/nginx/sites-enabled/omero-web.conf \
         /etc/security/limits.d/omero.conf /etc/postgresql/15/main/conf.d/50-drover.conf; \
         cat /etc/nginx/sites-available/omero-web.conf /etc/security/limits.d/omero.conf \
         /etc/logrotate.d/nginx /etc/postgresql/15/main/conf.d/50-drover.conf /opt/omero/venv3/pyvenv.cfg; \
         grep -v '^#' /etc/postgresql/15/main/pg_hba.conf | grep . | tr -s ' \\t' ' '; \
         grep -n 'server_tokens' /etc/nginx/nginx.conf; grep OMERO /etc/environment; \
         getent passwd omero | cut -d: -f1,6,7; test ! -e /etc/nginx/sites-enabled/default && echo no-default; \
         systemctl is-enabled nginx postgresql; systemctl is-active nginx postgresql; \
         cd / && runuser -u postgres -- psql -XAt \
           -c \"select rolname, rolcanlogin from pg_roles where rolname = 'omero'\" \
           -c \"select datname, pg_get_userbyid(datdba), datacl from pg_database where datname = 'omero'\" \
           -c 'show listen_addresses'; \
         dpkg-query -W -f='${Package} ${Status}\\n' nginx postgresql-15 java-common zeroc-ice-slice unzip curl python3-venv",
    )
}

#[test]
fn ome_prerequisites_match_ansible_core() {
    let started = std::time::Instant::now();
    let hosts = TestHosts::start(2);
    let ansible_playbook = oracle_ansible_playbook();
    // What ansible-core's modules need on the host: python3, psycopg2 (community.postgresql)
    // and packaging (pip).
    hosts.ssh_ok(
        0,
        "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
         python3 python3-psycopg2 python3-packaging >/dev/null",
    );
    let ansible_inv = hosts.dir().join("ansible.ini");
    let drover_inv = hosts.dir().join("drover.ini");
    eprintln!("hosts ready after {:?}", started.elapsed());
    inventory_for(&hosts, 0, &ansible_inv);
    inventory_for(&hosts, 1, &drover_inv);
    let book = repo_root().join("playbooks/ome-prerequisites.yml");
    let ansible_home = hosts.dir().join("ansible-home");
    std::fs::create_dir_all(&ansible_home).expect("ansible home");
    let ansible_cfg = ansible_home.join("ansible.cfg");
    std::fs::write(&ansible_cfg, "[defaults]\n").expect("ansible.cfg");
    let light = hosts.dir().join("light.yml");
    std::fs::write(&light, LIGHT_VARS).expect("light vars");
    let light_arg = format!("@{}", light.display());

    let run_ansible = || {
        let out = Command::new(ansible_playbook)
            .arg(&book)
            .arg("-i")
            .arg(&ansible_inv)
            .args(["-e", &light_arg])
            .env("ANSIBLE_CONFIG", &ansible_cfg)
            .env("ANSIBLE_COLLECTIONS_PATH", oracle_collections_path())
            .env("HOME", &ansible_home)
            .env("ANSIBLE_PYTHON_INTERPRETER", "/usr/bin/python3")
            .env(
                "ANSIBLE_CALLBACK_PLUGINS",
                repo_root().join("tests/oracle/callback_plugins"),
            )
            .env("ANSIBLE_STDOUT_CALLBACK", "drover_oracle")
            .env("ANSIBLE_DEPRECATION_WARNINGS", "false")
            .output()
            .expect("run ansible-playbook");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let results = ansible_results(&stdout);
        assert!(
            out.status.success(),
            "ansible-playbook failed:\n{}\n{}",
            results.0.join("\n"),
            String::from_utf8_lossy(&out.stderr)
        );
        results
    };
    let run_drover = || {
        let out = drover_command()
            .arg("play")
            .arg(&book)
            .arg("-i")
            .arg(&drover_inv)
            .args(["-e", &light_arg])
            .args(["--output", "json"])
            .output()
            .expect("run drover");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let results = drover_results(&stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "drover failed:\n{}\n{}",
            results.0.join("\n"),
            String::from_utf8_lossy(&out.stderr)
        );
        results
    };

    // The two tools run at the same time, each on its own host.
    let (ansible_first, drover_first) = std::thread::scope(|s| {
        let a = s.spawn(run_ansible);
        let d = run_drover();
        (a.join().expect("oracle thread"), d)
    });
    eprintln!("first runs done after {:?}", started.elapsed());
    assert!(
        ansible_first.0.len() >= 25,
        "the oracle's output was not understood: {ansible_first:?}"
    );
    assert_eq!(
        drover_first.0.join("\n"),
        ansible_first.0.join("\n"),
        "per-task results differ on the first run"
    );
    assert_eq!(drover_first.1, ansible_first.1, "recap differs");
    assert_eq!(host_state(&hosts, 1), host_state(&hosts, 0), "hosts differ");

    let (ansible_second, drover_second) = std::thread::scope(|s| {
        let a = s.spawn(run_ansible);
        let d = run_drover();
        (a.join().expect("oracle thread"), d)
    });
    assert_eq!(
        ansible_second.1[1], 0,
        "ansible changed something: {ansible_second:?}"
    );
    assert_eq!(
        drover_second.1[1], 0,
        "drover changed something: {drover_second:?}"
    );
    assert_eq!(
        drover_second.0.join("\n"),
        ansible_second.0.join("\n"),
        "per-task results differ on the second run"
    );
}

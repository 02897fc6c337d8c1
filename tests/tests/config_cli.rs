//! `drover config list|dump|view` against `ansible-config` (the oracle venv) on the same
//! `ansible.cfg` and environment: every setting drover reads that ansible-core also has must have
//! the same value and origin, `--only-changed` the same names, `list` the same keys and variables.
//! Also: line numbers in the dump, a bad value warned about, and `drover play` resolving a role
//! through a relative `roles_path` of an `ansible.cfg` named by `ANSIBLE_CONFIG` (the table feeds
//! the run, not only the listing). No hosts.

use std::path::Path;
use std::process::Command;

use drover_integration::{drover_command, oracle_ansible_playbook, DroverOutput};
use serde_json::Value;

const CFG: &str = "\
# a comment
[defaults]
forks = 20
inventory = hosts, more/hosts
roles_path = roles:/opt/roles
collections_path = ~/colls
timeout = 7
host_key_checking = False
strategy = free
remote_user = 'deploy'
private_key_file = keys/id
vault_identity_list = dev@/x/dev, prod@/x/prod
force_handlers = yes

[privilege_escalation]
become = true
become_method = su
";

/// Runs `program args` in `dir` with only PATH, HOME=`dir` and `env` set.
fn run_in(program: &Path, args: &[&str], dir: &Path, env: &[(&str, &str)]) -> DroverOutput {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("PYTHONWARNINGS", "ignore")
        .envs(env.iter().copied());
    let out = cmd.output().expect("the command runs");
    DroverOutput {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn drover(args: &[&str], dir: &Path, env: &[(&str, &str)]) -> DroverOutput {
    let bin = drover_command().get_program().to_owned();
    run_in(Path::new(&bin), args, dir, env)
}

fn ansible_config(args: &[&str], dir: &Path, env: &[(&str, &str)]) -> DroverOutput {
    let bin = oracle_ansible_playbook().with_file_name("ansible-config");
    run_in(&bin, args, dir, env)
}

fn json(out: &DroverOutput) -> Value {
    out.assert_success();
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

/// `name → record` of a `dump --format json` array.
fn by_name(dump: &Value) -> std::collections::BTreeMap<String, Value> {
    dump.as_array()
        .expect("a JSON array")
        .iter()
        .filter_map(|r| Some((r["name"].as_str()?.to_string(), r.clone())))
        .collect()
}

const ENV: &[(&str, &str)] = &[("ANSIBLE_TIMEOUT", "33"), ("ANSIBLE_BECOME_USER", "admin")];

#[test]
fn dump_matches_ansible_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("ansible.cfg"), CFG).expect("write cfg");
    let list = json(&drover(&["config", "list", "-f", "json"], dir.path(), ENV));
    let shared: Vec<String> = list
        .as_object()
        .expect("a map")
        .iter()
        .filter(|(_, def)| def["drover_only"] == false)
        .map(|(name, _)| name.clone())
        .collect();
    assert!(shared.len() >= 14, "{shared:?}");

    let ours = by_name(&json(&drover(
        &["config", "dump", "-f", "json"],
        dir.path(),
        ENV,
    )));
    let theirs = by_name(&json(&ansible_config(
        &["dump", "--format", "json"],
        dir.path(),
        ENV,
    )));
    assert_eq!(ours["CONFIG_FILE"]["value"], theirs["CONFIG_FILE"]["value"]);
    let mut compared = 0;
    for name in &shared {
        let (o, t) = (&ours[name], &theirs[name]);
        assert_eq!(o["origin"], t["origin"], "origin of {name}: {o} vs {t}");
        // drover reads no inventory unless asked (ansible-core defaults to /etc/ansible/hosts).
        if name == "DEFAULT_HOST_LIST" && o["origin"] == "default" {
            continue;
        }
        assert_eq!(o["value"], t["value"], "value of {name}: {o} vs {t}");
        compared += 1;
    }
    assert!(compared >= 14);
    // Values from the file carry their line.
    assert_eq!(ours["DEFAULT_FORKS"]["line"], 3);
    assert_eq!(ours["DEFAULT_BECOME_METHOD"]["line"], 17);
    assert_eq!(ours["DEFAULT_TIMEOUT"]["origin"], "env: ANSIBLE_TIMEOUT");
}

#[test]
fn display_and_only_changed_match_ansible_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("ansible.cfg"), CFG).expect("write cfg");
    let cfg = dir.path().join("ansible.cfg").display().to_string();
    let ours = drover(&["config", "dump", "--only-changed"], dir.path(), ENV);
    ours.assert_success();
    let theirs = ansible_config(&["dump", "--only-changed"], dir.path(), ENV);
    theirs.assert_success();
    assert!(
        ours.stdout
            .contains(&format!("DEFAULT_FORKS({cfg}:3) = 20\n")),
        "{}",
        ours.stdout
    );
    // Without drover's line numbers, each of drover's lines is one of ansible-config's.
    let mut matched = 0;
    for line in ours.stdout.lines() {
        if line.starts_with("DROVER_") || line.starts_with("SSH_COMMON_ARGS") {
            continue;
        }
        let plain = strip_line_number(line);
        assert!(
            theirs.stdout.lines().any(|l| l == plain),
            "{plain:?} is not in ansible-config's output:\n{}",
            theirs.stdout
        );
        matched += 1;
    }
    let theirs_changed = theirs
        .stdout
        .lines()
        .filter(|l| l.contains(") = ") && !l.starts_with("GALAXY_SERVERS"))
        .count();
    assert_eq!(
        matched, theirs_changed,
        "{}\n---\n{}",
        ours.stdout, theirs.stdout
    );
}

/// `NAME(/path:12) = v` → `NAME(/path) = v`.
fn strip_line_number(line: &str) -> String {
    match (line.find('('), line.find(") = ")) {
        (Some(open), Some(close)) => {
            let origin = &line[open + 1..close];
            let origin = match origin.rsplit_once(':') {
                Some((path, n))
                    if n.chars().all(|c| c.is_ascii_digit()) && path.starts_with('/') =>
                {
                    path
                }
                _ => origin,
            };
            format!("{}({origin}{}", &line[..open], &line[close..])
        }
        _ => line.to_string(),
    }
}

#[test]
fn list_has_ansible_config_keys_and_variables() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ours = json(&drover(&["config", "list", "-f", "json"], dir.path(), &[]));
    let theirs = json(&ansible_config(
        &["list", "--format", "json"],
        dir.path(),
        &[],
    ));
    for (name, def) in ours.as_object().expect("a map") {
        if def["drover_only"] == true {
            continue;
        }
        let t = &theirs[name];
        let names = |v: &Value| -> Vec<Value> {
            v.as_array()
                .map(|a| a.iter().map(|e| e["name"].clone()).collect())
                .unwrap_or_default()
        };
        assert_eq!(names(&def["env"]), names(&t["env"]), "env of {name}");
        let ini: Vec<(Value, Value)> = t["ini"]
            .as_array()
            .expect("ini")
            .iter()
            .map(|i| (i["section"].clone(), i["key"].clone()))
            .collect();
        let ours_ini: Vec<(Value, Value)> = def["ini"]
            .as_array()
            .expect("ini")
            .iter()
            .map(|i| (i["section"].clone(), i["key"].clone()))
            .collect();
        assert_eq!(ours_ini, ini, "ini of {name}");
        if let Some(kind) = t["type"].as_str() {
            assert_eq!(def["type"].as_str(), Some(kind), "type of {name}");
        }
    }
    // The YAML form parses and names the same settings.
    let yaml = drover(&["config", "list"], dir.path(), &[]);
    yaml.assert_success();
    assert!(yaml.stdout.contains("DEFAULT_FORKS:\n"), "{}", yaml.stdout);
}

#[test]
fn view_bad_values_and_no_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let none = drover(&["config", "view"], dir.path(), &[]);
    assert_eq!(none.code, Some(1), "{none:?}");
    assert!(none.stderr.contains("no config file"), "{}", none.stderr);
    let text = "[defaults]\nforks = many\n";
    std::fs::write(dir.path().join("ansible.cfg"), text).expect("write cfg");
    let view = drover(&["config", "view"], dir.path(), &[]);
    assert_eq!(view.stdout, text);
    let dump = drover(&["config", "dump"], dir.path(), &[]);
    dump.assert_success();
    assert!(
        dump.stderr.contains("DEFAULT_FORKS") && dump.stderr.contains("many"),
        "{}",
        dump.stderr
    );
    assert!(dump.stdout.contains("DEFAULT_FORKS(/"), "{}", dump.stdout);
    assert!(dump.stdout.contains(") = 5\n"), "{}", dump.stdout);
    // -c names another file.
    let other = dir.path().join("other.cfg");
    std::fs::write(&other, "[defaults]\nforks = 3\n").expect("write");
    let dump = drover(
        &[
            "config",
            "dump",
            "-c",
            &other.display().to_string(),
            "--only-changed",
        ],
        dir.path(),
        &[],
    );
    assert!(
        dump.stdout
            .contains(&format!("DEFAULT_FORKS({}:2) = 3", other.display())),
        "{}",
        dump.stdout
    );
}

#[test]
fn play_resolves_roles_path_relative_to_the_config_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let conf = dir.path().join("conf");
    std::fs::create_dir_all(conf.join("myroles/greet/tasks")).expect("mkdir");
    std::fs::write(
        conf.join("ansible.cfg"),
        "[defaults]\nroles_path = myroles\n",
    )
    .expect("cfg");
    std::fs::write(
        conf.join("myroles/greet/tasks/main.yml"),
        "- debug:\n    msg: hello from greet\n",
    )
    .expect("role");
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).expect("mkdir");
    std::fs::write(
        work.join("site.yml"),
        "- hosts: localhost\n  gather_facts: false\n  roles: [greet]\n",
    )
    .expect("playbook");
    let cfg = conf.join("ansible.cfg").display().to_string();
    let out = drover(&["play", "site.yml"], &work, &[("ANSIBLE_CONFIG", &cfg)]);
    out.assert_success();
    assert!(out.stdout.contains("hello from greet"), "{}", out.stdout);
    // Without the config the role is not found.
    let out = drover(&["play", "site.yml", "--syntax-check"], &work, &[]);
    assert_eq!(out.code, Some(1), "{out:?}");
}

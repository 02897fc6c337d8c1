//! docker_container against community.docker on the same private engine: one scenario playbook
//! (create, same again, change an option that recreates, change one updated in place, stop,
//! start, remove) run by ansible-playbook and by drover (different container names and ports),
//! each in four passes (check, apply, apply, check). The `changed` sequences must be equal, and
//! so must `container.State.Running`, `container.Config.Image` and
//! `container.HostConfig.RestartPolicy` of every task — except where drover differs on purpose:
//! community.docker compares published ports and networks allowing more present, so removing a
//! port or a network from the task changes nothing (the port stays published, the network
//! joined: its users' most filed idempotence complaint); drover makes both a difference. Those
//! tasks are listed per scenario with drover's own expected `changed`.

use std::path::Path;
use std::process::Command;

use drover_integration::{
    oracle_ansible_playbook, oracle_collections_path, run_drover, TestDockerEngine, TEST_IMAGE,
};
use serde_json::Value;

const TWO_PORTS: &str = "published_ports: [\"{{ hport }}:80\", \"{{ hport2 }}:81\"]";
const ONE_PORT: &str = "published_ports: [\"{{ hport }}:80\"]";

/// (task name, options beyond name/image/command/init; `TWO`/`ONE` stand for the ports).
const TASKS: &[(&str, &str)] = &[
    (
        "create",
        "env: {A: \"1\"}\n  restart_policy: unless-stopped\n  TWO",
    ),
    (
        "same again",
        "env: {A: \"1\"}\n  restart_policy: unless-stopped\n  TWO",
    ),
    (
        "change env",
        "env: {A: \"2\"}\n  restart_policy: unless-stopped\n  TWO",
    ),
    // community.docker compares published ports allowing more present: no change; drover
    // unpublishes the port (recreates).
    (
        "drop a published port",
        "env: {A: \"2\"}\n  restart_policy: unless-stopped\n  ONE",
    ),
    (
        "change restart policy",
        "env: {A: \"2\"}\n  restart_policy: always\n  ONE",
    ),
    (
        "stop",
        "env: {A: \"2\"}\n  restart_policy: always\n  ONE\n  state: stopped",
    ),
    (
        "start",
        "env: {A: \"2\"}\n  restart_policy: always\n  ONE\n  state: started",
    ),
    ("remove", "state: absent"),
];

/// The `changed` sequence of an apply pass from scratch (and of a check pass from scratch), as
/// community.docker reports them.
const APPLY_CHANGED: &[bool] = &[true, false, true, false, true, true, true, true];
/// Tasks where drover differs on purpose in an apply pass: (task index, drover's `changed`).
const APPLY_DIFFERENT: &[(usize, bool)] = &[(3, true)];
const CHECK_CHANGED: &[bool] = &[true, true, true, true, true, true, true, false];

/// A scenario: its tasks (name, options beyond name/image/init), the image, and the expected
/// `changed` sequences of an apply pass and a check pass from scratch.
struct Scenario {
    tasks: &'static [(&'static str, &'static str)],
    image: &'static str,
    /// Options every task gets.
    common: &'static str,
    apply: &'static [bool],
    check: &'static [bool],
    /// Apply-pass tasks where drover's `changed` differs from community.docker's on purpose.
    apply_different: &'static [(usize, bool)],
}

fn playbook(engine: &TestDockerEngine, sc: &Scenario, out: &Path) -> String {
    let module = "community.docker.docker_container";
    let mut y = String::from("- hosts: all\n  gather_facts: false\n  tasks:\n");
    let mut regs = Vec::new();
    for (i, (name, opts)) in sc.tasks.iter().enumerate() {
        let opts = opts
            .replace("TWO", TWO_PORTS)
            .replace("ONE", ONE_PORT)
            .replace("\n  ", "\n        ");
        y.push_str(&format!(
            "    - name: {name}\n      {module}:\n        docker_host: {host}\n        \
             name: \"{{{{ cname }}}}\"\n        image: {image}\n        \
             init: true\n        {common}{opts}\n      register: r{i}\n",
            host = engine.docker_host(),
            image = sc.image,
            common = sc.common,
        ));
        regs.push(format!("r{i}"));
    }
    y.push_str(&format!(
        "    - copy:\n        content: \"{{{{ [{}] | to_json }}}}\"\n        dest: {}\n      \
         check_mode: false\n",
        regs.join(", "),
        out.display()
    ));
    y
}

fn read(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).expect("results file");
    serde_json::from_str::<Vec<Value>>(&text).expect("results json")
}

fn summary(results: &[Value]) -> Vec<(bool, Value, Value, Value)> {
    results
        .iter()
        .map(|r| {
            let c = r.get("container").cloned().unwrap_or(Value::Null);
            let field = |ptr: &str| c.pointer(ptr).cloned().unwrap_or(Value::Null);
            (
                r["changed"].as_bool().unwrap_or(false),
                field("/State/Running"),
                field("/Config/Image"),
                field("/HostConfig/RestartPolicy"),
            )
        })
        .collect()
}

#[test]
fn docker_container_matches_community_docker() {
    let engine = TestDockerEngine::start();
    compare(
        &engine,
        &Scenario {
            tasks: TASKS,
            image: TEST_IMAGE,
            common: "command: sleep infinity\n        ",
            apply: APPLY_CHANGED,
            check: CHECK_CHANGED,
            apply_different: APPLY_DIFFERENT,
        },
    );
}

/// Networks joined and left, image-provided defaults, an in-place update, state changes.
const NET_TASKS: &[(&str, &str)] = &[
    (
        "create with a network",
        "networks: [{name: na, aliases: [x]}]\n  env: {E: \"1\"}\n  labels: {l: \"1\"}\n  exposed_ports: [\"6000\"]",
    ),
    (
        "add a network",
        "networks: [{name: na, aliases: [x]}, {name: nb}]\n  env: {E: \"1\"}",
    ),
    ("drop a network", "networks: [{name: na}]"),
    (
        "drop a network strictly",
        "networks: [{name: na}]\n  comparisons: {networks: strict}",
    ),
    ("memory", "memory: 32M\n  memory_swap: 64M"),
    ("more memory", "memory: 48M\n  memory_swap: 96M"),
    ("the image's command", "command: [sleep, infinity]"),
    ("env strictly", "env: {E: \"1\"}\n  comparisons: {env: strict}"),
    ("stop", "state: stopped"),
    ("present", "state: present"),
    ("restart policy", "state: present\n  restart_policy: always"),
    ("remove", "state: absent"),
];

const NET_APPLY: &[bool] = &[
    true, true, false, true, true, true, false, false, true, false, true, true,
];
/// "drop a network" leaves it in drover (community.docker keeps it joined), so the strict
/// drop that follows has nothing left to do.
const NET_APPLY_DIFFERENT: &[(usize, bool)] = &[(2, true), (3, false)];
const NET_CHECK: &[bool] = &[
    true, true, true, true, true, true, true, true, true, true, true, false,
];

#[test]
fn networks_and_image_defaults_match_community_docker() {
    let engine = TestDockerEngine::start();
    engine.docker_ok(&["network", "create", "na"]);
    engine.docker_ok(&["network", "create", "nb"]);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("Dockerfile"),
        format!(
            "FROM {TEST_IMAGE}\nENV IMG=1\nLABEL img=1\nEXPOSE 5000\nVOLUME /data\n\
             CMD [\"sleep\", \"infinity\"]\n"
        ),
    )
    .unwrap();
    engine.docker_ok(&[
        "build",
        "-q",
        "-t",
        "local/d:1",
        dir.path().to_str().unwrap(),
    ]);
    compare(
        &engine,
        &Scenario {
            tasks: NET_TASKS,
            image: "local/d:1",
            common: "",
            apply: NET_APPLY,
            check: NET_CHECK,
            apply_different: NET_APPLY_DIFFERENT,
        },
    );
}

fn compare(engine: &TestDockerEngine, sc: &Scenario) {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let base = 21000 + u16::from(engine.slot()) * 50 + 40;
    let ansible_out = d.join("ansible.json");
    let drover_out = d.join("drover.json");
    std::fs::write(d.join("ansible.yml"), playbook(engine, sc, &ansible_out)).unwrap();
    std::fs::write(d.join("drover.yml"), playbook(engine, sc, &drover_out)).unwrap();
    let ansible = oracle_ansible_playbook();
    let python = ansible.parent().unwrap().join("python");
    for (pass, mode) in ["--check", "", "", "--check"].iter().enumerate() {
        let mut args = vec!["-c", "local", "-i", "localhost,"];
        if !mode.is_empty() {
            args.push(mode);
        }
        let interp = format!("ansible_python_interpreter={}", python.display());
        let avars = format!("cname=oracle-c hport={base} hport2={}", base + 2);
        let out = Command::new(ansible)
            .args(&args)
            .args(["-e", &interp, "-e", &avars])
            .arg(d.join("ansible.yml"))
            .env("ANSIBLE_COLLECTIONS_PATH", oracle_collections_path())
            .env("ANSIBLE_NOCOLOR", "1")
            .output()
            .expect("run ansible-playbook");
        assert!(
            out.status.success(),
            "ansible pass {pass}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let dvars = format!("cname=drover-c hport={} hport2={}", base + 1, base + 3);
        let mut dargs = vec![
            "play".to_string(),
            d.join("drover.yml").display().to_string(),
        ];
        dargs.extend(args.iter().map(|s| s.to_string()));
        dargs.extend(["-e".to_string(), dvars]);
        let dout = run_drover(dargs);
        dout.assert_success();

        let a = summary(&read(&ansible_out));
        let b = summary(&read(&drover_out));
        let changed = |s: &[(bool, Value, Value, Value)]| s.iter().map(|x| x.0).collect::<Vec<_>>();
        let want = if mode.is_empty() { sc.apply } else { sc.check };
        assert_eq!(changed(&a), want, "pass {pass} ({mode}): community.docker");
        let mut drover_want = want.to_vec();
        let different: &[(usize, bool)] = if mode.is_empty() {
            sc.apply_different
        } else {
            &[]
        };
        for (i, c) in different {
            drover_want[*i] = *c;
        }
        assert_eq!(changed(&b), drover_want, "pass {pass} ({mode}): drover");
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            let task = sc.tasks[i].0;
            if different.iter().any(|(d, _)| *d == i) {
                // The same fields, whatever the decision: the container runs the same image.
                assert_eq!(
                    (&x.1, &x.2, &x.3),
                    (&y.1, &y.2, &y.3),
                    "pass {pass}, task {task}"
                );
            } else if mode.is_empty() {
                assert_eq!(x, y, "pass {pass}, task {task}: results differ");
            } else {
                // Check mode with nothing created: community.docker omits `container`, drover
                // returns {} (as for absent); what exists must agree.
                if !x.1.is_null() || !y.1.is_null() {
                    assert_eq!(x, y, "pass {pass}, task {task}: results differ");
                }
            }
        }
    }
    assert!(!engine
        .docker(&["container", "inspect", "drover-c"])
        .status
        .success());
}

//! `lxc_container` against community.general's over one lifecycle: create from the busybox
//! template, snapshot clone, start, config edits, stop, freeze, unfreeze, restart, destroy. community.general's
//! module needs the python `lxc` bindings (Debian's python3-lxc), so ansible-playbook runs it
//! under the system python (`-c local -e ansible_python_interpreter=/usr/bin/python3`).
//!
//! Both run in LXC's default lxcpath (/var/lib/lxc): community.general only lists and creates
//! containers in `lxc_path`; it starts, stops and reads them through `lxc.Container(name)`,
//! which is always the default path. Names are `drvlx-o<pid>a-…` (ansible) and
//! `drvlx-o<pid>d-…` (drover); a Drop guard destroys them, and `tests/harness/cleanup.sh`
//! destroys those of a test process that died.
//!
//! Compared per step: `changed` and `lxc_container`'s `state`, `interfaces`, `ips`, `cloned`
//! and whether `init_pid` is a PID. Where community.general is wrong drover is asserted right
//! instead: it has no check mode (drover's check run of every step must predict its apply), and
//! an edited `container_config` key gets a duplicate line there (one line in drover).

mod lxc_common;

use std::process::Command;

use drover_integration::{oracle_ansible_playbook, oracle_collections_path, run_drover};
use lxc_common::{sh, NET_CONF, RCS};
use serde_json::{json, Value};

const LXCPATH: &str = "/var/lib/lxc";

/// Destroys this process's oracle containers in the default lxcpath.
struct Guard {
    prefix: String,
}

impl Drop for Guard {
    fn drop(&mut self) {
        // LXC's lock files of these containers.
        sh(&format!("rm -f /run/lxc/lock{LXCPATH}/.{}*", self.prefix));
        for _ in 0..3 {
            let (_, names) = sh(&format!("lxc-ls -P {LXCPATH} -1 2>/dev/null"));
            let mine: Vec<&str> = names
                .split_whitespace()
                .filter(|n| n.starts_with(&self.prefix))
                .collect();
            if mine.is_empty() {
                return;
            }
            for n in mine {
                sh(&format!(
                    "lxc-unfreeze -n '{n}' >/dev/null 2>&1; lxc-stop -k -n '{n}' >/dev/null 2>&1; lxc-destroy -n '{n}' >/dev/null 2>&1"
                ));
            }
        }
    }
}

/// The lifecycle's steps, for source `s` and clone `w`: each is one task (module options).
fn steps(s: &str, w: &str, net_conf: &str) -> Vec<String> {
    vec![
        format!("name: {s}\ntemplate: busybox\nconfig: {net_conf}\nstate: stopped"),
        format!("name: {s}\nstate: stopped\nclone_name: {w}\nclone_snapshot: true\nbacking_store: overlayfs"),
        format!("name: {w}\nstate: started"),
        format!("name: {w}\nstate: started"),
        format!("name: {w}\ncontainer_config:\n  - lxc.start.auto = 1"),
        format!("name: {w}\ncontainer_config:\n  - lxc.start.auto = 1"),
        format!("name: {w}\ncontainer_config:\n  - lxc.start.auto = 0"),
        format!("name: {w}\nstate: stopped"),
        format!("name: {w}\nstate: frozen"),
        format!("name: {w}\nstate: frozen"),
        format!("name: {w}\nstate: started"),
        format!("name: {w}\nstate: restarted"),
        format!("name: {w}\nstate: absent"),
        format!("name: {w}\nstate: absent"),
        format!("name: {s}\nstate: absent"),
    ]
}

fn task(opts: &str, extra: &str, reg: &str) -> String {
    let mut t = String::from("    - community.general.lxc_container:\n");
    for line in opts.lines() {
        t.push_str(&format!("        {line}\n"));
    }
    t + extra + &format!("      register: {reg}\n")
}

/// After step 0, busybox's init script without udhcpc (see `lxc_common::RCS`).
fn fix_rcs(s: &str) -> String {
    format!(
        "    - copy:\n        dest: {LXCPATH}/{s}/rootfs/etc/init.d/rcS\n        content: {rcs:?}\n        mode: '0755'\n",
        rcs = RCS
    )
}

/// The compared part of a result.
fn summary(r: &Value, s: &str, w: &str) -> Value {
    let c = &r["lxc_container"];
    let rename = |v: &Value| json!(v.as_str().map(|n| n.replace(s, "SRC").replace(w, "WEB")));
    json!({
        "changed": r["changed"],
        "name": rename(&c["name"]),
        "state": c["state"],
        "interfaces": c["interfaces"],
        "ips": c["ips"],
        "cloned": c.get("cloned"),
        // A PID, or community.general's -1 for none.
        "pid": c["init_pid"].as_i64().map(|p| if p > 0 { json!("PID") } else { json!(p) }),
    })
}

#[test]
fn lifecycle_matches_community_general() {
    drover_integration::require_root_and_setup();
    let pid = std::process::id();
    let prefix = format!("drvlx-o{pid}");
    let _guard = Guard {
        prefix: prefix.clone(),
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let net_conf = d.join("net.conf");
    std::fs::write(&net_conf, NET_CONF).expect("net.conf");
    let net_conf = net_conf.display().to_string();

    // community.general: the whole lifecycle in one playbook.
    let (as_, aw) = (format!("{prefix}a-src"), format!("{prefix}a-web"));
    let a_steps = steps(&as_, &aw, &net_conf);
    let mut book = String::from("- hosts: all\n  gather_facts: false\n  tasks:\n");
    for (i, opts) in a_steps.iter().enumerate() {
        book.push_str(&task(opts, "", &format!("r{i}")));
        if i == 0 {
            book.push_str(&fix_rcs(&as_));
        }
        if i == 6 {
            book.push_str(&format!(
                "    - slurp:\n        src: {LXCPATH}/{aw}/config\n      register: cfg\n"
            ));
        }
    }
    let regs: Vec<String> = (0..a_steps.len()).map(|i| format!("r{i}")).collect();
    book.push_str(&format!(
        "    - copy:\n        dest: {}/ansible.json\n        content: \"{{{{ {{'results': [{}], 'config': cfg.content | b64decode}} | to_json }}}}\"\n",
        d.display(),
        regs.join(", ")
    ));
    std::fs::write(d.join("ansible.yml"), &book).expect("book");
    let python = "/usr/bin/python3";
    let out = Command::new(oracle_ansible_playbook())
        .arg(d.join("ansible.yml"))
        .args(["-c", "local", "-i", "localhost,", "-e"])
        .arg(format!("ansible_python_interpreter={python}"))
        .env("ANSIBLE_COLLECTIONS_PATH", oracle_collections_path())
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
        .output()
        .expect("run ansible-playbook");
    assert!(
        out.status.success(),
        "ansible-playbook failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let ansible: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("ansible.json")).expect("results"))
            .expect("json");

    // drover: each step in its own run, check mode first (it must predict the apply).
    let (ds, dw) = (format!("{prefix}d-src"), format!("{prefix}d-web"));
    let d_steps = steps(&ds, &dw, &net_conf);
    let mut drover = Vec::new();
    let mut drover_config = String::new();
    for (i, opts) in d_steps.iter().enumerate() {
        let mut book = String::from("- hosts: all\n  gather_facts: false\n  tasks:\n");
        book.push_str(&task(opts, "      check_mode: true\n", "p"));
        book.push_str(&task(opts, "", "r"));
        if i == 0 {
            book.push_str(&fix_rcs(&ds));
        }
        book.push_str(&format!(
            "    - copy:\n        dest: {}/drover.json\n        content: \"{{{{ {{'p': p, 'r': r}} | to_json }}}}\"\n",
            d.display()
        ));
        std::fs::write(d.join("drover.yml"), &book).expect("book");
        let out = run_drover([
            "play",
            &d.join("drover.yml").display().to_string(),
            "-c",
            "local",
            "-i",
            "localhost,",
        ]);
        out.assert_success();
        let v: Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("drover.json")).expect("results"))
                .expect("json");
        assert_eq!(
            v["p"]["changed"], v["r"]["changed"],
            "step {i} ({opts}): check mode predicted {} but the apply reported {}",
            v["p"]["changed"], v["r"]["changed"]
        );
        assert_eq!(
            v["p"]["lxc_container"]["state"], v["r"]["lxc_container"]["state"],
            "step {i}: predicted state"
        );
        if i == 6 {
            drover_config =
                std::fs::read_to_string(format!("{LXCPATH}/{dw}/config")).expect("config");
        }
        drover.push(v["r"].clone());
    }

    let results = ansible["results"].as_array().expect("results");
    assert_eq!(results.len(), drover.len());
    for (i, (a, d)) in results.iter().zip(&drover).enumerate() {
        let (a, d) = (summary(a, &as_, &aw), summary(d, &ds, &dw));
        assert_eq!(
            a, d,
            "step {i} ({}): community.general vs drover",
            a_steps[i]
        );
    }

    // The config edit: community.general inserts `lxc.start.auto = 0` after the old line and
    // keeps both (LXC reads the last); drover replaces the line.
    let a_cfg = ansible["config"].as_str().unwrap_or_default();
    assert_eq!(a_cfg.matches("lxc.start.auto").count(), 2, "{a_cfg}");
    assert_eq!(
        drover_config.matches("lxc.start.auto").count(),
        1,
        "{drover_config}"
    );
    assert!(drover_config.contains("lxc.start.auto = 0\n"));
}

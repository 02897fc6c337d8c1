//! Real-world patterns, compared with ansible-core: `playbooks/tests/realworld/site.yml` and its
//! roles (our own code, written after reading how public Galaxy/GitHub roles are built — the
//! playbook's header names them and what was taken from each) run by ansible-playbook on one fresh
//! Debian 12 host and by drover on another.
//!
//! Constructs covered: OS-family dispatch (`include_vars: "{{ ansible_os_family }}.yml"`,
//! `include_tasks: setup-{{ ansible_os_family }}.yml`; the `with_first_found` form over
//! distribution-version / family / default files runs in `pending.yml`, see below),
//! defaults / role vars / `vars_files` layering (a relative path), `meta` dependencies carrying
//! variables in both styles (a role that runs twice with different parameters, one deduplicated),
//! `with_subelements` with `skip_missing`, `with_dict`, `loop_control` (`label`, `loop_var`),
//! `default(omit)`, `| bool` on strings, nested `block`/`rescue`/`always`, handlers notified
//! across roles through `listen` and `notify` lists, `meta: flush_handlers`, `delegate_to:
//! localhost` + `become: false` + `run_once`, `changed_when`/`failed_when`/`check_mode: false` on
//! commands, `until`/`retries`/`delay`, `stat` then `when: not x.stat.exists`, `lineinfile` and
//! `template` with `validate`, `import_tasks` and `include_tasks` with `apply`, `lookup('file')`,
//! `lookup('template')`, `lookup('env')`, `ansible_facts[...]`, `hostvars`, `getent`.
//!
//! Compared: per-task status lines (loop items and labels included), debug messages, the PLAY
//! RECAP line, the hosts' end state (files, users, packages, services, the served page), the file
//! built on the controller, and a second run with `changed=0` for both tools. Retry lines of a
//! wait on a service reload are left out (their count depends on timing).
//!
//! `pending_constructs_match_ansible_core` does the same for `pending.yml`: constructs that first
//! failed in drover and were fixed by other work (its header and the test's doc say which).

use std::path::{Path, PathBuf};

use drover_integration::{repo_root, target_changed, OracleComparison, TestHosts};

/// Tasks whose retry count depends on timing (a service reload), not on the playbook: their
/// `FAILED - RETRYING` lines are left out of the comparison.
const TIMING_DEPENDENT_RETRIES: &[&str] = &["rw_app : Wait for the shop to answer"];

/// Per-task status lines of host `target` (delegated ones included: `[target -> localhost]`),
/// without result payloads, minus timing-dependent retry lines.
fn comparable_results(output: &str) -> Vec<(String, String)> {
    let mut task = String::new();
    let mut out = Vec::new();
    for line in output.lines() {
        if let Some(rest) = line
            .strip_prefix("TASK [")
            .or_else(|| line.strip_prefix("RUNNING HANDLER ["))
        {
            task = rest.split("] ").next().unwrap_or(rest).to_string();
        } else if line.contains("[target]") || line.contains("[target -> ") {
            let status = line.split(" => {").next().unwrap_or(line).to_string();
            let timing = status.starts_with("FAILED - RETRYING")
                && TIMING_DEPENDENT_RETRIES.contains(&task.as_str());
            if !timing {
                out.push((task.clone(), status));
            }
        }
    }
    out
}

/// The `"msg": ...` lines of debug results (and the items of list messages), in order.
fn debug_messages(output: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_list = false;
    for line in output.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("\"msg\":") {
            in_list = trimmed.ends_with('[');
            out.push(trimmed.to_string());
        } else if in_list {
            if trimmed.starts_with(']') {
                in_list = false;
            }
            out.push(trimmed.to_string());
        }
    }
    out
}

/// The PLAY RECAP line of host `target`, whitespace-normalized.
fn recap(output: &str) -> String {
    output
        .lines()
        .find(|l| l.starts_with("target "))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| panic!("no recap for target:\n{output}"))
}

/// What the run left on host `i`: accounts, keys, sudoers, sysctl and limits files, the nginx
/// sites, the release tree, packages, the service and the page it serves.
fn host_state(hosts: &TestHosts, i: usize) -> String {
    hosts.ssh_ok(
        i,
        "for u in alice bob carol; do getent passwd $u; id $u; done; \
         getent group developers ops; getent passwd olduser || echo 'no olduser'; \
         stat -c '%n %U %G %a' /home/alice/.ssh /home/alice/.ssh/authorized_keys \
           /home/bob/.ssh/authorized_keys /etc/sudoers.d/rw-admins /etc/sysctl.d/60-rw-hardening.conf \
           /etc/security/limits.d/60-rw.conf /etc/rw-banner; \
         test ! -e /home/carol/.ssh && echo 'carol has no .ssh'; \
         cat /home/alice/.ssh/authorized_keys /home/bob/.ssh/authorized_keys /etc/sudoers.d/rw-admins \
           /etc/sysctl.d/60-rw-hardening.conf /etc/security/limits.d/60-rw.conf /etc/rw-banner \
           /var/tmp/rw-settle-count; \
         ls -l /etc/nginx/sites-enabled | tail -n +2 | awk '{print $1, $9, $10, $11}'; \
         cat /etc/nginx/sites-available/shop.example.test.conf; grep -n server_tokens /etc/nginx/nginx.conf; \
         cd /srv/shop && find . -printf '%p %y %m %u %g %l\\n' | sort && \
         cat current/MANIFEST current/NOTES current/app.ini current/features.ini current/public/index.html; \
         dpkg-query -W -f='${Package} ${Status}\\n' nginx-light curl ca-certificates; \
         systemctl is-enabled nginx; systemctl is-active nginx; \
         curl -fsS http://127.0.0.1:8080/index.html",
    )
}

/// With `DROVER_ORACLE_DUMP=<dir>` set, writes both tools' outputs there (for diffing by hand).
fn dump(run: &str, ansible: &str, drover: &str) {
    if let Some(dir) = std::env::var_os("DROVER_ORACLE_DUMP") {
        let dir = PathBuf::from(dir);
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join(format!("realworld-{run}-ansible.txt")), ansible);
        let _ = std::fs::write(dir.join(format!("realworld-{run}-drover.txt")), drover);
    }
}

/// Runs `book` with both tools at once (each on its own host); each gets its own controller-side
/// build directory. Returns (ansible's output, drover's output).
fn run_both(oracle: &OracleComparison<'_>, book: &Path, dir: &Path) -> (String, String) {
    let build = |tool: &str| {
        format!(
            "app_build_dir={}",
            dir.join(format!("build-{tool}")).display()
        )
    };
    let (ansible_extra, drover_extra) = (build("ansible"), build("drover"));
    std::thread::scope(|s| {
        // Pipelining only makes the oracle faster (one SSH operation per module).
        let ansible = s.spawn(|| {
            oracle.run_ansible(
                book,
                &["-e", &ansible_extra, "-e", "ansible_pipelining=true"],
            )
        });
        let drover = oracle.run_drover(book, &["-e", &drover_extra]);
        match ansible.join() {
            Ok(ansible) => (ansible, drover),
            Err(_) => panic!("ansible-playbook failed (its output is above); drover's:\n{drover}"),
        }
    })
}

/// Two fresh hosts, ansible-core's (with python3) and drover's, both with fresh package lists.
fn start_pair(hosts: &TestHosts) -> OracleComparison<'_> {
    std::thread::scope(|s| {
        let drover_side = s.spawn(|| hosts.ssh_ok(1, "apt-get update -qq"));
        let oracle = OracleComparison::new(hosts, 0, 1);
        drover_side.join().expect("update drover's host");
        oracle
    })
}

/// Runs `book` (relative to `playbooks/tests/realworld`) twice with both tools and compares
/// per-task lines, debug messages and recaps of each run, `state` of both hosts after each run,
/// and `changed=0` on the second run. `at_least` is (result lines, debug messages) the oracle's
/// first run must have, so that a misread transcript cannot pass.
fn compare_twice(
    book: &str,
    at_least: (usize, usize),
    state: impl Fn(&TestHosts, usize) -> String,
) -> (TestHosts, PathBuf) {
    let started = std::time::Instant::now();
    let hosts = TestHosts::start(2);
    let oracle = start_pair(&hosts);
    eprintln!("hosts ready after {:?}", started.elapsed());
    let dir = hosts.dir().to_path_buf();
    let book = repo_root().join("playbooks/tests/realworld").join(book);
    let stem = book
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("book")
        .to_string();

    let (ansible_first, drover_first) = run_both(&oracle, &book, &dir);
    dump(&format!("{stem}-first"), &ansible_first, &drover_first);
    eprintln!("first runs done after {:?}", started.elapsed());
    let expected = comparable_results(&ansible_first);
    assert!(
        expected.len() >= at_least.0,
        "the oracle's output was not understood:\n{ansible_first}"
    );
    assert_eq!(
        comparable_results(&drover_first),
        expected,
        "per-task results differ\n--- drover:\n{drover_first}\n--- ansible:\n{ansible_first}"
    );
    let messages = debug_messages(&ansible_first);
    assert!(messages.len() >= at_least.1, "{ansible_first}");
    assert_eq!(
        debug_messages(&drover_first),
        messages,
        "debug messages differ"
    );
    assert_eq!(recap(&drover_first), recap(&ansible_first), "recaps differ");
    let first_state = state(&hosts, oracle.ansible_host());
    assert_eq!(
        state(&hosts, oracle.drover_host()),
        first_state,
        "hosts differ"
    );

    let (ansible_second, drover_second) = run_both(&oracle, &book, &dir);
    dump(&format!("{stem}-second"), &ansible_second, &drover_second);
    eprintln!("second runs done after {:?}", started.elapsed());
    assert_eq!(target_changed(&ansible_second), 0, "{ansible_second}");
    assert_eq!(target_changed(&drover_second), 0, "{drover_second}");
    assert_eq!(
        comparable_results(&drover_second),
        comparable_results(&ansible_second),
        "per-task results differ on the second run\n--- drover:\n{drover_second}\n--- ansible:\n{ansible_second}"
    );
    assert_eq!(
        debug_messages(&drover_second),
        debug_messages(&ansible_second)
    );
    assert_eq!(recap(&drover_second), recap(&ansible_second));
    assert_eq!(
        state(&hosts, oracle.drover_host()),
        state(&hosts, oracle.ansible_host())
    );
    drop(oracle);
    (hosts, dir)
}

#[test]
fn realworld_roles_match_ansible_core() {
    let (hosts, dir) = compare_twice("site.yml", (60, 12), |hosts, i| {
        let state = host_state(hosts, i);
        assert!(
            state.contains("nginx-light install ok installed"),
            "{state}"
        );
        state
    });
    let manifest = |tool: &str| {
        std::fs::read_to_string(dir.join(format!("build-{tool}/manifest-1.4.2.txt")))
            .unwrap_or_else(|e| panic!("{tool}'s controller-side manifest: {e}"))
    };
    assert!(manifest("ansible").starts_with("release 1.4.2 for target\n"));
    assert_eq!(
        manifest("drover"),
        manifest("ansible"),
        "controller-side builds differ"
    );
    drop(hosts);
}

/// `pending.yml`: constructs drover first got wrong (see the playbook's header): the run itself
/// (`run_once` as a play keyword); the per-task lines and the `rw_common` debug message (variables
/// from `include_vars` in a `with_first_found` loop) and `admins: alice,carol` (`set_fact`
/// accumulating over a loop); the OpenSSH version message (`'\\1.\\2'` in a double-quoted
/// scalar).
#[test]
fn pending_constructs_match_ansible_core() {
    let (hosts, _dir) = compare_twice("pending.yml", (8, 3), |hosts, i| {
        hosts.ssh_ok(
            i,
            "dpkg-query -W -f='${Package} ${Status}\\n' ca-certificates",
        )
    });
    drop(hosts);
}

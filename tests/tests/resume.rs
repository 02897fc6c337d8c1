//! `drover play --summary FILE` and `--resume SUMMARY` on real hosts: a host fails mid-play
//! (a task fails while a flag file exists), the summary records where, with its registered
//! variable and pending handler and without `no_log` values; resuming after the flag is removed
//! continues that host from the failed task only, leaves the finished host alone and ends in
//! the state an uninterrupted run gives. A changed playbook is refused unless --force-resume.

use drover_integration::{run_drover, DroverOutput, TestHosts};

const PLAYBOOK: &str = r#"- hosts: web
  gather_facts: false
  tasks:
    - name: install release
      copy: {dest: /root/app-version, content: "2\n"}
      notify: restart app
    - name: read release
      command: cat /root/app-version
      register: release
      changed_when: false
    - name: keep a token
      set_fact: {token: "tok-SECRET-4711"}
      no_log: true
    - name: guard
      command: test ! -e /root/fail-flag
      changed_when: false
    - name: record release
      copy:
        dest: /root/app-result
        content: "{{ release.stdout }} {{ token | default('no token') }}\n"
  handlers:
    - name: restart app
      shell: echo restarted >> /root/app-restarts
"#;

fn play(args: &[&str]) -> DroverOutput {
    run_drover(std::iter::once("play").chain(args.iter().copied()))
}

#[test]
fn a_failed_host_resumes_from_its_failed_task_with_its_variables_and_handlers() {
    let hosts = TestHosts::start(2);
    let dir = hosts.dir();
    let inventory = dir.join("hosts.ini");
    hosts.write_inventory(&inventory, "web").expect("inventory");
    let book = dir.join("site.yml");
    std::fs::write(&book, PLAYBOOK).unwrap();
    let (inv, pb) = (inventory.to_str().unwrap(), book.to_str().unwrap());
    let summary = dir.join("summary.json");
    let (failing, healthy) = (&hosts.host(0).name, &hosts.host(1).name);
    hosts.ssh_ok(0, "touch /root/fail-flag");

    let first = play(&[pb, "-i", inv, "--summary", summary.to_str().unwrap()]);
    assert_eq!(first.code, Some(2), "{}\n{}", first.stdout, first.stderr);
    let text = std::fs::read_to_string(&summary).expect("summary written on failure");
    assert!(
        !text.contains("SECRET-4711"),
        "no_log value in the summary:\n{text}"
    );
    let record: serde_json::Value = serde_json::from_str(&text).unwrap();
    let failed = &record["hosts"][failing];
    assert_eq!(failed["end"], "failed", "{text}");
    assert_eq!(
        failed["pending_handlers"],
        serde_json::json!(["restart app"])
    );
    assert_eq!(failed["vars"]["release"]["stdout"], "2");
    assert_eq!(failed["not_restorable"], serde_json::json!(["token"]));
    let tasks = failed["tasks"].as_array().unwrap();
    let statuses: Vec<&str> = tasks
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["changed", "ok", "ok", "failed"], "{text}");
    assert!(tasks[3]["location"]
        .as_str()
        .unwrap()
        .ends_with("site.yml:14:7"));
    assert_eq!(record["hosts"][healthy]["end"], "finished");
    assert_eq!(hosts.ssh_ok(1, "cat /root/app-restarts"), "restarted\n");

    // The playbook changed since: refused, nothing runs.
    std::fs::write(&book, format!("{PLAYBOOK}# edited\n")).unwrap();
    let refused = play(&[pb, "-i", inv, "--resume", summary.to_str().unwrap()]);
    assert_eq!(
        refused.code,
        Some(1),
        "{}\n{}",
        refused.stdout,
        refused.stderr
    );
    assert!(
        refused.stderr.contains("changed since"),
        "{}",
        refused.stderr
    );
    assert!(!refused.stdout.contains("TASK ["), "{}", refused.stdout);
    std::fs::write(&book, PLAYBOOK).unwrap();

    hosts.ssh_ok(0, "rm /root/fail-flag");
    let summary2 = dir.join("summary2.json");
    let resumed = play(&[
        "-i",
        inv,
        "--resume",
        summary.to_str().unwrap(),
        "--summary",
        summary2.to_str().unwrap(),
    ]);
    assert_eq!(
        resumed.code,
        Some(0),
        "{}\n{}",
        resumed.stdout,
        resumed.stderr
    );
    let out = &resumed.stdout;
    // Only the failed host runs, and only from its failed task on.
    assert!(!out.contains(&format!("[{healthy}]")), "{out}");
    assert!(!out.contains("TASK [install release]"), "{out}");
    assert!(!out.contains("TASK [read release]"), "{out}");
    assert!(out.contains("TASK [guard]"), "{out}");
    assert!(out.contains("RUNNING HANDLER [restart app]"), "{out}");
    // The registered variable came back; the no_log one did not.
    assert_eq!(hosts.ssh_ok(0, "cat /root/app-result"), "2 no token\n");
    // Same end state as the host that ran uninterrupted (apart from the unrestorable token).
    for i in 0..2 {
        assert_eq!(hosts.ssh_ok(i, "cat /root/app-version"), "2\n");
        assert_eq!(hosts.ssh_ok(i, "cat /root/app-restarts"), "restarted\n");
    }
    assert_eq!(
        hosts.ssh_ok(1, "cat /root/app-result"),
        "2 tok-SECRET-4711\n"
    );

    // The resumed run's summary covers the whole run: resuming it again does nothing.
    let text = std::fs::read_to_string(&summary2).unwrap();
    let record: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(record["hosts"][failing]["end"], "finished", "{text}");
    assert_eq!(
        record["hosts"][failing]["tasks"].as_array().unwrap().len(),
        6
    );
    assert_eq!(record["hosts"][healthy]["end"], "finished");
    let again = play(&["-i", inv, "--resume", summary2.to_str().unwrap()]);
    assert_eq!(again.code, Some(0), "{}\n{}", again.stdout, again.stderr);
    assert!(!again.stdout.contains("TASK ["), "{}", again.stdout);
}

#[test]
fn vault_values_stay_out_of_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let pass = dir.path().join("pass");
    std::fs::write(&pass, "hunter2\n").unwrap();
    let secrets = dir.path().join("secrets.yml");
    std::fs::write(&secrets, "db_password: vaultpw-9931\n").unwrap();
    let enc = run_drover([
        "vault",
        "encrypt",
        "--vault-password-file",
        pass.to_str().unwrap(),
        secrets.to_str().unwrap(),
    ]);
    assert!(enc.success(), "{}", enc.stderr);
    let book = dir.path().join("site.yml");
    std::fs::write(
        &book,
        r#"- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - include_vars: secrets.yml
    - command: echo "{{ db_password }}"
      register: echoed
    - set_fact: {copy_of: "pw={{ db_password }}", plain: visible}
    - command: echo harmless
      register: harmless
    - fail: {msg: stop here}
"#,
    )
    .unwrap();
    let summary = dir.path().join("summary.json");
    let out = play(&[
        book.to_str().unwrap(),
        "--vault-password-file",
        pass.to_str().unwrap(),
        "--summary",
        summary.to_str().unwrap(),
    ]);
    assert_eq!(out.code, Some(2), "{}\n{}", out.stdout, out.stderr);
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(!text.contains("vaultpw-9931"), "{text}");
    let record: serde_json::Value = serde_json::from_str(&text).unwrap();
    let host = &record["hosts"]["localhost"];
    assert_eq!(
        host["not_restorable"],
        serde_json::json!(["db_password", "echoed", "copy_of"]),
        "{text}"
    );
    assert_eq!(host["vars"]["plain"], "visible");
    assert_eq!(host["vars"]["harmless"]["stdout"], "harmless");
}

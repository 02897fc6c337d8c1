//! Secret hygiene on a real host: one playbook run with every kind of secret drover handles —
//! an SSH login password, a sudo (become) password, vault-encrypted values, `no_log` values —
//! at `-vvvv` with `--diff`, in the default output and with `--output json`, ending in a failing
//! task whose error message holds the secrets, with `--summary FILE`, `--events FILE` and
//! `--profile`. Every byte drover prints (stdout and stderr) and every byte of the summary and
//! events files is searched for each secret: none may appear; likewise for an ad-hoc
//! `drover run -b -vvvv -t DIR` with the same passwords. The run must really use them (password login, sudo with a password
//! read by sudo alone, files written with the secrets), so the test also checks the host; and
//! the become password must not reach the host's journal (sudo logs its command lines).

use std::path::Path;

use drover_integration::{run_drover, DroverOutput, TestHosts};

/// The SSH login password of the account the test creates.
const SSH_PASSWORD: &str = "sshPW-q7Zk2x";
/// Root's password, which sudo asks that account for (`rootpw`).
const BECOME_PASSWORD: &str = "becPW-9Lm'q v";
/// A vault-encrypted value used by the tasks.
const VAULT_VALUE: &str = "vault-T0ken-5521";
/// A plain variable (from a `vars_files` file) used only by `no_log` tasks.
const NO_LOG_VALUE: &str = "nolog-S3cr3t-8842";
/// The vault password.
const VAULT_PASSWORD: &str = "vault-pass-6620";

/// Every secret, with a name for messages.
const SECRETS: [(&str, &str); 5] = [
    ("SSH password", SSH_PASSWORD),
    ("become password", BECOME_PASSWORD),
    ("vault value", VAULT_VALUE),
    ("no_log value", NO_LOG_VALUE),
    ("vault password", VAULT_PASSWORD),
];

/// The test account (password login, sudo with root's password).
const USER: &str = "opsuser";

/// `s` quoted for a POSIX shell.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("write {name}: {e}"));
}

/// Panics naming the secret and where it appeared, with the text around it.
fn assert_no_secret(what: &str, bytes: &[u8]) {
    for (name, secret) in SECRETS {
        if let Some(at) = bytes
            .windows(secret.len())
            .position(|w| w == secret.as_bytes())
        {
            let from = at.saturating_sub(300);
            let to = (at + secret.len() + 300).min(bytes.len());
            panic!(
                "the {name} appears in {what}:\n…{}…",
                String::from_utf8_lossy(&bytes[from..to])
            );
        }
    }
}

const PLAYBOOK: &str = r#"- hosts: target
  gather_facts: false
  become: true
  vars_files: [secrets.yml, plain.yml]
  tasks:
    - name: sudo with the become password
      command: id -u
      register: who
      changed_when: false

    - name: really root
      assert:
        that: who.stdout == '0'

    - name: write the secrets into a file
      copy:
        content: "token={{ app_token }}\nkey={{ nolog_value }}\nround={{ round }}\n"
        dest: /root/app.secret
        mode: "0600"
      no_log: true

    - name: a line holding a secret
      lineinfile:
        path: /root/app.conf
        line: "password={{ nolog_value }}"
        create: true
        mode: "0600"
      no_log: true

    - name: a secret through the environment
      shell: printf '%s\n' "$TOKEN" > /root/token; echo "using $TOKEN"
      environment:
        TOKEN: "{{ app_token }}"
      no_log: true

    - name: a secret in a debug message
      debug:
        msg: "the token is {{ app_token }}"
      no_log: true

    - name: a secret in a fact
      set_fact:
        combined: "{{ app_token }}/{{ nolog_value }}"
      no_log: true

    - name: a failing command whose error holds the secret
      shell: echo "refused {{ nolog_value }} {{ app_token }}" >&2; exit 3
      no_log: true
      ignore_errors: true

    - name: a secret in a rescued failure
      block:
        - name: fails with the secret
          fail:
            msg: "bad {{ app_token }}"
          no_log: true
      rescue:
        - name: rescued
          debug:
            msg: rescued

    - name: the failure that ends the run
      fail:
        msg: "login refused for {{ app_token }} with {{ nolog_value }}"
      no_log: true
"#;

/// `drover play` of the test's playbook and inventory at `-vvvv`, with the vault password.
fn play_args(dir: &Path) -> Vec<String> {
    vec![
        "play".to_string(),
        dir.join("site.yml").display().to_string(),
        "-i".into(),
        dir.join("hosts.ini").display().to_string(),
        "--vault-password-file".into(),
        dir.join("vpass").display().to_string(),
        "-vvvv".into(),
    ]
}

#[test]
fn no_secret_reaches_any_output_at_vvvv_with_diff_json_and_a_failure() {
    let hosts = TestHosts::start(1);
    let dir = hosts.dir();
    // The account: password login (the harness's hosts allow keys only), sudo with root's
    // password, no NOPASSWD.
    hosts.ssh_ok(
        0,
        &format!(
            "set -e; useradd -m -s /bin/bash {USER}; \
             printf '%s\\n' {} | chpasswd; printf '%s\\n' {} | chpasswd; \
             printf 'Defaults:{USER} rootpw\\n{USER} ALL=(ALL:ALL) ALL\\n' >/etc/sudoers.d/{USER}; \
             chmod 440 /etc/sudoers.d/{USER}; visudo -c >/dev/null; \
             sed -i 's/^PasswordAuthentication no/PasswordAuthentication yes/' \
               /etc/ssh/sshd_config.d/drover-test.conf; \
             systemctl reload ssh",
            sh_quote(&format!("{USER}:{SSH_PASSWORD}")),
            sh_quote(&format!("root:{BECOME_PASSWORD}")),
        ),
    );
    let host = hosts.host(0);
    write(
        dir,
        "hosts.ini",
        &format!(
            "[target]\n{} ansible_host={} ansible_user={USER} ansible_password={SSH_PASSWORD} \
             ansible_ssh_common_args='-o UserKnownHostsFile={}'\n",
            host.name,
            host.ip,
            hosts.known_hosts().display()
        ),
    );
    write(dir, "vpass", &format!("{VAULT_PASSWORD}\n"));
    write(
        dir,
        "secrets.yml",
        &format!(
            "app_token: {VAULT_VALUE}\nansible_become_password: '{}'\n",
            BECOME_PASSWORD.replace('\'', "''")
        ),
    );
    run_drover([
        "vault",
        "encrypt",
        "--vault-password-file",
        &dir.join("vpass").display().to_string(),
        &dir.join("secrets.yml").display().to_string(),
    ])
    .assert_success();
    // Not in the playbook: an error's source excerpt may show any of its lines.
    write(dir, "plain.yml", &format!("nolog_value: {NO_LOG_VALUE}\n"));
    write(dir, "site.yml", PLAYBOOK);

    for (round, output) in [(1, None), (2, Some("json"))] {
        let summary_file = dir.join(format!("summary-{round}.json"));
        let events_file = dir.join(format!("events-{round}.jsonl"));
        let mut args = play_args(dir);
        args.extend(["--diff".into(), "-e".into(), format!("round={round}")]);
        if let Some(format) = output {
            args.extend(["--output".into(), format.into()]);
        }
        args.extend([
            "--summary".into(),
            summary_file.display().to_string(),
            "--events".into(),
            events_file.display().to_string(),
            "--profile".into(),
        ]);
        let out: DroverOutput = run_drover(&args);
        eprintln!("--- round {round}\n{}\n{}", out.stdout, out.stderr);
        assert_eq!(out.code, Some(2), "the run must reach the last task");
        let what = format!("round {round}'s");
        assert_no_secret(&format!("{what} stdout"), out.stdout.as_bytes());
        assert_no_secret(&format!("{what} stderr"), out.stderr.as_bytes());
        for (name, file) in [("summary", &summary_file), ("events", &events_file)] {
            let bytes =
                std::fs::read(file).unwrap_or_else(|e| panic!("read {}: {e}", file.display()));
            assert!(
                bytes.len() > 100,
                "{name} file: {}",
                String::from_utf8_lossy(&bytes)
            );
            assert_no_secret(&format!("{what} {name} file"), &bytes);
        }
        // The tasks ran: every one up to the last, which failed with a hidden message.
        for task in [
            "really root",
            "a failing command whose error holds the secret",
            "rescued",
        ] {
            assert!(out.stdout.contains(task), "{task}:\n{}", out.stdout);
        }
        if output.is_none() {
            assert!(
                out.stdout.contains("the output has been hidden"),
                "{}",
                out.stdout
            );
            assert!(out.stdout.contains("changed=") && out.stdout.contains("failed=1"));
        } else {
            for line in out.stdout.lines().filter(|l| l.starts_with('{')) {
                serde_json::from_str::<serde_json::Value>(line)
                    .unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            }
        }
    }

    // A wrong become password fails the first task with sudo's complaint, and is not printed
    // either.
    let wrong = "wrongPW-3141";
    let mut args = play_args(dir);
    args.extend([
        "-e".into(),
        format!("ansible_become_password={wrong}"),
        "-e".into(),
        "round=3".into(),
    ]);
    let out = run_drover(&args);
    eprintln!("--- wrong become password\n{}\n{}", out.stdout, out.stderr);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stdout.contains("incorrect password"),
        "sudo's message:\n{}",
        out.stdout
    );
    assert!(!out.stdout.contains("really root"), "{}", out.stdout);
    for text in [&out.stdout, &out.stderr] {
        assert!(!text.contains(wrong), "{text}");
        assert_no_secret("the wrong-password run's output", text.as_bytes());
    }

    // Ad hoc (`drover run`): the SSH and the vault-encrypted become password, at -vvvv, with
    // each host's result written by -t.
    let tree = dir.join("tree");
    let out = run_drover([
        "run".to_string(),
        "target".into(),
        "-i".into(),
        dir.join("hosts.ini").display().to_string(),
        "-b".into(),
        "-e".into(),
        format!("@{}", dir.join("secrets.yml").display()),
        "--vault-password-file".into(),
        dir.join("vpass").display().to_string(),
        "-vvvv".into(),
        "-t".into(),
        tree.display().to_string(),
        "-a".into(),
        "id -u".into(),
    ]);
    eprintln!("--- drover run\n{}\n{}", out.stdout, out.stderr);
    out.assert_success();
    assert!(out.stdout.contains("rc=0"), "{}", out.stdout);
    assert_no_secret("drover run's stdout", out.stdout.as_bytes());
    assert_no_secret("drover run's stderr", out.stderr.as_bytes());
    let result = tree.join(&host.name);
    let bytes = std::fs::read(&result).unwrap_or_else(|e| panic!("read {}: {e}", result.display()));
    assert!(String::from_utf8_lossy(&bytes).contains("\"stdout\": \"0\""));
    assert_no_secret("drover run's -t file", &bytes);

    // The secrets were really used: sudo with its password, the files the no_log tasks wrote.
    let written = hosts.ssh_ok(0, "cat /root/app.secret /root/app.conf /root/token");
    assert_eq!(
        written,
        format!(
            "token={VAULT_VALUE}\nkey={NO_LOG_VALUE}\nround=2\npassword={NO_LOG_VALUE}\n\
             {VAULT_VALUE}\n"
        )
    );
    // sudo logs the command lines it runs: the become password was never on one; the askpass
    // helpers drover made for sudo are gone.
    let journal = hosts.ssh_ok(0, "journalctl --no-pager -o cat -t sudo | tail -n 200");
    assert!(
        journal.contains("COMMAND="),
        "sudo logged nothing:\n{journal}"
    );
    assert!(!journal.contains(BECOME_PASSWORD), "{journal}");
    assert_eq!(
        hosts.ssh_ok(
            0,
            &format!("find /tmp -maxdepth 1 -user {USER} -type f | wc -l")
        ),
        "0\n"
    );
}

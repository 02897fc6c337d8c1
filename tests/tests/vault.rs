//! Ansible Vault: `drover vault` writes what ansible-vault reads and reads what it writes; plays
//! use vault-encrypted group_vars files and inline `!vault` values on a real host; a missing or
//! wrong password fails before any host is touched; `no_log` keeps the secret out of the output.

use std::path::Path;
use std::process::Command;

use drover_integration::{oracle_ansible_playbook, run_drover, TestHosts};

fn ansible_vault() -> std::path::PathBuf {
    oracle_ansible_playbook().with_file_name("ansible-vault")
}

fn vault_args(password_file: &Path) -> Vec<String> {
    vec![
        "--vault-password-file".into(),
        password_file.display().to_string(),
    ]
}

#[test]
fn vaulted_vars_reach_the_host_and_never_the_output() {
    let hosts = TestHosts::start(1);
    let dir = hosts.dir();
    let password = dir.join("vault-pass.txt");
    std::fs::write(&password, "correct horse\n").unwrap();
    let wrong = dir.join("wrong-pass.txt");
    std::fs::write(&wrong, "battery staple\n").unwrap();

    // A whole group_vars file encrypted by drover; ansible-vault reads it back.
    let group_vars = dir.join("group_vars/all");
    std::fs::create_dir_all(&group_vars).unwrap();
    let vaulted = group_vars.join("vault.yml");
    std::fs::write(&vaulted, "db_password: hunter2-from-file\n").unwrap();
    let mut args = vec![
        "vault".to_string(),
        "encrypt".into(),
        vaulted.display().to_string(),
    ];
    args.extend(vault_args(&password));
    let run = run_drover(&args);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let text = std::fs::read_to_string(&vaulted).unwrap();
    assert!(text.starts_with("$ANSIBLE_VAULT;1.1;AES256\n"), "{text}");
    assert!(!text.contains("hunter2"));
    let view = Command::new(ansible_vault())
        .args(["view", "--vault-password-file"])
        .arg(&password)
        .arg(&vaulted)
        .output()
        .unwrap();
    assert!(view.status.success(), "{view:?}");
    assert_eq!(
        String::from_utf8_lossy(&view.stdout),
        "db_password: hunter2-from-file\n"
    );

    // An inline value encrypted by ansible-vault; drover decrypts it.
    let inline = Command::new(ansible_vault())
        .args(["encrypt_string", "--vault-password-file"])
        .arg(&password)
        .args(["--name", "api_token", "tok{{raw}}"])
        .output()
        .unwrap();
    assert!(inline.status.success(), "{inline:?}");
    let inline_yaml = String::from_utf8_lossy(&inline.stdout).into_owned();
    assert!(
        inline_yaml.starts_with("api_token: !vault |"),
        "{inline_yaml}"
    );

    let h = &hosts.host(0).name;
    let site = format!(
        "- hosts: {h}\n  gather_facts: false\n  vars:\n{vars}  tasks:\n    - name: secret file\n      copy:\n        dest: /root/secret.txt\n        mode: '0600'\n        content: \"{{{{ db_password }}}} {{{{ api_token }}}}\\n\"\n    - name: secret command\n      command: echo {{{{ db_password }}}}\n      no_log: true\n",
        vars = inline_yaml
            .lines()
            .map(|l| format!("    {l}\n"))
            .collect::<String>()
    );
    let with_password: Vec<String> = vault_args(&password);
    let args: Vec<&str> = with_password.iter().map(String::as_str).collect();
    let first = hosts.play("all", "site.yml", &site, &args);
    first.assert_success();
    assert_eq!(first.changed(), 2, "{}", first.stdout);
    assert_eq!(
        hosts.ssh_ok(0, "cat /root/secret.txt"),
        "hunter2-from-file tok{{raw}}\n",
        "vault values are not templated"
    );
    assert!(
        !first.stdout.contains("hunter2") && !first.stderr.contains("hunter2"),
        "no_log output leaked the secret:\n{}",
        first.stdout
    );
    let again = hosts.play("all", "site.yml", &site, &args);
    again.assert_success();
    assert_eq!(
        again.changed(),
        1,
        "only the command reports changed: {}",
        again.stdout
    );

    // No password: the encrypted group_vars file stops the run before any host is touched.
    hosts.ssh_ok(0, "rm /root/secret.txt");
    let none = hosts.play("all", "site.yml", &site, &[]);
    assert_eq!(none.code, Some(1), "{}\n{}", none.stdout, none.stderr);
    assert!(
        none.stderr.contains("vault.yml") && none.stderr.contains("--vault-password-file"),
        "{}",
        none.stderr
    );
    let wrong_args = vault_args(&wrong);
    let wrong_args: Vec<&str> = wrong_args.iter().map(String::as_str).collect();
    let bad = hosts.play("all", "site.yml", &site, &wrong_args);
    assert_eq!(bad.code, Some(1), "{}\n{}", bad.stdout, bad.stderr);
    assert!(bad.stderr.contains("decryption failed"), "{}", bad.stderr);
    assert!(hosts.ssh(0, "test -e /root/secret.txt").status.code() == Some(1));

    // Without the vaulted file, an inline value that no task uses needs no password (Ansible
    // decrypts lazily); using it fails that task with the fix in the message.
    std::fs::remove_file(&vaulted).unwrap();
    let lazy = format!(
        "- hosts: {h}\n  gather_facts: false\n  vars:\n{vars}  tasks:\n    - command: 'true'\n      changed_when: false\n    - debug: var=api_token\n",
        vars = inline_yaml
            .lines()
            .map(|l| format!("    {l}\n"))
            .collect::<String>()
    );
    let run = hosts.play("all", "lazy.yml", &lazy, &[]);
    assert_eq!(run.code, Some(2), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("ok: ["), "{}", run.stdout);
    assert!(
        run.stdout.contains("no vault password was given"),
        "{}",
        run.stdout
    );
}

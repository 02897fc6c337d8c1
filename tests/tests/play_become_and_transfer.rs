//! Becoming root with sudo as an unprivileged user, SSH host key verification through the
//! playbook's connection variables, and large binary transfers through `copy`.

use std::io::Write;

use drover_integration::{run_drover, TestHosts, DEPLOY_USER};

#[test]
fn become_host_keys_and_large_copies() {
    let hosts = TestHosts::start(1);
    let name = hosts.host(0).name.clone();
    let inventory = hosts.dir().join("deploy.ini");
    hosts
        .write_inventory_as(&inventory, "app", DEPLOY_USER)
        .expect("inventory");

    // A 100 MiB binary file from the controller: streamed, checksummed, renamed into place.
    let big = hosts.dir().join("files").join("big.bin");
    std::fs::create_dir_all(big.parent().unwrap()).unwrap();
    let mut f = std::fs::File::create(&big).unwrap();
    let mut block = vec![0u8; 1 << 20];
    for i in 0..100u32 {
        for (j, b) in block.iter_mut().enumerate() {
            *b = (j as u32).wrapping_mul(31).wrapping_add(i) as u8;
        }
        f.write_all(&block).unwrap();
    }
    drop(f);
    let local_sum = std::process::Command::new("sha1sum")
        .arg(&big)
        .output()
        .unwrap();
    let local_sum = String::from_utf8_lossy(&local_sum.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();

    let book = hosts.dir().join("become.yml");
    std::fs::write(
        &book,
        "- hosts: app\n  gather_facts: false\n  tasks:\n\
         \x20   - name: who am i without become\n      command: id -un\n      register: plain\n      changed_when: false\n\
         \x20   - name: who am i with become\n      command: id -un\n      become: true\n      register: elevated\n      changed_when: false\n\
         \x20   - name: as another user\n      command: id -un\n      become: true\n      become_user: nobody\n      register: other\n      changed_when: false\n\
         \x20   - name: root-owned file\n      copy:\n        dest: /etc/drover-become\n        content: secret\n        mode: '0600'\n      become: true\n\
         \x20   - name: big binary file\n      copy:\n        src: big.bin\n        dest: /opt/big.bin\n      become: true\n\
         \x20   - name: results\n      assert:\n        that:\n          - plain.stdout == 'deploy'\n          - elevated.stdout == 'root'\n          - other.stdout == 'nobody'\n",
    )
    .unwrap();
    let run = || {
        run_drover([
            "play".to_string(),
            book.display().to_string(),
            "-i".into(),
            inventory.display().to_string(),
        ])
    };
    let out = run();
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert_eq!(
        hosts.ssh_ok(
            0,
            "stat -c '%U %a' /etc/drover-become && cat /etc/drover-become"
        ),
        "root 600\nsecret"
    );
    let remote_sum = hosts.ssh_ok(0, "sha1sum /opt/big.bin");
    assert!(
        remote_sum.starts_with(&local_sum),
        "{remote_sum} vs {local_sum}"
    );
    assert_eq!(
        hosts.ssh_ok(0, "ls -a /opt | grep -c drover-tmp || true"),
        "0\n"
    );
    let again = run();
    assert_eq!(again.code, Some(0), "{}", again.stdout);
    assert!(
        again.stdout.contains("changed=0 "),
        "second run changed something:\n{}",
        again.stdout
    );

    // Host keys are verified by default: with an empty known_hosts the host is refused, and the
    // message names the file and how to fix it.
    let empty_known = hosts.dir().join("empty_known_hosts");
    std::fs::write(&empty_known, "").unwrap();
    let strict_inv = hosts.dir().join("strict.ini");
    let text = std::fs::read_to_string(&inventory).unwrap().replace(
        &hosts.known_hosts().display().to_string(),
        &empty_known.display().to_string(),
    );
    std::fs::write(&strict_inv, text).unwrap();
    let refused = run_drover([
        "play".to_string(),
        book.display().to_string(),
        "-i".into(),
        strict_inv.display().to_string(),
    ]);
    assert_eq!(refused.code, Some(4), "{}", refused.stdout);
    assert!(refused
        .stdout
        .contains(&format!("fatal: [{name}]: UNREACHABLE!")));
    assert!(
        refused.stdout.contains(&empty_known.display().to_string()),
        "the error should name the known_hosts file:\n{}",
        refused.stdout
    );
    // accept-new through --ssh-extra-args records the key and proceeds.
    let accepted = run_drover([
        "play".to_string(),
        book.display().to_string(),
        "-i".into(),
        strict_inv.display().to_string(),
        "--ssh-extra-args".into(),
        "-o StrictHostKeyChecking=accept-new".into(),
    ]);
    assert_eq!(
        accepted.code,
        Some(0),
        "{}\n{}",
        accepted.stdout,
        accepted.stderr
    );
    assert!(std::fs::read_to_string(&empty_known)
        .unwrap()
        .contains(&hosts.host(0).ip.to_string()));
}

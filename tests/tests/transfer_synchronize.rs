//! `synchronize` against a real Debian host: rsync on the controller, over ssh with the host's
//! inventory connection settings (key, user, known_hosts), push and pull, as root and as the
//! deploy user with become.

use drover_integration::TestHosts;

#[test]
fn synchronize_pushes_and_pulls_over_the_hosts_ssh_settings() {
    let hosts = TestHosts::start(1);
    let dir = hosts.dir().to_path_buf();
    let inventory = dir.join("hosts.ini");
    hosts.write_inventory(&inventory, "t").unwrap();
    let deploy_inventory = dir.join("deploy.ini");
    hosts
        .write_inventory_as(&deploy_inventory, "t", "deploy")
        .unwrap();
    let host = hosts.host(0).name.clone();

    let site_dir = dir.join("files/site");
    std::fs::create_dir_all(site_dir.join("css")).unwrap();
    std::fs::write(site_dir.join("index.html"), "<h1>hi</h1>\n").unwrap();
    std::fs::write(site_dir.join("css/a.css"), "body{}\n").unwrap();
    let pulled = dir.join("pulled");

    let site = format!(
        r#"- hosts: t
  tasks:
    - file: {{path: /srv/pull/sub, state: directory}}
    - copy: {{dest: /srv/pull/sub/data, content: "remote data\n"}}
    - file: {{path: /srv/site, state: directory}}
    - copy: {{dest: /srv/site/stale.txt, content: "old\n"}}
    - synchronize: {{src: site/, dest: /srv/site/, delete: yes, verify_host: yes}}
      register: pushed
    - synchronize: {{mode: pull, src: /srv/pull/, dest: "{pulled}/"}}
    - assert: {{that: ["pushed.cmd is search('--delete-after')", "pushed.rc == 0"]}}
"#,
        pulled = pulled.display()
    );

    // Without rsync on the target: a clear failure.
    let missing = hosts.play("t", "site.yml", &site, &[]);
    assert_eq!(missing.code, Some(2), "{}", missing.stdout);
    assert!(
        missing.stdout.contains("is rsync installed on the target?"),
        "{}",
        missing.stdout
    );
    hosts.ssh_ok(0, "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-unsafe-io rsync >/dev/null");

    let first = hosts.play("t", "site.yml", &site, &[]);
    assert_eq!(first.code, Some(0), "{}\n{}", first.stdout, first.stderr);
    assert_eq!(
        hosts.ssh_ok(
            0,
            "cat /srv/site/index.html /srv/site/css/a.css; ls /srv/site"
        ),
        "<h1>hi</h1>\nbody{}\ncss\nindex.html\n"
    );
    assert_eq!(
        std::fs::read_to_string(pulled.join("sub/data")).unwrap(),
        "remote data\n"
    );

    // Re-run: the copy of stale.txt is recreated (changed), so run a sync-only play twice.
    let sync_only = format!(
        "- hosts: t\n  tasks:\n    - synchronize: {{src: site/, dest: /srv/site/, delete: yes}}\n    - synchronize: {{mode: pull, src: /srv/pull/, dest: \"{}/\"}}\n",
        pulled.display()
    );
    let again = hosts.play("t", "sync.yml", &sync_only, &[]);
    assert_eq!(again.code, Some(0), "{}", again.stdout);
    assert_eq!(again.changed(), 0, "{}", again.stdout);

    // --check: reports the change, leaves the host alone.
    std::fs::write(site_dir.join("index.html"), "<h1>v2</h1>\n").unwrap();
    let check = hosts.play("t", "sync.yml", &sync_only, &["--check", "--diff"]);
    assert_eq!(check.code, Some(0), "{}", check.stdout);
    assert_eq!(check.changed(), 1, "{}", check.stdout);
    assert!(check.stdout.contains("index.html"), "{}", check.stdout);
    assert_eq!(hosts.ssh_ok(0, "cat /srv/site/index.html"), "<h1>hi</h1>\n");

    // As the deploy user with become: the remote rsync runs under sudo and can write /root.
    let become_play =
        "- hosts: t\n  become: yes\n  tasks:\n    - synchronize: {src: site/, dest: /root/site/}\n";
    let as_deploy = hosts.play_with_inventory(&deploy_inventory, "become.yml", become_play, &[]);
    assert_eq!(
        as_deploy.code,
        Some(0),
        "{}\n{}",
        as_deploy.stdout,
        as_deploy.stderr
    );
    assert_eq!(
        hosts.ssh_ok(
            0,
            "cat /root/site/index.html; stat -c %U /root/site/index.html"
        ),
        "<h1>v2</h1>\nroot\n"
    );

    // A host-key mismatch with verify_host fails clearly; bad values and unknown keys too.
    let bad = hosts.play(
        "t",
        "bad.yml",
        "- hosts: t\n  tasks:\n    - synchronize: {src: /nonexistent-dir/, dest: /srv/x/}\n      register: r\n      ignore_errors: yes\n    - assert: {that: ['r.failed', 'r.rc != 0']}\n",
        &[],
    );
    assert_eq!(bad.code, Some(0), "{}", bad.stdout);
    let typo = hosts.play(
        "t",
        "typo.yml",
        "- hosts: t\n  tasks:\n    - synchronize: {src: a, dest: b, delet: yes}\n",
        &[],
    );
    assert_eq!(typo.code, Some(1), "{}", typo.stdout);
    assert!(
        typo.stderr.contains("typo.yml:3") && typo.stderr.contains("delet"),
        "{}",
        typo.stderr
    );
    let _ = host;
}

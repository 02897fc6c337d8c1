//! `git` against real Debian hosts: repositories built on the controller are copied to host 0
//! and cloned there over `file://`; host 1 clones the same repository from host 0 over ssh (the
//! harness's deploy user and key, `accept_hostkey`).

use std::path::Path;
use std::process::{Command, Stdio};

use drover_integration::TestHosts;

/// Runs a shell line in `dir` with git configured for the test (identity, `main`, file://).
fn sh(dir: &Path, line: &str) -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg(line)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@t")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@t")
        .env("GIT_CONFIG_COUNT", "2")
        .env("GIT_CONFIG_KEY_0", "protocol.file.allow")
        .env("GIT_CONFIG_VALUE_0", "always")
        .env("GIT_CONFIG_KEY_1", "init.defaultBranch")
        .env("GIT_CONFIG_VALUE_1", "main")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{line}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Copies the bare repositories under `src` to `/srv` on host `index` (tar over ssh).
fn upload_repos(hosts: &TestHosts, index: usize, src: &Path) {
    let tar = Command::new("tar")
        .arg("-C")
        .arg(src)
        .arg("-cf")
        .arg("-")
        .arg("repo.git")
        .arg("lib.git")
        .output()
        .unwrap();
    assert!(tar.status.success());
    let mut child = Command::new("ssh")
        .args(hosts.ssh_options())
        .arg(format!("root@{}", hosts.host(index).ip))
        .arg("rm -rf /srv/repo.git /srv/lib.git && tar -C /srv -xf -")
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&tar.stdout).unwrap();
    assert!(child.wait().unwrap().success());
}

#[test]
fn git_clones_and_updates_over_file_and_ssh() {
    let hosts = TestHosts::start(2);
    let dir = hosts.dir().to_path_buf();
    let inventory = dir.join("hosts.ini");
    hosts.write_inventory(&inventory, "all_hosts").unwrap();
    let (h0, h1) = (hosts.host(0).name.clone(), hosts.host(1).name.clone());
    let ip0 = hosts.host(0).ip;

    // git on both hosts (in parallel), file:// submodules allowed, the deploy key on host 1.
    std::thread::scope(|s| {
        for i in 0..2 {
            let hosts = &hosts;
            s.spawn(move || {
                hosts.ssh_ok(i, "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-unsafe-io git >/dev/null && git config --system protocol.file.allow always && git config --system --add safe.directory '*'");
            });
        }
    });
    let key = std::fs::read_to_string(hosts.private_key()).unwrap();
    hosts.ssh_ok(1, &format!("install -d -m 700 /root/.ssh && printf '%s' '{key}' > /root/.ssh/deploy_key && chmod 600 /root/.ssh/deploy_key"));

    // Repositories: lib (submodule) and repo with main, dev, an annotated tag v1.
    let g = dir.join("git");
    std::fs::create_dir_all(&g).unwrap();
    sh(
        &g,
        "git init -q --bare lib.git && git init -q --bare repo.git",
    );
    sh(&g, "git clone -q lib.git libwork 2>/dev/null; cd libwork && echo lib > libfile && git add . && git commit -qm lib && git push -q origin HEAD:main");
    sh(&g, "git clone -q repo.git work");
    let work = g.join("work");
    sh(
        &work,
        "git checkout -qb main && echo one > README && git add . && git commit -qm one",
    );
    let c1 = sh(&work, "git rev-parse HEAD");
    sh(&work, "git -c protocol.file.allow=always submodule -q add ../lib.git lib && git commit -qm sub && git tag -a v1 -m v1");
    let v1 = sh(&work, "git rev-parse HEAD");
    sh(&work, "git checkout -qb dev && echo dev > DEV && git add . && git commit -qm dev && git checkout -q main");
    let dev = sh(&work, "git rev-parse dev");
    sh(
        &work,
        "echo two >> README && git commit -qam two && git push -q origin main dev v1",
    );
    sh(
        &g,
        "git --git-dir=repo.git symbolic-ref HEAD refs/heads/main",
    );
    let c2 = sh(&work, "git rev-parse HEAD");
    upload_repos(&hosts, 0, &g);

    let site = format!(
        r#"- hosts: {h0}
  tasks:
    - git: {{repo: "file:///srv/repo.git", dest: /opt/main}}
      register: main
    - git: {{repo: "file:///srv/repo.git", dest: /opt/tag, version: v1, depth: 1}}
      register: tag
    - git: {{repo: "file:///srv/repo.git", dest: /opt/dev, version: dev, single_branch: yes, recursive: no}}
      register: devco
    - git: {{repo: "file:///srv/repo.git", dest: /opt/sha, version: "{c1}"}}
      register: sha
    - git: {{repo: "file:///srv/repo.git", dest: /opt/bare.git, bare: yes}}
    - git: {{repo: "file:///srv/repo.git", dest: /opt/arch, archive: /opt/main.tar.gz, archive_prefix: app/}}
    - assert:
        that:
          - main.before is none and main.after == "{c2}" and main.remote_url_changed is undefined
          - tag.after == "{v1}" and devco.after == "{dev}" and sha.after == "{c1}"
- hosts: {h1}
  tasks:
    - git: {{repo: "deploy@{ip0}:/srv/repo.git", dest: /opt/viassh, key_file: /root/.ssh/deploy_key, accept_hostkey: yes, recursive: no}}
      register: viassh
    - assert: {{that: ["viassh.after == '{c2}'"]}}
"#
    );
    let first = hosts.play("all_hosts", "site.yml", &site, &[]);
    assert_eq!(first.code, Some(0), "{}\n{}", first.stdout, first.stderr);
    assert_eq!(first.changed(), 7, "{}", first.stdout);
    assert_eq!(hosts.ssh_ok(0, "cat /opt/main/lib/libfile /opt/tag/README; git -C /opt/tag rev-list --count HEAD; git -C /opt/dev branch -r"), "lib\none\n1\n  origin/dev\n");
    assert_eq!(hosts.ssh_ok(0, "test ! -e /opt/dev/lib/libfile && git -C /opt/bare.git rev-parse --is-bare-repository && tar tzf /opt/main.tar.gz app/README"), "true\napp/README\n");
    assert_eq!(hosts.ssh_ok(1, "cat /opt/viassh/README"), "one\ntwo\n");

    let second = hosts.play(
        "all_hosts",
        "site.yml",
        &site.replace("main.before is none and ", "").replace(
            "main.remote_url_changed is undefined",
            "main.before == main.after and not main.remote_url_changed",
        ),
        &[],
    );
    assert_eq!(second.code, Some(0), "{}", second.stdout);
    assert_eq!(second.changed(), 0, "{}", second.stdout);

    // A new upstream commit: --check reports it and changes nothing; a real run updates.
    sh(
        &work,
        "echo three >> README && git commit -qam three && git push -q origin main",
    );
    let c3 = sh(&work, "git rev-parse HEAD");
    upload_repos(&hosts, 0, &g);
    let update = format!(
        r#"- hosts: all_hosts
  tasks:
    - git: {{repo: "file:///srv/repo.git", dest: /opt/main}}
      when: inventory_hostname == "{h0}"
      register: main
    - git: {{repo: "deploy@{ip0}:/srv/repo.git", dest: /opt/viassh, key_file: /root/.ssh/deploy_key, accept_hostkey: yes}}
      when: inventory_hostname == "{h1}"
      register: viassh
    - git: {{repo: "file:///srv/repo.git", dest: /opt/dev, version: dev, update: no}}
      when: inventory_hostname == "{h0}"
      register: noupdate
    - assert:
        that:
          - (main.before, main.after) == ("{c2}", "{c3}")
          - noupdate.before == noupdate.after and not noupdate.changed
      when: inventory_hostname == "{h0}"
"#
    );
    let check = hosts.play("all_hosts", "update.yml", &update, &["--check", "--diff"]);
    assert_eq!(check.code, Some(0), "{}", check.stdout);
    assert_eq!(check.changed(), 2, "{}", check.stdout);
    assert!(check.stdout.contains(&c3), "{}", check.stdout);
    assert_eq!(
        hosts.ssh_ok(0, "git -C /opt/main rev-parse HEAD"),
        format!("{c2}\n")
    );
    assert_eq!(
        hosts.ssh_ok(1, "git -C /opt/viassh rev-parse HEAD"),
        format!("{c2}\n")
    );
    let apply = hosts.play("all_hosts", "update.yml", &update, &[]);
    assert_eq!(apply.code, Some(0), "{}", apply.stdout);
    assert_eq!(apply.changed(), 2, "{}", apply.stdout);
    assert_eq!(
        hosts.ssh_ok(1, "git -C /opt/viassh rev-parse HEAD"),
        format!("{c3}\n")
    );

    // Local changes, a new remote URL, a missing version, no git binary path.
    hosts.ssh_ok(
        0,
        "cp -a /srv/repo.git /srv/moved.git && echo local >> /opt/main/README",
    );
    let edge = format!(
        r#"- hosts: {h0}
  tasks:
    - git: {{repo: "file:///srv/moved.git", dest: /opt/main}}
      register: dirty
      ignore_errors: yes
    - git: {{repo: "file:///srv/moved.git", dest: /opt/main, force: yes}}
      register: forced
    - git: {{repo: "file:///srv/repo.git", dest: /opt/other, version: no-such-branch}}
      register: missing
      ignore_errors: yes
    - git: {{repo: "file:///srv/nothere.git", dest: /opt/other}}
      register: norepo
      ignore_errors: yes
    - assert:
        that:
          - dirty.failed and 'Local modifications exist' in dirty.msg
          - forced.changed and forced.remote_url_changed
          - missing.failed and 'no-such-branch' in missing.msg
          - norepo.failed and 'nothere.git' in norepo.msg
"#
    );
    let edge_run = hosts.play("all_hosts", "edge.yml", &edge, &[]);
    assert_eq!(
        edge_run.code,
        Some(0),
        "{}\n{}",
        edge_run.stdout,
        edge_run.stderr
    );
    assert_eq!(hosts.ssh_ok(0, "git -C /opt/main status --porcelain --untracked-files=no; git -C /opt/main config remote.origin.url"), "file:///srv/moved.git\n");

    // Unknown argument: exit 1 before touching hosts, naming the key and the place.
    let typo = hosts.play("all_hosts", "typo.yml", &format!("- hosts: {h0}\n  tasks:\n    - file: {{path: /srv/marker, state: touch}}\n    - git: {{repo: x, dest: /y, verison: v1}}\n"), &[]);
    assert_eq!(typo.code, Some(1), "{}", typo.stdout);
    assert!(
        typo.stderr.contains("typo.yml:4") && typo.stderr.contains("verison"),
        "{}",
        typo.stderr
    );
    assert!(hosts.ssh(0, "test ! -e /srv/marker").status.success());
}

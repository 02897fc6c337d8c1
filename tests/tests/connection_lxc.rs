//! `connection: lxc` (community.general's `lxc` connection): plays run inside running LXC
//! containers through `lxc-attach`, with nothing but a POSIX shell there. The harness's test
//! hosts are LXC containers on this machine, so the controller is their LXC host; it is also
//! reached as an SSH host (`ansible_lxc_host`) through a private sshd on loopback. Results are
//! checked over the hosts' own SSH.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use drover_integration::{drover_command, run_drover, DroverOutput, LoopbackSshd, TestHosts};

/// The converge play: every task the connection must carry (files, templates, commands with
/// chdir/stdin/environment/exit codes, become inside the container, fetch, large files).
const PLAY: &str = r#"- hosts: boxes
  gather_facts: false
  tasks:
    - file: {path: /srv/lxct, state: directory, mode: "0755"}
    - copy: {content: "hello {{ inventory_hostname }}\n", dest: /srv/lxct/a.txt, mode: "0640"}
    - copy: {src: big.bin, dest: /srv/lxct/big.bin}
    - template: {src: t.j2, dest: /srv/lxct/t.conf}
    - command: sh -c 'pwd > /srv/lxct/cmd-done'
      args: {chdir: /srv, creates: /srv/lxct/cmd-done}
    - copy: {content: "mine\n", dest: /home/deploy/owned.txt}
      become: true
      become_user: deploy
    - command: cat
      args: {stdin: "from stdin"}
      register: in
      changed_when: false
      check_mode: false
    - shell: 'echo "$GREETING $HOME"; exit 3'
      environment: {GREETING: hi}
      register: ex
      failed_when: ex.rc != 3
      changed_when: false
      check_mode: false
    - command: id -un
      become: true
      become_user: deploy
      register: sudo_user
      changed_when: false
      check_mode: false
    - command: id -un
      become: true
      become_method: su
      become_user: deploy
      register: su_user
      changed_when: false
      check_mode: false
    - fetch: {src: /etc/hostname, dest: "{{ fetch_dir }}/{{ inventory_hostname }}.txt", flat: true}
    - assert:
        that:
          - in.stdout == 'from stdin'
          - ex.stdout == 'hi /root'
          - sudo_user.stdout == 'deploy'
          - su_user.stdout == 'deploy'
"#;

/// Writes the play's files (a 6 MiB binary, a template) into `dir`; returns the binary's sha1.
fn write_files(dir: &Path) -> String {
    let mut f = std::fs::File::create(dir.join("big.bin")).unwrap();
    let mut block = vec![0u8; 1 << 20];
    for i in 0..6u32 {
        for (j, b) in block.iter_mut().enumerate() {
            *b = (j as u32).wrapping_mul(131).wrapping_add(i) as u8;
        }
        f.write_all(&block).unwrap();
    }
    drop(f);
    std::fs::write(
        dir.join("t.j2"),
        "name={{ inventory_hostname }}\ncontainer={{ ansible_host | default(inventory_hostname) }}\n",
    )
    .unwrap();
    std::fs::write(dir.join("site.yml"), PLAY).unwrap();
    let out = std::process::Command::new("sha1sum")
        .arg(dir.join("big.bin"))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// Runs `drover play BOOK -i INVENTORY extra…` in `dir`, with `fetch_dir` = `dir/fetched`.
fn play(dir: &Path, book: &str, inventory: &str, extra: &[&str]) -> DroverOutput {
    let mut args = vec![
        "play".to_string(),
        dir.join(book).display().to_string(),
        "-i".into(),
        dir.join(inventory).display().to_string(),
        "-e".into(),
        format!("fetch_dir={}", dir.join("fetched").display()),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    run_drover(args)
}

/// What the converge play left on host `index`, read over SSH.
fn state_of(hosts: &TestHosts, index: usize) -> String {
    hosts.ssh_ok(
        index,
        "cat /srv/lxct/a.txt /srv/lxct/t.conf /srv/lxct/cmd-done; stat -c '%a %U' /srv/lxct/a.txt \
         /home/deploy/owned.txt; sha1sum < /srv/lxct/big.bin",
    )
}

/// Check mode, converge, re-run and check again against one container whose LXC host is the
/// controller; then a stopped and an unknown container are unreachable with clear messages.
#[test]
fn local_lxc_host_converges_and_reports_unreachable_containers() {
    let hosts = TestHosts::start(1);
    let container = hosts.host(0).name.clone();
    let lxc_path = hosts.lxc_path();
    let dir = tempfile::tempdir().unwrap();
    let big_sum = write_files(dir.path());
    // `box` reaches the container by ansible_host (community.general's remote_addr).
    std::fs::write(
        dir.path().join("hosts.ini"),
        format!(
            "[boxes]\nbox ansible_host={container}\n[boxes:vars]\nansible_connection=lxc\n\
             ansible_lxc_path={}\n",
            lxc_path.display()
        ),
    )
    .unwrap();

    // (copy in check mode fails without the destination directory, as in Ansible.)
    hosts.ssh_ok(0, "mkdir -p /srv/lxct");
    let check = play(dir.path(), "site.yml", "hosts.ini", &["--check"]);
    check.assert_success();
    // copy ×3, template, command (creates), fetch.
    assert_eq!(check.changed(), 6, "{}", check.stdout);
    assert_eq!(
        hosts.ssh_ok(
            0,
            "ls -A /srv/lxct; test -e /home/deploy/owned.txt || echo absent"
        ),
        "absent\n",
        "check mode touched the container"
    );

    let first = play(dir.path(), "site.yml", "hosts.ini", &[]);
    first.assert_success();
    assert_eq!(first.changed(), 6, "{}", first.stdout);
    assert_eq!(
        state_of(&hosts, 0),
        format!(
            "hello box\nname=box\ncontainer={container}\n/srv\n640 root\n644 deploy\n{big_sum}  -\n"
        )
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("fetched/box.txt")).unwrap(),
        format!("{container}\n")
    );

    let again = play(dir.path(), "site.yml", "hosts.ini", &[]);
    again.assert_success();
    assert_eq!(again.changed(), 0, "{}", again.stdout);
    let check = play(dir.path(), "site.yml", "hosts.ini", &["--check"]);
    check.assert_success();
    assert_eq!(check.changed(), 0, "{}", check.stdout);

    // The fully qualified name works the same.
    std::fs::write(
        dir.path().join("fq.ini"),
        format!(
            "{container} ansible_connection=community.general.lxc ansible_lxc_path={}\n",
            lxc_path.display()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("uname.yml"),
        "- hosts: all\n  gather_facts: true\n  tasks:\n    \
         - assert: {that: [\"ansible_facts.hostname == inventory_hostname\", \"ansible_facts.virtualization_type == 'lxc'\"]}\n",
    )
    .unwrap();
    play(dir.path(), "uname.yml", "fq.ini", &[]).assert_success();

    per_task_overhead(dir.path(), &container, &lxc_path);

    // An unknown container, and a container stopped in the middle of the play (during the
    // pause, once the first task ran on it): both unreachable, the container named.
    std::fs::write(
        dir.path().join("gone.ini"),
        format!(
            "[boxes]\n{container}\ndrvlx-nosuch\n[boxes:vars]\nansible_connection=lxc\n\
             ansible_lxc_path={}\n",
            lxc_path.display()
        ),
    )
    .unwrap();
    let started = dir.path().join("started");
    std::fs::write(
        dir.path().join("stop.yml"),
        format!(
            "- hosts: boxes\n  gather_facts: false\n  tasks:\n    - command: 'true'\n    \
             - file: {{path: {}, state: touch}}\n      delegate_to: localhost\n    \
             - pause: {{seconds: 8}}\n    - command: 'true'\n",
            started.display()
        ),
    )
    .unwrap();
    let child = drover_command()
        .arg("play")
        .arg(dir.path().join("stop.yml"))
        .arg("-i")
        .arg(dir.path().join("gone.ini"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run drover");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !started.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    hosts.stop_host(0);
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(started.exists(), "the first tasks did not run: {text}");
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains(&format!(
            "container '{container}' is not running on LXC host localhost"
        )) && text.contains("state: STOPPED"),
        "{text}"
    );
    assert!(
        text.contains("LXC container 'drvlx-nosuch' does not exist on LXC host localhost"),
        "{text}"
    );
    let recap = &text[text.rfind("PLAY RECAP").unwrap_or(0)..];
    assert_eq!(recap.matches("unreachable=1").count(), 2, "{text}");
    assert!(
        recap
            .lines()
            .any(|l| l.starts_with(&container) && l.contains("ok=3")),
        "{text}"
    );
}

/// Prints (and loosely bounds) the time per task: small unchanged-file tasks ride on the
/// container's long-lived shell; each `command` is an `lxc-attach` of its own.
fn per_task_overhead(dir: &Path, container: &str, lxc_path: &Path) {
    // The LXC host as an inventory host connected locally: still a local lxc-attach with a
    // long-lived shell.
    std::fs::write(
        dir.join("one.ini"),
        format!(
            "lxchost ansible_connection=local\n[boxes]\n{container} ansible_connection=lxc \
             ansible_lxc_host=lxchost ansible_lxc_path={}\n",
            lxc_path.display()
        ),
    )
    .unwrap();
    let mut files = String::from("- hosts: boxes\n  gather_facts: false\n  tasks:\n");
    let mut commands = files.clone();
    for i in 0..30 {
        files.push_str(&format!(
            "    - file: {{path: /srv/lxct/d{i}, state: directory, mode: '0750'}}\n"
        ));
        commands.push_str("    - command: 'true'\n      changed_when: false\n");
    }
    std::fs::write(dir.join("files.yml"), files).unwrap();
    std::fs::write(dir.join("commands.yml"), commands).unwrap();
    play(dir, "files.yml", "one.ini", &[]).assert_success();
    let time = |book: &str| {
        let started = Instant::now();
        play(dir, book, "one.ini", &[]).assert_success();
        started.elapsed() / 30
    };
    let (files, commands) = (time("files.yml"), time("commands.yml"));
    eprintln!("lxc per task (local LXC host): unchanged file {files:?}, command {commands:?}");
    assert!(files.as_millis() < 500 && commands.as_millis() < 1000);
}

/// Two containers whose LXC host is an inventory host reached over SSH (the controller through
/// a loopback sshd): one SSH connection serves both; an unknown container there is unreachable
/// with the LXC host named.
#[test]
fn lxc_host_over_ssh_serves_its_containers_on_one_connection() {
    let hosts = TestHosts::start(2);
    let dir = tempfile::tempdir().unwrap();
    let sshd = LoopbackSshd::start(dir.path());
    let big_sum = write_files(dir.path());
    let (c0, c1) = (hosts.host(0).name.clone(), hosts.host(1).name.clone());
    std::fs::write(
        dir.path().join("hosts.ini"),
        format!(
            "lxchost {ssh}\n[boxes]\nfirst ansible_host={c0}\n{c1}\n[boxes:vars]\n\
             ansible_connection=lxc\nansible_lxc_host=lxchost\nansible_lxc_path={path}\n",
            ssh = sshd.inventory_vars(),
            path = hosts.lxc_path().display()
        ),
    )
    .unwrap();
    let first = play(dir.path(), "site.yml", "hosts.ini", &[]);
    first.assert_success();
    assert_eq!(first.changed(), 14, "{}", first.stdout);
    assert_eq!(
        sshd.accepted_logins(),
        1,
        "one SSH connection to the LXC host for both containers:\n{}",
        sshd.log()
    );
    assert!(state_of(&hosts, 0).starts_with(&format!("hello first\nname=first\ncontainer={c0}\n")));
    assert_eq!(
        state_of(&hosts, 1),
        format!(
            "hello {c1}\nname={c1}\ncontainer={c1}\n/srv\n640 root\n644 deploy\n{big_sum}  -\n"
        )
    );
    let timer = Instant::now();
    let again = play(dir.path(), "site.yml", "hosts.ini", &[]);
    eprintln!(
        "lxc over SSH: unchanged re-run of 12 tasks on 2 containers in {:?}",
        timer.elapsed()
    );
    again.assert_success();
    assert_eq!(again.changed(), 0, "{}", again.stdout);
    assert_eq!(
        sshd.accepted_logins(),
        2,
        "one more run, one more connection"
    );

    std::fs::write(
        dir.path().join("gone.ini"),
        format!(
            "lxchost {ssh}\ndeadhost ansible_host=127.0.0.1 ansible_port=1\n\
             ghost ansible_connection=lxc ansible_lxc_host=lxchost \
             ansible_lxc_path={path} ansible_host=drvlx-nosuch\n\
             orphan ansible_connection=lxc ansible_lxc_host=deadhost\n",
            ssh = sshd.inventory_vars(),
            path = hosts.lxc_path().display()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("ping.yml"),
        "- hosts: ghost:orphan\n  gather_facts: false\n  tasks:\n    - command: 'true'\n",
    )
    .unwrap();
    let gone = play(dir.path(), "ping.yml", "gone.ini", &[]);
    assert!(!gone.success());
    let text = format!("{}{}", gone.stdout, gone.stderr);
    assert!(
        text.contains("LXC container 'drvlx-nosuch' does not exist on LXC host lxchost"),
        "{text}"
    );
    assert!(
        text.contains("its LXC host deadhost is unreachable"),
        "{text}"
    );
}

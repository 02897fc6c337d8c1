//! `connection: docker` (community.docker's `docker` connection): plays run inside running
//! containers of a private engine through `docker exec`, with nothing but a POSIX shell there.
//! The docker CLI runs on the controller, or on a Docker host reached over SSH
//! (`ansible_docker_via`; here the controller itself, through a private sshd on loopback).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use drover_integration::{
    drover_command, DroverOutput, LoopbackSshd, TestDockerEngine, TEST_IMAGE,
};

/// Starts a container that stays up, with a `deploy` user allowed to sudo (the image has sudo
/// but no users).
fn start_box(engine: &TestDockerEngine, name: &str) {
    engine.docker_ok(&["run", "-d", "--name", name, TEST_IMAGE, "sleep", "infinity"]);
    in_box(
        engine,
        name,
        "useradd --create-home --shell /bin/bash deploy && \
         echo 'deploy ALL=(ALL:ALL) NOPASSWD: ALL' >/etc/sudoers.d/deploy",
    );
}

/// Runs drover in `dir` with `DOCKER_HOST` naming the engine (as community.docker's connection
/// finds its daemon).
fn play(engine: &TestDockerEngine, dir: &Path, args: &[&str]) -> DroverOutput {
    let out = drover_command()
        .current_dir(dir)
        .env("DOCKER_HOST", engine.docker_host())
        .arg("play")
        .args(args)
        .output()
        .expect("run drover");
    DroverOutput {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn in_box(engine: &TestDockerEngine, name: &str, cmd: &str) -> String {
    engine.docker_ok(&["exec", name, "sh", "-c", cmd])
}

const PLAY: &str = r#"
- hosts: boxes
  gather_facts: true
  tasks:
    - name: facts see the container
      assert:
        that:
          - ansible_facts.virtualization_type == 'docker'
          - ansible_facts.virtualization_role == 'guest'
          - ansible_facts.distribution == 'Debian'
    - name: who runs commands
      command: id -un
      register: who
      changed_when: false
    - assert:
        that: who.stdout == (expected_user | default('root'))
    - name: become root
      command: id -un
      become: true
      register: root
      changed_when: false
    - name: become deploy
      shell: 'echo "$(id -un) $HOME"'
      become: true
      become_user: deploy
      register: dep
      changed_when: false
    - assert:
        that:
          - root.stdout == 'root'
          - dep.stdout == 'deploy /home/deploy'
    - name: copy
      copy:
        content: "name={{ inventory_hostname }}\n"
        dest: /etc/drover-dk.conf
        mode: "0640"
      become: true
    - name: copy a binary file
      copy:
        src: blob.bin
        dest: /opt/blob.bin
      become: true
    - name: template
      template:
        src: greeting.j2
        dest: /etc/drover-dk-greeting
      become: true
    - name: lineinfile
      lineinfile:
        path: /etc/drover-dk-lines
        line: extra=1
        create: true
      become: true
    - name: file as deploy
      file:
        path: /home/deploy/dk-dir
        state: directory
        mode: "0750"
      become: true
      become_user: deploy
    - name: fetch
      fetch:
        src: /etc/drover-dk.conf
        dest: fetched/
      become: true
    - name: docker exec options (-e, -w) from the inventory
      shell: 'echo "${DK_MARK:-none} $(pwd)"'
      register: opt
      changed_when: false
    - assert:
        that: opt.stdout == (expected_opt | default('none /'))
    - name: stdin reaches the container
      shell: cat
      args:
        stdin: "piped {{ inventory_hostname }}"
      register: piped
      changed_when: false
    - assert:
        that: piped.stdout == 'piped ' + inventory_hostname
"#;

/// One engine for the converging play and the timings (an engine start costs seconds).
#[test]
fn plays_run_inside_containers_and_converge_and_cost() {
    let engine = TestDockerEngine::start();
    converge(&engine);
    task_cost_in_a_container_compared_with_local(&engine);
}

fn converge(engine: &TestDockerEngine) {
    start_box(engine, "dk-a");
    start_box(engine, "dk-b");
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("hosts.yml"),
        "boxes:\n  vars:\n    ansible_connection: docker\n  hosts:\n    dk-a: {}\n    \
         box-b:\n      ansible_host: dk-b\n      ansible_user: deploy\n      expected_user: deploy\n      \
         ansible_docker_extra_env: {DK_MARK: b}\n      ansible_docker_working_dir: /tmp\n      \
         ansible_docker_extra_args: --log-level error\n      expected_opt: b /tmp\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("greeting.j2"),
        "hello from {{ inventory_hostname }} ({{ ansible_facts.virtualization_type }})\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("site.yml"), PLAY).unwrap();
    let blob: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(dir.path().join("blob.bin"), &blob).unwrap();
    let blob_sum = String::from_utf8(
        Command::new("sha256sum")
            .arg(dir.path().join("blob.bin"))
            .output()
            .expect("sha256sum")
            .stdout,
    )
    .unwrap()
    .split_whitespace()
    .next()
    .unwrap()
    .to_string();

    let first = play(engine, dir.path(), &["site.yml", "-i", "hosts.yml"]);
    first.assert_success();
    // copy, copy src, template, lineinfile, file, fetch on each of the two containers.
    assert_eq!(first.changed(), 12, "{}", first.stdout);
    for (host, container, owner) in [("dk-a", "dk-a", "root"), ("box-b", "dk-b", "deploy")] {
        assert_eq!(
            in_box(
                engine,
                container,
                "cat /etc/drover-dk.conf /etc/drover-dk-lines; stat -c '%a %U' /etc/drover-dk.conf"
            ),
            format!("name={host}\nextra=1\n640 root")
        );
        assert_eq!(
            in_box(engine, container, "cat /etc/drover-dk-greeting"),
            format!("hello from {host} (docker)")
        );
        assert_eq!(
            in_box(engine, container, "stat -c '%a %U' /home/deploy/dk-dir"),
            "750 deploy"
        );
        let fetched = dir
            .path()
            .join("fetched")
            .join(host)
            .join("etc/drover-dk.conf");
        assert_eq!(
            std::fs::read_to_string(&fetched).unwrap_or_default(),
            format!("name={host}\n"),
            "{}",
            fetched.display()
        );
        assert_eq!(
            in_box(engine, container, "sha256sum /opt/blob.bin | cut -d' ' -f1"),
            blob_sum
        );
        let _ = owner;
    }
    assert!(!Path::new("/etc/drover-dk-greeting").exists());

    let second = play(engine, dir.path(), &["site.yml", "-i", "hosts.yml"]);
    second.assert_success();
    assert_eq!(second.changed(), 0, "{}", second.stdout);
}

fn stopped_missing_containers_are_unreachable_with_the_container_named(engine: &TestDockerEngine) {
    start_box(engine, "dk-up");
    start_box(engine, "dk-stopped");
    engine.docker_ok(&["stop", "-t", "0", "dk-stopped"]);
    let dir = tempfile::tempdir().expect("temp dir");
    // A Docker host nothing listens for.
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    std::fs::write(
        dir.path().join("hosts.yml"),
        format!(
            "boxes:\n  vars:\n    ansible_connection: community.docker.docker\n  hosts:\n    \
             dk-up: {{}}\n    dk-stopped: {{}}\n    dk-missing: {{}}\n    \
             dk-behind: {{ansible_docker_via: deadhost}}\n\
             others:\n  hosts:\n    deadhost: {{ansible_host: 127.0.0.1, ansible_port: {closed_port}}}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("site.yml"),
        "- hosts: boxes\n  gather_facts: false\n  tasks:\n    - command: 'true'\n",
    )
    .unwrap();
    let out = play(engine, dir.path(), &["site.yml", "-i", "hosts.yml"]);
    assert!(!out.success(), "{}", out.stdout);
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(
        text.contains(
            "failed to connect to dk-stopped: docker container 'dk-stopped' is not running \
             (status: exited)"
        ),
        "{text}"
    );
    assert!(
        text.contains("docker container 'dk-missing' not found"),
        "{text}"
    );
    assert!(
        text.contains("failed to connect to dk-behind: its Docker host deadhost is unreachable")
            && text.contains("connection refused"),
        "{text}"
    );
    let recap = |host: &str| {
        out.stdout
            .lines()
            .find(|l| l.starts_with(host) && l.contains(" : ok="))
            .unwrap_or_default()
            .to_string()
    };
    assert!(recap("dk-up ").contains("ok=1 "), "{}", out.stdout);
    assert!(
        recap("dk-stopped ").contains("unreachable=1"),
        "{}",
        out.stdout
    );
    assert!(
        recap("dk-missing ").contains("unreachable=1")
            && recap("dk-behind ").contains("unreachable=1"),
        "{}",
        out.stdout
    );

    // A container stopped during the play: the next task finds the host unreachable.
    std::fs::write(
        dir.path().join("stop.yml"),
        "- hosts: dk-up\n  gather_facts: false\n  tasks:\n    - command: 'true'\n    \
         - command: docker stop -t 0 dk-up\n      delegate_to: localhost\n    - command: 'true'\n",
    )
    .unwrap();
    let out = play(engine, dir.path(), &["stop.yml", "-i", "hosts.yml"]);
    assert!(!out.success(), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("docker container 'dk-up' is not running"),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
}

/// Wall time of a play of `tasks` copies of `task` (YAML of one task, `{i}` = its number) on
/// one host.
fn timed_play(
    engine: &TestDockerEngine,
    dir: &Path,
    task: &str,
    tasks: usize,
    inventory: &[&str],
) -> Duration {
    let mut yaml = String::from("- hosts: all\n  gather_facts: false\n  tasks:\n");
    for i in 0..tasks {
        yaml.push_str(&task.replace("{i}", &i.to_string()));
    }
    std::fs::write(dir.join("timed.yml"), yaml).unwrap();
    let started = Instant::now();
    let mut args = vec!["timed.yml"];
    args.extend_from_slice(inventory);
    play(engine, dir, &args).assert_success();
    started.elapsed()
}

fn task_cost_in_a_container_compared_with_local(engine: &TestDockerEngine) {
    start_box(engine, "dk-time");
    let dir = tempfile::tempdir().expect("temp dir");
    let (n, base) = (30, 2);
    let docker = ["-i", "dk-time,", "-c", "docker"];
    let local = ["-i", "localhost,", "-c", "local"];
    // The best of two runs each: the machine may be busy with other work.
    let best = |task: &str, count: usize, inv: &[&str]| {
        (0..2)
            .map(|_| timed_play(engine, dir.path(), task, count, inv))
            .min()
            .unwrap_or_default()
    };
    let per_task = |task: &str, inv: &[&str]| {
        let short = best(task, base, inv);
        let long = best(task, n + base, inv);
        long.saturating_sub(short) / n as u32
    };
    let command = "    - command: echo {i}\n      changed_when: false\n";
    // Unchanged file tasks: a probe each (on the container's long-lived shell).
    let file = "    - file: {path: /tmp, state: directory}\n";
    let (cmd_docker, cmd_local) = (per_task(command, &docker), per_task(command, &local));
    let (file_docker, file_local) = (per_task(file, &docker), per_task(file, &local));
    // What one bare `docker exec` costs here, for comparison.
    let started = Instant::now();
    for _ in 0..10 {
        engine.docker_ok(&["exec", "dk-time", "true"]);
    }
    let bare_exec = started.elapsed() / 10;
    eprintln!(
        "per task: command: docker {cmd_docker:?}, local {cmd_local:?}; \
         unchanged file: docker {file_docker:?}, local {file_local:?}; \
         bare `docker exec CONTAINER true`: {bare_exec:?}"
    );
    assert!(cmd_docker < Duration::from_millis(1500), "{cmd_docker:?}");
    assert!(file_docker < Duration::from_millis(1500), "{file_docker:?}");
}

/// One engine for the SSH-reached Docker host and the unreachable containers.
#[test]
fn docker_host_over_ssh_and_unreachable_containers() {
    let engine = TestDockerEngine::start();
    containers_of_a_docker_host_reached_over_ssh_share_its_connection(&engine);
    stopped_missing_containers_are_unreachable_with_the_container_named(&engine);
}

fn containers_of_a_docker_host_reached_over_ssh_share_its_connection(engine: &TestDockerEngine) {
    start_box(engine, "dk-r1");
    start_box(engine, "dk-r2");
    let dir = tempfile::tempdir().expect("temp dir");
    let sshd = LoopbackSshd::start(dir.path());
    let port = sshd.port();
    let inventory = format!(
        "all:\n  children:\n    dockerhosts:\n      hosts:\n        dhost:\n          \
         ansible_host: 127.0.0.1\n          ansible_port: {port}\n          ansible_user: root\n          \
         ansible_ssh_private_key_file: {key}\n          ansible_host_key_checking: false\n    \
         boxes:\n      vars:\n        ansible_connection: docker\n        ansible_docker_via: dhost\n        \
         ansible_docker_docker_host: {docker_host}\n      hosts:\n        dk-r1: {{}}\n        \
         r2:\n          ansible_docker_host: dk-r2\n          ansible_user: deploy\n",
        key = sshd.client_key().display(),
        docker_host = engine.docker_host(),
    );
    std::fs::write(dir.path().join("hosts.yml"), inventory).unwrap();
    std::fs::write(
        dir.path().join("site.yml"),
        "- hosts: boxes\n  gather_facts: true\n  tasks:\n    \
         - assert: {that: \"ansible_facts.virtualization_type == 'docker'\"}\n    \
         - copy: {content: \"via {{ inventory_hostname }}\\n\", dest: /etc/drover-via}\n      become: true\n    \
         - shell: 'echo \"$(id -un) $(cat /etc/drover-via)\"'\n      register: r\n      changed_when: false\n    \
         - debug: {var: r.stdout}\n",
    )
    .unwrap();
    // The controller's DOCKER_HOST must not matter: the CLI runs on dhost with the variable's -H.
    let run = || {
        let out = drover_command()
            .current_dir(dir.path())
            .env_remove("DOCKER_HOST")
            .args(["play", "site.yml", "-i", "hosts.yml"])
            .output()
            .expect("run drover");
        DroverOutput {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    };
    let first = run();
    let sshd_log = sshd.log();
    drop(sshd);
    first.assert_success();
    assert_eq!(first.changed(), 2, "{}", first.stdout);
    assert!(first.stdout.contains("root via dk-r1"), "{}", first.stdout);
    assert!(first.stdout.contains("deploy via r2"), "{}", first.stdout);
    assert_eq!(in_box(engine, "dk-r2", "cat /etc/drover-via"), "via r2");
    // One SSH connection to the Docker host served both containers.
    assert_eq!(
        sshd_log.matches("Accepted publickey").count(),
        1,
        "{sshd_log}"
    );
}

//! Differential test of a realistic deploy playbook against ansible-core:
//! `playbooks/tests/deploy.yml` (lineinfile, blockinfile, replace, git, get_url, uri, unarchive,
//! fetch, slurp, stat, find, tempfile, wait_for, template, copy, file, command, handlers) on two
//! identical fresh hosts, one driven by ansible-playbook and one by drover. Per-task results,
//! debug messages, the deploy tree on the hosts and the fetched files on the controller must
//! match; both tools must report `changed=0` on a second run.
//!
//! The test serves `playbooks/tests/files/deploy/` over HTTP on the harness bridge (10.77.0.1)
//! and puts the same git repository (fixed commit dates, so identical hashes) on both hosts.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use drover_integration::{
    repo_root, target_changed, target_task_results, OracleComparison, TestHosts, TestHttpServer,
    BRIDGE_ADDRESS,
};

/// Runs a shell line in `dir` with a fixed git identity and fixed dates (identical hashes).
fn git_sh(dir: &Path, line: &str) {
    let out = Command::new("sh")
        .arg("-c")
        .arg(line)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Deployer")
        .env("GIT_AUTHOR_EMAIL", "deploy@example.invalid")
        .env("GIT_COMMITTER_NAME", "Deployer")
        .env("GIT_COMMITTER_EMAIL", "deploy@example.invalid")
        .env("GIT_AUTHOR_DATE", "2024-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2024-01-01T00:00:00Z")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "{line}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Builds `app.git` (tag v1.0, then one more commit on `main`) under `dir` and returns the tar
/// of it.
fn build_repository(dir: &Path) -> Vec<u8> {
    let work = dir.join("app-work");
    std::fs::create_dir_all(&work).expect("work dir");
    git_sh(&work, "git init -q -b main . && printf 'BUILT\\n' > .gitignore && printf 'echo built > BUILT\\n' > build.sh && printf 'shop v1.0\\n' > README && git add -A && git commit -q -m v1.0 && git tag -a v1.0 -m 'release 1.0'");
    git_sh(
        &work,
        "printf 'shop v1.1-dev\\n' > README && git commit -q -am 'next' && git clone -q --bare . ../app.git",
    );
    let tar = Command::new("tar")
        .arg("-C")
        .arg(dir)
        .args(["-cf", "-", "app.git"])
        .output()
        .expect("tar");
    assert!(tar.status.success());
    tar.stdout
}

/// Installs git and curl on host `index` and unpacks the repository tar into /srv/deploy-src.
fn prepare_host(hosts: &TestHosts, index: usize, repo_tar: &[u8]) {
    hosts.ssh_ok(
        index,
        "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-unsafe-io git curl >/dev/null",
    );
    let mut child = Command::new("ssh")
        .args(hosts.ssh_options())
        .arg(format!("root@{}", hosts.host(index).ip))
        .arg("mkdir -p /srv/deploy-src && tar -C /srv/deploy-src -xf -")
        .stdin(Stdio::piped())
        .spawn()
        .expect("ssh");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(repo_tar)
        .expect("send repository");
    assert!(child.wait().expect("ssh").success());
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

/// The deploy tree on host `i`: paths, types, modes, owners, sizes, link targets, file sha1s
/// (git internals left out) and the checkout's HEAD.
fn deploy_tree(hosts: &TestHosts, i: usize) -> String {
    hosts.ssh_ok(
        i,
        "cd /srv/deploy && find . -path ./releases/app/.git -prune -o -printf '%p %y %m %u %g %s %l\\n' | sort && \
         find . -path ./releases/app/.git -prune -o -type f -exec sha1sum {} + | sort -k2 && \
         git -C releases/app rev-parse HEAD && git -C releases/app status --porcelain --branch && \
         cat etc/app.conf etc/environment",
    )
}

/// Relative path and content of every file under `dir` on the controller.
fn controller_tree(dir: &Path) -> Vec<(String, String)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let rel = path
                    .strip_prefix(base)
                    .expect("under base")
                    .display()
                    .to_string();
                out.push((rel, std::fs::read_to_string(&path).unwrap_or_default()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// With `DROVER_ORACLE_DUMP=<dir>` set, writes both tools' outputs there (for diffing by hand).
fn dump(run: &str, ansible: &str, drover: &str) {
    if let Some(dir) = std::env::var_os("DROVER_ORACLE_DUMP") {
        let dir = PathBuf::from(dir);
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join(format!("deploy-{run}-ansible.txt")), ansible);
        let _ = std::fs::write(dir.join(format!("deploy-{run}-drover.txt")), drover);
    }
}

#[test]
fn deploy_playbook_matches_ansible_core() {
    let hosts = TestHosts::start(2);
    let dir = hosts.dir().to_path_buf();
    let repo_tar = build_repository(&dir);
    let server = TestHttpServer::start(repo_root().join("playbooks/tests/files/deploy"));
    let port = server.port();

    let setup_started = std::time::Instant::now();
    let oracle = std::thread::scope(|s| {
        let drover_side = s.spawn(|| prepare_host(&hosts, 1, &repo_tar));
        let oracle = OracleComparison::new(&hosts, 0, 1);
        prepare_host(&hosts, 0, &repo_tar);
        drover_side.join().expect("prepare drover's host");
        oracle
    });
    eprintln!("hosts prepared in {:?}", setup_started.elapsed());

    let book = repo_root().join("playbooks/tests/deploy.yml");
    let ansible_fetch = dir.join("fetch-ansible");
    let drover_fetch = dir.join("fetch-drover");
    let extra = |fetch: &Path| {
        format!(
            "http_base=http://{BRIDGE_ADDRESS}:{port} http_host={BRIDGE_ADDRESS} http_port={port} fetch_dir={}",
            fetch.display()
        )
    };
    let ansible_extra = extra(&ansible_fetch);
    let drover_extra = extra(&drover_fetch);
    let started = std::time::Instant::now();
    let run_ansible = || {
        let out = oracle.run_ansible(&book, &["-e", &ansible_extra]);
        eprintln!("ansible-playbook done at {:?}", started.elapsed());
        out
    };
    let run_drover = || {
        let out = oracle.run_drover(&book, &["-e", &drover_extra]);
        eprintln!("drover done at {:?}", started.elapsed());
        out
    };

    let ansible_first = run_ansible();
    let drover_first = run_drover();
    dump("first", &ansible_first, &drover_first);
    let expected = target_task_results(&ansible_first);
    assert!(
        expected.len() >= 35,
        "the oracle's output was not understood:\n{ansible_first}"
    );
    assert_eq!(
        target_task_results(&drover_first),
        expected,
        "per-task results differ\n--- drover:\n{drover_first}\n--- ansible:\n{ansible_first}"
    );
    let messages = debug_messages(&ansible_first);
    assert!(messages.len() >= 10, "{ansible_first}");
    assert_eq!(
        debug_messages(&drover_first),
        messages,
        "debug messages differ"
    );
    let tree = deploy_tree(&hosts, oracle.ansible_host());
    assert!(tree.contains("./vendor/lib.txt f 644"), "{tree}");
    assert_eq!(
        deploy_tree(&hosts, oracle.drover_host()),
        tree,
        "deploy trees differ"
    );
    let fetched = controller_tree(&ansible_fetch);
    assert_eq!(fetched.len(), 2, "{fetched:?}");
    assert_eq!(
        controller_tree(&drover_fetch),
        fetched,
        "fetched files differ"
    );

    let ansible_second = run_ansible();
    let drover_second = run_drover();
    dump("second", &ansible_second, &drover_second);
    assert_eq!(target_changed(&ansible_second), 0, "{ansible_second}");
    assert_eq!(target_changed(&drover_second), 0, "{drover_second}");
    assert_eq!(
        target_task_results(&drover_second),
        target_task_results(&ansible_second),
        "per-task results differ on the second run\n--- drover:\n{drover_second}\n--- ansible:\n{ansible_second}"
    );
    assert_eq!(
        debug_messages(&drover_second),
        debug_messages(&ansible_second)
    );
    assert_eq!(
        deploy_tree(&hosts, oracle.drover_host()),
        deploy_tree(&hosts, oracle.ansible_host())
    );
}

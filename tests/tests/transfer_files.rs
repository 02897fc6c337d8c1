//! `fetch`, `slurp`, `get_url`, `unarchive`, `archive` and `uri` against a real Debian host, with
//! HTTP served by a tiny server this test runs on the harness bridge address (10.77.0.1).

use std::path::Path;

use drover_integration::{TestHosts, TestHttpServer};

fn sha256(path: &Path) -> String {
    let out = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

fn sh(cmd: &str) {
    let st = std::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .status()
        .unwrap();
    assert!(st.success(), "{cmd}");
}

#[test]
fn transfer_modules_on_a_real_host() {
    let hosts = TestHosts::start(1);
    let dir = hosts.dir().to_path_buf();
    let inventory = dir.join("hosts.ini");
    hosts.write_inventory(&inventory, "t").unwrap();
    let host = hosts.host(0).name.clone();

    // Tools the modules use on the target (the base image has none of them).
    let cmd = "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-unsafe-io curl xz-utils unzip zip >/dev/null";

    // Before curl exists (a bare Debian host): get_url downloads with apt's apt-helper, with the
    // checksum checked and a 404 reported; with no client at all it fails with a clear message.
    let www = dir.join("www");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(www.join("app.txt"), "version 1\n").unwrap();
    let server = TestHttpServer::start(www.clone());
    let bare = hosts.play(
        "t",
        "bare.yml",
        &format!(
            "- hosts: t\n  gather_facts: false\n  tasks:\n\
             \x20   - get_url: {{url: '{ok}', dest: /tmp/bare.txt, mode: '0640', checksum: 'sha256:{sum}'}}\n\
             \x20   - get_url: {{url: '{ok}', dest: /tmp/bare.txt, mode: '0640'}}\n\
             \x20   - get_url: {{url: '{missing}', dest: /tmp/missing.txt}}\n\
             \x20     register: missing\n\
             \x20     ignore_errors: true\n\
             \x20   - debug: {{msg: 'status {{{{ missing.status_code }}}}'}}\n",
            ok = server.url("/f/app.txt"),
            missing = server.url("/f/nothing.txt"),
            sum = sha256(&www.join("app.txt")),
        ),
        &[],
    );
    assert_eq!(bare.code, Some(0), "{}", bare.stdout);
    assert!(
        bare.stdout.contains("ok=4 ")
            && bare.stdout.contains("changed=1 ")
            && bare.stdout.contains("ignored=1"),
        "{}",
        bare.stdout
    );
    assert!(bare.stdout.contains("status 404"), "{}", bare.stdout);
    assert_eq!(
        hosts
            .ssh_ok(
                0,
                "stat -c %a /tmp/bare.txt; cat /tmp/bare.txt; ls /tmp/missing.txt 2>&1 || true"
            )
            .trim(),
        "640\nversion 1\nls: cannot access '/tmp/missing.txt': No such file or directory"
    );
    hosts.ssh_ok(0, "chmod -x /usr/lib/apt/apt-helper");
    let no_curl = hosts.play(
        "t",
        "nocurl.yml",
        &format!(
            "- hosts: t\n  tasks:\n    - get_url: {{url: '{}', dest: /tmp/x}}\n",
            server.url("/f/app.txt")
        ),
        &[],
    );
    hosts.ssh_ok(0, "chmod +x /usr/lib/apt/apt-helper");
    assert_eq!(no_curl.code, Some(2), "{}", no_curl.stdout);
    assert!(
        no_curl.stdout.contains("none is installed"),
        "{}",
        no_curl.stdout
    );
    hosts.ssh_ok(0, cmd);

    // Archives made on the controller.
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("app/bin")).unwrap();
    std::fs::write(src.join("app/README"), "hello\n").unwrap();
    std::fs::write(src.join("app/bin/run"), "#!/bin/sh\necho run\n").unwrap();
    sh(&format!("chmod 0755 {0}/app/bin/run && cd {0} && tar czf ../app.tar.gz app && tar cJf ../app.tar.xz app && zip -qr ../app.zip app", src.display()));
    let files = dir.join("files");
    std::fs::create_dir_all(&files).unwrap();
    for f in ["app.tar.gz", "app.tar.xz", "app.zip"] {
        std::fs::rename(dir.join(f), files.join(f)).unwrap();
    }
    std::fs::write(
        www.join("SHA256SUMS"),
        format!("{}  app.txt\n", sha256(&www.join("app.txt"))),
    )
    .unwrap();
    let app_sum = sha256(&www.join("app.txt"));
    let fetched = dir.join("fetched");

    let site = format!(
        r#"- hosts: t
  tasks:
    - copy: {{dest: /srv/data.txt, content: "payload\n"}}
    - slurp: {{src: /srv/data.txt}}
      register: s
    - assert: {{that: ["s.content | b64decode == 'payload\n'", "s.encoding == 'base64'"]}}
    - fetch: {{src: /srv/data.txt, dest: "{fetched}/tree"}}
    - fetch: {{src: /srv/data.txt, dest: "{fetched}/flat/", flat: yes}}
    - get_url: {{url: "{app}", dest: /srv/app.txt, mode: "0640", checksum: "sha256:{app_sum}", headers: {{X-Drover: "yes"}}}}
    - file: {{path: /srv/dl, state: directory}}
    - get_url: {{url: "{app}", dest: /srv/dl/, checksum: "sha256:{sums}"}}
    - get_url: {{url: "{redirect}", dest: /srv/redirected.txt, force: yes}}
    - file: {{path: "/opt/{{{{ item }}}}", state: directory}}
      loop: [gz, xz, zip, remote]
    - unarchive: {{src: app.tar.gz, dest: /opt/gz, list_files: yes}}
      register: u
    - assert: {{that: ["'app/README' in u.files", "u.handler == 'TgzArchive'"]}}
    - unarchive: {{src: app.tar.xz, dest: /opt/xz, mode: "u=rwX,go=rX", owner: deploy}}
    - unarchive: {{src: app.zip, dest: /opt/zip, creates: /opt/zip/app/never-there}}
    - copy: {{src: app.tar.gz, dest: /srv/app.tar.gz}}
    - unarchive: {{src: /srv/app.tar.gz, dest: /opt/remote, remote_src: yes, exclude: [app/README]}}
    - unarchive: {{src: app.zip, dest: /opt/remote, creates: /opt/remote/app/bin}}
"#,
        fetched = fetched.display(),
        app = server.url("/f/app.txt"),
        sums = server.url("/f/SHA256SUMS"),
        redirect = server.url("/redirect/app.txt"),
    );
    let first = hosts.play("t", "site.yml", &site, &[]);
    assert_eq!(first.code, Some(0), "{}\n{}", first.stdout, first.stderr);
    assert!(first.changed() >= 10, "{}", first.stdout);
    // Controller side: fetch layout per host, and flat.
    assert_eq!(
        std::fs::read_to_string(fetched.join(format!("tree/{host}/srv/data.txt"))).unwrap(),
        "payload\n"
    );
    assert_eq!(
        std::fs::read_to_string(fetched.join("flat/data.txt")).unwrap(),
        "payload\n"
    );
    // Target side.
    assert_eq!(
        hosts.ssh_ok(
            0,
            "stat -c '%a %s' /srv/app.txt && cat /srv/dl/app.txt /srv/redirected.txt"
        ),
        "640 10\nversion 1\nversion 1\n"
    );
    assert_eq!(
        hosts.ssh_ok(0, "cat /opt/gz/app/README; stat -c %a /opt/gz/app/bin/run"),
        "hello\n755\n"
    );
    assert_eq!(
        hosts.ssh_ok(
            0,
            "stat -c '%U %a' /opt/xz/app/README /opt/xz/app/bin/run /opt/xz/app"
        ),
        "deploy 644\ndeploy 755\ndeploy 755\n"
    );
    assert_eq!(
        hosts.ssh_ok(0, "ls /opt/zip/app; ls /opt/remote/app"),
        "README\nbin\nbin\n"
    );
    let headers = server.requests();
    assert!(
        headers.iter().any(|r| r == "GET /f/SHA256SUMS"),
        "{headers:?}"
    );

    // Re-run: nothing changes, and get_url with a matching checksum does not download again.
    let before = server.requests().len();
    let second = hosts.play("t", "site.yml", &site, &[]);
    assert_eq!(second.code, Some(0), "{}", second.stdout);
    assert_eq!(second.changed(), 0, "{}", second.stdout);
    let new_requests: Vec<String> = server.requests()[before..].to_vec();
    // Only the directory dest (always downloaded, as in Ansible) and the forced redirect fetch
    // app.txt; the file dest with a matching checksum is not downloaded.
    assert_eq!(
        new_requests,
        [
            "GET /f/SHA256SUMS",
            "GET /f/app.txt",
            "GET /redirect/app.txt",
            "GET /f/app.txt"
        ],
    );

    // Upstream changes: --check --diff reports changes but leaves the host alone.
    std::fs::write(www.join("app.txt"), "version 2\n").unwrap();
    std::fs::write(
        www.join("SHA256SUMS"),
        format!("{}  app.txt\n", sha256(&www.join("app.txt"))),
    )
    .unwrap();
    hosts.ssh_ok(
        0,
        "echo changed > /opt/gz/app/README && rm /srv/data.txt.never 2>/dev/null; true",
    );
    let update = r#"- hosts: t
  tasks:
    - get_url: {url: "URL", dest: /srv/dl/, checksum: "sha256:SUMS"}
    - get_url: {url: "URL", dest: /srv/app.txt, force: yes}
    - unarchive: {src: app.tar.gz, dest: /opt/gz}
"#
    .replace("URL", &server.url("/f/app.txt"))
    .replace("SUMS", &server.url("/f/SHA256SUMS"));
    let check = hosts.play("t", "update.yml", &update, &["--check", "--diff"]);
    assert_eq!(check.code, Some(0), "{}", check.stdout);
    assert_eq!(check.changed(), 3, "{}", check.stdout);
    assert!(check.stdout.contains("app/README"), "{}", check.stdout);
    assert_eq!(
        hosts.ssh_ok(0, "cat /srv/dl/app.txt /srv/app.txt /opt/gz/app/README"),
        "version 1\nversion 1\nchanged\n"
    );
    assert_eq!(hosts.ssh_ok(0, "ls -A /tmp | grep drover || true"), "");
    let apply = hosts.play("t", "update.yml", &update, &[]);
    assert_eq!(apply.changed(), 3, "{}", apply.stdout);
    assert_eq!(
        hosts.ssh_ok(0, "cat /srv/dl/app.txt /srv/app.txt /opt/gz/app/README"),
        "version 2\nversion 2\nhello\n"
    );

    // keep_newer: a destination file newer than the archive's member is left alone.
    hosts.ssh_ok(0, "echo mine > /opt/xz/app/README");
    let keep = hosts.play(
        "t",
        "keep.yml",
        "- hosts: t\n  tasks:\n    - unarchive: {src: app.tar.xz, dest: /opt/xz, keep_newer: yes, mode: \"u=rwX,go=rX\", owner: deploy}\n",
        &[],
    );
    assert_eq!(keep.code, Some(0), "{}", keep.stdout);
    assert_eq!(keep.changed(), 0, "{}", keep.stdout);
    assert_eq!(hosts.ssh_ok(0, "cat /opt/xz/app/README"), "mine\n");
    // get_url with a matching checksum: no download, but attributes still converge.
    let requests_before = server.requests().len();
    let attrs = format!(
        "- hosts: t\n  tasks:\n    - get_url: {{url: \"{}\", dest: /srv/app.txt, checksum: \"sha256:{}\", mode: \"0604\"}}\n      register: g\n    - assert: {{that: [\"g.msg == 'file already exists but file attributes changed'\"]}}\n",
        server.url("/f/app.txt"),
        sha256(&www.join("app.txt"))
    );
    let attrs_run = hosts.play("t", "attrs.yml", &attrs, &[]);
    assert_eq!(attrs_run.code, Some(0), "{}", attrs_run.stdout);
    assert_eq!(attrs_run.changed(), 1, "{}", attrs_run.stdout);
    assert_eq!(hosts.ssh_ok(0, "stat -c %a /srv/app.txt"), "604\n");
    assert_eq!(server.requests().len(), requests_before);

    // uri (JSON round trip, headers, accepted and failing status codes, dest, creates) and
    // archive (tar.gz of a directory, zip of two paths, single-file compression, glob + exclusion).
    let more = format!(
        r#"- hosts: t
  tasks:
    - uri: {{url: "{echo}", method: POST, body_format: json, body: {{name: drover, n: 3}}, status_code: [201]}}
      register: post
    - uri: {{url: "{headers}", headers: {{X-Drover: "yes"}}, return_content: yes}}
      register: hdrs
    - uri: {{url: "{app}", dest: /srv/uri.txt, mode: "0600"}}
      register: saved
    - uri: {{url: "{missing}", status_code: [200, 404]}}
      register: notfound
    - uri: {{url: "{status500}"}}
      register: err
      ignore_errors: yes
    - uri: {{url: "{app}", creates: /srv/uri.txt}}
      register: skipped
    - assert:
        that:
          - post.status == 201 and post.json.body.name == 'drover' and post.json.content_type == 'application/json'
          - "'x-drover: yes' in hdrs.content and hdrs.content_type == 'text/plain'"
          - saved.path == '/srv/uri.txt' and saved.status == 200
          - notfound.status == 404 and notfound is not failed
          - err.failed and err.status == 500 and 'Status code was 500' in err.msg
          - skipped.stdout is search('skipped')
    - get_url: {{url: "{headers}", dest: /srv/headers.txt, headers: {{X-Drover: "get-url"}}}}
    - get_url: {{url: "{slow}", dest: /srv/slow.txt, timeout: 1}}
      register: slow
      ignore_errors: yes
    - file: {{path: /opt/strip, state: directory}}
    - unarchive: {{src: app.tar.gz, dest: /opt/strip, extra_opts: [--strip-components=1]}}
    - assert:
        that:
          - slow.failed and 'timed out' in slow.msg
    - archive: {{path: /opt/gz/app, dest: /srv/app-backup.tar.gz}}
      register: tgz
    - archive: {{path: [/opt/gz/app/README, /opt/gz/app/bin], dest: /srv/two.zip, format: zip}}
    - archive: {{path: /srv/uri.txt, format: xz}}
      register: xz
    - archive: {{path: "/opt/gz/app/*", dest: /srv/glob.tar, format: tar, exclusion_patterns: ["README"]}}
    - assert:
        that:
          - tgz.arcroot == '/opt/gz/' and '/opt/gz/app/bin/run' in tgz.archived and tgz.state == 'archive'
          - xz.dest_state == 'compress' and xz.dest == '/srv/uri.txt.xz'
"#,
        echo = server.url("/echo"),
        headers = server.url("/headers"),
        app = server.url("/f/app.txt"),
        missing = server.url("/f/nope"),
        status500 = server.url("/status/500"),
        slow = server.url("/slow"),
    );
    let more_run = hosts.play("t", "more.yml", &more, &[]);
    assert_eq!(
        more_run.code,
        Some(0),
        "{}\n{}",
        more_run.stdout,
        more_run.stderr
    );
    assert_eq!(more_run.changed(), 8, "{}", more_run.stdout);
    assert_eq!(
        hosts.ssh_ok(
            0,
            "grep -i x-drover /srv/headers.txt; ls /opt/strip; test ! -e /srv/slow.txt"
        ),
        "x-drover: get-url\nREADME\nbin\n"
    );
    assert_eq!(
        hosts.ssh_ok(0, "stat -c %a /srv/uri.txt; tar tzf /srv/app-backup.tar.gz; unzip -Z1 /srv/two.zip; xz -dc /srv/uri.txt.xz; tar tf /srv/glob.tar"),
        "600\napp/\napp/README\napp/bin/\napp/bin/run\nREADME\nbin/\nbin/run\nversion 2\nbin/\nbin/run\n"
    );
    let more_again = hosts.play("t", "more.yml", &more, &[]);
    assert_eq!(more_again.code, Some(0), "{}", more_again.stdout);
    assert_eq!(more_again.changed(), 0, "{}", more_again.stdout);
    // A changed source: --check reports the archive would change and leaves it alone.
    let sum_before = hosts.ssh_ok(0, "sha1sum /srv/app-backup.tar.gz");
    hosts.ssh_ok(0, "echo more >> /opt/gz/app/README");
    let arch_check = hosts.play(
        "t",
        "arch.yml",
        "- hosts: t\n  tasks:\n    - archive: {path: /opt/gz/app, dest: /srv/app-backup.tar.gz}\n",
        &["--check"],
    );
    assert_eq!(arch_check.changed(), 1, "{}", arch_check.stdout);
    assert_eq!(
        hosts.ssh_ok(0, "sha1sum /srv/app-backup.tar.gz"),
        sum_before
    );
    assert_eq!(hosts.ssh_ok(0, "ls -A /tmp | grep drover || true"), "");

    // Bad values: clear failed results, not crashes.
    let failing = format!(
        r#"- hosts: t
  tasks:
    - get_url: {{url: "{missing}", dest: /srv/missing}}
      ignore_errors: yes
      register: g404
    - get_url: {{url: "{app}", dest: /srv/bad, checksum: "sha256:0000"}}
      ignore_errors: yes
      register: gsum
    - copy: {{dest: /srv/not-an-archive, content: "just text\n"}}
    - unarchive: {{src: /srv/not-an-archive, dest: /opt/gz, remote_src: yes}}
      ignore_errors: yes
      register: ubad
    - unarchive: {{src: app.zip, dest: /opt/nonexistent}}
      ignore_errors: yes
      register: unodest
    - slurp: {{src: /srv/none}}
      ignore_errors: yes
      register: snone
    - fetch: {{src: /srv/none, dest: /tmp/x}}
      ignore_errors: yes
      register: fnone
    - assert:
        that:
          - g404.failed and g404.status_code == 404
          - "'did not match' in gsum.msg"
          - "'Failed to find handler' in ubad.msg"
          - "'does not exist' in unodest.msg"
          - "snone.msg == 'File not found: /srv/none'"
          - "fnone.msg == 'the remote file does not exist, not transferring, ignored'"
"#,
        missing = server.url("/f/nope"),
        app = server.url("/f/app.txt"),
    );
    let bad = hosts.play("t", "bad.yml", &failing, &[]);
    assert_eq!(bad.code, Some(0), "{}\n{}", bad.stdout, bad.stderr);
    assert_eq!(
        hosts.ssh_ok(0, "ls /srv/bad /srv/missing 2>&1 | grep -c 'No such'"),
        "2\n"
    );

    // Unknown argument: rejected before any host is touched, naming the key and place.
    let typo = hosts.play(
        "t",
        "typo.yml",
        "- hosts: t\n  tasks:\n    - copy: {dest: /srv/marker, content: x}\n    - get_url: {url: 'http://x/', dest: /tmp/y, chcksum: 'sha1:00'}\n",
        &[],
    );
    assert_eq!(typo.code, Some(1), "{}", typo.stdout);
    assert!(
        typo.stderr.contains("typo.yml:4") && typo.stderr.contains("chcksum"),
        "{}",
        typo.stderr
    );
    assert!(
        hosts.ssh(0, "test ! -e /srv/marker").status.success(),
        "host was touched"
    );
}

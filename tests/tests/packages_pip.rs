//! `pip` and `package` against a real Debian 12 host: python3-venv comes from Debian's archive
//! through `package` (dispatching to apt on the `ansible_pkg_mgr` fact), the Python package is a
//! tiny wheel built on the controller and installed with `--no-index` (no PyPI traffic).

mod packages;

use std::process::Command;

use drover_integration::TestHosts;
use packages::play;

/// Builds `drover_tiny-<version>-py3-none-any.whl` in `dir` (Python's zipfile on the controller).
fn build_wheel(dir: &std::path::Path, version: &str) {
    let script = format!(
        r#"
import base64, hashlib, zipfile
v = "{version}"
files = {{
    "drover_tiny/__init__.py": ("VERSION = '%s'\n" % v).encode(),
    "drover_tiny-%s.dist-info/METADATA" % v: ("Metadata-Version: 2.1\nName: drover-tiny\nVersion: %s\n" % v).encode(),
    "drover_tiny-%s.dist-info/WHEEL" % v: b"Wheel-Version: 1.0\nGenerator: drover-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}}
record = "drover_tiny-%s.dist-info/RECORD" % v
lines = []
for name, data in files.items():
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    lines.append("%s,sha256=%s,%d" % (name, digest, len(data)))
lines.append(record + ",,")
with zipfile.ZipFile("drover_tiny-%s-py3-none-any.whl" % v, "w") as z:
    for name, data in files.items():
        z.writestr(name, data)
    z.writestr(record, "\n".join(lines) + "\n")
"#
    );
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .output()
        .expect("python3 on the controller");
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn pip_installs_into_a_virtualenv_from_a_local_wheel() {
    let hosts = TestHosts::start(1);
    let wheels = hosts.dir().join("wheels");
    std::fs::create_dir_all(&wheels).unwrap();
    build_wheel(&wheels, "1.0");
    let playbook = format!(
        "- hosts: pkg
  tasks:
    - name: venv support
      package: {{name: python3-venv, state: present, update_cache: yes, cache_valid_time: 3600}}
    - copy: {{src: '{}/', dest: /tmp/wheels/}}
    - name: tiny
      pip:
        name: drover-tiny
        virtualenv: /opt/venv
        virtualenv_command: python3 -m venv
        extra_args: --no-index --find-links /tmp/wheels
",
        wheels.display()
    );
    let first = play(&hosts, "pip.yml", &playbook, &[]);
    assert_eq!(first.output.code, Some(0), "{}", first.output.stdout);
    assert_eq!(
        first.statuses(),
        ["changed", "changed", "changed"],
        "{}",
        first.output.stdout
    );
    let tiny = &first.task("tiny").result;
    assert!(
        tiny["cmd"]
            .as_str()
            .unwrap_or("")
            .contains("/opt/venv/bin/pip"),
        "{tiny}"
    );
    assert_eq!(
        hosts
            .ssh_ok(
                0,
                "/opt/venv/bin/python -c 'import drover_tiny; print(drover_tiny.VERSION)'"
            )
            .trim(),
        "1.0"
    );
    let again = play(&hosts, "pip.yml", &playbook, &[]);
    assert_eq!(
        again.statuses(),
        ["ok", "ok", "ok"],
        "{}",
        again.output.stdout
    );

    // Check mode: absent would change, the package stays; then absent; a fresh venv in check mode
    // is not created.
    let absent = "- hosts: pkg
  tasks:
    - name: remove
      pip: {name: drover-tiny, state: absent, virtualenv: /opt/venv}
    - name: other venv
      pip: {name: drover-tiny, virtualenv: /opt/venv2, virtualenv_command: python3 -m venv}
";
    let check = play(&hosts, "absent.yml", absent, &["--check"]);
    assert_eq!(
        check.statuses(),
        ["changed", "changed"],
        "{}",
        check.output.stdout
    );
    hosts.ssh_ok(0, "/opt/venv/bin/python -c 'import drover_tiny'");
    hosts.ssh_ok(0, "test ! -e /opt/venv2");
    let absent_only = "- hosts: pkg\n  tasks:\n    - pip: {name: drover-tiny, state: absent, virtualenv: /opt/venv}\n";
    assert_eq!(
        play(&hosts, "rm.yml", absent_only, &[]).statuses(),
        ["changed"]
    );
    assert!(!hosts
        .ssh(0, "/opt/venv/bin/python -c 'import drover_tiny'")
        .status
        .success());
    assert_eq!(play(&hosts, "rm.yml", absent_only, &[]).statuses(), ["ok"]);

    // Bad input: an unknown distribution fails with pip's message.
    let bad = "- hosts: pkg
  tasks:
    - name: unknown
      pip: {name: drover-nope, virtualenv: /opt/venv, extra_args: --no-index --find-links /tmp/wheels}
      ignore_errors: yes
    - name: ambiguous
      pip: {name: [a, b], version: '1.0', virtualenv: /opt/venv}
      ignore_errors: yes
";
    let run = play(&hosts, "bad.yml", bad, &[]);
    assert_eq!(
        run.statuses(),
        ["failed", "failed"],
        "{}",
        run.output.stdout
    );
    let msg = run.task("unknown").result["msg"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        msg.contains("No matching distribution found for drover-nope"),
        "{msg}"
    );
}

//! Python-`re` lookaround and backreferences in `lineinfile` and `replace` on a real host.

use drover_integration::TestHosts;

#[test]
fn lineinfile_and_replace_accept_lookaround() {
    let hosts = TestHosts::start(1);
    hosts.ssh_ok(
        0,
        "printf '#PermitRootLogin yes\\nPermitRootLogin yes\\nport=22 sport=23\\nword word\\n' > /etc/demo.conf",
    );
    let book = r#"- hosts: targets
  gather_facts: false
  tasks:
    - lineinfile:
        path: /etc/demo.conf
        regexp: '^(?!#)\s*PermitRootLogin\b'
        line: PermitRootLogin no
    - replace:
        path: /etc/demo.conf
        regexp: '(?<=\bport=)\d+'
        replace: '2222'
    - replace:
        path: /etc/demo.conf
        regexp: '\b(\w+) \1\b'
        replace: '\1'
"#;
    let run = hosts.play("targets", "look.yml", book, &[]);
    run.assert_success();
    assert_eq!(run.changed(), 3, "{}", run.stdout);
    assert_eq!(
        hosts.ssh_ok(0, "cat /etc/demo.conf"),
        "#PermitRootLogin yes\nPermitRootLogin no\nport=2222 sport=23\nword\n"
    );
    let run = hosts.play("targets", "look.yml", book, &[]);
    run.assert_success();
    assert_eq!(run.changed(), 0, "{}", run.stdout);
}

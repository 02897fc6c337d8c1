//! Play-level `gather_subset`, `gather_timeout` and `fact_path` reach the implicit fact gathering.

use drover_integration::TestHosts;

#[test]
fn play_gather_subset_limits_the_implicit_facts() {
    let hosts = TestHosts::start(1);
    hosts.ssh_ok(
        0,
        "mkdir -p /srv/facts && printf '[app]\\nrole=web\\n' > /srv/facts/custom.fact",
    );
    // Only the minimal subset: distribution facts are there, hardware and network facts are not.
    let min = r#"- hosts: targets
  gather_subset: ['!all', 'min']
  gather_timeout: 20
  fact_path: /srv/facts
  tasks:
    - assert:
        that:
          - ansible_facts.distribution == 'Debian'
          - ansible_facts.hostname is defined
          - ansible_facts.memtotal_mb is not defined
          - ansible_facts.interfaces is not defined
          - ansible_facts.default_ipv4 is not defined
          - ansible_local.custom.app.role == 'web'
"#;
    hosts.play("targets", "min.yml", min, &[]).assert_success();
    // The same play with the default subset sees hardware and network facts (so the assertions
    // above are not trivially true), and the default fact_path has no custom facts.
    let all = r#"- hosts: targets
  tasks:
    - assert:
        that:
          - ansible_facts.memtotal_mb is defined
          - ansible_facts.interfaces is defined
          - ansible_local.custom is not defined
"#;
    hosts.play("targets", "all.yml", all, &[]).assert_success();
    // A bad subset name fails the gathering task with a message naming it.
    let bad =
        "- hosts: targets\n  gather_subset: [nosuch]\n  tasks:\n    - debug: {msg: unreachable}\n";
    let run = hosts.play("targets", "bad.yml", bad, &[]);
    assert_eq!(run.code, Some(2), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("nosuch"), "{}", run.stdout);
}

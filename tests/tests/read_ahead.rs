//! Read-ahead of probes on real hosts: a run that changes nothing reads the probes of many tasks
//! per round trip, and anything that changes a host between the read and the task that uses it
//! makes that task probe again.

use drover_integration::TestHosts;

/// Puts a `stat` in front of the real one on host `i` that counts its calls in /tmp/stat-calls.
fn count_stat_calls(hosts: &TestHosts, i: usize) {
    hosts.ssh_ok(
        i,
        "printf '#!/bin/sh\\necho call >> /tmp/stat-calls\\nexec /usr/bin/stat \"$@\"\\n' \
         > /usr/local/bin/stat && chmod 755 /usr/local/bin/stat && : > /tmp/stat-calls",
    );
}

fn stat_calls(hosts: &TestHosts, i: usize) -> usize {
    hosts.ssh_ok(i, "cat /tmp/stat-calls").lines().count()
}

#[test]
fn an_unchanged_run_reads_probes_for_many_tasks_per_round_trip() {
    let hosts = TestHosts::start(2);
    let mut book = String::from("- hosts: targets\n  gather_facts: false\n  tasks:\n");
    for i in 1..=8 {
        book.push_str(&format!(
            "    - file: path=/srv/ra/d{i} state=directory mode=0755\n"
        ));
    }
    for i in 1..=8 {
        book.push_str(&format!(
            "    - copy: content='file {i}\\n' dest=/srv/ra/d{i}/f mode=0644\n"
        ));
    }
    let cold = hosts.play("targets", "ra.yml", &book, &[]);
    cold.assert_success();
    assert_eq!(cold.changed(), 32, "{}", cold.stdout);

    for i in 0..2 {
        count_stat_calls(&hosts, i);
    }
    let warm = hosts.play("targets", "ra.yml", &book, &[]);
    warm.assert_success();
    assert_eq!(warm.changed(), 0, "{}", warm.stdout);
    for i in 0..2 {
        // Probing task by task runs `stat` 16 times; reading ahead 8 tasks, then the other 8,
        // runs it twice.
        let calls = stat_calls(&hosts, i);
        assert!(
            (1..=3).contains(&calls),
            "host {i}: {calls} stat calls for 16 unchanged tasks"
        );
    }

    // Check mode reads ahead too, sees the drift, and leaves it alone.
    hosts.ssh_ok(0, "echo drift > /srv/ra/d8/f");
    let check = hosts.play("targets", "ra.yml", &book, &["--check"]);
    check.assert_success();
    assert_eq!(check.changed(), 1, "{}", check.stdout);
    assert_eq!(hosts.ssh_ok(0, "cat /srv/ra/d8/f"), "drift\n");
}

#[test]
fn a_change_between_read_and_use_makes_the_task_probe_again() {
    let hosts = TestHosts::start(2);
    let mut book = String::from("- hosts: targets\n  gather_facts: false\n  tasks:\n");
    // On a re-run, the first read-ahead (8 tasks) covers the directories and both copies of
    // one.txt, so the second copy's probe is read before the shell changes the file; another
    // covers `file: state=absent` and the command after it.
    for i in 1..=5 {
        book.push_str(&format!("    - file: path=/srv/ra/d{i} state=directory\n"));
    }
    book.push_str(
        r#"    - copy: content="orig\n" dest=/srv/ra/one.txt
    - name: skipped here, so passed over by the read-ahead
      shell: echo never > /srv/ra/one.txt
      when: false
    - name: runs between the read-ahead and the copy below
      shell: echo drift > /srv/ra/one.txt
      changed_when: false
    - copy: content="orig\n" dest=/srv/ra/one.txt
    - raw: echo drift > /srv/ra/two.txt
    - copy: content="orig\n" dest=/srv/ra/two.txt
    - command: touch /srv/ra/made creates=/srv/ra/made
    - file: path=/srv/ra/made state=absent
    - command: touch /srv/ra/made creates=/srv/ra/made
    - stat: path=/srv/ra/made
      register: made
    - assert:
        that: made.stat.exists
"#,
    );
    let first = hosts.play("targets", "drift.yml", &book, &[]);
    first.assert_success();
    for _ in 0..2 {
        let again = hosts.play("targets", "drift.yml", &book, &[]);
        again.assert_success();
        // Per host: both copies repair the drift, raw reports a change, `made` is removed and
        // made again.
        assert_eq!(again.changed(), 2 * 5, "{}", again.stdout);
        for i in 0..2 {
            assert_eq!(
                hosts.ssh_ok(i, "cat /srv/ra/one.txt /srv/ra/two.txt"),
                "orig\norig\n"
            );
        }
    }
}

//! The `timeout` task keyword over SSH against a real host: the slow command fails the task with
//! ansible-core's message without waiting for the command (`sleep 300`), and the same connection
//! keeps running later tasks (more timeouts than sshd's MaxSessions included).

use std::time::Instant;

use drover_integration::TestHosts;

#[test]
fn timeout_abandons_the_remote_command_and_keeps_the_connection() {
    let hosts = TestHosts::start(1);
    let yaml = r#"
- hosts: targets
  gather_facts: false
  tasks:
    - name: too slow
      command: sleep 300
      timeout: 1
      ignore_errors: true
      register: slow
    - name: message
      assert:
        that:
          - slow is failed
          - slow.msg == 'Task failed: Timed out after 1 second(s).'
    - name: many timeouts on one connection
      shell: sleep 301
      timeout: 1
      ignore_errors: true
      loop: "{{ range(12) | list }}"
    - name: the connection still works
      command: echo still here
      register: after
    - name: after
      assert:
        that: after.stdout == 'still here'
"#;
    let start = Instant::now();
    let out = hosts.play("targets", "timeout.yml", yaml, &[]);
    out.assert_success();
    assert!(
        start.elapsed().as_secs() < 150,
        "timeouts did not cut the commands short: {:?}",
        start.elapsed()
    );
    assert!(
        out.stdout
            .contains("Task failed: Timed out after 1 second(s)."),
        "{}",
        out.stdout
    );
    // Known gap: the SSH `signal` request sent on abandon does not stop the remote command on
    // these hosts (it runs to its end); only the channel is given up.
}

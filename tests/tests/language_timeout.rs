//! The `timeout` task keyword over SSH against a real host: the slow command fails the task with
//! ansible-core's message without waiting for the command (`sleep 300`), the same connection
//! keeps running later tasks (more timeouts than sshd's MaxSessions included), and the abandoned
//! remote commands are stopped (their whole process group, also under sudo).

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

- hosts: targets
  gather_facts: false
  become: true
  vars:
    ansible_user: deploy
  tasks:
    - name: too slow under sudo, with a child process
      shell: sleep 302 & sleep 303; wait
      timeout: 2
      ignore_errors: true
    - name: a later task
      command: id -un
      register: who
    - name: as root
      assert:
        that: who.stdout == 'root'
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
    // The abandoned commands are stopped (not left running to their end).
    let mut left = String::new();
    for _ in 0..20 {
        let out = hosts.ssh(0, "pgrep -a -f 'sleep 30[0-3]' || true");
        left = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if left.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    assert_eq!(left, "", "abandoned commands still run on the host");
}

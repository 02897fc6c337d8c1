//! The `examples/` programs (drover embedded through its library API) against a real host:
//! a module run by name and typed, a playbook with per-task results, and a custom module
//! registered by the example and used from a playbook.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use drover_integration::{example_bin, repo_root, TestHosts};

fn run(example: &str, args: &[&str]) -> Output {
    let output = Command::new(example_bin(example))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run the example {example}: {e}"));
    assert!(
        output.status.success(),
        "{example} {args:?} failed ({:?}):\n{}\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn example_playbook(name: &str) -> String {
    repo_root()
        .join("examples/playbooks")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn the_examples_run_against_a_host() {
    let hosts = TestHosts::start(1);
    let host = hosts.host(0).name.clone();
    let inventory = hosts.dir().join("inventory.ini");
    hosts.write_inventory(&inventory, "web").unwrap();
    let inventory = inventory.display().to_string();

    // (a) copy by name, then stat from its typed params struct; the second run changes nothing.
    let path = "/tmp/drover-example.txt";
    let first = stdout(&run("run_module", &[&inventory, &host, path]));
    assert!(first.contains("copy: changed=true"), "{first}");
    let size = format!("size={}", format!("written by {host}\n").len());
    assert!(
        first.contains("stat: exists=true mode=\"0640\"") && first.contains(&size),
        "{first}"
    );
    let second = stdout(&run("run_module", &[&inventory, &host, path]));
    assert!(second.contains("copy: changed=false"), "{second}");
    assert_eq!(
        hosts.ssh_ok(0, &format!("cat {path}")),
        format!("written by {host}\n")
    );

    // (b) a playbook's results, task by task, with the recap.
    let results = stdout(&run(
        "playbook_results",
        &[&inventory, &example_playbook("results.yml")],
    ));
    let line = |task: &str, status: &str| {
        results.lines().any(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            words.first() == Some(&host.as_str())
                && l.contains(task)
                && l.split(task)
                    .nth(1)
                    .is_some_and(|rest| rest.trim_start().starts_with(status))
        })
    };
    assert!(line("Say hello", "ok"), "{results}");
    assert!(line("Touch a file", "changed"), "{results}");
    assert!(line("Never runs", "skipped"), "{results}");
    assert!(line("Loop over items", "ok (item=one)"), "{results}");
    assert!(line("Loop over items", "ok (item=two)"), "{results}");
    assert!(line("Fail, but carry on", "failed"), "{results}");
    assert!(
        results.contains(&format!(
            "recap {host}: ok=4 changed=2 failed=0 unreachable=0"
        )),
        "{results}"
    );
    assert!(Path::new(&example_playbook("results.yml")).is_file());
    hosts.ssh_ok(0, "test -f /tmp/drover-results-example");

    // (c) the example's own `greeting` module, from a playbook: changed once, then ok.
    let greeted = stdout(&run("custom_module", &[&inventory]));
    assert!(
        greeted.contains(&format!(
            "{host} Write the greeting: Changed greeted {host}"
        )),
        "{greeted}"
    );
    assert!(
        greeted.contains(&format!("{host} Write it again (nothing to change): Ok")),
        "{greeted}"
    );
    assert_eq!(
        hosts.ssh_ok(0, "cat /tmp/drover-greeting.txt"),
        format!("Hello, {host}!\n")
    );
}

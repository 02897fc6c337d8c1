//! Terminal behaviour against ansible-playbook's (the oracle venv, both run under a pty from
//! `script`): the coloured transcript of a play with ok/changed/failed/skipped/ignored results
//! and an unreachable host; when colour is on (a terminal, `TERM`) and off (`NO_COLOR`,
//! `ANSIBLE_NOCOLOR`, ansible.cfg `nocolor`, piped output, `--no-color`) or forced
//! (`ANSIBLE_FORCE_COLOR`, `force_color`); and `--profile` against the profile_tasks callback.

use std::path::PathBuf;
use std::process::Command;

use drover_integration::{drover_bin, oracle_ansible_playbook, oracle_collections_path};

const BOOK: &str = r#"- hosts: all
  gather_facts: false
  tasks:
    - name: says hello
      debug:
        msg: hello
    - name: changes
      command: "true"
    - name: skipped on h1
      debug:
        msg: not h1
      when: inventory_hostname != 'h1'
    - name: fails on h2
      command: "false"
      when: inventory_hostname == 'h2'
    - name: ignored failure
      command: "false"
      ignore_errors: true
    - name: loop
      debug:
        msg: "{{ item }}"
      loop: [a, b]
"#;

const PROFILED: &str = r#"- hosts: all
  gather_facts: false
  tasks:
    - name: quick
      debug:
        msg: quick
    - name: two seconds
      command: sleep 2
    - name: one second
      command: sleep 1
"#;

/// A scratch directory with the playbooks, inventories and an ansible.cfg of `cfg`.
struct Scene {
    dir: tempfile::TempDir,
}

impl Scene {
    fn new(cfg: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write("play.yml", BOOK);
        write("profiled.yml", PROFILED);
        write(
            "local.ini",
            "h1 ansible_connection=local\nh2 ansible_connection=local\n",
        );
        // Unreachable: nothing listens on loopback port 1.
        write(
            "far.ini",
            "h1 ansible_connection=local\nh3 ansible_host=127.0.0.1 ansible_port=1 ansible_user=nobody\n",
        );
        write("ansible.cfg", cfg);
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The command line of `tool` (drover or the oracle's ansible-playbook) for `book` on
    /// `inventory`, plus `extra`.
    /// Both run with one fork: hosts then report in inventory order (with more, ansible-playbook
    /// prints them in the order they finish, which varies on a busy machine).
    fn command_line(&self, ansible: bool, book: &str, inventory: &str, extra: &str) -> String {
        let (book, inventory) = (self.path(book), self.path(inventory));
        if ansible {
            let playbook = oracle_ansible_playbook();
            format!(
                "{} {} -f 1 -i {} -e ansible_python_interpreter={} {extra}",
                playbook.display(),
                book.display(),
                inventory.display(),
                playbook.with_file_name("python").display()
            )
        } else {
            format!(
                "{} play {} -f 1 -i {} {extra}",
                drover_bin().display(),
                book.display(),
                inventory.display()
            )
        }
    }

    /// Runs `line` through `sh` (on a pty from `script` when `tty`) in the scene's directory with
    /// a clean colour environment plus `env`; returns stdout (and, on a pty, stderr too).
    fn run(&self, line: &str, tty: bool, env: &[(&str, &str)]) -> String {
        let mut command = if tty {
            let mut c = Command::new("script");
            c.args(["-qec", line, "/dev/null"]);
            c
        } else {
            let mut c = Command::new("sh");
            c.args(["-c", line]);
            c
        };
        command
            .current_dir(self.dir.path())
            .stdin(std::process::Stdio::null());
        for var in [
            "NO_COLOR",
            "ANSIBLE_NOCOLOR",
            "ANSIBLE_FORCE_COLOR",
            "ANSIBLE_CALLBACKS_ENABLED",
        ] {
            command.env_remove(var);
        }
        command
            .env("ANSIBLE_CONFIG", self.path("ansible.cfg"))
            .env("TERM", "xterm")
            .env("DROVER_NO_PROGRESS", "1")
            .env("PYTHONWARNINGS", "ignore")
            .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
            .env("ANSIBLE_COLLECTIONS_PATH", oracle_collections_path());
        for (k, v) in env {
            command.env(k, v);
        }
        let out = command.output().expect("run the command");
        String::from_utf8_lossy(&out.stdout).replace('\r', "")
    }
}

/// Drops drover's own time lines and the values that change from run to run.
fn normalised(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if line.contains("task time: ") || line.contains("total time: ") {
            continue;
        }
        let mut line = line.to_string();
        for key in ["\"delta\": \"", "\"start\": \"", "\"end\": \""] {
            if let Some(at) = line.find(key) {
                let from = at + key.len();
                if let Some(len) = line[from..].find('"') {
                    line.replace_range(from..from + len, "");
                }
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// A closure run on its own thread by [`in_parallel`].
type Job<'a, T> = Box<dyn FnOnce() -> T + Send + 'a>;

/// One colour case: scene, on a pty, environment, drover's extra arguments, colour expected.
type ColourCase<'a> = (&'a Scene, bool, Vec<(&'a str, &'a str)>, &'a str, bool);

fn in_parallel<T: Send>(jobs: Vec<Job<'_, T>>) -> Vec<T> {
    std::thread::scope(|s| {
        let handles: Vec<_> = jobs.into_iter().map(|job| s.spawn(job)).collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("job"))
            .collect()
    })
}

#[test]
fn coloured_output_is_ansible_playbooks() {
    let scene = Scene::new("[defaults]\n");
    let runs = in_parallel(
        [true, false]
            .into_iter()
            .flat_map(|ansible| {
                let scene = &scene;
                let local: Box<dyn FnOnce() -> String + Send> = Box::new(move || {
                    scene.run(
                        &scene.command_line(ansible, "play.yml", "local.ini", ""),
                        true,
                        &[],
                    )
                });
                let far: Box<dyn FnOnce() -> String + Send> = Box::new(move || {
                    scene.run(
                        &scene.command_line(ansible, "play.yml", "far.ini", ""),
                        true,
                        &[],
                    )
                });
                [local, far]
            })
            .collect(),
    );
    let (ansible_local, ansible_far, drover_local, drover_far) =
        (&runs[0], &runs[1], &runs[2], &runs[3]);
    for colour in [
        "\x1b[0;32mok: [h1]",
        "\x1b[0;33mchanged: [h1]",
        "\x1b[0;36mskipping: [h1]",
    ] {
        assert!(ansible_local.contains(colour), "{ansible_local}");
    }
    assert_eq!(normalised(drover_local), normalised(ansible_local));

    // Unreachable: the line's colour and the recap (ansible-core words the message itself and
    // adds an [ERROR] block before it).
    let unreachable = |text: &str| {
        let line = text
            .lines()
            .find(|l| l.contains("UNREACHABLE!"))
            .unwrap_or_else(|| panic!("no UNREACHABLE line:\n{text}"));
        line[..line.find(" => ").unwrap_or(line.len())].to_string()
    };
    assert_eq!(unreachable(drover_far), unreachable(ansible_far));
    assert!(unreachable(ansible_far).starts_with("\x1b[1;31mfatal: [h3]"));
    let recap = |text: &str| -> Vec<String> {
        text.lines()
            .skip_while(|l| !l.starts_with("PLAY RECAP"))
            .filter(|l| l.contains(" : "))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(recap(drover_far), recap(ansible_far));
    assert_eq!(recap(drover_far).len(), 2, "{drover_far}");
}

#[test]
fn colour_on_and_off_as_ansible_decides() {
    let plain = Scene::new("[defaults]\n");
    let nocolor = Scene::new("[defaults]\nnocolor = True\n");
    let forced = Scene::new("[defaults]\nforce_color = yes\n");
    let cases: Vec<ColourCase> = vec![
        (&plain, true, vec![], "", true),
        (&plain, true, vec![("NO_COLOR", "1")], "", false),
        (&plain, true, vec![("ANSIBLE_NOCOLOR", "1")], "", false),
        (&plain, true, vec![("TERM", "dumb")], "", false),
        (&nocolor, true, vec![], "", false),
        (&nocolor, true, vec![("ANSIBLE_NOCOLOR", "0")], "", true),
        (&plain, false, vec![], "", false),
        (&plain, false, vec![("ANSIBLE_FORCE_COLOR", "1")], "", true),
        (
            &plain,
            false,
            vec![("ANSIBLE_FORCE_COLOR", "1"), ("NO_COLOR", "1")],
            "",
            true,
        ),
        (&forced, false, vec![], "", true),
        // drover's own flag wins over everything.
        (&plain, true, vec![], "--no-color", false),
        (
            &forced,
            false,
            vec![("ANSIBLE_FORCE_COLOR", "1")],
            "--no-color",
            false,
        ),
    ];
    let jobs: Vec<Job<(bool, Option<bool>)>> = cases
        .iter()
        .map(|(scene, tty, env, flag, _)| {
            let job: Job<(bool, Option<bool>)> = Box::new(move || {
                let coloured = |t: &str| t.contains("\x1b[");
                let drover = scene.run(
                    &scene.command_line(false, "play.yml", "local.ini", flag),
                    *tty,
                    env,
                );
                assert!(drover.contains("PLAY RECAP"), "{drover}");
                // ansible-playbook has no --no-color.
                let ansible = flag.is_empty().then(|| {
                    let out = scene.run(
                        &scene.command_line(true, "play.yml", "local.ini", ""),
                        *tty,
                        env,
                    );
                    assert!(out.contains("PLAY RECAP"), "{out}");
                    coloured(&out)
                });
                (coloured(&drover), ansible)
            });
            job
        })
        .collect();
    let results = in_parallel(jobs);
    for ((_, tty, env, flag, want), (drover, ansible)) in cases.iter().zip(results) {
        let case = format!("pty={tty} env={env:?} flag={flag:?}");
        assert_eq!(drover, *want, "drover: {case}");
        if let Some(ansible) = ansible {
            assert_eq!(ansible, *want, "ansible-playbook: {case}");
        }
    }
}

/// The profile_tasks section of an output: from the `TASKS RECAP` banner to the end, drover's
/// `HOSTS RECAP` left out, every digit made `0` (times differ; widths do not).
fn tasks_recap(text: &str) -> String {
    let start = text
        .find("TASKS RECAP")
        .unwrap_or_else(|| panic!("no TASKS RECAP:\n{text}"));
    let section = &text[start..];
    let section = &section[..section.find("\nHOSTS RECAP").unwrap_or(section.len())];
    section
        .trim_end()
        .chars()
        .map(|c| if c.is_ascii_digit() { '0' } else { c })
        .collect()
}

#[test]
fn profile_is_profile_tasks() {
    let scene = Scene::new("[defaults]\n");
    let profile_tasks = [("ANSIBLE_CALLBACKS_ENABLED", "ansible.posix.profile_tasks")];
    let jobs: Vec<Box<dyn FnOnce() -> String + Send + '_>> = vec![
        Box::new(|| {
            scene.run(
                &scene.command_line(true, "profiled.yml", "local.ini", ""),
                false,
                &profile_tasks,
            )
        }),
        Box::new(|| {
            scene.run(
                &scene.command_line(false, "profiled.yml", "local.ini", "--profile"),
                false,
                &[],
            )
        }),
        // The callback enabled as in ansible.cfg or its variable turns the profile on too.
        Box::new(|| {
            scene.run(
                &scene.command_line(false, "profiled.yml", "local.ini", ""),
                false,
                &profile_tasks,
            )
        }),
        Box::new(|| {
            scene.run(
                &scene.command_line(false, "profiled.yml", "local.ini", ""),
                false,
                &[],
            )
        }),
    ];
    let runs = in_parallel(jobs);
    let (ansible, drover, by_config, plain) = (&runs[0], &runs[1], &runs[2], &runs[3]);
    assert_eq!(
        tasks_recap(drover),
        tasks_recap(ansible),
        "drover:\n{drover}\nansible:\n{ansible}"
    );
    // Slowest first, with their times.
    let lines: Vec<&str> = drover[drover.find("TASKS RECAP").unwrap()..]
        .lines()
        .collect();
    assert!(
        lines[3].starts_with("two seconds ---") && lines[4].starts_with("one second ---"),
        "{drover}"
    );
    let secs = |l: &str| {
        l.rsplit(' ')
            .next()
            .unwrap()
            .trim_end_matches('s')
            .parse::<f64>()
            .unwrap()
    };
    assert!(
        secs(lines[3]) >= 2.0 && secs(lines[4]) >= 1.0 && secs(lines[5]) < 1.0,
        "{drover}"
    );
    assert!(
        lines[3..6].iter().all(|l| l.chars().count() == 79),
        "{drover}"
    );
    // A timestamp line under each task banner, as profile_tasks prints it.
    let stamps = drover
        .lines()
        .filter(|l| l.contains(" +0") || l.contains(" -0"))
        .count();
    assert!(stamps >= 4, "{drover}");
    // Each host's time.
    let hosts = &drover[drover.find("HOSTS RECAP").expect("HOSTS RECAP")..];
    for host in ["h1", "h2"] {
        let line = hosts
            .lines()
            .find(|l| l.starts_with(&format!("{host} ")))
            .expect("host line");
        let busy = line.split("busy=").nth(1).and_then(|b| b.split('s').next());
        let busy: f64 = busy.and_then(|b| b.parse().ok()).unwrap_or_default();
        assert!(line.contains("results=3 ") && busy >= 3.0, "{line}");
    }
    assert!(by_config.contains("TASKS RECAP"), "{by_config}");
    assert!(
        !plain.contains("TASKS RECAP") && !plain.contains("HOSTS RECAP"),
        "{plain}"
    );
}

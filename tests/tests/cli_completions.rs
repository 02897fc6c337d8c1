//! `drover completions bash|zsh|fish`, the hidden `drover man` and `--version`: the bash script
//! passes `bash -n` and, sourced, completes subcommands and options; the zsh and fish scripts
//! pass their shell's syntax check where that shell is installed; the man page is roff naming
//! every subcommand. No hosts.

use std::process::{Command, Stdio};

use drover_integration::{run_drover, DroverOutput};

fn script(shell: &str) -> String {
    let out: DroverOutput = run_drover(["completions", shell]);
    out.assert_success();
    assert!(out.stdout.len() > 1000, "{shell}: {}", out.stdout);
    out.stdout
}

fn shell_check(shell: &str, flag: &str, text: &str) -> Option<bool> {
    let mut child = Command::new(shell)
        .arg(flag)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write script");
    let out = child.wait_with_output().expect("wait");
    if !out.status.success() {
        eprintln!("{shell}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Some(out.status.success())
}

/// What bash completes for the words of `line` (the last word being completed).
fn bash_complete(script_path: &std::path::Path, line: &str) -> Vec<String> {
    let words: Vec<&str> = line.split(' ').collect();
    let program = format!(
        "source {}\nCOMP_WORDS=({})\nCOMP_CWORD={}\nCOMP_LINE='{line}'\nCOMP_POINT={}\n_drover drover '{}' '{}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        script_path.display(),
        words.iter().map(|w| format!("'{w}'")).collect::<Vec<_>>().join(" "),
        words.len() - 1,
        line.len(),
        words.last().copied().unwrap_or_default(),
        words.get(words.len().saturating_sub(2)).copied().unwrap_or_default(),
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(program)
        .output()
        .expect("bash runs");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_script_is_valid_and_completes() {
    let text = script("bash");
    assert_eq!(shell_check("bash", "-n", &text), Some(true));
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("drover.bash");
    std::fs::write(&path, &text).expect("write");
    let subcommands = bash_complete(&path, "drover ");
    for sub in [
        "play",
        "vault",
        "config",
        "galaxy",
        "completions",
        "doc",
        "test",
    ] {
        assert!(
            subcommands.iter().any(|s| s == sub),
            "{sub}: {subcommands:?}"
        );
    }
    assert_eq!(
        bash_complete(&path, "drover gal"),
        vec!["galaxy".to_string()]
    );
    let play = bash_complete(&path, "drover play --for");
    assert!(play.iter().any(|s| s == "--forks"), "{play:?}");
    let dump = bash_complete(&path, "drover config dump --only");
    assert_eq!(dump, vec!["--only-changed".to_string()]);
}

#[test]
fn zsh_and_fish_scripts() {
    let zsh = script("zsh");
    assert!(zsh.starts_with("#compdef drover"), "{zsh}");
    assert!(zsh.contains("galaxy") && zsh.contains("--only-changed"));
    if let Some(ok) = shell_check("zsh", "-n", &zsh) {
        assert!(ok, "zsh -n refuses the script");
    }
    let fish = script("fish");
    assert!(fish.contains("complete -c drover"), "{fish}");
    assert!(fish.contains("only-changed"));
    if let Some(ok) = shell_check("fish", "--no-execute", &fish) {
        assert!(ok, "fish --no-execute refuses the script");
    }
    let bad = run_drover(["completions", "powershell-ish"]);
    assert_eq!(bad.code, Some(5), "{bad:?}");
}

#[test]
fn man_page_and_version() {
    let man = run_drover(["man"]);
    man.assert_success();
    assert!(man.stdout.contains(".TH drover 1"), "{}", man.stdout);
    for sub in [
        "drover\\-play(1)",
        "drover\\-galaxy(1)",
        "drover\\-config(1)",
    ] {
        assert!(man.stdout.contains(sub), "{sub}: {}", man.stdout);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let pages = run_drover(["man", "--dir", &dir.path().display().to_string()]);
    pages.assert_success();
    for page in [
        "drover.1",
        "drover-play.1",
        "drover-galaxy-install.1",
        "drover-config-dump.1",
    ] {
        let text = std::fs::read_to_string(dir.path().join(page))
            .unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.contains(".TH"), "{page}");
    }
    let version = run_drover(["--version"]);
    version.assert_success();
    let text = &version.stdout;
    assert!(
        text.starts_with(&format!("drover {}\n", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    for key in ["commit: ", "transports: ssh", "modules: ", "build: "] {
        assert!(text.contains(key), "{key}: {text}");
    }
    let modules: usize = text
        .lines()
        .find_map(|l| l.strip_prefix("modules: "))
        .and_then(|n| n.trim().parse().ok())
        .expect("a module count");
    assert!(modules > 50, "{text}");
    let short = run_drover(["-V"]);
    assert_eq!(short.stdout.lines().count(), 1, "{}", short.stdout);
}

//! The shell examples of the documentation stay true. Every ```sh block of README.md and
//! docs/*.md carries a marker on the line before it (blank lines may separate them):
//!
//! - `<!-- doc-test: run -->` (or `run exit=N`, `run cwd=checkout`): each command of the block
//!   runs with `bash -c` in a fresh temporary directory shared by the block (with `cwd=checkout`:
//!   in the repository root, for read-only commands on shipped content such as `--syntax-check` of
//!   a shipped playbook), with `drover` on PATH (the binary under test), HOME an empty temporary
//!   directory and no `ANSIBLE_*`/`DROVER_*` variables of the caller. Every command must exit 0,
//!   except the last, which must exit N when the marker says so. A command is one line, continued
//!   by a trailing backslash, and a heredoc (`cat > FILE <<'EOF'` … `EOF`) belongs to the command
//!   that opens it; `#` comment lines are not run.
//! - `<!-- doc-test: covered-by tests/tests/NAME.rs -->`: the named file exists and mentions each
//!   drover subcommand the block uses (`drover test` → `"test"` or `drover test` in the file).
//! - `<!-- doc-test: skip REASON -->`: not run (a reason is required).
//!
//! An unmarked block, a marker with no block after it or an unknown marker fails the test with the
//! file and line. No hosts, no root: runnable blocks use the local connection.
//!
//! Also: the module list of docs/FROM_ANSIBLE.md (between `<!-- modules:begin -->` and
//! `<!-- modules:end -->`) names exactly the modules `drover doc` lists.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use drover_integration::{drover_bin, drover_command};

/// Longest a documented command may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, PartialEq)]
enum Marker {
    /// `checkout`: the commands run in the repository root (read-only commands on shipped
    /// content, such as `--syntax-check` of a shipped playbook), else in a fresh directory.
    Run {
        exit: i32,
        checkout: bool,
    },
    CoveredBy(String),
    Skip,
}

/// One command of a block: where it starts in the document, and its text.
#[derive(Debug, PartialEq)]
struct DocCommand {
    line: usize,
    text: String,
}

#[derive(Debug)]
struct Block {
    /// 1-based line of the opening fence.
    line: usize,
    marker: Marker,
    commands: Vec<DocCommand>,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives in the repository")
        .to_path_buf()
}

/// The documents checked: README.md and docs/*.md, sorted.
fn documents(root: &Path) -> Vec<PathBuf> {
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    docs.insert(0, root.join("README.md"));
    docs
}

fn parse_marker(line: &str) -> Option<Result<Marker, String>> {
    let body = line
        .trim()
        .strip_prefix("<!--")?
        .strip_suffix("-->")?
        .trim()
        .strip_prefix("doc-test:")?
        .trim();
    let (word, rest) = body.split_once(char::is_whitespace).unwrap_or((body, ""));
    let rest = rest.trim();
    Some(match word {
        "run" => {
            let (mut exit, mut checkout) = (0, false);
            for word in rest.split_whitespace() {
                match word.strip_prefix("exit=").map(str::parse::<i32>) {
                    Some(Ok(n)) => exit = n,
                    _ if word == "cwd=checkout" => checkout = true,
                    _ => {
                        return Some(Err(format!(
                            "bad run marker `{body}` (expected `run [exit=N] [cwd=checkout]`)"
                        )))
                    }
                }
            }
            Ok(Marker::Run { exit, checkout })
        }
        "covered-by" if !rest.is_empty() && !rest.contains(char::is_whitespace) => {
            Ok(Marker::CoveredBy(rest.to_string()))
        }
        "skip" if !rest.is_empty() => Ok(Marker::Skip),
        _ => Err(format!(
            "bad doc-test marker `{body}` (expected `run [exit=N] [cwd=checkout]`, `covered-by FILE` or `skip REASON`)"
        )),
    })
}

/// The commands of a block's lines (`first_line`: the document line of `lines[0]`).
fn split_commands(lines: &[&str], first_line: usize) -> Vec<DocCommand> {
    let mut commands = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            i += 1;
            continue;
        }
        let start = i;
        let mut text = line.to_string();
        while text.ends_with('\\') && i + 1 < lines.len() {
            i += 1;
            text.push('\n');
            text.push_str(lines[i]);
        }
        if let Some(delimiter) = heredoc_delimiter(&text) {
            while i + 1 < lines.len() {
                i += 1;
                text.push('\n');
                text.push_str(lines[i]);
                if lines[i].trim() == delimiter {
                    break;
                }
            }
        }
        commands.push(DocCommand {
            line: first_line + start,
            text,
        });
        i += 1;
    }
    commands
}

/// The delimiter of a heredoc the command opens (`<<'EOF'`, `<<EOF`, `<<-"END"`), if any.
fn heredoc_delimiter(command: &str) -> Option<String> {
    let after = command.split_once("<<")?.1;
    let after = after.strip_prefix('-').unwrap_or(after).trim_start();
    let word: String = after
        .trim_start_matches(['\'', '"'])
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!word.is_empty()).then_some(word)
}

/// Parses a document's ```sh blocks; errors are `file:line: message` strings.
fn parse_document(name: &str, text: &str) -> (Vec<Block>, Vec<String>) {
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks = Vec::new();
    let mut errors = Vec::new();
    let mut pending: Option<(usize, Result<Marker, String>)> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start();
        if let Some(info) = trimmed.strip_prefix("```") {
            let fence_line = i + 1;
            let is_sh = info.split_whitespace().next() == Some("sh");
            let mut end = i + 1;
            while end < lines.len() && !lines[end].trim_start().starts_with("```") {
                end += 1;
            }
            let marker = pending.take();
            if is_sh {
                match marker {
                    None => errors.push(format!(
                        "{name}:{fence_line}: a ```sh block without a doc-test marker \
                         (put `<!-- doc-test: run -->`, `<!-- doc-test: covered-by tests/tests/NAME.rs -->` \
                         or `<!-- doc-test: skip REASON -->` on the line before it)"
                    )),
                    Some((marker_line, Err(message))) => {
                        errors.push(format!("{name}:{marker_line}: {message}"))
                    }
                    Some((_, Ok(marker))) => blocks.push(Block {
                        line: fence_line,
                        marker,
                        commands: split_commands(&lines[i + 1..end.min(lines.len())], i + 2),
                    }),
                }
            } else if let Some((marker_line, _)) = marker {
                errors.push(format!(
                    "{name}:{marker_line}: a doc-test marker before a block that is not ```sh"
                ));
            }
            i = end + 1;
            continue;
        }
        if let Some(marker) = parse_marker(line) {
            if let Some((marker_line, _)) = pending.replace((i + 1, marker)) {
                errors.push(format!(
                    "{name}:{marker_line}: a doc-test marker with no ```sh block after it"
                ));
            }
        } else if !line.trim().is_empty() {
            if let Some((marker_line, _)) = pending.take() {
                errors.push(format!(
                    "{name}:{marker_line}: a doc-test marker with no ```sh block after it"
                ));
            }
        }
        i += 1;
    }
    if let Some((marker_line, _)) = pending {
        errors.push(format!(
            "{name}:{marker_line}: a doc-test marker with no ```sh block after it"
        ));
    }
    (blocks, errors)
}

/// The drover subcommands a block's commands use (`drover play …` → `play`).
fn drover_subcommands(commands: &[DocCommand]) -> Vec<String> {
    let mut found = Vec::new();
    for command in commands {
        let words: Vec<&str> = command.text.split_whitespace().collect();
        for (i, word) in words.iter().enumerate() {
            if *word != "drover" && !word.ends_with("/drover") {
                continue;
            }
            if let Some(sub) = words[i + 1..].iter().find(|w| !w.starts_with('-')) {
                let sub = sub.trim_matches(|c: char| !c.is_alphanumeric() && c != '_');
                if !sub.is_empty() && !found.iter().any(|f| f == sub) {
                    found.push(sub.to_string());
                }
            }
        }
    }
    found
}

/// A directory with `drover` in it, linked to the binary under test.
fn bin_dir(scratch: &Path) -> PathBuf {
    let dir = scratch.join("bin");
    std::fs::create_dir_all(&dir).expect("bin dir");
    std::os::unix::fs::symlink(drover_bin(), dir.join("drover")).expect("link drover");
    dir
}

/// Runs one command in `dir`; returns its exit code (None: killed by a signal or the timeout)
/// and its output.
fn run_command(command: &str, dir: &Path, bin: &Path, out_dir: &Path) -> (Option<i32>, String) {
    let home = out_dir.join("home");
    std::fs::create_dir_all(&home).expect("home dir");
    let stdout_path = out_dir.join("stdout");
    let stderr_path = out_dir.join("stderr");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into())
    );
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(command)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(File::create(&stdout_path).expect("stdout file"))
        .stderr(File::create(&stderr_path).expect("stderr file"));
    for (key, _) in std::env::vars_os() {
        let key_text = key.to_string_lossy();
        if key_text.starts_with("ANSIBLE_") || key_text.starts_with("DROVER_") {
            cmd.env_remove(&key);
        }
    }
    cmd.env("PATH", path)
        .env("HOME", home)
        .env("NO_COLOR", "1")
        .env("DROVER_NO_PROGRESS", "1")
        // As the harness's drover_command(): wait for a deploy lock another test holds on this
        // machine instead of refusing (docs/LOCKING.md).
        .env("DROVER_LOCK_WAIT", "600");
    let mut child = cmd.spawn().expect("run bash");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if started.elapsed() > COMMAND_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = format!(
        "--- stdout\n{}--- stderr\n{}",
        std::fs::read_to_string(&stdout_path).unwrap_or_default(),
        std::fs::read_to_string(&stderr_path).unwrap_or_default()
    );
    match status {
        Some(status) => (status.code(), output),
        None => (
            None,
            format!("timed out after {COMMAND_TIMEOUT:?}\n{output}"),
        ),
    }
}

fn run_block(
    name: &str,
    block: &Block,
    (exit, checkout): (i32, bool),
    root: &Path,
    bin: &Path,
) -> Result<(), String> {
    let scratch = tempfile::tempdir().expect("temp dir");
    let work = if checkout {
        root.to_path_buf()
    } else {
        let work = scratch.path().join("work");
        std::fs::create_dir(&work).expect("work dir");
        work
    };
    if block.commands.is_empty() {
        return Err(format!(
            "{name}:{}: a run block with no command",
            block.line
        ));
    }
    let last = block.commands.len() - 1;
    for (i, command) in block.commands.iter().enumerate() {
        let expected = if i == last { exit } else { 0 };
        let (code, output) = run_command(&command.text, &work, bin, scratch.path());
        if code != Some(expected) {
            return Err(format!(
                "{name}:{}: `{}` exited {code:?}, the document expects {expected}\n{output}",
                command.line,
                command.text.lines().next().unwrap_or_default()
            ));
        }
    }
    Ok(())
}

fn check_covered(root: &Path, name: &str, block: &Block, file: &str) -> Result<(), String> {
    let path = root.join(file);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "{name}:{}: covered-by {file}: cannot read it: {e}",
            block.line
        )
    })?;
    for sub in drover_subcommands(&block.commands) {
        if !text.contains(&format!("\"{sub}\"")) && !text.contains(&format!("drover {sub}")) {
            return Err(format!(
                "{name}:{}: covered-by {file}, which never runs `drover {sub}`",
                block.line
            ));
        }
    }
    Ok(())
}

#[test]
fn every_documented_command_is_run_covered_or_skipped() {
    let root = repo_root();
    let docs = documents(&root);
    assert!(docs.len() > 10, "found only {docs:?}");
    let scratch = tempfile::tempdir().expect("temp dir");
    let bin = bin_dir(scratch.path());
    let mut errors = Vec::new();
    let (mut ran, mut covered, mut skipped) = (0, 0, 0);
    for doc in &docs {
        let name = doc.strip_prefix(&root).unwrap_or(doc).display().to_string();
        let text = std::fs::read_to_string(doc).expect("read document");
        let (blocks, parse_errors) = parse_document(&name, &text);
        errors.extend(parse_errors);
        for block in &blocks {
            let result = match &block.marker {
                Marker::Run { exit, checkout } => {
                    ran += 1;
                    run_block(&name, block, (*exit, *checkout), &root, &bin)
                }
                Marker::CoveredBy(file) => {
                    covered += 1;
                    check_covered(&root, &name, block, file)
                }
                Marker::Skip => {
                    skipped += 1;
                    Ok(())
                }
            };
            if let Err(message) = result {
                errors.push(message);
            }
        }
    }
    eprintln!("doc blocks: {ran} run, {covered} covered by tests, {skipped} skipped");
    assert!(
        errors.is_empty(),
        "{} problem(s) in the documentation's shell blocks:\n\n{}",
        errors.len(),
        errors.join("\n\n")
    );
    assert!(ran > 0, "no runnable block found");
}

#[test]
fn markers_and_commands_are_parsed() {
    let doc = "intro\n\
               <!-- doc-test: run exit=2 -->\n\
               \n\
               ```sh\n\
               # a comment\n\
               cat > site.yml <<'EOF'\n\
               - hosts: all\n\
               EOF\n\
               drover play \\\n  site.yml\n\
               ```\n\
               ```sh\n\
               echo unmarked\n\
               ```\n\
               <!-- doc-test: covered-by tests/tests/x.rs -->\n\
               ```yaml\n\
               a: 1\n\
               ```\n\
               <!-- doc-test: skip -->\n\
               ```sh\n\
               true\n\
               ```\n";
    let (blocks, errors) = parse_document("d.md", doc);
    assert_eq!(blocks.len(), 1, "{blocks:?}");
    assert_eq!(
        blocks[0].marker,
        Marker::Run {
            exit: 2,
            checkout: false
        }
    );
    assert_eq!(
        parse_marker("<!-- doc-test: run cwd=checkout -->"),
        Some(Ok(Marker::Run {
            exit: 0,
            checkout: true
        }))
    );
    assert_eq!(blocks[0].line, 4);
    assert_eq!(
        blocks[0].commands,
        vec![
            DocCommand {
                line: 6,
                text: "cat > site.yml <<'EOF'\n- hosts: all\nEOF".into()
            },
            DocCommand {
                line: 9,
                text: "drover play \\\n  site.yml".into()
            },
        ]
    );
    assert_eq!(drover_subcommands(&blocks[0].commands), vec!["play"]);
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(errors[0].starts_with("d.md:12: a ```sh block without"));
    assert!(errors[1].starts_with("d.md:15: a doc-test marker before a block that is not"));
    assert!(errors[2].starts_with("d.md:19: bad doc-test marker"));
}

#[test]
fn from_ansible_lists_exactly_the_modules_of_drover_doc() {
    let out = drover_command()
        .arg("doc")
        .env("NO_COLOR", "1")
        .output()
        .expect("run drover doc");
    assert!(out.status.success(), "drover doc failed");
    let mut listed: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    listed.sort();
    let doc = std::fs::read_to_string(repo_root().join("docs/FROM_ANSIBLE.md")).expect("read");
    let section = doc
        .split_once("<!-- modules:begin -->")
        .and_then(|(_, rest)| rest.split_once("<!-- modules:end -->"))
        .map(|(section, _)| section)
        .expect("docs/FROM_ANSIBLE.md has a <!-- modules:begin --> … <!-- modules:end --> section");
    let mut documented: Vec<String> = section
        .lines()
        .filter_map(|line| line.splitn(3, '|').nth(2))
        .flat_map(|cells| cells.split('`').skip(1).step_by(2))
        .map(str::to_string)
        .collect();
    documented.sort();
    let missing: Vec<&String> = listed.iter().filter(|m| !documented.contains(m)).collect();
    let unknown: Vec<&String> = documented.iter().filter(|m| !listed.contains(m)).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "docs/FROM_ANSIBLE.md's module list differs from `drover doc`: \
         not in the document: {missing:?}; not a drover module: {unknown:?}"
    );
    let mut unique = documented.clone();
    unique.dedup();
    assert_eq!(unique, documented, "a module is listed twice");
}

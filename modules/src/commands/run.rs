//! Running a command on the target and building Ansible's command result (`rc`, `stdout`,
//! `stdout_lines`, `start`, `end`, `delta`, …). Shared by `command` and `shell`.

use drover_core::async_job::{Detached, DetachedCommand};
use drover_core::connection::ExecRequest;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult};
use serde_json::Value;

use crate::remote::probe::{probe, ProbeRequest};
use crate::remote::{quote_glob, quote_path};

/// A command ready to run, with the options `command` and `shell` share.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct CommandSpec {
    /// The shell line to run (already quoted as needed).
    pub cmdline: String,
    /// What the result reports as `cmd` (a list for `command`, the string for `shell`).
    pub cmd_value: Value,
    /// `command` without a shell: its program, quoted for the target shell. The command line
    /// then runs with `exec` (a program, never a shell builtin), after a `PATH` search like
    /// Python's `execvp`, so a missing program fails as under ansible-core.
    pub program: Option<String>,
    /// Directory to run in.
    pub chdir: Option<String>,
    /// Skip when this path (glob) exists.
    pub creates: Option<String>,
    /// Skip unless this path (glob) exists.
    pub removes: Option<String>,
    /// Data for standard input.
    pub stdin: Option<String>,
    /// Append a newline to `stdin`.
    pub stdin_add_newline: bool,
    /// Strip trailing newlines from stdout/stderr.
    pub strip_empty_ends: bool,
}

const START_MARK: &str = "@@drover-start ";
const END_MARK: &str = "\n@@drover-end ";
const NO_CD_MARK: &str = "@@drover-no-chdir";
const SKIP_CREATES: &str = "@@drover-skip-creates";
const SKIP_REMOVES: &str = "@@drover-skip-removes";
const EXEC_ERROR_MARK: &str = "@@drover-exec-error ";
const DATE_FORMAT: &str = "+%s.%N %Y-%m-%d %H:%M:%S.%N";

/// Runs `spec` as Ansible's command module does: `creates`/`removes` checks, check mode
/// handling, then the command itself with timing.
pub async fn run_command(
    ctx: &ModuleContext<'_>,
    spec: &CommandSpec,
) -> Result<ModuleResult, ModuleError> {
    let conditional = spec.creates.is_some() || spec.removes.is_some();
    let cd = match &spec.chdir {
        Some(dir) => format!(
            "cd -P {} 2>/dev/null || {{ echo '{NO_CD_MARK}' >&2; exit 1; }}\n",
            quote_path(dir)
        ),
        None => String::new(),
    };
    let guard = guard_script(spec);
    let guard_probes = guard_probe_requests(
        spec.chdir.as_deref(),
        spec.creates.as_deref(),
        spec.removes.as_deref(),
    );
    let probed = !guard_probes.is_empty();
    if probed {
        let stats = probe(ctx.conn, &guard_probes).await?;
        let mut exists = stats.iter().map(|s| s.exists());
        let creates_found = spec.creates.as_ref().map(|_| exists.next() == Some(true));
        let removes_found = spec.removes.as_ref().map(|_| exists.next() == Some(true));
        let marker = match (creates_found, removes_found) {
            (Some(true), _) => SKIP_CREATES,
            (_, Some(false)) => SKIP_REMOVES,
            _ => "",
        };
        if let Some(r) = guard_outcome(spec, marker) {
            return Ok(r);
        }
    }
    if ctx.check_mode {
        if conditional && !probed {
            // Only the guard runs: it tells whether the command would be skipped.
            let out = ctx.conn.run_script(format!("{cd}{guard}exit 0")).await?;
            if let Some(r) = guard_outcome(spec, &out.stderr_str()) {
                return Ok(r);
            }
        }
        let mut r =
            base_result(spec, 0, "", "").with_msg("Command would have run if not in check mode");
        r.changed = conditional;
        null_times(&mut r);
        if !conditional {
            r.data.insert("skipped".into(), Value::Bool(true));
        }
        return Ok(r);
    }

    if conditional && !probed && ctx.conn.has_shared_shell() {
        // The guard alone first, on the cheap shared shell: most re-runs stop here. (The full
        // script repeats it, so a path created in between still skips the command.)
        let out = ctx.conn.run_script(format!("{cd}{guard}exit 0")).await?;
        if let Some(r) = guard_outcome(spec, &out.stderr_str()) {
            return Ok(r);
        }
    }
    let (script, stdin) = command_script(spec);
    let mut req = ExecRequest::new(script);
    req.stdin = stdin;
    let out = ctx.conn.exec(req).await?;
    Ok(command_result(
        spec,
        out.rc,
        &out.stdout_str(),
        &out.stderr_str(),
    ))
}

/// What an `async` task runs: in check mode the module's usual prediction (nothing runs in
/// the background), else [`command_script`] detached, to be finished by [`finish_detached`].
pub async fn detached_command(
    ctx: &ModuleContext<'_>,
    spec: &CommandSpec,
) -> Result<Detached, ModuleError> {
    if ctx.check_mode {
        return Ok(Detached::Done(run_command(ctx, spec).await?));
    }
    let (script, stdin) = command_script(spec);
    Ok(Detached::Command(DetachedCommand {
        script,
        stdin,
        record: serde_json::json!({"module": "command", "spec": spec}),
    }))
}

/// The result of a detached command from its finish record (see [`detached_command`]) and its
/// output; `None` when the record is not a command's.
pub fn finish_detached(
    record: &Value,
    rc: i32,
    stdout: &str,
    stderr: &str,
) -> Option<ModuleResult> {
    if record.get("module").and_then(Value::as_str) != Some("command") {
        return None;
    }
    let spec: CommandSpec = serde_json::from_value(record.get("spec")?.clone()).ok()?;
    Some(command_result(&spec, rc, stdout, stderr))
}

/// The whole script `spec` runs as (the `chdir`, the `creates`/`removes` guard, the program
/// lookup, timing marks, the command), and its standard input. An `async` task runs it
/// detached on the target; [`command_result`] reads its output either way.
pub fn command_script(spec: &CommandSpec) -> (String, Option<Vec<u8>>) {
    let cd = match &spec.chdir {
        Some(dir) => format!(
            "cd -P {} 2>/dev/null || {{ echo '{NO_CD_MARK}' >&2; exit 1; }}\n",
            quote_path(dir)
        ),
        None => String::new(),
    };
    let guard = guard_script(spec);
    let (lookup, run) = match &spec.program {
        Some(program) => (
            program_lookup(program),
            format!("( exec {} )", spec.cmdline),
        ),
        None => (String::new(), spec.cmdline.clone()),
    };
    let script = format!(
        "{cd}{guard}{lookup}printf '{START_MARK}%s\\n' \"$(date '{DATE_FORMAT}')\" >&2\n{run}\nrc=$?\nprintf '{}%s\\n' \"$(date '{DATE_FORMAT}')\" >&2\nexit $rc",
        END_MARK.replace('\n', "\\n")
    );
    let stdin = spec.stdin.as_ref().map(|input| {
        let mut data = input.clone().into_bytes();
        if spec.stdin_add_newline {
            data.push(b'\n');
        }
        data
    });
    (script, stdin)
}

/// The module's result from the exit status and output of [`command_script`].
pub fn command_result(spec: &CommandSpec, rc: i32, stdout: &str, stderr: &str) -> ModuleResult {
    if rc != 0 && stderr.trim_end() == NO_CD_MARK {
        let mut r =
            base_result(spec, rc, "", "").with_msg("Unable to change directory before execution.");
        r.failed = true;
        r.data.insert("rc".into(), Value::Null);
        null_times(&mut r);
        return r;
    }
    if let Some(r) = exec_error(spec, rc, stderr) {
        return r;
    }
    if rc == 0 {
        if let Some(r) = guard_outcome(spec, stderr) {
            return r;
        }
    }
    let (stderr, start, end) = split_timing(stderr);
    let mut stdout = stdout.to_string();
    let mut stderr = stderr;
    if spec.strip_empty_ends {
        stdout = stdout.trim_end_matches(['\r', '\n']).to_string();
        stderr = stderr.trim_end_matches(['\r', '\n']).to_string();
    }
    let mut r = base_result(spec, rc, &stdout, &stderr);
    r.changed = true;
    match (start, end) {
        (Some((s_epoch, s_text)), Some((e_epoch, e_text))) => {
            r.data.insert("start".into(), s_text.into());
            r.data.insert("end".into(), e_text.into());
            r.data
                .insert("delta".into(), format_delta(e_epoch - s_epoch).into());
        }
        _ => null_times(&mut r),
    }
    if rc != 0 {
        r.failed = true;
        r.msg = Some("non-zero return code".into());
    }
    r
}

/// Shell lines that look `program` up as Python's `execvp` does (a name with a slash as is,
/// else each `PATH` entry, an empty one meaning the current directory) and end the script with
/// the errno ansible-core reports when it cannot be run: 2 (not found) or 13 (not executable).
fn program_lookup(program: &str) -> String {
    format!(
        "__drover_prog={program}; __drover_err=0\n\
         case $__drover_prog in\n\
         */*) if [ ! -e \"$__drover_prog\" ]; then __drover_err=2; \
         elif [ -d \"$__drover_prog\" ] || [ ! -x \"$__drover_prog\" ]; then __drover_err=13; fi ;;\n\
         *) __drover_err=2; __drover_ifs=$IFS; IFS=:\n\
         for __drover_dir in $PATH; do __drover_f=${{__drover_dir:-.}}/$__drover_prog\n\
         if [ -e \"$__drover_f\" ]; then \
         if [ -f \"$__drover_f\" ] && [ -x \"$__drover_f\" ]; then __drover_err=0; break; fi; \
         __drover_err=13; fi\n\
         done; IFS=$__drover_ifs ;;\n\
         esac\n\
         [ \"$__drover_err\" = 0 ] || {{ echo \"{EXEC_ERROR_MARK}$__drover_err\" >&2; exit \"$__drover_err\"; }}\n"
    )
}

/// ansible-core's failure when the program cannot be run (`Error executing command.`, the
/// errno as `rc`, the command line as one shell-quoted string), from the lookup's marker.
fn exec_error(spec: &CommandSpec, rc: i32, stderr: &str) -> Option<ModuleResult> {
    let errno = stderr.trim_end().strip_prefix(EXEC_ERROR_MARK)?;
    if spec.program.is_none() || errno.parse::<i32>().ok() != Some(rc) {
        return None;
    }
    let clean = match &spec.cmd_value {
        Value::Array(args) => args
            .iter()
            .map(|a| python_quote(a.as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join(" "),
        other => other.as_str().unwrap_or_default().to_string(),
    };
    let mut r = ModuleResult::failed("Error executing command.");
    r.data.insert("cmd".into(), clean.into());
    r.data.insert("rc".into(), rc.into());
    for key in ["stdout", "stderr"] {
        r.data.insert(key.into(), "".into());
    }
    for key in ["stdout_lines", "stderr_lines"] {
        r.data.insert(key.into(), Value::Array(Vec::new()));
    }
    Some(r)
}

/// Python's `shlex.quote`.
fn python_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./-_".contains(&b))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\"'\"'"))
}

/// A result with the command keys in Ansible's order.
fn base_result(spec: &CommandSpec, rc: i32, stdout: &str, stderr: &str) -> ModuleResult {
    let mut r = ModuleResult::ok().with_msg("");
    r.data.insert("cmd".into(), spec.cmd_value.clone());
    r.data.insert("rc".into(), rc.into());
    r.data.insert("stdout".into(), stdout.into());
    r.data.insert("stderr".into(), stderr.into());
    r.data
        .insert("stdout_lines".into(), split_lines(stdout).into());
    r.data
        .insert("stderr_lines".into(), split_lines(stderr).into());
    r
}

fn null_times(r: &mut ModuleResult) {
    for key in ["start", "end", "delta"] {
        r.data.insert(key.into(), Value::Null);
    }
}

fn skipped_result(spec: &CommandSpec, why: &str, pattern: &str, verb: &str) -> ModuleResult {
    let mut r = base_result(spec, 0, &format!("skipped, since {why}"), "")
        .with_msg(format!("Did not run command since '{pattern}' {verb}"));
    null_times(&mut r);
    r
}

/// Shell lines that end the script early (printing a marker on stderr) when `creates` matches
/// or `removes` does not.
fn guard_script(spec: &CommandSpec) -> String {
    let mut script = String::new();
    if let Some(pattern) = &spec.creates {
        script.push_str(&format!(
            "for f in {}; do if [ -e \"$f\" ] || [ -h \"$f\" ]; then echo '{SKIP_CREATES}' >&2; exit 0; fi; done\n",
            quote_glob(pattern)
        ));
    }
    if let Some(pattern) = &spec.removes {
        script.push_str(&format!(
            "found=; for f in {}; do if [ -e \"$f\" ] || [ -h \"$f\" ]; then found=1; break; fi; done\n\
             [ -n \"$found\" ] || {{ echo '{SKIP_REMOVES}' >&2; exit 0; }}\n",
            quote_glob(pattern)
        ));
    }
    script
}

/// The probes deciding `creates`/`removes` when both are plain paths (absolute or `~`, no
/// glob) and there is no `chdir` (which must fail first when missing): one request per given
/// path, `creates` first. Empty when the shell guard has to decide.
pub fn guard_probe_requests(
    chdir: Option<&str>,
    creates: Option<&str>,
    removes: Option<&str>,
) -> Vec<ProbeRequest> {
    let plain =
        |p: &str| (p.starts_with('/') || p.starts_with('~')) && !p.contains(['*', '?', '[', ']']);
    let paths: Vec<&str> = creates.into_iter().chain(removes).collect();
    if chdir.is_some() || paths.is_empty() || !paths.iter().all(|p| plain(p)) {
        return Vec::new();
    }
    paths.into_iter().map(ProbeRequest::new).collect()
}

/// The skip result when the guard's marker is the script's only error output.
fn guard_outcome(spec: &CommandSpec, stderr: &str) -> Option<ModuleResult> {
    match stderr.trim_end() {
        SKIP_CREATES => spec
            .creates
            .as_deref()
            .map(|pattern| skipped_result(spec, &format!("{pattern} exists"), pattern, "exists")),
        SKIP_REMOVES => spec.removes.as_deref().map(|pattern| {
            skipped_result(
                spec,
                &format!("{pattern} does not exist"),
                pattern,
                "does not exist",
            )
        }),
        _ => None,
    }
}

/// Python's `str.splitlines()` for the common line ends.
pub fn split_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => lines.push(std::mem::take(&mut cur)),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                lines.push(std::mem::take(&mut cur));
            }
            other => cur.push(other),
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

type Stamp = Option<(f64, String)>;

/// Separates the timing marker lines from the command's own stderr.
fn split_timing(stderr: &str) -> (String, Stamp, Stamp) {
    let mut rest = stderr;
    let mut start = None;
    if let Some(after) = rest.strip_prefix(START_MARK) {
        let (line, tail) = after.split_once('\n').unwrap_or((after, ""));
        start = parse_stamp(line);
        rest = tail;
    }
    let mut end = None;
    let mut body = rest.to_string();
    if let Some(i) = rest.rfind(END_MARK) {
        end = parse_stamp(rest[i + END_MARK.len()..].trim_end());
        body = rest[..i].to_string();
    } else if let Some(after) = rest.strip_prefix(&END_MARK[1..]) {
        end = parse_stamp(after.trim_end());
        body = String::new();
    }
    (body, start, end)
}

/// Parses `EPOCH.NANOS YYYY-MM-DD HH:MM:SS.NANOS` into seconds and Ansible's microsecond text.
fn parse_stamp(line: &str) -> Stamp {
    let (epoch, text) = line.split_once(' ')?;
    let epoch: f64 = epoch.parse().ok()?;
    let text = match text.rfind('.') {
        Some(dot) if text.len() > dot + 7 => text[..dot + 7].to_string(),
        _ => text.to_string(),
    };
    Some((epoch, text))
}

/// Formats a duration like Python's `timedelta`: `0:00:00.015867`.
pub fn format_delta(seconds: f64) -> String {
    let micros_total = (seconds.max(0.0) * 1_000_000.0).round() as u64;
    let micros = micros_total % 1_000_000;
    let secs = micros_total / 1_000_000;
    let days = secs / 86_400;
    let h = (secs % 86_400) / 3600;
    let m = (secs % 3600) / 60;
    let s = secs % 60;
    let clock = format!("{h}:{m:02}:{s:02}.{micros:06}");
    match days {
        0 => clock,
        1 => format!("1 day, {clock}"),
        d => format!("{d} days, {clock}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lines_like_python() {
        assert_eq!(split_lines("a\nb\r\nc"), vec!["a", "b", "c"]);
        assert_eq!(split_lines("a\n\nb\n"), vec!["a", "", "b"]);
        assert!(split_lines("").is_empty());
    }

    #[test]
    fn strips_timing_markers() {
        let err = "@@drover-start 10.5 2026-01-01 00:00:00.123456789\noops\n\n@@drover-end 11.0 2026-01-01 00:00:00.623456789\n";
        let (body, s, e) = split_timing(err);
        assert_eq!(body, "oops\n");
        assert_eq!(s.unwrap().1, "2026-01-01 00:00:00.123456");
        assert_eq!(e.unwrap().0, 11.0);
        let (body, _, e) = split_timing("@@drover-start 1.0 x\n@@drover-end 2.0 y\n");
        assert_eq!(body, "");
        assert!(e.is_some());
    }

    #[test]
    fn delta_like_timedelta() {
        assert_eq!(format_delta(0.015867), "0:00:00.015867");
        assert_eq!(format_delta(3725.5), "1:02:05.500000");
        assert_eq!(format_delta(90_000.0), "1 day, 1:00:00.000000");
    }
}

//! Background jobs on targets for the `async` task keyword (ansible-core's `async_wrapper`,
//! without Python).
//!
//! A job is a file `~/.ansible_async/<jid>` on the target (the home of the user the task runs
//! as), as ansible-core keeps it, so `results_file` and `async_status` mean the same: while the
//! job runs the file holds `{"started": true, "finished": false, "ansible_job_id": …}`; when it
//! ends, the module's result. Modules take part in one of three ways ([`AsyncSupport`]):
//!
//! - **detached** (`command`, `shell`): the module's work is one remote command. It runs in the
//!   background on the target under a POSIX shell supervisor started with `setsid` (`nohup`
//!   where there is none), its output going to `<jid>.out`/`<jid>.err`, so it survives the
//!   connection dropping; a watchdog kills its process group after the time limit. The
//!   supervisor writes its exit status atomically (temporary file, then `mv`) in a record
//!   `async_status` turns into the module's result (see [`DETACHED_KEY`]).
//! - **controller**: every other module drover runs by driving the target through its
//!   connection. Such a module runs on the controller, as without `async`, bounded by the
//!   time limit, and its result is written to the job file; it does not survive the
//!   controller's connection dropping, and with `poll: 0` the task waits for it (with a warning).
//! - **unsupported**: the actions ansible-core refuses (`copy`, `template`, `raw`, `fetch`,
//!   `reboot`, controller-side modules, …) fail with its message.

use serde_json::Value;

use crate::connection::{shell_quote, ConnectionError, ExecRequest, HostConnection};

/// The directory of job files, as ansible-core's default `async_dir` (expanded on the target).
pub const ASYNC_DIR: &str = "~/.ansible_async";

/// The key of a detached job's finish record: `{"ansible_job_id": …, "drover_detached":
/// {"rc": N, "record": …}}`, where `record` is what the module gave in
/// [`DetachedCommand::record`]; `async_status` reads `<jid>.out`/`<jid>.err` and builds the
/// result from them.
pub const DETACHED_KEY: &str = "drover_detached";

/// How a module takes part in the `async` keyword (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsyncSupport {
    /// Refused, as ansible-core refuses it: `This action (copy) does not support async.`
    Unsupported,
    /// Runs on the controller, bounded by the time limit; its result goes to the job file.
    Controller,
    /// Its work is one remote command that runs detached on the target
    /// ([`crate::module::Module::detached`]).
    Detached,
}

/// One remote command to run detached, and what is needed to turn its output into the
/// module's result afterwards.
#[derive(Debug, Clone, PartialEq)]
pub struct DetachedCommand {
    /// The shell script (run by `sh -c` in the task's user's home directory).
    pub script: String,
    /// Data for its standard input.
    pub stdin: Option<Vec<u8>>,
    /// Stored in the finish record for `async_status` (which module, its options).
    pub record: Value,
}

/// What a module does for an `async` task with [`AsyncSupport::Detached`].
#[derive(Debug)]
pub enum Detached {
    /// Run this in the background.
    Command(DetachedCommand),
    /// Nothing to run on the target (check mode, an argument failure): this is the result.
    Done(crate::module::ModuleResult),
}

/// A job created on a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// `j<random>.<pid>`, as ansible-core's.
    pub jid: String,
    /// The job file's path (`results_file`).
    pub path: String,
}

/// Errors starting a job.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The connection failed.
    #[error(transparent)]
    Connection(#[from] ConnectionError),
    /// The target refused (no writable home, no shell).
    #[error("{0}")]
    Failed(String),
}

/// Shell lines creating the job directory and the job file with its "started" record, leaving
/// the id in `$__j` and the path in `$__f`.
fn create_lines() -> String {
    let random: u64 = rand_below(999_999_999_999);
    format!(
        "__d={ASYNC_DIR}\n\
         mkdir -p \"$__d\" || {{ echo \"could not create directory: $__d\" >&2; exit 1; }}\n\
         __j=j{random}.$$\n__f=$__d/$__j\n\
         printf '{{\"started\": true, \"finished\": false, \"ansible_job_id\": \"%s\"}}' \"$__j\" \
         > \"$__f.tmp\" && mv -f \"$__f.tmp\" \"$__f\" || exit 1\n"
    )
}

/// A random number below `n` (the job id's first part).
fn rand_below(n: u64) -> u64 {
    rand::random::<u64>() % n
}

fn parse_job(out: &crate::connection::ExecOutput) -> Result<Job, JobError> {
    let text = out.stdout_str();
    let mut lines = text.lines().filter(|l| !l.is_empty());
    match (out.rc, lines.next(), lines.next()) {
        (0, Some(jid), Some(path)) => Ok(Job {
            jid: jid.to_string(),
            path: path.to_string(),
        }),
        _ => Err(JobError::Failed(format!(
            "could not start the async job (rc {}): {}",
            out.rc,
            out.stderr_str().trim()
        ))),
    }
}

/// Creates a job whose work the controller does: the job file with its "started" record.
/// The caller writes the result with [`finish_job`].
pub async fn create_job(conn: &HostConnection) -> Result<Job, JobError> {
    let script = format!("{}printf '%s\\n%s\\n' \"$__j\" \"$__f\"", create_lines());
    let out = conn.exec(ExecRequest::new(script)).await?;
    parse_job(&out)
}

/// Writes a finished job's result (a module result, or ansible-core's timeout record) to its
/// job file, atomically.
pub async fn finish_job(conn: &HostConnection, job: &Job, result: &Value) -> Result<(), JobError> {
    let text = serde_json::to_vec(result).map_err(|e| JobError::Failed(e.to_string()))?;
    conn.write_file_atomic(&text, &job.path).await?;
    Ok(())
}

/// The record ansible-core's wrapper leaves when it kills a job at its time limit.
pub fn timeout_record() -> Value {
    serde_json::json!({"msg": "Timeout exceeded", "failed": true})
}

/// Starts `cmd` detached on the target, killed after `limit` seconds; returns once the job file
/// exists.
pub async fn launch(
    conn: &HostConnection,
    cmd: &DetachedCommand,
    limit: u64,
) -> Result<Job, JobError> {
    let record = serde_json::to_string(&cmd.record).map_err(|e| JobError::Failed(e.to_string()))?;
    let input = if cmd.stdin.is_some() {
        "cat > \"$__f.in\" || exit 1\n"
    } else {
        ": > \"$__f.in\" || exit 1\n"
    };
    let script = format!(
        "{create}{input}__s={sup}\n\
         if command -v setsid >/dev/null 2>&1; then __b=setsid; else __b=nohup; fi\n\
         $__b sh -c \"$__s\" drover-async \"$__f\" \"$__j\" {limit} </dev/null >/dev/null 2>&1 &\n\
         printf '%s\\n%s\\n' \"$__j\" \"$__f\"",
        create = create_lines(),
        sup = shell_quote(&supervisor(&cmd.script, &record)),
    );
    let mut req = ExecRequest::new(script);
    req.stdin = cmd.stdin.clone();
    let out = conn.exec(req).await?;
    parse_job(&out)
}

/// The supervisor (`$1` job file, `$2` id, `$3` limit): runs the work in its own session and
/// process group, kills the group at the limit, and writes the finish record.
fn supervisor(work: &str, record: &str) -> String {
    format!(
        "__f=$1; __j=$2; __l=$3\n\
         __w={work}\n\
         __r={record}\n\
         if command -v setsid >/dev/null 2>&1; then\n\
         setsid sh -c \"$__w\" <\"$__f.in\" >\"$__f.out\" 2>\"$__f.err\" &\n\
         else\n\
         sh -c \"$__w\" <\"$__f.in\" >\"$__f.out\" 2>\"$__f.err\" &\n\
         fi\n\
         __p=$!\n\
         ( __n=0; while kill -0 \"$__p\" 2>/dev/null; do\n\
         if [ \"$__n\" -ge \"$__l\" ]; then : >\"$__f.killed\"; \
         kill -s KILL -- \"-$__p\" 2>/dev/null || kill -s KILL \"$__p\" 2>/dev/null; break; fi\n\
         sleep 1; __n=$((__n + 1)); done ) &\n\
         __g=$!\n\
         wait \"$__p\"; __rc=$?\n\
         kill \"$__g\" 2>/dev/null\n\
         if [ -e \"$__f.killed\" ]; then\n\
         sleep 1; rm -f \"$__f.out\" \"$__f.err\"\n\
         printf '{{\"msg\": \"Timeout exceeded\", \"failed\": true, \"child_pid\": %s}}' \"$__p\" >\"$__f.tmp\"\n\
         else\n\
         printf '{{\"ansible_job_id\": \"%s\", \"{DETACHED_KEY}\": {{\"rc\": %s, \"record\": %s}}}}' \
         \"$__j\" \"$__rc\" \"$__r\" >\"$__f.tmp\"\n\
         fi\n\
         mv -f \"$__f.tmp\" \"$__f\"\n\
         rm -f \"$__f.in\" \"$__f.killed\"\n",
        work = shell_quote(work),
        record = shell_quote(record),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_look_like_ansible_cores() {
        let lines = create_lines();
        assert!(lines.contains("__j=j"), "{lines}");
        assert!(lines.contains(".$$\n"), "{lines}");
        assert!(rand_below(10) < 10);
    }

    #[test]
    fn the_supervisor_quotes_its_work() {
        let s = supervisor("echo 'a b'", "{\"m\": 1}");
        assert!(s.contains("__w='echo '\\''a b'\\'''"), "{s}");
        assert!(s.contains(DETACHED_KEY));
    }
}

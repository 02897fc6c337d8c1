//! The `--summary` file: what each host did, task by task, and what `--resume` restores.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::events::HostStats;
use crate::vars::Vars;

/// Version of the summary format this drover writes and reads.
pub const SUMMARY_FORMAT: u32 = 1;

/// A task's stable identity across runs of the same playbook.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TaskId {
    /// Index of the play in the playbook (0-based).
    pub play: usize,
    /// `file:line:col` of the task (files of included tasks and roles included).
    pub location: String,
    /// The task is a handler.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub handler: bool,
    /// The task's name as displayed without its loop items (for people; not compared).
    pub name: String,
}

impl TaskId {
    /// Whether both name the same task (play, location and handler-ness; not the name, which
    /// templates may render differently).
    pub fn same_task(&self, other: &TaskId) -> bool {
        self.play == other.play && self.location == other.location && self.handler == other.handler
    }
}

/// What became of a task on one host.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Ran, changed nothing.
    Ok,
    /// Ran and changed something.
    Changed,
    /// Failed (see [`TaskRecord::ignored`]).
    Failed,
    /// Skipped by a condition.
    Skipped,
    /// The host could not be reached.
    Unreachable,
    /// Started for the host, but the run ended before its result.
    NotRun,
}

/// One task on one host.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TaskRecord {
    /// Which task.
    #[serde(flatten)]
    pub id: TaskId,
    /// Outcome.
    pub status: TaskStatus,
    /// It changed something.
    pub changed: bool,
    /// A failure `ignore_errors` let pass.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignored: bool,
    /// The task runs no module (`include_tasks`, `include_role`, `meta`): a resumed run does it
    /// again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub control: bool,
    /// Seconds since the run started when the task started.
    pub start: f64,
    /// Seconds the task took on this host.
    pub duration: f64,
}

impl TaskRecord {
    /// Whether the host got past this task (a resumed run does not run it again).
    pub fn done(&self) -> bool {
        match self.status {
            TaskStatus::Ok | TaskStatus::Changed | TaskStatus::Skipped => true,
            TaskStatus::Failed => self.ignored,
            TaskStatus::Unreachable | TaskStatus::NotRun => false,
        }
    }
}

/// Where a host ended up.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum HostEnd {
    /// Every task it started finished and none failed.
    Finished,
    /// A task failed (not ignored, not rescued).
    Failed,
    /// It could not be reached.
    Unreachable,
    /// The run ended while a task was running on it.
    Stopped,
}

/// Everything recorded about one host.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HostRecord {
    /// How it ended.
    pub end: HostEnd,
    /// Recap counters.
    #[serde(default)]
    pub stats: Option<RecapStats>,
    /// Its tasks, in the order they started.
    pub tasks: Vec<TaskRecord>,
    /// Index of the play its restorable state was taken in.
    pub play: usize,
    /// `register`/`set_fact` variables a resumed run restores.
    pub vars: Vars,
    /// Variables deliberately not written down (`no_log`, vault values): a resumed run does
    /// not have them.
    pub not_restorable: Vec<String>,
    /// Handlers notified and not run when it stopped.
    pub pending_handlers: Vec<String>,
}

/// [`HostStats`] as written to the summary.
pub type RecapStats = HostStats;

/// A whole `--summary` file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunRecord {
    /// [`SUMMARY_FORMAT`].
    pub format: u32,
    /// The playbook, as given.
    pub playbook: String,
    /// SHA-256 of the playbook file.
    pub checksum: String,
    /// SHA-256 of every file a task came from (the playbook, roles, included files).
    pub files: BTreeMap<String, String>,
    /// `--check` was on.
    pub check_mode: bool,
    /// The run was interrupted (Ctrl-C): no host counts as finished.
    #[serde(default)]
    pub interrupted: bool,
    /// Seconds since the Unix epoch when the run started.
    pub started_at: f64,
    /// Seconds the run took.
    pub duration: f64,
    /// Hosts in first-seen order.
    pub hosts: IndexMap<String, HostRecord>,
}

/// Problems reading or writing a summary file.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The file could not be read or written.
    #[error("summary file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a summary this drover understands.
    #[error("summary file {path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl RunRecord {
    /// Reads a summary file.
    pub fn load(path: &Path) -> Result<Self, RecordError> {
        let text = crate::limits::read_text(path).map_err(|e| RecordError::Io {
            path: path.into(),
            source: std::io::Error::other(e.to_string()),
        })?;
        let record: RunRecord = serde_json::from_str(&text).map_err(|e| RecordError::Format {
            path: path.into(),
            message: e.to_string(),
        })?;
        if record.format != SUMMARY_FORMAT {
            return Err(RecordError::Format {
                path: path.into(),
                message: format!(
                    "format {} (this drover reads format {SUMMARY_FORMAT})",
                    record.format
                ),
            });
        }
        Ok(record)
    }

    /// Writes the summary atomically: a temporary file beside `path`, synced, then renamed
    /// over it (readers see the old file or the new one, never a part).
    pub fn save(&self, path: &Path) -> Result<(), RecordError> {
        let io = |source| RecordError::Io {
            path: path.into(),
            source,
        };
        let text = serde_json::to_string_pretty(self).map_err(|e| io(std::io::Error::other(e)))?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "summary".into());
        let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.write_all(b"\n")?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io(e)
        })
    }

    /// Files whose content differs from what the summary recorded (missing ones included).
    pub fn changed_files(&self) -> Vec<String> {
        let mut changed = Vec::new();
        if file_checksum(Path::new(&self.playbook)).as_deref() != Some(self.checksum.as_str()) {
            changed.push(self.playbook.clone());
        }
        for (file, sum) in &self.files {
            if file != &self.playbook && file_checksum(Path::new(file)).as_deref() != Some(sum) {
                changed.push(file.clone());
            }
        }
        changed
    }
}

/// A task location (`file:line:col`) with its file made absolute, so that runs started from
/// other directories or with the playbook named differently name the task alike.
pub fn stable_location(location: &str) -> String {
    let mut parts = location.rsplitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(col), Some(line), Some(file)) if !file.is_empty() => {
            let file = std::path::absolute(file)
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| file.to_string());
            format!("{file}:{line}:{col}")
        }
        _ => location.to_string(),
    }
}

/// SHA-256 of a file's bytes, hex; `None` if it cannot be read.
pub fn file_checksum(path: &Path) -> Option<String> {
    use sha2::Digest;
    let bytes = std::fs::read(path).ok()?;
    Some(hex::encode(sha2::Sha256::digest(&bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(play: usize, location: &str, status: TaskStatus) -> TaskRecord {
        TaskRecord {
            id: TaskId {
                play,
                location: location.into(),
                handler: false,
                name: "t".into(),
            },
            status,
            changed: status == TaskStatus::Changed,
            ignored: false,
            control: false,
            start: 0.5,
            duration: 0.25,
        }
    }

    #[test]
    fn round_trips_through_json_and_is_written_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let pb = dir.path().join("site.yml");
        std::fs::write(&pb, "- hosts: all\n").unwrap();
        let mut vars = Vars::new();
        vars.insert("out".into(), serde_json::json!({"rc": 0, "stdout": "x"}));
        let mut hosts = IndexMap::new();
        hosts.insert(
            "web1".to_string(),
            HostRecord {
                end: HostEnd::Failed,
                stats: None,
                tasks: vec![
                    task(0, "site.yml:3:7", TaskStatus::Changed),
                    task(0, "site.yml:5:7", TaskStatus::Failed),
                ],
                play: 0,
                vars,
                not_restorable: vec!["password".into()],
                pending_handlers: vec!["restart app".into()],
            },
        );
        let record = RunRecord {
            format: SUMMARY_FORMAT,
            playbook: pb.display().to_string(),
            checksum: file_checksum(&pb).unwrap(),
            files: BTreeMap::new(),
            check_mode: false,
            interrupted: false,
            started_at: 1.0,
            duration: 2.0,
            hosts,
        };
        let out = dir.path().join("summary.json");
        record.save(&out).unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(!names.iter().any(|n| n.ends_with(".tmp")), "{names:?}");
        let text = std::fs::read_to_string(&out).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["hosts"]["web1"]["tasks"][1]["status"], "failed");
        assert_eq!(
            json["hosts"]["web1"]["tasks"][0]["location"],
            "site.yml:3:7"
        );
        assert_eq!(json["hosts"]["web1"]["pending_handlers"][0], "restart app");
        assert_eq!(RunRecord::load(&out).unwrap(), record);
        assert!(record.changed_files().is_empty());
        std::fs::write(&pb, "- hosts: web\n").unwrap();
        assert_eq!(record.changed_files(), vec![record.playbook.clone()]);
    }

    #[test]
    fn only_passed_tasks_are_done() {
        assert!(task(0, "a:1:1", TaskStatus::Skipped).done());
        assert!(!task(0, "a:1:1", TaskStatus::Failed).done());
        assert!(!task(0, "a:1:1", TaskStatus::NotRun).done());
        let mut ignored = task(0, "a:1:1", TaskStatus::Failed);
        ignored.ignored = true;
        assert!(ignored.done());
    }

    #[test]
    fn locations_are_made_absolute() {
        let here = std::env::current_dir().unwrap();
        assert_eq!(
            stable_location("site.yml:3:7"),
            format!("{}:3:7", here.join("site.yml").display())
        );
        assert_eq!(stable_location("/a/b.yml:1:2"), "/a/b.yml:1:2");
        assert_eq!(stable_location("nowhere"), "nowhere");
    }

    #[test]
    fn other_formats_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("s.json");
        std::fs::write(&out, r#"{"format": 99}"#).unwrap();
        assert!(RunRecord::load(&out).is_err());
    }
}

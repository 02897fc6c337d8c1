//! Run progress for `--summary` and `--resume`: [`SummaryRecorder`] turns the executor's events
//! into a [`RunRecord`] written atomically when the run ends, and [`ResumePlan`] reads one back
//! so that a new run continues each host where it stopped (see `docs/RESUME.md`).

mod plan;
mod record;
mod recorder;

pub use plan::{ResumeError, ResumePlan, Step};
pub use record::{
    file_checksum, stable_location, HostEnd, HostRecord, RecordError, RunRecord, TaskId,
    TaskRecord, TaskStatus, SUMMARY_FORMAT,
};
pub use recorder::SummaryRecorder;

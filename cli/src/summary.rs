//! `drover play --summary FILE` and `--resume SUMMARY`: the options and their wiring around
//! the run (the recorder and the resume plan live in `drover_core::progress`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use drover_core::events::EventSink;
use drover_core::executor::RunOptions;
use drover_core::progress::{ResumePlan, RunRecord, SummaryRecorder};

use crate::args::PlayArgs;
use crate::{fail, EXIT_BAD_OPTIONS, EXIT_ERROR};

/// Options for the run's progress record.
#[derive(Debug, Args, Default)]
pub struct ProgressArgs {
    /// Write the run's progress (per host and task: status, changed, timing; registered
    /// variables and pending handlers where a host stopped) to this JSON file when the run ends.
    #[arg(long = "summary", value_name = "FILE")]
    pub summary: Option<PathBuf>,
    /// Continue the run a summary file recorded: each host from its failed (or not run) task,
    /// with its registered variables and pending handlers; hosts that finished are left out.
    #[arg(long = "resume", value_name = "SUMMARY")]
    pub resume: Option<PathBuf>,
    /// Resume even though the playbook changed since the summary was written.
    #[arg(long = "force-resume", requires = "resume")]
    pub force_resume: bool,
}

/// What the run needs for `--summary`/`--resume`.
pub(crate) struct Progress {
    /// The sink the run reports to (the recorder around the reporter, with `--summary`).
    pub sink: Arc<dyn EventSink>,
    recorder: Option<Arc<SummaryRecorder>>,
}

/// Reads `--resume`'s summary (its playbook becomes the one to run when none is given),
/// prepares the resume plan and the summary recorder.
pub(crate) fn setup(
    args: &mut PlayArgs,
    opts: &mut RunOptions,
    sink: Arc<dyn EventSink>,
) -> Result<Progress, ExitCode> {
    let p = &args.progress;
    if (p.summary.is_some() || p.resume.is_some()) && args.playbooks.len() > 1 {
        return Err(fail(
            "--summary and --resume take one playbook",
            Some("run the playbooks one at a time, each with its own summary file"),
            EXIT_BAD_OPTIONS,
        ));
    }
    let mut base = None;
    if let Some(summary) = &p.resume {
        if args.playbooks.is_empty() {
            match RunRecord::load(summary) {
                Ok(r) => args.playbooks.push(PathBuf::from(&r.playbook)),
                Err(e) => return Err(fail(e.to_string(), None, EXIT_ERROR)),
            }
        }
        match ResumePlan::load(summary, &args.playbooks[0], p.force_resume) {
            Ok(plan) => {
                base = Some(plan.record().clone());
                opts.resume = Some(Arc::new(plan));
            }
            Err(e) => {
                return Err(fail(
                    e.to_string(),
                    Some("a resumed run must run what the summary recorded"),
                    EXIT_ERROR,
                ))
            }
        }
    }
    let Some(path) = &p.summary else {
        return Ok(Progress {
            sink,
            recorder: None,
        });
    };
    opts.checkpoints = true;
    let recorder = Arc::new(SummaryRecorder::new(path.clone(), sink).resuming(base));
    Ok(Progress {
        sink: recorder.clone(),
        recorder: Some(recorder),
    })
}

impl Progress {
    /// Says if the summary could not be written.
    pub(crate) fn finish(&self) {
        if let Some(Err(e)) = self.recorder.as_ref().map(|r| r.outcome()) {
            eprintln!("[WARNING]: the summary was not written: {e}");
        }
    }
}

//! The playbook model: loading plays and tasks from YAML and checking them before a run.

pub mod args;
mod check;
mod error;
mod model;
mod parse;

pub use check::{check_playbook, CheckReport};
pub use error::PlaybookError;
pub use model::{Keywords, Play, Playbook, Task, TaskKind};
pub use parse::{load_playbook, parse_task, parse_tasks};

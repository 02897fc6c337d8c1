//! The playbook model: loading plays and tasks from YAML and checking them before a run.

pub mod adhoc;
pub mod args;
mod chain;
mod check;
mod check_files;
mod check_vars;
mod error;
pub mod listing;
mod listing_vars;
mod model;
mod parse;
mod resolve;
mod tags;
pub mod vars_files;

pub use chain::{IncludeChain, IncludeKind};
pub(crate) use check::end_role_outside_role;
pub use check::{check_playbook, check_playbook_with, CheckOptions, CheckReport};
pub use check_vars::{check_variables, external_variable_names};
pub use error::PlaybookError;
pub use model::{Keywords, Play, Playbook, RoleRef, RoleSpec, Task, TaskKind, VarsPrompt};
pub use parse::{
    load_playbook, load_playbook_for_listing, load_playbook_str, load_playbook_with, parse_roles,
    parse_task, parse_tasks, ENGINE_ACTIONS, WITH_LOOKUPS,
};
pub use resolve::{load_vars_path, FileCtx, Included, PlayRoles, Resolver};
pub use tags::tags_select;

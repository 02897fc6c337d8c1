//! Checks a loaded playbook against the module registry before any host is touched.

use super::error::PlaybookError;
use super::model::{Playbook, Task, TaskKind};
use crate::module::ModuleRegistry;
use crate::yaml::Location;

/// What checking a playbook found.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// Problems that stop the run.
    pub errors: Vec<PlaybookError>,
    /// Things worth telling the user that do not stop the run.
    pub warnings: Vec<PlaybookError>,
}

/// Meta actions drover performs.
const META_ACTIONS: &[&str] = &[
    "noop",
    "flush_handlers",
    "end_play",
    "end_host",
    "clear_host_errors",
    "refresh_inventory",
    "reset_connection",
    "clear_facts",
    "end_batch",
];

/// Checks module names and arguments of every task and handler.
pub fn check_playbook(playbook: &Playbook, registry: &ModuleRegistry) -> CheckReport {
    let mut report = CheckReport::default();
    for play in &playbook.plays {
        for list in [
            &play.pre_tasks,
            &play.tasks,
            &play.post_tasks,
            &play.handlers,
        ] {
            check_tasks(list, registry, &mut report);
        }
    }
    report
}

fn check_tasks(tasks: &[Task], registry: &ModuleRegistry, report: &mut CheckReport) {
    for task in tasks {
        match &task.kind {
            TaskKind::Block {
                block,
                rescue,
                always,
            } => {
                for list in [block, rescue, always] {
                    check_tasks(list, registry, report);
                }
            }
            TaskKind::Meta(action) => {
                if !META_ACTIONS.contains(&action.as_str()) {
                    report.errors.push(PlaybookError::new(
                        &task.location,
                        format!("unknown meta action '{action}'"),
                    ));
                }
            }
            TaskKind::Module { module, args } => match registry.get(module) {
                Some(m) => {
                    if let Some(map) = args.as_object() {
                        if let Err(message) = m.check_args(map) {
                            let message = if message.starts_with(module.as_str()) {
                                message
                            } else {
                                format!("{module}: {message}")
                            };
                            report.errors.push(
                                PlaybookError::new(arg_error_location(task, &message), message)
                                    .with_hint(format!(
                                    "see the '{}' module's arguments in Ansible's documentation",
                                    m.name()
                                )),
                            );
                        }
                    }
                }
                None if registry.is_known_unimplemented(module) => {
                    report.warnings.push(PlaybookError::new(
                        &task.location,
                        format!(
                            "the module '{module}' is not implemented by drover yet; this task fails if it runs"
                        ),
                    ));
                }
                None => {
                    let mut err = PlaybookError::new(
                        task.module_location.as_ref().unwrap_or(&task.location),
                        format!("couldn't resolve module/action '{module}'"),
                    );
                    err = match registry.suggest(module.rsplit('.').next().unwrap_or(module)) {
                        Some(s) => err.with_hint(format!("did you mean '{s}'?")),
                        None => err.with_hint(
                            "check the spelling, or whether this is a task keyword at the wrong indentation",
                        ),
                    };
                    report.errors.push(err);
                }
            },
        }
    }
}

/// Where an argument error points: the argument key the message names (in backticks), else the
/// module name, else the task.
fn arg_error_location<'a>(task: &'a Task, message: &str) -> &'a Location {
    task.arg_locations
        .iter()
        .find(|(key, _)| message.contains(&format!("`{key}`")))
        .map(|(_, loc)| loc)
        .or(task.module_location.as_ref())
        .unwrap_or(&task.location)
}

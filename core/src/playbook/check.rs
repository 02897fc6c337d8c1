//! Checks a loaded playbook against the module registry before any host is touched.

use super::check_files::{may_create_controller_files, missing_source, missing_vars_files};
use super::error::PlaybookError;
use super::model::{Playbook, Task, TaskKind};
use super::resolve::{FileCtx, PlayRoles, Resolver};
use crate::module::ModuleRegistry;
use crate::template::Templar;
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
    let mut checker = Checker {
        registry,
        resolver: Resolver::for_playbook(playbook),
        report: &mut report,
        seen_files: std::collections::HashSet::new(),
        playbook_dir: playbook.dir.clone(),
        check_files: true,
    };
    for play in &playbook.plays {
        let lists = [
            &play.roles,
            &play.pre_tasks,
            &play.tasks,
            &play.post_tasks,
            &play.handlers,
        ];
        // Files a play may create on the controller before reading them are not checked.
        checker.check_files = !lists
            .iter()
            .any(|l| l.iter().any(may_create_controller_files));
        checker
            .report
            .errors
            .extend(missing_vars_files(play, playbook));
        for list in [
            &play.roles,
            &play.pre_tasks,
            &play.tasks,
            &play.post_tasks,
            &play.handlers,
        ] {
            checker.check_tasks(list);
        }
    }
    report
}

struct Checker<'a, 'r> {
    registry: &'a ModuleRegistry,
    resolver: Resolver<'a>,
    report: &'r mut CheckReport,
    seen_files: std::collections::HashSet<std::path::PathBuf>,
    /// The playbook's directory (searched for `files/`, `templates/`, `vars/`).
    playbook_dir: std::path::PathBuf,
    /// Check that literal controller-side source files exist (off for plays that may create them).
    check_files: bool,
}

impl Checker<'_, '_> {
    /// Loads include targets whose names are known before the run and checks their content.
    fn check_include(&mut self, task: &Task) {
        let ctx = FileCtx {
            dir: std::path::Path::new(&*task.location.file)
                .parent()
                .map(std::path::Path::to_path_buf)
                .unwrap_or_default(),
            role: task.role.clone(),
        };
        let mut scratch = PlayRoles::default();
        match &task.kind {
            TaskKind::IncludeTasks { file, .. } if !Templar::is_template(file) => {
                let Some(path) = self.resolver.find_tasks_file(file, &ctx) else {
                    self.report.errors.push(
                        PlaybookError::new(
                            &task.location,
                            format!("could not find the tasks file '{file}'"),
                        )
                        .with_hint(format!(
                            "relative names are looked up next to {} and in the playbook's directory",
                            ctx.dir.display()
                        )),
                    );
                    return;
                };
                if !self.seen_files.insert(path.clone()) {
                    return;
                }
                match self
                    .resolver
                    .load_tasks_file(&path, task.role.clone(), &mut scratch)
                {
                    Ok(tasks) => self.check_tasks(&tasks),
                    Err(e) => self.report.errors.push(e),
                }
            }
            TaskKind::IncludeRole { spec, .. } if !Templar::is_template(&spec.name) => {
                match self
                    .resolver
                    .expand_include_role_once(task, spec, &mut self.seen_files)
                {
                    Some(Ok(Some(inc))) => {
                        self.check_tasks(&inc.tasks);
                        self.check_tasks(&inc.handlers);
                    }
                    Some(Ok(None)) | None => {}
                    Some(Err(e)) => self.report.errors.push(e),
                }
            }
            _ => {}
        }
    }

    fn check_tasks(&mut self, tasks: &[Task]) {
        let registry = self.registry;
        for task in tasks {
            let report = &mut *self.report;
            match &task.kind {
                TaskKind::Block {
                    block,
                    rescue,
                    always,
                } => {
                    for list in [block, rescue, always] {
                        self.check_tasks(list);
                    }
                }
                TaskKind::IncludeTasks { .. } | TaskKind::IncludeRole { .. } => {
                    self.check_include(task)
                }
                TaskKind::ImportTasks { .. } | TaskKind::ImportRole(_) => {}
                TaskKind::Module { module, .. }
                    if module.rsplit('.').next() == Some("include_vars") =>
                {
                    if self.check_files {
                        report
                            .errors
                            .extend(missing_source(task, &self.playbook_dir));
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
                        if self.check_files {
                            report
                                .errors
                                .extend(missing_source(task, &self.playbook_dir));
                        }
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

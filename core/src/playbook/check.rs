//! Checks a loaded playbook against the module registry before any host is touched.

use super::check_files::{may_create_controller_files, missing_source, missing_vars_files};
use super::error::PlaybookError;
use super::model::{Playbook, Task, TaskKind};
use super::resolve::{FileCtx, PlayRoles, Resolver};
use super::tags::tags_select;
use crate::module::{Module, ModuleRegistry};
use crate::params::ArgError;
use crate::template::Templar;
use crate::vars::Value;
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
    "end_role",
];

/// How the check treats argument problems.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Every argument problem is an error (`--strict`, `--syntax-check`). Otherwise only those
    /// of tasks that surely run unguarded are; the others are warnings, and the task fails
    /// with ansible-core's message if it runs (as ansible-core validates arguments only then).
    pub strict: bool,
    /// `--tags`: tasks these do not select never run.
    pub tags: Vec<String>,
    /// `--skip-tags`.
    pub skip_tags: Vec<String>,
}

/// Checks module names and arguments of every task and handler (not strict, all tags).
pub fn check_playbook(playbook: &Playbook, registry: &ModuleRegistry) -> CheckReport {
    check_playbook_with(playbook, registry, &CheckOptions::default())
}

/// [`check_playbook`] with options.
pub fn check_playbook_with(
    playbook: &Playbook,
    registry: &ModuleRegistry,
    options: &CheckOptions,
) -> CheckReport {
    let mut report = CheckReport::default();
    let mut checker = Checker {
        registry,
        resolver: Resolver::for_playbook(playbook),
        report: &mut report,
        seen_files: std::collections::HashSet::new(),
        playbook_dir: playbook.dir.clone(),
        check_files: true,
        options,
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
        let top = Reach {
            guarded: ignores_errors(&play.keywords.ignore_errors),
            tags: play.keywords.tags.clone(),
            handler: false,
        };
        for list in [&play.roles, &play.pre_tasks, &play.tasks, &play.post_tasks] {
            checker.check_tasks(list, &top);
        }
        // Handlers run only when notified.
        let handlers = Reach {
            guarded: true,
            handler: true,
            ..top
        };
        checker.check_tasks(&play.handlers, &handlers);
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
    options: &'a CheckOptions,
}

/// Whether the tasks being checked surely run when reached.
#[derive(Debug, Clone, Default)]
struct Reach {
    /// They may not run, or may fail without stopping the host: under a `when` (on them or an
    /// enclosing block, role or include), `ignore_errors`, `failed_when`, a loop that may be
    /// empty, in a block with `rescue` or in one, or in a handler.
    guarded: bool,
    /// Tags inherited from enclosing blocks, roles and plays.
    tags: Vec<String>,
    /// They are handlers (or tasks of a handler's block).
    handler: bool,
}

/// True for an `ignore_errors` value that may be true.
fn ignores_errors(value: &Option<Value>) -> bool {
    value
        .as_ref()
        .is_some_and(|v| !matches!(v, Value::Bool(false)))
}

/// True for a loop whose items are not written out (or are none): it may run no item.
fn loop_may_be_empty(task: &Task) -> bool {
    let Some(items) = &task.loop_ else {
        return false;
    };
    let literal = matches!(
        task.loop_with.as_deref(),
        None | Some("items" | "list" | "flattened" | "indexed_items" | "dict")
    );
    let written_out = match items {
        Value::Array(a) => {
            !a.is_empty()
                && !a
                    .iter()
                    .any(|i| matches!(i, Value::String(s) if Templar::is_template(s)))
        }
        Value::Object(m) => !m.is_empty(),
        _ => false,
    };
    !(literal && written_out)
}

impl Reach {
    /// What holds inside `task` (for its own check, and for what it contains).
    fn enter(&self, task: &Task) -> Reach {
        let mut tags = self.tags.clone();
        tags.extend(task.keywords.tags.iter().cloned());
        Reach {
            guarded: self.guarded
                || !task.when.is_empty()
                || !task.keywords.when.is_empty()
                || ignores_errors(&task.keywords.ignore_errors)
                || task.failed_when.is_some()
                || loop_may_be_empty(task),
            tags,
            handler: self.handler,
        }
    }
}

impl Checker<'_, '_> {
    /// Loads include targets whose names are known before the run and checks their content.
    fn check_include(&mut self, task: &Task, reach: &Reach) {
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
                    Ok(tasks) => self.check_tasks(&tasks, reach),
                    Err(e) => self.report.errors.push(e),
                }
            }
            TaskKind::IncludeRole { spec, .. } if !Templar::is_template(&spec.name) => {
                match self
                    .resolver
                    .expand_include_role_once(task, spec, &mut self.seen_files)
                {
                    Some(Ok(Some(inc))) => {
                        self.check_tasks(&inc.tasks, reach);
                        let handlers = Reach {
                            guarded: true,
                            handler: true,
                            ..reach.clone()
                        };
                        self.check_tasks(&inc.handlers, &handlers);
                    }
                    Some(Ok(None)) | None => {}
                    Some(Err(e)) => self.report.errors.push(e),
                }
            }
            _ => {}
        }
    }

    /// Reports an argument problem of `task`: an error if the task surely runs unguarded (or
    /// the check is strict), else a warning (the task fails if it runs).
    /// Whether a problem of a task reached this way stops the run before it starts: the task
    /// surely runs (or `--strict`). Otherwise it is a warning, and the task fails if it runs,
    /// as under Ansible.
    fn stops_the_run(&self, reach: &Reach) -> bool {
        self.options.strict
            || (!reach.guarded
                && tags_select(&reach.tags, &self.options.tags, &self.options.skip_tags))
    }

    /// Reports a missing controller-side file a task reads.
    fn missing_file(&mut self, task: &Task, reach: &Reach, module: &dyn Module) {
        let Some(error) = missing_source(task, module, &self.playbook_dir) else {
            return;
        };
        if self.stops_the_run(reach) {
            self.report.errors.push(error);
        } else {
            let message = format!(
                "{}; this task fails if it runs (--strict makes this an error)",
                error.message
            );
            self.report
                .warnings
                .push(PlaybookError::new(&error.location, message));
        }
    }

    fn arg_problem(
        &mut self,
        task: &Task,
        reach: &Reach,
        module: &str,
        canonical: &str,
        error: ArgError,
    ) {
        let message = format!("{module}: {}", error.message());
        let location = arg_error_location(task, error.key.as_deref());
        if self.stops_the_run(reach) {
            self.report
                .errors
                .push(PlaybookError::new(location, message).with_hint(format!(
                    "see the '{canonical}' module's arguments in Ansible's documentation"
                )));
        } else {
            // A warning stays short: without the list of parameters.
            let short = message
                .split("; supported parameters:")
                .next()
                .unwrap_or(&message);
            self.report.warnings.push(PlaybookError::new(
                location,
                format!("{short}; this task fails if it runs (--strict makes this an error)"),
            ));
        }
    }

    fn check_tasks(&mut self, tasks: &[Task], outer: &Reach) {
        let registry = self.registry;
        for task in tasks {
            let reach = outer.enter(task);
            let report = &mut *self.report;
            match &task.kind {
                TaskKind::Block {
                    block,
                    rescue,
                    always,
                } => {
                    let guarded = Reach {
                        guarded: true,
                        ..reach.clone()
                    };
                    let body = if rescue.is_empty() { &reach } else { &guarded };
                    self.check_tasks(block, body);
                    self.check_tasks(rescue, &guarded);
                    self.check_tasks(always, &reach);
                }
                TaskKind::IncludeTasks { .. } | TaskKind::IncludeRole { .. } => {
                    self.check_include(task, &reach)
                }
                TaskKind::ImportTasks { .. } | TaskKind::ImportRole(_) => {}
                TaskKind::Meta(action) => {
                    if let Some(error) = end_role_misplaced(task, reach.handler) {
                        report.errors.push(error);
                    } else if !META_ACTIONS.contains(&action.as_str()) {
                        report.errors.push(PlaybookError::new(
                            &task.location,
                            format!("unknown meta action '{action}'"),
                        ));
                    }
                }
                TaskKind::Module { module, args } => match registry.get(module) {
                    Some(m) => {
                        if self.check_files {
                            self.missing_file(task, &reach, m.as_ref());
                        }
                        if let Some(map) = args.as_object() {
                            if let Err(error) = m.check_args(map) {
                                self.arg_problem(task, &reach, module, m.name(), error);
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

/// Where an argument error points: the argument the error is about, else the module name, else
/// the task.
fn arg_error_location<'a>(task: &'a Task, key: Option<&str>) -> &'a Location {
    task.arg_locations
        .iter()
        .find(|(k, _)| Some(k.as_str()) == key)
        .map(|(_, loc)| loc)
        .or(task.module_location.as_ref())
        .unwrap_or(&task.location)
}

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;

/// ansible-core's load-time refusal of `meta: end_role` where no role can end: in a handler, or
/// in a task that is not part of a role.
pub(crate) fn end_role_misplaced(task: &Task, handler: bool) -> Option<PlaybookError> {
    if !matches!(&task.kind, TaskKind::Meta(action) if action == "end_role") {
        return None;
    }
    if handler {
        return Some(
            PlaybookError::new(&task.location, "Cannot execute 'end_role' from a handler")
                .with_hint("use 'meta: end_role' in a role's tasks, not in its handlers"),
        );
    }
    task.role.is_none().then(|| {
        PlaybookError::new(
            &task.location,
            "Cannot execute 'end_role' from outside of a role",
        )
        .with_hint(
            "use it in a role's tasks; outside a role, 'meta: end_host' ends the play for the host",
        )
    })
}

/// The first `meta: end_role` among `tasks` (blocks included) that is not part of a role: tasks
/// files included at run time from a play are refused with it, as ansible-core refuses them.
pub(crate) fn end_role_outside_role(tasks: &[Task]) -> Option<PlaybookError> {
    tasks.iter().find_map(|task| match &task.kind {
        TaskKind::Block {
            block,
            rescue,
            always,
        } => end_role_outside_role(block)
            .or_else(|| end_role_outside_role(rescue))
            .or_else(|| end_role_outside_role(always)),
        _ => end_role_misplaced(task, false),
    })
}

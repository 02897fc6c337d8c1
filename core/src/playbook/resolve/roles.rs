//! Expanding a role into its tasks: `meta/main.yml` dependencies, argument validation,
//! defaults/vars/handlers, and `include_role` at run time.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{err, load_vars_path, with_extensions, Included, PlayRoles, Resolver};
use crate::playbook::chain::IncludeKind;
use crate::playbook::error::PlaybookError;
use crate::playbook::model::{RoleRef, RoleSpec, Task, TaskKind};
use crate::playbook::parse::parse_roles;
use crate::vars::{merge_into, Value, Vars};
use crate::yaml::{self, Location};

impl Resolver<'_> {
    /// For checks that walk every task once before the run: expands the role a static
    /// `include_role` task names, unless `seen` already holds its entry file (then `None`;
    /// the entry file is recorded otherwise).
    pub fn expand_include_role_once(
        &mut self,
        task: &Task,
        spec: &RoleSpec,
        seen: &mut HashSet<PathBuf>,
    ) -> Option<Result<Option<Included>, PlaybookError>> {
        let near = task.role.as_ref().map(|r| r.path.clone());
        let entry = self
            .find_role(&spec.name, near.as_deref())
            .map(|p| p.join(spec.tasks_from.as_deref().unwrap_or("main")));
        if entry.is_some_and(|e| !seen.insert(e)) {
            return None;
        }
        let mut scratch = PlayRoles::default();
        Some(self.expand_role(spec, &task.location, near.as_deref(), &mut scratch, false))
    }

    /// Loads a role's tasks (dependencies first) and handlers. `None` when the role already ran
    /// in this play with the same parameters and does not allow duplicates. `public_default`
    /// is true for `import_role`/`roles:` and false for `include_role`.
    pub fn expand_role(
        &mut self,
        spec: &RoleSpec,
        loc: &Location,
        near: Option<&Path>,
        play: &mut PlayRoles,
        public_default: bool,
    ) -> Result<Option<Included>, PlaybookError> {
        let kind = if public_default {
            IncludeKind::ImportRole
        } else {
            IncludeKind::IncludeRole
        };
        self.expand_role_via(kind, spec, loc, near, play, public_default)
    }

    /// The entry file that identifies a role on the include chain.
    pub fn role_entry(dir: &Path, spec: &RoleSpec) -> PathBuf {
        std::fs::canonicalize(dir)
            .unwrap_or_else(|_| dir.to_path_buf())
            .join("tasks")
            .join(spec.tasks_from.as_deref().unwrap_or("main"))
    }

    fn expand_role_via(
        &mut self,
        kind: IncludeKind,
        spec: &RoleSpec,
        loc: &Location,
        near: Option<&Path>,
        play: &mut PlayRoles,
        public_default: bool,
    ) -> Result<Option<Included>, PlaybookError> {
        let dir = self
            .find_role(&spec.name, near)
            .ok_or_else(|| self.role_not_found(&spec.name, loc))?;
        let entry = Self::role_entry(&dir, spec);
        let shown = format!("role '{}'", spec.name);
        self.entered(kind, &entry, &shown, loc, |r| {
            r.expand_found_role(spec, loc, dir, play, public_default)
        })
    }

    fn expand_found_role(
        &mut self,
        spec: &RoleSpec,
        loc: &Location,
        dir: PathBuf,
        play: &mut PlayRoles,
        public_default: bool,
    ) -> Result<Option<Included>, PlaybookError> {
        let meta = self.role_meta(&dir)?;
        let key = format!(
            "{}|{}|{}|{}",
            dir.display(),
            spec.tasks_from.as_deref().unwrap_or("main"),
            Value::Object(spec.params.clone()),
            spec.identity
        );
        let allow_duplicates = spec.allow_duplicates.unwrap_or(meta.allow_duplicates);
        if !play.seen.insert(key) && !allow_duplicates && !self.for_listing {
            return Ok(None);
        }
        let load_vars = |sub: &str, from: Option<&str>| -> Result<Vars, PlaybookError> {
            let base = dir.join(sub);
            let name = from.unwrap_or("main");
            match with_extensions(&base, name)
                .into_iter()
                .find(|c| c.exists())
            {
                Some(p) => load_vars_path(&p),
                None if from.is_some() => Err(err(
                    loc,
                    format!("the role '{}' has no {sub} file '{name}'", spec.name),
                )),
                None => Ok(Vars::new()),
            }
        };
        let defaults = load_vars("defaults", spec.defaults_from.as_deref())?;
        let vars = load_vars("vars", spec.vars_from.as_deref())?;
        let role = Arc::new(RoleRef {
            name: spec.name.clone(),
            path: dir.clone(),
            defaults: defaults.clone(),
            vars: vars.clone(),
        });
        if spec.public.unwrap_or(public_default) {
            merge_into(&mut play.defaults, &defaults);
            merge_into(&mut play.vars, &vars);
        }
        let mut tasks = Vec::new();
        let deps: Result<(), PlaybookError> = (|| {
            for mut dep in meta.dependencies {
                if let TaskKind::ImportRole(dep_spec) = &dep.kind {
                    let dep_spec = dep_spec.clone();
                    merge_into(&mut dep.keywords.vars, &dep_spec.params);
                    if let Some(inc) = self.expand_role_via(
                        IncludeKind::RoleDependency,
                        &dep_spec,
                        &dep.location,
                        Some(&dir),
                        play,
                        public_default,
                    )? {
                        dep.kind = TaskKind::Block {
                            block: inc.tasks,
                            rescue: Vec::new(),
                            always: Vec::new(),
                        };
                        tasks.push(dep);
                    }
                }
            }
            Ok(())
        })();
        deps?;
        let tasks_dir = dir.join("tasks");
        let tasks_name = spec.tasks_from.as_deref().unwrap_or("main");
        if self.for_listing && spec.rolespec_validate != Some(false) {
            if let Some(spec_task) = argument_spec_task(&dir, tasks_name, loc, &role)? {
                tasks.push(spec_task);
            }
        }
        match with_extensions(&tasks_dir, tasks_name)
            .into_iter()
            .find(|c| c.is_file())
        {
            Some(p) => tasks.extend(self.load_tasks_file(&p, Some(role.clone()), play)?),
            None if spec.tasks_from.is_some() => {
                return Err(err(
                    loc,
                    format!("the role '{}' has no tasks file '{tasks_name}'", spec.name),
                ))
            }
            None => {}
        }
        let handlers_name = spec.handlers_from.as_deref().unwrap_or("main");
        let mut handlers = Vec::new();
        if let Some(p) = with_extensions(&dir.join("handlers"), handlers_name)
            .into_iter()
            .find(|c| c.is_file())
        {
            handlers = self.load_tasks_file(&p, Some(role.clone()), play)?;
            // A role's handlers see its parameters, as its tasks do.
            for h in &mut handlers {
                merge_into(&mut h.keywords.vars, &spec.params);
            }
            // As in ansible-core, a role applied twice has its handlers once, with the variables
            // of the last instance: the new copies take the place of the earlier ones.
            let key = format!("{}|{handlers_name}", dir.display());
            match play.handler_roles.get(&key) {
                Some(range) if range.len() == handlers.len() => {
                    play.handlers
                        .splice(range.clone(), handlers.iter().cloned());
                }
                _ => {
                    let start = play.handlers.len();
                    play.handlers.extend(handlers.iter().cloned());
                    play.handler_roles.insert(key, start..play.handlers.len());
                }
            }
        }
        Ok(Some(Included {
            tasks,
            handlers,
            role: Some(role),
        }))
    }

    fn role_meta(&self, dir: &Path) -> Result<RoleMeta, PlaybookError> {
        let mut meta = RoleMeta::default();
        let Some(path) = with_extensions(&dir.join("meta"), "main")
            .into_iter()
            .find(|c| c.is_file())
        else {
            return Ok(meta);
        };
        let node = yaml::parse_file(&path)?;
        if let Some(deps) = node.get("dependencies") {
            meta.dependencies = parse_roles(deps)?;
        }
        if let Some(a) = node.get("allow_duplicates") {
            meta.allow_duplicates = crate::vars::is_truthy(&a.to_value());
        }
        Ok(meta)
    }
}

/// ansible-core's implicit first task of a role whose argument spec (`meta/argument_specs.yml`,
/// else `argument_specs` in `meta/main.yml`) has the entry point `entry`.
fn argument_spec_task(
    dir: &Path,
    entry: &str,
    loc: &Location,
    role: &Arc<RoleRef>,
) -> Result<Option<Task>, PlaybookError> {
    let meta = dir.join("meta");
    let specs = match with_extensions(&meta, "argument_specs")
        .into_iter()
        .find(|c| c.is_file())
    {
        Some(p) => yaml::parse_file(&p)?
            .to_value()
            .get("argument_specs")
            .cloned(),
        None => match with_extensions(&meta, "main")
            .into_iter()
            .find(|c| c.is_file())
        {
            Some(p) => yaml::parse_file(&p)?
                .to_value()
                .get("argument_specs")
                .cloned(),
            None => None,
        },
    };
    let Some(spec) = specs.as_ref().and_then(|s| s.get(entry)).filter(|s| {
        // An empty spec is no spec, as in ansible-core.
        !s.is_null() && s.as_object().is_none_or(|m| !m.is_empty())
    }) else {
        return Ok(None);
    };
    let mut name = format!("Validating arguments against arg spec '{entry}'");
    if let Some(d) = spec.get("short_description") {
        name.push_str(" - ");
        name.push_str(&d.as_str().map_or_else(|| d.to_string(), str::to_string));
    }
    let module = "ansible.builtin.validate_argument_spec".to_string();
    let mut task = Task::new(
        loc.clone(),
        TaskKind::Module {
            module: module.clone(),
            args: Value::Object(Default::default()),
        },
    );
    task.name = Some(name);
    task.action = module;
    task.keywords.tags = vec!["always".into()];
    task.role = Some(role.clone());
    Ok(Some(task))
}

#[derive(Default)]
struct RoleMeta {
    dependencies: Vec<Task>,
    allow_duplicates: bool,
}

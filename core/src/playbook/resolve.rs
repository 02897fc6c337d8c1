//! Resolving static content at load time (`roles:`, `import_role`, `import_tasks`, role
//! dependencies) and loading dynamic content at run time (`include_tasks`, `include_role`).
//!
//! Roles are searched in the playbook's `roles/`, then the `roles/` next to the role that depends
//! on them, then `roles_path` (`ansible.cfg` / `ANSIBLE_ROLES_PATH`), then the playbook's
//! directory. Galaxy names (`namespace.role`) are directory names; collection names
//! (`ns.coll.role`) are looked up under `ansible_collections/ns/coll/roles/role`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::error::PlaybookError;
use super::model::{Playbook, RoleRef, RoleSpec, Task, TaskKind};
use super::parse::{parse_roles, parse_tasks};
use crate::vars::{merge_into, Value, Vars};
use crate::yaml::{self, Location};

/// Nesting limit for imports and role dependencies (catches cycles).
const MAX_DEPTH: usize = 64;

/// What static resolution collected for one play.
#[derive(Debug, Default)]
pub struct PlayRoles {
    seen: HashSet<String>,
    handler_roles: HashSet<String>,
    /// Handlers of the roles loaded, in load order.
    pub handlers: Vec<Task>,
    /// Defaults of public roles, merged in load order.
    pub defaults: Vars,
    /// `vars/` of public roles, merged in load order.
    pub vars: Vars,
}

/// Where the content being resolved comes from.
#[derive(Debug, Clone)]
pub struct FileCtx {
    /// Directory of the file (relative includes start here).
    pub dir: PathBuf,
    /// The role the file belongs to.
    pub role: Option<Arc<RoleRef>>,
}

/// Content loaded for an `include_tasks` or `include_role`.
#[derive(Debug, Clone)]
pub struct Included {
    /// The tasks to run.
    pub tasks: Vec<Task>,
    /// Handlers the content brings (role handlers).
    pub handlers: Vec<Task>,
    /// The role, for `include_role`.
    pub role: Option<Arc<RoleRef>>,
}

/// Resolves imports and roles against a playbook's directory and roles path.
pub struct Resolver<'a> {
    playbook_dir: &'a Path,
    roles_path: &'a [PathBuf],
    depth: usize,
    for_listing: bool,
}

fn err(loc: &Location, msg: impl Into<String>) -> PlaybookError {
    PlaybookError::new(loc, msg)
}

/// Candidate file names for a role file (`main` → `main.yml`, `main.yaml`, `main.json`, `main`).
fn with_extensions(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if Path::new(name).extension().is_none() {
        for ext in ["yml", "yaml", "json"] {
            out.push(dir.join(format!("{name}.{ext}")));
        }
    }
    out.push(dir.join(name));
    out
}

/// Loads a variables file (YAML mapping); a directory loads every `.yml`/`.yaml`/`.json` file in it.
pub fn load_vars_path(path: &Path) -> Result<Vars, PlaybookError> {
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| {
                err(
                    &Location::default(),
                    format!("cannot read {}: {e}", path.display()),
                )
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| matches!(e, "yml" | "yaml" | "json"))
            })
            .collect();
        files.sort();
        let mut out = Vars::new();
        for f in files {
            merge_into(&mut out, &load_vars_path(&f)?);
        }
        return Ok(out);
    }
    let node = yaml::parse_file(path)?;
    match node.to_value() {
        Value::Object(m) => Ok(m),
        Value::Null => Ok(Vars::new()),
        _ => Err(err(
            &node.loc,
            "a vars file must contain a mapping of variable names to values",
        )),
    }
}

impl<'a> Resolver<'a> {
    /// A resolver for content of the playbook in `playbook_dir`.
    pub fn new(playbook_dir: &'a Path, roles_path: &'a [PathBuf]) -> Self {
        Self {
            playbook_dir,
            roles_path,
            depth: 0,
            for_listing: false,
        }
    }

    /// This resolver, resolving for `--list-tasks` as ansible-playbook does: every occurrence of
    /// a role is expanded even where a run would skip a duplicate, and a role with an argument
    /// spec for its entry point starts with ansible-core's implicit validation task (listed only:
    /// drover does not validate role arguments when it runs).
    pub fn for_listing_only(mut self) -> Self {
        self.for_listing = true;
        self
    }

    /// A resolver for a loaded playbook.
    pub fn for_playbook(playbook: &'a Playbook) -> Self {
        Self::new(&playbook.dir, &playbook.roles_path)
    }

    /// Finds a role's directory.
    pub fn find_role(&self, name: &str, near: Option<&Path>) -> Option<PathBuf> {
        let p = Path::new(name);
        if p.is_absolute() {
            return p.is_dir().then(|| p.to_path_buf());
        }
        let mut bases = vec![self.playbook_dir.join("roles")];
        if let Some(role_dir) = near {
            if let Some(parent) = role_dir.parent() {
                bases.push(parent.to_path_buf());
            }
        }
        bases.extend(self.roles_path.iter().cloned());
        bases.push(self.playbook_dir.to_path_buf());
        if self.roles_path.is_empty() {
            // ansible-core's default roles_path.
            if let Some(home) = std::env::var_os("HOME") {
                bases.push(PathBuf::from(home).join(".ansible/roles"));
            }
            bases.push(PathBuf::from("/usr/share/ansible/roles"));
            bases.push(PathBuf::from("/etc/ansible/roles"));
        }
        let parts: Vec<&str> = name.split('.').collect();
        for base in &bases {
            let c = base.join(name);
            if c.is_dir() {
                return Some(c);
            }
            if parts.len() == 3 {
                let c = base
                    .join("ansible_collections")
                    .join(parts[0])
                    .join(parts[1])
                    .join("roles")
                    .join(parts[2]);
                if c.is_dir() {
                    return Some(c);
                }
            }
        }
        None
    }

    fn role_not_found(&self, name: &str, loc: &Location) -> PlaybookError {
        let mut searched = vec![self.playbook_dir.join("roles")];
        searched.extend(self.roles_path.iter().cloned());
        searched.push(self.playbook_dir.to_path_buf());
        err(loc, format!("the role '{name}' was not found")).with_hint(format!(
            "searched {}; set roles_path in ansible.cfg or ANSIBLE_ROLES_PATH, or install the role",
            searched
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }

    /// Finds a tasks file named by `import_tasks`/`include_tasks` written in `ctx`.
    pub fn find_tasks_file(&self, name: &str, ctx: &FileCtx) -> Option<PathBuf> {
        let p = Path::new(name);
        if p.is_absolute() {
            return p.is_file().then(|| p.to_path_buf());
        }
        let mut candidates = vec![ctx.dir.join(name)];
        if let Some(r) = &ctx.role {
            candidates.push(r.path.join("tasks").join(name));
            candidates.push(r.path.join(name));
        }
        candidates.push(self.playbook_dir.join(name));
        candidates.into_iter().find(|c| c.is_file())
    }

    /// Parses and resolves a tasks file.
    pub fn load_tasks_file(
        &mut self,
        path: &Path,
        role: Option<Arc<RoleRef>>,
        play: &mut PlayRoles,
    ) -> Result<Vec<Task>, PlaybookError> {
        let node = yaml::parse_file(path)?;
        let tasks = parse_tasks(&node)?;
        let ctx = FileCtx {
            dir: path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from(".")),
            role,
        };
        self.resolve_tasks(tasks, &ctx, play)
    }

    /// Resolves static imports in `tasks` and marks them with their role.
    pub fn resolve_tasks(
        &mut self,
        tasks: Vec<Task>,
        ctx: &FileCtx,
        play: &mut PlayRoles,
    ) -> Result<Vec<Task>, PlaybookError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.depth -= 1;
            let loc = tasks
                .first()
                .map(|t| t.location.clone())
                .unwrap_or_default();
            return Err(err(
                &loc,
                "imports nest too deeply (is there an import cycle?)",
            ));
        }
        let mut out = Vec::with_capacity(tasks.len());
        let result: Result<(), PlaybookError> = (|| {
            for mut t in tasks {
                if t.role.is_none() {
                    t.role = ctx.role.clone();
                }
                t.kind = match std::mem::replace(&mut t.kind, TaskKind::Meta("noop".into())) {
                    TaskKind::Block {
                        block,
                        rescue,
                        always,
                    } => TaskKind::Block {
                        block: self.resolve_tasks(block, ctx, play)?,
                        rescue: self.resolve_tasks(rescue, ctx, play)?,
                        always: self.resolve_tasks(always, ctx, play)?,
                    },
                    TaskKind::ImportTasks { file } => {
                        if crate::template::Templar::is_template(&file) {
                            return Err(err(
                                &t.location,
                                format!("import_tasks cannot use a variable file name ('{file}')"),
                            )
                            .with_hint("use include_tasks for file names computed at run time"));
                        }
                        let path = self.find_tasks_file(&file, ctx).ok_or_else(|| {
                            err(&t.location, format!("could not find the tasks file '{file}'"))
                                .with_hint(format!(
                                    "relative names are looked up next to {} and in the playbook's directory",
                                    ctx.dir.display()
                                ))
                        })?;
                        let block = self.load_tasks_file(&path, ctx.role.clone(), play)?;
                        TaskKind::Block {
                            block,
                            rescue: Vec::new(),
                            always: Vec::new(),
                        }
                    }
                    TaskKind::ImportRole(spec) => {
                        merge_into(&mut t.keywords.vars, &spec.params);
                        let near = ctx.role.as_ref().map(|r| r.path.clone());
                        let block = self
                            .expand_role(&spec, &t.location, near.as_deref(), play, true)?
                            .map(|i| i.tasks)
                            .unwrap_or_default();
                        TaskKind::Block {
                            block,
                            rescue: Vec::new(),
                            always: Vec::new(),
                        }
                    }
                    other => other,
                };
                t.pass_delegate_to_children();
                out.push(t);
            }
            Ok(())
        })();
        self.depth -= 1;
        result.map(|()| out)
    }

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
    /// in this play with the same parameters and does not allow duplicates.
    pub fn expand_role(
        &mut self,
        spec: &RoleSpec,
        loc: &Location,
        near: Option<&Path>,
        play: &mut PlayRoles,
        public_default: bool,
    ) -> Result<Option<Included>, PlaybookError> {
        let dir = self
            .find_role(&spec.name, near)
            .ok_or_else(|| self.role_not_found(&spec.name, loc))?;
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
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.depth -= 1;
            return Err(err(
                loc,
                format!("role dependencies of '{}' form a cycle", spec.name),
            ));
        }
        let deps: Result<(), PlaybookError> = (|| {
            for mut dep in meta.dependencies {
                if let TaskKind::ImportRole(dep_spec) = &dep.kind {
                    let dep_spec = dep_spec.clone();
                    merge_into(&mut dep.keywords.vars, &dep_spec.params);
                    if let Some(inc) = self.expand_role(
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
        self.depth -= 1;
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
        if play
            .handler_roles
            .insert(format!("{}|{handlers_name}", dir.display()))
        {
            if let Some(p) = with_extensions(&dir.join("handlers"), handlers_name)
                .into_iter()
                .find(|c| c.is_file())
            {
                handlers = self.load_tasks_file(&p, Some(role.clone()), play)?;
                // A role's handlers see its parameters, as its tasks do.
                for h in &mut handlers {
                    merge_into(&mut h.keywords.vars, &spec.params);
                }
                play.handlers.extend(handlers.iter().cloned());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbook::load_playbook_with;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn roles_dependencies_and_imports_resolve() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(
            &d.join("roles/a/tasks/main.yml"),
            "- debug: msg=a\n- import_tasks: more.yml\n",
        );
        write(
            &d.join("roles/a/tasks/more.yml"),
            "- name: more\n  debug: msg=m\n",
        );
        write(&d.join("roles/a/defaults/main.yml"), "x: 1\n");
        write(
            &d.join("roles/a/handlers/main.yml"),
            "- name: h\n  debug: msg=h\n",
        );
        write(&d.join("elsewhere/ns.b/tasks/main.yml"), "- debug: msg=b\n");
        write(
            &d.join("elsewhere/ns.b/meta/main.yml"),
            "dependencies: [a]\n",
        );
        write(
            &d.join("site.yml"),
            "- hosts: all\n  roles:\n    - ns.b\n    - a\n  tasks:\n    - import_role: {name: a, tasks_from: more}\n",
        );
        let pb = load_playbook_with(&d.join("site.yml"), &[d.join("elsewhere")]).unwrap();
        let play = &pb.plays[0];
        // ns.b runs its dependency a first; the second `- a` is a duplicate and runs nothing.
        let TaskKind::Block { block, .. } = &play.roles[0].kind else {
            panic!("role not resolved")
        };
        assert!(matches!(&block[0].kind, TaskKind::Block { block, .. } if block.len() == 2));
        assert_eq!(block[1].role.as_ref().unwrap().name, "ns.b");
        assert!(matches!(&play.roles[1].kind, TaskKind::Block { block, .. } if block.is_empty()));
        assert_eq!(play.role_defaults.get("x"), Some(&Value::from(1)));
        assert_eq!(play.handlers.len(), 1);
        let TaskKind::Block { block, .. } = &play.tasks[0].kind else {
            panic!("import_role not resolved")
        };
        assert_eq!(
            block[0].with_role_prefix(block[0].display_name()),
            "a : more"
        );
    }

    #[test]
    fn a_tagged_role_and_its_untagged_dependency_are_different_instances() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(&d.join("roles/base/tasks/main.yml"), "- debug: msg=base\n");
        write(&d.join("roles/app/tasks/main.yml"), "- debug: msg=app\n");
        write(&d.join("roles/app/meta/main.yml"), "dependencies: [base]\n");
        write(&d.join("roles/web/tasks/main.yml"), "- debug: msg=web\n");
        write(
            &d.join("roles/web/meta/main.yml"),
            "dependencies:\n  - role: base\n    tags: [base]\n",
        );
        write(
            &d.join("site.yml"),
            "- hosts: all\n  roles:\n    - role: base\n      tags: [base]\n    - app\n    - web\n",
        );
        let pb = load_playbook_with(&d.join("site.yml"), &[]).unwrap();
        let sizes: Vec<usize> = pb.plays[0]
            .roles
            .iter()
            .map(|t| match &t.kind {
                TaskKind::Block { block, .. } => block.len(),
                _ => usize::MAX,
            })
            .collect();
        // base (tagged); app = untagged base dependency (runs again) + app; web = the tagged
        // base dependency (same instance as the first: not again) + web.
        assert_eq!(sizes, vec![1, 2, 1]);
    }

    #[test]
    fn missing_role_names_the_search_path() {
        let dir = tempfile::tempdir().unwrap();
        write(
            &dir.path().join("site.yml"),
            "- hosts: all\n  roles: [nope]\n",
        );
        let e = load_playbook_with(&dir.path().join("site.yml"), &[]).unwrap_err();
        assert_eq!(e.location.line, 2);
        assert!(e.message.contains("'nope' was not found"));
        assert!(e.hint.unwrap().contains("roles_path"));
    }
}

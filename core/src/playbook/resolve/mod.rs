//! Resolving static content at load time (`roles:`, `import_role`, `import_tasks`, role
//! dependencies) and loading dynamic content at run time (`include_tasks`, `include_role`).
//!
//! Roles are searched in the playbook's `roles/`, then the `roles/` next to the role that depends
//! on them, then `roles_path` (`ansible.cfg` / `ANSIBLE_ROLES_PATH`), then the playbook's
//! directory. Galaxy names (`namespace.role`) are directory names; collection names
//! (`ns.coll.role`) are looked up under `ansible_collections/ns/coll/roles/role`.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::chain::{IncludeChain, IncludeKind};
use super::error::PlaybookError;
use super::model::{Playbook, RoleRef, Task, TaskKind};
use super::parse::parse_tasks;
use crate::vars::{merge_into, Value, Vars};
use crate::yaml::{self, Location};

mod roles;
#[cfg(test)]
mod tests;

/// What static resolution collected for one play.
#[derive(Debug, Default)]
pub struct PlayRoles {
    seen: HashSet<String>,
    /// Where each role handlers file's handlers sit in `handlers`: a role applied again (with other
    /// parameters) replaces them, so its handlers run once, with the last instance's variables.
    handler_roles: HashMap<String, std::ops::Range<usize>>,
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
    chain: IncludeChain,
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
            chain: IncludeChain::default(),
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

    /// This resolver, loading content reached through `chain` (cycles and depth are checked
    /// against it).
    pub fn with_chain(mut self, chain: IncludeChain) -> Self {
        self.chain = chain;
        self
    }

    /// Runs `load` with `target` entered on the include chain (the one cycle and depth check).
    fn entered<T>(
        &mut self,
        kind: IncludeKind,
        target: &Path,
        shown: &str,
        at: &Location,
        load: impl FnOnce(&mut Self) -> Result<T, PlaybookError>,
    ) -> Result<T, PlaybookError> {
        let inner = self.chain.enter(kind, target, shown, at)?;
        let outer = std::mem::replace(&mut self.chain, inner);
        let result = load(self);
        self.chain = outer;
        result
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
        if parts.len() == 3 {
            // Where `drover galaxy install` puts collections by default (ansible-core's
            // default collections_path), and `collections/` beside the playbook.
            bases.push(self.playbook_dir.join("collections"));
            if let Some(home) = std::env::var_os("HOME") {
                bases.push(PathBuf::from(home).join(".ansible/collections"));
            }
            bases.push(PathBuf::from("/usr/share/ansible/collections"));
        }
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
        self.chain.charge(tasks.len() + 1, &node.loc)?;
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
                        let role = ctx.role.clone();
                        let block = self.entered(
                            IncludeKind::ImportTasks,
                            &path,
                            &path.display().to_string(),
                            &t.location,
                            |r| r.load_tasks_file(&path, role, play),
                        )?;
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
        result.map(|()| out)
    }
}

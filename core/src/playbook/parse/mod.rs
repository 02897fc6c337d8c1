//! Turning YAML nodes into the playbook model, with file:line:col errors for anything unknown.

mod keywords;
mod play;
mod task;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

pub(crate) use keywords::scalar_string;
pub use play::parse_roles;
pub use task::{parse_task, parse_tasks, ENGINE_ACTIONS, WITH_LOOKUPS};

use super::chain::{IncludeChain, IncludeKind};
use super::error::PlaybookError;
use super::model::{Play, Playbook};
use super::resolve::{FileCtx, PlayRoles, Resolver};
use crate::vars::Vars;
use crate::yaml::{self, Node, NodeValue};
use keywords::*;
use play::*;

/// Loads a playbook file (following `import_playbook`), with roles searched only next to it.
pub fn load_playbook(path: &Path) -> Result<Playbook, PlaybookError> {
    load_playbook_with(path, &[])
}

/// Loads a playbook file (following `import_playbook`), resolving roles and static imports;
/// `roles_path` is searched for roles after the playbook's `roles/` directory.
pub fn load_playbook_with(path: &Path, roles_path: &[PathBuf]) -> Result<Playbook, PlaybookError> {
    load_playbook_as(path, roles_path, false)
}

/// Loads a playbook as [`load_playbook_with`] does, but for listing it (`--list-tasks`): a role
/// that a run would skip as a duplicate is expanded again, as ansible-playbook lists it.
pub fn load_playbook_for_listing(
    path: &Path,
    roles_path: &[PathBuf],
) -> Result<Playbook, PlaybookError> {
    load_playbook_as(path, roles_path, true)
}

fn load_playbook_as(
    path: &Path,
    roles_path: &[PathBuf],
    for_listing: bool,
) -> Result<Playbook, PlaybookError> {
    let here = crate::yaml::Location {
        file: std::sync::Arc::from(path.display().to_string().as_str()),
        line: 0,
        col: 0,
    };
    let shown = path.display().to_string();
    let chain = IncludeChain::default().enter(IncludeKind::Playbook, path, &shown, &here)?;
    load_playbook_in(path, roles_path, for_listing, &chain)
}

fn load_playbook_in(
    path: &Path,
    roles_path: &[PathBuf],
    for_listing: bool,
    chain: &IncludeChain,
) -> Result<Playbook, PlaybookError> {
    let root = yaml::parse_file(path)?;
    let dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let dir = if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    };
    playbook_from_root(&root, path, dir, roles_path, for_listing, chain)
}

/// Loads a playbook from YAML text (e.g. the one-task play of `drover run`), with `name` as
/// its file name in messages and `dir` as the directory its relative paths and roles are
/// resolved from.
pub fn load_playbook_str(
    source: &str,
    name: &str,
    dir: &Path,
    roles_path: &[PathBuf],
) -> Result<Playbook, PlaybookError> {
    let root = yaml::parse_str(source, name)?;
    let path = Path::new(name);
    let here = crate::yaml::Location {
        file: std::sync::Arc::from(name),
        line: 0,
        col: 0,
    };
    let chain = IncludeChain::default().enter(IncludeKind::Playbook, path, name, &here)?;
    playbook_from_root(&root, path, dir.to_path_buf(), roles_path, false, &chain)
}

fn playbook_from_root(
    root: &Node,
    path: &Path,
    dir: PathBuf,
    roles_path: &[PathBuf],
    for_listing: bool,
    chain: &IncludeChain,
) -> Result<Playbook, PlaybookError> {
    chain.charge(1 + root.as_seq().map_or(0, <[Node]>::len), &root.loc)?;
    let mut plays = Vec::new();
    let items = match &root.value {
        NodeValue::Seq(items) => items.as_slice(),
        NodeValue::Null => &[],
        _ => {
            return Err(PlaybookError::new(
                &root.loc,
                format!("a playbook must be a list of plays, found {}", root.kind()),
            )
            .with_hint("start each play with '- hosts: ...'"))
        }
    };
    for node in items {
        if let Some(target) = node
            .get("import_playbook")
            .or_else(|| node.get("ansible.builtin.import_playbook"))
        {
            let name = target.as_str().ok_or_else(|| {
                PlaybookError::new(&target.loc, "import_playbook takes a file name")
            })?;
            let target_path = if dir == Path::new(".") {
                PathBuf::from(name)
            } else {
                dir.join(name)
            };
            let shown = target_path.display().to_string();
            let inner = chain.enter(
                IncludeKind::ImportPlaybook,
                &target_path,
                &shown,
                &target.loc,
            )?;
            let mut imported = load_playbook_in(&target_path, roles_path, for_listing, &inner)
                .map_err(|e| {
                    if e.location.line == 0 {
                        PlaybookError::new(&target.loc, format!("cannot import playbook: {e}"))
                    } else {
                        e
                    }
                })?;
            apply_import_keywords(node, &mut imported.plays)?;
            plays.extend(imported.plays);
            continue;
        }
        let mut play = parse_play(node)?;
        resolve_play(&mut play, &dir, roles_path, for_listing, chain)?;
        plays.push(play);
    }
    Ok(Playbook {
        path: path.to_path_buf(),
        dir,
        plays,
        roles_path: roles_path.to_vec(),
    })
}

/// Gives the plays of an `import_playbook` its `vars` (over the plays' own), `tags` (added to
/// the plays') and `when` (before the conditions of the plays' top-level tasks and blocks), as
/// ansible-core's `PlaybookInclude` does.
fn apply_import_keywords(node: &Node, plays: &mut [Play]) -> Result<(), PlaybookError> {
    let tags = match node.get("tags") {
        Some(t) => string_list(t, "tags", true)?,
        None => Vec::new(),
    };
    let vars = match node.get("vars") {
        Some(v) => vars_map(v)?,
        None => Vars::new(),
    };
    let when = node.get("when").map(conditions).unwrap_or_default();
    for play in plays {
        crate::vars::merge_into(&mut play.keywords.vars, &vars);
        for t in &tags {
            if !play.keywords.tags.contains(t) {
                play.keywords.tags.push(t.clone());
            }
        }
        if when.is_empty() {
            continue;
        }
        for list in [
            &mut play.pre_tasks,
            &mut play.roles,
            &mut play.tasks,
            &mut play.post_tasks,
        ] {
            for task in list.iter_mut() {
                let mut w = when.clone();
                w.append(&mut task.keywords.when);
                task.keywords.when = w;
            }
        }
    }
    Ok(())
}

/// Resolves a play's roles and static imports in place.
fn resolve_play(
    play: &mut Play,
    dir: &Path,
    roles_path: &[PathBuf],
    for_listing: bool,
    chain: &IncludeChain,
) -> Result<(), PlaybookError> {
    // The play's imports continue the playbook's chain: one depth limit and one task budget.
    let mut resolver = Resolver::new(dir, roles_path).with_chain(chain.clone());
    if for_listing {
        resolver = resolver.for_listing_only();
    }
    let mut collected = PlayRoles::default();
    let ctx = FileCtx {
        dir: dir.to_path_buf(),
        role: None,
    };
    // Roles load first (they run before `tasks`).
    play.roles = resolver.resolve_tasks(std::mem::take(&mut play.roles), &ctx, &mut collected)?;
    for list in [
        &mut play.pre_tasks,
        &mut play.tasks,
        &mut play.post_tasks,
        &mut play.handlers,
    ] {
        *list = resolver.resolve_tasks(std::mem::take(list), &ctx, &mut collected)?;
    }
    // Role handlers come first, as ansible-core compiles them before the play's own.
    let own = std::mem::replace(&mut play.handlers, collected.handlers);
    play.handlers.extend(own);
    play.role_defaults = collected.defaults;
    play.role_vars = collected.vars;
    Ok(())
}

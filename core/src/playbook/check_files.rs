//! Static check of controller-side files: the literal files a module's arguments name (its
//! parameters marked `local_file`: `copy`'s and `template`'s `src`, …; see
//! [`Module::controller_files`]), a literal `include_vars` file, and literal `vars_files` must
//! exist where Ansible would look for them, or the run stops before any host is touched.

use std::path::{Path, PathBuf};

use super::error::PlaybookError;
use super::model::{Play, Playbook, Task, TaskKind};
use crate::module::{ControllerFile, Module};
use crate::template::Templar;

/// The file a task reads on the controller, as its module describes it.
fn controller_file(task: &Task, module: &dyn Module) -> Option<ControllerFile> {
    let TaskKind::Module { args, .. } = &task.kind else {
        return None;
    };
    module
        .controller_files(args.as_object()?)
        .into_iter()
        .next()
}

/// Where Ansible looks for a relative `name` used by `task` (role `files/`-style subdirectory,
/// the role, the including file's directory, the playbook's directory).
pub(super) fn search_paths(
    task: &Task,
    playbook_dir: &Path,
    subdir: &str,
    name: &str,
) -> Vec<PathBuf> {
    let mut bases: Vec<PathBuf> = Vec::new();
    if let Some(r) = &task.role {
        bases.push(r.path.clone());
        bases.push(r.path.join("tasks"));
    }
    if let Some(dir) = Path::new(&*task.location.file).parent() {
        bases.push(dir.to_path_buf());
        if let Some(up) = dir.parent() {
            bases.push(up.to_path_buf());
        }
    }
    bases.push(playbook_dir.to_path_buf());
    let mut out = Vec::new();
    for b in bases {
        for candidate in [b.join(subdir).join(name), b.join(name)] {
            if !out.contains(&candidate) {
                out.push(candidate);
            }
        }
    }
    out
}

/// The error for `task` if it reads a literal controller file that exists nowhere.
pub(super) fn missing_source(
    task: &Task,
    module: &dyn Module,
    playbook_dir: &Path,
) -> Option<PlaybookError> {
    let ControllerFile {
        key,
        path: name,
        kind: subdir,
    } = controller_file(task, module)?;
    let candidates = if let Some(home) = crate::template::home_relative(&name) {
        vec![home]
    } else if Path::new(&name).is_absolute() {
        vec![PathBuf::from(&name)]
    } else {
        search_paths(task, playbook_dir, subdir, &name)
    };
    if candidates.iter().any(|p| p.exists()) {
        return None;
    }
    let location = task
        .arg_locations
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, l)| l)
        .or(task.module_location.as_ref())
        .unwrap_or(&task.location);
    let looked: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
    Some(
        PlaybookError::new(location, format!("could not find the file '{name}'")).with_hint(
            format!(
                "looked in: {}; put it in the role's or playbook's {subdir}/ directory",
                looked.join(", ")
            ),
        ),
    )
}

/// Errors for literal `vars_files` of `play` that do not exist (relative to the playbook), at
/// the entry, or that cannot be read or parsed.
pub(super) fn missing_vars_files(play: &Play, playbook: &Playbook) -> Vec<PlaybookError> {
    play.vars_files
        .iter()
        .enumerate()
        .filter(|(_, alts)| !alts.iter().any(|name| Templar::is_template(name)))
        .filter_map(|(i, alts)| {
            let at = play.vars_files_at.get(i).unwrap_or(&play.location);
            if let Some(found) = super::vars_files::first_existing(&playbook.dir, alts) {
                return super::load_vars_path(&found).err().map(|e| {
                    if e.location.line == 0 {
                        PlaybookError::new(at, format!("vars_files: {}", e.message))
                    } else {
                        e
                    }
                });
            }
            let name = alts.first()?;
            let path = playbook.dir.join(name);
            Some(
                PlaybookError::new(
                    at,
                    format!(
                        "vars_files: could not find the file '{}'",
                        alts.join("', '")
                    ),
                )
                .with_hint(format!(
                    "looked in: {}; vars_files are relative to the playbook's directory",
                    path.display()
                )),
            )
        })
        .collect()
}

/// True if a task may create controller-side files during the run (`delegate_to: localhost`,
/// `local_action`, `connection: local`, `fetch`): then missing files are not reported, since
/// they may exist by the time they are read.
pub(super) fn may_create_controller_files(task: &Task) -> bool {
    let local = |s: &str| matches!(s, "localhost" | "127.0.0.1" | "::1") || Templar::is_template(s);
    if task.delegate_to.as_deref().is_some_and(local)
        || task.keywords.connection.as_deref() == Some("local")
    {
        return true;
    }
    match &task.kind {
        TaskKind::Module { module, .. } => {
            matches!(
                module.rsplit('.').next().unwrap_or(module),
                "fetch" | "local_action" | "get_url" | "uri" | "archive"
            )
        }
        TaskKind::Block {
            block,
            rescue,
            always,
        } => [block, rescue, always]
            .into_iter()
            .flatten()
            .any(may_create_controller_files),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::module::{ModuleContext, ModuleError, ModuleRegistry, ModuleResult, TypedModule};
    use crate::params::ModuleParams;
    use crate::playbook::load_playbook_with;
    use serde::Deserialize;
    use std::sync::Arc;

    /// `copy`-like arguments: a local `src` unless `remote_src`.
    #[derive(Deserialize, ModuleParams)]
    #[allow(dead_code)]
    struct FromFiles {
        /// Source.
        #[serde(default)]
        #[param(local_file = "files", unless = "remote_src")]
        src: Option<String>,
        /// Destination.
        dest: String,
        /// Whether `src` is on the host.
        #[serde(default)]
        remote_src: Option<crate::vars::Value>,
    }

    /// `template`-like arguments.
    #[derive(Deserialize, ModuleParams)]
    #[allow(dead_code)]
    struct FromTemplates {
        /// Source.
        #[param(local_file = "templates")]
        src: String,
        /// Destination.
        dest: String,
    }

    /// `include_vars`-like arguments.
    #[derive(Deserialize, ModuleParams)]
    #[allow(dead_code)]
    struct FromVars {
        /// Source.
        #[serde(rename = "_raw_params")]
        #[param(local_file = "vars")]
        raw: String,
    }

    struct Copy;
    struct Template;
    struct IncludeVars;

    #[async_trait::async_trait]
    impl TypedModule for IncludeVars {
        const NAME: &'static str = "include_vars";
        type Params = FromVars;
        async fn run_with(
            &self,
            _ctx: &ModuleContext<'_>,
            _p: FromVars,
        ) -> Result<ModuleResult, ModuleError> {
            Ok(ModuleResult::ok())
        }
    }

    #[async_trait::async_trait]
    impl TypedModule for Copy {
        const NAME: &'static str = "copy";
        type Params = FromFiles;
        async fn run_with(
            &self,
            _ctx: &ModuleContext<'_>,
            _p: FromFiles,
        ) -> Result<ModuleResult, ModuleError> {
            Ok(ModuleResult::ok())
        }
    }

    #[async_trait::async_trait]
    impl TypedModule for Template {
        const NAME: &'static str = "template";
        type Params = FromTemplates;
        async fn run_with(
            &self,
            _ctx: &ModuleContext<'_>,
            _p: FromTemplates,
        ) -> Result<ModuleResult, ModuleError> {
            Ok(ModuleResult::ok())
        }
    }

    fn registry() -> ModuleRegistry {
        let mut r = ModuleRegistry::new();
        r.register(Arc::new(Copy));
        r.alias("unarchive", "copy");
        r.register(Arc::new(Template));
        r.register(Arc::new(IncludeVars));
        r
    }

    fn missing(task: &Task, dir: &Path) -> Option<PlaybookError> {
        let registry = registry();
        match &task.kind {
            TaskKind::Module { module, .. } => {
                missing_source(task, registry.get(module)?.as_ref(), dir)
            }
            _ => None,
        }
    }

    fn playbook_in(dir: &Path, yaml: &str) -> Playbook {
        let path = dir.join("site.yml");
        std::fs::write(&path, yaml).unwrap();
        load_playbook_with(&path, &[]).unwrap()
    }

    fn errors(pb: &Playbook) -> Vec<String> {
        let mut out = Vec::new();
        for play in &pb.plays {
            out.extend(
                missing_vars_files(play, pb)
                    .iter()
                    .map(|e| format!("{}: {}", e.location, e.message)),
            );
            for t in &play.tasks {
                if let Some(e) = missing(t, &pb.dir) {
                    out.push(format!("{}: {}", e.location, e.message));
                }
            }
        }
        out
    }

    #[test]
    fn missing_literal_sources_are_found_with_their_location() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("files")).unwrap();
        std::fs::write(dir.path().join("files/present.txt"), "x").unwrap();
        std::fs::write(dir.path().join("t.j2"), "x").unwrap();
        let pb = playbook_in(
            dir.path(),
            "- hosts: all\n  vars_files: [nope.yml, \"{{ x }}.yml\"]\n  tasks:\n    - copy:\n        src: present.txt\n        dest: /tmp/a\n    - copy:\n        src: absent.txt\n        dest: /tmp/a\n    - template: src=t.j2 dest=/tmp/b\n    - template: src=\"{{ t }}.j2\" dest=/tmp/b\n    - unarchive:\n        src: gone.tgz\n        dest: /tmp\n        remote_src: true\n    - script: missing.sh --flag\n    - include_vars: missing.yml\n",
        );
        let errs = errors(&pb);
        let site = dir.path().join("site.yml").display().to_string();
        assert_eq!(
            errs,
            vec![
                format!("{site}:2:16: vars_files: could not find the file 'nope.yml'"),
                format!("{site}:8:9: could not find the file 'absent.txt'"),
                format!("{site}:17:7: could not find the file 'missing.yml'"),
            ]
        );
    }

    #[test]
    fn home_relative_sources_are_looked_for_in_the_home_directory() {
        let dir = tempfile::tempdir().unwrap();
        // A `files/~/...` next to the playbook is not where Ansible looks for `~/...`.
        std::fs::create_dir_all(dir.path().join("files/~")).unwrap();
        std::fs::write(dir.path().join("files/~/drover-no-such-file"), "x").unwrap();
        let pb = playbook_in(
            dir.path(),
            "- hosts: all\n  tasks:\n    - copy:\n        src: \"~\"\n        dest: /tmp/a\n    - copy:\n        src: ~/drover-no-such-file\n        dest: /tmp/a\n",
        );
        let task = &pb.plays[0].tasks[1];
        let e = missing(task, &pb.dir).expect("~/... is not searched near the playbook");
        let home = crate::template::home_relative("~").unwrap();
        let hint = e.hint.clone().unwrap_or_default();
        assert!(
            hint.contains(&home.join("drover-no-such-file").display().to_string()),
            "{hint}"
        );
        assert!(missing(&pb.plays[0].tasks[0], &pb.dir).is_none());
    }
}

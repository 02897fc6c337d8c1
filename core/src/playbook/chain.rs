//! The one cycle-and-depth guard every import and include goes through: `import_playbook`,
//! `import_tasks`, `include_tasks`, `import_role`/`roles:`, `include_role` and role dependencies.
//!
//! A chain records how the content being loaded was reached. Entering a file or role that is
//! already being loaded statically (since the last run-time include) is a cycle; a chain longer
//! than [`crate::limits::max_include_depth`] is refused. Both errors name the whole chain.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::error::PlaybookError;
use crate::limits::{
    max_include_depth, max_loaded_tasks, INCLUDE_DEPTH_CEILING, MAX_INCLUDE_DEPTH_ENV,
    MAX_LOADED_TASKS_ENV,
};
use crate::yaml::Location;

/// How a file or role entered the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeKind {
    /// The playbook named on the command line.
    Playbook,
    /// `import_playbook`.
    ImportPlaybook,
    /// `import_tasks`.
    ImportTasks,
    /// `include_tasks` (evaluated at run time).
    IncludeTasks,
    /// `import_role` or a play's `roles:` entry.
    ImportRole,
    /// `include_role` (evaluated at run time).
    IncludeRole,
    /// A role's `meta/main.yml` dependency.
    RoleDependency,
}

impl IncludeKind {
    /// The keyword, as the user wrote it.
    pub fn keyword(self) -> &'static str {
        match self {
            Self::Playbook => "playbook",
            Self::ImportPlaybook => "import_playbook",
            Self::ImportTasks => "import_tasks",
            Self::IncludeTasks => "include_tasks",
            Self::ImportRole => "import_role",
            Self::IncludeRole => "include_role",
            Self::RoleDependency => "role dependency",
        }
    }

    /// Whether the content is loaded at run time (and may legitimately recurse under a condition).
    pub fn is_dynamic(self) -> bool {
        matches!(self, Self::IncludeTasks | Self::IncludeRole)
    }
}

#[derive(Debug)]
struct Link {
    kind: IncludeKind,
    /// Canonical identity of the file or role entry point (cycle detection).
    key: PathBuf,
    /// How it is shown in messages.
    shown: String,
    /// Where the import or include was written.
    at: Location,
}

/// The imports and includes that led to the content being loaded (cheap to clone).
#[derive(Debug, Clone, Default)]
pub struct IncludeChain {
    links: Vec<Arc<Link>>,
    /// Tasks and plays loaded so far from the chain's root (shared by every extension).
    loaded: Arc<AtomicUsize>,
}

fn identity(target: &Path) -> PathBuf {
    std::fs::canonicalize(target).unwrap_or_else(|_| target.to_path_buf())
}

impl IncludeChain {
    /// Counts `n` tasks (or plays) loaded at `at` against the loaded-tasks limit of the chain's
    /// root.
    pub fn charge(&self, n: usize, at: &Location) -> Result<(), PlaybookError> {
        let total = self
            .loaded
            .fetch_add(n, Ordering::Relaxed)
            .saturating_add(n);
        let limit = max_loaded_tasks();
        if total <= limit {
            return Ok(());
        }
        let via = self.links.last().map(|l| show(l)).unwrap_or_default();
        Err(PlaybookError::new(
            at,
            format!(
                "the imports load more than {limit} tasks in total (set {MAX_LOADED_TASKS_ENV} \
                 to raise the limit); the last file came through {via}"
            ),
        )
        .with_hint("files that import each other many times over multiply their tasks; import each file once"))
    }

    /// How many links the chain has.
    pub fn depth(&self) -> usize {
        self.links.len()
    }

    /// The chain extended by `target` (a file, or a role's entry file) reached by `kind` at `at`.
    /// `shown` names it in messages. Fails on a static cycle or when the chain is too deep.
    pub fn enter(
        &self,
        kind: IncludeKind,
        target: &Path,
        shown: &str,
        at: &Location,
    ) -> Result<IncludeChain, PlaybookError> {
        let link = Arc::new(Link {
            kind,
            key: identity(target),
            shown: shown.to_string(),
            at: at.clone(),
        });
        if !kind.is_dynamic() {
            // Only content loaded statically since the last run-time include can form a cycle:
            // a run-time include may recurse under a condition (the depth limit still applies).
            for (i, l) in self.links.iter().enumerate().rev() {
                if l.key == link.key {
                    let mut cycle: Vec<String> = self.links[i..].iter().map(|l| show(l)).collect();
                    cycle.push(format!("{} again", show(&link)));
                    return Err(PlaybookError::new(
                        at,
                        format!(
                            "{} cycle: {} is already being loaded: {}",
                            kind.keyword(),
                            link.shown,
                            cycle.join(" → ")
                        ),
                    )
                    .with_hint(
                        "remove the import that leads back to a file or role already on this chain",
                    ));
                }
                if l.kind.is_dynamic() {
                    break;
                }
            }
        }
        let limit = max_include_depth();
        if self.links.len() >= limit {
            let mut all: Vec<String> = self.links.iter().map(|l| show(l)).collect();
            all.push(show(&link));
            if all.len() > 8 {
                let tail = all.split_off(all.len() - 4);
                all.truncate(4);
                all.push(format!("… {} more …", limit + 1 - 8));
                all.extend(tail);
            }
            return Err(PlaybookError::new(
                at,
                format!(
                    "imports and includes nest deeper than {limit} levels \
                     ({MAX_INCLUDE_DEPTH_ENV}, at most {INCLUDE_DEPTH_CEILING}): {}",
                    all.join(" → ")
                ),
            )
            .with_hint("a file that includes itself needs a condition that ends the recursion"));
        }
        let mut links = self.links.clone();
        links.push(link);
        Ok(IncludeChain {
            links,
            loaded: self.loaded.clone(),
        })
    }
}

fn show(l: &Link) -> String {
    if l.kind == IncludeKind::Playbook {
        return l.shown.clone();
    }
    format!("{} ({} at {})", l.shown, l.kind.keyword(), l.at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(line: usize) -> Location {
        Location {
            file: Arc::from("a.yml"),
            line,
            col: 3,
        }
    }

    #[test]
    fn static_cycle_names_the_chain() {
        let c = IncludeChain::default()
            .enter(IncludeKind::Playbook, Path::new("a.yml"), "a.yml", &loc(0))
            .unwrap()
            .enter(
                IncludeKind::ImportPlaybook,
                Path::new("b.yml"),
                "b.yml",
                &loc(1),
            )
            .unwrap();
        let e = c
            .enter(
                IncludeKind::ImportPlaybook,
                Path::new("a.yml"),
                "a.yml",
                &loc(2),
            )
            .unwrap_err();
        assert!(e.message.starts_with("import_playbook cycle: a.yml"), "{e}");
        assert!(
            e.message.contains("a.yml → b.yml (import_playbook at a.yml:1:3) → a.yml (import_playbook at a.yml:2:3) again"),
            "{e}"
        );
    }

    #[test]
    fn loaded_tasks_are_budgeted_across_the_chain() {
        let root = IncludeChain::default();
        let child = root
            .enter(
                IncludeKind::ImportTasks,
                Path::new("x.yml"),
                "x.yml",
                &loc(1),
            )
            .unwrap();
        root.charge(max_loaded_tasks() - 1, &loc(1)).unwrap();
        let e = child.charge(2, &loc(2)).unwrap_err();
        assert!(e.message.contains("more than 200000 tasks"), "{e}");
        assert!(
            e.message.contains("x.yml (import_tasks at a.yml:1:3)"),
            "{e}"
        );
    }

    #[test]
    fn dynamic_recursion_stops_at_the_depth_limit() {
        let mut c = IncludeChain::default();
        let mut err = None;
        for i in 0..1000 {
            match c.enter(
                IncludeKind::IncludeTasks,
                Path::new("r.yml"),
                "r.yml",
                &loc(i),
            ) {
                Ok(next) => c = next,
                Err(e) => {
                    err = Some(e);
                    break;
                }
            }
        }
        let e = err.expect("the depth limit stops the recursion");
        assert_eq!(c.depth(), max_include_depth());
        assert!(e.message.contains("nest deeper than"), "{e}");
        assert!(
            e.message.contains("r.yml (include_tasks at a.yml:64:3)"),
            "{e}"
        );
        assert!(e.message.contains("… 57 more …"), "{e}");
    }
}

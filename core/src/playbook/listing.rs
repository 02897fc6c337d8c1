//! `--list-tasks` and `--list-tags` output, in ansible-playbook's layout (scripts parse it).

use std::collections::BTreeSet;
use std::fmt::Write;

use super::model::{Keywords, Play, Playbook, Task, TaskKind};
use super::tags::tags_select;

/// One listed task: its shown name and sorted tags (inherited ones included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedTask {
    /// `role : name` or `name`.
    pub name: String,
    /// Sorted, de-duplicated tags.
    pub tags: Vec<String>,
}

fn sorted(tags: &[String]) -> Vec<String> {
    tags.iter()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn collect(tasks: &[Task], parent: &Keywords, out: &mut Vec<ListedTask>) {
    for t in tasks {
        let kw = t.keywords.inherit(parent);
        match &t.kind {
            TaskKind::Block {
                block,
                rescue,
                always,
            } => {
                for list in [block, rescue, always] {
                    collect(list, &kw, out);
                }
            }
            TaskKind::Meta(_) | TaskKind::ImportTasks { .. } | TaskKind::ImportRole(_) => {}
            _ => out.push(ListedTask {
                name: t.with_role_prefix(t.display_name()),
                tags: sorted(&kw.tags),
            }),
        }
    }
}

/// Every task of a play in run order, with its effective tags.
pub fn play_tasks(play: &Play) -> Vec<ListedTask> {
    let mut out = Vec::new();
    let kw = Keywords {
        tags: play.keywords.tags.clone(),
        ..Keywords::default()
    };
    for list in [&play.pre_tasks, &play.roles, &play.tasks, &play.post_tasks] {
        collect(list, &kw, &mut out);
    }
    out
}

/// The header line of a play: `  play #1 (hosts): name<TAB>TAGS: [..]`.
pub fn play_header(index: usize, play: &Play) -> String {
    format!(
        "  play #{} ({}): {}\tTAGS: [{}]",
        index + 1,
        play.hosts,
        play.name,
        sorted(&play.keywords.tags).join(", ")
    )
}

/// `--list-tasks` text for a playbook, filtered by `--tags`/`--skip-tags`.
pub fn list_tasks(pb: &Playbook, only: &[String], skip: &[String]) -> String {
    let mut s = format!("\nplaybook: {}\n", pb.path.display());
    for (i, play) in pb.plays.iter().enumerate() {
        let _ = writeln!(s, "\n{}", play_header(i, play));
        let _ = writeln!(s, "    tasks:");
        for t in play_tasks(play) {
            if tags_select(&t.tags, only, skip) {
                let _ = writeln!(s, "      {}\tTAGS: [{}]", t.name, t.tags.join(", "));
            }
        }
    }
    s
}

/// `--list-tags` text for a playbook.
pub fn list_tags(pb: &Playbook, only: &[String], skip: &[String]) -> String {
    let mut s = format!("\nplaybook: {}\n", pb.path.display());
    for (i, play) in pb.plays.iter().enumerate() {
        let mut all = BTreeSet::new();
        let filtered = !only.is_empty() || !skip.is_empty();
        for t in play_tasks(play) {
            if !filtered || tags_select(&t.tags, only, skip) {
                all.extend(t.tags);
            }
        }
        let _ = writeln!(s, "\n{}", play_header(i, play));
        let _ = writeln!(
            s,
            "      TASK TAGS: [{}]",
            all.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    s
}

//! `--list-tasks`, `--list-tags` and `--list-hosts` output, byte for byte as ansible-playbook
//! prints it (scripts parse it).
//!
//! What ansible-core 2.19 does, and so what this does:
//! - only the `block` part of blocks is listed (never `rescue`/`always`), in run order:
//!   `pre_tasks`, `roles:`, `tasks`, `post_tasks`; handlers are not listed;
//! - `import_tasks`, `import_role`, `roles:` and role dependencies are expanded, every occurrence
//!   of a role included (a run skips duplicates; the listing does not); `include_tasks` and
//!   `include_role` are listed as themselves and their targets are not read;
//! - a named task is `role : name` inside a role and `name` elsewhere, untemplated (a named
//!   `include_role` never has the prefix); an unnamed task is its action as written (`debug`,
//!   `ansible.builtin.include_tasks`), without prefix;
//! - tags accumulate from the play, roles, imports and blocks; they are templated (with the
//!   play's variables) before `--tags`/`--skip-tags` select tasks; the play header shows the
//!   play's own tags untemplated, joined with `,` (ansible-core prints a Python set there: its
//!   order varies from run to run, drover sorts);
//! - the play name and `hosts` are templated with what is known before the play runs: extra
//!   vars, play `vars`, `vars_prompt` defaults, `vars_files`, the play's roles' defaults and
//!   vars, and the magic variables (`groups`, `playbook_dir`, …); an unnamed play is named
//!   after its `hosts` entries joined with `,`.

use std::collections::BTreeSet;
use std::fmt::Write;

use super::error::PlaybookError;
use super::listing_vars::{play_vars, py_list_repr, value_text};
use super::model::{Play, Playbook, Task, TaskKind};
use super::parse::ENGINE_ACTIONS;
use super::tags::tags_select;
use crate::inventory::{Inventory, Limit};
use crate::module::ModuleRegistry;
use crate::template::Templar;
use crate::vars::{Value, Vars};

/// What to list, and the command line that shapes it.
#[derive(Debug, Clone, Copy)]
pub struct ListRequest<'a> {
    /// `--list-tasks`.
    pub tasks: bool,
    /// `--list-tags`.
    pub tags: bool,
    /// `--list-hosts`.
    pub hosts: bool,
    /// `--tags` (empty: all).
    pub only_tags: &'a [String],
    /// `--skip-tags`.
    pub skip_tags: &'a [String],
    /// `--extra-vars`.
    pub extra_vars: &'a Vars,
    /// The inventory (`groups`, and the hosts `--list-hosts` shows).
    pub inventory: &'a Inventory,
    /// `--limit`.
    pub limit: Option<&'a Limit>,
}

impl ListRequest<'_> {
    /// The `--tags` in effect: `--list-tags` without `--tags`/`--skip-tags` lists every tag,
    /// `never` included, as ansible-playbook does (for `--list-tasks` in the same run too).
    fn only(&self) -> Vec<String> {
        if self.tags && self.only_tags.is_empty() && self.skip_tags.is_empty() {
            vec!["never".into(), "all".into()]
        } else {
            self.only_tags.to_vec()
        }
    }
}

/// One listed task: its shown name and its sorted, templated tags (inherited ones included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedTask {
    /// `role : name`, `name`, or the action of an unnamed task.
    pub name: String,
    /// Sorted, de-duplicated tags.
    pub tags: Vec<String>,
}

/// A play as the listing shows it: templated name and hosts, and the tasks `--tags` selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedPlay {
    /// The templated name.
    pub name: String,
    /// The templated `hosts` entries.
    pub hosts: Vec<String>,
    /// The play's own tags, untemplated, sorted.
    pub tags: Vec<String>,
    /// The selected tasks in run order.
    pub tasks: Vec<ListedTask>,
}

fn sorted(tags: impl IntoIterator<Item = String>) -> Vec<String> {
    tags.into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn template_error(play: &Play, what: &str, e: impl std::fmt::Display) -> PlaybookError {
    PlaybookError::new(
        &play.location,
        format!("Error processing keyword '{what}': {e}"),
    )
}

struct Walker<'a> {
    templar: &'a Templar,
    vars: &'a Vars,
    play: &'a Play,
    only: &'a [String],
    skip: &'a [String],
    out: Vec<ListedTask>,
}

impl Walker<'_> {
    /// Templates tags as ansible-core does before selecting: each entry, a list flattened.
    fn template_tags(&self, tags: &[String]) -> Result<Vec<String>, PlaybookError> {
        let mut out = Vec::with_capacity(tags.len());
        for t in tags {
            if !Templar::is_template(t) {
                out.push(t.clone());
                continue;
            }
            match self
                .templar
                .render_value(&Value::String(t.clone()), self.vars)
                .map_err(|e| template_error(self.play, "tags", e))?
            {
                Value::Array(items) => {
                    out.extend(items.iter().map(|v| value_text(self.templar, v)))
                }
                v => out.push(value_text(self.templar, &v)),
            }
        }
        Ok(sorted(out))
    }

    fn walk(&mut self, tasks: &[Task], parent_tags: &[String]) -> Result<(), PlaybookError> {
        for t in tasks {
            let mut tags = parent_tags.to_vec();
            tags.extend(t.keywords.tags.iter().cloned());
            match &t.kind {
                // ansible-playbook lists the `block` part only.
                TaskKind::Block { block, .. } => self.walk(block, &tags)?,
                // Resolved at load time; nothing of them is left to list.
                TaskKind::ImportTasks { .. } | TaskKind::ImportRole(_) => {}
                TaskKind::Module { .. }
                | TaskKind::Meta(_)
                | TaskKind::IncludeTasks { .. }
                | TaskKind::IncludeRole { .. } => {
                    let tags = self.template_tags(&tags)?;
                    if tags_select(&tags, self.only, self.skip) {
                        let name = match (&t.name, &t.kind) {
                            // ansible-core's IncludeRole.get_name() has no role prefix.
                            (Some(n), TaskKind::IncludeRole { .. }) if !n.is_empty() => n.clone(),
                            (Some(n), _) if !n.is_empty() => t.with_role_prefix(n.clone()),
                            _ => t.action.clone(),
                        };
                        self.out.push(ListedTask { name, tags });
                    }
                }
            }
        }
        Ok(())
    }
}

/// The play as listed: templated name and hosts, and the tasks selected by `req`'s tags.
pub fn list_play(
    pb: &Playbook,
    play: &Play,
    req: &ListRequest<'_>,
) -> Result<ListedPlay, PlaybookError> {
    let templar = Templar::new();
    let vars = play_vars(pb, play, req.inventory, req.extra_vars);
    let mut hosts = Vec::new();
    for h in &play.hosts_list {
        match templar
            .render_value(&Value::String(h.clone()), &vars)
            .map_err(|e| template_error(play, "hosts", e))?
        {
            Value::Array(items) => hosts.extend(items.iter().map(|v| value_text(&templar, v))),
            v => hosts.push(value_text(&templar, &v)),
        }
    }
    let name = templar
        .render_str(&play.name, &vars)
        .map_err(|e| template_error(play, "name", e))?;
    let only = req.only();
    let mut walker = Walker {
        templar: &templar,
        vars: &vars,
        play,
        only: &only,
        skip: req.skip_tags,
        out: Vec::new(),
    };
    let play_tags = play.keywords.tags.clone();
    for list in [&play.pre_tasks, &play.roles, &play.tasks, &play.post_tasks] {
        walker.walk(list, &play_tags)?;
    }
    Ok(ListedPlay {
        name,
        hosts,
        tags: sorted(play_tags),
        tasks: walker.out,
    })
}

/// The listing of one playbook (`playbook` is its path as given on the command line).
pub fn render(
    playbook: &str,
    pb: &Playbook,
    req: &ListRequest<'_>,
) -> Result<String, PlaybookError> {
    let templar = Templar::new();
    let mut s = format!("\nplaybook: {playbook}\n");
    for (i, play) in pb.plays.iter().enumerate() {
        let listed = list_play(pb, play, req)?;
        let _ = write!(
            s,
            "\n  play #{} ({}): {}\tTAGS: [{}]",
            i + 1,
            listed.hosts.join(","),
            listed.name,
            listed.tags.join(",")
        );
        if req.hosts {
            let selected = req
                .inventory
                .select_patterns(&listed.hosts)
                .and_then(|h| match req.limit {
                    Some(l) => req.inventory.apply_limit(&h, l),
                    None => Ok(h),
                })
                .map_err(|e| PlaybookError::new(&play.location, e.to_string()))?;
            let _ = write!(
                s,
                "\n    pattern: {}\n    hosts ({}):",
                py_list_repr(&templar, &listed.hosts),
                selected.len()
            );
            for h in selected {
                let _ = write!(s, "\n      {h}");
            }
        }
        s.push('\n');
        if req.tasks {
            s.push_str("    tasks:\n");
            for t in &listed.tasks {
                // ansible-playbook adds the play's tags as written to the templated ones.
                let tags = sorted(listed.tags.iter().chain(&t.tags).cloned());
                let _ = writeln!(s, "      {}\tTAGS: [{}]", t.name, tags.join(", "));
            }
        }
        if req.tags {
            let all = sorted(
                listed
                    .tags
                    .iter()
                    .cloned()
                    .chain(listed.tasks.iter().flat_map(|t| t.tags.iter().cloned())),
            );
            let _ = writeln!(s, "      TASK TAGS: [{}]", all.join(", "));
        }
    }
    Ok(s)
}

/// Modules a listing cannot resolve (ansible-playbook stops on them too). Arguments are not
/// checked, nor are the targets of `include_tasks`/`include_role`; modules drover knows of but
/// does not implement are listed.
pub fn unresolved_modules(pb: &Playbook, registry: &ModuleRegistry) -> Vec<PlaybookError> {
    fn walk(tasks: &[Task], registry: &ModuleRegistry, out: &mut Vec<PlaybookError>) {
        for t in tasks {
            match &t.kind {
                TaskKind::Block {
                    block,
                    rescue,
                    always,
                } => {
                    for list in [block, rescue, always] {
                        walk(list, registry, out);
                    }
                }
                TaskKind::Module { module, .. }
                    if !ENGINE_ACTIONS.contains(&module.rsplit('.').next().unwrap_or(module))
                        // The implicit first task of roles with an argument spec.
                        && module.rsplit('.').next() != Some("validate_argument_spec")
                        && registry.get(module).is_none()
                        && !registry.is_known_unimplemented(module) =>
                {
                    out.push(
                        PlaybookError::new(
                            t.module_location.as_ref().unwrap_or(&t.location),
                            format!("couldn't resolve module/action '{module}'"),
                        )
                        .with_hint(
                            "check the spelling, or whether this is a task keyword at the wrong indentation",
                        ),
                    );
                }
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    for play in &pb.plays {
        for list in [
            &play.pre_tasks,
            &play.roles,
            &play.tasks,
            &play.post_tasks,
            &play.handlers,
        ] {
            walk(list, registry, &mut out);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbook::load_playbook_for_listing;

    fn write(path: &std::path::Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn lists_block_parts_role_occurrences_and_includes_as_themselves() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(
            &d.join("roles/r/tasks/main.yml"),
            "- name: r task\n  debug: msg=1\n- command: echo\n",
        );
        write(
            &d.join("site.yml"),
            "- hosts: [web, db]\n  name: \"{{ title | default('t') }} {{ v }}\"\n  vars: {v: play}\n  roles: [r, r]\n  tasks:\n    - block:\n        - name: in block\n          debug: msg=1\n      rescue:\n        - name: in rescue\n          debug: msg=1\n      tags: b\n    - include_tasks: missing.yml\n    - name: named include\n      include_role: name=missing\n",
        );
        let pb = load_playbook_for_listing(&d.join("site.yml"), &[]).unwrap();
        let inventory = Inventory::from_ini_str("[web]\nw1\n", "hosts").unwrap();
        let mut extra = Vars::new();
        extra.insert("title".into(), Value::String("X".into()));
        let req = ListRequest {
            tasks: true,
            tags: false,
            hosts: false,
            only_tags: &[],
            skip_tags: &[],
            extra_vars: &extra,
            inventory: &inventory,
            limit: None,
        };
        let listed = list_play(&pb, &pb.plays[0], &req).unwrap();
        assert_eq!(listed.name, "X play");
        assert_eq!(listed.hosts, vec!["web", "db"]);
        let names: Vec<&str> = listed.tasks.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "r : r task",
                "command",
                "r : r task",
                "command",
                "in block",
                "include_tasks",
                "named include"
            ]
        );
        assert_eq!(listed.tasks[4].tags, vec!["b"]);
        let text = render("site.yml", &pb, &req).unwrap();
        assert!(text.starts_with(
            "\nplaybook: site.yml\n\n  play #1 (web,db): X play\tTAGS: []\n    tasks:\n"
        ));
    }
}

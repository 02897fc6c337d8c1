//! Running a list of tasks in order: selection by tags, `--start-at-task` and `--step`, and
//! blocks with their `rescue` and `always` sections.

use super::read_ahead::Upcoming;
use super::{Executor, PlayCtx};
use crate::playbook::{tags_select, Keywords, Task, TaskKind};

impl Executor {
    pub(super) async fn run_list(
        &self,
        ctx: &PlayCtx<'_>,
        tasks: &[Task],
        parent: &Keywords,
        hosts: &[String],
    ) {
        let all_hosts = hosts;
        for (index, task) in tasks.iter().enumerate() {
            if self.active_hosts(all_hosts).is_empty() {
                return;
            }
            let hosts = &self.hosts_past_end_role(task, all_hosts);
            if hosts.is_empty() {
                continue;
            }
            let kw = task.keywords.inherit(parent);
            match &task.kind {
                TaskKind::Block {
                    block,
                    rescue,
                    always,
                } => {
                    let mut kw = kw;
                    kw.when.extend(task.when.iter().cloned());
                    Box::pin(self.run_block(ctx, &kw, block, rescue, always, hosts)).await
                }
                TaskKind::Meta(action) => {
                    if self.tags_allow(&kw) && self.reached_start(task) {
                        self.run_meta(ctx, task, &kw, action, hosts).await
                    }
                }
                TaskKind::Module { .. } => {
                    if self.tags_allow(&kw) && self.reached_start(task) && self.step_allows(task) {
                        let upcoming = Upcoming {
                            tasks: &tasks[index + 1..],
                            parent,
                        };
                        self.run_task(ctx, task, &kw, hosts, false, Some(upcoming))
                            .await
                    }
                }
                TaskKind::IncludeTasks { .. } | TaskKind::IncludeRole { .. } => {
                    // Like any task, an include before `--start-at-task`'s task does not run.
                    if self.tags_allow(&kw) && self.reached_start(task) {
                        Box::pin(self.run_include(ctx, task, &kw, parent, hosts)).await
                    }
                }
                TaskKind::ImportTasks { .. } | TaskKind::ImportRole(_) => {}
            }
        }
    }

    pub(super) async fn run_block(
        &self,
        ctx: &PlayCtx<'_>,
        kw: &Keywords,
        block: &[Task],
        rescue: &[Task],
        always: &[Task],
        hosts: &[String],
    ) {
        let members = self.active_hosts(hosts);
        self.run_list(ctx, block, kw, &members).await;
        let failed: Vec<String> = {
            let states = self.hosts();
            members
                .iter()
                .filter(|h| states.get(*h).is_some_and(|s| s.failed && !s.unreachable))
                .cloned()
                .collect()
        };
        if !rescue.is_empty() && !failed.is_empty() {
            {
                let mut states = self.hosts();
                for h in &failed {
                    if let Some(s) = states.get_mut(h) {
                        s.failed = false;
                        s.stats.failed = s.stats.failed.saturating_sub(1);
                        s.stats.rescued += 1;
                        if let Some((t, r)) = s.last_failure.clone() {
                            // Data, never templates: a failure message may quote template text.
                            s.rescue_vars
                                .insert("ansible_failed_task".into(), crate::vars::registered(&t));
                            s.rescue_vars.insert(
                                "ansible_failed_result".into(),
                                crate::vars::registered(&r),
                            );
                        }
                    }
                }
            }
            self.run_list(ctx, rescue, kw, &failed).await;
            let mut states = self.hosts();
            for h in &failed {
                if let Some(s) = states.get_mut(h) {
                    s.rescue_vars.clear();
                }
            }
        }
        if !always.is_empty() {
            let still_failed: Vec<String> = {
                let mut states = self.hosts();
                members
                    .iter()
                    .filter(|h| {
                        states.get_mut(*h).is_some_and(|s| {
                            let was = s.failed && !s.unreachable;
                            s.failed = false;
                            was
                        })
                    })
                    .cloned()
                    .collect()
            };
            self.run_list(ctx, always, kw, &members).await;
            let mut states = self.hosts();
            for h in &still_failed {
                if let Some(s) = states.get_mut(h) {
                    s.failed = true;
                }
            }
        }
    }

    /// True if a task with these (inherited) keywords is selected by `--tags`/`--skip-tags`.
    pub(super) fn tags_allow(&self, kw: &Keywords) -> bool {
        let o = &self.shared.opts;
        tags_select(&kw.tags, &o.tags, &o.skip_tags)
    }

    /// `--start-at-task`: false until the named task is reached.
    pub(super) fn reached_start(&self, task: &Task) -> bool {
        use std::sync::atomic::Ordering;
        if self.shared.started.load(Ordering::Relaxed) {
            return true;
        }
        let Some(wanted) = &self.shared.opts.start_at_task else {
            return true;
        };
        let name = task.display_name();
        let full = task.with_role_prefix(name.clone());
        if &name == wanted || &full == wanted {
            self.shared.started.store(true, Ordering::Relaxed);
            return true;
        }
        false
    }

    /// `--step`: asks whether to run the task; `c` runs this and every later task.
    pub(super) fn step_allows(&self, task: &Task) -> bool {
        use crate::session::{Prompt, PromptKind};
        use std::sync::atomic::Ordering;
        if !self.shared.stepping.load(Ordering::Relaxed) {
            return true;
        }
        let name = task.with_role_prefix(task.display_name());
        let prompt = Prompt {
            kind: PromptKind::Step,
            message: format!("Perform task: TASK: {name} (N)o/(y)es/(c)ontinue: "),
            secret: false,
        };
        let Ok(line) = self.shared.opts.prompter.0.ask(&prompt) else {
            return false;
        };
        match line.trim().to_ascii_lowercase().as_str() {
            "y" | "yes" => true,
            "c" | "continue" => {
                self.shared.stepping.store(false, Ordering::Relaxed);
                true
            }
            _ => false,
        }
    }
}

//! Meta tasks as the output shows them.

use std::time::Duration;

use super::{Executor, PlayCtx};
use crate::events::Event;
use crate::playbook::{Keywords, Task};

impl Executor {
    /// Shows a meta task's banner, as ansible-core 2.19 does for every meta task it runs
    /// (whether or not its `when` holds); its effect (such as handlers) follows.
    pub(super) fn announce_meta(
        &self,
        ctx: &PlayCtx<'_>,
        task: &Task,
        kw: &Keywords,
        hosts: &[String],
    ) {
        let targets = self.active_hosts(hosts);
        let Some(first) = targets.first() else {
            return;
        };
        let name = self.shown_name(ctx, task, kw, first);
        let free_host = ctx.free.then(|| first.clone());
        self.emit(Event::TaskStart {
            name: name.clone(),
            location: task.location.to_string(),
            handler: false,
            module: Some("meta".into()),
            host: free_host.clone(),
            hosts: targets.clone(),
        });
        self.emit(Event::TaskEnd {
            name,
            host: free_host,
            duration: Duration::ZERO,
        });
    }
}

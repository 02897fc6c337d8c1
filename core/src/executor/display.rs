//! Names as the output shows them.

use super::{Executor, PlayCtx};
use crate::template::Templar;
use crate::vars::merge_into;

impl Executor {
    /// The play's name for its banner: templated with the play-level variables (role defaults,
    /// `vars`, `vars_files`, prompted values, extra vars), as ansible-core post-validates a play
    /// before announcing it. A name that does not render is shown as written.
    pub(super) fn shown_play_name(&self, ctx: &PlayCtx<'_>) -> String {
        let name = &ctx.play.name;
        if !Templar::is_template(name) {
            return name.clone();
        }
        let mut vars = ctx.vars.role_defaults.clone();
        merge_into(&mut vars, &ctx.vars.vars);
        merge_into(&mut vars, &ctx.vars.vars_files);
        merge_into(&mut vars, &ctx.vars.role_vars);
        merge_into(&mut vars, &ctx.vars.prompted);
        merge_into(&mut vars, &self.shared.opts.extra_vars);
        self.shared
            .templar
            .render_str(name, &vars)
            .unwrap_or_else(|_| name.clone())
    }
}

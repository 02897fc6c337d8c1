//! `-e/--extra-vars`: the parsing lives in [`drover_core::extra_vars`] (where it is fuzzed).

use drover_core::vars::Vars;

/// Parses one `-e` argument and merges it into `into`.
pub fn merge_extra_vars(arg: &str, into: &mut Vars) -> Result<(), String> {
    drover_core::extra_vars::merge_extra_vars(arg, into).map_err(|e| e.to_string())
}

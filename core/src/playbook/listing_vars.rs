//! The variables a listing templates play names, `hosts` and tags with: what ansible-core's
//! `VariableManager.get_vars(play=play)` knows before the play runs (no host, so no inventory
//! or facts).

use std::path::Path;

use super::model::{Play, Playbook};
use super::resolve::load_vars_path;
use crate::inventory::Inventory;
use crate::template::Templar;
use crate::vars::{merge_into, Value, Vars};

/// Play-level variables, lowest precedence first: the play's roles' defaults, play `vars`,
/// `vars_prompt` defaults (unless given with `-e`), `vars_files` (those that load), the play's
/// roles' `vars/`, extra vars; then the magic variables `playbook_dir`, `groups`,
/// `ansible_play_name` and `omit`-free option variables.
pub fn play_vars(pb: &Playbook, play: &Play, inventory: &Inventory, extra_vars: &Vars) -> Vars {
    let templar = Templar::new();
    let mut vars = play.role_defaults.clone();
    merge_into(&mut vars, &play.keywords.vars);
    for p in &play.vars_prompt {
        if !extra_vars.contains_key(&p.name) {
            if let Some(d) = &p.default {
                vars.insert(p.name.clone(), d.clone());
            }
        }
    }
    let mut known = vars.clone();
    merge_into(&mut known, extra_vars);
    for alts in &play.vars_files {
        let names: Vec<String> = alts
            .iter()
            .filter_map(|f| templar.render_str(f, &known).ok())
            .collect();
        let Some(path) = super::vars_files::first_existing(&pb.dir, &names) else {
            continue;
        };
        if let Ok(loaded) = load_vars_path(Path::new(&path)) {
            merge_into(&mut vars, &loaded);
            merge_into(&mut known, &loaded);
            merge_into(&mut known, extra_vars);
        }
    }
    merge_into(&mut vars, &play.role_vars);
    merge_into(&mut vars, extra_vars);
    let playbook_dir = std::fs::canonicalize(&pb.dir).unwrap_or_else(|_| pb.dir.clone());
    vars.insert(
        "playbook_dir".into(),
        Value::String(playbook_dir.display().to_string()),
    );
    let groups: serde_json::Map<String, Value> = inventory
        .groups_map()
        .into_iter()
        .map(|(g, hs)| (g, Value::Array(hs.into_iter().map(Value::String).collect())))
        .collect();
    vars.insert("groups".into(), Value::Object(groups));
    vars.insert("ansible_play_name".into(), Value::String(play.name.clone()));
    vars
}

/// A value as Python's `str()` shows it (strings as they are, lists and maps as `repr`).
pub fn value_text(templar: &Templar, v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => {
            let mut vars = Vars::new();
            vars.insert("v".into(), other.clone());
            templar
                .render_str("{{ v }}", &vars)
                .unwrap_or_else(|_| other.to_string())
        }
    }
}

/// A list of strings as Python's `repr()` shows it: `['web', 'db']`.
pub fn py_list_repr(templar: &Templar, items: &[String]) -> String {
    value_text(
        templar,
        &Value::Array(items.iter().cloned().map(Value::String).collect()),
    )
}

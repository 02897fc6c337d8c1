//! Turns a scenario's steps into playbook files the engine runs, and writes its inventory.

use std::path::{Path, PathBuf};

use drover_core::vars::Value;
use serde_json::json;

use crate::driver::{Driver, Host};
use crate::scenario::{HostSpec, Step};

/// The playbook to run for `step`, written into `work` as `<phase>.yml` when it is generated.
/// A role step also returns the directory to add to the roles path (the role's parent, so its
/// sibling roles resolve as dependencies).
pub fn playbook_for(
    step: &Step,
    work: &Path,
    phase: &str,
) -> std::io::Result<(PathBuf, Option<PathBuf>)> {
    let play = |body: (&str, Value)| json!([{ "name": phase, "hosts": "all", body.0: body.1 }]);
    let (plays, roles_dir) = match step {
        Step::Playbook(path) => return Ok((path.clone(), None)),
        Step::Tasks(path) => (
            play((
                "tasks",
                json!([{ "import_tasks": path.display().to_string() }]),
            )),
            None,
        ),
        Step::InlineTasks(tasks) => (play(("tasks", tasks.clone())), None),
        Step::Role(dir) => {
            let name = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (
                play(("roles", json!([{ "role": name }]))),
                dir.parent().map(Path::to_path_buf),
            )
        }
    };
    let path = work.join(format!("{phase}.yml"));
    // JSON is YAML: the generated playbook needs no YAML writer.
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&plays).unwrap_or_default(),
    )?;
    Ok((path, roles_dir))
}

/// The scenario's inventory (INI): every host with the connection variables its driver gives
/// (its address is `ansible_host`), then the groups.
pub fn inventory_text(specs: &[HostSpec], hosts: &[Host], driver: &dyn Driver) -> String {
    let mut out = String::new();
    for h in hosts {
        out.push_str(&format!("{} {}\n", h.hostname, driver.connection_vars(h)));
    }
    let mut groups: Vec<&str> = Vec::new();
    for spec in specs {
        for g in &spec.groups {
            if !groups.contains(&g.as_str()) {
                groups.push(g);
            }
        }
    }
    for g in groups {
        out.push_str(&format!("\n[{g}]\n"));
        for spec in specs.iter().filter(|s| s.groups.iter().any(|x| x == g)) {
            out.push_str(&spec.name);
            out.push('\n');
        }
    }
    out
}

//! `drover galaxy init ROLE`: a role skeleton with a `drover test` scenario.

use std::path::Path;

/// The files of a new role named `name` (paths relative to the role directory).
pub fn skeleton(name: &str) -> Vec<(String, String)> {
    let var = name
        .rsplit('.')
        .next()
        .unwrap_or(name)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect::<String>();
    let files = [
        (
            "README.md",
            "# ROLE\n\nWhat the role does, in a sentence or two.\n\n## Requirements\n\nDebian 12 hosts. drover needs nothing but a POSIX shell on them.\n\n## Role variables\n\n| variable | default | meaning |\n|---|---|---|\n| `VAR_message` | `managed by ROLE` | the text written to `VAR_path` |\n| `VAR_path` | `/etc/ROLE.conf` | the file the role manages |\n\n## Example playbook\n\n```yaml\n- hosts: all\n  roles:\n    - role: ROLE\n      VAR_message: hello\n```\n\n## Testing\n\n```sh\ndrover test .            # as root: converge, idempotence and tests/verify.yml on a throwaway host\nANSIBLE_ROLES_PATH=.. drover play tests/test.yml -i tests/inventory --syntax-check\n```\n",
        ),
        (
            "defaults/main.yml",
            "---\n# Defaults of ROLE: the variables users are expected to change.\nVAR_message: managed by ROLE\nVAR_path: /etc/ROLE.conf\n",
        ),
        ("vars/main.yml", "---\n# Variables of ROLE that users should not need to change.\n"),
        (
            "tasks/main.yml",
            "---\n# Tasks of ROLE.\n- name: Write {{ VAR_path }}\n  ansible.builtin.copy:\n    content: \"{{ VAR_message }}\\n\"\n    dest: \"{{ VAR_path }}\"\n    mode: \"0644\"\n  notify: ROLE changed\n",
        ),
        (
            "handlers/main.yml",
            "---\n# Handlers of ROLE.\n- name: ROLE changed\n  ansible.builtin.debug:\n    msg: \"{{ VAR_path }} changed\"\n",
        ),
        (
            "meta/main.yml",
            "---\ngalaxy_info:\n  role_name: VAR\n  author: your name\n  description: What ROLE does.\n  license: Apache-2.0\n  min_ansible_version: \"2.15\"\n  platforms:\n    - name: Debian\n      versions:\n        - bookworm\n  galaxy_tags: []\ndependencies: []\n",
        ),
        ("files/.gitkeep", ""),
        ("templates/.gitkeep", ""),
        ("tests/inventory", "localhost ansible_connection=local\n"),
        (
            "tests/test.yml",
            "---\n- name: Apply ROLE\n  hosts: all\n  roles:\n    - ROLE\n",
        ),
        (
            "tests/verify.yml",
            "---\n# Checks `drover test` runs after converging (a task file, run in a play of its own: the\n# role's defaults are not loaded there, hence the `default()`s).\n- name: Read the file the role manages\n  ansible.builtin.slurp:\n    src: \"{{ VAR_path | default('/etc/ROLE.conf') }}\"\n  register: VAR_file\n\n- name: The file holds the message\n  ansible.builtin.assert:\n    that:\n      - (VAR_file.content | b64decode) == (VAR_message | default('managed by ROLE')) ~ '\\n'\n",
        ),
        (
            "drover-test.yml",
            "# `drover test .` (as root): converge on a throwaway Debian 12 host, converge again\n# (nothing may change), then verify. See docs/TESTING.md for more keys.\nscenarios:\n  - name: default\n    role: .\n    verify: tests/verify.yml\n",
        ),
    ];
    files
        .iter()
        .map(|(path, text)| {
            (
                path.to_string(),
                text.replace("ROLE", name).replace("VAR", &var),
            )
        })
        .collect()
}

/// Writes the skeleton of `name` into `dir/name`; refuses an existing directory unless `force`.
pub fn init(name: &str, dir: &Path, force: bool) -> Result<std::path::PathBuf, String> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        || name.starts_with('.')
    {
        return Err(format!(
            "`{name}` is not a role name (letters, digits, '_', '-', '.')"
        ));
    }
    let root = dir.join(name);
    if root.exists() {
        if !force {
            return Err(format!(
                "the directory {} already exists; use --force to overwrite it",
                root.display()
            ));
        }
        std::fs::remove_dir_all(&root)
            .map_err(|e| format!("cannot remove {}: {e}", root.display()))?;
    }
    for (path, text) in skeleton(name) {
        let file = root.join(&path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(&file, text).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    }
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_prefixed_with_a_valid_name() {
        let files = skeleton("my-web.role");
        let defaults = &files
            .iter()
            .find(|(p, _)| p == "defaults/main.yml")
            .unwrap()
            .1;
        assert!(
            defaults.contains("role_message: managed by my-web.role"),
            "{defaults}"
        );
        let files = skeleton("my-web");
        let tasks = &files.iter().find(|(p, _)| p == "tasks/main.yml").unwrap().1;
        assert!(tasks.contains("{{ my_web_path }}"), "{tasks}");
    }
}

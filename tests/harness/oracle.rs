//! The project's checkout, and ansible-core as a test oracle (`tests/oracle/ansible.sh` installs a
//! pinned ansible-core into a cached throwaway venv and prints the path of `ansible-playbook`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The workspace root (the checkout).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives in the workspace")
        .to_path_buf()
}

/// Path of the oracle's `ansible-playbook` (installed on first use; panics if that fails).
/// Its siblings (`ansible-vault`, `ansible-inventory`) are in the same directory.
pub fn oracle_ansible_playbook() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let out = Command::new("bash")
            .arg(repo_root().join("tests/oracle/ansible.sh"))
            .output()
            .expect("run tests/oracle/ansible.sh");
        assert!(out.status.success(), "oracle setup failed: {out:?}");
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    })
}

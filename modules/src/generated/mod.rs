//! Tables generated from the pinned Ansible release by the scripts in `tools/` (never edited by
//! hand; each file names the versions it came from).

#[rustfmt::skip]
pub mod ansible_modules;

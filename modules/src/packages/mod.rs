//! Package management: `apt` and its helpers (dpkg/apt queries, planning, Debian versions).

pub mod apt;
mod apt_actions;
pub mod apt_key;
pub mod apt_params;
pub mod apt_plan;
pub mod apt_repository;
pub mod apt_run;
pub mod deb822_repository;
pub mod debconf;
pub mod dnf;
pub mod dpkg;
pub mod dpkg_selections;
pub mod package;
pub mod package_facts;
pub mod pip;
pub mod sources_list;
pub mod version;

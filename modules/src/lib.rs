//! drover's modules. [`registry`] returns all of them, registered by name.
//!
//! Each module lives in its own file, grouped by area: `commands` (`command`, `shell`, `raw`),
//! `files` (`file`, `copy`, `template`, `stat`), `system` (`setup`), `packages` (`apt`, `apt_repository`,
//! `deb822_repository`, `package`, `pip`, `dnf`/`yum`) and `utilities` (the controller-side `debug`,
//! `set_fact`, `assert`, `fail`). Shared target-side helpers (the stat probe, modes, checksums,
//! ownership) are in `remote`; loose YAML value parsing is in `params`.

use std::sync::Arc;

use drover_core::module::ModuleRegistry;

pub mod accounts;
pub mod commands;
pub mod docker;
pub mod files;
pub mod generated;
pub mod inspect;
pub mod lxc;
pub mod packages;
pub mod params;
pub mod postgresql;
pub mod remote;
pub mod services;
pub mod source;
pub mod system;
pub mod text;
pub mod transfer;
pub mod unimplemented;
pub mod utilities;

/// A registry holding every module drover ships.
pub fn registry() -> ModuleRegistry {
    let mut r = ModuleRegistry::new();
    r.register(Arc::new(commands::command::Command));
    r.register(Arc::new(commands::shell::Shell));
    r.register(Arc::new(commands::raw::Raw));
    r.register(Arc::new(files::file::File));
    r.register(Arc::new(files::copy::Copy));
    r.register(Arc::new(files::template::Template));
    r.register(Arc::new(files::stat::Stat));
    r.register(Arc::new(utilities::debug::Debug));
    r.register(Arc::new(utilities::set_fact::SetFact));
    r.register(Arc::new(utilities::assert::Assert));
    r.register(Arc::new(utilities::fail::Fail));
    r.register(Arc::new(utilities::include_vars::IncludeVars));
    r.register(Arc::new(system::setup::Setup));
    r.register(Arc::new(transfer::fetch::Fetch));
    r.register(Arc::new(transfer::slurp::Slurp));
    r.register(Arc::new(transfer::get_url::GetUrl));
    r.register(Arc::new(transfer::unarchive::Unarchive));
    r.register(Arc::new(transfer::archive::Archive));
    r.register(Arc::new(transfer::uri::Uri));
    r.register(Arc::new(source::git::Git));
    r.register(Arc::new(transfer::synchronize::Synchronize));
    r.alias("ansible.posix.synchronize", "synchronize");
    r.register(Arc::new(services::supervisorctl::Supervisorctl));
    r.alias("community.general.supervisorctl", "supervisorctl");
    r.alias("community.general.archive", "archive");
    r.register(Arc::new(text::lineinfile::Lineinfile));
    r.register(Arc::new(text::blockinfile::Blockinfile));
    r.register(Arc::new(text::replace::Replace));
    r.register(Arc::new(text::ini_file::IniFile));
    r.alias("community.general.ini_file", "ini_file");
    r.register(Arc::new(inspect::find::Find));
    r.register(Arc::new(inspect::tempfile::Tempfile));
    r.register(Arc::new(inspect::wait_for::WaitFor));
    r.register(Arc::new(inspect::wait_for_connection::WaitForConnection));
    r.register(Arc::new(inspect::reboot::Reboot));
    r.register(Arc::new(inspect::pause::Pause));
    r.register(Arc::new(packages::apt::Apt));
    r.register(Arc::new(packages::package::Package));
    r.register(Arc::new(packages::dnf::Dnf));
    r.register(Arc::new(packages::pip::Pip));
    r.register(Arc::new(packages::apt_repository::AptRepository));
    r.register(Arc::new(packages::apt_key::AptKey));
    r.register(Arc::new(packages::deb822_repository::Deb822Repository));
    r.alias("yum", "dnf");
    r.alias("ansible.builtin.yum", "dnf");
    r.alias("ansible.legacy.yum", "dnf");
    r.alias("gather_facts", "setup");
    r.register(Arc::new(services::systemd::Systemd));
    r.alias("systemd_service", "systemd");
    r.alias("ansible.builtin.systemd_service", "systemd");
    r.alias("ansible.legacy.systemd_service", "systemd");
    r.register(Arc::new(services::service::Service));
    r.register(Arc::new(services::service_facts::ServiceFacts));
    r.register(Arc::new(accounts::user::User));
    r.register(Arc::new(accounts::group::Group));
    r.register(Arc::new(accounts::authorized_key::AuthorizedKey));
    r.alias("ansible.posix.authorized_key", "authorized_key");
    r.register(Arc::new(system::cron::Cron));
    r.register(Arc::new(system::getent::Getent));
    r.register(Arc::new(system::ping::Ping));
    r.register(Arc::new(system::hostname::Hostname));
    r.register(Arc::new(system::async_status::AsyncStatus));
    r.register(Arc::new(system::sysctl::Sysctl));
    r.alias("ansible.posix.sysctl", "sysctl");
    r.register(Arc::new(system::timezone::Timezone));
    r.alias("community.general.timezone", "timezone");
    r.register(Arc::new(system::locale_gen::LocaleGen));
    r.alias("community.general.locale_gen", "locale_gen");
    r.register(Arc::new(system::pam_limits::PamLimits));
    r.alias("community.general.pam_limits", "pam_limits");
    r.register(Arc::new(packages::debconf::Debconf));
    r.register(Arc::new(packages::dpkg_selections::DpkgSelections));
    r.register(Arc::new(packages::package_facts::PackageFacts));
    r.register(Arc::new(accounts::known_hosts::KnownHosts));
    docker::register(&mut r);
    lxc::register(&mut r);
    postgresql::register(&mut r);
    unimplemented::add_ansible_names(&mut r);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_is_registered_under_all_names() {
        let r = registry();
        for name in [
            "command",
            "shell",
            "raw",
            "file",
            "copy",
            "template",
            "stat",
            "debug",
            "set_fact",
            "assert",
            "fail",
            "fetch",
            "slurp",
            "get_url",
            "uri",
            "unarchive",
            "archive",
            "synchronize",
            "git",
            "supervisorctl",
            "lineinfile",
            "blockinfile",
            "replace",
            "apt",
            "apt_repository",
            "deb822_repository",
            "package",
            "pip",
            "dnf",
            "setup",
            "systemd",
            "service",
            "service_facts",
            "user",
            "group",
            "cron",
            "getent",
            "hostname",
            "async_status",
            "sysctl",
            "authorized_key",
            "timezone",
            "locale_gen",
            "debconf",
            "dpkg_selections",
            "package_facts",
            "known_hosts",
            "pam_limits",
        ] {
            let m = r.get(name).unwrap_or_else(|| panic!("{name} missing"));
            assert_eq!(m.name(), name);
            assert!(r.get(&format!("ansible.builtin.{name}")).is_some());
            assert!(r.get(&format!("ansible.legacy.{name}")).is_some());
        }
        for alias in [
            "community.general.archive",
            "ansible.posix.synchronize",
            "community.general.supervisorctl",
            "community.general.timezone",
            "community.general.locale_gen",
            "community.general.pam_limits",
            "community.postgresql.postgresql_user",
            "community.postgresql.postgresql_privs",
            "community.postgresql.postgresql_pg_hba",
            "community.general.postgresql_user",
        ] {
            assert!(r.get(alias).is_some(), "{alias} missing");
            assert!(
                !r.is_known_unimplemented(alias),
                "{alias} still listed as unimplemented"
            );
        }
        assert_eq!(r.get("ansible.builtin.yum").map(|m| m.name()), Some("dnf"));
        let controller: Vec<&str> = r
            .names()
            .filter(|n| !n.contains('.'))
            .filter(|n| r.get(n).is_some_and(|m| m.controller_only()))
            .collect();
        assert_eq!(
            controller,
            vec![
                "assert",
                "debug",
                "fail",
                "include_vars",
                "pause",
                "set_fact"
            ]
        );
    }
}

//! The module contract: every module on [`TypedModule`] describes exactly the keys its params
//! type deserializes — each key (and alias) of the description is one serde knows.

use drover_core::module::{parse_params, TypedModule};
use drover_core::params::ModuleParams;
use serde_json::{Map, Value};

/// The description's keys that the params type itself does not know.
fn unknown_to_serde<M: TypedModule>() -> Vec<String> {
    let spec = <M::Params as ModuleParams>::spec();
    let mut bad = Vec::new();
    for field in spec.all_fields() {
        for key in field.keys() {
            let mut args = Map::new();
            args.insert(key.to_string(), Value::Null);
            if let Err(e) = parse_params::<M::Params>(M::NAME, &Value::Object(args)) {
                if e.to_string().contains("unknown field") {
                    bad.push(format!("{}: {key}", M::NAME));
                }
            }
        }
    }
    bad
}

#[test]
fn descriptions_match_the_params_types() {
    use drover_modules::*;
    let checks: &[fn() -> Vec<String>] = &[
        unknown_to_serde::<system::hostname::Hostname>,
        unknown_to_serde::<files::file::File>,
        unknown_to_serde::<files::copy::Copy>,
        unknown_to_serde::<files::template::Template>,
        unknown_to_serde::<files::stat::Stat>,
        unknown_to_serde::<text::lineinfile::Lineinfile>,
        unknown_to_serde::<text::blockinfile::Blockinfile>,
        unknown_to_serde::<text::replace::Replace>,
        unknown_to_serde::<text::ini_file::IniFile>,
        unknown_to_serde::<commands::command::Command>,
        unknown_to_serde::<commands::raw::Raw>,
        unknown_to_serde::<commands::shell::Shell>,
        unknown_to_serde::<utilities::assert::Assert>,
        unknown_to_serde::<utilities::debug::Debug>,
        unknown_to_serde::<utilities::fail::Fail>,
        unknown_to_serde::<utilities::set_fact::SetFact>,
        unknown_to_serde::<utilities::include_vars::IncludeVars>,
        unknown_to_serde::<packages::apt::Apt>,
        unknown_to_serde::<packages::apt_key::AptKey>,
        unknown_to_serde::<packages::apt_repository::AptRepository>,
        unknown_to_serde::<packages::deb822_repository::Deb822Repository>,
        unknown_to_serde::<packages::debconf::Debconf>,
        unknown_to_serde::<packages::dnf::Dnf>,
        unknown_to_serde::<packages::package::Package>,
        unknown_to_serde::<packages::pip::Pip>,
        unknown_to_serde::<accounts::authorized_key::AuthorizedKey>,
        unknown_to_serde::<accounts::group::Group>,
        unknown_to_serde::<accounts::known_hosts::KnownHosts>,
        unknown_to_serde::<accounts::user::User>,
        unknown_to_serde::<system::cron::Cron>,
        unknown_to_serde::<system::getent::Getent>,
        unknown_to_serde::<system::sysctl::Sysctl>,
        unknown_to_serde::<services::systemd::Systemd>,
        unknown_to_serde::<services::service::Service>,
        unknown_to_serde::<system::setup::Setup>,
        unknown_to_serde::<system::timezone::Timezone>,
        unknown_to_serde::<system::locale_gen::LocaleGen>,
        unknown_to_serde::<system::pam_limits::PamLimits>,
        unknown_to_serde::<services::supervisorctl::Supervisorctl>,
        unknown_to_serde::<inspect::find::Find>,
        unknown_to_serde::<inspect::tempfile::Tempfile>,
        unknown_to_serde::<inspect::wait_for::WaitFor>,
        unknown_to_serde::<inspect::wait_for_connection::WaitForConnection>,
        unknown_to_serde::<inspect::reboot::Reboot>,
        unknown_to_serde::<inspect::pause::Pause>,
        unknown_to_serde::<source::git::Git>,
        unknown_to_serde::<transfer::fetch::Fetch>,
        unknown_to_serde::<transfer::slurp::Slurp>,
        unknown_to_serde::<transfer::synchronize::Synchronize>,
        unknown_to_serde::<transfer::archive::Archive>,
        unknown_to_serde::<transfer::unarchive::Unarchive>,
        unknown_to_serde::<transfer::get_url::GetUrl>,
        unknown_to_serde::<transfer::uri::Uri>,
        // Each module moved to TypedModule is added here.
    ];
    let bad: Vec<String> = checks.iter().flat_map(|c| c()).collect();
    assert!(bad.is_empty(), "described but not deserialized: {bad:?}");
}

//! System modules: facts (`setup`), `hostname`, `async_status`, `sysctl`, `cron`, `getent`, `timezone`, `locale_gen`, `pam_limits`, `ping`.

pub mod async_status;
pub mod cron;
pub mod facts_build;
pub mod facts_hw;
pub mod facts_local;
pub mod facts_net;
pub mod facts_os;
pub mod facts_probe;
pub mod getent;
pub mod hostname;
pub mod locale_gen;
pub mod pam_limits;
pub mod ping;
pub mod setup;
pub mod sysctl;
pub mod timezone;

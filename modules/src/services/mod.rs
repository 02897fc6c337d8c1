//! Service modules: `systemd` (`systemd_service`), `service` (systemd, with a SysV init
//! script fallback) and `supervisorctl`; `service_facts`.

pub mod service;
pub mod service_facts;
pub mod supervisorctl;
pub mod systemd;
pub mod sysv;
